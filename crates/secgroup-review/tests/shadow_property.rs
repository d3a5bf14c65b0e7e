//! Dead rules against a brute-force check (docs/review.md §3.2): over a small universe of
//! ports (1..=8, and 9 for every other port), addresses (10.0.0.0/29, and one outside
//! address for every other) and protocols, a rule is dead exactly when no flow of the
//! universe is decided by it, as the engine decides each flow.

use chrono::DateTime;
use proptest::prelude::*;
use secgroup_domain::network::{Instance, InstanceStatus, NetworkState, Vpc};
use secgroup_domain::rules::{
    Cidr, Direction, IpProtocol, Peer, PortRange, Rule, RulePolicy, RuleSpec,
};
use secgroup_domain::{InnerAccessPolicy, SecurityGroup, SecurityGroupType};
use secgroup_reach::{Endpoint, Flow, Snapshot, Step};
use secgroup_review::shadow::{dead_rules, DeadReason};

const GROUP: &str = "sg-prop";
const OTHER: &str = "sg-other";

fn group(kind: SecurityGroupType, inner: InnerAccessPolicy) -> SecurityGroup {
    SecurityGroup {
        id: GROUP.into(),
        account_id: "1".into(),
        region_id: "cn-hangzhou".into(),
        name: String::new(),
        description: String::new(),
        group_type: kind,
        inner_access_policy: inner,
        vpc_id: "vpc-1".into(),
        resource_group_id: String::new(),
        creation_time: DateTime::UNIX_EPOCH,
    }
}

fn instance(id: &str, ip: &str, groups: &[&str]) -> Instance {
    Instance {
        id: id.into(),
        account_id: "1".into(),
        region_id: "cn-hangzhou".into(),
        zone_id: String::new(),
        vpc_id: "vpc-1".into(),
        vswitch_id: String::new(),
        name: String::new(),
        description: String::new(),
        host_name: String::new(),
        instance_type: String::new(),
        image_id: String::new(),
        status: InstanceStatus::Running,
        status_since: DateTime::UNIX_EPOCH,
        creation_time: DateTime::UNIX_EPOCH,
        network_interface_id: String::new(),
        mac_address: String::new(),
        private_ip: ip.into(),
        security_group_ids: groups.iter().map(|g| g.to_string()).collect(),
        attributes: String::new(),
    }
}

fn vpc() -> Vpc {
    Vpc {
        id: "vpc-1".into(),
        account_id: "1".into(),
        region_id: "cn-hangzhou".into(),
        cidr_block: "10.0.0.0/8".into(),
        name: String::new(),
        description: String::new(),
        resource_group_id: String::new(),
        vrouter_id: String::new(),
        route_table_id: String::new(),
        user_cidrs: Vec::new(),
        enable_ipv6: false,
        ipv6_cidr_block: String::new(),
        enable_dns_hostname: false,
        creation_time: DateTime::UNIX_EPOCH,
    }
}

/// A rule of the small universe.
fn rule_strategy() -> impl Strategy<Value = (u8, u8, u8, u8, u8, bool, u8, bool)> {
    (
        0u8..3,        // protocol: TCP, UDP, ALL
        0u8..9,        // port from (0: any)
        0u8..8,        // port span
        0u8..6,        // peer: 0/0, /29, /30 (2), /32, the other group, this group
        0u8..8,        // peer host offset
        any::<bool>(), // Drop?
        1u8..4,        // priority
        any::<bool>(), // egress?
    )
}

fn build_rule(n: usize, r: (u8, u8, u8, u8, u8, bool, u8, bool)) -> Rule {
    let (protocol, from, span, peer, offset, drop, priority, egress) = r;
    let protocol = [IpProtocol::Tcp, IpProtocol::Udp, IpProtocol::All][protocol as usize];
    let port_range = if from == 0 || protocol == IpProtocol::All {
        PortRange::ANY
    } else {
        let from = i32::from(from);
        PortRange {
            from,
            to: (from + i32::from(span)).min(8),
        }
    };
    let cidr = |s: String| Peer::Cidr(Cidr::parse_v4(&s).expect("cidr"));
    let peer = match peer {
        0 => cidr("0.0.0.0/0".into()),
        1 => cidr("10.0.0.0/29".into()),
        2 => cidr(format!("10.0.0.{}/30", offset / 4 * 4)),
        3 => cidr(format!("10.0.0.{offset}/32")),
        4 => Peer::Group {
            group_id: OTHER.into(),
            owner_account: String::new(),
        },
        _ => Peer::Group {
            group_id: GROUP.into(),
            owner_account: String::new(),
        },
    };
    Rule {
        id: format!("sgr-{n}"),
        security_group_id: GROUP.into(),
        spec: RuleSpec {
            direction: if egress {
                Direction::Egress
            } else {
                Direction::Ingress
            },
            protocol,
            port_range,
            source_port_range: None,
            policy: if drop {
                RulePolicy::Drop
            } else {
                RulePolicy::Accept
            },
            priority,
            peer,
            local_cidr: None,
            description: String::new(),
        },
        create_time: DateTime::UNIX_EPOCH,
    }
}

/// The rules some flow of the universe is decided by.
fn brute_force_live(group: &SecurityGroup, rules: &[Rule]) -> std::collections::BTreeSet<String> {
    let mut live = std::collections::BTreeSet::new();
    // The member sits outside 10.0.0.0/29; peers: every address of it and one outside it,
    // as outside addresses or as members of the other group, or of this group.
    let mut peers: Vec<(Endpoint, Vec<Instance>)> = Vec::new();
    for host in (0..8)
        .map(|h| format!("10.0.0.{h}"))
        .chain(["192.0.2.1".to_string()])
    {
        peers.push((Endpoint::Outside(host.parse().expect("ip")), Vec::new()));
        for g in [OTHER, GROUP] {
            peers.push((
                Endpoint::Nic("i-peer".into()),
                vec![instance("i-peer", &host, &[g])],
            ));
        }
    }
    for (peer, extra) in peers {
        let mut instances = vec![instance("i-member", "10.9.9.9", &[GROUP])];
        instances.extend(extra);
        let snapshot = Snapshot::build(&NetworkState {
            interfaces: Vec::new(),
            groups: vec![group.clone()],
            rules: rules.to_vec(),
            instances,
            prefix_lists: Vec::new(),
            vpcs: vec![vpc()],
        });
        for protocol in [
            IpProtocol::Tcp,
            IpProtocol::Udp,
            IpProtocol::Icmp,
            IpProtocol::Gre,
        ] {
            let ports: Vec<Option<u16>> = if protocol.has_ports() {
                (1..=9).map(Some).collect()
            } else {
                vec![None]
            };
            for port in ports {
                for direction in [Direction::Ingress, Direction::Egress] {
                    let member = Endpoint::Nic("i-member".into());
                    let (source, destination) = match direction {
                        Direction::Ingress => (peer.clone(), member),
                        Direction::Egress => (member, peer.clone()),
                    };
                    let flow = Flow {
                        source,
                        destination,
                        protocol,
                        port,
                        source_port: None,
                    };
                    let verdict = snapshot.evaluate(&flow).expect("evaluates");
                    let outcome = match direction {
                        Direction::Ingress => verdict.ingress,
                        Direction::Egress => verdict.egress,
                    };
                    for step in outcome.iter().flat_map(|o| o.steps.iter()) {
                        if let Step::Rule { rule_id, .. } = step {
                            live.insert(rule_id.clone());
                        }
                    }
                }
            }
        }
    }
    live
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn dead_exactly_when_no_flow_is_decided_by_it(
        specs in proptest::collection::vec(rule_strategy(), 1..7),
        enterprise in any::<bool>(),
        accept_inner in any::<bool>(),
    ) {
        let kind = if enterprise { SecurityGroupType::Enterprise } else { SecurityGroupType::Normal };
        let inner = if accept_inner { InnerAccessPolicy::Accept } else { InnerAccessPolicy::Drop };
        let group = group(kind, inner);
        let rules: Vec<Rule> = specs.into_iter().enumerate().map(|(n, r)| build_rule(n, r)).collect();
        let live = brute_force_live(&group, &rules);
        let dead = dead_rules(&group, &rules, &[]);
        for rule in &rules {
            let found = dead.iter().find(|d| d.rule_id == rule.id);
            prop_assert_eq!(found.is_none(), live.contains(&rule.id), "rule {:?} of {:?}", rule, rules);
            if let Some(d) = found {
                match d.reason {
                    DeadReason::Shadowed => {
                        prop_assert!(!d.shadowed_by.is_empty());
                        for s in &d.shadowed_by {
                            let by = rules.iter().find(|r| &r.id == s).expect("a rule of the group");
                            prop_assert!(by.spec.priority <= rule.spec.priority);
                        }
                    }
                    DeadReason::InnerAccess => {
                        let self_peer = matches!(&rule.spec.peer, Peer::Group { group_id, .. } if group_id == GROUP);
                        prop_assert!(self_peer, "inner access only decides flows among members");
                    }
                    DeadReason::MatchesNothing => {}
                }
            }
        }
    }
}
