//! Key pairs, disks and user data: round trips in order, the database's own refusal of a
//! second key pair name and disk id, the release of an instance's disks and user data,
//! account isolation, and the revision every such write bumps.

use super::{at, read, write};
use crate::compute::{Disk, KeyPair};
use crate::ids::{AccountId, InstanceId};
use crate::store::{Store, StoreError};

fn key_pair(account: &str, region: &str, name: &str, secs: i64) -> KeyPair {
    KeyPair {
        account_id: account.into(),
        region_id: region.into(),
        name: name.into(),
        fingerprint: format!("fp:{name}"),
        public_key: format!("ssh-ed25519 AAAA{name} me@host"),
        resource_group_id: "rg-1".into(),
        creation_time: at(secs, 0),
    }
}

fn disk(account: &str, id: &str, instance: &str, disk_type: &str, keep: bool) -> Disk {
    Disk {
        id: id.into(),
        account_id: account.into(),
        region_id: "cn-hangzhou".into(),
        zone_id: "cn-hangzhou-b".into(),
        instance_id: instance.into(),
        disk_type: disk_type.into(),
        category: "cloud_essd".into(),
        size_gib: 40,
        device: "/dev/xvda".into(),
        delete_with_instance: !keep,
        name: format!("name-{id}"),
        description: format!("about {id}"),
        performance_level: "PL1".into(),
        creation_time: at(3, 0),
    }
}

async fn insert_key_pair<S: Store>(store: &S, k: &KeyPair) -> Result<(), StoreError> {
    let k = k.clone();
    store.write(move |tx| tx.insert_key_pair(&k)).await
}

async fn key_pairs<S: Store>(store: &S, account: &str, region: &str) -> Vec<KeyPair> {
    let (account, region) = (account.to_owned(), region.to_owned());
    read(store, move |tx| {
        tx.key_pairs(&AccountId::from(&account), &region)
    })
    .await
}

async fn disks<S: Store>(store: &S, account: &str) -> Vec<Disk> {
    let account = account.to_owned();
    read(store, move |tx| {
        tx.disks(&AccountId::from(&account), "cn-hangzhou")
    })
    .await
}

pub async fn key_pairs_round_trip<S: Store>(store: S) {
    let first = key_pair("a", "cn-hangzhou", "k1", 1);
    let second = key_pair("a", "cn-hangzhou", "k2", 2);
    let before = store.revision().await.expect("revision");
    insert_key_pair(&store, &first).await.expect("k1");
    insert_key_pair(&store, &second).await.expect("k2");
    assert_eq!(store.revision().await.expect("revision"), before + 2);
    assert_eq!(
        key_pairs(&store, "a", "cn-hangzhou").await,
        vec![first.clone(), second.clone()],
        "oldest first"
    );
    // One name per account and region.
    let again = insert_key_pair(&store, &key_pair("a", "cn-hangzhou", "k1", 3)).await;
    assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");
    insert_key_pair(&store, &key_pair("a", "cn-shanghai", "k1", 4))
        .await
        .expect("other region");
    insert_key_pair(&store, &key_pair("b", "cn-hangzhou", "k1", 5))
        .await
        .expect("other account");
    assert_eq!(key_pairs(&store, "b", "cn-hangzhou").await.len(), 1);

    let gone = write(&store, |tx| {
        tx.delete_key_pair(&AccountId::from("b"), "cn-hangzhou", "k2")
    })
    .await;
    assert!(!gone, "another account's pair is not deleted");
    assert!(
        write(&store, |tx| tx.delete_key_pair(
            &AccountId::from("a"),
            "cn-hangzhou",
            "k1"
        ))
        .await
    );
    assert_eq!(key_pairs(&store, "a", "cn-hangzhou").await, vec![second]);
    assert_eq!(key_pairs(&store, "a", "cn-shanghai").await.len(), 1);
}

pub async fn disks_and_user_data_round_trip<S: Store>(store: S) {
    let system = disk("a", "d-1", "i-1", "system", false);
    let kept = disk("a", "d-2", "i-1", "data", true);
    let other = disk("a", "d-3", "i-2", "system", false);
    let foreign = disk("b", "d-4", "i-1", "system", false);
    let before = store.revision().await.expect("revision");
    for d in [&system, &kept, &other, &foreign] {
        let d = d.clone();
        write(&store, move |tx| tx.insert_disk(&d)).await;
    }
    assert_eq!(store.revision().await.expect("revision"), before + 4);
    assert_eq!(
        disks(&store, "a").await,
        vec![system.clone(), kept.clone(), other.clone()]
    );
    let twin = disk("a", "d-1", "i-9", "data", false);
    let again = store.write(move |tx| tx.insert_disk(&twin)).await;
    assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");

    let (a, i1) = (AccountId::from("a"), InstanceId::from("i-1"));
    write(&store, |tx| {
        tx.set_user_data(
            &AccountId::from("a"),
            &InstanceId::from("i-1"),
            "ZWNobyBoaQ==",
        )
    })
    .await;
    write(&store, |tx| {
        tx.set_user_data(
            &AccountId::from("a"),
            &InstanceId::from("i-1"),
            "ZWNobyBobw==",
        )
    })
    .await;
    let (a2, i2) = (a.clone(), i1.clone());
    assert_eq!(
        read(&store, move |tx| tx.user_data(&a2, &i2))
            .await
            .as_deref(),
        Some("ZWNobyBobw=="),
        "replaced"
    );
    assert_eq!(
        read(&store, |tx| tx
            .user_data(&AccountId::from("b"), &InstanceId::from("i-1")))
        .await,
        None,
        "isolated"
    );

    // Releasing i-1 deletes its deletable disks, detaches the kept one, drops its user data;
    // the other account's disk of an equally named instance stays.
    let (a3, i3) = (a.clone(), i1.clone());
    assert_eq!(
        write(&store, move |tx| tx.release_instance_disks(&a3, &i3)).await,
        1
    );
    let detached = Disk {
        instance_id: String::new(),
        ..kept
    };
    assert_eq!(disks(&store, "a").await, vec![detached, other]);
    assert_eq!(disks(&store, "b").await, vec![foreign]);
    assert_eq!(read(&store, move |tx| tx.user_data(&a, &i1)).await, None);
}
