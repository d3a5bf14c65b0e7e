//! VPCs and vSwitches: round trips, the mutable fields, deletes with their tags, the
//! security-group count of a VPC, and isolation between accounts.

use super::{at, group, insert_group, read, tag, write};
use crate::ids::{AccountId, SecurityGroupId, VSwitchId, VpcId};
use crate::model::ResourceType;
use crate::network::{VSwitch, Vpc};
use crate::store::{Store, StoreError};

/// A VPC whose other fields derive from its id, created `secs` after [`at`]'s epoch.
pub fn vpc(account: &str, region: &str, id: &str, secs: i64) -> Vpc {
    Vpc {
        id: id.to_owned(),
        account_id: account.to_owned(),
        region_id: region.to_owned(),
        cidr_block: "172.16.0.0/12".to_owned(),
        name: format!("name-{id}"),
        description: format!("about {id}"),
        resource_group_id: String::new(),
        vrouter_id: format!("vrt-{id}"),
        route_table_id: format!("vtb-{id}"),
        user_cidrs: Vec::new(),
        enable_ipv6: false,
        ipv6_cidr_block: String::new(),
        enable_dns_hostname: false,
        creation_time: at(secs, 0),
    }
}

/// A vSwitch of `vpc_id` whose other fields derive from its id.
pub fn vswitch(account: &str, region: &str, vpc_id: &str, id: &str, secs: i64) -> VSwitch {
    VSwitch {
        id: id.to_owned(),
        account_id: account.to_owned(),
        region_id: region.to_owned(),
        vpc_id: vpc_id.to_owned(),
        zone_id: format!("{region}-b"),
        cidr_block: format!("172.16.{secs}.0/24"),
        name: format!("name-{id}"),
        description: format!("about {id}"),
        creation_time: at(secs, 0),
    }
}

async fn vpc_ids<S: Store>(store: &S, account: &str, region: &str) -> Vec<String> {
    let (account, region) = (account.to_owned(), region.to_owned());
    let vpcs = read(store, move |tx| {
        tx.vpcs(&AccountId::from(&account), &region)
    })
    .await;
    vpcs.into_iter().map(|v| v.id).collect()
}

async fn vswitch_ids<S: Store>(store: &S, account: &str, region: &str) -> Vec<String> {
    let (account, region) = (account.to_owned(), region.to_owned());
    let all = read(store, move |tx| {
        tx.vswitches(&AccountId::from(&account), &region)
    })
    .await;
    all.into_iter().map(|s| s.id).collect()
}

pub async fn vpcs_insert_get_list_update<S: Store>(store: S) {
    for (i, id) in ["vpc-c", "vpc-a", "vpc-b"].iter().enumerate() {
        let v = vpc("acct-1", "cn-hangzhou", id, i as i64);
        write(&store, move |tx| tx.insert_vpc(&v)).await;
    }
    let mut full = vpc("acct-1", "cn-beijing", "vpc-z", 10);
    full.user_cidrs = vec!["10.0.0.0/16".to_owned(), "192.168.0.0/16".to_owned()];
    full.enable_ipv6 = true;
    full.ipv6_cidr_block = "2408:4005:300:ab00::/56".to_owned();
    full.enable_dns_hostname = true;
    full.resource_group_id = "rg-1".to_owned();
    let insert = full.clone();
    write(&store, move |tx| tx.insert_vpc(&insert)).await;

    let got = read(&store, |tx| {
        tx.vpc(&AccountId::from("acct-1"), &VpcId::from("vpc-a"))
    })
    .await;
    assert_eq!(
        got,
        Some(vpc("acct-1", "cn-hangzhou", "vpc-a", 1)),
        "round trip"
    );
    let got = read(&store, |tx| {
        tx.vpc(&AccountId::from("acct-1"), &VpcId::from("vpc-z"))
    })
    .await;
    assert_eq!(got, Some(full.clone()), "round trip, every field set");
    assert_eq!(
        read(&store, |tx| tx
            .vpc(&AccountId::from("acct-1"), &VpcId::from("vpc-none")))
        .await,
        None
    );
    assert_eq!(
        vpc_ids(&store, "acct-1", "cn-hangzhou").await,
        ["vpc-c", "vpc-a", "vpc-b"],
        "oldest first"
    );
    assert_eq!(vpc_ids(&store, "acct-1", "cn-beijing").await, ["vpc-z"]);

    let dup = vpc("acct-2", "cn-hangzhou", "vpc-a", 20);
    let again = store.write(move |tx| tx.insert_vpc(&dup)).await;
    assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");

    let mut changed = full.clone();
    changed.cidr_block = "172.16.0.0/16".to_owned();
    changed.name = "renamed".to_owned();
    changed.description = String::new();
    changed.resource_group_id = "rg-2".to_owned();
    changed.user_cidrs = Vec::new();
    changed.enable_ipv6 = false;
    changed.ipv6_cidr_block = String::new();
    changed.enable_dns_hostname = false;
    let mut update = changed.clone();
    // Not mutable: must be ignored.
    update.region_id = "cn-shanghai".to_owned();
    update.vrouter_id = "vrt-other".to_owned();
    update.route_table_id = "vtb-other".to_owned();
    update.creation_time = at(99, 0);
    assert!(write(&store, move |tx| tx.update_vpc(&update)).await);
    assert_eq!(
        read(&store, |tx| tx
            .vpc(&AccountId::from("acct-1"), &VpcId::from("vpc-z")))
        .await,
        Some(changed)
    );
    let missing = vpc("acct-1", "cn-hangzhou", "vpc-none", 0);
    assert!(!write(&store, move |tx| tx.update_vpc(&missing)).await);
}

pub async fn vswitches_insert_get_list_update<S: Store>(store: S) {
    let v = vpc("acct-1", "cn-hangzhou", "vpc-1", 0);
    write(&store, move |tx| tx.insert_vpc(&v)).await;
    for (i, id) in ["vsw-b", "vsw-a"].iter().enumerate() {
        let s = vswitch("acct-1", "cn-hangzhou", "vpc-1", id, i as i64);
        write(&store, move |tx| tx.insert_vswitch(&s)).await;
    }
    let other = vswitch("acct-1", "cn-beijing", "vpc-9", "vsw-z", 5);
    let insert = other.clone();
    write(&store, move |tx| tx.insert_vswitch(&insert)).await;

    let got = read(&store, |tx| {
        tx.vswitch(&AccountId::from("acct-1"), &VSwitchId::from("vsw-a"))
    })
    .await;
    assert_eq!(
        got,
        Some(vswitch("acct-1", "cn-hangzhou", "vpc-1", "vsw-a", 1))
    );
    assert_eq!(
        read(&store, |tx| tx.vswitch(
            &AccountId::from("acct-1"),
            &VSwitchId::from("vsw-none")
        ))
        .await,
        None
    );
    assert_eq!(
        vswitch_ids(&store, "acct-1", "cn-hangzhou").await,
        ["vsw-b", "vsw-a"]
    );
    assert_eq!(vswitch_ids(&store, "acct-1", "cn-beijing").await, ["vsw-z"]);

    let mut changed = other.clone();
    changed.name = "renamed".to_owned();
    changed.description = "new words".to_owned();
    let mut update = changed.clone();
    // Not mutable: must be ignored.
    update.cidr_block = "10.0.0.0/24".to_owned();
    update.zone_id = "cn-beijing-c".to_owned();
    update.vpc_id = "vpc-other".to_owned();
    assert!(write(&store, move |tx| tx.update_vswitch(&update)).await);
    assert_eq!(
        read(&store, |tx| tx.vswitch(
            &AccountId::from("acct-1"),
            &VSwitchId::from("vsw-z")
        ))
        .await,
        Some(changed)
    );

    let dup = vswitch("acct-2", "cn-hangzhou", "vpc-1", "vsw-a", 9);
    let again = store.write(move |tx| tx.insert_vswitch(&dup)).await;
    assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");
}

pub async fn vpcs_delete_removes_tags<S: Store>(store: S) {
    let v = vpc("acct-1", "cn-hangzhou", "vpc-1", 0);
    let s = vswitch("acct-1", "cn-hangzhou", "vpc-1", "vsw-1", 1);
    write(&store, move |tx| {
        tx.insert_vpc(&v)?;
        tx.insert_vswitch(&s)?;
        tx.set_tags(
            &AccountId::from("acct-1"),
            ResourceType::Vpc,
            "vpc-1",
            &[tag("env", "prod")],
        )?;
        tx.set_tags(
            &AccountId::from("acct-1"),
            ResourceType::VSwitch,
            "vsw-1",
            &[tag("tier", "web")],
        )
    })
    .await;

    assert!(
        write(&store, |tx| tx.delete_vswitch(
            &AccountId::from("acct-1"),
            &VSwitchId::from("vsw-1")
        ))
        .await
    );
    assert!(
        !write(&store, |tx| tx.delete_vswitch(
            &AccountId::from("acct-1"),
            &VSwitchId::from("vsw-1")
        ))
        .await
    );
    assert!(
        write(&store, |tx| tx
            .delete_vpc(&AccountId::from("acct-1"), &VpcId::from("vpc-1")))
        .await
    );
    assert!(
        !write(&store, |tx| tx
            .delete_vpc(&AccountId::from("acct-1"), &VpcId::from("vpc-1")))
        .await
    );
    let (vpc_tags, vsw_tags) = read(&store, |tx| {
        Ok((
            tx.tags(&AccountId::from("acct-1"), ResourceType::Vpc, "vpc-1")?,
            tx.tags(&AccountId::from("acct-1"), ResourceType::VSwitch, "vsw-1")?,
        ))
    })
    .await;
    assert!(vpc_tags.is_empty() && vsw_tags.is_empty(), "tags deleted");
    assert!(vpc_ids(&store, "acct-1", "cn-hangzhou").await.is_empty());
    assert!(vswitch_ids(&store, "acct-1", "cn-hangzhou")
        .await
        .is_empty());
}

pub async fn security_groups_in_vpc<S: Store>(store: S) {
    let mut g1 = group("acct-1", "cn-hangzhou", "sg-1", 0);
    g1.vpc_id = "vpc-1".to_owned();
    let mut g2 = group("acct-1", "cn-beijing", "sg-2", 1);
    g2.vpc_id = "vpc-1".to_owned();
    let mut theirs = group("acct-2", "cn-hangzhou", "sg-3", 2);
    theirs.vpc_id = "vpc-1".to_owned();
    for g in [&g1, &g2, &theirs] {
        insert_group(&store, g).await;
    }
    let counts = read(&store, |tx| {
        Ok((
            tx.count_security_groups_in_vpc(&AccountId::from("acct-1"), &VpcId::from("vpc-1"))?,
            tx.count_security_groups_in_vpc(&AccountId::from("acct-1"), &VpcId::from("vpc-2"))?,
            tx.count_security_groups_in_vpc(&AccountId::from("acct-2"), &VpcId::from("vpc-1"))?,
        ))
    })
    .await;
    assert_eq!(counts, (2, 0, 1));
    assert!(
        write(&store, |tx| tx.delete_security_group(
            &AccountId::from("acct-1"),
            &SecurityGroupId::from("sg-1")
        ))
        .await
    );
    let left = read(&store, |tx| {
        tx.count_security_groups_in_vpc(&AccountId::from("acct-1"), &VpcId::from("vpc-1"))
    })
    .await;
    assert_eq!(left, 1);
}

pub async fn vpcs_account_isolation<S: Store>(store: S) {
    let v = vpc("acct-1", "cn-hangzhou", "vpc-1", 0);
    let s = vswitch("acct-1", "cn-hangzhou", "vpc-1", "vsw-1", 1);
    let (v2, s2) = (v.clone(), s.clone());
    write(&store, move |tx| {
        tx.insert_vpc(&v2)?;
        tx.insert_vswitch(&s2)
    })
    .await;

    assert_eq!(
        read(&store, |tx| tx
            .vpc(&AccountId::from("acct-2"), &VpcId::from("vpc-1")))
        .await,
        None
    );
    assert_eq!(
        read(&store, |tx| tx.vswitch(
            &AccountId::from("acct-2"),
            &VSwitchId::from("vsw-1")
        ))
        .await,
        None
    );
    assert!(vpc_ids(&store, "acct-2", "cn-hangzhou").await.is_empty());
    assert!(vswitch_ids(&store, "acct-2", "cn-hangzhou")
        .await
        .is_empty());

    let mut hijack = v.clone();
    hijack.account_id = "acct-2".to_owned();
    hijack.name = "stolen".to_owned();
    assert!(!write(&store, move |tx| tx.update_vpc(&hijack)).await);
    let mut hijack = s.clone();
    hijack.account_id = "acct-2".to_owned();
    hijack.name = "stolen".to_owned();
    assert!(!write(&store, move |tx| tx.update_vswitch(&hijack)).await);
    assert!(
        !write(&store, |tx| tx.delete_vswitch(
            &AccountId::from("acct-2"),
            &VSwitchId::from("vsw-1")
        ))
        .await
    );
    assert!(
        !write(&store, |tx| tx
            .delete_vpc(&AccountId::from("acct-2"), &VpcId::from("vpc-1")))
        .await
    );

    assert_eq!(
        read(&store, |tx| tx
            .vpc(&AccountId::from("acct-1"), &VpcId::from("vpc-1")))
        .await,
        Some(v)
    );
    assert_eq!(
        read(&store, |tx| tx.vswitch(
            &AccountId::from("acct-1"),
            &VSwitchId::from("vsw-1")
        ))
        .await,
        Some(s)
    );
}
