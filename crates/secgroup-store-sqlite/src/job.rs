//! A transaction closure packaged for the writer thread: its types are erased behind
//! [`Job`], so closures of every `T`, `E` and `F` share one channel, and its result waits
//! in the job until the batch it ran in has committed.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use rusqlite::Connection;
use secgroup_domain::{StoreError, Tx, TxError};
use tokio::sync::oneshot;

use crate::revision;
use crate::tx::SqliteTx;

/// How many times a closure runs before a conflict is handed back to the caller.
pub(crate) const MAX_ATTEMPTS: u32 = 10;

/// What a job asks of the transaction it runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Keeps the closure's writes if it returns `Ok`, and bumps the revision with them.
    Write,
    /// Keeps the closure's writes if it returns `Ok`, without bumping the revision: a
    /// write that is no change of state (an agent's report, an audit event of a refused
    /// call: [`Store::write_unrevised`](secgroup_domain::Store::write_unrevised)).
    Record,
    /// A read of an in-memory database, which only the writer connection can see: its
    /// savepoint is always rolled back, and the connection refuses writes meanwhile.
    Read,
}

/// How one run of a job's closure ended; the writer keeps or undoes its savepoint by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ran {
    /// Returned `Ok`: keep its writes.
    Ok,
    /// Returned an error to hand back as is: undo its writes.
    Failed,
    /// Returned a conflict with attempts left: undo its writes and run it again later.
    Conflict,
    /// Panicked: undo its writes; its closure must not run again.
    Panicked,
}

/// A type-erased transaction closure with the channel its caller waits on.
pub(crate) trait Job: Send {
    fn mode(&self) -> Mode;
    /// Nobody waits for this job's result, so a batch made only of such jobs may wait a
    /// little to share its commit with more work (see [`crate::writer`]).
    fn deferrable(&self) -> bool {
        false
    }
    /// Runs the closure once on `conn`, inside the batch's transaction, catching a panic,
    /// and keeps its result for [`Job::deliver`].
    fn run(&mut self, conn: &Connection) -> Ran;
    /// Replaces the kept result with `err`: the batch it ran in did not commit. A panic's
    /// result is kept.
    fn fail(&mut self, err: StoreError);
    /// Hands the kept result to the caller. Called only once its writes are durable (or
    /// known not to have happened).
    fn deliver(self: Box<Self>);
}

struct TypedJob<T, E, F> {
    f: F,
    mode: Mode,
    /// Runs that ended in a conflict so far.
    conflicts: u32,
    /// The closure panicked once; it is not called again, and its result stays.
    panicked: bool,
    result: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

/// Packages `f`; the returned receiver gets its result. If the job is dropped unrun (the
/// writer thread is gone) the receiver reports a closed channel instead.
pub(crate) fn job<T, E, F>(mode: Mode, f: F) -> (Box<dyn Job>, oneshot::Receiver<Result<T, E>>)
where
    T: Send + 'static,
    E: TxError + Send + 'static,
    F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
{
    let (reply, receiver) = oneshot::channel();
    let job = TypedJob {
        f,
        mode,
        conflicts: 0,
        panicked: false,
        result: None,
        reply,
    };
    (Box::new(job), receiver)
}

impl<T, E, F> Job for TypedJob<T, E, F>
where
    T: Send + 'static,
    E: TxError + Send + 'static,
    F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
{
    fn mode(&self) -> Mode {
        self.mode
    }

    fn run(&mut self, conn: &Connection) -> Ran {
        // A batch that is run again (its commit failed) includes this job again.
        if self.panicked {
            return Ran::Panicked;
        }
        // Unwind safety: after a panic the closure is never called again, and the writer
        // rolls back everything it wrote, so no broken state is observed.
        let (f, mode) = (&mut self.f, self.mode);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let value = f(&mut SqliteTx::new(conn))?;
            // In the job's savepoint, after the closure: the bump is kept exactly when the
            // closure's writes are (a failure, conflict or panic rolls both back), and a
            // retried closure bumps once, on the run that is kept.
            if mode == Mode::Write {
                revision::bump(conn).map_err(E::from)?;
            }
            Ok::<T, E>(value)
        }));
        let (ran, result) = match outcome {
            Ok(Ok(value)) => (Ran::Ok, Ok(value)),
            Ok(Err(e)) if e.is_conflict() && self.conflicts + 1 < MAX_ATTEMPTS => {
                self.conflicts += 1;
                (Ran::Conflict, Err(e))
            }
            Ok(Err(e)) => (Ran::Failed, Err(e)),
            Err(payload) => {
                self.panicked = true;
                (
                    Ran::Panicked,
                    Err(E::from(StoreError::Other(format!(
                        "storage task panicked: {}",
                        panic_message(payload.as_ref())
                    )))),
                )
            }
        };
        self.result = Some(result);
        ran
    }

    fn fail(&mut self, err: StoreError) {
        // A panic is the more useful report, and its closure wrote nothing either way.
        if !self.panicked {
            self.result = Some(Err(E::from(err)));
        }
    }

    fn deliver(self: Box<Self>) {
        let result = self.result.unwrap_or_else(|| {
            Err(E::from(StoreError::Other(
                "storage job finished without running".to_owned(),
            )))
        });
        // The caller may have stopped waiting (its future was dropped); nothing to do.
        let _ = self.reply.send(result);
    }
}

pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert_eq!(panic_message(&42), "(no message)");
    }
}
