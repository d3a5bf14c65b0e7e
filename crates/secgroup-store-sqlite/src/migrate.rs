//! Versioned schema migrations, embedded in the binary and applied on open.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use secgroup_domain::StoreError;

use crate::error::map_err;

/// Every migration ever shipped, by strictly increasing version (not necessarily
/// consecutive). Never edit or renumber a released one: add a new file instead.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_rules_prefix_lists.sql")),
    (3, include_str!("../migrations/0003_vpcs.sql")),
    (4, include_str!("../migrations/0004_instances.sql")),
    (5, include_str!("../migrations/0005_nis.sql")),
    (6, include_str!("../migrations/0006_nonce_batches.sql")),
    (7, include_str!("../migrations/0007_revision.sql")),
    (8, include_str!("../migrations/0008_dataplane.sql")),
    (9, include_str!("../migrations/0009_audit.sql")),
    (10, include_str!("../migrations/0010_catalogue.sql")),
    (11, include_str!("../migrations/0011_audit_lean.sql")),
    (
        12,
        include_str!("../migrations/0012_network_interfaces.sql"),
    ),
    (13, include_str!("../migrations/0013_placements.sql")),
];

/// The newest version this build knows.
pub(crate) const SCHEMA_VERSION: i64 = match MIGRATIONS.last() {
    Some((version, _)) => *version,
    None => 0,
};

/// Applies each migration not yet recorded in `schema_migrations`, each in its own
/// `BEGIN IMMEDIATE` transaction, so two processes opening the same file at once apply
/// it exactly once and a failed migration leaves the previous version intact. Each version
/// is looked up on its own, so a version added later below an applied one (a gap filled)
/// is still applied.
pub(crate) fn migrate(conn: &mut Connection) -> Result<i64, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version     INTEGER NOT NULL PRIMARY KEY,
             applied_at  TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
         )",
    )
    .map_err(map_err)?;

    let newest_known = SCHEMA_VERSION;
    let current = current_version(conn)?;
    if current > newest_known {
        return Err(StoreError::Other(format!(
            "database schema version {current} is newer than this build knows ({newest_known})"
        )));
    }

    for (version, sql) in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(map_err)?;
        let applied = tx
            .query_row(
                "SELECT 1 FROM schema_migrations WHERE version = ?1",
                [version],
                |_| Ok(()),
            )
            .optional()
            .map_err(map_err)?
            .is_some();
        if !applied {
            tx.execute_batch(sql).map_err(|e| {
                StoreError::Other(format!("migration {version} failed: {}", map_err(e)))
            })?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                [version],
            )
            .map_err(map_err)?;
        }
        tx.commit().map_err(map_err)?;
    }
    Ok(newest_known)
}

/// The highest applied version, 0 for a new database.
pub(crate) fn current_version(conn: &Connection) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |row| row.get(0),
    )
    .map_err(map_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_strictly_increase_from_one() {
        assert_eq!(MIGRATIONS.first().map(|(v, _)| *v), Some(1));
        for pair in MIGRATIONS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} then {}", pair[0].0, pair[1].0);
        }
        for (_, sql) in MIGRATIONS {
            assert!(!sql.trim().is_empty());
        }
    }

    /// A database that lacks a version below its newest (as a build that shipped 6 before
    /// 5 left some) gets it applied: each version is checked on its own.
    #[test]
    fn a_gap_filled_later_is_applied() {
        let mut conn = Connection::open_in_memory().expect("open");
        migrate(&mut conn).expect("migrate");
        conn.execute("DELETE FROM schema_migrations WHERE version = 2", [])
            .expect("forget 2");
        conn.execute_batch(
            "DROP TABLE prefix_list_entries; DROP TABLE prefix_lists; DROP TABLE rules",
        )
        .expect("undo 2");
        migrate(&mut conn).expect("fill the gap");
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM rules", [], |r| r.get(0))
            .expect("rules exists again");
        assert_eq!(rows, 0);
        assert_eq!(current_version(&conn).expect("version"), SCHEMA_VERSION);
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().expect("open");
        let v = migrate(&mut conn).expect("first");
        assert_eq!(v, SCHEMA_VERSION);
        assert_eq!(migrate(&mut conn).expect("second"), v);
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, MIGRATIONS.len() as i64);
    }

    /// Migration 11 rebuilds the audit tables: the events and their resources recorded
    /// before it stay, with their `seq`, and new events continue after them.
    #[test]
    fn the_lean_audit_tables_keep_what_was_recorded() {
        let mut conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "CREATE TABLE schema_migrations (version INTEGER NOT NULL PRIMARY KEY,
                 applied_at TEXT NOT NULL DEFAULT '')",
        )
        .expect("versions table");
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v < 11) {
            conn.execute_batch(sql).expect("older migration");
            conn.execute(
                "INSERT INTO schema_migrations (version) VALUES (?1)",
                [version],
            )
            .expect("record");
        }
        conn.execute_batch(
            "INSERT INTO audit_events VALUES
                 (7, 'ev-1', 'acct', 10, 'LTAI', '127.0.0.1', 'Ecs', 'v', 'DeleteVpc', 'r',
                  'req', '{}', '[]', NULL, NULL);
             INSERT INTO audit_event_resources VALUES (7, 'acct', 'vpc-1', 'ACS::VPC::VPC');",
        )
        .expect("an event before 11");
        migrate(&mut conn).expect("migrate");
        let kept: (i64, String) = conn
            .query_row(
                "SELECT e.seq, r.resource_id FROM audit_events e
                 JOIN audit_event_resources r ON r.seq = e.seq",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .expect("kept");
        assert_eq!(kept, (7, "vpc-1".to_string()));
        conn.execute(
            "INSERT INTO audit_events (event_id, account_id, event_time_us, access_key_id,
                 source_ip, product, version, action, region_id, request_id, parameters,
                 resources) VALUES ('ev-2', 'acct', 11, 'LTAI', '', 'Ecs', 'v', 'a', 'r', 'q',
                 '{}', '[]')",
            [],
        )
        .expect("a new event");
        assert_eq!(conn.last_insert_rowid(), 8);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let mut conn = Connection::open_in_memory().expect("open");
        migrate(&mut conn).expect("migrate");
        conn.execute("INSERT INTO schema_migrations (version) VALUES (9999)", [])
            .expect("insert");
        assert!(matches!(migrate(&mut conn), Err(StoreError::Other(_))));
    }
}
