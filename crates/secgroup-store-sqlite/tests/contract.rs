//! The domain's storage contract, run against SQLite files and in-memory databases, and
//! the properties only a file can have: data outlives the process's handle on it.

use secgroup_domain::contract::{at, group, tag};
use secgroup_domain::ids::AccountId;
use secgroup_domain::{ResourceType, Store, StoreError};
use secgroup_store_sqlite::{SqliteStore, SCHEMA_VERSION};

/// The shared contract on database files, one test per case, each file in a nested
/// directory of its own (open creates the directories). Multi-thread runtime: reads take
/// the reader pool's fast path and its `block_in_place` fallback.
mod files {
    use secgroup_store_sqlite::SqliteStore;

    fn fresh(_case: &str) -> Option<(tempfile::TempDir, SqliteStore)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("case").join("secgroup.db")).expect("open");
        Some((dir, store))
    }

    fn reopenable(_case: &str) -> Option<(tempfile::TempDir, impl Fn() -> SqliteStore)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("secgroup.db");
        Some((dir, move || SqliteStore::open(&path).expect("open")))
    }

    secgroup_domain::store_contract! {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        fresh = fresh,
        reopen = reopenable,
    }
}

/// The shared contract on in-memory databases (which cannot be reopened), on a
/// current-thread runtime: every read and write goes through the writer thread.
mod memory {
    use secgroup_store_sqlite::SqliteStore;

    fn fresh(_case: &str) -> Option<((), SqliteStore)> {
        Some(((), SqliteStore::open_url("sqlite::memory:").expect("open")))
    }

    secgroup_domain::store_contract! {
        #[tokio::test]
        fresh = fresh,
    }
}

#[tokio::test]
async fn data_survives_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sg.db");
    let url = format!("sqlite://{}", path.display());
    {
        let store = SqliteStore::open(&path).expect("open");
        store
            .write(|tx| {
                tx.insert_account(&AccountId::from("acct-1"), true, at(0, 0))?;
                tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-1", 0))?;
                tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-2", 1))?;
                tx.set_tags(
                    &AccountId::from("acct-1"),
                    ResourceType::SecurityGroup,
                    "sg-2",
                    &[tag("b", "2"), tag("a", "1")],
                )
            })
            .await
            .expect("write");
    }
    for _ in 0..2 {
        let store = SqliteStore::open_url(&url).expect("reopen");
        let (default, groups, tags) = store
            .read(|tx| {
                Ok::<_, StoreError>((
                    tx.default_account()?,
                    tx.security_groups(&AccountId::from("acct-1"), "cn-hangzhou")?,
                    tx.tags(
                        &AccountId::from("acct-1"),
                        ResourceType::SecurityGroup,
                        "sg-2",
                    )?,
                ))
            })
            .await
            .expect("read");
        assert_eq!(default.as_deref(), Some("acct-1"));
        assert_eq!(
            groups,
            [
                group("acct-1", "cn-hangzhou", "sg-1", 0),
                group("acct-1", "cn-hangzhou", "sg-2", 1)
            ]
        );
        assert_eq!(tags, [tag("b", "2"), tag("a", "1")]);
        drop(store);
    }

    // Re-opening applied no migration twice, and the file is in WAL mode.
    let conn = rusqlite::Connection::open(&path).expect("raw open");
    let versions: Vec<i64> = conn
        .prepare("SELECT version FROM schema_migrations ORDER BY version")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .expect("versions");
    assert_eq!(versions, secgroup_store_sqlite::schema_versions());
    assert_eq!(versions.last(), Some(&SCHEMA_VERSION));
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal");
}
