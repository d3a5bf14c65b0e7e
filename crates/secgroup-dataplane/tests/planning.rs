//! The pure planning step: what desired state and ruleset a topology gives. No root needed.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use secgroup_dataplane::model::{Match, NftChain, RuleVerdict, SetElement, Side};
use secgroup_dataplane::{nft_transaction, AccountNetwork, DesiredState, Topology};
use secgroup_domain::network::{Instance, InstanceStatus, NetworkState, VSwitch};
use secgroup_domain::rules::{Cidr, Direction, IpProtocol, PortRange, Rule, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroup, SecurityGroupType};
use secgroup_reach::testkit::*;
use serde_json::Value;

use Direction::{Egress, Ingress};

fn vsw(id: &str, vpc: &str, block: &str) -> VSwitch {
    VSwitch {
        id: id.into(),
        account_id: "1".into(),
        region_id: "cn-hangzhou".into(),
        vpc_id: vpc.into(),
        zone_id: "z".into(),
        cidr_block: block.into(),
        name: String::new(),
        description: String::new(),
        creation_time: chrono::DateTime::default(),
    }
}

fn nic(id: &str, vpc: &str, address: &str, groups: &[&str]) -> Instance {
    let mut i = instance(id, vpc, address, groups);
    i.vswitch_id = format!("vsw-{vpc}");
    let last = address.rsplit('.').next().unwrap_or("1");
    i.mac_address = format!("00:16:3e:00:00:{:02x}", last.parse::<u8>().unwrap_or(1));
    i
}

fn plan(groups: Vec<SecurityGroup>, rules: Vec<Rule>, instances: Vec<Instance>) -> DesiredState {
    let vpcs: BTreeSet<String> = instances.iter().map(|i| i.vpc_id.clone()).collect();
    let networks = vec![AccountNetwork {
        state: NetworkState {
            groups,
            rules,
            instances,
            prefix_lists: vec![prefix_list(
                "pl-1",
                &["10.9.0.0/24", "10.9.0.128/25", "10.9.1.0/24", "192.0.2.7"],
            )],
            ..NetworkState::default()
        },
        vswitches: vpcs
            .iter()
            .map(|v| vsw(&format!("vsw-{v}"), v, "10.0.0.0/16"))
            .collect(),
        ..AccountNetwork::default()
    }];
    Topology::from(&networks).desired_state()
}

fn normal(id: &str, policy: InnerAccessPolicy) -> SecurityGroup {
    group(id, "vpc-1", SecurityGroupType::Normal, policy)
}

fn only_router(d: &DesiredState) -> &secgroup_dataplane::RouterSpec {
    assert_eq!(d.routers.len(), 1);
    d.routers.values().next().expect("router")
}

fn chain_of<'a>(d: &'a DesiredState, instance: &str, direction: Direction) -> &'a NftChain {
    let router = d
        .routers
        .values()
        .find(|r| r.nics.contains_key(instance))
        .expect("router");
    let ifname = &router.nics[instance].ifname;
    let map = match direction {
        Ingress => &router.ruleset.ingress,
        Egress => &router.ruleset.egress,
    };
    &router.ruleset.chains[&map[ifname]]
}

fn tcp_rules(group: &str, count: u16) -> Vec<Rule> {
    (0..count)
        .map(|i| {
            rule(
                &format!("sgr-{group}-{i}"),
                group,
                Ingress,
                IpProtocol::Tcp,
                (1000 + i as i32, 1000 + i as i32),
                RulePolicy::Accept,
                1,
                group_peer(group),
            )
        })
        .collect()
}

#[test]
fn the_ruleset_grows_with_rules_plus_members_not_their_product() {
    let measure = |rules: u16, members: u8| {
        let instances: Vec<Instance> = (0..members)
            .map(|m| {
                nic(
                    &format!("i-{m}"),
                    "vpc-1",
                    &format!("10.0.1.{}", m + 1),
                    &["sg-1"],
                )
            })
            .collect();
        let d = plan(
            vec![normal("sg-1", InnerAccessPolicy::Drop)],
            tcp_rules("sg-1", rules),
            instances,
        );
        let r = &only_router(&d).ruleset;
        (r.rule_count(), r.element_count(), r.chains.len())
    };
    let (rules_10_10, elements_10_10, chains) = measure(10, 10);
    assert_eq!(
        chains, 2,
        "one egress and one ingress chain shared by all members"
    );
    // 10 rules + the two defaults; 10 members in the group's set.
    assert_eq!(rules_10_10, 12);
    assert_eq!(elements_10_10, 10);
    let (rules_10_100, elements_10_100, _) = measure(10, 100);
    assert_eq!(rules_10_100, rules_10_10, "members must not multiply rules");
    assert_eq!(elements_10_100, 100);
    let (rules_100_100, elements_100_100, _) = measure(100, 100);
    assert_eq!(rules_100_100, 102);
    assert_eq!(elements_100_100, 100, "rules must not multiply members");
}

#[test]
fn nics_with_the_same_groups_share_chains_and_others_get_their_own() {
    let d = plan(
        vec![
            normal("sg-1", InnerAccessPolicy::Drop),
            normal("sg-2", InnerAccessPolicy::Drop),
        ],
        [tcp_rules("sg-1", 2), tcp_rules("sg-2", 3)].concat(),
        vec![
            nic("i-a", "vpc-1", "10.0.1.1", &["sg-1"]),
            nic("i-b", "vpc-1", "10.0.1.2", &["sg-1"]),
            nic("i-c", "vpc-1", "10.0.1.3", &["sg-2", "sg-1"]),
            nic("i-d", "vpc-1", "10.0.1.4", &["sg-1", "sg-2"]),
        ],
    );
    let r = only_router(&d);
    assert_eq!(r.ruleset.chains.len(), 4);
    let ifname = |i: &str| &r.nics[i].ifname;
    assert_eq!(
        r.ruleset.ingress[ifname("i-a")],
        r.ruleset.ingress[ifname("i-b")]
    );
    assert_eq!(
        r.ruleset.ingress[ifname("i-c")],
        r.ruleset.ingress[ifname("i-d")],
        "group order does not matter"
    );
    assert_ne!(
        r.ruleset.ingress[ifname("i-a")],
        r.ruleset.ingress[ifname("i-c")]
    );
    // The combined chain holds both groups' rules.
    assert_eq!(chain_of(&d, "i-c", Ingress).rules.len(), 2 + 3 + 1);
}

#[test]
fn rules_are_ordered_by_priority_then_drop_first_and_end_with_the_default() {
    let rules = vec![
        rule(
            "sgr-a",
            "sg-1",
            Ingress,
            IpProtocol::Tcp,
            (22, 22),
            RulePolicy::Accept,
            10,
            cidr("10.0.0.0/8"),
        ),
        rule(
            "sgr-d",
            "sg-1",
            Ingress,
            IpProtocol::Tcp,
            (22, 22),
            RulePolicy::Drop,
            10,
            cidr("10.0.0.5/32"),
        ),
        rule(
            "sgr-z",
            "sg-1",
            Ingress,
            IpProtocol::Udp,
            (53, 53),
            RulePolicy::Accept,
            1,
            cidr("0.0.0.0/0"),
        ),
        rule(
            "sgr-e",
            "sg-1",
            Egress,
            IpProtocol::All,
            (-1, -1),
            RulePolicy::Drop,
            5,
            cidr("192.168.0.0/16"),
        ),
    ];
    let d = plan(
        vec![normal("sg-1", InnerAccessPolicy::Drop)],
        rules,
        vec![nic("i-a", "vpc-1", "10.0.1.1", &["sg-1"])],
    );
    let ingress = chain_of(&d, "i-a", Ingress);
    let order: Vec<&str> = ingress.rules.iter().map(|r| r.comment.as_str()).collect();
    assert_eq!(order, ["sgr-z", "sgr-d", "sgr-a", "default"]);
    assert_eq!(ingress.rules[1].verdict, RuleVerdict::Drop);
    assert_eq!(
        ingress.rules[2].verdict,
        RuleVerdict::Return,
        "an accept returns to the next check"
    );
    assert_eq!(
        ingress.rules[3].verdict,
        RuleVerdict::Drop,
        "normal ingress default denies"
    );
    // A /0 says only the family.
    assert!(ingress.rules[0]
        .matches
        .contains(&Match::Family(secgroup_dataplane::model::IpFamily::V4)));
    let egress = chain_of(&d, "i-a", Egress);
    assert_eq!(
        egress.rules.last().map(|r| r.verdict),
        Some(RuleVerdict::Return),
        "normal egress default allows"
    );
    assert!(
        egress.rules[0].matches.iter().any(|m| matches!(
            m,
            Match::Address {
                side: Side::Destination,
                ..
            }
        )),
        "the egress peer is the destination"
    );
}

#[test]
fn enterprise_defaults_deny_both_ways_and_inner_access_is_for_normal_accept_groups() {
    let d = plan(
        vec![
            group(
                "sg-e",
                "vpc-1",
                SecurityGroupType::Enterprise,
                InnerAccessPolicy::Accept,
            ),
            normal("sg-n", InnerAccessPolicy::Accept),
            normal("sg-x", InnerAccessPolicy::Drop),
        ],
        vec![],
        vec![
            nic("i-e", "vpc-1", "10.0.1.1", &["sg-e"]),
            nic("i-n", "vpc-1", "10.0.1.2", &["sg-n", "sg-x"]),
        ],
    );
    for direction in [Ingress, Egress] {
        let e = chain_of(&d, "i-e", direction);
        assert_eq!(e.rules.len(), 1, "no inner access for an enterprise group");
        assert_eq!(e.rules[0].verdict, RuleVerdict::Drop);
        let n = chain_of(&d, "i-n", direction);
        assert_eq!(n.rules[0].verdict, RuleVerdict::Accept);
        assert_eq!(n.rules[0].comment, "inner-access sg-n");
        assert_eq!(n.rules.len(), 2);
    }
}

#[test]
fn quintuple_fields_and_ipv6_peers_become_packet_matches() {
    let mut r = rule(
        "sgr-q",
        "sg-1",
        Ingress,
        IpProtocol::Tcp,
        (80, 443),
        RulePolicy::Accept,
        1,
        cidr("10.0.0.0/8"),
    );
    r.spec.source_port_range = Some(PortRange {
        from: 1000,
        to: 2000,
    });
    r.spec.local_cidr = Cidr::parse_any("10.0.1.0/28");
    let v6 = rule(
        "sgr-6",
        "sg-1",
        Ingress,
        IpProtocol::Icmpv6,
        (-1, -1),
        RulePolicy::Accept,
        1,
        cidr("2001:db8::/32"),
    );
    let mut contradictory = rule(
        "sgr-x",
        "sg-1",
        Ingress,
        IpProtocol::Tcp,
        (22, 22),
        RulePolicy::Accept,
        1,
        cidr("10.0.0.0/8"),
    );
    contradictory.spec.local_cidr = Cidr::parse_any("2001:db8::/64");
    let portless = rule(
        "sgr-p",
        "sg-1",
        Ingress,
        IpProtocol::Icmp,
        (22, 22),
        RulePolicy::Accept,
        1,
        cidr("10.0.0.0/8"),
    );
    let d = plan(
        vec![normal("sg-1", InnerAccessPolicy::Drop)],
        vec![r, v6, contradictory, portless],
        vec![nic("i-a", "vpc-1", "10.0.1.1", &["sg-1"])],
    );
    let chain = chain_of(&d, "i-a", Ingress);
    let comments: Vec<&str> = chain.rules.iter().map(|r| r.comment.as_str()).collect();
    assert_eq!(
        comments,
        ["sgr-6", "sgr-q", "default"],
        "rules no packet can match are left out"
    );
    let q = &chain.rules[1].matches;
    assert!(q.contains(&Match::DestinationPorts(80, 443)));
    assert!(q.contains(&Match::SourcePorts(1000, 2000)));
    assert!(
        q.contains(&Match::Address {
            side: Side::Destination,
            net: "10.0.1.0/28".parse().expect("test setup")
        }),
        "DestCidrIp is the NIC's own address"
    );
    let json = nft_transaction(None, &only_router(&d).ruleset).to_string();
    assert!(
        json.contains(r#""protocol":"ip6","field":"saddr""#),
        "IPv6 rules are rendered for IPv6 traffic"
    );
    assert!(json.contains("ipv6-icmp"));
}

#[test]
fn prefix_lists_are_merged_into_disjoint_ranges_and_groups_are_sets_per_vpc() {
    let rules = vec![
        rule(
            "sgr-pl",
            "sg-1",
            Ingress,
            IpProtocol::Tcp,
            (22, 22),
            RulePolicy::Accept,
            1,
            secgroup_domain::rules::Peer::PrefixList("pl-1".into()),
        ),
        rule(
            "sgr-g",
            "sg-1",
            Ingress,
            IpProtocol::Tcp,
            (80, 80),
            RulePolicy::Accept,
            1,
            group_peer("sg-2"),
        ),
        rule(
            "sgr-u",
            "sg-1",
            Ingress,
            IpProtocol::Tcp,
            (81, 81),
            RulePolicy::Accept,
            1,
            secgroup_domain::rules::Peer::PrefixList("pl-unknown".into()),
        ),
    ];
    let d = plan(
        vec![
            normal("sg-1", InnerAccessPolicy::Drop),
            normal("sg-2", InnerAccessPolicy::Drop),
        ],
        rules,
        vec![
            nic("i-a", "vpc-1", "10.0.1.1", &["sg-1"]),
            nic("i-b", "vpc-1", "10.0.1.2", &["sg-2"]),
            nic("i-c", "vpc-2", "10.0.1.3", &["sg-2"]),
        ],
    );
    let r = &d.routers["secgroup-vpc-1"].ruleset;
    let ip = |s: &str| -> std::net::IpAddr { s.parse().expect("test setup") };
    let list: BTreeSet<SetElement> = r.sets["p4-pl-1"].elements.iter().copied().collect();
    let want: BTreeSet<SetElement> = [
        SetElement::Range(ip("10.9.0.0"), ip("10.9.1.255")),
        SetElement::Address(ip("192.0.2.7")),
    ]
    .into();
    assert_eq!(list, want);
    // sg-2's members in vpc-1 only: i-c is in another routing domain.
    let members: Vec<SetElement> = r.sets["g-sg-2"].elements.iter().copied().collect();
    assert_eq!(members, [SetElement::Address(ip("10.0.1.2"))]);
    assert!(
        !chain_of(&d, "i-a", Ingress)
            .rules
            .iter()
            .any(|r| r.comment == "sgr-u"),
        "an unknown list matches nothing"
    );
}

#[test]
fn only_running_valid_instances_are_planned_and_clashing_addresses_are_not_routed_from_outside() {
    let mut stopped = nic("i-s", "vpc-1", "10.0.1.9", &["sg-1"]);
    stopped.status = InstanceStatus::Stopped;
    let mut bad_mac = nic("i-m", "vpc-1", "10.0.1.8", &["sg-1"]);
    bad_mac.mac_address = "01:00:5e:00:00:01".into();
    let gateway = nic("i-g", "vpc-1", "10.0.255.253", &["sg-1"]);
    let d = plan(
        vec![normal("sg-1", InnerAccessPolicy::Accept)],
        vec![],
        vec![
            nic("i-a", "vpc-1", "10.0.1.1", &["sg-1"]),
            nic("i-b", "vpc-2", "10.0.1.1", &["sg-1"]),
            nic("i-c", "vpc-2", "10.0.1.2", &["sg-1"]),
            stopped,
            bad_mac,
            gateway,
        ],
    );
    let planned: BTreeSet<&str> = d.instances().map(|(_, n)| n.instance_id.as_str()).collect();
    assert_eq!(planned, ["i-a", "i-b", "i-c"].into_iter().collect());
    let refused: BTreeSet<&str> = d.issues.iter().map(|i| i.instance_id.as_str()).collect();
    assert_eq!(
        refused,
        ["i-g", "i-m"].into_iter().collect(),
        "{:?}",
        d.issues
    );
    assert_eq!(d.routers.len(), 2);
    let a = d.nic("i-a").expect("planned");
    assert_eq!(
        (a.namespace.as_str(), a.prefix_len, a.gateway),
        ("i-a", 16, Ipv4Addr::new(10, 0, 255, 253))
    );
    assert_eq!(a.ifname.len(), 15);
    assert!(!d.outside.routes.contains_key(&Ipv4Addr::new(10, 0, 1, 1)));
    assert_eq!(
        d.outside
            .routes
            .get(&Ipv4Addr::new(10, 0, 1, 2))
            .map(String::as_str),
        Some("secgroup-vpc-2")
    );
    assert_eq!(d.outside.namespace, "secgroup-outside");
}

fn commands(doc: &Value) -> Vec<String> {
    doc["nftables"]
        .as_array()
        .expect("commands")
        .iter()
        .map(|c| {
            let (verb, body) = c
                .as_object()
                .and_then(|o| o.iter().next())
                .expect("one verb");
            let (kind, _) = body
                .as_object()
                .and_then(|o| o.iter().next())
                .expect("one object");
            format!("{verb} {kind}")
        })
        .collect()
}

#[test]
fn updates_touch_only_what_changed() {
    let groups = vec![
        normal("sg-1", InnerAccessPolicy::Drop),
        normal("sg-2", InnerAccessPolicy::Drop),
    ];
    let rules = [tcp_rules("sg-1", 3), tcp_rules("sg-2", 3)].concat();
    let two = vec![
        nic("i-a", "vpc-1", "10.0.1.1", &["sg-1"]),
        nic("i-b", "vpc-1", "10.0.1.2", &["sg-2"]),
    ];
    let before = plan(groups.clone(), rules.clone(), two.clone());
    let old = &only_router(&before).ruleset;

    // The same state: nothing to send.
    let same = plan(groups.clone(), rules.clone(), two.clone());
    assert!(commands(&nft_transaction(Some(old), &only_router(&same).ruleset)).is_empty());

    // A new member of sg-1: set and map elements only, no chain is touched.
    let mut three = two.clone();
    three.push(nic("i-c", "vpc-1", "10.0.1.3", &["sg-1"]));
    let joined = plan(groups.clone(), rules.clone(), three);
    let cmds = commands(&nft_transaction(Some(old), &only_router(&joined).ruleset));
    assert!(cmds.iter().all(|c| c == "add element"), "{cmds:?}");

    // One rule of sg-2 changes: only sg-2's ingress chain is flushed and refilled.
    let mut changed = rules.clone();
    changed[4].spec.port_range = PortRange { from: 9, to: 9 };
    let after = plan(groups, changed, two);
    let cmds = commands(&nft_transaction(Some(old), &only_router(&after).ruleset));
    assert_eq!(
        cmds.iter().filter(|c| *c == "flush chain").count(),
        1,
        "{cmds:?}"
    );
    assert_eq!(
        cmds.iter().filter(|c| *c == "add rule").count(),
        3 + 1,
        "{cmds:?}"
    );
    assert!(!cmds.iter().any(|c| c.starts_with("delete")), "{cmds:?}");
}

#[test]
fn user_text_never_reaches_the_ruleset() {
    let mut r = rule(
        "sgr-1",
        "sg-1",
        Ingress,
        IpProtocol::Tcp,
        (22, 22),
        RulePolicy::Accept,
        1,
        cidr("10.0.0.0/8"),
    );
    r.spec.description = "\"; flush ruleset; #".into();
    let odd_group = "sg-1 ; drop".to_string();
    let d = plan(
        vec![
            normal("sg-1", InnerAccessPolicy::Accept),
            normal(&odd_group, InnerAccessPolicy::Accept),
        ],
        vec![r],
        vec![nic("i-a", "vpc-1", "10.0.1.1", &["sg-1", &odd_group])],
    );
    let doc = nft_transaction(None, &only_router(&d).ruleset);
    assert!(
        !doc.to_string().contains("flush ruleset"),
        "descriptions are not rendered"
    );
    // Every name the kernel sees is a plain identifier: odd ids are hashed into names (they
    // may appear in a rule's comment, a JSON string the kernel only stores).
    let mut names = Vec::new();
    for command in doc["nftables"].as_array().expect("commands") {
        for body in command.as_object().expect("verb").values() {
            for object in body.as_object().expect("object").values() {
                for key in ["name", "chain"] {
                    if let Some(n) = object.get(key).and_then(Value::as_str) {
                        names.push(n.to_string());
                    }
                }
            }
        }
    }
    assert!(!names.is_empty());
    for n in names {
        assert!(
            n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{n:?}"
        );
    }
}

#[test]
fn a_group_peer_of_another_account_matches_its_members_wherever_they_are() {
    // Account 1's sg-1 admits members of account 2's sg-2; account 2's instance is in that
    // group (in the same routing domain, or there would be no path to judge).
    let mut r = rule(
        "sgr-x",
        "sg-1",
        Ingress,
        IpProtocol::Tcp,
        (22, 22),
        RulePolicy::Accept,
        1,
        group_peer("sg-2"),
    );
    if let secgroup_domain::rules::Peer::Group { owner_account, .. } = &mut r.spec.peer {
        *owner_account = "2".into();
    }
    let mut theirs = nic("i-b", "vpc-1", "10.0.1.2", &["sg-2"]);
    theirs.account_id = "2".into();
    let networks = vec![
        AccountNetwork {
            state: NetworkState {
                groups: vec![normal("sg-1", InnerAccessPolicy::Drop)],
                rules: vec![r],
                instances: vec![nic("i-a", "vpc-1", "10.0.1.1", &["sg-1"])],
                ..NetworkState::default()
            },
            vswitches: vec![vsw("vsw-vpc-1", "vpc-1", "10.0.0.0/16")],
            ..AccountNetwork::default()
        },
        AccountNetwork {
            state: NetworkState {
                groups: vec![normal("sg-2", InnerAccessPolicy::Drop)],
                instances: vec![theirs],
                ..NetworkState::default()
            },
            vswitches: Vec::new(),
            ..AccountNetwork::default()
        },
    ];
    let d = Topology::from(&networks).desired_state();
    let r = &only_router(&d).ruleset;
    let members: Vec<SetElement> = r.sets["g-sg-2"].elements.iter().copied().collect();
    assert_eq!(
        members,
        [SetElement::Address("10.0.1.2".parse().expect("ip"))]
    );
    assert!(chain_of(&d, "i-a", Ingress)
        .rules
        .iter()
        .any(|r| r.comment == "sgr-x"));
}

/// Three instances of one VPC on two hosts (and one placed nowhere), planned for `host1`.
fn two_hosts(underlay: bool, vni: bool, peers: bool) -> DesiredState {
    use secgroup_dataplane::{HostPlan, PlanOptions};
    let instances = vec![
        nic("i-here", "vpc-1", "10.0.1.1", &["sg-1"]),
        nic("i-there", "vpc-1", "10.0.1.2", &["sg-1"]),
        nic("i-nowhere", "vpc-1", "10.0.1.3", &["sg-1"]),
        nic("i-other-vpc", "vpc-2", "10.0.1.4", &["sg-2"]),
    ];
    let networks = vec![AccountNetwork {
        state: NetworkState {
            groups: vec![
                normal("sg-1", InnerAccessPolicy::Accept),
                group(
                    "sg-2",
                    "vpc-2",
                    SecurityGroupType::Normal,
                    InnerAccessPolicy::Accept,
                ),
            ],
            instances,
            ..NetworkState::default()
        },
        vswitches: vec![
            vsw("vsw-vpc-1", "vpc-1", "10.0.0.0/16"),
            vsw("vsw-vpc-2", "vpc-2", "10.0.0.0/16"),
        ],
        placements: [
            ("i-here", "host1"),
            ("i-there", "host2"),
            ("i-other-vpc", "host2"),
        ]
        .into_iter()
        .map(|(i, h)| (i.to_string(), h.to_string()))
        .collect(),
        vnis: if vni {
            [("vpc-1".to_string(), 1001), ("vpc-2".to_string(), 1002)].into()
        } else {
            Default::default()
        },
    }];
    Topology::from(&networks).plan(&PlanOptions {
        host: Some(HostPlan {
            name: "host1".into(),
            underlay: underlay.then_some(Ipv4Addr::new(10, 251, 0, 1)),
            peers: if peers {
                [("host2".to_string(), Ipv4Addr::new(10, 251, 0, 2))].into()
            } else {
                Default::default()
            },
        }),
        ..Default::default()
    })
}

#[test]
fn a_host_plans_its_own_instances_and_reaches_the_others_of_their_vpc_through_the_overlay() {
    let d = two_hosts(true, true, true);
    assert!(d.issues.is_empty(), "{:?}", d.issues);
    // Only this host's instance has a namespace here, and only its VPC a router.
    let planned: Vec<&str> = d.instances().map(|(_, n)| n.instance_id.as_str()).collect();
    assert_eq!(planned, vec!["i-here"]);
    let r = only_router(&d);
    assert_eq!(r.vpc_id, "vpc-1");
    // The other host's member is in the group's set; the unplaced one is in reach of nothing.
    let members: Vec<SetElement> = r.ruleset.sets["g-sg-1"].elements.iter().copied().collect();
    assert_eq!(
        members,
        vec![
            SetElement::Address(Ipv4Addr::new(10, 0, 1, 1).into()),
            SetElement::Address(Ipv4Addr::new(10, 0, 1, 2).into()),
        ]
    );
    // Dispatch names local veths only: a remote source is in neither map.
    assert_eq!(r.ruleset.egress.len(), 1);
    let overlay = r.overlay.as_ref().expect("an overlay");
    assert_eq!(overlay.vni, 1001);
    assert_eq!(overlay.local, Ipv4Addr::new(10, 251, 0, 1));
    assert_eq!(
        overlay.routes.iter().collect::<Vec<_>>(),
        vec![(&Ipv4Addr::new(10, 0, 1, 2), &Ipv4Addr::new(10, 251, 0, 2))]
    );
    // Outside routes are for this host's instances.
    assert_eq!(
        d.outside.routes.keys().copied().collect::<Vec<_>>(),
        vec![Ipv4Addr::new(10, 0, 1, 1)]
    );
}

#[test]
fn without_an_underlay_a_vni_or_a_live_peer_other_hosts_are_out_of_reach() {
    for (underlay, vni, peers) in [
        (false, true, true),
        (true, false, true),
        (true, true, false),
    ] {
        let d = two_hosts(underlay, vni, peers);
        let r = only_router(&d);
        let members: Vec<SetElement> = r.ruleset.sets["g-sg-1"].elements.iter().copied().collect();
        assert_eq!(
            members,
            vec![SetElement::Address(Ipv4Addr::new(10, 0, 1, 1).into())],
            "underlay {underlay}, vni {vni}, peers {peers}"
        );
        assert!(r.overlay.as_ref().is_none_or(|o| o.routes.is_empty()));
        assert_eq!(r.overlay.is_some(), underlay && vni);
    }
}
