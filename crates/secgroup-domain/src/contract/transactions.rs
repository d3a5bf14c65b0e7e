//! Transactions: atomicity, retry on conflict, panics, concurrency.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{at, get_tags, group, key, list_ids, read, tag, write, SG};
use crate::ids::{AccountId, SecurityGroupId};
use crate::model::ClientTokenRecord;
use crate::store::{Store, StoreError, Tx, TxError};

/// An error of the caller's own, as the operations use: the store must rely on
/// [`TxError`], not on the type being [`StoreError`].
#[derive(Debug, PartialEq)]
enum AppError {
    Store(StoreError),
    Invalid(&'static str),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Store(e)
    }
}

impl TxError for AppError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            AppError::Store(e) => Some(e),
            AppError::Invalid(_) => None,
        }
    }
}

fn write_everything(tx: &mut dyn Tx, tag_value: &str) -> Result<(), StoreError> {
    tx.insert_account(&AccountId::from("acct-9"), true, at(0, 0))?;
    tx.insert_access_key(&key("LTAI9", "acct-9", 0))?;
    tx.claim_nonce("LTAI9", "n", at(100, 0), at(0, 0))?;
    tx.insert_security_group(&group("acct-9", "cn-hangzhou", "sg-9", 0))?;
    tx.set_tags(
        &AccountId::from("acct-9"),
        SG,
        "sg-9",
        &[tag("k", tag_value)],
    )?;
    tx.insert_client_token(&ClientTokenRecord {
        account_id: "acct-9".to_owned(),
        token: "t".to_owned(),
        fingerprint: "f".to_owned(),
        result: "{}".to_owned(),
        created_at: at(0, 0),
    })
}

async fn assert_nothing_written<S: Store>(store: &S) {
    let seen = read(store, |tx| {
        Ok((
            tx.default_account()?,
            tx.access_key("LTAI9")?.is_some(),
            tx.security_group(&AccountId::from("acct-9"), &SecurityGroupId::from("sg-9"))?
                .is_some(),
            tx.tags(&AccountId::from("acct-9"), SG, "sg-9")?.len(),
            tx.client_token(&AccountId::from("acct-9"), "t")?.is_some(),
            tx.count_access_keys()?,
        ))
    })
    .await;
    assert_eq!(seen, (None, false, false, 0, false, 0), "rolled back");
}

pub async fn failed_write_leaves_nothing<S: Store>(store: S) {
    let failed = store
        .write(|tx| {
            write_everything(tx, "v")?;
            Err::<(), _>(StoreError::Other("boom".to_owned()))
        })
        .await;
    assert_eq!(failed, Err(StoreError::Other("boom".to_owned())));
    assert_nothing_written(&store).await;

    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let failed = store
        .write(move |tx| {
            counter.fetch_add(1, Ordering::SeqCst);
            write_everything(tx, "v")?;
            Err::<(), _>(AppError::Invalid("no"))
        })
        .await;
    assert_eq!(failed, Err(AppError::Invalid("no")));
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "a non-conflict error is not retried"
    );
    assert_nothing_written(&store).await;
    let claimed = write(&store, |tx| {
        tx.claim_nonce("LTAI9", "n", at(100, 0), at(0, 0))
    })
    .await;
    assert!(claimed, "nonce of the failed transaction was not kept");
}

pub async fn conflicts_are_retried<S: Store>(store: S) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let value = store
        .write(move |tx| {
            let run = counter.fetch_add(1, Ordering::SeqCst);
            write_everything(tx, &format!("run-{run}"))?;
            if run == 0 {
                return Err(AppError::Store(StoreError::Conflict(
                    "try again".to_owned(),
                )));
            }
            Ok(run)
        })
        .await;
    assert_eq!(value, Ok(1));
    assert_eq!(runs.load(Ordering::SeqCst), 2, "run twice");
    // Only the second run's writes are kept (the first run's would be a duplicate).
    assert_eq!(
        get_tags(&store, "acct-9", "sg-9").await,
        [tag("k", "run-1")]
    );

    // A conflict that never clears is retried a bounded number of times, then returned.
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&runs);
    let failed = store
        .write(move |_tx| {
            counter.fetch_add(1, Ordering::SeqCst);
            Err::<(), _>(StoreError::Conflict("forever".to_owned()))
        })
        .await;
    assert!(matches!(failed, Err(StoreError::Conflict(_))), "{failed:?}");
    let n = runs.load(Ordering::SeqCst);
    assert!(
        (2..=100).contains(&n),
        "retried a bounded number of times: {n}"
    );
}

pub async fn panics_become_errors<S: Store>(store: S) {
    let failed = store
        .write(|tx| {
            tx.insert_account(&AccountId::from("acct-p"), false, at(0, 0))?;
            if tx.default_account()?.is_none() {
                panic!("contract: deliberate panic inside a write closure");
            }
            Ok::<(), StoreError>(())
        })
        .await;
    assert!(matches!(failed, Err(StoreError::Other(_))), "{failed:?}");
    let failed = store
        .read(|_tx| -> Result<(), StoreError> {
            panic!("contract: deliberate panic inside a read closure")
        })
        .await;
    assert!(matches!(failed, Err(StoreError::Other(_))), "{failed:?}");
    // The store still works, and the panicked write left nothing.
    write(&store, |tx| {
        tx.insert_account(&AccountId::from("acct-p"), false, at(0, 0))
    })
    .await;
}

pub async fn concurrent_writes<S: Store>(store: S) {
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let g = group("acct-1", "cn-hangzhou", &format!("sg-{i:02}"), i);
            write(&*store, move |tx| {
                tx.insert_security_group(&g)?;
                tx.set_tags(&AccountId::from("acct-1"), SG, &g.id, &[tag("n", &g.id)])
            })
            .await;
            list_ids(&*store, "acct-1", "cn-hangzhou").await.len()
        }));
    }
    for task in tasks {
        let seen = task.await.expect("task");
        assert!(
            (1..=16).contains(&seen),
            "a reader sees its own committed write"
        );
    }
    let ids = list_ids(&*store, "acct-1", "cn-hangzhou").await;
    assert_eq!(ids.len(), 16);
    let all = read(&*store, |tx| tx.all_tags(&AccountId::from("acct-1"), SG)).await;
    for id in &ids {
        assert_eq!(all.get(id), Some(&vec![tag("n", id)]));
    }
}
