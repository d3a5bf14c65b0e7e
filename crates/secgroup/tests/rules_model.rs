//! Property test: random sequences of authorize / revoke / modify against a plain in-memory
//! model of a group's rule set. After every step the stored rules equal the model's.

use std::collections::BTreeMap;

use chrono::Utc;
use proptest::prelude::*;
use secgroup_domain::ids::{AccountId, RuleId, SecurityGroupId};
use secgroup_domain::ops::rule_draft::RuleDraft;
use secgroup_domain::ops::rules;
use secgroup_domain::ops::security_groups::{self, NewSecurityGroup};
use secgroup_domain::ops::vpcs::{self, NewVpc};
use secgroup_domain::ops::{accounts, Limits};
use secgroup_domain::rules::Direction;
use secgroup_domain::{DomainError, SecurityGroupType, Store};
use secgroup_store_sqlite::SqliteStore;

/// A rule of the small universe the test draws from: (protocol, port range, cidr, policy, priority, direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    proto: usize,
    cidr: usize,
    drop: bool,
    priority: u8,
    egress: bool,
}

const PROTOCOLS: &[(&str, &str)] = &[
    ("tcp", "22/22"),
    ("TCP", "80/443"),
    ("udp", "53/53"),
    ("icmp", "-1/-1"),
    ("all", "-1/-1"),
];
const CIDRS: &[&str] = &["10.0.0.0/8", "192.168.1.0/24", "0.0.0.0/0"];
const DESCRIPTIONS: &[&str] = &["", "web", "ssh access"];

impl Key {
    fn direction(self) -> Direction {
        if self.egress {
            Direction::Egress
        } else {
            Direction::Ingress
        }
    }
    fn draft(self, description: &str) -> RuleDraft {
        let (proto, ports) = PROTOCOLS[self.proto];
        let cidr = Some(CIDRS[self.cidr].to_string());
        let mut d = RuleDraft {
            ip_protocol: Some(proto.into()),
            port_range: Some(ports.into()),
            policy: Some(if self.drop { "drop" } else { "Accept" }.into()),
            priority: Some(self.priority.to_string()),
            description: Some(description.into()),
            ..RuleDraft::default()
        };
        if self.egress {
            d.dest_cidr_ip = cidr;
        } else {
            d.source_cidr_ip = cidr;
        }
        d
    }
}

fn key() -> impl Strategy<Value = Key> {
    (
        0..PROTOCOLS.len(),
        0..CIDRS.len(),
        any::<bool>(),
        prop_oneof![Just(1u8), Just(7u8)],
        any::<bool>(),
    )
        .prop_map(|(proto, cidr, drop, priority, egress)| Key {
            proto,
            cidr,
            drop,
            priority,
            egress,
        })
}

#[derive(Debug, Clone)]
enum Step {
    /// Same direction for all keys of one request (the API's unit).
    Authorize(Vec<Key>, usize),
    Revoke(Key),
    RevokeById(usize),
    Modify(Key, usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (
            proptest::collection::vec(key(), 1..4),
            0..DESCRIPTIONS.len()
        )
            .prop_map(|(keys, d)| Step::Authorize(keys, d)),
        key().prop_map(Step::Revoke),
        (0usize..8).prop_map(Step::RevokeById),
        (key(), 0..DESCRIPTIONS.len()).prop_map(|(k, d)| Step::Modify(k, d)),
    ]
}

fn target<'a>(
    account_id: &'a AccountId,
    group_id: &'a SecurityGroupId,
    direction: Direction,
) -> rules::Target<'a> {
    rules::Target {
        account_id,
        region_id: "cn-hangzhou",
        group_id,
        direction,
    }
}

/// The model: rule → description, per the documented semantics.
type Model = BTreeMap<Key, String>;

fn key_of(rule: &secgroup_domain::rules::Rule) -> Option<Key> {
    let s = &rule.spec;
    let proto = PROTOCOLS.iter().position(|(p, ports)| {
        secgroup_domain::rules::IpProtocol::parse(p) == Some(s.protocol)
            && *ports == s.port_range.to_string()
    })?;
    let cidr = match &s.peer {
        secgroup_domain::rules::Peer::Cidr(c) => CIDRS.iter().position(|x| *x == c.as_str())?,
        _ => return None,
    };
    Some(Key {
        proto,
        cidr,
        drop: s.policy == secgroup_domain::rules::RulePolicy::Drop,
        priority: s.priority,
        egress: s.direction == Direction::Egress,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn stored_rules_always_equal_the_model(steps in proptest::collection::vec(step(), 1..25)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async move {
            let store = SqliteStore::open_in_memory().expect("store");
            let account = AccountId::from(store.write(|tx| accounts::create_account(tx, false, Utc::now())).await.expect("account").account_id);
            let (a, limits) = (account.clone(), Limits::default());
            let vpc = NewVpc {
                region_id: "cn-hangzhou".into(), cidr_block: None, name: String::new(), description: String::new(),
                resource_group_id: String::new(), user_cidrs: None, enable_ipv6: false, ipv6_cidr_block: None,
                enable_dns_hostname: false, tags: vec![],
            };
            let vpc_id = store.write(move |tx| vpcs::create(tx, &a, &vpc, &limits, Utc::now())).await.expect("vpc").vpc_id;
            let (a, limits) = (account.clone(), Limits::default());
            let new = NewSecurityGroup {
                region_id: "cn-hangzhou".into(), name: String::new(), description: String::new(),
                group_type: SecurityGroupType::Normal, vpc_id: vpc_id.into(), resource_group_id: String::new(), tags: vec![],
            };
            let group = SecurityGroupId::from(store.write(move |tx| security_groups::create(tx, &a, &new, &limits, Utc::now())).await.expect("group").security_group_id);
            let mut model = Model::new();
            for step in steps {
                let (a, g) = (account.clone(), group.clone());
                let ids: Vec<String> = { let (a, g) = (a.clone(), g.clone());
                    store.read(move |tx| Ok::<_, DomainError>(tx.rules(&a, &g)?.into_iter().map(|r| r.id).collect())).await.expect("ids") };
                match step.clone() {
                    Step::Authorize(keys, d) => {
                        let direction = keys[0].direction();
                        let keys: Vec<Key> = keys.into_iter().map(|k| Key { egress: direction == Direction::Egress, ..k }).collect();
                        let drafts: Vec<RuleDraft> = keys.iter().map(|k| k.draft(DESCRIPTIONS[d])).collect();
                        let duplicate = (1..keys.len()).any(|i| keys[..i].contains(&keys[i]));
                        let result = store.write(move |tx| rules::authorize(tx, &target(&a, &g, direction), &drafts, &Limits::default(), Utc::now())).await;
                        if duplicate {
                            prop_assert_eq!(result, Err(DomainError::DuplicatePermissions));
                        } else {
                            prop_assert!(result.is_ok(), "{:?}", result);
                            for k in keys { model.entry(k).or_insert_with(|| DESCRIPTIONS[d].to_string()); }
                        }
                    }
                    Step::Revoke(k) => {
                        let drafts = vec![k.draft("ignored by identity")];
                        let result = store.write(move |tx| rules::revoke_matching(tx, &target(&a, &g, k.direction()), &drafts)).await;
                        prop_assert!(result.is_ok(), "{:?}", result);
                        model.remove(&k);
                    }
                    Step::RevokeById(i) => {
                        let known = ids.get(i).cloned();
                        let id = known.clone().unwrap_or_else(|| "sgr-doesnotexist00000000".into());
                        let stored: Vec<_> = { let (a, g) = (a.clone(), g.clone());
                            store.read(move |tx| Ok::<_, DomainError>(tx.rules(&a, &g)?)).await.expect("rules") };
                        let rule = stored.iter().find(|r| r.id == id).cloned();
                        let direction = rule.as_ref().map_or(Direction::Ingress, |r| r.spec.direction);
                        let id2 = RuleId::from(id.clone());
                        let result = store.write(move |tx| rules::revoke_by_ids(tx, &target(&a, &g, direction), std::slice::from_ref(&id2))).await;
                        match rule.and_then(|r| key_of(&r)) {
                            Some(k) => { prop_assert!(result.is_ok()); model.remove(&k); }
                            None => prop_assert_eq!(result, Err(DomainError::RuleIdNotFound(Direction::Ingress, id))),
                        }
                    }
                    Step::Modify(k, d) => {
                        let draft = k.draft(DESCRIPTIONS[d]);
                        let result = store.write(move |tx| rules::modify_matching(tx, &target(&a, &g, k.direction()), &draft)).await;
                        match model.get_mut(&k) {
                            Some(desc) => { prop_assert!(result.is_ok(), "{:?}", result); *desc = DESCRIPTIONS[d].to_string(); }
                            None => prop_assert_eq!(result, Err(DomainError::RuleNotFoundByParams(k.direction()))),
                        }
                    }
                }
                let (a, g) = (account.clone(), group.clone());
                let stored = store.read(move |tx| Ok::<_, DomainError>(tx.rules(&a, &g)?)).await.expect("rules");
                let actual: Model = stored.iter().map(|r| (key_of(r).expect("rule from the universe"), r.spec.description.clone())).collect();
                prop_assert_eq!(stored.len(), actual.len(), "a rule is stored twice");
                prop_assert_eq!(&actual, &model, "after {:?}", step);
            }
            Ok::<(), TestCaseError>(())
        })?;
    }
}
