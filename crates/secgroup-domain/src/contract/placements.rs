//! Placements and VNIs: one placement per instance, replaced and deleted, listed with
//! their instance by account or for all; VNIs unique per VPC and per number.

use super::instances::instance;
use super::{at, read, write};
use crate::ids::{AccountId, InstanceId, VpcId};
use crate::network::{InstanceStatus, Placement};
use crate::store::{Store, StoreError};

fn placement(id: &str, host: &str, secs: i64) -> Placement {
    Placement {
        instance_id: id.to_owned(),
        host: host.to_owned(),
        placed_at: at(secs, 0),
    }
}

/// A placement is kept exactly, replaced by the next one of its instance, listed with its
/// instance (by account, or every account's, by instance id), forgotten on delete; a
/// placement whose instance is gone is not listed.
pub async fn placements_round_trip<S: Store>(store: S) {
    let (r, vsw) = ("cn-hangzhou", "vsw-a");
    for (account, id, ip) in [
        ("acct-1", "i-2", "10.0.0.2"),
        ("acct-1", "i-1", "10.0.0.1"),
        ("acct-2", "i-3", "10.0.0.3"),
    ] {
        let i = instance(account, r, id, vsw, ip, &["sg-a"]);
        write(&store, move |tx| tx.insert_instance(&i)).await;
    }
    assert_eq!(
        read(&store, |tx| tx.placement(&InstanceId::from("i-1"))).await,
        None
    );
    assert!(read(&store, |tx| tx.placed_instances(None))
        .await
        .is_empty());

    for p in [
        placement("i-2", "host-b", 5),
        placement("i-1", "host-a", 6),
        placement("i-3", "host-a", 7),
    ] {
        write(&store, move |tx| tx.put_placement(&p)).await;
    }
    assert_eq!(
        read(&store, |tx| tx.placement(&InstanceId::from("i-2"))).await,
        Some(placement("i-2", "host-b", 5)),
        "round trip"
    );
    let all = read(&store, |tx| tx.placed_instances(None)).await;
    let hosts: Vec<(String, String)> = all
        .iter()
        .map(|p| (p.placement.instance_id.clone(), p.placement.host.clone()))
        .collect();
    assert_eq!(
        hosts,
        vec![
            ("i-1".to_owned(), "host-a".to_owned()),
            ("i-2".to_owned(), "host-b".to_owned()),
            ("i-3".to_owned(), "host-a".to_owned()),
        ],
        "every account's, by instance id"
    );
    let first = &all[0];
    assert_eq!(first.placement, placement("i-1", "host-a", 6));
    assert_eq!(first.account_id, "acct-1");
    assert_eq!(first.region_id, r);
    assert_eq!(first.vpc_id, format!("vpc-{vsw}"));
    assert_eq!(first.status, InstanceStatus::Pending);
    assert_eq!(first.status_since, at(1, 500));
    assert_eq!(first.attributes, r#"{"AutoStart":true}"#);

    let mine = read(&store, |tx| {
        tx.placed_instances(Some(&AccountId::from("acct-2")))
    })
    .await;
    assert_eq!(mine.len(), 1, "one account's only");
    assert_eq!(mine[0].placement.instance_id, "i-3");

    // Replaced, not added.
    let moved = placement("i-2", "host-c", 9);
    write(&store, move |tx| tx.put_placement(&moved)).await;
    assert_eq!(
        read(&store, |tx| tx.placement(&InstanceId::from("i-2"))).await,
        Some(placement("i-2", "host-c", 9))
    );
    assert_eq!(read(&store, |tx| tx.placed_instances(None)).await.len(), 3);

    assert!(write(&store, |tx| tx.delete_placement(&InstanceId::from("i-2"))).await);
    assert!(!write(&store, |tx| tx.delete_placement(&InstanceId::from("i-2"))).await);
    assert_eq!(
        read(&store, |tx| tx.placement(&InstanceId::from("i-2"))).await,
        None
    );

    // An instance that went takes its placement out of the listing.
    write(&store, |tx| {
        tx.delete_instance(&AccountId::from("acct-2"), &InstanceId::from("i-3"))
    })
    .await;
    let left: Vec<String> = read(&store, |tx| tx.placed_instances(None))
        .await
        .into_iter()
        .map(|p| p.placement.instance_id)
        .collect();
    assert_eq!(left, vec!["i-1".to_owned()]);
}

/// A VPC has at most one VNI and a VNI at most one VPC; they are kept exactly, and a
/// deleted VPC's number is free again. A refused insert changes nothing.
pub async fn vpc_vnis_are_unique<S: Store>(store: S) {
    assert!(read(&store, |tx| tx.vpc_vnis()).await.is_empty());
    write(&store, |tx| tx.insert_vpc_vni(&VpcId::from("vpc-b"), 1001)).await;
    write(&store, |tx| {
        tx.insert_vpc_vni(&VpcId::from("vpc-a"), 16_777_215)
    })
    .await;
    let vnis = read(&store, |tx| tx.vpc_vnis()).await;
    assert_eq!(
        vnis.into_iter().collect::<Vec<_>>(),
        vec![("vpc-a".to_owned(), 16_777_215), ("vpc-b".to_owned(), 1001)]
    );

    let same_number = store
        .write(|tx| tx.insert_vpc_vni(&VpcId::from("vpc-c"), 1001))
        .await;
    assert!(
        matches!(same_number, Err(StoreError::Duplicate(_))),
        "{same_number:?}"
    );
    let second_number = store
        .write(|tx| tx.insert_vpc_vni(&VpcId::from("vpc-b"), 1002))
        .await;
    assert!(
        matches!(second_number, Err(StoreError::Duplicate(_))),
        "{second_number:?}"
    );
    assert_eq!(read(&store, |tx| tx.vpc_vnis()).await.len(), 2);

    assert!(write(&store, |tx| tx.delete_vpc_vni(&VpcId::from("vpc-b"))).await);
    assert!(!write(&store, |tx| tx.delete_vpc_vni(&VpcId::from("vpc-b"))).await);
    write(&store, |tx| tx.insert_vpc_vni(&VpcId::from("vpc-c"), 1001)).await;
    assert_eq!(
        read(&store, |tx| tx.vpc_vnis()).await.get("vpc-c").copied(),
        Some(1001)
    );
}
