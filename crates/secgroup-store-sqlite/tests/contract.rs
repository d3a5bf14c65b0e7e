//! The domain's storage contract, run against SQLite files and in-memory databases, and
//! the properties only a file can have: data outlives the process's handle on it.

use std::sync::atomic::{AtomicUsize, Ordering};

use secgroup_domain::contract::{self, at, group, tag};
use secgroup_domain::{ResourceType, Store, StoreError};
use secgroup_store_sqlite::{SqliteStore, SCHEMA_VERSION};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_on_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = AtomicUsize::new(0);
    contract::run_all(|| {
        // A nested path: open creates the directories.
        let path = dir
            .path()
            .join(format!("case-{}", n.fetch_add(1, Ordering::SeqCst)))
            .join("secgroup.db");
        SqliteStore::open(&path).expect("open")
    })
    .await;
}

#[tokio::test]
async fn contract_in_memory() {
    contract::run_all(|| SqliteStore::open_url("sqlite::memory:").expect("open")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revision_survives_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("secgroup.db");
    contract::revision_survives_reopening(|| SqliteStore::open(&path).expect("open")).await;
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
                tx.insert_account("acct-1", true, at(0, 0))?;
                tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-1", 0))?;
                tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-2", 1))?;
                tx.set_tags(
                    "acct-1",
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
                    tx.security_groups("acct-1", "cn-hangzhou")?,
                    tx.tags("acct-1", ResourceType::SecurityGroup, "sg-2")?,
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
    let expected: Vec<i64> = (1..=SCHEMA_VERSION).collect();
    assert_eq!(versions, expected);
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("journal mode");
    assert_eq!(mode, "wal");
}
