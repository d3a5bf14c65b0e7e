//! Picks the storage backend from the database URL: `sqlite://PATH` (or a bare path) opens
//! an SQLite file, `postgres://…` or `postgresql://…` connects to PostgreSQL.
//!
//! The server is generic over [`Store`]; [`AnyStore`] is the one concrete type the binary
//! serves, and passes every call to the backend the URL chose.

use std::future::Future;
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use secgroup_domain::{Store, StoreError, Tx, TxError};
use secgroup_store_postgres::{is_postgres_url, PostgresStore};
use secgroup_store_sqlite::SqliteStore;

/// The default database: an SQLite file under `./secgroup-data/`.
pub const DEFAULT_DATABASE: &str = "sqlite://./secgroup-data/secgroup.db";

/// The backend chosen by the database URL.
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Opens the store named by `url`: `postgres://…` and `postgresql://…` connect to
/// PostgreSQL (applying its migrations); `sqlite://PATH`, `sqlite::memory:` or a bare path
/// open SQLite.
pub fn open(url: &str) -> anyhow::Result<Arc<AnyStore>> {
    if is_postgres_url(url) {
        let store = PostgresStore::connect(url)
            .with_context(|| format!("connecting to {}", redact(url)))?;
        return Ok(Arc::new(AnyStore::Postgres(store)));
    }
    let url = if url.contains("://") || url.starts_with("sqlite:") {
        url.to_string()
    } else {
        format!("sqlite://{url}")
    };
    if !url.starts_with("sqlite:") {
        bail!("unsupported database URL {url:?}: expected sqlite://PATH or postgres://…");
    }
    let store = SqliteStore::open_url(&url).with_context(|| format!("opening {url}"))?;
    Ok(Arc::new(AnyStore::Sqlite(store)))
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}{path}")
        }
        None => url.to_string(),
    }
}

impl Store for AnyStore {
    async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        match self {
            AnyStore::Sqlite(s) => s.write(f).await,
            AnyStore::Postgres(p) => p.write(f).await,
        }
    }

    async fn write_unrevised<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        match self {
            AnyStore::Sqlite(s) => s.write_unrevised(f).await,
            AnyStore::Postgres(p) => p.write_unrevised(f).await,
        }
    }

    async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        match self {
            AnyStore::Sqlite(s) => s.read(f).await,
            AnyStore::Postgres(p) => p.read(f).await,
        }
    }

    /// Each backend's own: SQLite answers from memory, PostgreSQL claims in a transaction.
    fn claim_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let (id, nonce) = (access_key_id.to_owned(), nonce.to_owned());
        async move {
            match self {
                AnyStore::Sqlite(s) => s.claim_nonce(&id, &nonce, expires_at, now).await,
                AnyStore::Postgres(p) => p.claim_nonce(&id, &nonce, expires_at, now).await,
            }
        }
    }

    async fn record_agent_status(
        &self,
        report: secgroup_domain::AgentReport,
    ) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.record_agent_status(report).await,
            AnyStore::Postgres(p) => p.record_agent_status(report).await,
        }
    }

    async fn count_nonces(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.count_nonces(now).await,
            AnyStore::Postgres(p) => p.count_nonces(now).await,
        }
    }

    async fn revision(&self) -> Result<u64, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.revision().await,
            AnyStore::Postgres(p) => p.revision().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("postgres://u:secret@db:5432/sg?x=1"),
            "postgres://u@db:5432/sg?x=1"
        );
        assert_eq!(redact("postgres://db/sg"), "postgres://db/sg");
    }

    #[test]
    fn schemes_pick_the_backend() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.db");
        let store = open(&format!("sqlite://{}", path.display())).expect("sqlite");
        assert!(matches!(*store, AnyStore::Sqlite(_)));
        let store = open(&path.display().to_string()).expect("bare path");
        assert!(matches!(*store, AnyStore::Sqlite(_)));
        assert!(open("mysql://x").is_err());
        // Nothing listens on port 1: a PostgreSQL URL is tried, and fails as unavailable.
        let err = open("postgresql://u@127.0.0.1:1/x?connect_timeout=1")
            .err()
            .expect("no server");
        assert!(format!("{err:#}").contains("unavailable"), "{err:#}");
    }
}
