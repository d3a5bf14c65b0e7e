//! Nonce claims answered from memory, persisted without making the request wait.
//!
//! Every signed request claims its `SignatureNonce`. As a plain write that would cost each
//! request a trip to the writer thread and a wait for the group commit's sync, although
//! the answer only depends on what this process has already seen. So [`NonceCache`] keeps
//! every live nonce in memory and answers from there; a newly claimed nonce is also handed
//! to the writer thread, whose next batch records it (a synced commit, like any other),
//! but the request does not wait for that commit. When the store opens, the unexpired
//! records are loaded back into memory.
//!
//! A flush records all the claims it takes as ONE row of `nonce_batches`: a blob of
//! 128-bit fingerprints with their expiries, appended at the end of the table, and deleted
//! whole once every nonce in it has expired. (One upsert per nonce into a table keyed by
//! the nonce made every request dirty its own random B-tree pages: about a quarter of the
//! server's CPU under a read load went there.) The fingerprint is a SipHash-1-3-128 of
//! (AccessKeyId, nonce) under a random key kept in the database (`nonce_key`), so the same
//! fingerprints are comparable after a restart, and collisions cannot be aimed at without
//! the file. Rows of the older `nonces` table (written by
//! [`Tx::claim_nonce`](secgroup_domain::AccountsTx::claim_nonce), or before this format) are
//! loaded too.
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
//! And a nonce recorded through [`Tx::claim_nonce`](secgroup_domain::AccountsTx::claim_nonce)
//! directly is not in memory: nonce checks must go through
//! [`Store::claim_nonce`](secgroup_domain::Store::claim_nonce), as the server's do.
//!
//! Memory stays bounded by the nonces still live: they are kept in buckets by minute of
//! expiry, and a bucket whose every nonce has expired is dropped whole (O(1) pruning).

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use secgroup_domain::StoreError;
use siphasher::sip128::{Hasher128, SipHasher13};

use crate::error::map_err;
use crate::job::{panic_message, Job, Mode, Ran};

/// The width of one expiry bucket: one minute, in microseconds. With the default 15
/// minutes of clock skew, live nonces expire within the next 30 minutes: about 31 buckets.
const BUCKET_MICROS: i64 = 60_000_000;

/// Bytes per nonce in a `nonce_batches` blob: two fingerprint words and the expiry.
const ENTRY_BYTES: usize = 24;

/// Rows of the older `nonces` table deleted per flush at most, once expired: that table
/// only grows through `Tx::claim_nonce`, which purges after itself too.
const LEGACY_PURGE: i64 = 64;

/// (AccessKeyId, nonce) as a keyed 128-bit hash: collisions are as unlikely as 128 random
/// bits make them, and cannot be aimed at without the database's key.
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

/// A claim waiting to be recorded: its fingerprint and expiry (unix µs).
type Unsaved = (Fingerprint, i64);

#[derive(Default)]
struct State {
    /// By minute of expiry: each live nonce's fingerprint and exact expiry (unix µs).
    buckets: BTreeMap<i64, Bucket>,
    /// Claims no flush job has taken yet.
    unsaved: Vec<Unsaved>,
    /// The latest claim time (unix µs, the callers' clock) seen: what the flush purges by.
    latest_now: i64,
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
    /// The database's fingerprint key (`nonce_key`).
    key: (u64, u64),
    state: Arc<Mutex<State>>,
}

impl NonceCache {
    /// Loads the nonces recorded in the database that are still live at `now`.
    pub(crate) fn load(conn: &Connection, now: DateTime<Utc>) -> Result<NonceCache, StoreError> {
        let key: Vec<u8> = conn
            .query_row("SELECT key FROM nonce_key WHERE id = 1", [], |row| {
                row.get(0)
            })
            .map_err(map_err)?;
        if key.len() != 16 {
            return Err(StoreError::Other("unreadable nonce key in database".into()));
        }
        let key = (word(&key[..8]), word(&key[8..]));
        let cache = NonceCache {
            key,
            state: Arc::new(Mutex::new(State::default())),
        };
        let now_us = now.timestamp_micros();
        let mut state = lock(&cache.state);

        let mut legacy = conn
            .prepare("SELECT access_key_id, nonce, expires_at FROM nonces WHERE expires_at > ?1")
            .map_err(map_err)?;
        let mut rows = legacy.query([now_us]).map_err(map_err)?;
        while let Some(row) = rows.next().map_err(map_err)? {
            let access_key_id: String = row.get(0).map_err(map_err)?;
            let nonce: String = row.get(1).map_err(map_err)?;
            let expires_us: i64 = row.get(2).map_err(map_err)?;
            state.insert(cache.fingerprint(&access_key_id, &nonce), expires_us);
        }

        let mut batches = conn
            .prepare("SELECT nonces FROM nonce_batches WHERE expires_at > ?1")
            .map_err(map_err)?;
        let mut rows = batches.query([now_us]).map_err(map_err)?;
        while let Some(row) = rows.next().map_err(map_err)? {
            let blob = row.get_ref(0).map_err(map_err)?.as_blob().map_err(|e| {
                StoreError::Other(format!("unreadable nonce batch in database: {e}"))
            })?;
            for (fp, expires_us) in decode(blob)? {
                if expires_us > now_us {
                    state.insert(fp, expires_us);
                }
            }
        }
        drop(state);
        Ok(cache)
    }

    fn fingerprint(&self, access_key_id: &str, nonce: &str) -> Fingerprint {
        let mut h = SipHasher13::new_with_keys(self.key.0, self.key.1);
        // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        h.write(&(access_key_id.len() as u64).to_le_bytes());
        h.write(access_key_id.as_bytes());
        h.write(nonce.as_bytes());
        let hash = h.finish128();
        Fingerprint(hash.h1, hash.h2)
    }

    /// How many claimed nonces are live at `now`.
    pub(crate) fn live(&self, now: DateTime<Utc>) -> u64 {
        let now_us = now.timestamp_micros();
        let state = lock(&self.state);
        let live = state
            .buckets
            .range(now_us.div_euclid(BUCKET_MICROS)..)
            .flat_map(|(_, bucket)| bucket.values())
            .filter(|&&expires| expires > now_us)
            .count();
        live as u64
    }

    /// Claims `nonce` for `access_key_id` until `expires_at`, as
    /// [`Tx::claim_nonce`](secgroup_domain::AccountsTx::claim_nonce) would at `now`.
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
        state.unsaved.push((fp, expires_us));
        state.latest_now = state.latest_now.max(now_us);
        if state.flush_queued {
            return Claimed::Fresh(None);
        }
        state.flush_queued = true;
        Claimed::Fresh(Some(Box::new(Flush {
            state: Arc::clone(&self.state),
            taken: Vec::new(),
            now_us: i64::MIN,
            failure: None,
            ran: false,
        })))
    }
}

/// A little-endian 64-bit word; `bytes` is exactly 8 long (the callers slice it so).
fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(bytes);
    u64::from_le_bytes(w)
}

fn signed_word(bytes: &[u8]) -> i64 {
    i64::from_le_bytes(word(bytes).to_le_bytes())
}

fn encode(claims: &[Unsaved]) -> Vec<u8> {
    let mut blob = Vec::with_capacity(claims.len() * ENTRY_BYTES);
    for (fp, expires_us) in claims {
        blob.extend_from_slice(&fp.0.to_le_bytes());
        blob.extend_from_slice(&fp.1.to_le_bytes());
        blob.extend_from_slice(&expires_us.to_le_bytes());
    }
    blob
}

fn decode(blob: &[u8]) -> Result<impl Iterator<Item = Unsaved> + '_, StoreError> {
    if !blob.len().is_multiple_of(ENTRY_BYTES) {
        return Err(StoreError::Other(
            "unreadable nonce batch in database: truncated entry".into(),
        ));
    }
    Ok(blob.chunks_exact(ENTRY_BYTES).map(|e| {
        (
            Fingerprint(word(&e[..8]), word(&e[8..16])),
            signed_word(&e[16..]),
        )
    }))
}

/// Records `claims` as one `nonce_batches` row, then deletes the batches (and rows of the
/// older `nonces` table, a bounded number) that have expired by `now_us`, the latest claim
/// time of the callers' clock. Memory is what decides a claim; a record only has to be
/// there, with its expiry, for the next start.
fn write_claims(conn: &Connection, claims: &[Unsaved], now_us: i64) -> Result<(), StoreError> {
    if let Some(latest) = claims.iter().map(|(_, expires)| *expires).max() {
        conn.prepare_cached("INSERT INTO nonce_batches (expires_at, nonces) VALUES (?1, ?2)")
            .and_then(|mut st| st.execute(params![latest, encode(claims)]))
            .map_err(map_err)?;
    }
    conn.prepare_cached("DELETE FROM nonce_batches WHERE expires_at <= ?1")
        .and_then(|mut st| st.execute([now_us]))
        .map_err(map_err)?;
    conn.prepare_cached(
        "DELETE FROM nonces WHERE rowid IN
             (SELECT rowid FROM nonces WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
    )
    .and_then(|mut st| st.execute(params![now_us, LEGACY_PURGE]))
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
    /// The latest claim time among them (unix µs).
    now_us: i64,
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
            self.now_us = self.now_us.max(state.latest_now);
        }
        self.ran = true;
        let written = catch_unwind(AssertUnwindSafe(|| {
            write_claims(conn, &self.taken, self.now_us)
        }));
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
        let now_us = self.now_us;
        let mut state = lock(&self.state);
        if !self.ran {
            state.flush_queued = false;
        }
        state
            .unsaved
            .extend(taken.into_iter().filter(|(_, expires)| *expires > now_us));
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use secgroup_domain::contract::at;
    use secgroup_domain::{Store, Tx};

    use super::*;
    use crate::SqliteStore;

    /// Nonces recorded in batch rows, as a fresh connection sees them.
    fn recorded(conn: &Connection) -> i64 {
        conn.query_row(
            "SELECT COALESCE(SUM(length(nonces)), 0) / 24 FROM nonce_batches",
            [],
            |r| r.get(0),
        )
        .expect("count")
    }

    fn raw_nonces(path: &std::path::Path) -> i64 {
        recorded(&Connection::open(path).expect("raw open"))
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

    /// A nonce recorded by `Tx::claim_nonce` (the `nonces` table, as every nonce was before
    /// batch rows) is refused after a restart too.
    #[tokio::test]
    async fn rows_of_the_older_table_are_loaded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sg.db");
        let now = Utc::now();
        let expires = now + Duration::minutes(15);
        let store = SqliteStore::open(&path).expect("open");
        store
            .write(move |tx| tx.claim_nonce("LTAI1", "old", expires, now))
            .await
            .expect("durable claim");
        drop(store);
        let store = SqliteStore::open(&path).expect("reopen");
        assert_eq!(
            store.claim_nonce("LTAI1", "old", expires, now).await,
            Ok(false)
        );
        assert_eq!(
            store.claim_nonce("LTAI1", "new", expires, now).await,
            Ok(true)
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
        // Far fewer rows than nonces: one per flush.
        let rows: i64 = Connection::open(&path)
            .expect("raw open")
            .query_row("SELECT COUNT(*) FROM nonce_batches", [], |r| r.get(0))
            .expect("count");
        assert!(rows < 500, "{rows} rows");
    }

    /// The store with a durable `claim_nonce`: [`Tx::claim_nonce`](secgroup_domain::AccountsTx::claim_nonce) in a write transaction
    /// per claim.
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

        fn claim_nonce(
            &self,
            access_key_id: &str,
            nonce: &str,
            expires_at: DateTime<Utc>,
            now: DateTime<Utc>,
        ) -> impl std::future::Future<Output = Result<bool, StoreError>> + Send {
            let (id, nonce) = (access_key_id.to_owned(), nonce.to_owned());
            self.0
                .write(move |tx| tx.claim_nonce(&id, &nonce, expires_at, now))
        }

        fn record_agent_status(
            &self,
            report: secgroup_domain::AgentReport,
        ) -> impl std::future::Future<Output = Result<(), StoreError>> + Send {
            self.0.record_agent_status(report)
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
        conn.execute_batch("ALTER TABLE nonce_batches RENAME TO gone")
            .expect("rename");
        assert_eq!(second.run(&conn), Ran::Failed);
        assert_eq!(unsaved(&cache), 0, "taken by the flush");
        second.deliver();
        assert_eq!(unsaved(&cache), 3);
        conn.execute_batch("ALTER TABLE gone RENAME TO nonce_batches")
            .expect("rename back");
        let mut third = fresh_flush(claim("n-4")).expect("a flush is queued");
        assert_eq!(third.run(&conn), Ran::Ok);
        third.deliver();
        assert_eq!(unsaved(&cache), 0);
        assert_eq!(recorded(&conn), 4);
        assert!(matches!(claim("n-1"), Claimed::Replay));
    }

    /// A batch row goes once its latest nonce has expired, not before.
    #[test]
    fn expired_batches_are_deleted_whole() {
        let (cache, conn) = cache();
        let flush = |n: &str, expires: i64, now: i64| {
            let mut job = fresh_flush(cache.claim("LTAI1", n, at(expires, 0), at(now, 0)))
                .expect("a flush is queued");
            assert_eq!(job.run(&conn), Ran::Ok);
            job.deliver();
        };
        flush("a", 10, 0);
        flush("b", 20, 0);
        assert_eq!(recorded(&conn), 2);
        flush("c", 100, 10);
        assert_eq!(recorded(&conn), 2, "the batch of a, expired at 10, is gone");
        flush("d", 100, 19);
        assert_eq!(recorded(&conn), 3, "b's expires at 20");
    }

    #[test]
    fn blobs_round_trip_and_refuse_a_truncated_entry() {
        let claims = [
            (Fingerprint(1, u64::MAX), -5),
            (Fingerprint(7, 8), i64::MAX),
        ];
        let blob = encode(&claims);
        assert_eq!(blob.len(), 2 * ENTRY_BYTES);
        let back: Vec<Unsaved> = decode(&blob).expect("decodes").collect();
        assert_eq!(back, claims);
        assert!(decode(&blob[..30]).is_err());
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
