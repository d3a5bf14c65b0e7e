//! Embedded, versioned migrations: one SQL file per version, applied in order, each in its
//! own transaction, recorded in `schema_migrations`. An advisory lock makes nodes that
//! start at once take turns: the first applies, the others find the versions recorded.

use postgres::Client;
use secgroup_domain::StoreError;

use crate::error::map_err;
use crate::sql::get;

/// Every migration, oldest first; version N is `MIGRATIONS[N - 1]`.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_nis.sql"),
    include_str!("../migrations/0003_revision.sql"),
    include_str!("../migrations/0004_dataplane.sql"),
];

/// The advisory-lock key that serialises migrations (any constant shared by all nodes).
const MIGRATION_LOCK: i64 = 0x5ec9_0a9d_0001;

pub(crate) fn apply(c: &mut Client) -> Result<(), StoreError> {
    c.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .map_err(map_err)?;
    let result = apply_locked(c);
    let unlocked = c
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .map_err(map_err);
    result.and(unlocked.map(|_| ()))
}

fn apply_locked(c: &mut Client) -> Result<(), StoreError> {
    // Quiet: "already exists, skipping" is the usual case, not news.
    c.batch_execute(
        "SET client_min_messages TO warning;
         CREATE TABLE IF NOT EXISTS schema_migrations (
             version     BIGINT      NOT NULL PRIMARY KEY,
             applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
         );
         RESET client_min_messages;",
    )
    .map_err(map_err)?;
    let row = c
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .map_err(map_err)?;
    let current: i64 = get(&row, 0)?;
    let newest = MIGRATIONS.len() as i64;
    if current > newest {
        return Err(StoreError::Other(format!(
            "database schema version {current} is newer than this build's {newest}"
        )));
    }
    for (version, sql) in (1_i64..).zip(MIGRATIONS).skip(current as usize) {
        let mut tx = c.transaction().map_err(map_err)?;
        tx.batch_execute(sql).map_err(map_err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .map_err(map_err)?;
        tx.commit().map_err(map_err)?;
    }
    Ok(())
}
