//! Offline review of a real account (docs/review.md): [`import`] reads the JSON the
//! official SDKs and the `aliyun` CLI print for the Describe operations into an
//! [`AccountImage`], [`export`] writes one back in the same shapes, and [`review`] asks
//! the reachability engine what the account exposes, which rules never decide a flow and
//! what else looks wrong; [`diff`] compares two accounts' reachability.
//!
//! Knows no HTTP and no SQL: it reads and writes through `secgroup-domain` and decides
//! flows with `secgroup-reach`.
#![forbid(unsafe_code)]

pub mod diff;
pub mod export;
pub mod import;
pub mod report;
pub mod review;
pub mod shadow;
pub mod store;

pub use secgroup_domain::ops::import::{AccountImage, ImportCounts};
