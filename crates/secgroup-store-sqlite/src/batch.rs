//! Group commit: a batch of jobs runs in one `BEGIN IMMEDIATE` … `COMMIT`, so the whole
//! batch costs one WAL sync instead of one per job. Each job runs inside a savepoint of
//! its own, so one job's error or panic undoes only that job's writes. No result leaves
//! before the `COMMIT` that made it durable has returned.

use std::time::Duration;

use rusqlite::Connection;
use secgroup_domain::store::backoff::Backoff;
use secgroup_domain::{StoreError, TxError};

use crate::error::map_err;
use crate::job::{Job, Mode, Ran, MAX_ATTEMPTS};

/// How one attempt at committing a batch ended.
enum Attempt {
    /// Committed; the run outcome of each job, in order.
    Committed(Vec<Ran>),
    /// SQLite itself rolled back the whole transaction (it does so on some disk-full, I/O
    /// and busy errors) while job `index` ran, which ended as `ran`. The earlier jobs'
    /// writes are gone too, so they must run again.
    Lost { index: usize, ran: Ran },
    /// `BEGIN`, `COMMIT` or a savepoint statement failed; the transaction is rolled back.
    Aborted(StoreError),
}

/// Runs `jobs` as one transaction and, once it has committed (or failed for good), hands
/// every job its result. Returns the jobs whose closure reported a conflict: they run
/// again in the next batch, against the state this batch committed.
pub(crate) fn run_batch(conn: &Connection, mut jobs: Vec<Box<dyn Job>>) -> Vec<Box<dyn Job>> {
    // A panic that escaped an earlier batch (not a closure's: those are caught) may have
    // left its transaction open.
    if !conn.is_autocommit() {
        roll_back(conn);
    }
    let mut finished: Vec<Box<dyn Job>> = Vec::with_capacity(jobs.len());
    let mut again: Vec<Box<dyn Job>> = Vec::new();
    let mut tries = 1;
    while !jobs.is_empty() {
        match attempt(conn, &mut jobs) {
            Attempt::Committed(outcomes) => {
                for (job, ran) in jobs.drain(..).zip(outcomes) {
                    if ran == Ran::Conflict {
                        again.push(job);
                    } else {
                        finished.push(job);
                    }
                }
            }
            // The job that lost the transaction leaves the batch (so each restart makes
            // progress) with the result it got; the rest run again without it.
            Attempt::Lost { index, ran } => {
                let mut job = jobs.remove(index);
                match ran {
                    Ran::Conflict => again.push(job),
                    Ran::Ok => {
                        // Its closure ignored the error that lost the transaction, so its
                        // `Ok` describes writes that are gone.
                        job.fail(StoreError::Other(
                            "the transaction was rolled back after an error".to_owned(),
                        ));
                        finished.push(job);
                    }
                    Ran::Failed | Ran::Panicked => finished.push(job),
                }
            }
            // Another process holds the write lock (past the busy timeout): wait, then
            // run the whole batch again, as a single write was retried before batching.
            Attempt::Aborted(err) if err.is_conflict() && tries < MAX_ATTEMPTS => {
                std::thread::sleep(BACKOFF.delay(tries));
                tries += 1;
            }
            Attempt::Aborted(err) => {
                for mut job in jobs.drain(..) {
                    job.fail(err.clone());
                    finished.push(job);
                }
            }
        }
    }
    for job in finished {
        job.deliver();
    }
    again
}

/// 2, 4, 8 … ms, at most 50 ms: about a quarter of a second over all attempts. No random
/// part: within this process the writer thread is the only writer, and the lock it waits
/// for is another process's, which a jitter would not help it share.
pub(crate) const BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(2),
    cap: Duration::from_millis(50),
    jitter: false,
};

fn attempt(conn: &Connection, jobs: &mut [Box<dyn Job>]) -> Attempt {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        roll_back(conn);
        return Attempt::Aborted(e);
    }
    let mut outcomes = Vec::with_capacity(jobs.len());
    for (index, job) in jobs.iter_mut().enumerate() {
        match run_in_savepoint(conn, job.as_mut()) {
            Ok(ran) if conn.is_autocommit() => return Attempt::Lost { index, ran },
            Ok(ran) => outcomes.push(ran),
            Err(e) => {
                roll_back(conn);
                return Attempt::Aborted(e);
            }
        }
    }
    match exec(conn, "COMMIT") {
        Ok(()) => Attempt::Committed(outcomes),
        Err(e) => {
            // After a busy COMMIT the transaction is still open; undo it before retrying.
            roll_back(conn);
            Attempt::Aborted(e)
        }
    }
}

/// Runs one job inside `SAVEPOINT job`, keeping its writes only if it is a write that
/// returned `Ok`. The name can be reused: each savepoint is released before the next.
fn run_in_savepoint(conn: &Connection, job: &mut dyn Job) -> Result<Ran, StoreError> {
    exec(conn, "SAVEPOINT job")?;
    let read_only = job.mode() == Mode::Read;
    if read_only {
        // Makes a write through a read closure fail, as it does on a reader connection.
        set_query_only(conn, true)?;
    }
    let ran = job.run(conn);
    if read_only {
        set_query_only(conn, false)?;
    }
    if conn.is_autocommit() {
        // SQLite rolled back the transaction, savepoint included: nothing to undo.
        return Ok(ran);
    }
    if ran != Ran::Ok || read_only {
        exec(conn, "ROLLBACK TO job")?;
    }
    exec(conn, "RELEASE job")?;
    Ok(ran)
}

/// Runs a statement that returns no rows, keeping it prepared: these run several times
/// per batch.
fn exec(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(drop)
        .map_err(map_err)
}

fn set_query_only(conn: &Connection, on: bool) -> Result<(), StoreError> {
    conn.pragma_update(None, "query_only", on).map_err(map_err)
}

/// Ends any open transaction, and leaves the connection writable whatever a failed read
/// job left behind.
fn roll_back(conn: &Connection) {
    if !conn.is_autocommit() {
        // If this fails, the next BEGIN reports it.
        let _ = conn.execute_batch("ROLLBACK");
    }
    let _ = set_query_only(conn, false);
}

#[cfg(test)]
mod tests {
    use secgroup_domain::ids::AccountId;
    use std::path::PathBuf;

    use chrono::DateTime;
    use secgroup_domain::Tx;
    use tokio::sync::oneshot;

    use super::*;
    use crate::conn::{open_writer, Location};
    use crate::job::job;
    use crate::migrate::migrate;

    type Reply = oneshot::Receiver<Result<(), StoreError>>;

    /// A migrated file database whose writer gives up on a held lock at once, as the real
    /// one does after its busy timeout, so the batch's own retries are what is tested.
    fn impatient_writer(dir: &tempfile::TempDir) -> (Connection, PathBuf) {
        let path = dir.path().join("sg.db");
        let mut conn = open_writer(&Location::File(path.clone())).expect("open");
        migrate(&mut conn).expect("migrate");
        conn.busy_timeout(Duration::ZERO).expect("busy timeout");
        (conn, path)
    }

    fn insert_account(id: &'static str) -> (Box<dyn Job>, Reply) {
        job(Mode::Write, move |tx: &mut dyn Tx| {
            tx.insert_account(&AccountId::from(id), false, DateTime::UNIX_EPOCH)
        })
    }

    /// Another connection, as another process would, takes the write lock.
    fn lock(path: &PathBuf) -> Connection {
        let other = Connection::open(path).expect("raw open");
        other.execute_batch("BEGIN IMMEDIATE").expect("lock");
        other
    }

    fn accounts(path: &PathBuf) -> i64 {
        let conn = Connection::open(path).expect("raw open");
        conn.query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))
            .expect("count")
    }

    #[test]
    fn a_busy_begin_reruns_the_whole_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (conn, path) = impatient_writer(&dir);
        let other = lock(&path);
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            other.execute_batch("COMMIT").expect("unlock");
        });
        let (a, reply_a) = insert_account("acct-a");
        let (b, reply_b) = insert_account("acct-b");
        assert!(run_batch(&conn, vec![a, b]).is_empty());
        release.join().expect("join");
        assert_eq!(reply_a.blocking_recv(), Ok(Ok(())));
        assert_eq!(reply_b.blocking_recv(), Ok(Ok(())));
        assert_eq!(accounts(&path), 2);
    }

    #[test]
    fn a_lock_never_released_fails_every_job_as_a_conflict() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (conn, path) = impatient_writer(&dir);
        let other = lock(&path);
        let (a, reply_a) = insert_account("acct-a");
        let (b, reply_b) = insert_account("acct-b");
        assert!(run_batch(&conn, vec![a, b]).is_empty());
        for reply in [reply_a, reply_b] {
            let got = reply.blocking_recv().expect("answered");
            assert!(matches!(got, Err(StoreError::Conflict(_))), "{got:?}");
        }
        other.execute_batch("COMMIT").expect("unlock");
        assert_eq!(accounts(&path), 0);
        // The connection is left usable.
        let (c, reply_c) = insert_account("acct-c");
        assert!(run_batch(&conn, vec![c]).is_empty());
        assert_eq!(reply_c.blocking_recv(), Ok(Ok(())));
    }

    #[test]
    fn backoff_is_short_and_bounded() {
        let total: Duration = (1..MAX_ATTEMPTS).map(|n| BACKOFF.delay(n)).sum();
        assert!(total <= Duration::from_millis(400), "{total:?}");
        assert!(BACKOFF.delay(100) <= Duration::from_millis(50));
    }
}
