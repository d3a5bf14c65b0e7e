//! [`PostgresStore`]: a pool of connections, each transaction run on a blocking thread.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use chrono::{DateTime, Utc};
use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;
use secgroup_domain::store::backoff::Backoff;
use secgroup_domain::{Store, StoreError, Tx, TxError};

use crate::error::map_err;
use crate::migrate;
use crate::sql::Conn;
use crate::tx::PgTx;

type Pool = r2d2::Pool<Manager>;

/// `r2d2_postgres`'s manager, handing out clients wrapped with their prepared statements.
struct Manager(PostgresConnectionManager<NoTls>);

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        self.0.connect().map(Conn::new)
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || self.0.has_broken(&mut conn.client)
    }
}

/// Write transactions one node runs at once (see [`PostgresStore::writers`]), and nonce
/// claims too (see [`PostgresStore::claims`]).
const CONCURRENT_WRITES: usize = 4;
/// Connections per node.
const POOL_SIZE: u32 = 16;
/// How long a request waits for a connection (or to make one) before it is unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts of one write closure that keeps conflicting before the conflict is returned.
const MAX_CONFLICT_ATTEMPTS: u32 = 12;
/// Attempts of a transaction whose connection was lost before it could commit.
const MAX_UNAVAILABLE_ATTEMPTS: u32 = 3;

/// The PostgreSQL store. Cheap to share behind an `Arc`; every node of a deployment may
/// open its own on the same database.
pub struct PostgresStore {
    /// `None` only while being dropped.
    pool: Option<Pool>,
    /// Write transactions of this node in flight at once. Writers beyond it queue here
    /// rather than in the database, where they would each hold a connection while they
    /// wait for the revision lock (see [`Mode::Write`]).
    writers: tokio::sync::Semaphore,
    /// Nonce claims of this node in flight at once: apart from the writers, so that the
    /// claim every signed request makes (reads too) never waits behind writers taking
    /// their turn at the revision lock.
    claims: tokio::sync::Semaphore,
}

/// The name of the channel every committed write notifies, with the new revision as its
/// payload, so that a process can `LISTEN` for changes instead of polling
/// [`Store::revision`].
pub const REVISION_CHANNEL: &str = "secgroup_revision";

/// Takes the writers' turn: the first statement of every write transaction, before any
/// query takes the transaction's snapshot (`LOCK TABLE` takes none), so each writer's
/// snapshot already holds the commit of the writer before it. Writers of every node
/// queue on this lock instead of running side by side until all but one fail to
/// serialize on the revision row that each of them updates; plain reads take ACCESS SHARE,
/// which EXCLUSIVE mode lets through. The transaction stays SERIALIZABLE: a node of an
/// older build (during a rolling upgrade) takes no turn, and must still be serialized.
const BEGIN_WRITE: &str =
    "BEGIN ISOLATION LEVEL SERIALIZABLE; LOCK TABLE revision IN EXCLUSIVE MODE";

/// Ends a write that returned `Ok`: the bump and its notification (delivered only if the
/// transaction commits), then the commit, in one round trip. If a statement fails the rest
/// are skipped and the transaction is left open (aborted): see [`attempt`].
const COMMIT_WRITE: &str = "WITH bumped AS \
     (UPDATE revision SET revision = revision + 1 WHERE id = 1 RETURNING revision) \
     SELECT pg_notify('secgroup_revision', revision::text) FROM bumped; COMMIT";

#[derive(Clone, Copy)]
enum Mode {
    /// A write closure: takes the writers' turn ([`BEGIN_WRITE`]), bumps the revision and
    /// notifies ([`COMMIT_WRITE`]).
    Write,
    /// A nonce claim: a write that is no change of state, so it neither takes the turn
    /// nor bumps the revision. It only touches `nonces`, which the operations' write
    /// closures never do, so it does not fail to serialize against them.
    Nonce,
    /// An agent's report or an audit event of a refused call: like a nonce claim, a write
    /// that is no change of state (no turn, no bump, no notification). It touches only
    /// `dataplane_agents` or appends to the audit table, which the operations' writes only
    /// insert into, so it does not fail to serialize against them.
    Record,
    Read,
}

/// What one attempt of a transaction came to.
enum Outcome<T, E> {
    Done(Result<T, E>),
    /// Nothing was committed; running the closure again is safe.
    Retry(E),
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…` or `postgresql://…`) and applies the migrations.
    /// Fails with [`StoreError::Unavailable`] when the server cannot be reached.
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Other(format!("invalid PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        // The synchronous client runs its own runtime, so it may not be driven from an
        // async task: connect (and migrate) on a thread of our own.
        let connect = move || -> Result<Pool, StoreError> {
            let pool = r2d2::Pool::builder()
                .max_size(POOL_SIZE)
                .min_idle(Some(1))
                .connection_timeout(CONNECT_TIMEOUT)
                .error_handler(Box::new(r2d2::NopErrorHandler))
                .build(Manager(PostgresConnectionManager::new(config, NoTls)))
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            migrate::apply(&mut conn.client)?;
            drop(conn);
            Ok(pool)
        };
        let pool = std::thread::spawn(connect)
            .join()
            .map_err(|_| StoreError::Other("connecting panicked".to_owned()))??;
        Ok(PostgresStore {
            pool: Some(pool),
            writers: tokio::sync::Semaphore::new(CONCURRENT_WRITES),
            claims: tokio::sync::Semaphore::new(CONCURRENT_WRITES),
        })
    }

    fn pool(&self) -> Result<Pool, StoreError> {
        self.pool
            .clone()
            .ok_or_else(|| StoreError::Other("store closed".to_owned()))
    }

    async fn run<T, E, F>(&self, mode: Mode, mut f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool()?;
        let permits = match mode {
            Mode::Write => Some(&self.writers),
            Mode::Nonce | Mode::Record => Some(&self.claims),
            Mode::Read => None,
        };
        let _permit = match permits {
            Some(permits) => Some(
                permits
                    .acquire()
                    .await
                    .map_err(|_| E::from(StoreError::Other("store closed".to_owned())))?,
            ),
            None => None,
        };
        let (mut conflicts, mut losses) = (0_u32, 0_u32);
        loop {
            let p = pool.clone();
            let joined = tokio::task::spawn_blocking(move || {
                let outcome = attempt(&p, mode, &mut f);
                (f, outcome)
            })
            .await;
            let outcome;
            (f, outcome) = joined
                .map_err(|e| E::from(StoreError::Other(format!("transaction task failed: {e}"))))?;
            let err = match outcome {
                Outcome::Done(result) => return result,
                Outcome::Retry(err) => err,
            };
            let n = if matches!(err.store_error(), Some(StoreError::Unavailable(_))) {
                losses += 1;
                if losses >= MAX_UNAVAILABLE_ATTEMPTS {
                    return Err(err);
                }
                losses
            } else {
                conflicts += 1;
                if conflicts >= MAX_CONFLICT_ATTEMPTS {
                    return Err(err);
                }
                conflicts
            };
            tokio::time::sleep(BACKOFF.delay(n)).await;
        }
    }
}

/// 2, 4, 8 … ms up to 128 ms, plus a random part of up to as much again, so that writers
/// that conflicted with each other (in this process or on another node) do not all come
/// back at the same moment and conflict again.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(2),
    cap: Duration::from_millis(128),
    jitter: true,
};

fn retryable<T, E: TxError>(err: E) -> Outcome<T, E> {
    match err.store_error() {
        Some(StoreError::Conflict(_) | StoreError::Unavailable(_)) => Outcome::Retry(err),
        _ => Outcome::Done(Err(err)),
    }
}

/// One transaction on one pooled connection: begin, run the closure, commit on `Ok`.
fn attempt<T, E, F>(pool: &Pool, mode: Mode, f: &mut F) -> Outcome<T, E>
where
    E: TxError,
    F: FnMut(&mut dyn Tx) -> Result<T, E>,
{
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => return Outcome::Done(Err(E::from(StoreError::Unavailable(e.to_string())))),
    };
    let (begin, commit) = match mode {
        Mode::Write => (BEGIN_WRITE, COMMIT_WRITE),
        Mode::Nonce | Mode::Record => ("BEGIN ISOLATION LEVEL SERIALIZABLE", "COMMIT"),
        Mode::Read => ("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "COMMIT"),
    };
    if let Err(e) = conn.client.batch_execute(begin) {
        // The lock may have failed after BEGIN: end that transaction (a ROLLBACK outside
        // one only warns).
        conn.rollback();
        return retryable(E::from(map_err(e)));
    }
    let result = catch_unwind(AssertUnwindSafe(|| f(&mut PgTx { c: &mut conn })));
    match result {
        Err(_) => {
            conn.rollback();
            Outcome::Done(Err(E::from(StoreError::Other(
                "transaction closure panicked".to_owned(),
            ))))
        }
        Ok(Err(err)) => {
            conn.rollback();
            retryable(err)
        }
        Ok(Ok(value)) => match conn.client.batch_execute(commit) {
            Ok(()) => Outcome::Done(Ok(value)),
            Err(e) => match map_err(e) {
                // Nothing was committed, so running again is safe. A failed COMMIT has
                // ended the transaction; a failed bump has left it open, aborted.
                conflict @ StoreError::Conflict(_) => {
                    conn.rollback();
                    Outcome::Retry(E::from(conflict))
                }
                // Lost during COMMIT the outcome is unknown: never guess, report it (and
                // never reuse the connection).
                other => {
                    conn.broken = true;
                    Outcome::Done(Err(E::from(other)))
                }
            },
        },
    }
}

impl Drop for PostgresStore {
    /// The synchronous client closes its connections with a runtime of its own, which may
    /// not happen on an async task: the pool is dropped on a thread of its own.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let _ = std::thread::Builder::new()
                .name("secgroup-pg-close".to_owned())
                .spawn(move || drop(pool));
        }
    }
}

impl Store for PostgresStore {
    fn write<T, E, F>(&self, f: F) -> impl std::future::Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.run(Mode::Write, f)
    }

    fn write_unrevised<T, E, F>(
        &self,
        f: F,
    ) -> impl std::future::Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.run(Mode::Record, f)
    }

    fn read<T, E, F>(&self, f: F) -> impl std::future::Future<Output = Result<T, E>> + Send
    where
        T: Send + 'static,
        E: TxError + Send + 'static,
        F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
    {
        self.run(Mode::Read, f)
    }

    /// [`AccountsTx::claim_nonce`](secgroup_domain::AccountsTx::claim_nonce) in a SERIALIZABLE transaction of its own: the primary key
    /// refuses a replay whichever node claimed first. Not a write closure: no revision.
    fn claim_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl std::future::Future<Output = Result<bool, StoreError>> + Send {
        let (id, nonce) = (access_key_id.to_owned(), nonce.to_owned());
        self.run(Mode::Nonce, move |tx| {
            tx.claim_nonce(&id, &nonce, expires_at, now)
        })
    }

    /// In a transaction of its own that takes no turn and bumps nothing.
    fn record_agent_status(
        &self,
        report: secgroup_domain::AgentReport,
    ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send {
        self.run(Mode::Record, move |tx| report.apply(tx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_notify_the_published_channel() {
        assert!(COMMIT_WRITE.contains(&format!("pg_notify('{REVISION_CHANNEL}'")));
        assert!(BEGIN_WRITE.ends_with("LOCK TABLE revision IN EXCLUSIVE MODE"));
    }

    #[test]
    fn backoff_grows_to_a_cap_and_varies() {
        for attempt in 1..20 {
            let base = Duration::from_millis(1 << attempt.min(7));
            let d = BACKOFF.delay(attempt);
            assert!(d >= base && d < 2 * base, "attempt {attempt}: {d:?}");
        }
        let waits: std::collections::HashSet<Duration> =
            (0..16).map(|_| BACKOFF.delay(7)).collect();
        assert!(waits.len() > 1, "the same wait every time: {waits:?}");
    }
}
