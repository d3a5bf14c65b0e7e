//! Nonce claims answered from memory, persisted without making the request wait.
//!
//! Every signed request claims its `SignatureNonce`. As a plain write that would cost each
//! request a trip to the writer thread and a wait for the group commit's sync, although
//! the answer only depends on what this process has already seen. So [`NonceCache`] keeps
//! every live nonce in memory and answers from there; a newly claimed nonce is also handed
//! to the writer thread, which records it in the `nonces` table in its next batch (a
//! synced commit, like any other), but the request does not wait for that commit. When
//! the store opens, the unexpired rows of the table are loaded back into memory.
//!
//! The one relaxation, precisely: a nonce claimed in the last milliseconds before the
//! process crashes or the machine loses power, whose row had not yet committed, is not in
//! the table after the restart, and so may be accepted once more (until it expires). The
//! window is the time a row waits for its commit: the writer's current batch, plus at most
//! 10 ms when no other write is queued (a batch of nonce rows alone waits that long after
//! the previous commit, to share it; see `writer.rs`), plus the commit's sync. Every
//! nonce whose row committed, which includes every nonce claimed before a clean shutdown
//! (closing the store runs what is queued), stays refused across restarts until it
//! expires. Within one process a claimed nonce is refused until it expires, always.
//!
//! Two caveats follow from answering in memory. Two server processes sharing one database
//! file do not see each other's recent nonces (they would see them only after a restart).
//! And a nonce recorded through [`Tx::claim_nonce`](secgroup_domain::Tx::claim_nonce)
//! directly is not in memory: nonce checks must go through
//! [`Store::claim_nonce`](secgroup_domain::Store::claim_nonce), as the server's do.
//!
//! Memory stays bounded by the nonces still live: they are kept in buckets by minute of
//! expiry, and a bucket whose every nonce has expired is dropped whole (O(1) pruning). A
//! nonce is kept as a 128-bit keyed hash of (AccessKeyId, nonce) and its exact expiry.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use secgroup_domain::StoreError;

use crate::error::map_err;
use crate::job::{panic_message, Job, Mode, Ran};

/// The width of one expiry bucket: one minute, in microseconds. With the default 15
/// minutes of clock skew, live nonces expire within the next 30 minutes: about 31 buckets.
const BUCKET_MICROS: i64 = 60_000_000;

/// (AccessKeyId, nonce) as two independent keyed 64-bit hashes: collisions are as
/// unlikely as 128 random bits make them, and cannot be aimed at without the process's
/// random keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint(u64, u64);

impl std::hash::Hash for Fingerprint {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already uniformly random: hashing it again would be wasted work.
        state.write_u64(self.0);
    }
}

/// A `Hasher` that passes a [`Fingerprint`]'s first word through.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not reached through `Fingerprint`; still a correct (FNV-1a) hash if it were.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

type Bucket = HashMap<Fingerprint, i64, BuildHasherDefault<PassThrough>>;

/// A claim waiting to be written to the `nonces` table.
struct Unsaved {
    access_key_id: String,
    nonce: String,
    expires_at: DateTime<Utc>,
    /// The time of the claim, by the caller's clock.
    now: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    /// By minute of expiry: each live nonce's fingerprint and exact expiry (unix µs).
    buckets: BTreeMap<i64, Bucket>,
    /// Claims no flush job has taken yet.
    unsaved: Vec<Unsaved>,
    /// A flush job is queued (or running) that has not yet taken `unsaved`.
    flush_queued: bool,
}

impl State {
    /// Drops every bucket whose nonces have all expired at `now_us`.
    fn prune(&mut self, now_us: i64) {
        while let Some(entry) = self.buckets.first_entry() {
            if bucket_end(*entry.key()) > now_us {
                break;
            }
            entry.remove();
        }
    }

    /// Whether `fp` is recorded with an expiry after `now_us`.
    fn is_live(&self, fp: Fingerprint, now_us: i64) -> bool {
        self.buckets
            .values()
            .any(|bucket| bucket.get(&fp).is_some_and(|&expires| expires > now_us))
    }

    fn insert(&mut self, fp: Fingerprint, expires_us: i64) {
        self.buckets
            .entry(expires_us.div_euclid(BUCKET_MICROS))
            .or_default()
            .insert(fp, expires_us);
    }
}

fn bucket_end(minute: i64) -> i64 {
    minute.saturating_add(1).saturating_mul(BUCKET_MICROS)
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // The state is consistent between statements; a panic elsewhere leaves it usable.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a claim found.
pub(crate) enum Claimed {
    /// The nonce is live: a replay.
    Replay,
    /// Newly claimed. When a job is given, the caller hands it to the writer thread (and
    /// does not wait for it): it writes this claim and any others made meanwhile.
    Fresh(Option<Box<dyn Job>>),
}

/// The live nonces of a store, in memory; see the module documentation.
pub(crate) struct NonceCache {
    keys: (RandomState, RandomState),
    state: Arc<Mutex<State>>,
}

impl NonceCache {
    /// Loads the nonces of the table that are still live at `now`.
    pub(crate) fn load(conn: &Connection, now: DateTime<Utc>) -> Result<NonceCache, StoreError> {
        let cache = NonceCache {
            keys: (RandomState::new(), RandomState::new()),
            state: Arc::new(Mutex::new(State::default())),
        };
        let mut statement = conn
            .prepare("SELECT access_key_id, nonce, expires_at FROM nonces WHERE expires_at > ?1")
            .map_err(map_err)?;
        let mut rows = statement.query([now.timestamp_micros()]).map_err(map_err)?;
        let mut state = lock(&cache.state);
        while let Some(row) = rows.next().map_err(map_err)? {
            let key: String = row.get(0).map_err(map_err)?;
            let nonce: String = row.get(1).map_err(map_err)?;
            let expires_us: i64 = row.get(2).map_err(map_err)?;
            state.insert(cache.fingerprint(&key, &nonce), expires_us);
        }
        drop(state);
        Ok(cache)
    }

    fn fingerprint(&self, access_key_id: &str, nonce: &str) -> Fingerprint {
        let pair = (access_key_id, nonce);
        Fingerprint(self.keys.0.hash_one(pair), self.keys.1.hash_one(pair))
    }

    /// Claims `nonce` for `access_key_id` until `expires_at`, as
    /// [`Tx::claim_nonce`](secgroup_domain::Tx::claim_nonce) would at `now`.
    pub(crate) fn claim(
        &self,
        access_key_id: &str,
        nonce: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Claimed {
        let fp = self.fingerprint(access_key_id, nonce);
        let (now_us, expires_us) = (now.timestamp_micros(), expires_at.timestamp_micros());
        let mut state = lock(&self.state);
        state.prune(now_us);
        if state.is_live(fp, now_us) {
            return Claimed::Replay;
        }
        if expires_us <= now_us {
            // Expired already: nothing could ever be refused because of it.
            return Claimed::Fresh(None);
        }
        state.insert(fp, expires_us);
        state.unsaved.push(Unsaved {
            access_key_id: access_key_id.to_owned(),
            nonce: nonce.to_owned(),
            expires_at,
            now,
        });
        if state.flush_queued {
            return Claimed::Fresh(None);
        }
        state.flush_queued = true;
        Claimed::Fresh(Some(Box::new(Flush {
            state: Arc::clone(&self.state),
            taken: Vec::new(),
            failure: None,
            ran: false,
        })))
    }
}

/// Records `claims` in the table, then deletes some expired rows: more than it added, so
/// the table shrinks back after a burst, yet a bounded amount per flush. One statement
/// per claim and one per flush (the per-claim purge of `Tx::claim_nonce` is a second
/// statement per claim). Memory is what decides a claim; a row only has to be there, with
/// the latest expiry, for the next start.
fn write_claims(conn: &Connection, claims: &[Unsaved]) -> Result<(), StoreError> {
    let mut insert = conn
        .prepare_cached(
            "INSERT INTO nonces (access_key_id, nonce, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at
             WHERE excluded.expires_at > nonces.expires_at",
        )
        .map_err(map_err)?;
    for c in claims {
        insert
            .execute(params![
                c.access_key_id,
                c.nonce,
                c.expires_at.timestamp_micros()
            ])
            .map_err(map_err)?;
    }
    // Expired by the clock of the latest claim (the callers' clock, as for the claims).
    let Some(now) = claims.iter().map(|c| c.now).max() else {
        return Ok(());
    };
    let purge_limit = i64::try_from(claims.len()).unwrap_or(i64::MAX / 2) * 2 + 64;
    conn.prepare_cached(
        "DELETE FROM nonces WHERE rowid IN
             (SELECT rowid FROM nonces WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
    )
    .and_then(|mut st| st.execute(params![now.timestamp_micros(), purge_limit]))
    .map_err(map_err)?;
    Ok(())
}

/// The job that writes unsaved claims. Nobody waits for its result; if its batch fails,
/// its claims go back to be written by the next flush.
struct Flush {
    state: Arc<Mutex<State>>,
    /// The claims this job writes. Kept across runs: a batch that is run again (its
    /// transaction was lost) writes them again.
    taken: Vec<Unsaved>,
    failure: Option<StoreError>,
    /// It has run at least once, and so has cleared `flush_queued`.
    ran: bool,
}

impl Job for Flush {
    fn mode(&self) -> Mode {
        Mode::Write
    }

    fn deferrable(&self) -> bool {
        true
    }

    fn run(&mut self, conn: &Connection) -> Ran {
        {
            let mut state = lock(&self.state);
            // Claims made from here on queue a new flush.
            state.flush_queued = false;
            self.taken.append(&mut state.unsaved);
        }
        self.ran = true;
        let written = catch_unwind(AssertUnwindSafe(|| write_claims(conn, &self.taken)));
        match written {
            Ok(Ok(())) => {
                self.failure = None;
                Ran::Ok
            }
            Ok(Err(err)) => {
                self.failure = Some(err);
                Ran::Failed
            }
            Err(payload) => {
                self.failure = Some(StoreError::Other(format!(
                    "nonce flush panicked: {}",
                    panic_message(payload.as_ref())
                )));
                Ran::Panicked
            }
        }
    }

    fn fail(&mut self, err: StoreError) {
        self.failure = Some(err);
    }

    fn deliver(mut self: Box<Self>) {
        if self.failure.is_none() {
            self.taken.clear();
        }
        // A failure's claims go back in `Drop`.
    }
}

impl Drop for Flush {
    /// Claims this job holds but did not write (its batch failed, or the job was dropped
    /// unrun or half-way, as when the writer thread stops) go back to be written by the
    /// next claim's flush, those still live at least; memory refuses them meanwhile either
    /// way. A job that never ran leaves `flush_queued` set: clear it, or no flush would
    /// ever be queued again.
    fn drop(&mut self) {
        if self.ran && self.taken.is_empty() {
            return;
        }
        let taken = std::mem::take(&mut self.taken);
        // Expired by the clock of the latest claim, as in `write_claims`.
        let now = taken.iter().map(|c| c.now).max();
        let mut state = lock(&self.state);
        if !self.ran {
            state.flush_queued = false;
        }
        state
            .unsaved
            .extend(taken.into_iter().filter(|c| now < Some(c.expires_at)));
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use secgroup_domain::contract::at;
    use secgroup_domain::{Store, Tx};

    use super::*;
    use crate::SqliteStore;

    fn raw_nonces(path: &std::path::Path) -> i64 {
        let conn = Connection::open(path).expect("raw open");
        conn.query_row("SELECT COUNT(*) FROM nonces", [], |r| r.get(0))
            .expect("count")
    }

    #[tokio::test]
    async fn a_claimed_nonce_is_refused_after_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sg.db");
        let now = Utc::now();
        let expires = now + Duration::minutes(15);
        let store = SqliteStore::open(&path).expect("open");
        assert_eq!(
            store.claim_nonce("LTAI1", "n-1", expires, now).await,
            Ok(true)
        );
        assert_eq!(
            store.claim_nonce("LTAI1", "n-2", expires, now).await,
            Ok(true)
        );
        // Already expired when the store reopens: not loaded, accepted again.
        let short = now + Duration::milliseconds(1);
        assert_eq!(
            store.claim_nonce("LTAI1", "n-3", short, now).await,
            Ok(true)
        );
        assert_eq!(
            store.claim_nonce("LTAI1", "n-1", expires, now).await,
            Ok(false)
        );
        // Closing runs what is queued, the nonces' rows included.
        drop(store);
        assert_eq!(raw_nonces(&path), 3);

        std::thread::sleep(std::time::Duration::from_millis(5));
        let later = Utc::now();
        let store = SqliteStore::open(&path).expect("reopen");
        let again =
            |n: &'static str| store.claim_nonce("LTAI1", n, later + Duration::minutes(15), later);
        assert_eq!(again("n-1").await, Ok(false), "refused after reopening");
        assert_eq!(again("n-2").await, Ok(false), "refused after reopening");
        assert_eq!(again("n-3").await, Ok(true), "expired before reopening");
        assert_eq!(again("n-4").await, Ok(true), "never claimed");
        assert_eq!(
            store.claim_nonce("LTAI2", "n-1", expires, later).await,
            Ok(true),
            "another key"
        );
    }

    #[tokio::test]
    async fn claims_reach_the_table_without_waiting_for_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sg.db");
        let store = SqliteStore::open(&path).expect("open");
        for i in 0..500 {
            let claimed = store
                .claim_nonce("LTAI1", &format!("n-{i}"), at(100, 0), at(0, 0))
                .await;
            assert_eq!(claimed, Ok(true));
        }
        // Any write queued after the claims commits after them.
        store
            .write(|tx| tx.count_access_keys())
            .await
            .expect("write");
        assert_eq!(raw_nonces(&path), 500);
    }

    /// The store with the trait's default `claim_nonce` (a write transaction per claim).
    struct Durable(SqliteStore);

    impl Store for Durable {
        fn write<T, E, F>(&self, f: F) -> impl std::future::Future<Output = Result<T, E>> + Send
        where
            T: Send + 'static,
            E: secgroup_domain::TxError + Send + 'static,
            F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
        {
            self.0.write(f)
        }

        fn read<T, E, F>(&self, f: F) -> impl std::future::Future<Output = Result<T, E>> + Send
        where
            T: Send + 'static,
            E: secgroup_domain::TxError + Send + 'static,
            F: FnMut(&mut dyn Tx) -> Result<T, E> + Send + 'static,
        {
            self.0.read(f)
        }
    }

    /// The in-memory answers agree with the durable ones they replace.
    #[tokio::test]
    async fn the_contract_holds_for_the_default_claim_too() {
        let open = || SqliteStore::open_in_memory().expect("open");
        secgroup_domain::contract::nonce_claims(Durable(open())).await;
        secgroup_domain::contract::nonce_claims(open()).await;
    }

    fn cache() -> (NonceCache, Connection) {
        let mut conn = crate::conn::open_writer(&crate::conn::Location::Memory).expect("open");
        crate::migrate::migrate(&mut conn).expect("migrate");
        (NonceCache::load(&conn, at(0, 0)).expect("load"), conn)
    }

    fn fresh_flush(claimed: Claimed) -> Option<Box<dyn Job>> {
        match claimed {
            Claimed::Fresh(flush) => flush,
            Claimed::Replay => panic!("refused as a replay"),
        }
    }

    fn unsaved(cache: &NonceCache) -> usize {
        lock(&cache.state).unsaved.len()
    }

    #[test]
    fn a_lost_or_failed_flush_hands_its_claims_to_the_next() {
        let (cache, conn) = cache();
        let claim = |n: &str| cache.claim("LTAI1", n, at(100, 0), at(0, 0));
        // One flush at a time: the second claim joins the first's.
        let first = fresh_flush(claim("n-1")).expect("a flush is queued");
        assert!(fresh_flush(claim("n-2")).is_none());
        // Dropped unrun (the writer stopped): the next claim queues a flush again.
        drop(first);
        assert_eq!(unsaved(&cache), 2);
        let mut second = fresh_flush(claim("n-3")).expect("a flush is queued again");
        // Its batch fails (here: no table to write to): the claims wait for the next one.
        conn.execute_batch("ALTER TABLE nonces RENAME TO gone")
            .expect("rename");
        assert_eq!(second.run(&conn), Ran::Failed);
        assert_eq!(unsaved(&cache), 0, "taken by the flush");
        second.deliver();
        assert_eq!(unsaved(&cache), 3);
        conn.execute_batch("ALTER TABLE gone RENAME TO nonces")
            .expect("rename back");
        let mut third = fresh_flush(claim("n-4")).expect("a flush is queued");
        assert_eq!(third.run(&conn), Ran::Ok);
        third.deliver();
        assert_eq!(unsaved(&cache), 0);
        let rows: i64 = conn
            .query_row("SELECT COUNT(*) FROM nonces", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 4);
        assert!(matches!(claim("n-1"), Claimed::Replay));
    }

    #[test]
    fn buckets_are_dropped_whole_once_expired() {
        let mut state = State::default();
        let minute = |m: i64| m * BUCKET_MICROS;
        state.insert(Fingerprint(1, 1), minute(10) + 5);
        state.insert(Fingerprint(2, 2), minute(10) + BUCKET_MICROS - 1);
        state.insert(Fingerprint(3, 3), minute(11));
        assert_eq!(state.buckets.len(), 2);
        state.prune(minute(11) - 1);
        assert_eq!(state.buckets.len(), 2, "minute 10 still has a live nonce");
        assert!(!state.is_live(Fingerprint(1, 1), minute(11) - 1));
        assert!(state.is_live(Fingerprint(2, 2), minute(11) - 2));
        state.prune(minute(11));
        assert_eq!(state.buckets.len(), 1);
        assert!(state.is_live(Fingerprint(3, 3), minute(11) - 1));
        assert!(!state.is_live(Fingerprint(3, 3), minute(11)));
    }
}
