//! What `synchronous=FULL` costs over `NORMAL` in WAL mode, per committed write. Not run
//! by default; run it on the disk you care about:
//! `cargo test --release -p secgroup-store-sqlite --test durability_bench -- --ignored --nocapture`

use std::path::Path;
use std::time::{Duration, Instant};

use secgroup_domain::contract::group;
use secgroup_domain::{Store, StoreError};
use secgroup_store_sqlite::SqliteStore;

const COMMITS: u32 = 1_000;

fn report(label: &str, n: u32, took: Duration) {
    println!(
        "{label:<44} {n} commits in {took:>10.3?}: {:>8.0} commits/s, {:>7.1} µs/commit",
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
            raw_commits(&path, mode),
        );
    }

    let store = SqliteStore::open(&dir.path().join("store.db")).expect("open");
    let start = Instant::now();
    for i in 0..COMMITS {
        let g = group("acct-1", "cn-hangzhou", &format!("sg-{i}"), i64::from(i));
        store
            .write(move |tx| tx.insert_security_group(&g))
            .await
            .expect("write");
    }
    report(
        "SqliteStore::write (FULL), sequential",
        COMMITS,
        start.elapsed(),
    );

    let start = Instant::now();
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..COMMITS / 8 {
                    let g = group("acct-2", "cn-hangzhou", &format!("sg-{t}-{i}"), 0);
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
    report(
        "SqliteStore::write (FULL), 8 tasks",
        COMMITS,
        start.elapsed(),
    );

    let start = Instant::now();
    for _ in 0..COMMITS {
        store
            .read(|tx| tx.security_group("acct-1", "sg-500"))
            .await
            .map_err(|e: StoreError| e)
            .expect("read");
    }
    report(
        "SqliteStore::read, sequential (not commits)",
        COMMITS,
        start.elapsed(),
    );
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
