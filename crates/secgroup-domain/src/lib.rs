//! The domain: security groups, accounts and regions, their rules of validity, the storage
//! traits they are kept behind, and the operations. Knows nothing of HTTP or SQL.
#![forbid(unsafe_code)]

pub mod error;
pub mod ids;
pub mod model;
pub mod network;
pub mod nis;
pub mod ops;
pub mod regions;
pub mod rules;
pub mod store;
pub mod validate;

#[cfg(feature = "testkit")]
pub mod contract;

pub use error::DomainError;
pub use model::*;
pub use store::{Store, StoreError, Tx, TxError};
