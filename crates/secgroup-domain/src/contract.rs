//! The storage contract: cases every [`Store`] backend must pass, written only against the
//! traits. A backend's tests call [`run_all`] (or single cases) with a factory that makes
//! a fresh, empty store for each case. Failures panic, as test assertions do.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::{
    AccessKeyRecord, ClientTokenRecord, InnerAccessPolicy, ResourceType, SecurityGroup,
    SecurityGroupType, Tag,
};
use crate::store::{Store, StoreError, Tx, TxError};

const SG: ResourceType = ResourceType::SecurityGroup;

/// Runs every case, each on a store of its own from `make`.
pub async fn run_all<S: Store>(make: impl Fn() -> S) {
    accounts_and_keys(make()).await;
    default_account(make()).await;
    nonces(make()).await;
    groups_insert_get_list(make()).await;
    groups_update(make()).await;
    groups_delete_removes_tags(make()).await;
    account_isolation(make()).await;
    tags_order_and_replace(make()).await;
    client_tokens(make()).await;
    failed_write_leaves_nothing(make()).await;
    conflicts_are_retried(make()).await;
    panics_become_errors(make()).await;
    concurrent_writes(make()).await;
}

// ---- helpers ----

/// A fixed instant, `secs` after 2023-11-14T22:13:20Z, with `micros` (portable precision).
pub fn at(secs: i64, micros: u32) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + secs, micros * 1_000).expect("time in range")
}

pub fn group(account: &str, region: &str, id: &str, secs: i64) -> SecurityGroup {
    SecurityGroup {
        id: id.to_owned(),
        account_id: account.to_owned(),
        region_id: region.to_owned(),
        name: format!("name-{id}"),
        description: format!("about {id}"),
        group_type: SecurityGroupType::Normal,
        inner_access_policy: InnerAccessPolicy::Accept,
        vpc_id: format!("vpc-{id}"),
        resource_group_id: String::new(),
        creation_time: at(secs, 0),
    }
}

pub fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

/// Runs `f` in a write transaction; panics if it fails.
async fn write<S: Store, T: Send + 'static>(
    store: &S,
    f: impl FnMut(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
) -> T {
    store.write(f).await.expect("write transaction failed")
}

/// Runs `f` in a read transaction; panics if it fails.
async fn read<S: Store, T: Send + 'static>(
    store: &S,
    f: impl FnMut(&mut dyn Tx) -> Result<T, StoreError> + Send + 'static,
) -> T {
    store.read(f).await.expect("read transaction failed")
}

async fn insert_group<S: Store>(store: &S, g: &SecurityGroup) {
    let g = g.clone();
    write(store, move |tx| tx.insert_security_group(&g)).await;
}

async fn get_group<S: Store>(store: &S, account: &str, id: &str) -> Option<SecurityGroup> {
    let (account, id) = (account.to_owned(), id.to_owned());
    read(store, move |tx| tx.security_group(&account, &id)).await
}

async fn list_ids<S: Store>(store: &S, account: &str, region: &str) -> Vec<String> {
    let (account, region) = (account.to_owned(), region.to_owned());
    let groups = read(store, move |tx| tx.security_groups(&account, &region)).await;
    groups.into_iter().map(|g| g.id).collect()
}

async fn get_tags<S: Store>(store: &S, account: &str, id: &str) -> Vec<Tag> {
    let (account, id) = (account.to_owned(), id.to_owned());
    read(store, move |tx| tx.tags(&account, SG, &id)).await
}

async fn put_tags<S: Store>(store: &S, account: &str, id: &str, tags: &[Tag]) {
    let (account, id, tags) = (account.to_owned(), id.to_owned(), tags.to_vec());
    write(store, move |tx| tx.set_tags(&account, SG, &id, &tags)).await;
}

fn key(id: &str, account: &str, secs: i64) -> AccessKeyRecord {
    AccessKeyRecord {
        access_key_id: id.to_owned(),
        secret: format!("secret-of-{id}"),
        account_id: account.to_owned(),
        created_at: at(secs, 250_001),
    }
}

// ---- accounts, keys, nonces ----

pub async fn accounts_and_keys<S: Store>(store: S) {
    let k = key("LTAI1", "acct-1", 5);
    let k2 = k.clone();
    write(&store, move |tx| {
        tx.insert_account("acct-1", false, at(0, 0))?;
        tx.insert_access_key(&k2)
    })
    .await;
    let (found, missing, count) = read(&store, |tx| {
        Ok((
            tx.access_key("LTAI1")?,
            tx.access_key("LTAI-none")?,
            tx.count_access_keys()?,
        ))
    })
    .await;
    assert_eq!(found, Some(k.clone()), "access key round trip");
    assert_eq!(found.map(|k| k.secret), Some("secret-of-LTAI1".to_owned()));
    assert_eq!(missing, None);
    assert_eq!(count, 1);

    let dup_key = k.clone();
    let again = store.write(move |tx| tx.insert_access_key(&dup_key)).await;
    assert!(
        matches!(again, Err(StoreError::Duplicate(_))),
        "duplicate key: {again:?}"
    );
    let again = store
        .write(|tx| tx.insert_account("acct-1", false, at(1, 0)))
        .await;
    assert!(
        matches!(again, Err(StoreError::Duplicate(_))),
        "duplicate account: {again:?}"
    );

    let k3 = key("LTAI2", "acct-1", 6);
    write(&store, move |tx| tx.insert_access_key(&k3)).await;
    assert_eq!(read(&store, |tx| tx.count_access_keys()).await, 2);
}

pub async fn default_account<S: Store>(store: S) {
    assert_eq!(read(&store, |tx| tx.default_account()).await, None);
    write(&store, |tx| tx.insert_account("plain", false, at(0, 0))).await;
    assert_eq!(read(&store, |tx| tx.default_account()).await, None);
    write(&store, |tx| tx.insert_account("main", true, at(1, 0))).await;
    assert_eq!(
        read(&store, |tx| tx.default_account()).await,
        Some("main".to_owned())
    );
}

pub async fn nonces<S: Store>(store: S) {
    let (k1, k2) = (key("LTAI1", "acct-1", 0), key("LTAI2", "acct-1", 0));
    write(&store, move |tx| {
        tx.insert_account("acct-1", false, at(0, 0))?;
        tx.insert_access_key(&k1)?;
        tx.insert_access_key(&k2)
    })
    .await;
    let claim = |k: &str, n: &str, expires: i64, now: i64| {
        let (k, n) = (k.to_owned(), n.to_owned());
        write(&store, move |tx| {
            tx.claim_nonce(&k, &n, at(expires, 0), at(now, 0))
        })
    };
    assert!(claim("LTAI1", "n1", 300, 0).await, "first use");
    assert!(!claim("LTAI1", "n1", 400, 10).await, "replay while live");
    assert!(
        !claim("LTAI1", "n1", 400, 299).await,
        "replay just before expiry"
    );
    assert!(claim("LTAI1", "n2", 300, 10).await, "another nonce");
    assert!(
        claim("LTAI2", "n1", 300, 10).await,
        "same nonce, another key"
    );
    assert!(
        claim("LTAI1", "n1", 1000, 300).await,
        "expired at expires_at: reusable"
    );
    assert!(
        !claim("LTAI1", "n1", 1000, 301).await,
        "the re-claim set a new expiry"
    );
    assert!(claim("LTAI1", "n1", 2000, 1000).await, "expired again");
    // Many nonces that expire, then claims long after: a backend that purges expired
    // nonces must keep the live ones.
    for i in 0..40 {
        assert!(claim("LTAI2", &format!("bulk-{i}"), 2000 + i, 1500).await);
    }
    assert!(
        !claim("LTAI1", "n1", 3000, 1999).await,
        "still live at 1999"
    );
    assert!(
        !claim("LTAI2", "bulk-39", 3000, 2038).await,
        "still live at 2038"
    );
    assert!(claim("LTAI2", "late", 1_000_000, 999_999).await);
    assert!(
        !claim("LTAI2", "late", 1_000_001, 999_999).await,
        "live after purge"
    );
    assert!(
        claim("LTAI2", "bulk-0", 1_000_000, 999_999).await,
        "expired long ago"
    );
}

// ---- security groups ----

pub async fn groups_insert_get_list<S: Store>(store: S) {
    let ids = ["sg-c", "sg-a", "sg-b"];
    for (i, id) in ids.iter().enumerate() {
        insert_group(&store, &group("acct-1", "cn-hangzhou", id, i as i64)).await;
    }
    let mut other_region = group("acct-1", "cn-beijing", "sg-z", 10);
    other_region.group_type = SecurityGroupType::Enterprise;
    other_region.inner_access_policy = InnerAccessPolicy::Drop;
    other_region.resource_group_id = "rg-1".to_owned();
    insert_group(&store, &other_region).await;

    let got = get_group(&store, "acct-1", "sg-a").await;
    assert_eq!(
        got,
        Some(group("acct-1", "cn-hangzhou", "sg-a", 1)),
        "round trip"
    );
    let got = get_group(&store, "acct-1", "sg-z").await;
    assert_eq!(got, Some(other_region.clone()), "round trip, enterprise");
    assert_eq!(get_group(&store, "acct-1", "sg-none").await, None);

    assert_eq!(
        list_ids(&store, "acct-1", "cn-hangzhou").await,
        ids,
        "oldest first"
    );
    assert_eq!(list_ids(&store, "acct-1", "cn-beijing").await, ["sg-z"]);
    assert!(list_ids(&store, "acct-1", "cn-shanghai").await.is_empty());
    let counts = read(&store, |tx| {
        Ok((
            tx.count_security_groups("acct-1", "cn-hangzhou")?,
            tx.count_security_groups("acct-1", "cn-shanghai")?,
        ))
    })
    .await;
    assert_eq!(counts, (3, 0));

    let dup = group("acct-2", "cn-hangzhou", "sg-a", 20);
    let again = store.write(move |tx| tx.insert_security_group(&dup)).await;
    assert!(
        matches!(again, Err(StoreError::Duplicate(_))),
        "duplicate id: {again:?}"
    );
    assert_eq!(get_group(&store, "acct-2", "sg-a").await, None);
}

pub async fn groups_update<S: Store>(store: S) {
    let original = group("acct-1", "cn-hangzhou", "sg-1", 0);
    insert_group(&store, &original).await;
    let mut changed = original.clone();
    changed.name = "renamed".to_owned();
    changed.description = "new words".to_owned();
    changed.inner_access_policy = InnerAccessPolicy::Drop;
    changed.resource_group_id = "rg-9".to_owned();
    // Not mutable: must be ignored.
    changed.group_type = SecurityGroupType::Enterprise;
    changed.vpc_id = "vpc-other".to_owned();
    changed.region_id = "cn-beijing".to_owned();
    changed.creation_time = at(99, 0);
    let update = changed.clone();
    write(&store, move |tx| tx.update_security_group(&update)).await;

    let expected = SecurityGroup {
        name: changed.name,
        description: changed.description,
        inner_access_policy: changed.inner_access_policy,
        resource_group_id: changed.resource_group_id,
        ..original
    };
    assert_eq!(get_group(&store, "acct-1", "sg-1").await, Some(expected));
}

pub async fn groups_delete_removes_tags<S: Store>(store: S) {
    insert_group(&store, &group("acct-1", "cn-hangzhou", "sg-1", 0)).await;
    insert_group(&store, &group("acct-1", "cn-hangzhou", "sg-2", 1)).await;
    put_tags(&store, "acct-1", "sg-1", &[tag("env", "prod")]).await;
    put_tags(&store, "acct-1", "sg-2", &[tag("env", "dev")]).await;

    assert!(write(&store, |tx| tx.delete_security_group("acct-1", "sg-1")).await);
    assert!(!write(&store, |tx| tx.delete_security_group("acct-1", "sg-1")).await);
    assert_eq!(get_group(&store, "acct-1", "sg-1").await, None);
    assert!(
        get_tags(&store, "acct-1", "sg-1").await.is_empty(),
        "tags deleted"
    );
    assert_eq!(
        get_tags(&store, "acct-1", "sg-2").await,
        [tag("env", "dev")]
    );
    assert_eq!(list_ids(&store, "acct-1", "cn-hangzhou").await, ["sg-2"]);
    let all = read(&store, |tx| tx.all_tags("acct-1", SG)).await;
    assert!(
        all.get("sg-1").cloned().unwrap_or_default().is_empty(),
        "{all:?}"
    );

    // Recreating the id starts with no tags and lists after the survivor.
    insert_group(&store, &group("acct-1", "cn-hangzhou", "sg-1", 2)).await;
    assert!(get_tags(&store, "acct-1", "sg-1").await.is_empty());
    assert_eq!(
        list_ids(&store, "acct-1", "cn-hangzhou").await,
        ["sg-2", "sg-1"]
    );
}

pub async fn account_isolation<S: Store>(store: S) {
    let mine = group("acct-1", "cn-hangzhou", "sg-1", 0);
    insert_group(&store, &mine).await;
    put_tags(&store, "acct-1", "sg-1", &[tag("owner", "me")]).await;

    assert_eq!(get_group(&store, "acct-2", "sg-1").await, None, "get");
    assert!(
        list_ids(&store, "acct-2", "cn-hangzhou").await.is_empty(),
        "list"
    );
    let count = read(&store, |tx| {
        tx.count_security_groups("acct-2", "cn-hangzhou")
    })
    .await;
    assert_eq!(count, 0, "count");
    assert!(get_tags(&store, "acct-2", "sg-1").await.is_empty(), "tags");
    assert!(
        read(&store, |tx| tx.all_tags("acct-2", SG))
            .await
            .is_empty(),
        "all_tags"
    );

    let mut hijack = mine.clone();
    hijack.account_id = "acct-2".to_owned();
    hijack.name = "stolen".to_owned();
    // The trait does not say whether updating a missing group fails; it must not change it.
    let _ = store
        .write(move |tx| tx.update_security_group(&hijack))
        .await;
    assert!(
        !write(&store, |tx| tx.delete_security_group("acct-2", "sg-1")).await,
        "delete"
    );
    put_tags(&store, "acct-2", "sg-1", &[tag("owner", "them")]).await;

    assert_eq!(
        get_group(&store, "acct-1", "sg-1").await,
        Some(mine),
        "untouched"
    );
    assert_eq!(
        get_tags(&store, "acct-1", "sg-1").await,
        [tag("owner", "me")]
    );
    assert_eq!(
        get_tags(&store, "acct-2", "sg-1").await,
        [tag("owner", "them")]
    );
}

// ---- tags ----

pub async fn tags_order_and_replace<S: Store>(store: S) {
    let (a, id) = ("acct-1", "sg-1");
    assert!(get_tags(&store, a, id).await.is_empty());
    put_tags(
        &store,
        a,
        id,
        &[tag("k3", "3"), tag("k1", "1"), tag("k2", "2")],
    )
    .await;
    assert_eq!(
        get_tags(&store, a, id).await,
        [tag("k3", "3"), tag("k1", "1"), tag("k2", "2")]
    );

    // k1 and k3 stay in their places (k3 takes a new value), k2 goes, k4 comes last.
    put_tags(
        &store,
        a,
        id,
        &[tag("k4", "4"), tag("k1", "1"), tag("k3", "x")],
    )
    .await;
    assert_eq!(
        get_tags(&store, a, id).await,
        [tag("k3", "x"), tag("k1", "1"), tag("k4", "4")]
    );

    // A key removed and set again counts as new.
    put_tags(&store, a, id, &[tag("k1", "1")]).await;
    put_tags(&store, a, id, &[tag("k3", "y"), tag("k1", "1")]).await;
    assert_eq!(
        get_tags(&store, a, id).await,
        [tag("k1", "1"), tag("k3", "y")]
    );

    put_tags(&store, a, "sg-2", &[tag("b", ""), tag("a", "v")]).await;
    let all = read(&store, move |tx| tx.all_tags(a, SG)).await;
    let expected: HashMap<String, Vec<Tag>> = [
        ("sg-1".to_owned(), vec![tag("k1", "1"), tag("k3", "y")]),
        ("sg-2".to_owned(), vec![tag("b", ""), tag("a", "v")]),
    ]
    .into();
    assert_eq!(all, expected);

    put_tags(&store, a, id, &[]).await;
    assert!(get_tags(&store, a, id).await.is_empty(), "cleared");
    let all = read(&store, move |tx| tx.all_tags(a, SG)).await;
    assert!(
        all.get(id).cloned().unwrap_or_default().is_empty(),
        "{all:?}"
    );
    assert_eq!(all.get("sg-2").map(Vec::len), Some(2));
}

// ---- idempotence ----

pub async fn client_tokens<S: Store>(store: S) {
    let record = ClientTokenRecord {
        account_id: "acct-1".to_owned(),
        token: "tok-1".to_owned(),
        fingerprint: "fp".to_owned(),
        result: r#"{"SecurityGroupId":"sg-1"}"#.to_owned(),
        created_at: at(7, 123_456),
    };
    assert_eq!(
        read(&store, |tx| tx.client_token("acct-1", "tok-1")).await,
        None
    );
    let r = record.clone();
    write(&store, move |tx| tx.insert_client_token(&r)).await;
    let got = read(&store, |tx| tx.client_token("acct-1", "tok-1")).await;
    assert_eq!(got, Some(record.clone()), "round trip");

    let mut again = record.clone();
    again.fingerprint = "other".to_owned();
    let dup = store.write(move |tx| tx.insert_client_token(&again)).await;
    assert!(
        matches!(dup, Err(StoreError::Duplicate(_))),
        "duplicate token: {dup:?}"
    );
    let got = read(&store, |tx| tx.client_token("acct-1", "tok-1")).await;
    assert_eq!(got, Some(record.clone()), "first record kept");

    assert_eq!(
        read(&store, |tx| tx.client_token("acct-2", "tok-1")).await,
        None
    );
    let mut theirs = record;
    theirs.account_id = "acct-2".to_owned();
    let r = theirs.clone();
    write(&store, move |tx| tx.insert_client_token(&r)).await;
    assert_eq!(
        read(&store, |tx| tx.client_token("acct-2", "tok-1")).await,
        Some(theirs)
    );
}

// ---- transactions ----

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
    tx.insert_account("acct-9", true, at(0, 0))?;
    tx.insert_access_key(&key("LTAI9", "acct-9", 0))?;
    tx.claim_nonce("LTAI9", "n", at(100, 0), at(0, 0))?;
    tx.insert_security_group(&group("acct-9", "cn-hangzhou", "sg-9", 0))?;
    tx.set_tags("acct-9", SG, "sg-9", &[tag("k", tag_value)])?;
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
            tx.security_group("acct-9", "sg-9")?.is_some(),
            tx.tags("acct-9", SG, "sg-9")?.len(),
            tx.client_token("acct-9", "t")?.is_some(),
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
            tx.insert_account("acct-p", false, at(0, 0))?;
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
    write(&store, |tx| tx.insert_account("acct-p", false, at(0, 0))).await;
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
                tx.set_tags("acct-1", SG, &g.id, &[tag("n", &g.id)])
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
    let all = read(&*store, |tx| tx.all_tags("acct-1", SG)).await;
    for id in &ids {
        assert_eq!(all.get(id), Some(&vec![tag("n", id)]));
    }
}
