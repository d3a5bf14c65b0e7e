//! Security groups, and that one account never sees or changes another's.

use super::{
    at, get_group, get_tags, group, insert_group, list_ids, put_tags, read, tag, write, SG,
};
use crate::ids::{AccountId, SecurityGroupId};
use crate::model::{InnerAccessPolicy, SecurityGroup, SecurityGroupType};
use crate::store::{Store, StoreError};

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
            tx.count_security_groups(&AccountId::from("acct-1"), "cn-hangzhou")?,
            tx.count_security_groups(&AccountId::from("acct-1"), "cn-shanghai")?,
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

    assert!(
        write(&store, |tx| tx.delete_security_group(
            &AccountId::from("acct-1"),
            &SecurityGroupId::from("sg-1")
        ))
        .await
    );
    assert!(
        !write(&store, |tx| tx.delete_security_group(
            &AccountId::from("acct-1"),
            &SecurityGroupId::from("sg-1")
        ))
        .await
    );
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
    let all = read(&store, |tx| tx.all_tags(&AccountId::from("acct-1"), SG)).await;
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
        tx.count_security_groups(&AccountId::from("acct-2"), "cn-hangzhou")
    })
    .await;
    assert_eq!(count, 0, "count");
    assert!(get_tags(&store, "acct-2", "sg-1").await.is_empty(), "tags");
    assert!(
        read(&store, |tx| tx.all_tags(&AccountId::from("acct-2"), SG))
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
        !write(&store, |tx| tx.delete_security_group(
            &AccountId::from("acct-2"),
            &SecurityGroupId::from("sg-1")
        ))
        .await,
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
