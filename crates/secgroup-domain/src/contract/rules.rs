//! Security-group rules: storage round trip, order, update and delete, the per-group
//! counts, who references a group or a prefix list, and account isolation.

use std::collections::HashMap;

use super::{at, group, insert_group, read, write};
use crate::ids::{AccountId, PrefixListId, RuleId, SecurityGroupId};
use crate::rules::{Rule, RuleRow};
use crate::store::Store;

/// An ingress TCP 22 rule from `10.0.0.0/8`, created `secs` after [`at`]'s epoch; change
/// fields with struct update syntax.
fn rule_row(id: &str, security_group_id: &str, secs: i64) -> RuleRow {
    RuleRow {
        id: id.to_owned(),
        security_group_id: security_group_id.to_owned(),
        direction: "ingress".to_owned(),
        ip_protocol: "TCP".to_owned(),
        port_range: "22/22".to_owned(),
        source_port_range: String::new(),
        policy: "Accept".to_owned(),
        priority: 1,
        peer_kind: "cidr".to_owned(),
        peer_value: "10.0.0.0/8".to_owned(),
        peer_owner_account: String::new(),
        local_cidr: String::new(),
        description: String::new(),
        create_time: at(secs, 0),
    }
}

/// The rule of a row; the row must be in the canonical form [`Rule::to_row`] writes, so
/// comparing rows read back with the rows written is exact.
fn rule(row: RuleRow) -> Rule {
    let rule = Rule::from_row(row.clone()).expect("a valid rule row");
    assert_eq!(rule.to_row(), row, "fixture is not canonical");
    rule
}

/// A rule whose peer is a group, of `owner` (empty: the rule's own account).
fn group_peer(id: &str, security_group_id: &str, peer: &str, owner: &str, secs: i64) -> RuleRow {
    RuleRow {
        peer_kind: "group".to_owned(),
        peer_value: peer.to_owned(),
        peer_owner_account: owner.to_owned(),
        ..rule_row(id, security_group_id, secs)
    }
}

fn prefix_list_peer(id: &str, security_group_id: &str, list: &str, secs: i64) -> RuleRow {
    RuleRow {
        peer_kind: "prefix_list".to_owned(),
        peer_value: list.to_owned(),
        ..rule_row(id, security_group_id, secs)
    }
}

async fn insert_rules<S: Store>(store: &S, account: &str, rows: &[RuleRow]) {
    let (account, rules) = (
        account.to_owned(),
        rows.iter().cloned().map(rule).collect::<Vec<_>>(),
    );
    write(store, move |tx| {
        for r in &rules {
            tx.insert_rule(&AccountId::from(&account), r)?;
        }
        Ok(())
    })
    .await;
}

async fn rule_rows<S: Store>(store: &S, account: &str, group_id: &str) -> Vec<RuleRow> {
    let (account, group_id) = (account.to_owned(), group_id.to_owned());
    let rules = read(store, move |tx| {
        tx.rules(
            &AccountId::from(&account),
            &SecurityGroupId::from(&group_id),
        )
    })
    .await;
    rules.iter().map(Rule::to_row).collect()
}

async fn counts<S: Store>(store: &S, account: &str, region: &str) -> HashMap<String, (u64, u64)> {
    let (account, region) = (account.to_owned(), region.to_owned());
    read(store, move |tx| {
        tx.rule_counts(&AccountId::from(&account), &region)
    })
    .await
    .into_iter()
    .map(|(group, counts)| (group.into_string(), counts))
    .collect()
}

/// Sorted, as the trait promises no order.
async fn referencing_group<S: Store>(store: &S, group_id: &str) -> Vec<(String, String)> {
    let group_id = group_id.to_owned();
    let mut got = read(store, move |tx| {
        tx.groups_referencing_group(&SecurityGroupId::from(&group_id))
    })
    .await;
    got.sort();
    got.into_iter()
        .map(|(group, account)| (group.into_string(), account.into_string()))
        .collect()
}

/// Sorted, as the trait promises no order.
async fn referencing_list<S: Store>(store: &S, account: &str, list: &str) -> Vec<String> {
    let (account, list) = (account.to_owned(), list.to_owned());
    let mut got = read(store, move |tx| {
        tx.groups_referencing_prefix_list(&AccountId::from(&account), &PrefixListId::from(&list))
    })
    .await;
    got.sort();
    got.into_iter().map(SecurityGroupId::into_string).collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(g, a)| ((*g).to_owned(), (*a).to_owned()))
        .collect()
}

/// Every column survives storage, rules list in creation order, per group.
pub async fn rules_insert_list_round_trip<S: Store>(store: S) {
    insert_group(&store, &group("acct-1", "cn-hangzhou", "sg-1", 0)).await;
    insert_group(&store, &group("acct-1", "cn-hangzhou", "sg-2", 1)).await;

    let plain = rule_row("sgr-c", "sg-1", 10);
    let ipv6_quintuple = RuleRow {
        direction: "egress".to_owned(),
        ip_protocol: "UDP".to_owned(),
        port_range: "1/65535".to_owned(),
        source_port_range: "80/8080".to_owned(),
        policy: "Drop".to_owned(),
        priority: 100,
        peer_kind: "ipv6".to_owned(),
        peer_value: "2001:db8::/64".to_owned(),
        local_cidr: "2001:db8:1::/64".to_owned(),
        description: "数据库 — ünïcödé \u{1F680} \"quoted\"\nsecond line".to_owned(),
        create_time: at(11, 123_456),
        ..rule_row("sgr-a", "sg-1", 0)
    };
    let other_account_group = RuleRow {
        ip_protocol: "ICMP".to_owned(),
        port_range: "-1/-1".to_owned(),
        priority: 50,
        description: "from the peer account".to_owned(),
        ..group_peer("sgr-b", "sg-1", "sg-9", "acct-2", 12)
    };
    let v4_quintuple = RuleRow {
        ip_protocol: "ALL".to_owned(),
        port_range: "-1/-1".to_owned(),
        local_cidr: "192.168.1.7/24".to_owned(),
        peer_value: "10.0.0.5".to_owned(),
        ..rule_row("sgr-d", "sg-1", 13)
    };
    let icmpv6_host = RuleRow {
        direction: "egress".to_owned(),
        ip_protocol: "ICMPv6".to_owned(),
        port_range: "-1/-1".to_owned(),
        peer_kind: "ipv6".to_owned(),
        peer_value: "2001:db8::1".to_owned(),
        ..rule_row("sgr-e", "sg-2", 14)
    };
    let gre_list = RuleRow {
        ip_protocol: "GRE".to_owned(),
        port_range: "-1/-1".to_owned(),
        ..prefix_list_peer("sgr-f", "sg-1", "pl-1", 15)
    };
    let same_account_group = group_peer("sgr-g", "sg-2", "sg-1", "", 16);

    // Interleaved between the groups, ids out of order.
    insert_rules(
        &store,
        "acct-1",
        &[
            plain.clone(),
            icmpv6_host.clone(),
            ipv6_quintuple.clone(),
            other_account_group.clone(),
        ],
    )
    .await;
    insert_rules(
        &store,
        "acct-1",
        &[
            v4_quintuple.clone(),
            same_account_group.clone(),
            gre_list.clone(),
        ],
    )
    .await;

    assert_eq!(
        rule_rows(&store, "acct-1", "sg-1").await,
        [
            plain,
            ipv6_quintuple,
            other_account_group,
            v4_quintuple,
            gre_list
        ],
        "every column, creation order"
    );
    assert_eq!(
        rule_rows(&store, "acct-1", "sg-2").await,
        [icmpv6_host, same_account_group]
    );
    assert!(rule_rows(&store, "acct-1", "sg-none").await.is_empty());
}

/// Updates overwrite in place; deletes count only the group's own rules.
pub async fn rules_update_delete<S: Store>(store: S) {
    insert_group(&store, &group("acct-1", "cn-hangzhou", "sg-1", 0)).await;
    insert_group(&store, &group("acct-1", "cn-hangzhou", "sg-2", 1)).await;
    let rows = [
        rule_row("sgr-1", "sg-1", 1),
        rule_row("sgr-2", "sg-1", 2),
        rule_row("sgr-3", "sg-1", 3),
    ];
    insert_rules(&store, "acct-1", &rows).await;
    insert_rules(&store, "acct-1", &[rule_row("sgr-4", "sg-2", 4)]).await;

    let changed = RuleRow {
        direction: "egress".to_owned(),
        ip_protocol: "UDP".to_owned(),
        port_range: "53/53".to_owned(),
        source_port_range: "1024/65535".to_owned(),
        policy: "Drop".to_owned(),
        priority: 9,
        peer_kind: "ipv6".to_owned(),
        peer_value: "fd00::/8".to_owned(),
        local_cidr: "fd00:1::/64".to_owned(),
        description: "changed".to_owned(),
        ..rows[1].clone()
    };
    let update = rule(changed.clone());
    assert!(
        write(&store, move |tx| tx
            .update_rule(&AccountId::from("acct-1"), &update))
        .await
    );
    assert_eq!(
        rule_rows(&store, "acct-1", "sg-1").await,
        [rows[0].clone(), changed.clone(), rows[2].clone()],
        "updated in place"
    );

    let missing = rule(rule_row("sgr-none", "sg-1", 5));
    assert!(
        !write(&store, move |tx| tx
            .update_rule(&AccountId::from("acct-1"), &missing))
        .await
    );
    assert_eq!(
        rule_rows(&store, "acct-1", "sg-1").await.len(),
        3,
        "no insert on update"
    );

    // sgr-4 is another group's, sgr-none does not exist, sgr-1 is named twice.
    let ids: Vec<RuleId> = ["sgr-1", "sgr-4", "sgr-none", "sgr-3", "sgr-1"]
        .map(RuleId::from)
        .to_vec();
    let deleted = write(&store, move |tx| {
        tx.delete_rules(
            &AccountId::from("acct-1"),
            &SecurityGroupId::from("sg-1"),
            &ids,
        )
    })
    .await;
    assert_eq!(deleted, 2);
    assert_eq!(rule_rows(&store, "acct-1", "sg-1").await, [changed]);
    assert_eq!(
        rule_rows(&store, "acct-1", "sg-2").await,
        [rule_row("sgr-4", "sg-2", 4)]
    );
    let none = write(&store, |tx| {
        tx.delete_rules(
            &AccountId::from("acct-1"),
            &SecurityGroupId::from("sg-1"),
            &[],
        )
    })
    .await;
    assert_eq!(none, 0);

    // A deleted rule's id can be used again, and the new rule lists last.
    insert_rules(&store, "acct-1", &[rule_row("sgr-1", "sg-1", 6)]).await;
    let ids: Vec<String> = rule_rows(&store, "acct-1", "sg-1")
        .await
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["sgr-2", "sgr-1"]);
}

/// Rule counts per group, and the groups whose rules name a group or a prefix list.
pub async fn rule_counts_and_references<S: Store>(store: S) {
    for (i, (account, region, id)) in [
        ("acct-1", "cn-hangzhou", "sg-1"),
        ("acct-1", "cn-hangzhou", "sg-2"),
        ("acct-1", "cn-hangzhou", "sg-empty"),
        ("acct-1", "cn-beijing", "sg-3"),
        ("acct-2", "cn-hangzhou", "sg-x"),
    ]
    .into_iter()
    .enumerate()
    {
        insert_group(&store, &group(account, region, id, i as i64)).await;
    }
    insert_rules(
        &store,
        "acct-1",
        &[
            // sg-1 names itself, and a prefix list.
            group_peer("sgr-1", "sg-1", "sg-1", "", 1),
            rule_row("sgr-2", "sg-1", 2),
            prefix_list_peer("sgr-3", "sg-1", "pl-1", 3),
            // sg-2 names sg-1 twice and sg-x of acct-2 once.
            group_peer("sgr-4", "sg-2", "sg-1", "", 4),
            RuleRow {
                port_range: "80/80".to_owned(),
                ..group_peer("sgr-5", "sg-2", "sg-1", "", 5)
            },
            group_peer("sgr-6", "sg-2", "sg-x", "acct-2", 6),
            // sg-3 (another region) names sg-1 and the prefix list, twice.
            group_peer("sgr-7", "sg-3", "sg-1", "", 7),
            prefix_list_peer("sgr-8", "sg-3", "pl-1", 8),
            RuleRow {
                port_range: "80/80".to_owned(),
                ..prefix_list_peer("sgr-9", "sg-3", "pl-1", 9)
            },
            // The kind matters, not only the value.
            prefix_list_peer("sgr-10", "sg-2", "sg-empty", 10),
        ],
    )
    .await;
    insert_rules(
        &store,
        "acct-2",
        &[
            // Another account names acct-1's sg-1, and has a list of the same id (as ids go,
            // impossible, but the query must still be scoped).
            group_peer("sgr-11", "sg-x", "sg-1", "acct-1", 11),
            prefix_list_peer("sgr-12", "sg-x", "pl-1", 12),
            rule_row("sgr-13", "sg-x", 13),
        ],
    )
    .await;

    let got = counts(&store, "acct-1", "cn-hangzhou").await;
    assert_eq!(got.get("sg-1"), Some(&(3, 1)), "{got:?}");
    assert_eq!(got.get("sg-2"), Some(&(4, 3)), "{got:?}");
    assert_eq!(
        got.get("sg-empty").copied().unwrap_or((0, 0)),
        (0, 0),
        "{got:?}"
    );
    assert!(
        got.keys()
            .all(|k| ["sg-1", "sg-2", "sg-empty"].contains(&k.as_str())),
        "{got:?}"
    );
    let got = counts(&store, "acct-1", "cn-beijing").await;
    assert_eq!(got, HashMap::from([("sg-3".to_owned(), (3, 1))]));
    let got = counts(&store, "acct-2", "cn-hangzhou").await;
    assert_eq!(got, HashMap::from([("sg-x".to_owned(), (3, 1))]));
    assert!(counts(&store, "acct-1", "cn-shanghai").await.is_empty());
    assert!(counts(&store, "acct-3", "cn-hangzhou").await.is_empty());

    assert_eq!(
        referencing_group(&store, "sg-1").await,
        pairs(&[
            ("sg-1", "acct-1"),
            ("sg-2", "acct-1"),
            ("sg-3", "acct-1"),
            ("sg-x", "acct-2")
        ]),
        "distinct, self and other accounts included"
    );
    assert_eq!(
        referencing_group(&store, "sg-x").await,
        pairs(&[("sg-2", "acct-1")])
    );
    assert!(referencing_group(&store, "sg-2").await.is_empty());
    assert!(
        referencing_group(&store, "sg-empty").await.is_empty(),
        "a prefix-list peer is not a group"
    );
    assert!(referencing_group(&store, "pl-1").await.is_empty());

    assert_eq!(
        referencing_list(&store, "acct-1", "pl-1").await,
        ["sg-1", "sg-3"]
    );
    assert_eq!(referencing_list(&store, "acct-2", "pl-1").await, ["sg-x"]);
    assert_eq!(
        referencing_list(&store, "acct-1", "sg-empty").await,
        ["sg-2"]
    );
    assert!(
        referencing_list(&store, "acct-1", "sg-1").await.is_empty(),
        "a group peer is not a list"
    );
    assert!(referencing_list(&store, "acct-1", "pl-2").await.is_empty());

    // References go with the rules that made them.
    let ids = vec![RuleId::from("sgr-4"), RuleId::from("sgr-5")];
    assert_eq!(
        write(&store, move |tx| tx.delete_rules(
            &AccountId::from("acct-1"),
            &SecurityGroupId::from("sg-2"),
            &ids
        ))
        .await,
        2
    );
    assert_eq!(
        referencing_group(&store, "sg-1").await,
        pairs(&[("sg-1", "acct-1"), ("sg-3", "acct-1"), ("sg-x", "acct-2")])
    );
    assert_eq!(
        counts(&store, "acct-1", "cn-hangzhou").await.get("sg-2"),
        Some(&(2, 1))
    );
}

/// Deleting a group deletes its rules, and only its.
pub async fn groups_delete_removes_rules<S: Store>(store: S) {
    insert_group(&store, &group("acct-1", "cn-hangzhou", "sg-1", 0)).await;
    insert_group(&store, &group("acct-1", "cn-hangzhou", "sg-2", 1)).await;
    insert_group(&store, &group("acct-2", "cn-hangzhou", "sg-x", 2)).await;
    insert_rules(
        &store,
        "acct-1",
        &[
            group_peer("sgr-1", "sg-1", "sg-2", "", 1),
            prefix_list_peer("sgr-2", "sg-1", "pl-1", 2),
            rule_row("sgr-3", "sg-2", 3),
        ],
    )
    .await;
    insert_rules(
        &store,
        "acct-2",
        &[group_peer("sgr-4", "sg-x", "sg-2", "acct-1", 4)],
    )
    .await;

    // Another account's delete changes nothing.
    assert!(
        !write(&store, |tx| tx.delete_security_group(
            &AccountId::from("acct-2"),
            &SecurityGroupId::from("sg-1")
        ))
        .await
    );
    assert_eq!(rule_rows(&store, "acct-1", "sg-1").await.len(), 2);

    assert!(
        write(&store, |tx| tx.delete_security_group(
            &AccountId::from("acct-1"),
            &SecurityGroupId::from("sg-1")
        ))
        .await
    );
    assert!(
        rule_rows(&store, "acct-1", "sg-1").await.is_empty(),
        "rules deleted"
    );
    assert_eq!(
        rule_rows(&store, "acct-1", "sg-2").await,
        [rule_row("sgr-3", "sg-2", 3)]
    );
    assert_eq!(rule_rows(&store, "acct-2", "sg-x").await.len(), 1);
    assert_eq!(
        referencing_group(&store, "sg-2").await,
        pairs(&[("sg-x", "acct-2")])
    );
    assert!(referencing_list(&store, "acct-1", "pl-1").await.is_empty());
    let got = counts(&store, "acct-1", "cn-hangzhou").await;
    assert_eq!(
        got.get("sg-1").copied().unwrap_or((0, 0)),
        (0, 0),
        "{got:?}"
    );

    // A deleted rule's id is free, and a recreated group starts with no rules.
    insert_group(&store, &group("acct-1", "cn-hangzhou", "sg-1", 5)).await;
    assert!(rule_rows(&store, "acct-1", "sg-1").await.is_empty());
    insert_rules(&store, "acct-1", &[rule_row("sgr-1", "sg-1", 6)]).await;
    assert_eq!(
        rule_rows(&store, "acct-1", "sg-1").await,
        [rule_row("sgr-1", "sg-1", 6)]
    );
}

/// Another account's rules are never listed, updated, deleted or counted.
pub async fn rules_account_isolation<S: Store>(store: S) {
    insert_group(&store, &group("acct-1", "cn-hangzhou", "sg-1", 0)).await;
    let mine = [
        rule_row("sgr-1", "sg-1", 1),
        prefix_list_peer("sgr-2", "sg-1", "pl-1", 2),
    ];
    insert_rules(&store, "acct-1", &mine).await;

    assert!(rule_rows(&store, "acct-2", "sg-1").await.is_empty(), "list");
    let hijack = rule(RuleRow {
        description: "stolen".to_owned(),
        ..mine[0].clone()
    });
    assert!(
        !write(&store, move |tx| tx
            .update_rule(&AccountId::from("acct-2"), &hijack))
        .await,
        "update"
    );
    let ids = vec![RuleId::from("sgr-1"), RuleId::from("sgr-2")];
    assert_eq!(
        write(&store, move |tx| tx.delete_rules(
            &AccountId::from("acct-2"),
            &SecurityGroupId::from("sg-1"),
            &ids
        ))
        .await,
        0,
        "delete"
    );
    assert!(
        counts(&store, "acct-2", "cn-hangzhou").await.is_empty(),
        "counts"
    );
    assert!(
        referencing_list(&store, "acct-2", "pl-1").await.is_empty(),
        "prefix list references"
    );

    assert_eq!(rule_rows(&store, "acct-1", "sg-1").await, mine, "untouched");
    assert_eq!(
        counts(&store, "acct-1", "cn-hangzhou").await.get("sg-1"),
        Some(&(2, 0))
    );
}
