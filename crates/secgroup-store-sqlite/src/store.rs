//! [`SqliteStore`]: opening, and running transaction closures off the async executor:
//! writes on the writer thread ([`crate::writer`]), reads on a pool of reader connections.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, TransactionBehavior};
use secgroup_domain::{Store, StoreError, Tx, TxError};

use crate::batch::backoff;
use crate::conn::{open_reader, open_writer, Location};
use crate::error::map_err;
use crate::job::{panic_message, Mode, MAX_ATTEMPTS};
use crate::migrate::migrate;
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
        let readers = match location {
            Location::Memory => None,
            Location::File(path) => Some(Arc::new(ReaderPool {
                path,
                idle: Mutex::new(Vec::new()),
            })),
        };
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                writer: Writer::spawn(writer)?,
                readers,
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
            off_executor(move || {
                with_retries(|| {
                    let mut conn = pool.take().map_err(E::from)?;
                    let result = run_once(&mut conn, &mut f);
                    pool.give_back(conn);
                    result
                })
            })
            .await
        }
    }
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
                std::thread::sleep(backoff(tries));
                tries += 1;
            }
            done => return done,
        }
    }
}

/// One read transaction (a snapshot): if `f` fails or panics, the `rusqlite::Transaction`
/// rolls back when dropped.
fn run_once<T, E, F>(conn: &mut Connection, f: &mut F) -> Result<T, E>
where
    E: From<StoreError>,
    F: FnMut(&mut dyn Tx) -> Result<T, E>,
{
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Deferred)
        .map_err(|e| E::from(map_err(e)))?;
    let value = f(&mut SqliteTx::new(&tx))?;
    tx.commit().map_err(|e| E::from(map_err(e)))?;
    Ok(value)
}

impl ReaderPool {
    fn take(&self) -> Result<Connection, StoreError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(conn) => Ok(conn),
            None => open_reader(&self.path),
        }
    }

    /// Keeps the connection for the next read unless enough are idle already or it was
    /// left inside a transaction.
    fn give_back(&self, conn: Connection) {
        if !conn.is_autocommit() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}
