//! Accounts, AccessKeys and nonces.

use chrono::{DateTime, Utc};

use super::{at, key, read, write};
use crate::ids::AccountId;
use crate::store::{Store, StoreError};

pub async fn accounts_and_keys<S: Store>(store: S) {
    let k = key("LTAI1", "acct-1", 5);
    let k2 = k.clone();
    write(&store, move |tx| {
        tx.insert_account(&AccountId::from("acct-1"), false, at(0, 0))?;
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
        .write(|tx| tx.insert_account(&AccountId::from("acct-1"), false, at(1, 0)))
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
    write(&store, |tx| {
        tx.insert_account(&AccountId::from("plain"), false, at(0, 0))
    })
    .await;
    assert_eq!(read(&store, |tx| tx.default_account()).await, None);
    write(&store, |tx| {
        tx.insert_account(&AccountId::from("main"), true, at(1, 0))
    })
    .await;
    assert_eq!(
        read(&store, |tx| tx.default_account()).await,
        Some(AccountId::from("main"))
    );
}

pub async fn nonces<S: Store>(store: S) {
    let (k1, k2) = (key("LTAI1", "acct-1", 0), key("LTAI2", "acct-1", 0));
    write(&store, move |tx| {
        tx.insert_account(&AccountId::from("acct-1"), false, at(0, 0))?;
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
    assert_eq!(
        read(&store, |tx| tx.count_live_nonces(at(301, 0))).await,
        1,
        "only the re-claimed nonce is live"
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

/// [`Store::claim_nonce`], which a backend may answer from memory: claim, replay, expiry
/// to the microsecond, keys kept apart, and live nonces kept while expired ones go.
pub async fn nonce_claims<S: Store>(store: S) {
    let (k1, k2) = (key("LTAI1", "acct-1", 0), key("LTAI2", "acct-1", 0));
    write(&store, move |tx| {
        tx.insert_account(&AccountId::from("acct-1"), false, at(0, 0))?;
        tx.insert_access_key(&k1)?;
        tx.insert_access_key(&k2)
    })
    .await;
    let claim = |k: &str, n: &str, expires: DateTime<Utc>, now: DateTime<Utc>| {
        let store = &store;
        let (k, n) = (k.to_owned(), n.to_owned());
        async move {
            store
                .claim_nonce(&k, &n, expires, now)
                .await
                .expect("claim_nonce failed")
        }
    };
    assert!(
        claim("LTAI1", "n1", at(900, 0), at(0, 0)).await,
        "first use"
    );
    assert!(
        !claim("LTAI1", "n1", at(910, 0), at(10, 0)).await,
        "replay while live"
    );
    assert!(
        !claim("LTAI1", "n1", at(1800, 0), at(899, 999_999)).await,
        "replay a microsecond before expiry"
    );
    assert!(
        claim("LTAI1", "n2", at(900, 0), at(10, 0)).await,
        "another nonce"
    );
    assert!(
        claim("LTAI2", "n1", at(900, 0), at(10, 0)).await,
        "same nonce, another key"
    );
    // Key and nonce are kept apart, not concatenated.
    assert!(claim("LTAI1n", "1", at(900, 0), at(10, 0)).await);
    let live = |now: DateTime<Utc>| {
        let store = &store;
        async move { store.count_nonces(now).await.expect("count_nonces failed") }
    };
    assert_eq!(live(at(10, 0)).await, 4, "four live nonces");
    assert_eq!(live(at(899, 999_999)).await, 4, "live until they expire");
    assert!(
        claim("LTAI1", "n1", at(1800, 0), at(900, 0)).await,
        "expired at expires_at: reusable"
    );
    assert!(
        !claim("LTAI1", "n1", at(2700, 0), at(901, 0)).await,
        "the re-claim set a new expiry"
    );
    assert_eq!(
        live(at(901, 0)).await,
        1,
        "only the re-claimed nonce is live"
    );
    assert!(
        !claim("LTAI1", "n1", at(10_000, 0), at(1799, 0)).await,
        "still live at 1799"
    );
    // Nonces expiring over an hour, then claims after some have expired: the live ones
    // stay refused, the expired ones are accepted again.
    for i in 0..120 {
        let expires = at(2000 + 30 * i, 0);
        assert!(claim("LTAI2", &format!("bulk-{i}"), expires, at(1799, 0)).await);
    }
    for i in 0..120 {
        let expires = 2000 + 30 * i;
        let live = expires > 3500;
        assert_eq!(
            !claim("LTAI2", &format!("bulk-{i}"), at(10_000, 0), at(3500, 0)).await,
            live,
            "bulk-{i} (expires at {expires}) at 3500"
        );
    }
    assert!(claim("LTAI2", "late", at(1_000_000, 0), at(999_999, 0)).await);
    assert!(
        !claim("LTAI2", "late", at(1_000_001, 0), at(999_999, 1)).await,
        "live after the others expired"
    );
    assert!(
        claim("LTAI2", "bulk-119", at(1_000_000, 0), at(999_999, 0)).await,
        "expired long ago"
    );
}
