//! The change revision: bumped by one by every committed write, by nothing else, global,
//! monotonic across reopening, and visible as soon as a write has returned.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{at, group, read, write};
use crate::ids::AccountId;
use crate::store::{Store, StoreError};

/// The latest committed revision; panics if it cannot be read.
async fn latest<S: Store>(store: &S) -> u64 {
    store.revision().await.expect("revision")
}

/// Every committed write bumps the revision by one; `revision()` right after the write
/// has returned includes it, and agrees with [`Tx::revision`](crate::RevisionTx::revision) in a
/// read. Inside a write, `Tx::revision` is the revision it started from. A write that
/// changes nothing still counts, and so does a write in another account: the revision is
/// one counter for the whole store.
pub async fn revision_bumps_on_commit<S: Store>(store: S) {
    let r0 = latest(&store).await;
    assert_eq!(read(&store, |tx| tx.revision()).await, r0, "read agrees");
    let seen = write(&store, |tx| {
        tx.insert_account(&AccountId::from("acct-1"), true, at(0, 0))?;
        tx.revision()
    })
    .await;
    assert_eq!(seen, r0, "a write sees the revision it started from");
    assert_eq!(
        latest(&store).await,
        r0 + 1,
        "visible once the write returned"
    );
    assert_eq!(
        read(&store, |tx| tx.revision()).await,
        r0 + 1,
        "read agrees"
    );

    let g = group("acct-1", "cn-hangzhou", "sg-1", 0);
    write(&store, move |tx| tx.insert_security_group(&g)).await;
    assert_eq!(latest(&store).await, r0 + 2);
    // Another account: the same counter.
    write(&store, |tx| {
        tx.insert_account(&AccountId::from("acct-2"), false, at(0, 0))
    })
    .await;
    assert_eq!(
        latest(&store).await,
        r0 + 3,
        "one revision for every account"
    );
    // A write closure that happens to change nothing is still a committed write.
    write(&store, |tx| tx.count_access_keys()).await;
    assert_eq!(latest(&store).await, r0 + 4, "every committed write counts");
    let seen = write(&store, |tx| tx.revision()).await;
    assert_eq!(seen, r0 + 4);
    // Reads never bump it.
    for _ in 0..3 {
        read(&store, |tx| tx.default_account()).await;
    }
    assert_eq!(latest(&store).await, r0 + 5);
}

/// A write that fails, returns a store error of its own, or panics leaves the revision
/// as it was; one that conflicts and then succeeds bumps it once.
pub async fn revision_unchanged_on_rollback<S: Store>(store: S) {
    write(&store, |tx| {
        tx.insert_account(&AccountId::from("acct-1"), true, at(0, 0))
    })
    .await;
    let r0 = latest(&store).await;

    let failed = store
        .write(|tx| {
            tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-f", 0))?;
            Err::<(), _>(StoreError::Other("boom".to_owned()))
        })
        .await;
    assert_eq!(failed, Err(StoreError::Other("boom".to_owned())));
    assert_eq!(latest(&store).await, r0, "a failed write bumps nothing");

    // The schema refuses the write: the closure hands the duplicate back.
    let duplicate = store
        .write(|tx| tx.insert_account(&AccountId::from("acct-1"), false, at(0, 0)))
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Duplicate(_))),
        "{duplicate:?}"
    );
    assert_eq!(latest(&store).await, r0, "a refused write bumps nothing");

    let panicked = store
        .write(|tx| {
            tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-p", 0))?;
            if tx.default_account()?.is_some() {
                panic!("contract: deliberate panic inside a write closure");
            }
            Ok::<(), StoreError>(())
        })
        .await;
    assert!(
        matches!(panicked, Err(StoreError::Other(_))),
        "{panicked:?}"
    );
    assert_eq!(latest(&store).await, r0, "a panicked write bumps nothing");

    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let retried = store
        .write(move |tx| {
            let run = counter.fetch_add(1, Ordering::SeqCst);
            tx.insert_security_group(&group("acct-1", "cn-hangzhou", "sg-r", 0))?;
            if run == 0 {
                return Err(StoreError::Conflict("try again".to_owned()));
            }
            tx.revision()
        })
        .await;
    assert_eq!(runs.load(Ordering::SeqCst), 2, "run twice");
    assert_eq!(
        retried,
        Ok(r0),
        "the kept run started from the same revision"
    );
    assert_eq!(latest(&store).await, r0 + 1, "a retried write bumps once");
}

/// Nonce claims, fresh or replayed, are not changes of state: no bump.
pub async fn revision_ignores_nonce_claims<S: Store>(store: S) {
    write(&store, |tx| {
        tx.insert_account(&AccountId::from("acct-1"), true, at(0, 0))
    })
    .await;
    let r0 = latest(&store).await;
    for (nonce, fresh) in [("n-1", true), ("n-2", true), ("n-1", false)] {
        let claimed = store
            .claim_nonce("LTAI1", nonce, at(900, 0), at(0, 0))
            .await
            .expect("claim_nonce");
        assert_eq!(claimed, fresh, "{nonce}");
    }
    assert_eq!(latest(&store).await, r0, "nonce claims bump nothing");
}

/// Writers racing each bump the revision once, each starting from a revision of its own:
/// the writes are serialized, and the revision counts them.
pub async fn revision_concurrent_writers_each_bump_once<S: Store>(store: S) {
    write(&store, |tx| {
        tx.insert_account(&AccountId::from("acct-1"), true, at(0, 0))
    })
    .await;
    let store = Arc::new(store);
    let r0 = latest(&*store).await;
    const WRITERS: u64 = 16;
    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let g = group("acct-1", "cn-hangzhou", &format!("sg-{i:02}"), 0);
                let started = write(&*store, move |tx| {
                    tx.insert_security_group(&g)?;
                    tx.revision()
                })
                .await;
                let after = latest(&*store).await;
                assert!(after > started, "sees its own write: {after} > {started}");
                started
            })
        })
        .collect();
    let mut starts = BTreeSet::new();
    for task in tasks {
        starts.insert(task.await.expect("task"));
    }
    let expected: BTreeSet<u64> = (r0..r0 + WRITERS).collect();
    assert_eq!(
        starts, expected,
        "each write started from a revision of its own"
    );
    assert_eq!(latest(&*store).await, r0 + WRITERS, "one bump per write");
}

/// The revision never goes backwards when the store is closed and opened again. `open`
/// opens the same database each time it is called.
pub async fn revision_survives_reopening<S: Store>(open: impl Fn() -> S) {
    let store = open();
    write(&store, |tx| {
        tx.insert_account(&AccountId::from("acct-1"), true, at(0, 0))
    })
    .await;
    for i in 0..3 {
        let g = group("acct-1", "cn-hangzhou", &format!("sg-{i}"), i);
        write(&store, move |tx| tx.insert_security_group(&g)).await;
    }
    let before = latest(&store).await;
    assert!(before >= 4, "{before}");
    drop(store);

    let store = open();
    assert_eq!(latest(&store).await, before, "kept across reopening");
    write(&store, |tx| {
        tx.insert_account(&AccountId::from("acct-2"), false, at(0, 0))
    })
    .await;
    assert_eq!(latest(&store).await, before + 1, "and goes on from there");
    drop(store);

    let store = open();
    assert_eq!(latest(&store).await, before + 1);
}
