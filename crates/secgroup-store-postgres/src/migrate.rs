//! Embedded, versioned migrations: one SQL file per version, applied in order, each in its
//! own transaction, recorded in `schema_migrations`. An advisory lock makes nodes that
//! start at once take turns: the first applies, the others find the versions recorded.

use postgres::Client;
use secgroup_domain::StoreError;

use crate::error::map_err;
use crate::sql::get;

/// Every migration ever shipped, by strictly increasing version (not necessarily
/// consecutive: a version is its file's number). Never edit or renumber a released one.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_nis.sql")),
    (3, include_str!("../migrations/0003_revision.sql")),
    (4, include_str!("../migrations/0004_dataplane.sql")),
    (5, include_str!("../migrations/0005_audit.sql")),
    (6, include_str!("../migrations/0006_catalogue.sql")),
    (7, include_str!("../migrations/0007_network_interfaces.sql")),
    (8, include_str!("../migrations/0008_placements.sql")),
];

/// The newest version this build knows.
pub(crate) const NEWEST: i64 = match MIGRATIONS.last() {
    Some((version, _)) => *version,
    None => 0,
};

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
    if current > NEWEST {
        return Err(StoreError::Other(format!(
            "database schema version {current} is newer than this build's {NEWEST}"
        )));
    }
    let applied: Vec<i64> = c
        .query("SELECT version FROM schema_migrations", &[])
        .map_err(map_err)?
        .iter()
        .map(|r| get(r, 0))
        .collect::<Result<_, _>>()?;
    // Each version is looked up on its own, so one added later below an applied one (a
    // gap filled) is still applied.
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| !applied.contains(v)) {
        let mut tx = c.transaction().map_err(map_err)?;
        tx.batch_execute(sql).map_err(map_err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .map_err(map_err)?;
        tx.commit().map_err(map_err)?;
    }
    Ok(())
}
