//! How a request's rule fields become a valid rule (docs/ecs.md §2.3).

use crate::error::{DomainError, RuleInvalid, Side};
use crate::rules::{Cidr, Direction, Family, IpProtocol, Peer, PortRange, RulePolicy, RuleSpec};

/// A rule as a request states it, field by field (wire names in snake case). Absent and
/// empty values are alike, except where modifying by id (an empty value clears).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleDraft {
    pub ip_protocol: Option<String>,
    pub port_range: Option<String>,
    pub port_range_list_id: Option<String>,
    pub source_port_range: Option<String>,
    pub policy: Option<String>,
    pub priority: Option<String>,
    pub nic_type: Option<String>,
    pub source_cidr_ip: Option<String>,
    pub ipv6_source_cidr_ip: Option<String>,
    pub dest_cidr_ip: Option<String>,
    pub ipv6_dest_cidr_ip: Option<String>,
    pub source_group_id: Option<String>,
    pub source_group_owner_account: Option<String>,
    pub source_group_owner_id: Option<String>,
    pub dest_group_id: Option<String>,
    pub dest_group_owner_account: Option<String>,
    pub dest_group_owner_id: Option<String>,
    pub source_prefix_list_id: Option<String>,
    pub dest_prefix_list_id: Option<String>,
    pub description: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// The peer-side fields of a draft for a direction: (v4, v6, group, owner, prefix list).
struct PeerFields<'a> {
    v4: Option<&'a str>,
    v6: Option<&'a str>,
    group: Option<&'a str>,
    owner: Option<&'a str>,
    prefix_list: Option<&'a str>,
    side: Side,
}

impl RuleDraft {
    fn peer_fields(&self, direction: Direction) -> PeerFields<'_> {
        match direction {
            Direction::Ingress => PeerFields {
                v4: given(&self.source_cidr_ip),
                v6: given(&self.ipv6_source_cidr_ip),
                group: given(&self.source_group_id),
                owner: given(&self.source_group_owner_account)
                    .or(given(&self.source_group_owner_id)),
                prefix_list: given(&self.source_prefix_list_id),
                side: Side::Source,
            },
            Direction::Egress => PeerFields {
                v4: given(&self.dest_cidr_ip),
                v6: given(&self.ipv6_dest_cidr_ip),
                group: given(&self.dest_group_id),
                owner: given(&self.dest_group_owner_account).or(given(&self.dest_group_owner_id)),
                prefix_list: given(&self.dest_prefix_list_id),
                side: Side::Dest,
            },
        }
    }

    /// The kinds of peer this draft names (see [`Peer::kind`]), whichever wins.
    pub fn named_peer_kinds(&self, direction: Direction) -> Vec<&'static str> {
        let f = self.peer_fields(direction);
        [
            (f.v4.is_some(), "cidr"),
            (f.v6.is_some(), "ipv6"),
            (f.group.is_some(), "group"),
            (f.prefix_list.is_some(), "prefix_list"),
        ]
        .into_iter()
        .filter_map(|(named, kind)| named.then_some(kind))
        .collect()
    }

    /// The group side's quintuple block fields: (v4, v6, side).
    fn local_fields(&self, direction: Direction) -> (Option<&str>, Option<&str>, Side) {
        match direction {
            Direction::Ingress => (
                given(&self.dest_cidr_ip),
                given(&self.ipv6_dest_cidr_ip),
                Side::Dest,
            ),
            Direction::Egress => (
                given(&self.source_cidr_ip),
                given(&self.ipv6_source_cidr_ip),
                Side::Source,
            ),
        }
    }

    /// Validates the draft into a rule of `direction` (syntax only; no lookups).
    pub fn parse(&self, direction: Direction) -> Result<RuleSpec, DomainError> {
        let invalid = |e: RuleInvalid| DomainError::Rule(e);
        let protocol = given(&self.ip_protocol)
            .and_then(IpProtocol::parse)
            .ok_or(invalid(RuleInvalid::ProtocolNotSupported))?;
        let port_range = match (given(&self.port_range), given(&self.port_range_list_id)) {
            (Some(text), _) => {
                PortRange::parse(text).ok_or(invalid(RuleInvalid::PortRangeMalformed))?
            }
            // Port range lists are not offered, so any id names a list that does not exist.
            (None, Some(_)) => return Err(invalid(RuleInvalid::PortRangeListNotFound)),
            (None, None) => return Err(invalid(RuleInvalid::PortRangeMissing)),
        };
        let fits = if port_range.is_any() {
            !protocol.has_ports()
        } else if port_range.is_real() {
            protocol.has_ports()
        } else {
            return Err(invalid(RuleInvalid::PortRangeMalformed));
        };
        if !fits {
            return Err(invalid(RuleInvalid::ProtocolPortMismatch));
        }
        let source_port_range = match given(&self.source_port_range) {
            None => None,
            Some(text) => {
                let range =
                    PortRange::parse(text).ok_or(invalid(RuleInvalid::SourcePortRangeMalformed))?;
                if range.is_any() {
                    None
                } else if range.is_real() {
                    Some(range)
                } else {
                    return Err(invalid(RuleInvalid::SourcePortRangeMalformed));
                }
            }
        };
        let policy = match given(&self.policy) {
            None => RulePolicy::Accept,
            Some(p) => RulePolicy::parse(p).ok_or(invalid(RuleInvalid::PolicyMalformed))?,
        };
        let priority = match given(&self.priority) {
            None => 1,
            Some(p) => {
                let n = crate::rules::decimal(p).ok_or(invalid(RuleInvalid::PriorityMalformed))?;
                u8::try_from(n)
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or(invalid(RuleInvalid::PriorityOutOfRange))?
            }
        };
        // VPC groups only know intranet rules: `internet` is accepted and coerced
        // (docs/ecs.md §2.3).
        if let Some(nic) = given(&self.nic_type) {
            if nic != "intranet" && nic != "internet" {
                return Err(invalid(RuleInvalid::NicTypeNotSupported));
            }
        }
        let description = self.description.clone().unwrap_or_default();
        if description.chars().count() > 512 || !crate::validate::free_text_ok(&description) {
            return Err(invalid(RuleInvalid::DescriptionMalformed));
        }

        let peer_fields = self.peer_fields(direction);
        let peer_cidr = cidr_of(peer_fields.v4, peer_fields.v6, peer_fields.side)?;
        let (local_v4, local_v6, local_side) = self.local_fields(direction);
        let local_cidr = cidr_of(local_v4, local_v6, local_side)?;
        // A CIDR beats a group, and either beats a prefix list (docs/ecs.md §2.3).
        let peer = if let Some(cidr) = peer_cidr {
            Peer::Cidr(cidr)
        } else if let Some(group_id) = peer_fields.group {
            Peer::Group {
                group_id: group_id.to_string(),
                owner_account: peer_fields.owner.unwrap_or("").to_string(),
            }
        } else if let Some(id) = peer_fields.prefix_list {
            Peer::PrefixList(id.to_string())
        } else {
            return Err(invalid(RuleInvalid::PeerMissing(direction)));
        };

        let peer_family = match &peer {
            Peer::Cidr(c) => Some(c.family()),
            _ => None,
        };
        let local_family = local_cidr.as_ref().map(Cidr::family);
        if let (Some(a), Some(b)) = (peer_family, local_family) {
            if a != b {
                return Err(invalid(RuleInvalid::FamiliesMixed));
            }
        }
        match (protocol.family(), peer_family.or(local_family)) {
            (Some(Family::V4), Some(Family::V6)) => {
                return Err(invalid(RuleInvalid::Ipv4ProtocolWithIpv6))
            }
            (Some(Family::V6), Some(Family::V4)) => {
                return Err(invalid(RuleInvalid::Ipv6ProtocolWithIpv4))
            }
            _ => {}
        }
        if let (Peer::Cidr(p), Some(l)) = (&peer, &local_cidr) {
            if p == l {
                return Err(invalid(RuleInvalid::SameSourceAndDest));
            }
        }
        Ok(RuleSpec {
            direction,
            protocol,
            port_range,
            source_port_range,
            policy,
            priority,
            peer,
            local_cidr,
            description,
        })
    }
}

/// One side's block from its IPv4 and IPv6 fields (at most one may be given).
fn cidr_of(v4: Option<&str>, v6: Option<&str>, side: Side) -> Result<Option<Cidr>, DomainError> {
    match (v4, v6) {
        (Some(_), Some(_)) => Err(DomainError::Rule(RuleInvalid::BothFamilies(side))),
        (Some(v4), None) => Cidr::parse_v4(v4)
            .map(Some)
            .ok_or(DomainError::Rule(RuleInvalid::CidrMalformed(side))),
        (None, Some(v6)) => Cidr::parse_v6(v6)
            .map(Some)
            .ok_or(DomainError::Rule(RuleInvalid::Ipv6CidrMalformed(side))),
        (None, None) => Ok(None),
    }
}

/// Renders a stored rule back into a draft, so a by-id modification can overlay new values.
pub(crate) fn draft_of(spec: &RuleSpec) -> RuleDraft {
    let mut d = RuleDraft {
        ip_protocol: Some(spec.protocol.as_str().into()),
        port_range: Some(spec.port_range.to_string()),
        source_port_range: spec.source_port_range.map(|p| p.to_string()),
        policy: Some(spec.policy.as_str().into()),
        priority: Some(spec.priority.to_string()),
        description: Some(spec.description.clone()),
        ..RuleDraft::default()
    };
    let (v4, v6, group, owner, prefix_list) = match spec.direction {
        Direction::Ingress => (
            &mut d.source_cidr_ip,
            &mut d.ipv6_source_cidr_ip,
            &mut d.source_group_id,
            &mut d.source_group_owner_account,
            &mut d.source_prefix_list_id,
        ),
        Direction::Egress => (
            &mut d.dest_cidr_ip,
            &mut d.ipv6_dest_cidr_ip,
            &mut d.dest_group_id,
            &mut d.dest_group_owner_account,
            &mut d.dest_prefix_list_id,
        ),
    };
    match &spec.peer {
        Peer::Cidr(c) if c.family() == Family::V4 => *v4 = Some(c.as_str().into()),
        Peer::Cidr(c) => *v6 = Some(c.as_str().into()),
        Peer::Group {
            group_id,
            owner_account,
        } => {
            *group = Some(group_id.clone());
            *owner = Some(owner_account.clone()).filter(|o| !o.is_empty());
        }
        Peer::PrefixList(id) => *prefix_list = Some(id.clone()),
    }
    if let Some(local) = &spec.local_cidr {
        let slot = match (spec.direction, local.family()) {
            (Direction::Ingress, Family::V4) => &mut d.dest_cidr_ip,
            (Direction::Ingress, Family::V6) => &mut d.ipv6_dest_cidr_ip,
            (Direction::Egress, Family::V4) => &mut d.source_cidr_ip,
            (Direction::Egress, Family::V6) => &mut d.ipv6_source_cidr_ip,
        };
        *slot = Some(local.as_str().into());
    }
    d
}
