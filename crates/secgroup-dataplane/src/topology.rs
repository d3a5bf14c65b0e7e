//! Planning: the whole network picture (every account's groups, rules, instances, prefix
//! lists, VPCs and vSwitches) becomes a [`DesiredState`]. Pure: no I/O, unit-testable.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};
use secgroup_domain::network::{
    Instance, InstanceStatus, InterfaceKind, NetworkInterface, NetworkState, VSwitch,
};
use secgroup_domain::rules::{Direction, IpProtocol, Peer, PortRange, Rule, RulePolicy};
use secgroup_domain::{
    AddressFamily, InnerAccessPolicy, PrefixList, SecurityGroup, SecurityGroupType,
};
use secgroup_reach::Snapshot;

use crate::judge::Judge;
use crate::layout::LayoutCache;
use crate::model::{
    DesiredState, IpFamily, Match, NftChain, NftRule, NftSet, NicSpec, OutsideSpec, OverlaySpec,
    PlanIssue, RouterSpec, RuleVerdict, Ruleset, SetElement, Side, L4,
};
use crate::names;

/// The address of the outside namespace. Every VPC block and user CIDR must stay clear of
/// 100.64.0.0/10 (`ops/vpcs/cidr.rs`), and vSwitches lie inside those, so no instance can
/// ever hold an address there: traffic from it is "from outside" for every VPC.
pub const OUTSIDE_ADDRESS: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);

/// One account's network in one region: what `secgroup_domain::ops::network_state::load`
/// reads (with statuses settled by `settle_statuses`, so that Running means running now),
/// the region's vSwitches, and (several hosts) where instances are placed and each VPC's
/// overlay VNI.
#[derive(Debug, Clone, Default)]
pub struct AccountNetwork {
    pub state: NetworkState,
    pub vswitches: Vec<VSwitch>,
    /// Instance id → the host it is placed on. Read only when planning for a host
    /// ([`PlanOptions::host`]).
    pub placements: BTreeMap<String, String>,
    /// VPC id → its VXLAN network identifier.
    pub vnis: BTreeMap<String, u32>,
}

/// How names are chosen, and which host is planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Prefix of the agent's own namespaces: [`names::DEFAULT_PREFIX`] (`secgroup-`); tests
    /// use their own so as never to touch a running agent's.
    pub prefix: String,
    /// `None`: every Running instance is planned on this machine (one host). `Some`: only
    /// the instances placed on this host are, and the others of their VPCs are reached
    /// through the overlay.
    pub host: Option<HostPlan>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            prefix: names::DEFAULT_PREFIX.to_string(),
            host: None,
        }
    }
}

/// The host being planned, among others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPlan {
    /// Its name: instances placed on it get a namespace here.
    pub name: String,
    /// Its underlay address (the overlay's local end); `None`: no overlay, so instances on
    /// other hosts are out of reach from here.
    pub underlay: Option<Ipv4Addr>,
    /// The other hosts' underlay addresses, by name: an instance placed on a host missing
    /// here is out of reach (that host is away, or has no underlay address).
    pub peers: BTreeMap<String, Ipv4Addr>,
}

/// Where a planned NIC is, seen from the host being planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Here: a namespace, a veth and chains.
    Local,
    /// On the host with this underlay address: routes through the overlay, and a member of
    /// group sets here.
    Remote(Ipv4Addr),
}

/// The picture to plan from. `Topology::from(&networks[..]).desired_state()` is the whole
/// planning step.
#[derive(Debug, Clone, Copy)]
pub struct Topology<'a> {
    networks: &'a [AccountNetwork],
}

impl<'a> From<&'a [AccountNetwork]> for Topology<'a> {
    fn from(networks: &'a [AccountNetwork]) -> Self {
        Topology { networks }
    }
}

impl<'a> From<&'a Vec<AccountNetwork>> for Topology<'a> {
    fn from(networks: &'a Vec<AccountNetwork>) -> Self {
        Topology { networks }
    }
}

/// A Running instance that can be planned.
struct PlannedNic<'a> {
    /// Which of the networks (accounts) it is in: the engine judges it in that one.
    network: usize,
    instance: &'a Instance,
    router: String,
    spec: NicSpec,
    /// Sorted and distinct.
    groups: Vec<String>,
    place: Place,
}

/// Everything indexed by id across all accounts (ids are unique across accounts, and a
/// group peer may name another account's group).
struct Index<'a> {
    groups: HashMap<&'a str, &'a SecurityGroup>,
    rules: HashMap<&'a str, Vec<&'a Rule>>,
    prefix_lists: HashMap<&'a str, &'a PrefixList>,
    vswitches: HashMap<&'a str, &'a VSwitch>,
}

impl<'a> Topology<'a> {
    /// The desired state with the default names.
    pub fn desired_state(&self) -> DesiredState {
        self.plan(&PlanOptions::default())
    }

    pub fn plan(&self, options: &PlanOptions) -> DesiredState {
        self.plan_with(options, &mut LayoutCache::default())
    }

    /// [`Topology::plan`], reusing the layouts of chains an earlier plan with `cache` laid
    /// out when their rules are the same (an agent keeps one cache across its passes).
    pub fn plan_with(&self, options: &PlanOptions, cache: &mut LayoutCache) -> DesiredState {
        let index = self.index();
        let mut issues = Vec::new();
        let nics = self.planned_nics(&index, options, &mut issues);

        // Every NIC of each VPC that has one here; a VPC with none here has no router here.
        let mut by_router: BTreeMap<String, Vec<&PlannedNic<'_>>> = BTreeMap::new();
        for nic in &nics {
            by_router.entry(nic.router.clone()).or_default().push(nic);
        }
        by_router.retain(|_, all| all.iter().any(|n| n.place == Place::Local));
        let mut routers = BTreeMap::new();
        for (namespace, all) in &by_router {
            let members: Vec<&PlannedNic<'_>> = all
                .iter()
                .copied()
                .filter(|n| n.place == Place::Local)
                .collect();
            let first = members[0];
            let vpc_id = &first.instance.vpc_id;
            let overlay = options.host.as_ref().and_then(|host| {
                let local = host.underlay?;
                let vni = self
                    .networks
                    .iter()
                    .find_map(|n| n.vnis.get(vpc_id).copied())?;
                let routes = all
                    .iter()
                    .filter_map(|n| match n.place {
                        Place::Remote(at) => Some(n.spec.addresses().map(move |a| (a, at))),
                        Place::Local => None,
                    })
                    .flatten()
                    .collect();
                Some(OverlaySpec { vni, local, routes })
            });
            routers.insert(
                namespace.clone(),
                RouterSpec {
                    namespace: namespace.clone(),
                    vpc_id: first.instance.vpc_id.clone(),
                    account_id: first.instance.account_id.clone(),
                    uplink_peer: names::uplink_peer_ifname(&first.instance.vpc_id),
                    gateways: members.iter().map(|n| n.spec.gateway).collect(),
                    nics: members
                        .iter()
                        .map(|n| (n.spec.key().to_string(), n.spec.clone()))
                        .collect(),
                    ruleset: ruleset(&index, &members, all, cache),
                    overlay,
                },
            );
        }

        // An address two Running instances (of different VPCs) hold cannot be routed to from
        // the one outside namespace: neither gets an outside route.
        // Only this host's instances are routed from its outside namespace (another host's
        // are reached from that host's).
        let mut holders: HashMap<Ipv4Addr, Vec<&str>> = HashMap::new();
        for nic in nics.iter().filter(|n| n.place == Place::Local) {
            for address in nic.spec.addresses() {
                holders.entry(address).or_default().push(&nic.router);
            }
        }
        let outside = OutsideSpec {
            namespace: names::outside_namespace(&options.prefix),
            address: OUTSIDE_ADDRESS,
            routes: holders
                .into_iter()
                .filter(|(_, routers)| routers.len() == 1)
                .map(|(address, routers)| (address, routers[0].to_string()))
                .collect(),
        };

        cache.end_plan();
        DesiredState {
            prefix: options.prefix.clone(),
            outside,
            routers,
            issues,
            judge: self.judge(&nics),
        }
    }

    fn index(&self) -> Index<'a> {
        let mut index = Index {
            groups: HashMap::new(),
            rules: HashMap::new(),
            prefix_lists: HashMap::new(),
            vswitches: HashMap::new(),
        };
        for network in self.networks {
            for g in &network.state.groups {
                index.groups.insert(g.id.as_str(), g);
            }
            for r in &network.state.rules {
                index
                    .rules
                    .entry(r.security_group_id.as_str())
                    .or_default()
                    .push(r);
            }
            for pl in &network.state.prefix_lists {
                index.prefix_lists.insert(pl.id.as_str(), pl);
            }
            for v in &network.vswitches {
                index.vswitches.insert(v.id.as_str(), v);
            }
        }
        index
    }

    fn planned_nics(
        &self,
        index: &Index<'a>,
        options: &PlanOptions,
        issues: &mut Vec<PlanIssue>,
    ) -> Vec<PlannedNic<'a>> {
        let mut running: Vec<(usize, &'a Instance)> = self
            .networks
            .iter()
            .enumerate()
            .flat_map(|(n, network)| network.state.instances.iter().map(move |i| (n, i)))
            .filter(|(_, i)| i.status == InstanceStatus::Running)
            .collect();
        // Sorted, so that which of two clashing instances is refused does not depend on the
        // order the store returned them in.
        running.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        // Attached interfaces by instance, per network.
        let mut attached: HashMap<(usize, &str), Vec<&'a NetworkInterface>> = HashMap::new();
        for (n, network) in self.networks.iter().enumerate() {
            for e in &network.state.interfaces {
                if !e.instance_id.is_empty() {
                    attached
                        .entry((n, e.instance_id.as_str()))
                        .or_default()
                        .push(e);
                }
            }
        }
        let mut seen_ids = HashSet::new();
        let mut seen_addresses: HashSet<(String, Ipv4Addr)> = HashSet::new();
        let mut seen_ifnames: HashSet<(String, String)> = HashSet::new();
        let mut out = Vec::new();
        for (network, instance) in running {
            // Checked whatever the placement, so that every host refuses the same instances.
            let place = self.place_of(network, instance, options);
            let refuse = |issues: &mut Vec<PlanIssue>, reason: String| {
                issues.push(PlanIssue {
                    instance_id: instance.id.clone(),
                    reason,
                });
            };
            if !seen_ids.insert(instance.id.as_str()) {
                refuse(issues, "instance id listed twice".into());
                continue;
            }
            let mut interfaces = attached
                .remove(&(network, instance.id.as_str()))
                .unwrap_or_default();
            interfaces.sort_by(|a, b| (a.device_index, &a.id).cmp(&(b.device_index, &b.id)));
            // The primary interface from the list when it is there (with its secondary
            // addresses), else the instance's own fields: a state without interfaces (older
            // callers) plans each instance as its primary interface alone.
            let primary = interfaces
                .iter()
                .find(|e| e.kind == InterfaceKind::Primary)
                .map(|e| Attachment::of(e, true))
                .unwrap_or_else(|| Attachment {
                    interface_id: "",
                    device_index: 0,
                    vswitch_id: &instance.vswitch_id,
                    mac: &instance.mac_address,
                    addresses: vec![instance.private_ip.as_str()],
                    groups: &instance.security_group_ids,
                });
            let secondaries = interfaces
                .iter()
                .filter(|e| e.kind != InterfaceKind::Primary)
                .map(|e| Attachment::of(e, false));
            let mut devices: HashSet<u32> = HashSet::new();
            for (n, attachment) in std::iter::once(primary).chain(secondaries).enumerate() {
                let first = n == 0;
                // A secondary interface that cannot be planned is left out alone; without
                // its primary one the instance has no namespace at all.
                let refuse_one = |issues: &mut Vec<PlanIssue>, reason: String| {
                    if first {
                        refuse(issues, reason);
                    } else {
                        refuse(
                            issues,
                            format!("interface {}: {reason}", attachment.interface_id),
                        );
                    }
                };
                let spec = match nic_spec(index, options, instance, &attachment) {
                    Err(reason) => {
                        refuse_one(issues, reason);
                        if first {
                            break;
                        }
                        continue;
                    }
                    Ok(spec) => spec,
                };
                let check = || -> Result<(), String> {
                    if !first && attachment.device_index == 0 {
                        return Err("a secondary interface cannot have device index 0".into());
                    }
                    if attachment.device_index > names::MAX_DEVICE_INDEX {
                        return Err(format!(
                            "device index {} is above {}",
                            attachment.device_index,
                            names::MAX_DEVICE_INDEX
                        ));
                    }
                    if devices.contains(&attachment.device_index) {
                        return Err(format!("device eth{} is taken", attachment.device_index));
                    }
                    if let Some(a) = spec
                        .addresses()
                        .find(|a| seen_addresses.contains(&(instance.vpc_id.clone(), *a)))
                    {
                        return Err(format!(
                            "address {a} is already held in {}",
                            instance.vpc_id
                        ));
                    }
                    // Interface names are a hash of the id: two ids of one VPC hashing alike
                    // (48 bits) would collide in its router, so the later one waits.
                    if seen_ifnames.contains(&(instance.vpc_id.clone(), spec.ifname.clone())) {
                        return Err(format!("interface name {} is taken", spec.ifname));
                    }
                    Ok(())
                };
                if let Err(reason) = check() {
                    refuse_one(issues, reason);
                    if first {
                        break;
                    }
                    continue;
                }
                devices.insert(attachment.device_index);
                for a in spec.addresses() {
                    seen_addresses.insert((instance.vpc_id.clone(), a));
                }
                seen_ifnames.insert((instance.vpc_id.clone(), spec.ifname.clone()));
                let Some(place) = place else {
                    continue;
                };
                let mut groups = attachment.groups.to_vec();
                groups.sort_unstable();
                groups.dedup();
                out.push(PlannedNic {
                    network,
                    instance,
                    router: names::router_namespace(&options.prefix, &instance.vpc_id),
                    spec,
                    groups,
                    place,
                });
            }
        }
        out
    }

    /// Where an instance is planned from here; `None`: nowhere in reach (placed on no host,
    /// or on a host that is away or has no overlay to this one).
    fn place_of(
        &self,
        network: usize,
        instance: &Instance,
        options: &PlanOptions,
    ) -> Option<Place> {
        let Some(host) = &options.host else {
            return Some(Place::Local);
        };
        let placed_on = self.networks[network].placements.get(&instance.id)?;
        if *placed_on == host.name {
            return Some(Place::Local);
        }
        host.underlay?;
        self.networks[network].vnis.get(&instance.vpc_id)?;
        host.peers.get(placed_on).copied().map(Place::Remote)
    }

    /// The engine over what is planned: Running, plannable instances only (the others have
    /// no namespace, so they are neither source nor destination of anything). Every
    /// address of every planned interface is shown to the engine as a NIC of its own, with
    /// its interface's groups (docs/semantics.md: an interface's secondary addresses are
    /// its own, and a group peer matches every address of every member interface); the
    /// instance's primary address keeps its instance's id. What the engine then decides
    /// for a tracked connection is what the interface's chains decide for its packets.
    fn judge(&self, nics: &[PlannedNic<'_>]) -> Judge {
        let mut snapshots = HashMap::new();
        let mut routers: HashMap<String, (usize, HashMap<IpAddr, String>)> = HashMap::new();
        for (n, network) in self.networks.iter().enumerate() {
            let state = &network.state;
            let mut instances = Vec::new();
            for nic in nics.iter().filter(|p| p.network == n) {
                let by_address = &mut routers
                    .entry(nic.router.clone())
                    .or_insert_with(|| (n, HashMap::new()))
                    .1;
                for (k, address) in nic.spec.addresses().enumerate() {
                    let id = if nic.spec.is_primary() && k == 0 {
                        nic.instance.id.clone()
                    } else {
                        format!("{}#{address}", nic.spec.key())
                    };
                    let mut shown = nic.instance.clone();
                    shown.id = id.clone();
                    shown.network_interface_id = id.clone();
                    shown.private_ip = address.to_string();
                    shown.security_group_ids = nic.groups.clone();
                    instances.push(shown);
                    by_address.insert(IpAddr::V4(address), id);
                }
            }
            let shown = NetworkState {
                groups: state.groups.clone(),
                rules: state.rules.clone(),
                instances,
                interfaces: Vec::new(),
                prefix_lists: state.prefix_lists.clone(),
                vpcs: state.vpcs.clone(),
            };
            snapshots.insert(n, Snapshot::build(&shown));
        }
        Judge::new(snapshots, routers)
    }
}

/// One attached interface as planning reads it: a [`NetworkInterface`] of the state's list,
/// or the instance's own fields when the list has none for it.
struct Attachment<'a> {
    /// Empty for the primary interface.
    interface_id: &'a str,
    device_index: u32,
    vswitch_id: &'a str,
    mac: &'a str,
    /// The primary one first.
    addresses: Vec<&'a str>,
    groups: &'a [String],
}

impl<'a> Attachment<'a> {
    fn of(e: &'a NetworkInterface, primary: bool) -> Attachment<'a> {
        Attachment {
            interface_id: if primary { "" } else { &e.id },
            device_index: if primary { 0 } else { e.device_index },
            vswitch_id: &e.vswitch_id,
            mac: &e.mac_address,
            addresses: e.addresses().collect(),
            groups: &e.security_group_ids,
        }
    }
}

/// One interface of a Running instance, or why it cannot have one.
fn nic_spec(
    index: &Index<'_>,
    options: &PlanOptions,
    instance: &Instance,
    attachment: &Attachment<'_>,
) -> Result<NicSpec, String> {
    if !names::is_safe_namespace(&instance.id) || instance.id.starts_with(&options.prefix) {
        return Err(format!(
            "instance id {:?} cannot name a namespace",
            instance.id
        ));
    }
    if !names::is_safe_namespace(&names::router_namespace(&options.prefix, &instance.vpc_id)) {
        return Err(format!(
            "VPC id {:?} cannot name a namespace",
            instance.vpc_id
        ));
    }
    let primary = attachment.interface_id.is_empty();
    if !primary && !names::is_safe_namespace(attachment.interface_id) {
        return Err(format!(
            "interface id {:?} cannot name an interface",
            attachment.interface_id
        ));
    }
    let vswitch = index
        .vswitches
        .get(attachment.vswitch_id)
        .ok_or_else(|| format!("unknown vSwitch {}", attachment.vswitch_id))?;
    if vswitch.vpc_id != instance.vpc_id {
        return Err(format!(
            "vSwitch {} is in {}, the instance in {}",
            vswitch.id, vswitch.vpc_id, instance.vpc_id
        ));
    }
    let block: Ipv4Net = vswitch
        .cidr_block
        .parse()
        .map_err(|_| format!("vSwitch {} has no IPv4 block", vswitch.id))?;
    let block = block.trunc();
    let gateway = gateway_of(&block)
        .ok_or_else(|| format!("vSwitch block {block} is too small for a gateway"))?;
    let mut addresses = Vec::new();
    for text in &attachment.addresses {
        let address: Ipv4Addr = text
            .trim()
            .parse()
            .map_err(|_| format!("private address {text:?} is not IPv4"))?;
        if !block.contains(&address)
            || address == block.network()
            || address == block.broadcast()
            || address == gateway
        {
            return Err(format!(
                "address {address} is not a usable address of vSwitch {} ({block})",
                vswitch.id
            ));
        }
        if addresses.contains(&address) {
            return Err(format!("address {address} is listed twice"));
        }
        addresses.push(address);
    }
    let Some((&address, secondary)) = addresses.split_first() else {
        return Err("no private address".into());
    };
    let mut secondary = secondary.to_vec();
    secondary.sort_unstable();
    let mac = parse_mac(attachment.mac)
        .ok_or_else(|| format!("MAC address {:?} is not unicast", attachment.mac))?;
    Ok(NicSpec {
        instance_id: instance.id.clone(),
        interface_id: attachment.interface_id.to_string(),
        device_index: attachment.device_index,
        namespace: instance.id.clone(),
        ifname: if primary {
            names::nic_ifname(&instance.id)
        } else {
            names::interface_ifname(attachment.interface_id)
        },
        mac,
        address,
        secondary,
        prefix_len: block.prefix_len(),
        gateway,
    })
}

/// The vSwitch's gateway: Alibaba keeps the last three addresses of a block, and the
/// gateway is the first of them (`.253` in a /24).
pub fn gateway_of(block: &Ipv4Net) -> Option<Ipv4Addr> {
    let last = u32::from(block.broadcast());
    let gateway = last.checked_sub(2)?;
    (gateway > u32::from(block.network())).then(|| Ipv4Addr::from(gateway))
}

/// Six hex octets, lower-cased; a multicast address (odd first octet) is refused, as the
/// router could not send to it.
fn parse_mac(text: &str) -> Option<String> {
    let octets: Vec<u8> = text
        .trim()
        .split(':')
        .map(|o| {
            (o.len() == 2)
                .then(|| u8::from_str_radix(o, 16).ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    if octets.len() != 6 || octets[0] & 1 == 1 || octets.iter().all(|&o| o == 0) {
        return None;
    }
    Some(
        octets
            .iter()
            .map(|o| format!("{o:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// One router's table: a pair of chains per distinct set of groups, the sets they look up,
/// and the dispatch of every NIC interface to its pair.
/// `nics` are this host's NICs of the router's VPC, `all` every NIC of the VPC in reach
/// (this host's and other hosts'): a member on another host is a peer here like any other.
fn ruleset(
    index: &Index<'_>,
    nics: &[&PlannedNic<'_>],
    all: &[&PlannedNic<'_>],
    cache: &mut LayoutCache,
) -> Ruleset {
    let mut out = Ruleset::default();
    for nic in nics {
        let (egress, ingress) = names::chain_names(&nic.groups);
        if !out.chains.contains_key(&egress) {
            // The peer is the destination of egress traffic and the source of ingress.
            for (name, direction, peer) in [
                (&egress, Direction::Egress, Side::Destination),
                (&ingress, Direction::Ingress, Side::Source),
            ] {
                let mut c = chain(index, &nic.groups, direction);
                cache.lay_out(name, &mut c, peer, &mut out.maps);
                out.chains.insert(name.clone(), c);
            }
        }
        out.egress.insert(nic.spec.ifname.clone(), egress);
        out.ingress.insert(nic.spec.ifname.clone(), ingress);
    }
    let referenced: BTreeSet<String> = out
        .chains
        .values()
        .flat_map(|c| c.sets().map(str::to_string))
        .collect();
    // Group members in this VPC: a member elsewhere is in another routing domain (and
    // another VPC's address may equal one of ours), so it could never be the peer here.
    // Every address of every member interface (docs/semantics.md: secondary addresses are
    // their interface's).
    let mut members: HashMap<String, BTreeSet<SetElement>> = HashMap::new();
    for nic in all {
        for g in &nic.groups {
            members.entry(names::group_set(g)).or_default().extend(
                nic.spec
                    .addresses()
                    .map(|a| SetElement::Address(IpAddr::V4(a))),
            );
        }
    }
    let lists: HashMap<String, (&PrefixList, bool)> = index
        .prefix_lists
        .values()
        .flat_map(|pl| {
            [false, true]
                .into_iter()
                .map(move |v6| (names::prefix_list_set(&pl.id, v6), (*pl, v6)))
        })
        .collect();
    for name in referenced {
        let set = match lists.get(&name) {
            Some((list, v6)) => NftSet {
                family: if *v6 { IpFamily::V6 } else { IpFamily::V4 },
                interval: true,
                elements: merged_blocks(list, *v6),
            },
            None => NftSet {
                family: IpFamily::V4,
                interval: false,
                elements: members.remove(&name).unwrap_or_default(),
            },
        };
        out.sets.insert(name, set);
    }
    out
}

/// A prefix list's entries of one family as disjoint, non-adjacent ranges: interval sets
/// refuse overlapping elements, and a merged form can be diffed element by element.
fn merged_blocks(list: &PrefixList, v6: bool) -> BTreeSet<SetElement> {
    let mut spans: Vec<(u128, u128)> = list
        .entries
        .iter()
        .filter_map(|e| {
            e.cidr
                .parse::<IpNet>()
                .ok()
                .or_else(|| bare_address(&e.cidr))
        })
        .filter(|net| matches!(net, IpNet::V6(_)) == v6)
        .map(|net| {
            let net = net.trunc();
            (to_u128(net.network()), to_u128(net.broadcast()))
        })
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<(u128, u128)> = Vec::new();
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
        .into_iter()
        .map(|(start, end)| {
            let (a, b) = (from_u128(start, v6), from_u128(end, v6));
            if a == b {
                SetElement::Address(a)
            } else {
                SetElement::Range(a, b)
            }
        })
        .collect()
}

fn bare_address(text: &str) -> Option<IpNet> {
    text.trim().parse::<IpAddr>().ok().map(IpNet::from)
}

pub(crate) fn to_u128(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

pub(crate) fn from_u128(value: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(value.into())
    } else {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(value).unwrap_or(u32::MAX)))
    }
}

/// The chain of one direction for NICs with exactly `groups` (sorted), docs/semantics.md §3.4:
/// inner access first (it overrides every rule), then every rule of the groups by priority
/// number with Drop first at equal priority (so the first match is the decision), then the
/// group type's default.
fn chain(index: &Index<'_>, groups: &[String], direction: Direction) -> NftChain {
    let known: Vec<&SecurityGroup> = groups
        .iter()
        .filter_map(|g| index.groups.get(g.as_str()).copied())
        .collect();
    let enterprise = known
        .iter()
        .any(|g| g.group_type == SecurityGroupType::Enterprise);
    // The peer is the source of ingress traffic and the destination of egress traffic.
    let (peer, local) = match direction {
        Direction::Ingress => (Side::Source, Side::Destination),
        Direction::Egress => (Side::Destination, Side::Source),
    };
    let mut rules = Vec::new();
    for g in &known {
        if g.group_type == SecurityGroupType::Normal
            && g.inner_access_policy == InnerAccessPolicy::Accept
        {
            rules.push(NftRule {
                matches: vec![Match::InSet {
                    side: peer,
                    family: IpFamily::V4,
                    set: names::group_set(&g.id),
                }],
                verdict: RuleVerdict::Accept,
                comment: format!("inner-access {}", g.id),
            });
        }
    }
    let mut candidates: Vec<&Rule> = groups
        .iter()
        .filter_map(|g| index.rules.get(g.as_str()))
        .flatten()
        .copied()
        .filter(|r| r.spec.direction == direction)
        .collect();
    candidates.sort_by(|a, b| {
        (a.spec.priority, a.spec.policy != RulePolicy::Drop, &a.id).cmp(&(
            b.spec.priority,
            b.spec.policy != RulePolicy::Drop,
            &b.id,
        ))
    });
    for rule in candidates {
        if let Some(matches) = rule_matches(index, rule, peer, local) {
            rules.push(NftRule {
                matches,
                verdict: match rule.spec.policy {
                    RulePolicy::Accept => RuleVerdict::Return,
                    RulePolicy::Drop => RuleVerdict::Drop,
                },
                comment: rule.id.clone(),
            });
        }
    }
    let default_allows = direction == Direction::Egress && !enterprise;
    rules.push(NftRule {
        matches: Vec::new(),
        verdict: if default_allows {
            RuleVerdict::Return
        } else {
            RuleVerdict::Drop
        },
        comment: "default".into(),
    });
    NftChain {
        rules,
        steps: Vec::new(),
        map_digest: String::new(),
    }
}

/// A port range as it constrains packets: `Ok(None)` for any port, `Err(())` for a range
/// no port is in.
fn real_ports(range: PortRange) -> Result<Option<(u16, u16)>, ()> {
    if range.is_any() {
        return Ok(None);
    }
    let low = u16::try_from(range.from.max(0)).map_err(|_| ())?;
    let high = u16::try_from(range.to.min(65535)).map_err(|_| ())?;
    if low > high {
        return Err(());
    }
    Ok(Some((low, high)))
}

/// The matches of one security-group rule, or `None` when no packet can match it (it is
/// then left out rather than rendered as a contradiction nft would refuse).
fn rule_matches(index: &Index<'_>, rule: &Rule, peer: Side, local: Side) -> Option<Vec<Match>> {
    let spec = &rule.spec;
    let destination = real_ports(spec.port_range).ok()?;
    let source = match spec.source_port_range {
        None => None,
        Some(range) => real_ports(range).ok()?,
    };
    let mut matches = Vec::new();
    let l4 = match spec.protocol {
        IpProtocol::Tcp => Some(L4::Tcp),
        IpProtocol::Udp => Some(L4::Udp),
        IpProtocol::Icmp => Some(L4::Icmp),
        IpProtocol::Icmpv6 => Some(L4::Icmpv6),
        IpProtocol::Gre => Some(L4::Gre),
        IpProtocol::All => None,
    };
    let ported = destination.is_some() || source.is_some();
    match l4 {
        Some(L4::Tcp | L4::Udp) => {}
        // These flows carry no ports: a rule that asks for one never matches them.
        Some(_) if ported => return None,
        Some(_) => {}
        None if ported => matches.push(Match::PortProtocols),
        None => {}
    }
    if let Some(l4) = l4 {
        matches.push(Match::Protocol(l4));
    }
    if let Some((a, b)) = destination {
        matches.push(Match::DestinationPorts(a, b));
    }
    if let Some((a, b)) = source {
        matches.push(Match::SourcePorts(a, b));
    }
    match &spec.peer {
        Peer::Cidr(cidr) => matches.push(address_match(peer, cidr.network())),
        Peer::Group { group_id, .. } => matches.push(Match::InSet {
            side: peer,
            family: IpFamily::V4,
            set: names::group_set(group_id),
        }),
        Peer::PrefixList(id) => {
            // An unknown list has no entries: the rule matches nothing.
            let list = index.prefix_lists.get(id.as_str())?;
            let v6 = list.address_family == AddressFamily::IPv6;
            matches.push(Match::InSet {
                side: peer,
                family: if v6 { IpFamily::V6 } else { IpFamily::V4 },
                set: names::prefix_list_set(id, v6),
            });
        }
    }
    if let Some(cidr) = &spec.local_cidr {
        matches.push(address_match(local, cidr.network()));
    }
    // A packet is of one family: matches that need both can never hold.
    let families: BTreeSet<IpFamily> = matches.iter().filter_map(family_of).collect();
    if families.len() > 1 {
        return None;
    }
    Some(matches)
}

fn address_match(side: Side, net: IpNet) -> Match {
    if net.prefix_len() == 0 {
        Match::Family(match net {
            IpNet::V4(_) => IpFamily::V4,
            IpNet::V6(_) => IpFamily::V6,
        })
    } else {
        Match::Address { side, net }
    }
}

fn family_of(m: &Match) -> Option<IpFamily> {
    match m {
        Match::Family(f) => Some(*f),
        Match::Address { net, .. } => Some(match net {
            IpNet::V4(_) => IpFamily::V4,
            IpNet::V6(_) => IpFamily::V6,
        }),
        Match::InSet { family, .. } => Some(*family),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gateway_is_the_first_of_the_last_three() {
        let block: Ipv4Net = "10.0.1.0/24".parse().expect("block");
        assert_eq!(gateway_of(&block), Some(Ipv4Addr::new(10, 0, 1, 253)));
        let small: Ipv4Net = "10.0.0.0/29".parse().expect("block");
        assert_eq!(gateway_of(&small), Some(Ipv4Addr::new(10, 0, 0, 5)));
    }

    #[test]
    fn macs_are_normalised_and_multicast_refused() {
        assert_eq!(
            parse_mac("00:16:3E:0a:0B:0c").as_deref(),
            Some("00:16:3e:0a:0b:0c")
        );
        assert_eq!(parse_mac("01:00:5e:00:00:01"), None);
        assert_eq!(parse_mac("00:16:3e:0a:0b"), None);
        assert_eq!(parse_mac("00:16:3e:0a:0b:0c:0d"), None);
    }
}
