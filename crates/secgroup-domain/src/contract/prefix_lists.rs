//! Prefix lists: round trip with ordered entries, listing, update, delete (with entries and
//! tags), and that one account never sees or changes another's.

use super::{at, read, tag, write};
use crate::ids::{AccountId, PrefixListId};
use crate::model::{AddressFamily, PrefixList, PrefixListEntry, ResourceType, Tag};
use crate::store::{Store, StoreError};

const PL: ResourceType = ResourceType::PrefixList;

fn entry(cidr: &str, description: &str) -> PrefixListEntry {
    PrefixListEntry {
        cidr: cidr.to_owned(),
        description: description.to_owned(),
    }
}

/// An IPv4 list whose other fields derive from its id, created `secs` after [`at`]'s epoch.
fn list(
    account: &str,
    region: &str,
    id: &str,
    secs: i64,
    entries: Vec<PrefixListEntry>,
) -> PrefixList {
    PrefixList {
        id: id.to_owned(),
        account_id: account.to_owned(),
        region_id: region.to_owned(),
        name: format!("name-{id}"),
        description: format!("about {id}"),
        address_family: AddressFamily::IPv4,
        max_entries: 20,
        resource_group_id: String::new(),
        creation_time: at(secs, 0),
        entries,
    }
}

async fn insert_list<S: Store>(store: &S, l: &PrefixList) {
    let l = l.clone();
    write(store, move |tx| tx.insert_prefix_list(&l)).await;
}

async fn get_list<S: Store>(store: &S, account: &str, id: &str) -> Option<PrefixList> {
    let (account, id) = (account.to_owned(), id.to_owned());
    read(store, move |tx| {
        tx.prefix_list(&AccountId::from(&account), &PrefixListId::from(&id))
    })
    .await
}

async fn list_lists<S: Store>(store: &S, account: &str, region: &str) -> Vec<PrefixList> {
    let (account, region) = (account.to_owned(), region.to_owned());
    read(store, move |tx| {
        tx.prefix_lists(&AccountId::from(&account), &region)
    })
    .await
}

async fn count_lists<S: Store>(store: &S, account: &str, region: &str) -> u64 {
    let (account, region) = (account.to_owned(), region.to_owned());
    read(store, move |tx| {
        tx.count_prefix_lists(&AccountId::from(&account), &region)
    })
    .await
}

async fn list_tags<S: Store>(store: &S, account: &str, id: &str) -> Vec<Tag> {
    let (account, id) = (account.to_owned(), id.to_owned());
    read(store, move |tx| {
        tx.tags(&AccountId::from(&account), PL, &id)
    })
    .await
}

async fn put_list_tags<S: Store>(store: &S, account: &str, id: &str, tags: &[Tag]) {
    let (account, id, tags) = (account.to_owned(), id.to_owned(), tags.to_vec());
    write(store, move |tx| {
        tx.set_tags(&AccountId::from(&account), PL, &id, &tags)
    })
    .await;
}

pub async fn prefix_lists_insert_get_list<S: Store>(store: S) {
    // Entries out of any sorted order: they must come back as given.
    let first = list(
        "acct-1",
        "cn-hangzhou",
        "pl-c",
        0,
        vec![
            entry("192.168.0.0/16", "office"),
            entry("10.0.0.0/8", ""),
            entry("1.1.1.1/32", "数据中心 — ünïcödé \u{1F680}"),
        ],
    );
    let mut v6 = list(
        "acct-1",
        "cn-hangzhou",
        "pl-a",
        1,
        vec![entry("2001:db8::/32", "v6"), entry("fd00::1/128", "")],
    );
    v6.address_family = AddressFamily::IPv6;
    v6.max_entries = 200;
    v6.resource_group_id = "rg-1".to_owned();
    v6.creation_time = at(1, 123_456);
    v6.description = String::new();
    let empty = list("acct-1", "cn-hangzhou", "pl-b", 2, Vec::new());
    let elsewhere = list(
        "acct-1",
        "cn-beijing",
        "pl-z",
        3,
        vec![entry("172.16.0.0/12", "")],
    );
    for l in [&first, &v6, &empty, &elsewhere] {
        insert_list(&store, l).await;
    }

    assert_eq!(
        get_list(&store, "acct-1", "pl-c").await,
        Some(first.clone()),
        "round trip"
    );
    assert_eq!(
        get_list(&store, "acct-1", "pl-a").await,
        Some(v6.clone()),
        "round trip, IPv6"
    );
    assert_eq!(
        get_list(&store, "acct-1", "pl-b").await,
        Some(empty.clone()),
        "no entries"
    );
    assert_eq!(get_list(&store, "acct-1", "pl-none").await, None);

    assert_eq!(
        list_lists(&store, "acct-1", "cn-hangzhou").await,
        [first, v6, empty],
        "oldest first, with entries"
    );
    assert_eq!(
        list_lists(&store, "acct-1", "cn-beijing").await,
        [elsewhere]
    );
    assert!(list_lists(&store, "acct-1", "cn-shanghai").await.is_empty());
    assert_eq!(count_lists(&store, "acct-1", "cn-hangzhou").await, 3);
    assert_eq!(count_lists(&store, "acct-1", "cn-beijing").await, 1);
    assert_eq!(count_lists(&store, "acct-1", "cn-shanghai").await, 0);

    let dup = list("acct-2", "cn-hangzhou", "pl-a", 9, Vec::new());
    let again = store.write(move |tx| tx.insert_prefix_list(&dup)).await;
    assert!(
        matches!(again, Err(StoreError::Duplicate(_))),
        "duplicate id: {again:?}"
    );
    assert_eq!(get_list(&store, "acct-2", "pl-a").await, None);
}

pub async fn prefix_lists_update<S: Store>(store: S) {
    let original = list(
        "acct-1",
        "cn-hangzhou",
        "pl-1",
        0,
        vec![
            entry("10.0.0.0/8", "a"),
            entry("172.16.0.0/12", "b"),
            entry("192.168.0.0/16", "c"),
        ],
    );
    let neighbour = list(
        "acct-1",
        "cn-hangzhou",
        "pl-2",
        1,
        vec![entry("10.0.0.0/8", "other")],
    );
    insert_list(&store, &original).await;
    insert_list(&store, &neighbour).await;

    // An entry removed, one kept but moved and re-described, one new in the middle.
    let entries = vec![
        entry("192.168.0.0/16", "c, first now"),
        entry("100.64.0.0/10", "new"),
        entry("10.0.0.0/8", "a"),
    ];
    let mut changed = original.clone();
    changed.name = "renamed".to_owned();
    changed.description = "new words".to_owned();
    changed.entries = entries.clone();
    // Not overwritten by an update: must be ignored.
    changed.region_id = "cn-beijing".to_owned();
    changed.address_family = AddressFamily::IPv6;
    changed.max_entries = 5;
    changed.resource_group_id = "rg-9".to_owned();
    changed.creation_time = at(99, 0);
    let update = changed.clone();
    assert!(write(&store, move |tx| tx.update_prefix_list(&update)).await);

    let expected = PrefixList {
        name: changed.name.clone(),
        description: changed.description.clone(),
        entries,
        ..original.clone()
    };
    assert_eq!(
        get_list(&store, "acct-1", "pl-1").await,
        Some(expected.clone())
    );
    assert_eq!(
        list_lists(&store, "acct-1", "cn-hangzhou").await,
        [expected.clone(), neighbour.clone()],
        "keeps its place; the other list's entries untouched"
    );

    // Down to no entries, then back to one.
    let mut cleared = expected.clone();
    cleared.entries.clear();
    let update = cleared.clone();
    assert!(write(&store, move |tx| tx.update_prefix_list(&update)).await);
    assert_eq!(
        get_list(&store, "acct-1", "pl-1").await,
        Some(cleared.clone())
    );
    let mut one = cleared;
    one.entries = vec![entry("172.16.0.0/12", "back")];
    let update = one.clone();
    assert!(write(&store, move |tx| tx.update_prefix_list(&update)).await);
    assert_eq!(get_list(&store, "acct-1", "pl-1").await, Some(one));

    let missing = list(
        "acct-1",
        "cn-hangzhou",
        "pl-none",
        2,
        vec![entry("10.0.0.0/8", "")],
    );
    assert!(!write(&store, move |tx| tx.update_prefix_list(&missing)).await);
    assert_eq!(
        get_list(&store, "acct-1", "pl-none").await,
        None,
        "no insert on update"
    );
    assert_eq!(count_lists(&store, "acct-1", "cn-hangzhou").await, 2);
}

pub async fn prefix_lists_delete_removes_entries_and_tags<S: Store>(store: S) {
    insert_list(
        &store,
        &list(
            "acct-1",
            "cn-hangzhou",
            "pl-1",
            0,
            vec![entry("10.0.0.0/8", "x")],
        ),
    )
    .await;
    let survivor = list(
        "acct-1",
        "cn-hangzhou",
        "pl-2",
        1,
        vec![entry("10.0.0.0/8", "y")],
    );
    insert_list(&store, &survivor).await;
    put_list_tags(&store, "acct-1", "pl-1", &[tag("env", "prod")]).await;
    put_list_tags(&store, "acct-1", "pl-2", &[tag("env", "dev")]).await;
    // A security group's tags under the same id are another resource's.
    write(&store, |tx| {
        tx.set_tags(
            &AccountId::from("acct-1"),
            ResourceType::SecurityGroup,
            "pl-1",
            &[tag("sg", "1")],
        )
    })
    .await;

    assert!(
        write(&store, |tx| tx.delete_prefix_list(
            &AccountId::from("acct-1"),
            &PrefixListId::from("pl-1")
        ))
        .await
    );
    assert!(
        !write(&store, |tx| tx.delete_prefix_list(
            &AccountId::from("acct-1"),
            &PrefixListId::from("pl-1")
        ))
        .await
    );
    assert_eq!(get_list(&store, "acct-1", "pl-1").await, None);
    assert!(
        list_tags(&store, "acct-1", "pl-1").await.is_empty(),
        "tags deleted"
    );
    let all = read(&store, |tx| tx.all_tags(&AccountId::from("acct-1"), PL)).await;
    assert!(
        all.get("pl-1").cloned().unwrap_or_default().is_empty(),
        "{all:?}"
    );
    assert_eq!(
        list_tags(&store, "acct-1", "pl-2").await,
        [tag("env", "dev")]
    );
    let sg_tags = read(&store, |tx| {
        tx.tags(
            &AccountId::from("acct-1"),
            ResourceType::SecurityGroup,
            "pl-1",
        )
    })
    .await;
    assert_eq!(sg_tags, [tag("sg", "1")]);
    assert_eq!(
        list_lists(&store, "acct-1", "cn-hangzhou").await,
        std::slice::from_ref(&survivor)
    );
    assert_eq!(count_lists(&store, "acct-1", "cn-hangzhou").await, 1);

    // Recreating the id starts with only its own entries, no tags, and lists last.
    let again = list(
        "acct-1",
        "cn-hangzhou",
        "pl-1",
        2,
        vec![entry("192.168.0.0/16", "z")],
    );
    insert_list(&store, &again).await;
    assert_eq!(
        get_list(&store, "acct-1", "pl-1").await,
        Some(again.clone())
    );
    assert!(list_tags(&store, "acct-1", "pl-1").await.is_empty());
    assert_eq!(
        list_lists(&store, "acct-1", "cn-hangzhou").await,
        [survivor, again]
    );
}

pub async fn prefix_lists_account_isolation<S: Store>(store: S) {
    let mine = list(
        "acct-1",
        "cn-hangzhou",
        "pl-1",
        0,
        vec![entry("10.0.0.0/8", "mine")],
    );
    insert_list(&store, &mine).await;
    put_list_tags(&store, "acct-1", "pl-1", &[tag("owner", "me")]).await;

    assert_eq!(get_list(&store, "acct-2", "pl-1").await, None, "get");
    assert!(
        list_lists(&store, "acct-2", "cn-hangzhou").await.is_empty(),
        "list"
    );
    assert_eq!(
        count_lists(&store, "acct-2", "cn-hangzhou").await,
        0,
        "count"
    );

    let mut hijack = mine.clone();
    hijack.account_id = "acct-2".to_owned();
    hijack.name = "stolen".to_owned();
    hijack.entries = vec![entry("0.0.0.0/0", "everything")];
    assert!(
        !write(&store, move |tx| tx.update_prefix_list(&hijack)).await,
        "update"
    );
    assert!(
        !write(&store, |tx| tx.delete_prefix_list(
            &AccountId::from("acct-2"),
            &PrefixListId::from("pl-1")
        ))
        .await,
        "delete"
    );

    assert_eq!(
        get_list(&store, "acct-1", "pl-1").await,
        Some(mine),
        "untouched"
    );
    assert_eq!(
        list_tags(&store, "acct-1", "pl-1").await,
        [tag("owner", "me")]
    );
}
