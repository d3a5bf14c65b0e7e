//! What `synchronous=FULL` costs over `NORMAL` in WAL mode, per committed write, and how
//! much of it group commit wins back when writers are concurrent. Not run by default; run
//! it on the disk you care about:
//! `cargo test --release -p secgroup-store-sqlite --test durability_bench -- --ignored --nocapture`

use std::path::Path;
use std::time::{Duration, Instant};

use secgroup_domain::contract::group;
use secgroup_domain::ids::{AccountId, SecurityGroupId};
use secgroup_domain::{Store, StoreError};
use secgroup_store_sqlite::SqliteStore;

const COMMITS: u32 = 1_000;

/// Concurrent writers: a server has one per request in flight.
const WRITERS: [u32; 4] = [1, 8, 32, 128];

/// Acknowledged writes per concurrency level: enough that 128 writers do ~30 each.
const WRITES: u32 = 4_096;

/// `unit` is what was counted: a raw commit (one sync each), or an acknowledged store
/// write, which is as durable but may share its sync with the rest of its batch.
fn report(label: &str, n: u32, unit: &str, took: Duration) {
    println!(
        "{label:<44} {n} {unit}s in {took:>10.3?}: {:>8.0} {unit}s/s, {:>7.1} µs/{unit}",
        f64::from(n) / took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / f64::from(n)
    );
}

/// One small row per transaction, with the pragmas the store uses but for `synchronous`.
fn raw_commits(path: &Path, synchronous: &str) -> Duration {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous};
         CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);"
    ))
    .expect("setup");
    let start = Instant::now();
    for i in 0..COMMITS {
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        conn.execute("INSERT INTO t (v) VALUES (?1)", [format!("row-{i}")])
            .expect("insert");
        conn.execute_batch("COMMIT").expect("commit");
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark; run by hand with --ignored --nocapture"]
async fn synchronous_full_vs_normal() {
    let dir = tempfile::tempdir().expect("tempdir");
    for mode in ["FULL", "NORMAL", "FULL", "NORMAL"] {
        let path = dir.path().join(format!("raw-{mode}-{}.db", rand_suffix()));
        report(
            &format!("raw rusqlite, WAL, synchronous={mode}"),
            COMMITS,
            "commit",
            raw_commits(&path, mode),
        );
    }

    let store = SqliteStore::open(&dir.path().join("store.db")).expect("open");
    // Twice over: the disk's sync latency drifts, so one pass can mislead.
    for round in 0..2 {
        for writers in WRITERS {
            let account = format!("acct-{round}-{writers}");
            report(
                &format!("SqliteStore::write (FULL), {writers} tasks"),
                WRITES,
                "write",
                concurrent_writes(&store, &account, writers).await,
            );
        }
    }
    // A row for the read loop to find.
    store
        .write(|tx| tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-500", 0)))
        .await
        .expect("write");

    let start = Instant::now();
    for _ in 0..COMMITS {
        store
            .read(|tx| {
                tx.security_group(&AccountId::from("acct-1"), &SecurityGroupId::from("sg-500"))
            })
            .await
            .map_err(|e: StoreError| e)
            .expect("read");
    }
    report(
        "SqliteStore::read, sequential",
        COMMITS,
        "read",
        start.elapsed(),
    );
}

/// `writers` tasks each acknowledge their share of [`WRITES`] single-row writes, one after
/// another, as request handlers would.
async fn concurrent_writes(store: &SqliteStore, account: &str, writers: u32) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|t| {
            let (store, account) = (store.clone(), account.to_owned());
            tokio::spawn(async move {
                for i in 0..WRITES / writers {
                    let g = group(&account, "cn-hangzhou", &format!("sg-{account}-{t}-{i}"), 0);
                    store
                        .write(move |tx| tx.insert_security_group(&g))
                        .await
                        .expect("write");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("join");
    }
    start.elapsed()
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
