//! WAL checkpoints on a thread of their own, so that no client write waits for one.
//!
//! By default SQLite checkpoints inside the `COMMIT` that grows the WAL past 1,000 pages:
//! that commit then also syncs the WAL, copies every page back into the database file and
//! syncs the file, and every write of its batch (and of the batch queued behind it) waits
//! for all of that. It was the tail of `ModifySecurityGroupPolicy`'s latency. Here the
//! writer connection checkpoints only as a safety net (at [`WRITER_FALLBACK_PAGES`]), and
//! this thread runs a `PASSIVE` checkpoint (it never waits for a lock, and readers and the
//! writer go on meanwhile) on its own connection shortly after commits. Durability is
//! unchanged: a commit is durable once its WAL frames are synced, which the writer still
//! does before any result leaves; the checkpoint connection is `synchronous=FULL` too, so
//! it syncs the WAL before copying and the file before the WAL is reused.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use secgroup_domain::StoreError;

use crate::conn::open_checkpointer;

/// The least time between two checkpoints: each costs two syncs of its own, so under a
/// steady stream of commits they are spaced out, and each copies what the WAL gathered
/// meanwhile (a page written many times is copied once).
const INTERVAL: Duration = Duration::from_millis(100);

/// The writer's own automatic checkpoint, kept for when this thread cannot keep up or its
/// checkpoints fail (say, another process holds the checkpoint lock): the WAL stays
/// bounded either way. Ten times SQLite's default, so it does not fire in normal running.
pub(crate) const WRITER_FALLBACK_PAGES: u32 = 10_000;

#[derive(Default)]
struct Signal {
    /// A commit happened since the last checkpoint started.
    pending: bool,
    /// The store is closing: stop.
    closing: bool,
}

/// The handle the writer thread keeps; dropping it stops the thread.
pub(crate) struct Checkpointer {
    signal: Arc<(Mutex<Signal>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

fn lock(signal: &Mutex<Signal>) -> MutexGuard<'_, Signal> {
    // Two flags, consistent at every point: a panic elsewhere leaves them usable.
    signal.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Checkpointer {
    /// Starts the thread on a connection of its own to the database at `path`.
    pub(crate) fn spawn(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = open_checkpointer(path)?;
        let signal = Arc::new((Mutex::new(Signal::default()), Condvar::new()));
        let shared = Arc::clone(&signal);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".to_owned())
            .spawn(move || run(&conn, &shared))
            .map_err(|e| StoreError::Other(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            signal,
            thread: Some(thread),
        })
    }

    /// Tells the thread that a transaction has committed. Cheap: a flag and a wake-up.
    pub(crate) fn committed(&self) {
        let (state, wake) = &*self.signal;
        let mut s = lock(state);
        if !s.pending {
            s.pending = true;
            wake.notify_one();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (state, wake) = &*self.signal;
        lock(state).closing = true;
        wake.notify_one();
        if let Some(thread) = self.thread.take() {
            // A panic there was already reported by the panic hook.
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, signal: &(Mutex<Signal>, Condvar)) {
    let (state, wake) = signal;
    let mut last: Option<Instant> = None;
    let mut s = lock(state);
    loop {
        // Wait for a commit, then until INTERVAL has passed since the last checkpoint.
        while !s.closing && !s.pending {
            s = wake.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        while let Some(left) = last.and_then(|at| INTERVAL.checked_sub(at.elapsed())) {
            if s.closing {
                break;
            }
            s = wake
                .wait_timeout(s, left)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        if s.closing {
            // Closing the last connection checkpoints what is left.
            return;
        }
        s.pending = false;
        drop(s);
        // PASSIVE never waits: frames a reader still needs are copied by a later run. A run
        // that a commit overtakes copies what it can but (as SQLite does) neither syncs the
        // file nor lets the WAL start over; a later run that catches up does both (2 runs of
        // 29 in a 3 s trace of the Modify benchmark). The writer's fallback bounds the WAL
        // either way. An error (another process holds the checkpoint lock, an I/O error)
        // leaves the WAL to the next run as well.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        last = Some(Instant::now());
        s = lock(state);
    }
}

#[cfg(test)]
mod tests {
    use secgroup_domain::ids::AccountId;
    use std::time::{Duration, Instant};

    use rusqlite::{Connection, OpenFlags};
    use secgroup_domain::contract::at;
    use secgroup_domain::Store;

    use crate::SqliteStore;

    /// Accounts in the database file itself, WAL ignored: what a checkpoint has copied
    /// (0 while even the schema is only in the WAL).
    fn accounts_in_the_file(path: &std::path::Path) -> i64 {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
        let conn =
            Connection::open_with_flags(format!("file:{}?immutable=1", path.display()), flags)
                .expect("open the file alone");
        conn.query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))
            .unwrap_or(0)
    }

    /// A small commit (far below the writer's own threshold) reaches the database file
    /// shortly after, through the checkpoint thread.
    #[tokio::test]
    async fn commits_are_checkpointed_by_the_thread() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sg.db");
        let store = SqliteStore::open(&path).expect("open");
        store
            .write(|tx| tx.insert_account(&AccountId::from("acct-1"), false, at(0, 0)))
            .await
            .expect("write");
        let deadline = Instant::now() + Duration::from_secs(10);
        while accounts_in_the_file(&path) != 1 {
            assert!(Instant::now() < deadline, "never checkpointed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        drop(store);
    }
}
