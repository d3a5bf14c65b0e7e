//! [`SqliteStore`]: opening, and running transaction closures off the async executor:
//! writes on the writer thread ([`crate::writer`]), reads on a pool of reader connections.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use secgroup_domain::{Store, StoreError, Tx, TxError};

use crate::batch::BACKOFF;
use crate::checkpoint::{Checkpointer, WRITER_FALLBACK_PAGES};
use crate::conn::{open_reader, open_writer, Location, BUSY_TIMEOUT};
use crate::error::map_err;
use crate::job::{panic_message, Mode, MAX_ATTEMPTS};
use crate::migrate::migrate;
use crate::nonces::{Claimed, NonceCache};
use crate::tx::SqliteTx;
use crate::writer::Writer;

/// Idle reader connections kept open; more are opened under load and closed after.
const IDLE_READERS: usize = 4;

/// A SQLite database holding the emulator's state. Cheap to clone: clones share the
/// connections and the writer thread. Dropping the last clone (and every pending `write`
/// future, which holds one) waits for the writer thread to finish what was queued.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Writer,
    /// `None` for an in-memory database, which is private to the writer connection, so
    /// reads go through the writer thread too.
    readers: Option<Arc<ReaderPool>>,
    /// The live nonces, answered from memory (see [`crate::nonces`]).
    nonces: NonceCache,
}

struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.inner.readers.as_ref().map(|r| r.path.as_path());
        f.debug_struct("SqliteStore")
            .field("path", &path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it and its parent directories if need be) the database file at
    /// `path` and brings its schema up to date. Blocking: call it at startup, or from
    /// `spawn_blocking`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_location(Location::File(path.to_path_buf()))
    }

    /// Opens `sqlite://PATH` or `sqlite:PATH` (relative or absolute) like [`Self::open`],
    /// or `sqlite::memory:` / `sqlite://:memory:` as a fresh in-memory database.
    pub fn open_url(url: &str) -> Result<SqliteStore, StoreError> {
        Self::open_location(Location::parse_url(url)?)
    }

    /// A fresh, empty database that lives as long as the store; for tests.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        Self::open_location(Location::Memory)
    }

    fn open_location(location: Location) -> Result<SqliteStore, StoreError> {
        let mut writer = open_writer(&location)?;
        migrate(&mut writer)?;
        let nonces = NonceCache::load(&writer, Utc::now())?;
        let checkpointer = match &location {
            Location::Memory => None,
            Location::File(path) => {
                // The checkpoint thread does this work; the writer's own is a fallback.
                writer
                    .pragma_update(None, "wal_autocheckpoint", WRITER_FALLBACK_PAGES)
                    .map_err(map_err)?;
                Some(Checkpointer::spawn(path)?)
            }
        };
        let readers = match location {
            Location::Memory => None,
            Location::File(path) => Some(Arc::new(ReaderPool {
                path,
                idle: Mutex::new(Vec::new()),
            })),
        };
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writer: Writer::spawn(writer, checkpointer)?,
                readers,
                nonces,
            }),
        })
    }
}

impl Store for SqliteStore {
    /// Group commit: the closure joins whatever other writes are queued, and the batch
    /// commits with one sync. Its result arrives once that commit is durable.
    fn write<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        // The future owns a clone, so the writer thread outlives every waiting caller.
        let inner = Arc::clone(&self.inner);
        async move { inner.writer.submit(Mode::Write, f).await }
    }

    /// Joins the group commit like [`Store::write`], without bumping the revision.
    fn write_unrevised<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        async move { inner.writer.submit(Mode::Record, f).await }
    }

    /// On a file: first right here, on an idle reader connection that never waits for a
    /// lock (the common case, tens of microseconds); if none is idle or SQLite reports a
    /// lock, on a connection that waits, inside `block_in_place` or on the blocking pool.
    fn read<T, E, F>(&self, mut f: F) -> impl Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        async move {
            let Some(pool) = inner.readers.clone() else {
                return inner.writer.submit(Mode::Read, f).await;
            };
            if let Some(done) = pool.read_without_waiting(&mut f) {
                return done;
            }
            inline_or_off_executor(move || {
                with_retries(|| {
                    let mut conn = pool.take_patient().map_err(E::from)?;
                    let result = run_once(&mut conn, &mut f);
                    pool.give_back(conn);
                    result
                })
            })
            .await
        }
    }

    /// Answered from memory, without waiting for the disk: a newly claimed nonce is
    /// recorded by the writer thread's next batch (one `nonce_batches` row per flush, a
    /// synced commit, within about 10 ms plus that sync when nothing else is being
    /// written), but this returns before that commit. Relaxation: a nonce claimed in the last milliseconds
    /// before a crash or power loss, whose row had not committed yet, may be accepted once
    /// more after the restart. Otherwise a claimed nonce stays refused until it expires,
    /// across restarts too: the live nonces recorded are loaded at `open`, and closing the
    /// store first writes every queued claim. See [`crate::nonces`].
    fn claim_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let outcome = match self
            .inner
            .nonces
            .claim(access_key_id, nonce, expires_at, now)
        {
            Claimed::Replay => Ok(false),
            Claimed::Fresh(None) => Ok(true),
            Claimed::Fresh(Some(flush)) => self.inner.writer.send(flush).map(|()| true),
        };
        std::future::ready(outcome)
    }

    /// On the writer thread like a write, in the same batches, without the bump.
    fn record_agent_status(
        &self,
        report: secgroup_domain::AgentReport,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let inner = Arc::clone(&self.inner);
        async move {
            inner
                .writer
                .submit(Mode::Record, move |tx| report.apply(tx))
                .await
        }
    }

    /// From memory, where claims are answered.
    fn count_nonces(
        &self,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        std::future::ready(Ok(self.inner.nonces.live(now)))
    }
}

/// The patient path of a read (see [`ReaderPool::read_without_waiting`] for the fast one):
/// it may wait up to the busy timeout for a lock, or open a connection. On a multi-thread
/// runtime it runs on the current worker thread inside `block_in_place` (the worker's other
/// tasks move to another thread meanwhile), which saves the round trip through the
/// blocking pool. On a current-thread runtime (where `block_in_place` panics) or outside
/// tokio, it falls back to [`off_executor`]. A panic in `work` comes back as
/// [`StoreError::Other`] either way.
async fn inline_or_off_executor<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if !multi_thread {
        return off_executor(work).await;
    }
    // Unwind safety: the closure is consumed by the call; a connection it held is dropped
    // during the unwind (a read transaction then rolls back), never reused half-way.
    tokio::task::block_in_place(|| catch_unwind(AssertUnwindSafe(work))).unwrap_or_else(|payload| {
        Err(E::from(StoreError::Other(format!(
            "storage task panicked: {}",
            panic_message(payload.as_ref())
        ))))
    })
}

/// Runs blocking database work on tokio's blocking pool. A panic there (in the closure
/// or in SQLite glue) comes back as [`StoreError::Other`] instead of unwinding into the
/// caller.
async fn off_executor<T, E>(work: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join) if join.is_panic() => Err(E::from(StoreError::Other(format!(
            "storage task panicked: {}",
            panic_message(join.into_panic().as_ref())
        )))),
        Err(join) => Err(E::from(StoreError::Other(format!(
            "storage task failed: {join}"
        )))),
    }
}

/// Runs `attempt` again while it fails with a conflict, up to [`MAX_ATTEMPTS`] times,
/// backing off so a competing writer (another process on the same file) can finish.
fn with_retries<T, E: TxError>(mut attempt: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    let mut tries = 1;
    loop {
        match attempt() {
            Err(e) if e.is_conflict() && tries < MAX_ATTEMPTS => {
                std::thread::sleep(BACKOFF.delay(tries));
                tries += 1;
            }
            done => return done,
        }
    }
}

/// One read transaction (a snapshot). `BEGIN` and `COMMIT` are cached statements: parsing
/// them for every read was measurable. If `f` fails the transaction is rolled back; if it
/// panics, the connection is left inside it, and [`ReaderPool::give_back`] discards it.
fn run_once<T, E, F>(conn: &mut Connection, f: &mut F) -> Result<T, E>
where
    E: From<StoreError>,
    F: FnMut(&mut dyn Tx) -> Result<T, E>,
{
    exec_cached(conn, "BEGIN").map_err(E::from)?;
    match f(&mut SqliteTx::new(conn)) {
        Ok(value) => match exec_cached(conn, "COMMIT") {
            Ok(()) => Ok(value),
            Err(e) => {
                roll_back(conn);
                Err(E::from(e))
            }
        },
        Err(e) => {
            roll_back(conn);
            Err(e)
        }
    }
}

fn exec_cached(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(drop)
        .map_err(map_err)
}

/// Ends the read transaction if one is open; if that fails the connection stays inside
/// it and is discarded when given back.
fn roll_back(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = exec_cached(conn, "ROLLBACK");
    }
}

impl ReaderPool {
    /// The fast path of a read: on an idle connection, right here on the caller's thread,
    /// with no busy handler, so it never sleeps on a lock. A WAL reader meets one rarely
    /// (another process recovering or checkpointing the file); then, or when no connection
    /// is idle, this returns `None` and the read takes the patient path. Saves the thread
    /// hand-offs of `block_in_place` or `spawn_blocking`, which cost more than a typical
    /// read (tens of microseconds of SQLite work) and were the largest cost of a read.
    fn read_without_waiting<T, E, F>(&self, f: &mut F) -> Option<Result<T, E>>
    where
        E: TxError,
        F: FnMut(&mut dyn Tx) -> Result<T, E>,
    {
        let mut conn = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()?;
        // Unwind safety: after a panic the connection is only kept if SQLite reports it
        // outside any transaction (the `Transaction` rolled back while unwinding).
        let outcome = catch_unwind(AssertUnwindSafe(|| run_once(&mut conn, f)));
        self.give_back(conn);
        match outcome {
            Ok(Err(e)) if e.is_conflict() => None,
            Ok(done) => Some(done),
            Err(payload) => Some(Err(E::from(StoreError::Other(format!(
                "storage task panicked: {}",
                panic_message(payload.as_ref())
            ))))),
        }
    }

    /// A connection for the patient path: one that waits up to the busy timeout for a
    /// lock, as every connection did before the fast path.
    fn take_patient(&self) -> Result<Connection, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(conn) => {
                conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
                Ok(conn)
            }
            None => open_reader(&self.path),
        }
    }

    /// Keeps the connection for the next read (without a busy handler, for the fast path)
    /// unless enough are idle already or it was left inside a transaction.
    fn give_back(&self, conn: Connection) {
        if !conn.is_autocommit() || conn.busy_timeout(Duration::ZERO).is_err() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use secgroup_domain::{Store, StoreError};

    use super::SqliteStore;

    /// A busy database (another process's lock) makes the fast path report a conflict; the
    /// read then goes on on the patient path, and a panic there is still an error.
    async fn a_conflict_on_the_fast_path_takes_the_patient_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("sg.db")).expect("open");
        // Warm the pool: the fast path needs an idle connection.
        store
            .read(|tx| tx.count_access_keys())
            .await
            .expect("first read");
        let mut runs = 0;
        let counted = store
            .read(move |tx| {
                runs += 1;
                if runs == 1 {
                    return Err(StoreError::Conflict("database is locked".into()));
                }
                Ok((runs, tx.count_access_keys()?))
            })
            .await;
        assert_eq!(counted, Ok((2, 0)));
        let mut runs = 0;
        let panicked = store
            .read(move |_| -> Result<(), StoreError> {
                runs += 1;
                if runs == 1 {
                    return Err(StoreError::Conflict("database is locked".into()));
                }
                panic!("boom")
            })
            .await;
        assert!(
            matches!(&panicked, Err(StoreError::Other(m)) if m.contains("boom")),
            "{panicked:?}"
        );
        // The pool still serves reads.
        assert_eq!(store.read(|tx| tx.count_access_keys()).await, Ok(0));
    }

    #[tokio::test]
    async fn patient_path_on_a_current_thread_runtime() {
        a_conflict_on_the_fast_path_takes_the_patient_one().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn patient_path_on_a_multi_thread_runtime() {
        a_conflict_on_the_fast_path_takes_the_patient_one().await;
    }
}
