//! The desired state as typed data: namespaces, links, addresses, routes and, per router,
//! the nftables ruleset in a small intermediate form ([`NftRule`]) that unit tests can read
//! and that `render` (private) turns into the nftables JSON schema.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use serde::Serialize;

use crate::judge::Judge;

/// Everything the machine should have, planned by [`crate::Topology`] and made real by
/// [`crate::Dataplane::apply`].
#[derive(Debug, Clone)]
pub struct DesiredState {
    /// Prefix of the agent's own namespaces (`secgroup-`).
    pub prefix: String,
    pub outside: OutsideSpec,
    /// One router per VPC that has a Running instance, by namespace name.
    pub routers: BTreeMap<String, RouterSpec>,
    /// Running instances that could not be planned (bad address, unknown vSwitch, ...),
    /// each with the reason: they get no namespace. A secondary interface that cannot be
    /// planned is listed under its instance (the reason names it) and left out alone: the
    /// instance keeps its other interfaces.
    pub issues: Vec<PlanIssue>,
    /// The engine's verdicts for this state: which established flows survive an apply.
    pub(crate) judge: Judge,
}

impl DesiredState {
    /// Every planned NIC (one per attached interface of a planned instance) with its
    /// router; an instance's primary NIC ([`NicSpec::is_primary`]) stands for its namespace.
    pub fn instances(&self) -> impl Iterator<Item = (&RouterSpec, &NicSpec)> {
        self.routers
            .values()
            .flat_map(|r| r.nics.values().map(move |n| (r, n)))
    }
    /// The planned primary NIC (`eth0`) of an instance.
    pub fn nic(&self, instance_id: &str) -> Option<&NicSpec> {
        self.routers.values().find_map(|r| r.nics.get(instance_id))
    }
    /// Every planned NIC of an instance, by device index (`eth0` first).
    pub fn nics_of(&self, instance_id: &str) -> Vec<&NicSpec> {
        let mut out: Vec<&NicSpec> = self
            .routers
            .values()
            .flat_map(|r| r.nics.values())
            .filter(|n| n.instance_id == instance_id)
            .collect();
        out.sort_by_key(|n| n.device_index);
        out
    }
    /// The planned NIC of a secondary interface, by its id (`eni-…`); the primary one is
    /// found by its instance ([`DesiredState::nic`]).
    pub fn interface(&self, interface_id: &str) -> Option<&NicSpec> {
        self.routers.values().find_map(|r| {
            r.nics
                .get(interface_id)
                .filter(|n| n.interface_id == interface_id)
        })
    }
}

/// A Running instance left out of the plan, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanIssue {
    pub instance_id: String,
    pub reason: String,
}

/// The namespace that stands for "outside every VPC".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutsideSpec {
    pub namespace: String,
    pub address: Ipv4Addr,
    /// Instance address → router namespace, for every address exactly one Running
    /// instance holds (an address two VPCs hold cannot be routed to from one place).
    pub routes: BTreeMap<Ipv4Addr, String>,
}

/// One VPC's routing domain: a namespace that forwards between its instances' veths and its
/// uplink to the outside namespace, and filters what it forwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterSpec {
    pub namespace: String,
    pub vpc_id: String,
    pub account_id: String,
    /// The outside namespace's end of the uplink (the router's end is
    /// [`crate::names::UPLINK_IFNAME`]).
    pub uplink_peer: String,
    /// The gateway address of each vSwitch that has a Running instance (its `.253`),
    /// held on the router's loopback so that instances' ARP for it is answered at once.
    pub gateways: BTreeSet<Ipv4Addr>,
    /// Every NIC, keyed by [`NicSpec::key`]: the instance id for its primary interface
    /// (as before instances had several), the interface id for a secondary one.
    pub nics: BTreeMap<String, NicSpec>,
    pub ruleset: Ruleset,
    /// The VPC's VXLAN link to its instances on other hosts; `None` on one host, or when
    /// this host has no underlay address or the VPC no VNI yet.
    pub overlay: Option<OverlaySpec>,
}

/// A router's VXLAN device ([`crate::names::OVERLAY_IFNAME`]): one VNI per VPC, so that
/// VPCs with the same block stay apart on the wire as they do in their routers. Its UDP
/// socket is in the agent's own namespace (where the underlay is); the device is in the
/// router. Every remote interface address has a /32 route through the device to its
/// host's underlay address (an `onlink` next hop with a permanent neighbour entry of that
/// host's [`crate::names::overlay_mac`], and a forwarding entry of that MAC to the
/// address): no flooding, no learning, no ARP across hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlaySpec {
    pub vni: u32,
    /// This host's underlay address: the device's local end.
    pub local: Ipv4Addr,
    /// Every address of the VPC's interfaces on other hosts → that host's underlay address.
    pub routes: BTreeMap<Ipv4Addr, Ipv4Addr>,
}

impl OverlaySpec {
    /// The other hosts the routes lead to.
    pub fn peers(&self) -> BTreeSet<Ipv4Addr> {
        self.routes.values().copied().collect()
    }
}

/// One attached interface of an instance and the veth that carries it: `eth{device_index}`
/// in the instance's namespace, [`NicSpec::ifname`] in the router.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NicSpec {
    pub instance_id: String,
    /// The id of a secondary interface (`eni-…`); empty for the primary one, which is named
    /// by its instance (so that what an earlier agent made for it is still the same link).
    pub interface_id: String,
    /// Its slot: 0 for the primary interface (`eth0`), 1.. for secondary ones.
    pub device_index: u32,
    /// The instance's namespace: its id.
    pub namespace: String,
    /// The router's end of the veth.
    pub ifname: String,
    /// Lower case, `00:16:3e:…`.
    pub mac: String,
    /// The interface's primary private address.
    pub address: Ipv4Addr,
    /// Its secondary private addresses, sorted: they are its own as much as `address` is
    /// (docs/semantics.md).
    pub secondary: Vec<Ipv4Addr>,
    /// The prefix length of the interface's vSwitch.
    pub prefix_len: u8,
    /// The `.253` of the interface's vSwitch.
    pub gateway: Ipv4Addr,
}

impl NicSpec {
    /// Its key in [`RouterSpec::nics`].
    pub fn key(&self) -> &str {
        if self.interface_id.is_empty() {
            &self.instance_id
        } else {
            &self.interface_id
        }
    }
    pub fn is_primary(&self) -> bool {
        self.device_index == 0
    }
    /// The interface inside the instance's namespace: `eth0`, `eth1`, ...
    pub fn device(&self) -> String {
        format!("eth{}", self.device_index)
    }
    /// Every address of the interface, the primary one first.
    pub fn addresses(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        std::iter::once(self.address).chain(self.secondary.iter().copied())
    }
    /// The routing table inside the instance's namespace that packets from a secondary
    /// interface's addresses use (its own default route); the primary one uses `main`.
    pub fn table(&self) -> u32 {
        100 + self.device_index
    }
    /// What the router-side interface's alias says, so that adopt can tell whose it is:
    /// the instance id for a primary interface, `instance/ethN/interface` for a secondary.
    pub fn alias(&self) -> String {
        if self.is_primary() {
            self.instance_id.clone()
        } else {
            format!(
                "{}/{}/{}",
                self.instance_id,
                self.device(),
                self.interface_id
            )
        }
    }
}

/// The `inet secgroup` table of one router, less what never changes (the base chain, in
/// `render` (private)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ruleset {
    pub sets: BTreeMap<String, NftSet>,
    /// Regular chains (one egress and one ingress chain per distinct set of groups).
    pub chains: BTreeMap<String, NftChain>,
    /// Verdict maps that chains look runs of plain CIDR rules up in ([`Step::Lookup`]).
    pub maps: BTreeMap<String, NftMap>,
    /// NIC interface → egress chain (packets the NIC sends).
    pub egress: BTreeMap<String, String>,
    /// NIC interface → ingress chain (packets sent to the NIC).
    pub ingress: BTreeMap<String, String>,
}

impl Ruleset {
    /// Rules over all chains (not counting the fixed base chain).
    pub fn rule_count(&self) -> usize {
        self.chains.values().map(|c| c.rules.len()).sum()
    }
    /// Elements over all sets.
    pub fn element_count(&self) -> usize {
        self.sets.values().map(|s| s.elements.len()).sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum IpFamily {
    V4,
    V6,
}

/// A named set of addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NftSet {
    pub family: IpFamily,
    /// Interval sets hold blocks (prefix lists); plain ones single addresses (members).
    pub interval: bool,
    pub elements: BTreeSet<SetElement>,
}

/// An element: one address, or an inclusive range. Prefix-list blocks are merged into
/// disjoint ranges when planned, so that each element can be deleted exactly as it was added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum SetElement {
    Address(IpAddr),
    Range(IpAddr, IpAddr),
}

/// A regular chain: rules in order, the first that decides wins.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NftChain {
    /// Every rule, in the order that decides (what the chain means).
    pub rules: Vec<NftRule>,
    /// How the chain is rendered: each rule as itself, or runs of plain CIDR rules as one
    /// lookup in a verdict map. Empty: every rule as itself.
    pub steps: Vec<Step>,
    /// A digest of the elements of the maps the steps look up: part of the fingerprint, so
    /// that a chain whose fingerprint an adopted table carries has exactly these maps too.
    pub map_digest: String,
}

/// One rule of a rendered chain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Step {
    /// `NftChain::rules[i]` as itself.
    Rule(usize),
    /// `<key> vmap @map`, for a run of `rules` rules; a packet no element holds goes on to
    /// the next step.
    Lookup { map: String, rules: usize },
}

/// A verdict map for one run of plain rules of one chain and one family: disjoint boxes of
/// (peer address, protocol, destination port, source port), each with the verdict of the
/// first rule of the run that covers it (docs/semantics.md §3.4: the first match decides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NftMap {
    /// The chain that looks it up.
    pub chain: String,
    pub family: IpFamily,
    /// Which address of the packet is the peer's.
    pub side: Side,
    /// Keyed on ports too (every element is TCP or UDP): `ip saddr . meta l4proto . th dport
    /// . th sport`; otherwise `ip saddr . meta l4proto`.
    pub ported: bool,
    pub elements: BTreeSet<MapElement>,
}

/// One box of a verdict map; every bound is inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MapElement {
    pub peer: (IpAddr, IpAddr),
    pub protocol: (u8, u8),
    /// Unused (the whole range) in a map that is not `ported`.
    pub dport: (u16, u16),
    pub sport: (u16, u16),
    pub verdict: MapVerdict,
}

/// What a direction's rule decides (see [`RuleVerdict`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum MapVerdict {
    Return,
    Drop,
}

impl NftChain {
    /// What identifies the chain's content: kept in the comment of its last rule, so that a
    /// later agent ([`crate::Dataplane::adopt`]) knows whether it must be refilled without
    /// parsing rules back.
    pub fn fingerprint(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_default();
        crate::names::short_hash(&text, 16)
    }
    /// The maps the chain looks up.
    pub fn maps(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().filter_map(|s| match s {
            Step::Lookup { map, .. } => Some(map.as_str()),
            Step::Rule(_) => None,
        })
    }
    /// The sets the chain's rules look up.
    pub fn sets(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().flat_map(|r| {
            r.matches.iter().filter_map(|m| match m {
                Match::InSet { set, .. } => Some(set.as_str()),
                _ => None,
            })
        })
    }
}

/// One rule: all matches must hold, then the verdict.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NftRule {
    pub matches: Vec<Match>,
    pub verdict: RuleVerdict,
    /// What the rule stands for (`sgr-…`, `inner-access sg-…`, `default`), as its comment.
    pub comment: String,
}

/// A direction's accept is a `return` (the packet goes on to the next check: the source's
/// egress, then the destination's ingress); a drop is final; `accept` (final) is for inner
/// access only, which overrides both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RuleVerdict {
    Return,
    Drop,
    Accept,
}

/// Which address of the packet a match reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Side {
    Source,
    Destination,
}

/// Layer-4 protocols rules name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum L4 {
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Gre,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Match {
    /// `meta nfproto ipv4|ipv6`: a `/0` block, which only says the family.
    Family(IpFamily),
    /// `meta l4proto X`.
    Protocol(L4),
    /// `meta l4proto { tcp, udp }`: port matches of an `ALL` rule.
    PortProtocols,
    /// `th dport a-b`.
    DestinationPorts(u16, u16),
    /// `th sport a-b`.
    SourcePorts(u16, u16),
    /// `ip saddr 10.0.0.0/8` (or `daddr`, `ip6`).
    Address { side: Side, net: IpNet },
    /// `ip saddr @set`.
    InSet {
        side: Side,
        family: IpFamily,
        set: String,
    },
}
