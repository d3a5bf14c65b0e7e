//! Random topologies for property tests: 2–3 VPCs (all with the same block, 10.0.0.0/16, so
//! that only the VPC keeps them apart), two vSwitches per VPC, basic and advanced groups,
//! rules of every kind (CIDR, IPv6, group, prefix list, quintuple; TCP/UDP/ICMP/GRE/ALL),
//! instances in 1..5 groups of one type, some of them stopped, each with secondary interfaces
//! in groups of their own and secondary addresses on every interface (unless the [`Shape`]
//! says none), some interfaces not attached, and flows between NICs (at any of their
//! addresses) and outside addresses. [`seeded`] draws one topology from a seed, for tests
//! that are not proptests.

use std::net::IpAddr;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use secgroup_domain::network::{InstanceStatus, NetworkInterface, VSwitch, Vpc};
use secgroup_domain::rules::{Cidr, Direction, IpProtocol, PortRange, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};

use super::{
    group, group_peer, instance, prefix_list, primary_interface, rule, secondary_interface,
};
use crate::{Endpoint, Flow, SnapshotInput};

const BLOCKS: &[&str] = &[
    "0.0.0.0/0",
    "10.0.0.0/8",
    "10.0.0.0/24",
    "10.0.1.0/24",
    "10.0.0.3/32",
    "10.0.1.4/32",
    "192.168.0.0/16",
    "::/0",
    // The data plane's outside address is in here.
    "100.64.0.0/10",
];
/// [`BLOCKS`] and blocks that cover some interface addresses (10.0.x.101 and up) and not
/// others, nor the instances' primary addresses: drawn only when there are interfaces (the
/// data plane's topologies keep [`BLOCKS`]).
const INTERFACE_BLOCKS: &[&str] = &[
    "0.0.0.0/0",
    "10.0.0.0/8",
    "10.0.0.0/24",
    "10.0.1.0/24",
    "10.0.0.3/32",
    "10.0.1.4/32",
    "192.168.0.0/16",
    "::/0",
    "100.64.0.0/10",
    "10.0.0.128/25",
    "10.0.1.96/27",
    "10.0.0.104/30",
];

fn blocks(records: bool) -> &'static [&'static str] {
    if records {
        INTERFACE_BLOCKS
    } else {
        BLOCKS
    }
}
const PORT_RANGES: &[(i32, i32)] = &[(-1, -1), (22, 22), (1, 65535), (80, 443), (20, 30)];
const PORTS: &[Option<u16>] = &[None, Some(22), Some(80), Some(443), Some(25), Some(1500)];
const SOURCE_PORTS: &[Option<u16>] = &[None, Some(1500), Some(3000)];
const OUTSIDE: &[&str] = &["203.0.113.9", "10.0.0.200", "192.168.1.1", "2001:db8::1"];
const PROTOCOLS: &[IpProtocol] = &[
    IpProtocol::Tcp,
    IpProtocol::Udp,
    IpProtocol::Icmp,
    IpProtocol::Gre,
    IpProtocol::All,
];

/// A random account: the snapshot input (with its VPCs), its vSwitches and the instance ids.
#[derive(Debug, Clone)]
pub struct Topology {
    pub input: SnapshotInput,
    pub vswitches: Vec<VSwitch>,
    pub instance_ids: Vec<String>,
    /// Every address of every attached interface, primary ones included, with the
    /// interface's id (empty when the input has no interface records).
    pub interface_addresses: Vec<(String, IpAddr)>,
    /// The addresses of interfaces attached to no instance: outside addresses to the engine.
    pub loose_addresses: Vec<IpAddr>,
}

/// The block of every generated VPC: the same in all, as two real VPCs may have.
pub const VPC_BLOCK: &str = "10.0.0.0/16";

/// How big a topology may be: ranges of VPCs, groups, instances and rules, and how many
/// secondary interfaces each instance has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub vpcs: std::ops::RangeInclusive<usize>,
    pub groups: std::ops::Range<usize>,
    pub nics: std::ops::Range<usize>,
    pub rules: std::ops::Range<usize>,
    /// Secondary interfaces per instance. `0..1` makes no interface records at all (each
    /// instance is its primary interface with its one address, as before interfaces); any
    /// other range also gives every interface 0..3 secondary addresses and adds up to two
    /// interfaces attached to no instance.
    pub secondary_interfaces: std::ops::Range<usize>,
}

impl Default for Shape {
    /// What the engine's property tests draw.
    fn default() -> Self {
        Shape {
            vpcs: 2..=3,
            groups: 2..7,
            nics: 2..8,
            rules: 0..32,
            secondary_interfaces: 0..3,
        }
    }
}

impl Shape {
    /// Fewer VPCs and more rules per group: most pairs share a VPC and several rules of a
    /// NIC's groups compete for a flow, so priority, Drop-wins and both directions decide
    /// often (the data plane's differential test).
    pub fn dense() -> Shape {
        Shape {
            vpcs: 1..=2,
            groups: 2..5,
            nics: 4..8,
            rules: 16..48,
            // The data plane realises primary interfaces only.
            secondary_interfaces: 0..1,
        }
    }
}

/// One topology drawn from `seed`: the same seed gives the same topology on every machine.
pub fn seeded(seed: u64) -> Topology {
    seeded_with(seed, Shape::default())
}

/// One topology of `shape` drawn from `seed`.
pub fn seeded_with(seed: u64, shape: Shape) -> Topology {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    // A strategy of plain ranges and collections never rejects, so a tree is always drawn.
    topology_with(shape)
        .new_tree(&mut runner)
        .map(|tree| tree.current())
        .unwrap_or_else(|_| {
            build(
                2,
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                Extras::default(),
            )
        })
}

fn group_strategy() -> impl Strategy<Value = (usize, bool, bool)> {
    (0..3usize, any::<bool>(), any::<bool>())
}

#[allow(clippy::type_complexity)]
fn rule_strategy(
    blocks: usize,
) -> impl Strategy<
    Value = (
        usize,
        bool,
        usize,
        usize,
        bool,
        u8,
        (usize, usize),
        usize,
        usize,
    ),
> {
    (
        0..8usize,     // group (modulo the group count)
        any::<bool>(), // egress?
        0..PROTOCOLS.len(),
        0..PORT_RANGES.len(),
        any::<bool>(),           // drop?
        1..=4u8,                 // priority: small, so that ties happen
        (0..3usize, 0..12usize), // peer kind, peer choice
        0..8usize,               // source port range: mostly none; any, 1000-2000, 3000-4000
        0..(blocks * 3),         // local CIDR (mostly none)
    )
}

pub fn topology() -> impl Strategy<Value = Topology> {
    topology_with(Shape::default())
}

/// An interface's draw: group picks, whether its groups take the other type than its
/// instance's, how many secondary addresses it has.
type InterfaceSpec = (Vec<usize>, bool, usize);

/// What a topology has besides instances: per instance, its primary interface's secondary
/// address count and its secondary interfaces; the interfaces attached to nothing.
#[derive(Debug, Clone, Default)]
struct Extras {
    records: bool,
    per_instance: Vec<(usize, Vec<InterfaceSpec>)>,
    loose: Vec<InterfaceSpec>,
}

fn interface_strategy() -> impl Strategy<Value = InterfaceSpec> {
    (
        prop::collection::vec(0..8usize, 1..4),
        prop::bool::weighted(0.25),
        0..3usize,
    )
}

pub fn topology_with(shape: Shape) -> impl Strategy<Value = Topology> {
    let records = shape.secondary_interfaces.end > 1;
    let loose = if records { 0..3usize } else { 0..1 };
    (
        (
            shape.vpcs,
            prop::collection::vec(group_strategy(), shape.groups),
            prop::collection::vec(
                (
                    0..3usize,
                    any::<bool>(),
                    prop::collection::vec(0..8usize, 1..5),
                    prop::bool::weighted(0.85), // running?
                ),
                shape.nics.clone(),
            ),
            prop::collection::vec(rule_strategy(blocks(records).len()), shape.rules),
            prop::collection::vec(prop::collection::vec(0..blocks(records).len(), 0..3), 2),
        ),
        prop::collection::vec(
            (
                0..3usize,
                prop::collection::vec(interface_strategy(), shape.secondary_interfaces),
            ),
            shape.nics.end,
        ),
        prop::collection::vec(interface_strategy(), loose),
    )
        .prop_map(
            move |((vpc_count, groups, nics, rules, lists), per_instance, loose)| {
                let extras = Extras {
                    records,
                    per_instance,
                    loose,
                };
                build(vpc_count, groups, nics, rules, lists, extras)
            },
        )
}

/// Group ids for `picks` among `groups` of one type (`enterprise`), or of any type when
/// none has it; sorted, distinct.
fn pick_groups<'a>(
    groups: &'a [secgroup_domain::SecurityGroup],
    enterprise: bool,
    picks: &[usize],
) -> Vec<&'a str> {
    let kind = if enterprise {
        SecurityGroupType::Enterprise
    } else {
        SecurityGroupType::Normal
    };
    let same_type: Vec<&str> = groups
        .iter()
        .filter(|g| g.group_type == kind)
        .map(|g| g.id.as_str())
        .collect();
    // A NIC's groups all share one type; fall back to any group when none has it.
    let pool: Vec<&str> = if same_type.is_empty() {
        groups.iter().map(|g| g.id.as_str()).collect()
    } else {
        same_type
    };
    if pool.is_empty() {
        return Vec::new();
    }
    let mut chosen: Vec<&str> = picks.iter().map(|p| pool[p % pool.len()]).collect();
    chosen.sort_unstable();
    chosen.dedup();
    chosen
}

#[allow(clippy::type_complexity)]
fn build(
    vpc_count: usize,
    group_specs: Vec<(usize, bool, bool)>,
    nic_specs: Vec<(usize, bool, Vec<usize>, bool)>,
    rule_specs: Vec<(
        usize,
        bool,
        usize,
        usize,
        bool,
        u8,
        (usize, usize),
        usize,
        usize,
    )>,
    lists: Vec<Vec<usize>>,
    extras: Extras,
) -> Topology {
    let groups: Vec<_> = group_specs
        .iter()
        .enumerate()
        .map(|(i, &(vpc, enterprise, accept))| {
            let kind = if enterprise {
                SecurityGroupType::Enterprise
            } else {
                SecurityGroupType::Normal
            };
            let policy = if accept {
                InnerAccessPolicy::Accept
            } else {
                InnerAccessPolicy::Drop
            };
            group(
                &format!("sg-{i}"),
                &format!("vpc-{}", vpc % vpc_count),
                kind,
                policy,
            )
        })
        .collect();
    let mut instances = Vec::new();
    for (i, (vpc, enterprise, picks, running)) in nic_specs.iter().enumerate() {
        let chosen = pick_groups(&groups, *enterprise, picks);
        let ip = format!("10.0.{}.{}", i % 2, i + 1);
        let vpc = vpc % vpc_count;
        let mut nic = instance(&format!("i-{i}"), &format!("vpc-{vpc}"), &ip, &chosen);
        nic.vswitch_id = format!("vsw-{vpc}-{}", i % 2);
        nic.mac_address = format!("00:16:3e:00:01:{:02x}", i + 1);
        if !running {
            nic.status = InstanceStatus::Stopped;
        }
        instances.push(nic);
    }
    // Interface addresses are 10.0.x.100 and up: apart from the instances' and from the
    // outside addresses (10.0.0.200 is one).
    let mut next = 100usize;
    let mut fresh = |subnet: usize, count: usize| -> Vec<String> {
        (0..count)
            .map(|_| {
                next += 1;
                format!("10.0.{}.{}", subnet % 2, next)
            })
            .collect()
    };
    let mut interfaces: Vec<NetworkInterface> = Vec::new();
    let mut interface_addresses: Vec<(String, IpAddr)> = Vec::new();
    let mut loose_addresses: Vec<IpAddr> = Vec::new();
    if extras.records {
        let mut secondary = Vec::new();
        for (i, inst) in instances.iter().enumerate() {
            let (extra_ips, enis) = extras.per_instance.get(i).cloned().unwrap_or_default();
            let ips = fresh(i, extra_ips);
            let ips: Vec<&str> = ips.iter().map(String::as_str).collect();
            interfaces.push(primary_interface(inst, &ips));
            let enterprise = nic_specs.get(i).is_some_and(|n| n.1);
            for (k, (picks, other_type, count)) in enis.iter().enumerate() {
                let chosen = pick_groups(&groups, enterprise != *other_type, picks);
                let ips = fresh(i, 1 + count);
                let ips: Vec<&str> = ips.iter().map(String::as_str).collect();
                let device_index = u32::try_from(k + 1).unwrap_or(u32::MAX);
                secondary.push(secondary_interface(
                    &format!("eni-{i}-{}", k + 1),
                    inst,
                    device_index,
                    &ips,
                    &chosen,
                ));
            }
        }
        interfaces.extend(secondary);
        for eni in &interfaces {
            for a in eni.addresses() {
                if let Ok(a) = a.parse() {
                    interface_addresses.push((eni.id.clone(), a));
                }
            }
        }
        for (k, (picks, enterprise, count)) in extras.loose.iter().enumerate() {
            let Some(owner) = instances.first() else {
                break;
            };
            let chosen = pick_groups(&groups, *enterprise, picks);
            let ips = fresh(k, 1 + count);
            let ips: Vec<&str> = ips.iter().map(String::as_str).collect();
            let mut eni = secondary_interface(&format!("eni-loose-{k}"), owner, 1, &ips, &chosen);
            eni.instance_id = String::new();
            eni.device_index = 0;
            loose_addresses.extend(eni.addresses().filter_map(|a| a.parse::<IpAddr>().ok()));
            interfaces.push(eni);
        }
    }
    let t = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
    let vpcs: Vec<Vpc> = (0..vpc_count)
        .map(|v| Vpc {
            id: format!("vpc-{v}"),
            account_id: "1".into(),
            region_id: "cn-hangzhou".into(),
            cidr_block: VPC_BLOCK.into(),
            name: String::new(),
            description: String::new(),
            resource_group_id: String::new(),
            vrouter_id: format!("vrt-{v}"),
            route_table_id: format!("vtb-{v}"),
            user_cidrs: Vec::new(),
            enable_ipv6: false,
            ipv6_cidr_block: String::new(),
            enable_dns_hostname: false,
            creation_time: t,
        })
        .collect();
    let vswitches = (0..vpc_count)
        .flat_map(|v| (0..2).map(move |s| (v, s)))
        .map(|(v, s)| VSwitch {
            id: format!("vsw-{v}-{s}"),
            account_id: "1".into(),
            region_id: "cn-hangzhou".into(),
            vpc_id: format!("vpc-{v}"),
            zone_id: "cn-hangzhou-a".into(),
            cidr_block: format!("10.0.{s}.0/24"),
            name: String::new(),
            description: String::new(),
            creation_time: t,
        })
        .collect();
    let blocks = blocks(extras.records);
    let prefix_lists = lists
        .iter()
        .enumerate()
        .map(|(i, picks)| {
            let blocks: Vec<&str> = picks
                .iter()
                .filter_map(|&p| blocks.get(p).copied())
                .filter(|b| !b.contains(':'))
                .collect();
            prefix_list(&format!("pl-{i}"), &blocks)
        })
        .collect();
    let rules = rule_specs
        .iter()
        .enumerate()
        .map(
            |(
                i,
                &(g, egress, proto, ports, drop, priority, (peer_kind, peer_pick), sport, local),
            )| {
                let protocol = PROTOCOLS[proto];
                let ports = if protocol.has_ports() {
                    PORT_RANGES[ports]
                } else {
                    (-1, -1)
                };
                let peer = match peer_kind {
                    0 => super::cidr(blocks[peer_pick % blocks.len()]),
                    1 if peer_pick % 7 == 6 => group_peer("sg-other-account"),
                    1 => group_peer(&format!("sg-{}", peer_pick % groups.len())),
                    _ => secgroup_domain::rules::Peer::PrefixList(format!("pl-{}", peer_pick % 3)),
                };
                let direction = if egress {
                    Direction::Egress
                } else {
                    Direction::Ingress
                };
                let policy = if drop {
                    RulePolicy::Drop
                } else {
                    RulePolicy::Accept
                };
                let mut r = rule(
                    &format!("sgr-{i}"),
                    &format!("sg-{}", g % groups.len()),
                    direction,
                    protocol,
                    ports,
                    policy,
                    priority,
                    peer,
                );
                r.spec.source_port_range = match sport {
                    5 => Some(PortRange::ANY),
                    6 => Some(PortRange {
                        from: 1000,
                        to: 2000,
                    }),
                    7 => Some(PortRange {
                        from: 3000,
                        to: 4000,
                    }),
                    _ => None,
                };
                r.spec.local_cidr = blocks.get(local).and_then(|b| Cidr::parse_any(b));
                r
            },
        )
        .collect();
    let instance_ids = instances.iter().map(|i| i.id.clone()).collect();
    Topology {
        input: SnapshotInput {
            interfaces,
            groups,
            rules,
            instances,
            prefix_lists,
            vpcs,
        },
        vswitches,
        instance_ids,
        interface_addresses,
        loose_addresses,
    }
}

/// A flow between two of the topology's NICs, or between one and an outside address.
pub fn flow(nic_count: usize) -> impl Strategy<Value = Flow> {
    (
        0..(nic_count + OUTSIDE.len()),
        0..nic_count,
        any::<bool>(),
        0..PROTOCOLS.len(),
        0..PORTS.len(),
        0..SOURCE_PORTS.len(),
    )
        .prop_map(move |(a, b, swap, proto, port, sport)| {
            let a = if a < nic_count {
                Endpoint::Nic(format!("i-{a}"))
            } else {
                Endpoint::Outside(
                    OUTSIDE[a - nic_count]
                        .parse::<IpAddr>()
                        .unwrap_or(IpAddr::from([0, 0, 0, 0])),
                )
            };
            let b = Endpoint::Nic(format!("i-{b}"));
            let (source, destination) = if swap { (b, a) } else { (a, b) };
            Flow {
                source,
                destination,
                protocol: PROTOCOLS[proto],
                port: PORTS[port],
                source_port: SOURCE_PORTS[sport],
            }
        })
}

/// A flow between two NICs of `t`, each named by its instance or by one of its interface's
/// addresses, or between one and an outside address (one of an interface attached to
/// nothing among them).
pub fn flow_in(t: &Topology) -> impl Strategy<Value = Flow> {
    let mut ends: Vec<Endpoint> = t
        .instance_ids
        .iter()
        .map(|id| Endpoint::Nic(id.clone()))
        .collect();
    for (id, address) in &t.interface_addresses {
        ends.push(Endpoint::Interface {
            id: id.clone(),
            address: Some(*address),
        });
        ends.push(Endpoint::Interface {
            id: id.clone(),
            address: None,
        });
    }
    let nic_ends = ends.len();
    ends.extend(
        OUTSIDE
            .iter()
            .filter_map(|a| a.parse::<IpAddr>().ok())
            .chain(t.loose_addresses.iter().copied())
            .map(Endpoint::Outside),
    );
    let all = ends.len();
    (
        0..all,
        0..nic_ends.max(1),
        any::<bool>(),
        0..PROTOCOLS.len(),
        0..PORTS.len(),
        0..SOURCE_PORTS.len(),
    )
        .prop_map(move |(a, b, swap, proto, port, sport)| {
            let pick = |i: usize| {
                ends.get(i)
                    .cloned()
                    .unwrap_or(Endpoint::Outside(IpAddr::from([0, 0, 0, 0])))
            };
            let (a, b) = (pick(a), pick(b));
            let (source, destination) = if swap { (b, a) } else { (a, b) };
            Flow {
                source,
                destination,
                protocol: PROTOCOLS[proto],
                port: PORTS[port],
                source_port: SOURCE_PORTS[sport],
            }
        })
}

pub fn protocols() -> &'static [IpProtocol] {
    PROTOCOLS
}
pub fn ports() -> &'static [Option<u16>] {
    PORTS
}
pub fn source_ports() -> &'static [Option<u16>] {
    SOURCE_PORTS
}
