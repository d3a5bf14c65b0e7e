//! The writer thread: it owns the writer connection and commits queued jobs in batches
//! (see [`crate::batch`]). Callers wait on a oneshot channel, so a write occupies no
//! executor or blocking-pool thread while it waits for the disk.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use secgroup_domain::{StoreError, Tx, TxError};

use crate::batch::run_batch;
use crate::checkpoint::Checkpointer;
use crate::job::{job, Job, Mode};

/// The most jobs committed together. Large enough that a burst of small writes shares a
/// few syncs; small enough that one batch's latency stays that of a few milliseconds of
/// statements, and a restarted batch (busy lock) re-runs a bounded amount of work.
const MAX_BATCH: usize = 256;

/// How long after the previous commit a batch of only deferrable jobs (nonce records,
/// which nobody waits for) is held back, gathering whatever else arrives meanwhile. Under a
/// read-only load every request still records its nonce; without this, each of those
/// small batches would cost a commit and a sync of its own. A job someone waits for ends
/// the wait at once. This bounds how long a nonce record stays uncommitted: see
/// [`crate::nonces`].
const DEFERRABLE_DELAY: Duration = Duration::from_millis(10);

/// The handle the store keeps: a queue into the writer thread.
pub(crate) struct Writer {
    /// `None` only while dropping: closing the queue is what stops the thread.
    jobs: Option<Sender<Box<dyn Job>>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the writer thread on `conn`, a migrated writer connection. With a
    /// `checkpointer` (a file database), it is told of every commit, and dropped (stopped)
    /// before the writer connection closes.
    pub(crate) fn spawn(
        conn: Connection,
        checkpointer: Option<Checkpointer>,
    ) -> Result<Writer, StoreError> {
        let (jobs, queue) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || serve(&conn, &queue, checkpointer))
            .map_err(|e| StoreError::Other(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    /// Queues `f` and waits for its result, which arrives only after the transaction it
    /// ran in has committed (or failed).
    pub(crate) async fn submit<T, E, F>(&self, mode: Mode, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let (job, reply) = job(mode, f);
        self.send(job).map_err(E::from)?;
        reply.await.unwrap_or_else(|_| Err(E::from(stopped())))
    }

    /// Queues `job` without waiting for it: whatever it does with its result is its own
    /// business.
    pub(crate) fn send(&self, job: Box<dyn Job>) -> Result<(), StoreError> {
        let queued = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if queued {
            Ok(())
        } else {
            Err(stopped())
        }
    }
}

/// The thread only stops when the queue closes, or if a panic escaped our own batch code,
/// which would drop the jobs in hand (their callers land here).
fn stopped() -> StoreError {
    StoreError::Other("the storage writer thread has stopped".to_owned())
}

impl Drop for Writer {
    /// Closes the queue and waits until the thread has run what was queued and closed the
    /// connection, so the file is released when the store is. Joining blocks for at most
    /// one batch; the old design closed the connection in place, which blocked as well.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            // A job's closure may own the last clone of the store, and so drop it on the
            // writer thread itself, which must not wait for itself: it exits on its own.
            if thread.thread().id() != std::thread::current().id() {
                // A panic there was already reported by the panic hook.
                let _ = thread.join();
            }
        }
    }
}

/// The thread's loop: takes the first job (waiting for one), then whatever else is queued
/// right now, and commits them together. Returns once every sender is gone and the queue
/// is empty.
fn serve(conn: &Connection, queue: &Receiver<Box<dyn Job>>, checkpointer: Option<Checkpointer>) {
    // Jobs whose closure reported a conflict; they go first in the next batch.
    let mut again: Vec<Box<dyn Job>> = Vec::new();
    let mut last_commit: Option<Instant> = None;
    loop {
        let mut batch = std::mem::take(&mut again);
        if batch.is_empty() {
            match queue.recv() {
                Ok(job) => batch.push(job),
                Err(_) => return,
            }
        }
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Nobody waits for this batch: give it company until DEFERRABLE_DELAY has passed
        // since the last commit. A closed queue (the store is closing) ends the wait.
        while batch.len() < MAX_BATCH && batch.iter().all(|job| job.deferrable()) {
            let waited = last_commit.map_or(DEFERRABLE_DELAY, |at| at.elapsed());
            let Some(left) = DEFERRABLE_DELAY.checked_sub(waited) else {
                break;
            };
            match queue.recv_timeout(left) {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Closure panics are caught per job; this only guards against a bug in the batch
        // code itself taking the thread (and so the store) down. Its jobs are dropped, so
        // their callers get an error; `run_batch` rolls back what it left open.
        again = catch_unwind(AssertUnwindSafe(|| run_batch(conn, batch))).unwrap_or_default();
        last_commit = Some(Instant::now());
        if let Some(checkpointer) = &checkpointer {
            checkpointer.committed();
        }
    }
}
