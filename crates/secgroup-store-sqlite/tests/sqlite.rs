//! Behaviour particular to the SQLite backend, beyond the shared contract.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use chrono::DateTime;
use secgroup_domain::contract::{at, group};
use secgroup_domain::ids::AccountId;
use secgroup_domain::{AccessKeyRecord, ClientTokenRecord, Store, StoreError};
use secgroup_store_sqlite::SqliteStore;

fn raw_count(path: &Path, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(path).expect("raw open");
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .expect("count")
}

#[tokio::test]
async fn nanosecond_timestamps_round_trip() {
    let store = SqliteStore::open_in_memory().expect("open");
    let t = DateTime::from_timestamp(1_700_000_000, 123_456_789).expect("time");
    let key = AccessKeyRecord {
        access_key_id: "LTAI1".to_owned(),
        secret: "s".to_owned(),
        account_id: "acct-1".to_owned(),
        created_at: t,
    };
    let token = ClientTokenRecord {
        account_id: "acct-1".to_owned(),
        token: "tok".to_owned(),
        fingerprint: "f".to_owned(),
        result: "{}".to_owned(),
        created_at: t,
    };
    let (k, tk) = (key.clone(), token.clone());
    store
        .write(move |tx| {
            tx.insert_account(&AccountId::from("acct-1"), false, t)?;
            tx.insert_access_key(&k)?;
            tx.insert_client_token(&tk)
        })
        .await
        .expect("write");
    let got = store
        .read(|tx| {
            Ok::<_, StoreError>((
                tx.access_key("LTAI1")?,
                tx.client_token(&AccountId::from("acct-1"), "tok")?,
            ))
        })
        .await
        .expect("read");
    assert_eq!(got, (Some(key), Some(token)));
}

#[tokio::test]
async fn claims_purge_expired_nonces() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sg.db");
    let store = SqliteStore::open(&path).expect("open");
    store
        .write(|tx| {
            for i in 0..100 {
                tx.claim_nonce("LTAI1", &format!("n-{i}"), at(10, 0), at(0, 0))?;
            }
            Ok::<_, StoreError>(())
        })
        .await
        .expect("fill");
    assert_eq!(raw_count(&path, "nonces"), 100);
    for i in 0..20 {
        let claimed = store
            .write(move |tx| tx.claim_nonce("LTAI1", &format!("late-{i}"), at(100, 0), at(50, 0)))
            .await
            .expect("claim");
        assert!(claimed);
    }
    // Each claim adds one row and purges several expired ones: the table shrinks.
    let left = raw_count(&path, "nonces");
    assert!(left < 100, "{left} rows left");
    assert!(left >= 20, "live nonces kept: {left}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_proceed_while_a_write_is_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("sg.db")).expect("open");
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .write(move |tx| {
                    tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-1", 0))?;
                    // Hold the write transaction open until the reader is done.
                    let _ = started_tx.send(());
                    let _ = go_rx.recv_timeout(Duration::from_secs(10));
                    Ok::<_, StoreError>(())
                })
                .await
        })
    };
    tokio::task::spawn_blocking(move || started_rx.recv_timeout(Duration::from_secs(10)))
        .await
        .expect("join")
        .expect("writer started");
    let seen = tokio::time::timeout(
        Duration::from_secs(5),
        store.read(|tx| tx.count_security_groups(&AccountId::from("acct-1"), "cn-hangzhou")),
    )
    .await
    .expect("read was not blocked by the open write")
    .expect("read");
    assert_eq!(seen, 0, "the uncommitted insert is invisible");
    go_tx.send(()).expect("go");
    writer.await.expect("join").expect("write");
    let seen = store
        .read(|tx| tx.count_security_groups(&AccountId::from("acct-1"), "cn-hangzhou"))
        .await
        .expect("read");
    assert_eq!(seen, 1);
}

#[tokio::test]
async fn a_read_transaction_cannot_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sg.db");
    let store = SqliteStore::open(&path).expect("open");
    let attempt = store
        .read(|tx| tx.insert_account(&AccountId::from("acct-1"), false, at(0, 0)))
        .await;
    assert!(matches!(attempt, Err(StoreError::Other(_))), "{attempt:?}");
    assert_eq!(raw_count(&path, "accounts"), 0);
}

#[tokio::test]
async fn waits_for_another_process_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sg.db");
    let store = SqliteStore::open(&path).expect("open");
    // Another connection (as another process would) holds the write lock briefly.
    let other = rusqlite::Connection::open(&path).expect("raw open");
    other.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        other.execute_batch("COMMIT").expect("unlock");
    });
    store
        .write(|tx| tx.insert_account(&AccountId::from("acct-1"), true, at(0, 0)))
        .await
        .expect("write waited for the lock");
    release.join().expect("join");
    assert_eq!(raw_count(&path, "accounts"), 1);
}

#[test]
fn bad_urls_are_refused() {
    for url in [
        "postgres://localhost/x",
        "sqlite://",
        "sqlite://x.db?mode=rwc",
    ] {
        assert!(SqliteStore::open_url(url).is_err(), "{url}");
    }
}

#[test]
fn a_directory_is_not_a_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(SqliteStore::open(dir.path()).is_err());
}
