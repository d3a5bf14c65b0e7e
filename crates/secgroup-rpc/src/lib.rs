//! The Alibaba Cloud RPC wire protocol (the "POP" style used by ECS, VPC, NIS, ...).
//!
//! This crate knows nothing of security groups. It turns an HTTP request into an
//! authenticated `(Version, Action, Params)` call, hands it to a [`Product`], and renders
//! whatever comes back (a [`Node`] tree or an [`RpcError`]) as JSON or XML.
#![forbid(unsafe_code)]

pub mod auth;
pub mod client;
pub mod encode;
pub mod error;
pub mod listener;
pub mod params;
pub mod render;
pub mod server;
pub mod signature;
pub mod throttle;

pub use auth::{AccessKeySecret, Credential, CredentialStore, CredentialStoreError};
pub use error::RpcError;
pub use listener::{serve, ConnectionInfo};
pub use params::{ParamCursor, Params};
pub use render::{Format, Node};
pub use server::{
    CallContext, MountedHandler, MountedRequest, Product, RequestObserver, Router, ServerConfig,
};
