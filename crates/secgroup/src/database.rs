//! Picks the storage backend from the database URL.

use std::sync::Arc;

use anyhow::{bail, Context};
use secgroup_store_sqlite::SqliteStore;

/// The default database: an SQLite file under `./secgroup-data/`.
pub const DEFAULT_DATABASE: &str = "sqlite://./secgroup-data/secgroup.db";

/// Opens the store named by `url` (`sqlite://PATH`; a bare path is taken as SQLite too).
pub fn open(url: &str) -> anyhow::Result<Arc<SqliteStore>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        bail!("PostgreSQL storage is not available in this build yet; use sqlite://PATH");
    }
    let url = if url.contains("://") || url.starts_with("sqlite:") {
        url.to_string()
    } else {
        format!("sqlite://{url}")
    };
    if !url.starts_with("sqlite:") {
        bail!("unsupported database URL {url:?}: expected sqlite://PATH");
    }
    let store = SqliteStore::open_url(&url).with_context(|| format!("opening {url}"))?;
    Ok(Arc::new(store))
}
