//! The SQLite storage backend: [`SqliteStore`] implements the domain's
//! [`Store`](secgroup_domain::Store) and [`Tx`](secgroup_domain::Tx) traits.
//!
//! One writer thread owns the writer connection and commits queued write closures in
//! batches: one `BEGIN IMMEDIATE` … `COMMIT` per batch, a savepoint per closure (group
//! commit). Reads run on a small pool of reader connections, which WAL lets proceed
//! while a write is in progress. Commits are synced (`synchronous=FULL`) before any
//! closure's result is handed back, so nothing acknowledged is lost to a killed process
//! or a power cut. The one exception is the nonce of each signed request, answered from
//! memory and recorded without waiting (see `nonces.rs` for exactly what that relaxes). The schema is applied by embedded, versioned migrations when the
//! store is opened.
#![forbid(unsafe_code)]

mod accounts;
mod audit;
mod batch;
mod checkpoint;
mod client_tokens;
mod compute;
mod conn;
mod dataplane;
mod error;
mod instances;
mod job;
mod migrate;
mod network_interfaces;
mod nis;
mod nonces;
mod placements;
mod prefix_lists;
mod revision;
mod rules;
mod security_groups;
mod store;
mod tags;
mod tx;
mod vpcs;
mod writer;

pub use store::SqliteStore;

/// The schema version this build creates and expects (the newest migration).
pub const SCHEMA_VERSION: i64 = migrate::SCHEMA_VERSION;

/// Every schema version this build knows, in order (not necessarily consecutive).
pub fn schema_versions() -> Vec<i64> {
    migrate::MIGRATIONS.iter().map(|(v, _)| *v).collect()
}
