//! Group commit: writes queued together share one transaction and one sync, yet each
//! succeeds or fails alone, and none is answered before its batch is durable.
//!
//! To put jobs in one batch deterministically, a "gate" write first occupies the writer
//! thread; the jobs queued while it waits are all drained into the next batch.

use std::future::{poll_fn, Future};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::Poll;
use std::time::Duration;

use secgroup_domain::contract::{at, group};
use secgroup_domain::ids::{AccountId, SecurityGroupId};
use secgroup_domain::{Store, StoreError, Tx};
use secgroup_store_sqlite::SqliteStore;

type Pending<T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send>>;

/// A write that owns its store clone (the trait's future borrows the store).
fn owned<T, F>(store: &SqliteStore, f: F) -> impl Future<Output = Result<T, StoreError>> + Send
where
    T: Send + 'static,
    F: FnMut(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
{
    let store = store.clone();
    async move { store.write(f).await }
}

/// Starts a write (its job is queued when the future is first polled) and returns it,
/// still pending.
async fn queued<T, F>(store: &SqliteStore, f: F) -> Pending<T>
where
    T: Send + 'static,
    F: FnMut(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
{
    let mut fut: Pending<T> = Box::pin(owned(store, f));
    let first = poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
    assert!(first.is_pending(), "answered before its batch could commit");
    fut
}

/// A write that holds the writer thread until the returned sender is used (or dropped).
async fn gate(store: &SqliteStore) -> (Pending<()>, mpsc::Sender<()>) {
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (open_tx, open_rx) = mpsc::channel::<()>();
    let gate = queued(store, move |_tx| {
        let _ = started_tx.send(());
        let _ = open_rx.recv_timeout(Duration::from_secs(10));
        Ok(())
    })
    .await;
    tokio::task::spawn_blocking(move || started_rx.recv_timeout(Duration::from_secs(10)))
        .await
        .expect("join")
        .expect("the gate is running");
    (gate, open_tx)
}

fn insert(store: &SqliteStore, id: &str) -> impl Future<Output = Result<(), StoreError>> {
    let g = group("acct-1", "cn-hangzhou", id, 0);
    owned(store, move |tx| tx.insert_security_group(&g))
}

async fn queued_insert(store: &SqliteStore, id: &str) -> Pending<()> {
    let g = group("acct-1", "cn-hangzhou", id, 0);
    queued(store, move |tx| tx.insert_security_group(&g)).await
}

/// What a fresh connection (as another process would) sees: committed rows only.
fn committed(path: &Path, id: &str) -> bool {
    let conn = rusqlite::Connection::open(path).expect("raw open");
    conn.query_row(
        "SELECT COUNT(*) FROM security_groups WHERE id = ?1",
        [id],
        |r| r.get::<_, i64>(0),
    )
    .expect("count")
        == 1
}

fn file_store() -> (tempfile::TempDir, PathBuf, SqliteStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sg.db");
    let store = SqliteStore::open(&path).expect("open");
    (dir, path, store)
}

async fn visible(store: &SqliteStore, id: &str) -> bool {
    let id = id.to_owned();
    store
        .read(move |tx| tx.security_group(&AccountId::from("acct-1"), &SecurityGroupId::from(&id)))
        .await
        .expect("read")
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_writers_all_commit() {
    let (_dir, path, store) = file_store();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (store, path) = (store.clone(), path.clone());
            tokio::spawn(async move {
                let id = format!("sg-{i:03}");
                let g = group("acct-1", "cn-hangzhou", &id, i);
                let claimed = store
                    .write(move |tx| {
                        tx.insert_security_group(&g)?;
                        tx.claim_nonce("LTAI1", &g.id, at(100, 0), at(0, 0))
                    })
                    .await
                    .expect("write");
                assert!(claimed);
                // Answered, so durable: another connection sees it already.
                let seen = tokio::task::spawn_blocking(move || committed(&path, &id))
                    .await
                    .expect("join");
                assert!(seen, "sg-{i:03} answered before it was committed");
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let n = store
        .read(|tx| tx.count_security_groups(&AccountId::from("acct-1"), "cn-hangzhou"))
        .await
        .expect("count");
    assert_eq!(n, 200);
}

#[tokio::test]
async fn an_answer_waits_for_the_commit_of_its_whole_batch() {
    let (_dir, path, store) = file_store();
    let (gate, open) = gate(&store).await;
    let mut first = queued_insert(&store, "sg-a").await;
    // Shares the batch after `first`: sees its write, then holds the batch open.
    let (inside_tx, inside_rx) = mpsc::channel::<(bool, bool)>();
    let (finish_tx, finish_rx) = mpsc::channel::<()>();
    let raw_path = path.clone();
    let second = queued(&store, move |tx| {
        let seen_inside = tx
            .security_group(&AccountId::from("acct-1"), &SecurityGroupId::from("sg-a"))?
            .is_some();
        let seen_outside = committed(&raw_path, "sg-a");
        let _ = inside_tx.send((seen_inside, seen_outside));
        let _ = finish_rx.recv_timeout(Duration::from_secs(10));
        Ok::<_, StoreError>(())
    })
    .await;
    open.send(()).expect("open the gate");
    gate.await.expect("gate");

    let observed =
        tokio::task::spawn_blocking(move || inside_rx.recv_timeout(Duration::from_secs(10)))
            .await
            .expect("join")
            .expect("second job ran");
    assert_eq!(
        observed,
        (true, false),
        "one transaction, not yet committed"
    );
    // `first` has run, but its batch has not committed: no answer yet.
    let early = tokio::time::timeout(Duration::from_millis(200), &mut first).await;
    assert!(early.is_err(), "answered before the commit: {early:?}");
    assert!(!committed(&path, "sg-a"));

    finish_tx.send(()).expect("finish");
    first.await.expect("first");
    assert!(committed(&path, "sg-a"), "answered, so committed");
    second.await.expect("second");
}

#[tokio::test]
async fn a_failing_job_does_not_undo_its_batch() {
    let (_dir, path, store) = file_store();
    let (gate, open) = gate(&store).await;
    let before = queued_insert(&store, "sg-a").await;
    let failing = queued(&store, |tx| {
        tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-f", 0))?;
        Err::<(), _>(StoreError::Other("boom".to_owned()))
    })
    .await;
    // A duplicate: SQLite's own error, inside the batch.
    let duplicate = queued_insert(&store, "sg-a").await;
    let after = queued(&store, |tx| {
        tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-c", 0))?;
        // Same transaction as `before`, and the failed job's write is already undone.
        Ok::<_, StoreError>((
            tx.security_group(&AccountId::from("acct-1"), &SecurityGroupId::from("sg-a"))?
                .is_some(),
            tx.security_group(&AccountId::from("acct-1"), &SecurityGroupId::from("sg-f"))?
                .is_some(),
        ))
    })
    .await;
    open.send(()).expect("open the gate");
    gate.await.expect("gate");

    assert_eq!(before.await, Ok(()));
    assert_eq!(failing.await, Err(StoreError::Other("boom".to_owned())));
    assert!(matches!(duplicate.await, Err(StoreError::Duplicate(_))));
    assert_eq!(after.await, Ok((true, false)));
    for (id, kept) in [("sg-a", true), ("sg-f", false), ("sg-c", true)] {
        assert_eq!(committed(&path, id), kept, "{id}");
        assert_eq!(visible(&store, id).await, kept, "{id}");
    }
}

#[tokio::test]
async fn a_panicking_job_does_not_undo_its_batch() {
    let (_dir, path, store) = file_store();
    let (gate, open) = gate(&store).await;
    let before = queued_insert(&store, "sg-a").await;
    let panicking = queued(&store, |tx| {
        tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-p", 0))?;
        if tx
            .security_group(&AccountId::from("acct-1"), &SecurityGroupId::from("sg-p"))?
            .is_some()
        {
            panic!("test: deliberate panic inside a batched write");
        }
        Ok::<(), StoreError>(())
    })
    .await;
    let after = queued_insert(&store, "sg-c").await;
    open.send(()).expect("open the gate");
    gate.await.expect("gate");

    assert_eq!(before.await, Ok(()));
    let failed = panicking.await;
    assert!(
        matches!(&failed, Err(StoreError::Other(m)) if m.contains("deliberate panic")),
        "{failed:?}"
    );
    assert_eq!(after.await, Ok(()));
    for (id, kept) in [("sg-a", true), ("sg-p", false), ("sg-c", true)] {
        assert_eq!(committed(&path, id), kept, "{id}");
    }
    // The writer thread survived.
    insert(&store, "sg-d").await.expect("write after the panic");
    assert!(committed(&path, "sg-d"));
}

#[tokio::test]
async fn a_conflicting_job_runs_again_after_its_batch() {
    let (_dir, path, store) = file_store();
    let (gate, open) = gate(&store).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let conflicting = queued(&store, move |tx| {
        let run = counter.fetch_add(1, Ordering::SeqCst);
        tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-k", 0))?;
        if run == 0 {
            return Err(StoreError::Conflict("try again".to_owned()));
        }
        // The second run comes after the rest of the first batch.
        Ok(tx
            .security_group(&AccountId::from("acct-1"), &SecurityGroupId::from("sg-c"))?
            .is_some())
    })
    .await;
    let after = queued_insert(&store, "sg-c").await;
    open.send(()).expect("open the gate");
    gate.await.expect("gate");

    assert_eq!(after.await, Ok(()));
    assert_eq!(conflicting.await, Ok(true));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert!(committed(&path, "sg-k") && committed(&path, "sg-c"));
}

#[tokio::test]
async fn dropping_the_store_finishes_queued_writes() {
    let (_dir, path, store) = file_store();
    let (gate, open) = gate(&store).await;
    // Queued, then abandoned by its caller: it still runs, as a started write always did.
    drop(queued_insert(&store, "sg-a").await);
    open.send(()).expect("open the gate");
    gate.await.expect("gate");
    // Waits for the writer thread to drain the queue and close the connection.
    drop(store);
    assert!(committed(&path, "sg-a"));
}

#[tokio::test]
async fn in_memory_reads_cannot_write() {
    let store = SqliteStore::open_in_memory().expect("open");
    let attempt = store
        .read(|tx| tx.insert_account(&AccountId::from("acct-1"), false, at(0, 0)))
        .await;
    assert!(matches!(attempt, Err(StoreError::Other(_))), "{attempt:?}");
    // The connection is writable again afterwards, and the read left nothing.
    store
        .write(|tx| tx.insert_account(&AccountId::from("acct-1"), true, at(0, 0)))
        .await
        .expect("write");
    let default = store.read(|tx| tx.default_account()).await.expect("read");
    assert_eq!(default.as_deref(), Some("acct-1"));
}

/// In one batch, each job that is kept bumps the revision once, inside its own savepoint:
/// a failing, refused or panicking job leaves no bump behind, a conflicting one bumps once
/// when it runs again, and each kept job starts from the revision the jobs before it left.
#[tokio::test]
async fn each_kept_job_of_a_batch_bumps_the_revision_once() {
    let (_dir, _path, store) = file_store();
    let r0 = store.revision().await.expect("revision");
    let (gate, open) = gate(&store).await;
    let seen = |id: &'static str| {
        let g = group("acct-1", "cn-hangzhou", id, 0);
        move |tx: &mut dyn Tx| {
            tx.insert_security_group(&g)?;
            tx.revision()
        }
    };
    let first = queued(&store, seen("sg-a")).await;
    let failing = queued(&store, |tx| {
        tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-f", 0))?;
        Err::<(), _>(StoreError::Other("boom".to_owned()))
    })
    .await;
    let duplicate = queued_insert(&store, "sg-a").await;
    let panicking = queued(&store, |tx| {
        tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-p", 0))?;
        if tx
            .security_group(&AccountId::from("acct-1"), &SecurityGroupId::from("sg-p"))?
            .is_some()
        {
            panic!("test: deliberate panic inside a batched write");
        }
        Ok::<(), StoreError>(())
    })
    .await;
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let conflicting = queued(&store, move |tx| {
        let run = counter.fetch_add(1, Ordering::SeqCst);
        tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-k", 0))?;
        if run == 0 {
            return Err(StoreError::Conflict("try again".to_owned()));
        }
        tx.revision()
    })
    .await;
    let last = queued(&store, seen("sg-c")).await;
    open.send(()).expect("open the gate");
    gate.await.expect("gate");

    // The gate itself was a kept write: r0 + 1.
    assert_eq!(first.await, Ok(r0 + 1));
    assert!(failing.await.is_err());
    assert!(matches!(duplicate.await, Err(StoreError::Duplicate(_))));
    assert!(panicking.await.is_err());
    assert_eq!(last.await, Ok(r0 + 2), "after the gate and sg-a only");
    assert_eq!(
        conflicting.await,
        Ok(r0 + 3),
        "its second run, after the batch"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(store.revision().await, Ok(r0 + 4), "gate, sg-a, sg-c, sg-k");
}
