//! Tags (order and replace semantics) and client tokens.

use std::collections::HashMap;

use super::{at, get_tags, put_tags, read, tag, write, SG};
use crate::ids::AccountId;
use crate::model::{ClientTokenRecord, Tag};
use crate::store::{Store, StoreError};

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
    let all = read(&store, move |tx| tx.all_tags(&AccountId::from(a), SG)).await;
    let expected: HashMap<String, Vec<Tag>> = [
        ("sg-1".to_owned(), vec![tag("k1", "1"), tag("k3", "y")]),
        ("sg-2".to_owned(), vec![tag("b", ""), tag("a", "v")]),
    ]
    .into();
    assert_eq!(all, expected);

    put_tags(&store, a, id, &[]).await;
    assert!(get_tags(&store, a, id).await.is_empty(), "cleared");
    let all = read(&store, move |tx| tx.all_tags(&AccountId::from(a), SG)).await;
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
        read(&store, |tx| tx
            .client_token(&AccountId::from("acct-1"), "tok-1"))
        .await,
        None
    );
    let r = record.clone();
    write(&store, move |tx| tx.insert_client_token(&r)).await;
    let got = read(&store, |tx| {
        tx.client_token(&AccountId::from("acct-1"), "tok-1")
    })
    .await;
    assert_eq!(got, Some(record.clone()), "round trip");

    let mut again = record.clone();
    again.fingerprint = "other".to_owned();
    let dup = store.write(move |tx| tx.insert_client_token(&again)).await;
    assert!(
        matches!(dup, Err(StoreError::Duplicate(_))),
        "duplicate token: {dup:?}"
    );
    let got = read(&store, |tx| {
        tx.client_token(&AccountId::from("acct-1"), "tok-1")
    })
    .await;
    assert_eq!(got, Some(record.clone()), "first record kept");

    assert_eq!(
        read(&store, |tx| tx
            .client_token(&AccountId::from("acct-2"), "tok-1"))
        .await,
        None
    );
    let mut theirs = record;
    theirs.account_id = "acct-2".to_owned();
    let r = theirs.clone();
    write(&store, move |tx| tx.insert_client_token(&r)).await;
    assert_eq!(
        read(&store, |tx| tx
            .client_token(&AccountId::from("acct-2"), "tok-1"))
        .await,
        Some(theirs)
    );
}

/// Tokens are forgotten one at a time (an expired one about to be recorded anew) or all those
/// recorded before a cutoff, across accounts; the count follows.
pub async fn client_token_retention<S: Store>(store: S) {
    let token = |account: &str, token: &str, secs: i64| ClientTokenRecord {
        account_id: account.to_owned(),
        token: token.to_owned(),
        fingerprint: "fp".to_owned(),
        result: "{}".to_owned(),
        created_at: at(secs, 500_000),
    };
    let records = [
        token("acct-1", "old", 10),
        token("acct-2", "old", 20),
        token("acct-1", "new", 30),
        token("acct-1", "gone", 40),
    ];
    write(&store, move |tx| {
        records.iter().try_for_each(|r| tx.insert_client_token(r))
    })
    .await;
    assert_eq!(read(&store, |tx| tx.count_client_tokens()).await, 4);

    write(&store, |tx| {
        tx.delete_client_token(&AccountId::from("acct-1"), "gone")
    })
    .await;
    assert_eq!(
        read(&store, |tx| tx
            .client_token(&AccountId::from("acct-1"), "gone"))
        .await,
        None,
        "deleted"
    );
    // Deleting what is not there is not an error (a purge may have won the race).
    write(&store, |tx| {
        tx.delete_client_token(&AccountId::from("acct-2"), "gone")
    })
    .await;
    assert_eq!(read(&store, |tx| tx.count_client_tokens()).await, 3);

    // Cutoff at second 25: both "old" tokens (of two accounts) go, "new" stays.
    let purged = write(&store, |tx| tx.purge_client_tokens(at(25, 0))).await;
    assert_eq!(purged, 2);
    assert_eq!(read(&store, |tx| tx.count_client_tokens()).await, 1);
    assert!(read(&store, |tx| tx
        .client_token(&AccountId::from("acct-1"), "new"))
    .await
    .is_some());
    assert_eq!(
        write(&store, |tx| tx.purge_client_tokens(at(25, 0))).await,
        0,
        "nothing left to purge"
    );
}
