//! The product base: what ECS, VPC, NIS and secgroup's own API share, between the wire
//! crate (which knows no security groups) and the domain (which knows no HTTP).
//!
//! - [`Action`]: one API action as a type that decodes its parameters ([`Input`]), runs
//!   against the domain ([`Cx`]) and renders its answer; [`actions!`] lists a product's
//!   action types and serves them through the wire crate. The framework does the rest:
//!   reading what the parameters left unread, `DryRun`, `ClientToken`, read and write
//!   transactions, and the error map.
//! - [`errors`]: the one map from domain and store errors to Alibaba's codes, with the
//!   product's and the action's wording on top.
//! - [`ProductConfig`]: the operator settings every product reads.
//! - [`input`], [`paging`], [`render`]: the shared decoders and renderers (region, booleans,
//!   integers, tags, tag filters, `DryRun`, `ClientToken`, pages and `NextToken`, times).
#![forbid(unsafe_code)]

pub mod action;
pub mod audit;
pub mod config;
pub mod errors;
pub mod input;
pub mod paging;
pub mod render;

pub use action::{dispatch, Action, Base, Cx, Product, Scope};
pub use config::ProductConfig;
pub use input::Input;

/// The wire crate, re-exported for [`actions!`].
#[doc(hidden)]
pub use secgroup_rpc as rpc;
