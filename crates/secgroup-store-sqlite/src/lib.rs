//! The SQLite storage backend: [`SqliteStore`] implements the domain's
//! [`Store`](secgroup_domain::Store) and [`Tx`](secgroup_domain::Tx) traits.
//!
//! One writer connection, behind a mutex, runs each write closure in `BEGIN IMMEDIATE`
//! … `COMMIT`; reads run on a small pool of reader connections, which WAL lets proceed
//! while a write is in progress. Commits are synced (`synchronous=FULL`), so nothing
//! acknowledged is lost to a killed process or a power cut. The schema is applied by
//! embedded, versioned migrations when the store is opened.
#![forbid(unsafe_code)]

mod accounts;
mod conn;
mod error;
mod groups;
mod migrate;
mod store;
mod tags;
mod tokens;
mod tx;

pub use store::SqliteStore;

/// The schema version this build creates and expects (the newest migration).
pub const SCHEMA_VERSION: i64 = migrate::MIGRATIONS.len() as i64;
