//! The PostgreSQL storage backend: [`PostgresStore`] implements the domain's
//! [`Store`](secgroup_domain::Store) and [`Tx`](secgroup_domain::Tx) traits.
//!
//! Several `secgroup` nodes may share one database. Everything unique or counted is
//! enforced by PostgreSQL: nonces and client tokens by primary keys, addresses by
//! `UNIQUE (vswitch_id, private_ip)`, and rule identity and quotas by running every write
//! closure in a SERIALIZABLE transaction (a serialization failure or deadlock is a
//! [`StoreError::Conflict`](secgroup_domain::StoreError::Conflict), and the closure runs
//! again). Every write closure also bumps the one change revision before it commits, and
//! so first takes its turn on the `revision` table's lock: writers of all nodes run one
//! after the other instead of failing each other to serialize on that row, and notify
//! [`REVISION_CHANNEL`] as they commit. Connections come from an `r2d2` pool and are used
//! on Tokio's blocking threads;
//! a lost connection is an `Unavailable` error (HTTP 503), retried only where retrying
//! cannot change the answer. The schema is applied by embedded, versioned migrations
//! under an advisory lock when the store connects.
#![forbid(unsafe_code)]

mod accounts;
mod audit;
mod client_tokens;
mod compute;
mod dataplane;
mod error;
mod instances;
mod listen;
mod migrate;
mod network_interfaces;
mod nis;
mod placements;
mod prefix_lists;
mod revision;
mod rules;
mod security_groups;
mod sql;
mod store;
mod tags;
mod tx;
mod vpcs;

pub use listen::listen_revisions;
pub use store::{PostgresStore, REVISION_CHANNEL};

/// The schema version this build creates and expects (the newest migration).
pub const SCHEMA_VERSION: i64 = migrate::NEWEST;

/// Every schema version this build knows, in order (not necessarily consecutive).
pub fn schema_versions() -> Vec<i64> {
    migrate::MIGRATIONS.iter().map(|(v, _)| *v).collect()
}

/// Whether `url` names a PostgreSQL database (`postgres://…` or `postgresql://…`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}
