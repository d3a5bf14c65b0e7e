//! A naive, literal transcription of docs/semantics.md §3, written
//! against the domain values with no code shared with the engine: the engine is checked
//! against it. A NIC is one network interface of an instance, at one of its addresses.

use std::net::IpAddr;

use secgroup_domain::rules::{Cidr, Direction, IpProtocol, Peer, PortRange, Rule, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use secgroup_reach::SnapshotInput;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    DifferentVpc,
    InnerAccess,
    Rule,
    Default,
}

/// An interface, as the question sees it: its VPC, its groups, and the address of the flow.
#[derive(Debug, Clone, Copy)]
pub struct Interface<'a> {
    pub vpc_id: &'a str,
    pub security_group_ids: &'a [String],
    /// `None` when the address does not parse.
    pub address: Option<IpAddr>,
}

pub enum End<'a> {
    Nic(Interface<'a>),
    Outside(IpAddr),
}

pub struct Question<'a> {
    pub source: End<'a>,
    pub destination: End<'a>,
    pub protocol: IpProtocol,
    pub port: Option<u16>,
    pub source_port: Option<u16>,
}

fn address_of(end: &End<'_>) -> Option<IpAddr> {
    match end {
        End::Nic(i) => i.address,
        End::Outside(a) => Some(*a),
    }
}

fn range_covers(range: PortRange, port: Option<u16>) -> bool {
    if range.from == -1 && range.to == -1 {
        return true;
    }
    match port {
        Some(p) => range.from <= i32::from(p) && i32::from(p) <= range.to,
        None => false,
    }
}

fn in_block(text: &str, address: Option<IpAddr>) -> bool {
    match (Cidr::parse_any(text), address) {
        (Some(c), Some(a)) => c.contains(a),
        _ => false,
    }
}

fn rule_matches(
    input: &SnapshotInput,
    rule: &Rule,
    local: &Interface<'_>,
    peer: &End<'_>,
    q: &Question<'_>,
) -> bool {
    let s = &rule.spec;
    let protocol_ok = s.protocol == IpProtocol::All || s.protocol == q.protocol;
    let port_ok = range_covers(s.port_range, q.port);
    let peer_ok = match &s.peer {
        Peer::Cidr(c) => address_of(peer).is_some_and(|a| c.contains(a)),
        Peer::Group { group_id, .. } => match peer {
            End::Nic(i) => i.security_group_ids.iter().any(|g| g == group_id),
            End::Outside(_) => false,
        },
        Peer::PrefixList(id) => input
            .prefix_lists
            .iter()
            .filter(|pl| &pl.id == id)
            .flat_map(|pl| pl.entries.iter())
            .any(|e| in_block(&e.cidr, address_of(peer))),
    };
    let source_port_ok = match s.source_port_range {
        None => true,
        Some(r) => range_covers(r, q.source_port),
    };
    let local_ok = match &s.local_cidr {
        None => true,
        Some(c) => local.address.is_some_and(|a| c.contains(a)),
    };
    protocol_ok && port_ok && peer_ok && source_port_ok && local_ok
}

fn group_type_of(input: &SnapshotInput, nic: &Interface<'_>) -> SecurityGroupType {
    let enterprise = input.groups.iter().any(|g| {
        nic.security_group_ids.contains(&g.id) && g.group_type == SecurityGroupType::Enterprise
    });
    if enterprise {
        SecurityGroupType::Enterprise
    } else {
        SecurityGroupType::Normal
    }
}

/// Step 4 for one direction at one NIC: (allows, reason).
fn one_direction(
    input: &SnapshotInput,
    nic: &Interface<'_>,
    direction: Direction,
    peer: &End<'_>,
    q: &Question<'_>,
) -> (bool, Reason) {
    let matching: Vec<&Rule> = input
        .rules
        .iter()
        .filter(|r| nic.security_group_ids.contains(&r.security_group_id))
        .filter(|r| r.spec.direction == direction)
        .filter(|r| rule_matches(input, r, nic, peer, q))
        .collect();
    if matching.is_empty() {
        let allows = match group_type_of(input, nic) {
            SecurityGroupType::Normal => direction == Direction::Egress,
            SecurityGroupType::Enterprise => false,
        };
        return (allows, Reason::Default);
    }
    let smallest = matching
        .iter()
        .map(|r| r.spec.priority)
        .min()
        .unwrap_or(u8::MAX);
    let any_drop = matching
        .iter()
        .any(|r| r.spec.priority == smallest && r.spec.policy == RulePolicy::Drop);
    (!any_drop, Reason::Rule)
}

/// (allowed, reason of the deciding step): for a denied flow the first blocking check
/// (egress before ingress), for an allowed one the destination's ingress, or the source's
/// egress when the destination is outside.
pub fn decide(input: &SnapshotInput, q: &Question<'_>) -> (bool, Reason) {
    if let (End::Nic(s), End::Nic(d)) = (&q.source, &q.destination) {
        if s.vpc_id != d.vpc_id {
            return (false, Reason::DifferentVpc);
        }
        let shared_accepting = input.groups.iter().any(|g| {
            g.group_type == SecurityGroupType::Normal
                && g.inner_access_policy == InnerAccessPolicy::Accept
                && s.security_group_ids.contains(&g.id)
                && d.security_group_ids.contains(&g.id)
        });
        if shared_accepting {
            return (true, Reason::InnerAccess);
        }
    }
    let egress = match &q.source {
        End::Nic(s) => Some(one_direction(
            input,
            s,
            Direction::Egress,
            &q.destination,
            q,
        )),
        End::Outside(_) => None,
    };
    let ingress = match &q.destination {
        End::Nic(d) => Some(one_direction(input, d, Direction::Ingress, &q.source, q)),
        End::Outside(_) => None,
    };
    for (allows, reason) in [egress, ingress].into_iter().flatten() {
        if !allows {
            return (false, reason);
        }
    }
    let last = ingress.or(egress).map_or(Reason::Default, |(_, r)| r);
    (true, last)
}
