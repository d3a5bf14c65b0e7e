//! Instances with their interface, address and memberships: round trips, the listing
//! query, unique addresses, counts, and that one account never sees another's.

use std::collections::HashMap;

use super::{at, get_tags, read, tag, write};
use crate::ids::{AccountId, InstanceId, SecurityGroupId, VSwitchId, VpcId};
use crate::model::ResourceType;
use crate::network::{Instance, InstanceQuery, InstanceScope, InstanceStatus};
use crate::store::{Store, StoreError};

/// An instance in `vsw` (of `vpc-<vsw>`) with address `ip` and these groups.
pub fn instance(
    account: &str,
    region: &str,
    id: &str,
    vsw: &str,
    ip: &str,
    groups: &[&str],
) -> Instance {
    Instance {
        id: id.to_owned(),
        account_id: account.to_owned(),
        region_id: region.to_owned(),
        zone_id: format!("{region}-a"),
        vpc_id: format!("vpc-{vsw}"),
        vswitch_id: vsw.to_owned(),
        name: format!("name-{id}"),
        description: String::new(),
        host_name: format!("host-{id}"),
        instance_type: "ecs.g5.large".to_owned(),
        image_id: "img-1".to_owned(),
        status: InstanceStatus::Pending,
        status_since: at(1, 500),
        creation_time: at(1, 0),
        network_interface_id: format!("eni-{id}"),
        mac_address: "00:16:3e:00:00:01".to_owned(),
        private_ip: ip.to_owned(),
        security_group_ids: groups.iter().map(|g| (*g).to_owned()).collect(),
        attributes: r#"{"AutoStart":true}"#.to_owned(),
    }
}

async fn insert<S: Store>(store: &S, i: &Instance) {
    let i = i.clone();
    write(store, move |tx| tx.insert_instance(&i)).await;
}

async fn get<S: Store>(store: &S, account: &str, id: &str) -> Option<Instance> {
    let (account, id) = (account.to_owned(), id.to_owned());
    read(store, move |tx| {
        tx.instance(&AccountId::from(&account), &InstanceId::from(&id))
    })
    .await
}

async fn ids<S: Store>(store: &S, account: &str, region: &str, q: InstanceQuery) -> Vec<String> {
    let (account, region) = (account.to_owned(), region.to_owned());
    let found = read(store, move |tx| {
        tx.instances(&AccountId::from(&account), &region, &q)
    })
    .await;
    found.into_iter().map(|i| i.id).collect()
}

pub async fn instances_insert_get_list<S: Store>(store: S) {
    let (a, r) = ("acct-1", "cn-hangzhou");
    let one = instance(a, r, "i-1", "vsw-a", "10.0.0.1", &["sg-b", "sg-a"]);
    let two = instance(a, r, "i-2", "vsw-a", "10.0.0.2", &["sg-a"]);
    let three = instance(a, r, "i-3", "vsw-b", "10.0.1.1", &["sg-c"]);
    let elsewhere = instance(a, "cn-beijing", "i-4", "vsw-z", "10.9.0.1", &["sg-a"]);
    let other = instance("acct-2", r, "i-5", "vsw-a", "10.0.0.5", &["sg-a"]);
    for i in [&three, &one, &two, &elsewhere, &other] {
        insert(&store, i).await;
    }
    assert_eq!(
        get(&store, a, "i-1").await,
        Some(one.clone()),
        "round trip, group order kept"
    );
    assert_eq!(get(&store, a, "i-none").await, None);

    let all = ids(&store, a, r, InstanceQuery::default()).await;
    assert_eq!(
        all,
        ["i-3", "i-1", "i-2"],
        "oldest first, region and account scoped"
    );
    let q = |f: &dyn Fn(&mut InstanceQuery)| {
        let mut q = InstanceQuery::default();
        f(&mut q);
        q
    };
    let cases: Vec<(InstanceQuery, Vec<&str>)> = vec![
        (
            q(&|q| q.ids = Some(vec!["i-2".into(), "i-1".into(), "i-9".into()])),
            vec!["i-1", "i-2"],
        ),
        (q(&|q| q.ids = Some(Vec::new())), vec![]),
        (
            q(&|q| q.ids = Some(vec!["i-5".into(), "i-4".into()])),
            vec![],
        ),
        (q(&|q| q.vpc_id = Some("vpc-vsw-b".into())), vec!["i-3"]),
        (
            q(&|q| q.vswitch_id = Some("vsw-a".into())),
            vec!["i-1", "i-2"],
        ),
        (
            q(&|q| q.security_group_id = Some("sg-a".into())),
            vec!["i-1", "i-2"],
        ),
        (
            q(&|q| q.security_group_id = Some("sg-b".into())),
            vec!["i-1"],
        ),
        (q(&|q| q.security_group_id = Some("sg-none".into())), vec![]),
        (
            q(&|q| {
                q.security_group_id = Some("sg-a".into());
                q.vswitch_id = Some("vsw-a".into());
                q.ids = Some(vec!["i-2".into()]);
            }),
            vec!["i-2"],
        ),
        (
            q(&|q| {
                q.security_group_id = Some("sg-c".into());
                q.vpc_id = Some("vpc-vsw-a".into());
            }),
            vec![],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(
            ids(&store, a, r, query.clone()).await,
            expected,
            "{query:?}"
        );
        let mut paged = query.clone();
        paged.page = Some((1, 1));
        let window: Vec<&str> = expected.iter().skip(1).take(1).copied().collect();
        assert_eq!(ids(&store, a, r, paged.clone()).await, window, "{paged:?}");
        let count = read(&store, move |tx| {
            tx.count_matching_instances(&AccountId::from(a), r, &paged)
        })
        .await;
        assert_eq!(
            count,
            expected.len() as u64,
            "count ignores the page: {query:?}"
        );
    }
    let all_pages = q(&|q| q.page = Some((0, 2)));
    assert_eq!(ids(&store, a, r, all_pages).await, ["i-3", "i-1"]);
    let beyond = q(&|q| q.page = Some((5, 10)));
    assert!(ids(&store, a, r, beyond).await.is_empty());
}

pub async fn instances_update_delete<S: Store>(store: S) {
    let (a, r) = ("acct-1", "cn-hangzhou");
    let original = instance(a, r, "i-1", "vsw-a", "10.0.0.1", &["sg-a", "sg-b"]);
    insert(&store, &original).await;
    let mut changed = original.clone();
    changed.name = "renamed".into();
    changed.description = "words".into();
    changed.host_name = "h2".into();
    changed.instance_type = "ecs.c5.xlarge".into();
    changed.image_id = "img-2".into();
    changed.status = InstanceStatus::Stopping;
    changed.status_since = at(9, 123_456);
    changed.attributes = "{}".into();
    changed.security_group_ids = vec!["sg-c".into(), "sg-a".into()];
    let expected = changed.clone();
    // Not mutable: ignored.
    changed.zone_id = "cn-hangzhou-z".into();
    changed.vswitch_id = "vsw-other".into();
    changed.private_ip = "10.0.0.99".into();
    changed.creation_time = at(50, 0);
    let update = changed.clone();
    assert!(write(&store, move |tx| tx.update_instance(&update)).await);
    assert_eq!(get(&store, a, "i-1").await, Some(expected));

    let mut ghost = original.clone();
    ghost.id = "i-ghost".into();
    assert!(!write(&store, move |tx| tx.update_instance(&ghost)).await);

    let tags = vec![tag("k", "v")];
    write(&store, move |tx| {
        tx.set_tags(&AccountId::from(a), ResourceType::Instance, "i-1", &tags)
    })
    .await;
    assert!(
        write(&store, |tx| tx.delete_instance(
            &AccountId::from("acct-1"),
            &InstanceId::from("i-1")
        ))
        .await
    );
    assert_eq!(get(&store, a, "i-1").await, None);
    assert!(
        !write(&store, |tx| tx.delete_instance(
            &AccountId::from("acct-1"),
            &InstanceId::from("i-1")
        ))
        .await
    );
    let tags = read(&store, |tx| {
        tx.tags(&AccountId::from("acct-1"), ResourceType::Instance, "i-1")
    })
    .await;
    assert!(tags.is_empty(), "tags go with the instance");
    let counts = read(&store, |tx| {
        Ok((
            tx.count_instances(
                &AccountId::from("acct-1"),
                InstanceScope::SecurityGroup(&SecurityGroupId::from("sg-a")),
            )?,
            tx.used_private_ips(&VSwitchId::from("vsw-a"))?,
        ))
    })
    .await;
    assert_eq!(
        counts,
        (0, Vec::<String>::new()),
        "memberships and address freed"
    );
    // The address can be taken again.
    insert(
        &store,
        &instance(a, r, "i-2", "vsw-a", "10.0.0.1", &["sg-a"]),
    )
    .await;
    assert!(get_tags(&store, a, "i-2").await.is_empty());
}

pub async fn instance_addresses_are_unique<S: Store>(store: S) {
    let (a, r) = ("acct-1", "cn-hangzhou");
    insert(
        &store,
        &instance(a, r, "i-1", "vsw-a", "10.0.0.1", &["sg-a"]),
    )
    .await;
    let clashes = [
        instance(a, r, "i-2", "vsw-a", "10.0.0.1", &["sg-a"]),
        instance("acct-2", r, "i-3", "vsw-a", "10.0.0.1", &["sg-b"]),
        instance(a, r, "i-1", "vsw-b", "10.0.0.9", &["sg-a"]),
    ];
    for clash in clashes {
        let id = clash.id.clone();
        let again = store.write(move |tx| tx.insert_instance(&clash)).await;
        assert!(
            matches!(again, Err(StoreError::Duplicate(_))),
            "{id}: {again:?}"
        );
    }
    let mut same_eni = instance(a, r, "i-4", "vsw-c", "10.0.0.1", &["sg-a"]);
    same_eni.network_interface_id = "eni-i-1".into();
    let again = store.write(move |tx| tx.insert_instance(&same_eni)).await;
    assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");
    // Same address in another vSwitch is fine; nothing of the failed inserts remains.
    insert(
        &store,
        &instance(a, r, "i-5", "vsw-b", "10.0.0.1", &["sg-a"]),
    )
    .await;
    let (members, used) = read(&store, |tx| {
        Ok((
            tx.count_instances(
                &AccountId::from("acct-1"),
                InstanceScope::SecurityGroup(&SecurityGroupId::from("sg-a")),
            )?,
            tx.used_private_ips(&VSwitchId::from("vsw-a"))?,
        ))
    })
    .await;
    assert_eq!((members, used), (2, vec!["10.0.0.1".to_string()]));
}

pub async fn instance_counts<S: Store>(store: S) {
    let (a, r) = ("acct-1", "cn-hangzhou");
    for i in [
        instance(a, r, "i-1", "vsw-a", "10.0.0.1", &["sg-a", "sg-b"]),
        instance(a, r, "i-2", "vsw-a", "10.0.0.2", &["sg-a"]),
        instance(a, r, "i-3", "vsw-b", "10.0.1.1", &["sg-b"]),
        instance(a, "cn-beijing", "i-4", "vsw-z", "10.0.0.1", &["sg-z"]),
        instance("acct-2", r, "i-5", "vsw-q", "10.0.0.5", &["sg-a"]),
    ] {
        insert(&store, &i).await;
    }
    let counts = read(&store, |tx| {
        let a = "acct-1";
        Ok([
            tx.count_instances(
                &AccountId::from(a),
                InstanceScope::Vpc(&VpcId::from("vpc-vsw-a")),
            )?,
            tx.count_instances(
                &AccountId::from(a),
                InstanceScope::VSwitch(&VSwitchId::from("vsw-b")),
            )?,
            tx.count_instances(
                &AccountId::from(a),
                InstanceScope::SecurityGroup(&SecurityGroupId::from("sg-a")),
            )?,
            tx.count_instances(
                &AccountId::from(a),
                InstanceScope::SecurityGroup(&SecurityGroupId::from("sg-b")),
            )?,
            tx.count_instances(
                &AccountId::from(a),
                InstanceScope::SecurityGroup(&SecurityGroupId::from("sg-none")),
            )?,
            tx.count_instances(
                &AccountId::from("acct-2"),
                InstanceScope::SecurityGroup(&SecurityGroupId::from("sg-a")),
            )?,
            tx.count_instances(
                &AccountId::from("acct-3"),
                InstanceScope::Vpc(&VpcId::from("vpc-vsw-a")),
            )?,
        ])
    })
    .await;
    assert_eq!(counts, [2, 1, 2, 2, 0, 1, 0]);
    let members = read(&store, |tx| {
        tx.member_counts(&AccountId::from("acct-1"), "cn-hangzhou")
    })
    .await;
    let expected: HashMap<SecurityGroupId, u64> = [("sg-a".into(), 2), ("sg-b".into(), 2)].into();
    assert_eq!(members, expected);
}

pub async fn instances_account_isolation<S: Store>(store: S) {
    let mine = instance(
        "acct-1",
        "cn-hangzhou",
        "i-1",
        "vsw-a",
        "10.0.0.1",
        &["sg-a"],
    );
    insert(&store, &mine).await;
    assert_eq!(get(&store, "acct-2", "i-1").await, None);
    let mut theirs = mine.clone();
    theirs.account_id = "acct-2".into();
    theirs.name = "hijacked".into();
    theirs.security_group_ids = vec!["sg-x".into()];
    assert!(!write(&store, move |tx| tx.update_instance(&theirs)).await);
    assert!(
        !write(&store, |tx| tx.delete_instance(
            &AccountId::from("acct-2"),
            &InstanceId::from("i-1")
        ))
        .await
    );
    assert_eq!(get(&store, "acct-1", "i-1").await, Some(mine));
}
