//! Secondary network interfaces and the addresses of every interface: round trips,
//! attachment and membership updates, one address per vSwitch across instances and
//! interfaces, counts, and that one account never sees another's.

use super::instances::instance;
use super::{at, read, tag, write};
use crate::ids::{AccountId, InstanceId, SecurityGroupId, VSwitchId, VpcId};
use crate::model::ResourceType;
use crate::network::{InstanceScope, InterfaceKind, NetworkInterface};
use crate::store::{Store, StoreError};

/// An `Available` secondary interface in `vsw` (of `vpc-<vsw>`).
pub fn interface(
    account: &str,
    region: &str,
    id: &str,
    vsw: &str,
    ip: &str,
    groups: &[&str],
) -> NetworkInterface {
    NetworkInterface {
        id: id.to_owned(),
        account_id: account.to_owned(),
        region_id: region.to_owned(),
        zone_id: format!("{region}-a"),
        vpc_id: format!("vpc-{vsw}"),
        vswitch_id: vsw.to_owned(),
        kind: InterfaceKind::Secondary,
        name: format!("name-{id}"),
        description: String::new(),
        resource_group_id: String::new(),
        instance_id: String::new(),
        device_index: 0,
        mac_address: "00:16:3e:00:00:02".to_owned(),
        primary_ip: ip.to_owned(),
        secondary_ips: Vec::new(),
        security_group_ids: groups.iter().map(|g| (*g).to_owned()).collect(),
        creation_time: at(2, 0),
    }
}

async fn insert<S: Store>(store: &S, e: &NetworkInterface) {
    let e = e.clone();
    write(store, move |tx| tx.insert_network_interface(&e)).await;
}

async fn get<S: Store>(store: &S, account: &str, id: &str) -> Option<NetworkInterface> {
    let (account, id) = (account.to_owned(), id.to_owned());
    read(store, move |tx| {
        tx.network_interface(&AccountId::from(&account), &id)
    })
    .await
}

async fn used<S: Store>(store: &S, vsw: &str) -> Vec<String> {
    let vsw = vsw.to_owned();
    let mut ips = read(store, move |tx| tx.used_private_ips(&VSwitchId::from(&vsw))).await;
    ips.sort();
    ips
}

pub async fn network_interfaces_round_trip<S: Store>(store: S) {
    let (a, r) = ("acct-1", "cn-hangzhou");
    let mut one = interface(a, r, "eni-1", "vsw-a", "10.0.0.7", &["sg-b", "sg-a"]);
    one.secondary_ips = vec!["10.0.0.9".into(), "10.0.0.8".into()];
    let two = interface(a, r, "eni-2", "vsw-a", "10.0.0.10", &["sg-a"]);
    let elsewhere = interface(a, "cn-beijing", "eni-3", "vsw-z", "10.9.0.1", &["sg-z"]);
    for e in [&one, &two, &elsewhere] {
        insert(&store, e).await;
    }
    assert_eq!(
        get(&store, a, "eni-1").await,
        Some(one.clone()),
        "round trip, orders kept"
    );
    let listed = read(&store, |tx| {
        tx.network_interfaces(&AccountId::from("acct-1"), "cn-hangzhou")
    })
    .await;
    assert_eq!(
        listed,
        vec![one.clone(), two.clone()],
        "oldest first, one region"
    );

    // Attach, change groups and names: addresses and placement stay.
    let mut changed = one.clone();
    changed.instance_id = "i-1".into();
    changed.device_index = 1;
    changed.name = "renamed".into();
    changed.description = "about".into();
    changed.security_group_ids = vec!["sg-c".into()];
    changed.vswitch_id = "vsw-ignored".into();
    let update = changed.clone();
    assert!(write(&store, move |tx| tx.update_network_interface(&update)).await);
    changed.vswitch_id = "vsw-a".into();
    assert_eq!(get(&store, a, "eni-1").await, Some(changed));
    let missing = interface(a, r, "eni-none", "vsw-a", "10.0.0.99", &["sg-a"]);
    assert!(!write(&store, move |tx| tx.update_network_interface(&missing)).await);

    // Secondary addresses: added in order after the existing ones, removed by value; the
    // primary address is never removed this way.
    write(&store, |tx| {
        tx.add_private_ips(
            &AccountId::from("acct-1"),
            "cn-hangzhou",
            &VSwitchId::from("vsw-a"),
            "eni-1",
            &["10.0.0.20".into()],
        )
    })
    .await;
    let removed = write(&store, |tx| {
        tx.remove_private_ips(
            &AccountId::from("acct-1"),
            "eni-1",
            &["10.0.0.9".into(), "10.0.0.7".into(), "10.0.0.77".into()],
        )
    })
    .await;
    assert_eq!(removed, 1);
    let ips = get(&store, a, "eni-1")
        .await
        .map(|e| (e.primary_ip, e.secondary_ips));
    assert_eq!(
        ips,
        Some((
            "10.0.0.7".into(),
            vec!["10.0.0.8".into(), "10.0.0.20".into()]
        ))
    );
    let secondary = read(&store, |tx| {
        tx.secondary_private_ips(&AccountId::from("acct-1"), "cn-hangzhou")
    })
    .await;
    assert_eq!(secondary.len(), 1);
    assert_eq!(secondary["eni-1"], ["10.0.0.8", "10.0.0.20"]);

    // Delete takes memberships, addresses and tags with it.
    write(&store, |tx| {
        tx.set_tags(
            &AccountId::from("acct-1"),
            ResourceType::Eni,
            "eni-1",
            &[tag("k", "v")],
        )
    })
    .await;
    assert!(
        write(&store, |tx| tx
            .delete_network_interface(&AccountId::from("acct-1"), "eni-1"))
        .await
    );
    assert!(
        !write(&store, |tx| tx
            .delete_network_interface(&AccountId::from("acct-1"), "eni-1"))
        .await
    );
    assert_eq!(get(&store, a, "eni-1").await, None);
    assert_eq!(used(&store, "vsw-a").await, ["10.0.0.10"]);
    let tags = read(&store, |tx| {
        tx.tags(&AccountId::from("acct-1"), ResourceType::Eni, "eni-1")
    })
    .await;
    assert!(tags.is_empty());
    let members = read(&store, |tx| {
        tx.count_network_interfaces(
            &AccountId::from("acct-1"),
            InstanceScope::SecurityGroup(&SecurityGroupId::from("sg-c")),
        )
    })
    .await;
    assert_eq!(members, 0);
}

pub async fn interface_addresses_are_unique<S: Store>(store: S) {
    let (a, r) = ("acct-1", "cn-hangzhou");
    let inst = instance(a, r, "i-1", "vsw-a", "10.0.0.1", &["sg-a"]);
    let i = inst.clone();
    write(&store, move |tx| tx.insert_instance(&i)).await;
    insert(
        &store,
        &interface(a, r, "eni-1", "vsw-a", "10.0.0.2", &["sg-a"]),
    )
    .await;
    // Neither an interface nor an instance may take an address another one holds.
    let clashes: Vec<NetworkInterface> = vec![
        interface(a, r, "eni-2", "vsw-a", "10.0.0.1", &["sg-a"]),
        interface("acct-2", r, "eni-3", "vsw-a", "10.0.0.2", &["sg-a"]),
        interface(a, r, "eni-1", "vsw-b", "10.0.1.1", &["sg-a"]),
    ];
    for clash in clashes {
        let id = clash.id.clone();
        let again = store
            .write(move |tx| tx.insert_network_interface(&clash))
            .await;
        assert!(
            matches!(again, Err(StoreError::Duplicate(_))),
            "{id}: {again:?}"
        );
    }
    let clash = instance(a, r, "i-2", "vsw-a", "10.0.0.2", &["sg-a"]);
    let again = store.write(move |tx| tx.insert_instance(&clash)).await;
    assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");
    for (interface_id, ip) in [("eni-1", "10.0.0.1"), ("eni-i-1", "10.0.0.2")] {
        let again = store
            .write(move |tx| {
                tx.add_private_ips(
                    &AccountId::from("acct-1"),
                    "cn-hangzhou",
                    &VSwitchId::from("vsw-a"),
                    interface_id,
                    &[ip.to_string()],
                )
            })
            .await;
        assert!(
            matches!(again, Err(StoreError::Duplicate(_))),
            "{ip}: {again:?}"
        );
    }
    // A primary interface's secondary address is in use, and goes with its instance.
    write(&store, |tx| {
        tx.add_private_ips(
            &AccountId::from("acct-1"),
            "cn-hangzhou",
            &VSwitchId::from("vsw-a"),
            "eni-i-1",
            &["10.0.0.3".into()],
        )
    })
    .await;
    assert_eq!(
        used(&store, "vsw-a").await,
        ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    );
    let secondary = read(&store, |tx| {
        tx.secondary_private_ips(&AccountId::from("acct-1"), "cn-hangzhou")
    })
    .await;
    assert_eq!(
        secondary.get("eni-i-1").map(Vec::as_slice),
        Some(&["10.0.0.3".to_string()][..])
    );
    assert!(
        write(&store, |tx| tx.delete_instance(
            &AccountId::from("acct-1"),
            &InstanceId::from("i-1")
        ))
        .await
    );
    assert_eq!(used(&store, "vsw-a").await, ["10.0.0.2"]);
    // The freed addresses can be taken again.
    insert(
        &store,
        &interface(a, r, "eni-4", "vsw-a", "10.0.0.1", &["sg-a"]),
    )
    .await;
}

pub async fn interface_counts_and_isolation<S: Store>(store: S) {
    let (a, r) = ("acct-1", "cn-hangzhou");
    insert(
        &store,
        &interface(a, r, "eni-1", "vsw-a", "10.0.0.2", &["sg-a", "sg-b"]),
    )
    .await;
    insert(
        &store,
        &interface(a, r, "eni-2", "vsw-b", "10.0.1.2", &["sg-a"]),
    )
    .await;
    insert(
        &store,
        &interface("acct-2", r, "eni-3", "vsw-c", "10.0.2.2", &["sg-a"]),
    )
    .await;
    let counts = read(&store, |tx| {
        let acct = AccountId::from("acct-1");
        Ok([
            tx.count_network_interfaces(
                &acct,
                InstanceScope::SecurityGroup(&SecurityGroupId::from("sg-a")),
            )?,
            tx.count_network_interfaces(
                &acct,
                InstanceScope::SecurityGroup(&SecurityGroupId::from("sg-b")),
            )?,
            tx.count_network_interfaces(&acct, InstanceScope::VSwitch(&VSwitchId::from("vsw-a")))?,
            tx.count_network_interfaces(&acct, InstanceScope::Vpc(&VpcId::from("vpc-vsw-b")))?,
            tx.count_network_interfaces(&acct, InstanceScope::Vpc(&VpcId::from("vpc-vsw-c")))?,
        ])
    })
    .await;
    assert_eq!(counts, [2, 1, 1, 1, 0]);
    // Another account sees none of them and changes none of them.
    assert_eq!(get(&store, "acct-2", "eni-1").await, None);
    let listed = read(&store, |tx| {
        tx.network_interfaces(&AccountId::from("acct-2"), "cn-hangzhou")
    })
    .await;
    assert_eq!(
        listed.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["eni-3"]
    );
    let mut foreign = interface("acct-2", r, "eni-1", "vsw-a", "10.0.0.2", &["sg-x"]);
    foreign.name = "hijack".into();
    assert!(!write(&store, move |tx| tx.update_network_interface(&foreign)).await);
    assert!(
        !write(&store, |tx| tx
            .delete_network_interface(&AccountId::from("acct-2"), "eni-1"))
        .await
    );
    let removed = write(&store, |tx| {
        tx.remove_private_ips(&AccountId::from("acct-2"), "eni-1", &["10.0.0.2".into()])
    })
    .await;
    assert_eq!(removed, 0);
    let kept = get(&store, a, "eni-1")
        .await
        .map(|e| (e.name, e.security_group_ids));
    assert_eq!(
        kept,
        Some(("name-eni-1".into(), vec!["sg-a".into(), "sg-b".into()]))
    );
    let secondary = read(&store, |tx| {
        tx.secondary_private_ips(&AccountId::from("acct-2"), "cn-hangzhou")
    })
    .await;
    assert!(secondary.is_empty());
}
