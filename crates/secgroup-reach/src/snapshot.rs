//! The immutable picture the engine reasons about, and its indexes: members per group as
//! sets (a group peer is never expanded into per-member rules), rules per (group, direction)
//! sorted by priority.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::OnceLock;

use secgroup_domain::network::{InterfaceKind, NetworkInterface};
use secgroup_domain::rules::{Cidr, Direction, IpProtocol, PortRange, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};

/// Everything one account has in a region, as the store hands it over.
pub use secgroup_domain::network::NetworkState as SnapshotInput;

/// An inclusive address interval: a CIDR block, precomputed so that matching is two
/// comparisons (`IpAddr` orders IPv4 before IPv6, so a block never covers the other family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct AddressBlock {
    pub(crate) first: IpAddr,
    pub(crate) last: IpAddr,
}

impl AddressBlock {
    fn of(cidr: &Cidr) -> AddressBlock {
        let net = cidr.network();
        AddressBlock {
            first: net.network(),
            last: net.broadcast(),
        }
    }
    pub(crate) fn contains(self, address: IpAddr) -> bool {
        self.first <= address && address <= self.last
    }
}

/// A rule's peer, resolved against the snapshot.
#[derive(Debug, Clone)]
pub(crate) enum PeerMatch {
    /// A CIDR block, or a prefix list's entries (an unknown list has none: it matches nothing).
    Addresses(Vec<AddressBlock>),
    /// Members of this (interned) group.
    Group(u32),
}

/// A rule reduced to what matching needs.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) id: String,
    pub(crate) group: u32,
    pub(crate) direction: Direction,
    pub(crate) protocol: IpProtocol,
    pub(crate) ports: PortRange,
    pub(crate) source_ports: Option<PortRange>,
    pub(crate) policy: RulePolicy,
    pub(crate) priority: u8,
    pub(crate) peer: PeerMatch,
    /// Quintuple: the block the group-side NIC's own address must be in.
    pub(crate) local: Option<AddressBlock>,
}

impl CompiledRule {
    pub(crate) fn matches_protocol_and_ports(
        &self,
        protocol: IpProtocol,
        port: Option<u16>,
        source_port: Option<u16>,
    ) -> bool {
        (self.protocol == IpProtocol::All || self.protocol == protocol)
            && port_matches(self.ports, port)
            && self
                .source_ports
                .is_none_or(|range| port_matches(range, source_port))
    }
    pub(crate) fn matches_local(&self, local_address: Option<IpAddr>) -> bool {
        self.local
            .is_none_or(|block| local_address.is_some_and(|a| block.contains(a)))
    }
}

/// `-1/-1` covers everything; a real range only a known port inside it.
pub(crate) fn port_matches(range: PortRange, port: Option<u16>) -> bool {
    range.is_any() || port.is_some_and(|p| range.contains(p))
}

/// What is known of a group id. Ids only referenced (by a NIC or a rule peer, e.g. another
/// account's group) have no type or policy.
#[derive(Debug, Clone)]
pub(crate) struct GroupEntry {
    pub(crate) id: String,
    pub(crate) kind: Option<(SecurityGroupType, InnerAccessPolicy)>,
}

impl GroupEntry {
    pub(crate) fn accepts_members(&self) -> bool {
        self.kind == Some((SecurityGroupType::Normal, InnerAccessPolicy::Accept))
    }
}

/// A NIC: an attached network interface of an instance (docs/semantics.md §1) — its
/// primary one, or a secondary one with groups and addresses of its own.
#[derive(Debug, Clone)]
pub(crate) struct Nic {
    pub(crate) instance_id: String,
    /// `eni-…`
    pub(crate) interface_id: String,
    pub(crate) vpc: u32,
    /// The primary private address; `None` when the stored address does not parse: no
    /// address rule can match it.
    pub(crate) address: Option<IpAddr>,
    /// Its secondary private addresses (those that parse), in the order they were assigned.
    pub(crate) secondary: Vec<IpAddr>,
    /// Interned group ids, sorted and distinct.
    pub(crate) groups: Vec<u32>,
    /// All of a NIC's groups share one type; a NIC whose groups are all unknown counts as
    /// `normal`.
    pub(crate) group_type: SecurityGroupType,
}

impl Nic {
    /// Whether `address` is one of this NIC's own addresses.
    pub(crate) fn holds(&self, address: IpAddr) -> bool {
        self.address == Some(address) || self.secondary.contains(&address)
    }
}

/// One account's groups, rules and NICs, indexed for evaluation. Immutable: rebuild it to
/// see changes.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub(crate) groups: Vec<GroupEntry>,
    /// Each instance's primary NIC first, in input order (so the first `primaries` are one
    /// per instance), then the secondary interfaces attached to those instances.
    pub(crate) nics: Vec<Nic>,
    pub(crate) primaries: usize,
    /// Instance id → its primary NIC.
    pub(crate) nic_by_instance: HashMap<String, u32>,
    /// Interface id (`eni-…`) → its NIC, primary or secondary: built on the first question
    /// that names an interface (most name instances only).
    pub(crate) nic_by_interface: OnceLock<HashMap<String, u32>>,
    /// Every address of every NIC, primary and secondary ones.
    pub(crate) nic_by_address: HashMap<IpAddr, u32>,
    pub(crate) vpc_ids: Vec<String>,
    pub(crate) rules: Vec<CompiledRule>,
    /// `[ingress, egress]` rule indexes per group, by ascending priority number.
    pub(crate) rules_by_group: Vec<[Vec<u32>; 2]>,
    /// NIC indexes per group.
    pub(crate) members: Vec<BTreeSet<u32>>,
}

pub(crate) fn direction_slot(direction: Direction) -> usize {
    match direction {
        Direction::Ingress => 0,
        Direction::Egress => 1,
    }
}

#[derive(Default)]
struct Interner {
    index: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.index.insert(name.to_string(), i);
        self.names.push(name.to_string());
        i
    }
}

impl Snapshot {
    pub fn build(input: &SnapshotInput) -> Snapshot {
        let mut group_ids = Interner::default();
        let mut kinds: HashMap<u32, (SecurityGroupType, InnerAccessPolicy)> = HashMap::new();
        for g in &input.groups {
            let i = group_ids.intern(&g.id);
            kinds.insert(i, (g.group_type, g.inner_access_policy));
        }
        let mut vpc_ids = Interner::default();
        for v in &input.vpcs {
            vpc_ids.intern(&v.id);
        }
        let prefix_blocks: HashMap<&str, Vec<AddressBlock>> = input
            .prefix_lists
            .iter()
            .map(|pl| {
                let blocks = pl
                    .entries
                    .iter()
                    .filter_map(|e| Cidr::parse_any(&e.cidr))
                    .map(|c| AddressBlock::of(&c))
                    .collect();
                (pl.id.as_str(), blocks)
            })
            .collect();

        // Interface records by id: the primary ones add their secondary addresses to their
        // instance's NIC; the secondary ones attached to a known instance are NICs of their
        // own (docs/semantics.md §1). Without records, each instance is its primary
        // interface with its one address.
        let records: HashMap<&str, &NetworkInterface> = input
            .interfaces
            .iter()
            .map(|e| (e.id.as_str(), e))
            .collect();
        let mut nics = Vec::with_capacity(input.instances.len().max(input.interfaces.len()));
        for inst in &input.instances {
            // The instance's groups are the primary interface's (its record agrees).
            let secondary = if records.is_empty() {
                Vec::new()
            } else {
                records
                    .get(inst.network_interface_id.as_str())
                    .map_or_else(Vec::new, |e| parsed(&e.secondary_ips))
            };
            nics.push(Nic {
                instance_id: inst.id.clone(),
                interface_id: inst.network_interface_id.clone(),
                vpc: vpc_ids.intern(&inst.vpc_id),
                address: inst.private_ip.trim().parse().ok(),
                secondary,
                groups: interned(&mut group_ids, &inst.security_group_ids),
                group_type: SecurityGroupType::Normal,
            });
        }
        let primaries = nics.len();
        let owners: HashSet<&str> = if input.interfaces.is_empty() {
            HashSet::new()
        } else {
            input.instances.iter().map(|i| i.id.as_str()).collect()
        };
        for eni in &input.interfaces {
            let attached =
                eni.kind == InterfaceKind::Secondary && owners.contains(eni.instance_id.as_str());
            if !attached {
                continue;
            }
            nics.push(Nic {
                instance_id: eni.instance_id.clone(),
                interface_id: eni.id.clone(),
                vpc: vpc_ids.intern(&eni.vpc_id),
                address: eni.primary_ip.trim().parse().ok(),
                secondary: parsed(&eni.secondary_ips),
                groups: interned(&mut group_ids, &eni.security_group_ids),
                group_type: SecurityGroupType::Normal,
            });
        }
        for nic in &mut nics {
            let enterprise = nic
                .groups
                .iter()
                .any(|g| matches!(kinds.get(g), Some((SecurityGroupType::Enterprise, _))));
            if enterprise {
                nic.group_type = SecurityGroupType::Enterprise;
            }
        }

        let rules: Vec<CompiledRule> = input
            .rules
            .iter()
            .map(|r| {
                let spec = &r.spec;
                let peer = match &spec.peer {
                    secgroup_domain::rules::Peer::Cidr(c) => {
                        PeerMatch::Addresses(vec![AddressBlock::of(c)])
                    }
                    secgroup_domain::rules::Peer::Group { group_id, .. } => {
                        PeerMatch::Group(group_ids.intern(group_id))
                    }
                    secgroup_domain::rules::Peer::PrefixList(id) => PeerMatch::Addresses(
                        prefix_blocks.get(id.as_str()).cloned().unwrap_or_default(),
                    ),
                };
                CompiledRule {
                    id: r.id.clone(),
                    group: group_ids.intern(&r.security_group_id),
                    direction: spec.direction,
                    protocol: spec.protocol,
                    ports: spec.port_range,
                    source_ports: spec.source_port_range,
                    policy: spec.policy,
                    priority: spec.priority,
                    peer,
                    local: spec.local_cidr.as_ref().map(AddressBlock::of),
                }
            })
            .collect();

        let group_count = group_ids.names.len();
        let mut rules_by_group: Vec<[Vec<u32>; 2]> = vec![[Vec::new(), Vec::new()]; group_count];
        for (i, r) in rules.iter().enumerate() {
            let slot = direction_slot(r.direction);
            rules_by_group[r.group as usize][slot].push(i as u32);
        }
        for lists in &mut rules_by_group {
            for list in lists.iter_mut() {
                list.sort_by_key(|&i| rules[i as usize].priority);
            }
        }
        let mut members = vec![BTreeSet::new(); group_count];
        let mut nic_by_instance = HashMap::with_capacity(primaries);
        let mut nic_by_address = HashMap::with_capacity(nics.len());
        for (i, nic) in nics.iter().enumerate() {
            let n = i as u32;
            for &g in &nic.groups {
                members[g as usize].insert(n);
            }
            if i < primaries {
                nic_by_instance.insert(nic.instance_id.clone(), n);
            }
            for &a in nic.address.iter().chain(&nic.secondary) {
                nic_by_address.insert(a, n);
            }
        }
        let groups = group_ids
            .names
            .into_iter()
            .enumerate()
            .map(|(i, id)| GroupEntry {
                id,
                kind: kinds.get(&(i as u32)).copied(),
            })
            .collect();
        Snapshot {
            groups,
            nics,
            primaries,
            nic_by_instance,
            nic_by_interface: OnceLock::new(),
            nic_by_address,
            vpc_ids: vpc_ids.names,
            rules,
            rules_by_group,
            members,
        }
    }

    /// The instances with at least one interface that is a member of a group now, each
    /// once (none for an unknown id).
    pub fn members_of(&self, group_id: &str) -> Vec<&str> {
        let Some(g) = self.groups.iter().position(|e| e.id == group_id) else {
            return Vec::new();
        };
        let mut out: Vec<&str> = Vec::new();
        for &n in &self.members[g] {
            let id = self.nics[n as usize].instance_id.as_str();
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }

    /// The interfaces (`eni-…`) that are members of a group now (none for an unknown id).
    pub fn interface_members_of(&self, group_id: &str) -> Vec<&str> {
        let Some(g) = self.groups.iter().position(|e| e.id == group_id) else {
            return Vec::new();
        };
        self.members[g]
            .iter()
            .map(|&n| self.nics[n as usize].interface_id.as_str())
            .collect()
    }

    /// The instance ids, one per instance, in input order (the order [`Snapshot::matrix`]
    /// indexes use when given [`Snapshot::instance_ids`]).
    pub fn instance_ids(&self) -> Vec<&str> {
        self.nics[..self.primaries]
            .iter()
            .map(|n| n.instance_id.as_str())
            .collect()
    }

    /// The interface id of every NIC: each instance's primary one in input order, then the
    /// attached secondary ones.
    pub fn interface_ids(&self) -> Vec<&str> {
        self.nics.iter().map(|n| n.interface_id.as_str()).collect()
    }

    /// The instance an interface (primary or secondary) is attached to, when it is a NIC.
    pub fn instance_of_interface(&self, interface_id: &str) -> Option<&str> {
        self.interface_index(interface_id)
            .map(|n| self.nics[n as usize].instance_id.as_str())
    }

    /// The primary NIC of an instance.
    pub(crate) fn nic_index(&self, instance_id: &str) -> Option<u32> {
        self.nic_by_instance.get(instance_id).copied()
    }

    /// The NIC of an interface, primary or secondary.
    pub(crate) fn interface_index(&self, interface_id: &str) -> Option<u32> {
        self.nic_by_interface
            .get_or_init(|| {
                self.nics
                    .iter()
                    .enumerate()
                    .map(|(n, nic)| (nic.interface_id.clone(), n as u32))
                    .collect()
            })
            .get(interface_id)
            .copied()
    }
}

/// Addresses that parse, in order.
fn parsed(addresses: &[String]) -> Vec<IpAddr> {
    addresses
        .iter()
        .filter_map(|a| a.trim().parse().ok())
        .collect()
}

/// Interned group ids, sorted and distinct.
fn interned(group_ids: &mut Interner, ids: &[String]) -> Vec<u32> {
    let mut groups: Vec<u32> = ids.iter().map(|g| group_ids.intern(g)).collect();
    groups.sort_unstable();
    groups.dedup();
    groups
}
