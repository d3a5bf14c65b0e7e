//! Dead rules (docs/review.md §3.2): a rule is dead when no flow in its match space is
//! decided by it — rules of a smaller Priority number, or `Drop` rules of its own priority
//! (over an `Accept`), win every flow it matches, or `InnerAccessPolicy Accept` decides
//! them before any rule is read.
//!
//! The decision is the engine's, not re-implemented here: the match space of a rule is cut
//! into cells by the boundaries (ports, source ports, peer addresses, local addresses) of
//! the rules that could win against it, and one flow per cell is asked of
//! [`secgroup_reach::Snapshot::evaluate`] over a snapshot holding the group, its rules, one
//! member and, for a group peer, one member of the peer group. Inside a cell every rule
//! either matches every flow or none, so one flow answers for the cell. The peer member is
//! in the peer group only: being in more groups can only make more rules match.
//!
//! A group is analysed alone, as it applies to any member: a rule that only another group
//! of some instances shadows is not reported.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::DateTime;
use secgroup_domain::network::{Instance, InstanceStatus, NetworkState, Vpc};
use secgroup_domain::rules::{Cidr, Direction, IpProtocol, Peer, PortRange, Rule};
use secgroup_domain::{PrefixList, SecurityGroup};
use secgroup_reach::{Endpoint, Flow, Snapshot, Step};
use serde::Serialize;

/// Why a rule never decides a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadReason {
    /// Other rules of the group win every flow it matches.
    Shadowed,
    /// Every flow it matches is between members of its group, whose InnerAccessPolicy
    /// Accept decides first.
    InnerAccess,
    /// It matches no flow at all (a prefix list without entries, an IPv6 local block on
    /// instances that have IPv4 addresses only).
    MatchesNothing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadRule {
    pub security_group_id: String,
    pub rule_id: String,
    pub direction: &'static str,
    pub priority: u8,
    pub policy: &'static str,
    pub reason: DeadReason,
    /// The rules that decide its flows instead (ids, in the group's order).
    pub shadowed_by: Vec<String>,
}

/// Cells of one rule beyond which it is left unjudged (counted as live).
pub const MAX_CELLS: usize = 20_000;

const ALL_PROTOCOLS: [IpProtocol; 5] = [
    IpProtocol::Tcp,
    IpProtocol::Udp,
    IpProtocol::Icmp,
    IpProtocol::Icmpv6,
    IpProtocol::Gre,
];

/// An inclusive interval of numbers: ports, or addresses of one family.
type Span = (u128, u128);

fn span_of(cidr: &Cidr) -> (bool, Span) {
    let net = cidr.network();
    match (net.network(), net.broadcast()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (false, (u32::from(a).into(), u32::from(b).into())),
        (IpAddr::V6(a), IpAddr::V6(b)) => (true, (u128::from(a), u128::from(b))),
        _ => (false, (0, 0)),
    }
}

fn address(v6: bool, n: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(n))
    } else {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(n).unwrap_or(u32::MAX)))
    }
}

/// The cells of `domain` cut by `cuts` (each an interval whose ends start and end cells):
/// their first and last numbers.
pub fn cells(domain: Span, cuts: impl IntoIterator<Item = Span>) -> Vec<Span> {
    let (lo, hi) = domain;
    let mut starts = BTreeSet::new();
    starts.insert(lo);
    for (a, b) in cuts {
        if a > lo && a <= hi {
            starts.insert(a);
        }
        if b < hi && b >= lo {
            starts.insert(b + 1);
        }
    }
    let starts: Vec<u128> = starts.into_iter().collect();
    starts
        .iter()
        .enumerate()
        .map(|(n, &s)| (s, starts.get(n + 1).map_or(hi, |next| next - 1)))
        .collect()
}

const V4_ALL: Span = (0, u32::MAX as u128);

fn ports_span(range: PortRange) -> Span {
    if range.is_any() {
        (1, 65535)
    } else {
        (
            u128::try_from(range.from).unwrap_or(1),
            u128::try_from(range.to).unwrap_or(65535),
        )
    }
}

/// The address blocks a rule's peer matches: `None` for a group peer.
fn peer_blocks(rule: &Rule, lists: &[PrefixList]) -> Option<Vec<(bool, Span)>> {
    match &rule.spec.peer {
        Peer::Cidr(c) => Some(vec![span_of(c)]),
        Peer::Group { .. } => None,
        Peer::PrefixList(id) => Some(
            lists
                .iter()
                .find(|l| &l.id == id)
                .map(|l| {
                    l.entries
                        .iter()
                        .filter_map(|e| Cidr::parse_any(&e.cidr))
                        .map(|c| span_of(&c))
                        .collect()
                })
                .unwrap_or_default(),
        ),
    }
}

fn protocol_matches(rule: IpProtocol, flow: IpProtocol) -> bool {
    rule == IpProtocol::All || rule == flow
}

/// The dead rules of `group` (its `rules`, any order), oldest rule first.
pub fn dead_rules(group: &SecurityGroup, rules: &[Rule], lists: &[PrefixList]) -> Vec<DeadRule> {
    let own: Vec<&Rule> = rules
        .iter()
        .filter(|r| r.security_group_id == group.id)
        .collect();
    let mut out = Vec::new();
    for rule in &own {
        if let Some(dead) = judge(group, rule, &own, lists) {
            out.push(dead);
        }
    }
    out
}

/// One probe: the local member's address and, for a group peer, the peer member's.
struct Probe {
    local: u128,
    remote: Option<u128>,
}

fn judge(
    group: &SecurityGroup,
    rule: &Rule,
    own: &[&Rule],
    lists: &[PrefixList],
) -> Option<DeadRule> {
    let spec = &rule.spec;
    let dead = |reason, shadowed_by| DeadRule {
        security_group_id: group.id.clone(),
        rule_id: rule.id.clone(),
        direction: spec.direction.as_str(),
        priority: spec.priority,
        policy: spec.policy.as_str(),
        reason,
        shadowed_by,
    };
    let rivals: Vec<&Rule> = own
        .iter()
        .copied()
        .filter(|r| {
            r.id != rule.id
                && r.spec.direction == spec.direction
                && r.spec.priority <= spec.priority
        })
        .collect();
    // The local member's address: instances have IPv4 addresses only.
    let local_domain = match &spec.local_cidr {
        Some(c) => match span_of(c) {
            (false, span) => span,
            (true, _) => return Some(dead(DeadReason::MatchesNothing, Vec::new())),
        },
        None => V4_ALL,
    };
    let local_cuts: Vec<Span> = rivals
        .iter()
        .filter_map(|r| r.spec.local_cidr.as_ref())
        .map(span_of)
        .filter(|(v6, _)| !v6)
        .map(|(_, s)| s)
        .collect();
    let local_cells = cells(local_domain, local_cuts);

    // The peer: address cells (for an address peer, the outside end's address; for a
    // group peer, the peer member's), by family.
    let rival_blocks: Vec<(bool, Span)> = rivals
        .iter()
        .filter_map(|r| peer_blocks(r, lists))
        .flatten()
        .collect();
    let peer_group = match &spec.peer {
        Peer::Group { group_id, .. } => Some(group_id.clone()),
        _ => None,
    };
    let mut peer_cells: Vec<(bool, Span)> = Vec::new();
    match peer_blocks(rule, lists) {
        Some(blocks) => {
            if blocks.is_empty() {
                return Some(dead(DeadReason::MatchesNothing, Vec::new()));
            }
            for (v6, block) in blocks {
                let cuts = rival_blocks
                    .iter()
                    .filter(|(f, _)| *f == v6)
                    .map(|(_, s)| *s);
                peer_cells.extend(cells(block, cuts).into_iter().map(|c| (v6, c)));
            }
        }
        None => {
            let cuts = rival_blocks.iter().filter(|(f, _)| !f).map(|(_, s)| *s);
            peer_cells.extend(cells(V4_ALL, cuts).into_iter().map(|c| (false, c)));
        }
    }

    let protocols: Vec<IpProtocol> = if spec.protocol == IpProtocol::All {
        ALL_PROTOCOLS.to_vec()
    } else {
        vec![spec.protocol]
    };
    let uses_source_ports = spec.source_port_range.is_some_and(|r| !r.is_any())
        || rivals
            .iter()
            .any(|r| r.spec.source_port_range.is_some_and(|r| !r.is_any()));

    let mut flows: Vec<(IpProtocol, Option<u16>, Option<u16>)> = Vec::new();
    for &protocol in &protocols {
        let ports: Vec<Option<u16>> = if protocol.has_ports() {
            let cuts = rivals
                .iter()
                .filter(|r| protocol_matches(r.spec.protocol, protocol))
                .filter(|r| !r.spec.port_range.is_any())
                .map(|r| ports_span(r.spec.port_range));
            cells(ports_span(spec.port_range), cuts)
                .into_iter()
                .map(|(a, _)| u16::try_from(a).ok())
                .collect()
        } else {
            vec![None]
        };
        let source_ports: Vec<Option<u16>> = if !uses_source_ports {
            vec![None]
        } else {
            let cuts: Vec<Span> = rivals
                .iter()
                .filter_map(|r| r.spec.source_port_range)
                .filter(|r| !r.is_any())
                .map(ports_span)
                .collect();
            let mut reps: Vec<Option<u16>> = Vec::new();
            match spec.source_port_range {
                Some(range) if !range.is_any() => {}
                _ => reps.push(None),
            }
            let domain = spec.source_port_range.map_or((1, 65535), ports_span);
            reps.extend(
                cells(domain, cuts)
                    .into_iter()
                    .map(|(a, _)| u16::try_from(a).ok()),
            );
            reps
        };
        for &port in &ports {
            for &source_port in &source_ports {
                flows.push((protocol, port, source_port));
            }
        }
    }
    if flows.len() * peer_cells.len() * local_cells.len() > MAX_CELLS {
        return None;
    }

    let mut deciders: Vec<String> = Vec::new();
    let mut inner_access = false;
    // A group peer needs a member per address cell: one snapshot per (local, remote) pair;
    // an address peer one per local cell.
    let mut probes: Vec<(Probe, Vec<(bool, Span)>)> = Vec::new();
    for &(local_lo, local_hi) in &local_cells {
        if peer_group.is_some() {
            for &(v6, (lo, hi)) in &peer_cells {
                let remote = if lo != local_lo { lo } else { hi };
                if remote == local_lo {
                    // A one-address cell on the local member's own address: another local address.
                    if local_hi == local_lo {
                        continue;
                    }
                    probes.push((
                        Probe {
                            local: local_hi,
                            remote: Some(remote),
                        },
                        vec![(v6, (lo, hi))],
                    ));
                    continue;
                }
                probes.push((
                    Probe {
                        local: local_lo,
                        remote: Some(remote),
                    },
                    vec![(v6, (lo, hi))],
                ));
            }
        } else {
            probes.push((
                Probe {
                    local: local_lo,
                    remote: None,
                },
                peer_cells.clone(),
            ));
        }
    }
    for (probe, peers) in probes {
        let snapshot = snapshot(group, own, lists, &probe, peer_group.as_deref());
        for (v6, (lo, hi)) in peers {
            let remote = match probe.remote {
                Some(_) => Endpoint::Nic(REMOTE.into()),
                None => {
                    // The outside address must not be the member's own.
                    let pick = if v6 || lo != probe.local {
                        lo
                    } else if hi != lo {
                        hi
                    } else {
                        continue;
                    };
                    Endpoint::Outside(address(v6, pick))
                }
            };
            for &(protocol, port, source_port) in &flows {
                let local = Endpoint::Nic(LOCAL.into());
                let (source, destination) = match spec.direction {
                    Direction::Ingress => (remote.clone(), local),
                    Direction::Egress => (local, remote.clone()),
                };
                let flow = Flow {
                    source,
                    destination,
                    protocol,
                    port,
                    source_port,
                };
                let Ok(verdict) = snapshot.evaluate(&flow) else {
                    continue;
                };
                let outcome = match spec.direction {
                    Direction::Ingress => verdict.ingress.as_ref(),
                    Direction::Egress => verdict.egress.as_ref(),
                };
                let Some(outcome) = outcome else {
                    if matches!(verdict.decided_by, Step::InnerAccess { .. }) {
                        inner_access = true;
                    }
                    continue;
                };
                let mut decided_by_rule = false;
                for step in &outcome.steps {
                    if let Step::Rule { rule_id, .. } = step {
                        if *rule_id == rule.id {
                            decided_by_rule = true;
                        } else if !deciders.contains(rule_id) {
                            deciders.push(rule_id.clone());
                        }
                    }
                }
                if decided_by_rule {
                    return None;
                }
            }
        }
    }
    // In the group's order.
    let shadowed_by: Vec<String> = own
        .iter()
        .filter(|r| deciders.contains(&r.id))
        .map(|r| r.id.clone())
        .collect();
    let reason = if shadowed_by.is_empty() && inner_access {
        DeadReason::InnerAccess
    } else if shadowed_by.is_empty() {
        DeadReason::MatchesNothing
    } else {
        DeadReason::Shadowed
    };
    Some(dead(reason, shadowed_by))
}

const LOCAL: &str = "i-review-local-member";
const REMOTE: &str = "i-review-peer-member";
const VPC: &str = "vpc-review-probe";

fn probe_instance(id: &str, at: u128, groups: Vec<String>) -> Instance {
    Instance {
        id: id.into(),
        account_id: String::new(),
        region_id: String::new(),
        zone_id: String::new(),
        vpc_id: VPC.into(),
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
        private_ip: address(false, address_v4(at)).to_string(),
        security_group_ids: groups,
        attributes: String::new(),
    }
}

fn address_v4(n: u128) -> u128 {
    n.min(u32::MAX as u128)
}

/// The group with its rules, its member and the peer member.
fn snapshot(
    group: &SecurityGroup,
    own: &[&Rule],
    lists: &[PrefixList],
    probe: &Probe,
    peer_group: Option<&str>,
) -> Snapshot {
    let mut instances = vec![probe_instance(LOCAL, probe.local, vec![group.id.clone()])];
    if let (Some(remote), Some(peer)) = (probe.remote, peer_group) {
        instances.push(probe_instance(REMOTE, remote, vec![peer.to_string()]));
    }
    let state = NetworkState {
        interfaces: Vec::new(),
        groups: vec![group.clone()],
        rules: own.iter().map(|r| (*r).clone()).collect(),
        instances,
        prefix_lists: lists.to_vec(),
        vpcs: vec![Vpc {
            id: VPC.into(),
            account_id: String::new(),
            region_id: String::new(),
            cidr_block: String::new(),
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
        }],
    };
    Snapshot::build(&state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secgroup_domain::rules::{RulePolicy, RuleSpec};
    use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};

    fn rule(id: &str, ports: (i32, i32), peer: Peer, priority: u8) -> Rule {
        Rule {
            id: id.into(),
            security_group_id: "sg-1".into(),
            spec: RuleSpec {
                direction: Direction::Ingress,
                protocol: IpProtocol::Tcp,
                port_range: PortRange {
                    from: ports.0,
                    to: ports.1,
                },
                source_port_range: None,
                policy: RulePolicy::Accept,
                priority,
                peer,
                local_cidr: None,
                description: String::new(),
            },
            create_time: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_wider_earlier_rule_shadows_and_inner_access_decides_among_members() {
        let group = SecurityGroup {
            id: "sg-1".into(),
            account_id: "1".into(),
            region_id: "cn-hangzhou".into(),
            name: String::new(),
            description: String::new(),
            group_type: SecurityGroupType::Normal,
            inner_access_policy: InnerAccessPolicy::Accept,
            vpc_id: "vpc-1".into(),
            resource_group_id: String::new(),
            creation_time: DateTime::UNIX_EPOCH,
        };
        let cidr = |s: &str| Peer::Cidr(Cidr::parse_v4(s).expect("cidr"));
        let rules = vec![
            rule("wide", (22, 22), cidr("0.0.0.0/0"), 5),
            rule("narrow", (22, 22), cidr("10.0.0.0/8"), 10),
            rule("web", (80, 443), cidr("0.0.0.0/0"), 1),
            rule(
                "self",
                (8443, 8443),
                Peer::Group {
                    group_id: "sg-1".into(),
                    owner_account: String::new(),
                },
                1,
            ),
        ];
        let dead = dead_rules(&group, &rules, &[]);
        let found: Vec<(&str, DeadReason, Vec<String>)> = dead
            .iter()
            .map(|d| (d.rule_id.as_str(), d.reason, d.shadowed_by.clone()))
            .collect();
        assert_eq!(
            found,
            vec![
                ("narrow", DeadReason::Shadowed, vec!["wide".to_string()]),
                ("self", DeadReason::InnerAccess, vec![]),
            ]
        );
    }
}
