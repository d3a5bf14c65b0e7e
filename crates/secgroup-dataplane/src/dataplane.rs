//! Making the desired state real, changing only what differs from what was last applied.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use crate::conntrack;
use crate::error::{Error, NamespaceError, Result};
use crate::exec::{ip_line, netns_exists, IpLine, Tools};
use crate::model::{DesiredState, NicSpec, OutsideSpec, OverlaySpec, RouterSpec};
use crate::names::{self, OVERLAY_IFNAME, OVERLAY_MTU, OVERLAY_PORT, UPLINK_IFNAME};
use crate::render::{self, AppliedTable, TableDiff};

/// Every router-side interface has this MAC (as Calico's host-side veths do): instances'
/// permanent neighbour entry for their gateway can then be written before the router exists.
pub const ROUTER_MAC: &str = "ee:ee:ee:ee:ee:ee";
/// The outside namespace's ends of the uplinks.
pub const OUTSIDE_MAC: &str = "ee:ee:ee:ee:ee:01";
/// Next hops on the uplinks, never assigned to any interface: routes name them `onlink`
/// and a permanent neighbour entry resolves them, so no ARP happens on an uplink. Link-local
/// addresses are refused as VPC blocks, so they cannot clash with an instance.
pub const OUTSIDE_NEXT_HOP: Ipv4Addr = Ipv4Addr::new(169, 254, 0, 1);
pub const ROUTER_NEXT_HOP: Ipv4Addr = Ipv4Addr::new(169, 254, 0, 2);

/// How the data plane names and runs things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataplaneOptions {
    /// Must equal the prefix the desired states were planned with.
    pub prefix: String,
    pub tools: Tools,
}

impl Default for DataplaneOptions {
    fn default() -> Self {
        DataplaneOptions {
            prefix: names::DEFAULT_PREFIX.to_string(),
            tools: Tools::default(),
        }
    }
}

/// What one apply did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    pub namespaces_created: usize,
    pub namespaces_deleted: usize,
    pub links_created: usize,
    pub links_deleted: usize,
    /// `nft` transactions run (at most one per router).
    pub nft_transactions: usize,
    pub conntrack_deleted: usize,
    pub duration: Duration,
    /// Of `duration`: in `nft` (the verdicts change when it commits), and re-judging and
    /// deleting tracked connections (after every `nft` transaction and link change).
    pub nft_duration: Duration,
    pub sweep_duration: Duration,
}

/// What the machine holds, as far as this data plane knows (what it applied, or read back
/// when adopting).
#[derive(Debug, Clone, Default)]
pub(crate) struct Applied {
    /// `None` until the outside namespace exists.
    pub outside: Option<BTreeMap<Ipv4Addr, String>>,
    pub routers: BTreeMap<String, AppliedRouter>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct AppliedRouter {
    pub uplink: bool,
    pub gateways: BTreeSet<Ipv4Addr>,
    /// By [`NicSpec::key`] (links without a readable owner are keyed `?ifname`).
    pub nics: BTreeMap<String, NicSpec>,
    pub table: Option<AppliedTable>,
    /// The size of `table` as last applied (or found unchanged); zero until then.
    pub size: RulesetSize,
    /// The overlay device and its routes, when there is one.
    pub overlay: Option<OverlaySpec>,
}

/// How big a ruleset is: what the agent's metrics show as applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RulesetSize {
    /// Regular chains (the fixed base chain not counted).
    pub chains: u64,
    /// Rules over those chains.
    pub rules: u64,
    /// Elements over all sets and rule-run maps (members, prefix-list entries, boxes of
    /// CIDR rules).
    pub set_elements: u64,
}

impl RulesetSize {
    fn of(ruleset: &crate::model::Ruleset) -> RulesetSize {
        RulesetSize {
            chains: ruleset.chains.len() as u64,
            rules: ruleset.rule_count() as u64,
            set_elements: (ruleset.element_count()
                + ruleset
                    .maps
                    .values()
                    .map(|m| m.elements.len())
                    .sum::<usize>()) as u64,
        }
    }
}

/// What a data plane has done since it was made, and what it holds now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataplaneStats {
    /// `nft` transactions committed, and refused (each keeps the router's last good ruleset).
    pub nft_transactions: u64,
    pub nft_failures: u64,
    /// The rulesets in place, over every router.
    pub applied: RulesetSize,
}

/// What decides which tracked connections of a router must be re-judged, gathered over
/// applies until a sweep succeeds (an apply that fails after its nft transaction must not
/// forget the flows that transaction revoked).
#[derive(Debug, Clone, Default)]
struct PendingSweep {
    chains: BTreeSet<String>,
    sets: BTreeSet<String>,
    dispatch: BTreeSet<String>,
    /// Addresses whose NIC came or went: all their entries go.
    flush: BTreeSet<Ipv4Addr>,
}

/// The data plane of one host. Applies are serialized by `&mut self`.
#[derive(Debug)]
pub struct Dataplane {
    options: DataplaneOptions,
    applied: Applied,
    pending: BTreeMap<String, PendingSweep>,
    nft_transactions: u64,
    nft_failures: u64,
}

impl Dataplane {
    /// A data plane that assumes nothing of ours exists yet; namespaces it finds on its
    /// way (left by an earlier agent) are read back before being changed.
    pub fn new(options: DataplaneOptions) -> Dataplane {
        Dataplane {
            options,
            applied: Applied::default(),
            pending: BTreeMap::new(),
            nft_transactions: 0,
            nft_failures: 0,
        }
    }

    /// Takes over what an earlier agent left (it was started with `--keep`): every
    /// namespace with our prefix, its links, addresses, routes and nftables table are read
    /// back, so that the next apply changes only what differs and running instances keep
    /// their namespaces.
    pub fn adopt(options: DataplaneOptions) -> Result<Dataplane> {
        let applied = crate::adopt::read_all(&options.tools, &options.prefix)?;
        Ok(Dataplane {
            options,
            applied,
            pending: BTreeMap::new(),
            nft_transactions: 0,
            nft_failures: 0,
        })
    }

    pub fn options(&self) -> &DataplaneOptions {
        &self.options
    }

    /// The instances whose namespace this data plane holds, with their primary addresses.
    pub fn instances(&self) -> Vec<(String, Ipv4Addr)> {
        self.applied
            .routers
            .values()
            .flat_map(|r| r.nics.values())
            .filter(|n| !n.namespace.is_empty() && n.is_primary())
            .map(|n| (n.instance_id.clone(), n.address))
            .collect()
    }

    /// Counters since this data plane was made, and the size of what is applied now.
    pub fn stats(&self) -> DataplaneStats {
        let mut applied = RulesetSize::default();
        for r in self.applied.routers.values() {
            applied.chains += r.size.chains;
            applied.rules += r.size.rules;
            applied.set_elements += r.size.set_elements;
        }
        DataplaneStats {
            nft_transactions: self.nft_transactions,
            nft_failures: self.nft_failures,
            applied,
        }
    }

    /// Brings the machine to `desired`. Each router (VPC) is applied on its own: one that
    /// fails keeps its last good ruleset and links, and is reported in
    /// [`Error::Partial`]; the others are applied.
    pub fn apply(&mut self, desired: &DesiredState) -> Result<ApplyReport> {
        if desired.prefix != self.options.prefix {
            return Err(Error::PrefixMismatch {
                desired: desired.prefix.clone(),
                ours: self.options.prefix.clone(),
            });
        }
        let started = Instant::now();
        let mut report = ApplyReport::default();
        let mut failures: Vec<NamespaceError> = Vec::new();
        let mut failed: HashSet<String> = HashSet::new();
        let fail = |failures: &mut Vec<NamespaceError>,
                    failed: &mut HashSet<String>,
                    namespace: &str,
                    error: Error| {
            failed.insert(namespace.to_string());
            failures.push(NamespaceError {
                namespace: namespace.to_string(),
                error: Box::new(error),
            });
        };

        // The outside namespace first: every router's uplink ends there. One made anew (it
        // was never there, or someone deleted it) has no uplinks: routers' old ends, which
        // may lead to a deleted namespace still kept alive, are replaced.
        let outside_missing =
            self.applied.outside.is_none() || !netns_exists(&desired.outside.namespace);
        if outside_missing && self.ensure_outside(&desired.outside, &mut report)? {
            for (name, router) in self.applied.routers.iter_mut() {
                if router.uplink {
                    let _ = self
                        .options
                        .tools
                        .ip_batch(Some(name), &[ip_line!("link", "del", "dev", UPLINK_IFNAME)]);
                }
                router.uplink = false;
            }
        }

        // New routers, and routers whose uplink is gone (its outside end went with the
        // outside namespace, say): the uplink is made again, and routes through it with it.
        for (name, router) in &desired.routers {
            if !self.applied.routers.get(name).is_some_and(|r| r.uplink) {
                match self.create_router(router, &desired.outside, &mut report) {
                    Ok(()) => {
                        if let Some(routes) = self.applied.outside.as_mut() {
                            routes.retain(|_, via| via != name);
                        }
                    }
                    Err(e) => fail(&mut failures, &mut failed, name, e),
                }
            }
        }

        // One nft transaction per router, before any link changes: a new NIC's chains and
        // dispatch exist before its veth does, a removed NIC is closed before it goes.
        let mut diffs: BTreeMap<String, TableDiff> = BTreeMap::new();
        let nft_started = Instant::now();
        for (name, router) in &desired.routers {
            if failed.contains(name) {
                continue;
            }
            let Some(applied) = self.applied.routers.get_mut(name) else {
                continue;
            };
            let diff = render::diff(applied.table.as_ref(), &router.ruleset);
            if !diff.is_empty() {
                match self.options.tools.nft_apply(name, &diff.document()) {
                    Ok(()) => {
                        applied.table = Some(AppliedTable::of(&router.ruleset));
                        report.nft_transactions += 1;
                        self.nft_transactions += 1;
                    }
                    Err(e) => {
                        self.nft_failures += 1;
                        fail(&mut failures, &mut failed, name, e);
                        continue;
                    }
                }
            }
            // Applied now, or already the same.
            applied.size = RulesetSize::of(&router.ruleset);
            diffs.insert(name.clone(), diff);
        }
        report.nft_duration = nft_started.elapsed();

        // Links that go: NICs no longer wanted (or changed), gateways no longer used, and
        // everything of routers no longer wanted. Deleted explicitly, so that nothing of an
        // instance remains even if a process keeps its namespace alive.
        let mut flushed: BTreeMap<String, BTreeSet<Ipv4Addr>> = BTreeMap::new();
        let mut doomed_instances: BTreeSet<String> = BTreeSet::new();
        let mut doomed_routers: Vec<String> = Vec::new();
        let mut gone_secondaries: Vec<NicSpec> = Vec::new();
        let router_names: Vec<String> = self.applied.routers.keys().cloned().collect();
        for name in &router_names {
            if failed.contains(name) {
                continue;
            }
            let wanted = desired.routers.get(name);
            let Some(applied) = self.applied.routers.get_mut(name) else {
                continue;
            };
            let mut lines: Vec<IpLine> = Vec::new();
            let mut gone: Vec<String> = Vec::new();
            for (id, nic) in &applied.nics {
                // A changed interface is made again (the instance's other interfaces stay
                // as they are), unless only its secondary addresses changed: those are
                // added and removed in place (`add_links`), and its flows live on.
                let want = wanted.and_then(|w| w.nics.get(id));
                if want != Some(nic) && !want.is_some_and(|w| only_secondaries_differ(nic, w)) {
                    lines.push(ip_line!("link", "del", "dev", nic.ifname));
                    gone.push(id.clone());
                }
            }
            let keep_gateways = wanted.map(|w| &w.gateways);
            let gone_gateways: Vec<Ipv4Addr> = applied
                .gateways
                .iter()
                .filter(|g| keep_gateways.is_none_or(|k| !k.contains(g)))
                .copied()
                .collect();
            for g in &gone_gateways {
                lines.push(ip_line!("addr", "del", format!("{g}/32"), "dev", "lo"));
            }
            if wanted.is_none() && applied.uplink {
                lines.push(ip_line!("link", "del", "dev", UPLINK_IFNAME));
            }
            if wanted.is_none() && applied.overlay.is_some() {
                lines.push(ip_line!("link", "del", "dev", OVERLAY_IFNAME));
            }
            match self.options.tools.ip_batch(Some(name), &lines) {
                Ok(()) => {
                    for id in gone {
                        if let Some(nic) = applied.nics.remove(&id) {
                            report.links_deleted += 1;
                            flushed
                                .entry(name.clone())
                                .or_default()
                                .extend(nic.addresses());
                            if names::is_safe_namespace(&nic.namespace) {
                                if !nic.is_primary() {
                                    gone_secondaries.push(nic.clone());
                                }
                                doomed_instances.insert(nic.namespace);
                            }
                        }
                    }
                    for g in gone_gateways {
                        applied.gateways.remove(&g);
                    }
                    if wanted.is_none() {
                        applied.uplink = false;
                        applied.overlay = None;
                        doomed_routers.push(name.clone());
                    }
                }
                Err(e) => {
                    // Some lines may have run: read back what is there now.
                    if let Ok(now) = crate::adopt::read_router(&self.options.tools, name) {
                        *applied = AppliedRouter {
                            table: applied.table.take(),
                            size: applied.size,
                            ..now
                        };
                    }
                    fail(&mut failures, &mut failed, name, e);
                }
            }
        }

        // Namespaces: the ones of instances that stopped go; the ones of instances that
        // start are made (an existing one, left by an earlier agent, is reused).
        let wanted_namespaces: BTreeSet<&str> = desired
            .instances()
            .map(|(_, n)| n.namespace.as_str())
            .collect();
        let mut root: Vec<IpLine> = Vec::new();
        for ns in &doomed_instances {
            if !wanted_namespaces.contains(ns.as_str())
                && netns_exists(ns)
                && !self.holds_links_of_another(ns)
            {
                root.push(ip_line!("netns", "del", ns));
            }
        }
        for ns in &doomed_routers {
            if netns_exists(ns) {
                root.push(ip_line!("netns", "del", ns));
            }
        }
        let mut fresh_namespaces: BTreeSet<String> = BTreeSet::new();
        let mut reused_namespaces: Vec<(String, String)> = Vec::new();
        for (router, nic) in desired.instances() {
            if failed.contains(&router.namespace) {
                continue;
            }
            let have = self
                .applied
                .routers
                .get(&router.namespace)
                .and_then(|r| r.nics.get(nic.key()));
            if have.is_some() {
                continue;
            }
            if fresh_namespaces.contains(&nic.namespace) {
                continue;
            }
            if netns_exists(&nic.namespace) {
                reused_namespaces.push((nic.namespace.clone(), nic.device()));
            } else {
                root.push(ip_line!("netns", "add", nic.namespace));
                fresh_namespaces.insert(nic.namespace.clone());
            }
        }
        if let Err(e) = self.options.tools.ip_batch(None, &root) {
            // Routers whose new instances lack a namespace fail when their links are made.
            fail(&mut failures, &mut failed, "(namespaces)", e);
        }
        report.namespaces_deleted += root.iter().filter(|l| l[1] == "del").count();
        report.namespaces_created += fresh_namespaces.len();
        for name in &doomed_routers {
            self.applied.routers.remove(name);
        }
        for (ns, device) in &reused_namespaces {
            // A leftover interface would stop the veth's peer from being named ethN.
            let _ = self
                .options
                .tools
                .ip_batch(Some(ns), &[ip_line!("link", "del", "dev", device)]);
        }
        // A secondary interface that went from a namespace that stays leaves its policy
        // rules behind (rules are not tied to a link): they go too.
        for nic in &gone_secondaries {
            if wanted_namespaces.contains(nic.namespace.as_str()) && netns_exists(&nic.namespace) {
                let _ = self
                    .options
                    .tools
                    .ip_batch_forced(Some(&nic.namespace), &rule_deletions(nic));
            }
        }

        // Links that come.
        for (name, router) in &desired.routers {
            if failed.contains(name) {
                continue;
            }
            if let Err(e) = self.add_links(router, &mut report, &mut flushed) {
                fail(&mut failures, &mut failed, name, e);
                continue;
            }
            if let Err(e) = self.sync_overlay(router, &mut flushed) {
                fail(&mut failures, &mut failed, name, e);
            }
        }

        // Outside routes, for addresses one instance holds.
        if let Err(e) = self.sync_outside(desired, &failed) {
            fail(&mut failures, &mut failed, &desired.outside.namespace, e);
        }

        // Established flows the new rules no longer allow are cut.
        let sweep_started = Instant::now();
        for (name, diff) in diffs {
            let pending = self.pending.entry(name).or_default();
            pending.chains.extend(diff.changed_chains);
            pending.sets.extend(diff.changed_sets);
            pending.dispatch.extend(diff.changed_dispatch);
        }
        for (name, addresses) in flushed {
            self.pending
                .entry(name)
                .or_default()
                .flush
                .extend(addresses);
        }
        self.pending
            .retain(|name, _| desired.routers.contains_key(name));
        let names: Vec<String> = self.pending.keys().cloned().collect();
        for name in names {
            let Some(router) = desired.routers.get(&name) else {
                continue;
            };
            if failed.contains(&name) {
                continue;
            }
            let pending = self.pending.get(&name).cloned().unwrap_or_default();
            match self.sweep_conntrack(desired, router, &pending) {
                Ok(n) => {
                    report.conntrack_deleted += n;
                    self.pending.remove(&name);
                }
                Err(e) => fail(&mut failures, &mut failed, &name, e),
            }
        }

        report.sweep_duration = sweep_started.elapsed();
        report.duration = started.elapsed();
        if failures.is_empty() {
            Ok(report)
        } else {
            Err(Error::Partial(failures))
        }
    }

    /// Removes everything this data plane (or an earlier agent with the same prefix) made:
    /// instance namespaces, their veths, routers, the outside namespace; the nftables
    /// tables live in the routers and go with them.
    pub fn cleanup(&mut self) -> Result<()> {
        let found = crate::adopt::read_all(&self.options.tools, &self.options.prefix)?;
        let mut instance_namespaces: BTreeSet<String> = BTreeSet::new();
        let mut routers: BTreeSet<String> = BTreeSet::new();
        for source in [&self.applied, &found] {
            for (name, router) in &source.routers {
                routers.insert(name.clone());
                for nic in router.nics.values() {
                    if names::is_safe_namespace(&nic.namespace) {
                        instance_namespaces.insert(nic.namespace.clone());
                    }
                }
            }
        }
        let tools = &self.options.tools;
        for name in &routers {
            if !netns_exists(name) {
                continue;
            }
            let mut lines: Vec<IpLine> = Vec::new();
            if let Some(r) = found.routers.get(name) {
                for nic in r.nics.values() {
                    lines.push(ip_line!("link", "del", "dev", nic.ifname));
                }
                if r.uplink {
                    lines.push(ip_line!("link", "del", "dev", UPLINK_IFNAME));
                }
            }
            // Best effort: a link already gone must not stop the rest.
            let _ = tools.ip_batch_forced(Some(name), &lines);
        }
        let outside = names::outside_namespace(&self.options.prefix);
        let mut root: Vec<IpLine> = Vec::new();
        for ns in instance_namespaces
            .iter()
            .chain(routers.iter())
            .chain(std::iter::once(&outside))
        {
            if netns_exists(ns) {
                root.push(ip_line!("netns", "del", ns));
            }
        }
        let result = tools.ip_batch_forced(None, &root);
        self.applied = Applied::default();
        self.pending.clear();
        let left: Vec<&IpLine> = root.iter().filter(|l| netns_exists(&l[2])).collect();
        match (left.is_empty(), result) {
            (true, _) => Ok(()),
            (false, Err(e)) => Err(e),
            (false, Ok(())) => Err(Error::Netns {
                namespace: left[0][2].clone(),
                detail: "still there after deletion".into(),
            }),
        }
    }

    /// Whether an instance namespace whose links this data plane has just deleted still has
    /// an interface: another host's agent on this machine has taken the instance over
    /// (it was placed there while this host was away), so the namespace is that agent's.
    fn holds_links_of_another(&self, namespace: &str) -> bool {
        self.options
            .tools
            .ip_json(Some(namespace), &["link", "show"])
            .ok()
            .and_then(|links| {
                links.as_array().map(|l| {
                    l.iter()
                        .any(|link| link.get("ifname").and_then(|n| n.as_str()) != Some("lo"))
                })
            })
            .unwrap_or(false)
    }

    /// Makes sure the outside namespace exists; `true` when it was made now.
    fn ensure_outside(&mut self, outside: &OutsideSpec, report: &mut ApplyReport) -> Result<bool> {
        let tools = &self.options.tools;
        let name = &outside.namespace;
        if netns_exists(name) {
            self.applied.outside = Some(crate::adopt::read_outside_routes(tools, name)?);
            return Ok(false);
        }
        tools.ip_batch(None, &[ip_line!("netns", "add", name)])?;
        report.namespaces_created += 1;
        // Forwarding stays off (the default of a new namespace): the outside namespace is an
        // end, never a path from one VPC to another.
        tools.ip_batch(
            Some(name),
            &[
                ip_line!("link", "set", "dev", "lo", "up"),
                ip_line!(
                    "addr",
                    "add",
                    format!("{}/32", outside.address),
                    "dev",
                    "lo"
                ),
            ],
        )?;
        self.applied.outside = Some(BTreeMap::new());
        Ok(true)
    }

    fn create_router(
        &mut self,
        router: &RouterSpec,
        outside: &OutsideSpec,
        report: &mut ApplyReport,
    ) -> Result<()> {
        let tools = &self.options.tools;
        let name = &router.namespace;
        if netns_exists(name) {
            let found = crate::adopt::read_router(tools, name)?;
            self.applied.routers.insert(name.clone(), found);
            if self.applied.routers.get(name).is_some_and(|r| r.uplink) {
                return Ok(());
            }
        } else {
            tools.ip_batch(None, &[ip_line!("netns", "add", name)])?;
            report.namespaces_created += 1;
            self.applied
                .routers
                .insert(name.clone(), AppliedRouter::default());
        }
        // The only sysctls written, and only in the router's own namespace: it forwards;
        // answers ARP for the addresses it routes (so same-subnet instances reach each
        // other through it); and drops what arrives on an interface its source address is
        // not routed through (strict reverse-path filtering), so that an instance cannot
        // send with another's address and be taken for it by group sets.
        tools.write_sysctls(
            name,
            &[
                ("net.ipv4.ip_forward", "1"),
                ("net.ipv4.conf.all.proxy_arp", "1"),
                ("net.ipv4.conf.all.rp_filter", "1"),
                ("net.ipv4.conf.default.rp_filter", "1"),
            ],
        )?;
        tools.ip_batch(
            Some(name),
            &[
                ip_line!("link", "set", "dev", "lo", "up"),
                ip_line!(
                    "link",
                    "add",
                    UPLINK_IFNAME,
                    "address",
                    ROUTER_MAC,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    router.uplink_peer,
                    "address",
                    OUTSIDE_MAC,
                    "netns",
                    outside.namespace
                ),
                ip_line!("link", "set", "dev", UPLINK_IFNAME, "up"),
                ip_line!(
                    "neigh",
                    "replace",
                    OUTSIDE_NEXT_HOP,
                    "lladdr",
                    OUTSIDE_MAC,
                    "dev",
                    UPLINK_IFNAME,
                    "nud",
                    "permanent"
                ),
                ip_line!(
                    "route",
                    "replace",
                    "default",
                    "via",
                    OUTSIDE_NEXT_HOP,
                    "dev",
                    UPLINK_IFNAME,
                    "onlink"
                ),
            ],
        )?;
        tools.ip_batch(
            Some(&outside.namespace),
            &[
                ip_line!("link", "set", "dev", router.uplink_peer, "up"),
                ip_line!(
                    "neigh",
                    "replace",
                    ROUTER_NEXT_HOP,
                    "lladdr",
                    ROUTER_MAC,
                    "dev",
                    router.uplink_peer,
                    "nud",
                    "permanent"
                ),
            ],
        )?;
        if let Some(r) = self.applied.routers.get_mut(name) {
            r.uplink = true;
        }
        Ok(())
    }

    /// New veths (router end, instance end), gateways, routes and neighbour entries.
    fn add_links(
        &mut self,
        router: &RouterSpec,
        report: &mut ApplyReport,
        flushed: &mut BTreeMap<String, BTreeSet<Ipv4Addr>>,
    ) -> Result<()> {
        let tools = &self.options.tools;
        let name = &router.namespace;
        let Some(applied) = self.applied.routers.get_mut(name) else {
            return Ok(());
        };
        let mut lines: Vec<IpLine> = Vec::new();
        let new_gateways: Vec<Ipv4Addr> = router
            .gateways
            .iter()
            .filter(|g| !applied.gateways.contains(g))
            .copied()
            .collect();
        for g in &new_gateways {
            lines.push(ip_line!("addr", "replace", format!("{g}/32"), "dev", "lo"));
        }
        // Interfaces whose secondary addresses changed, and nothing else.
        let readdressed: Vec<(NicSpec, &NicSpec)> = router
            .nics
            .values()
            .filter_map(|n| {
                let have = applied.nics.get(n.key())?;
                only_secondaries_differ(have, n).then(|| (have.clone(), n))
            })
            .collect();
        for (have, want) in &readdressed {
            let removed: Vec<Ipv4Addr> = have
                .secondary
                .iter()
                .filter(|a| !want.secondary.contains(a))
                .copied()
                .collect();
            let added: Vec<Ipv4Addr> = want
                .secondary
                .iter()
                .filter(|a| !have.secondary.contains(a))
                .copied()
                .collect();
            let device = want.device();
            let mut router_removals: Vec<IpLine> = Vec::new();
            let mut router_additions: Vec<IpLine> = Vec::new();
            let mut instance_lines: Vec<IpLine> = Vec::new();
            let mut instance_forced: Vec<IpLine> = Vec::new();
            for a in &removed {
                // Closed in the router first: no packet of it is routed to the veth.
                router_removals.push(ip_line!(
                    "route",
                    "del",
                    format!("{a}/32"),
                    "dev",
                    want.ifname
                ));
                router_removals.push(ip_line!("neigh", "del", a, "dev", want.ifname));
                instance_forced.push(ip_line!(
                    "addr",
                    "del",
                    format!("{a}/{}", want.prefix_len),
                    "dev",
                    device
                ));
                if !want.is_primary() {
                    instance_forced.push(policy_rule("del", want, a));
                }
            }
            for a in &added {
                instance_lines.push(address_line(want, a));
                if !want.is_primary() {
                    instance_forced.push(policy_rule("del", want, a));
                    instance_lines.push(policy_rule("add", want, a));
                }
                router_additions.push(ip_line!(
                    "neigh",
                    "replace",
                    a,
                    "lladdr",
                    want.mac,
                    "dev",
                    want.ifname,
                    "nud",
                    "permanent"
                ));
                router_additions.push(ip_line!(
                    "route",
                    "replace",
                    format!("{a}/32"),
                    "dev",
                    want.ifname
                ));
            }
            // Deletions of what may already be gone (an earlier attempt that failed half-way
            // is tried again whole), and of rules about to be added.
            let _ = tools.ip_batch_forced(Some(name), &router_removals);
            let _ = tools.ip_batch_forced(Some(&want.namespace), &instance_forced);
            tools.ip_batch(Some(&want.namespace), &instance_lines)?;
            tools.ip_batch(Some(name), &router_additions)?;
            applied.nics.insert(want.key().to_string(), (*want).clone());
            flushed
                .entry(name.clone())
                .or_default()
                .extend(removed.iter().chain(&added).copied());
        }
        let new: Vec<&NicSpec> = router
            .nics
            .values()
            .filter(|n| !applied.nics.contains_key(n.key()))
            .collect();
        for nic in &new {
            lines.push(ip_line!(
                "link",
                "add",
                nic.ifname,
                "address",
                ROUTER_MAC,
                "type",
                "veth",
                "peer",
                "name",
                nic.device(),
                "address",
                nic.mac,
                "netns",
                nic.namespace
            ));
            // The alias names the owner, for adopt and for people reading `ip link`.
            lines.push(ip_line!(
                "link",
                "set",
                "dev",
                nic.ifname,
                "alias",
                nic.alias()
            ));
            lines.push(ip_line!("link", "set", "dev", nic.ifname, "up"));
            // Proxy ARP answers after a random delay of up to `proxy_delay` (0.8 s by
            // default): the first packet to a same-subnet peer must not wait for it.
            lines.push(ip_line!(
                "ntable",
                "change",
                "name",
                "arp_cache",
                "dev",
                nic.ifname,
                "proxy_delay",
                "0"
            ));
            // Every address of the interface is routed to its veth, and to no other: strict
            // reverse-path filtering then drops what an interface sends with an address
            // that is not its own (another interface's of the same instance included).
            for address in nic.addresses() {
                lines.push(ip_line!(
                    "neigh",
                    "replace",
                    address,
                    "lladdr",
                    nic.mac,
                    "dev",
                    nic.ifname,
                    "nud",
                    "permanent"
                ));
                lines.push(ip_line!(
                    "route",
                    "replace",
                    format!("{address}/32"),
                    "dev",
                    nic.ifname
                ));
            }
        }
        tools.ip_batch(Some(name), &lines)?;
        applied.gateways.extend(new_gateways);
        for nic in new {
            // The router end exists: a failure below still leaves a link to delete later.
            applied.nics.insert(nic.key().to_string(), nic.clone());
            report.links_created += 1;
            flushed
                .entry(name.clone())
                .or_default()
                .extend(nic.addresses());
            if !nic.is_primary() {
                // Rules an earlier link of the interface left (a namespace kept by a
                // process, an agent that stopped half-way) would be added twice.
                let _ = tools.ip_batch_forced(Some(&nic.namespace), &rule_deletions(nic));
            }
            tools.ip_batch(Some(&nic.namespace), &instance_lines(nic))?;
        }
        Ok(())
    }

    /// The router's overlay device and its routes to other hosts' interfaces, as wanted. A
    /// new device is made from the agent's own namespace, so that its UDP socket is bound
    /// where the underlay is, and moved into the router at once (it never carries a packet
    /// in the agent's namespace). A changed VNI or local address makes it again. Addresses
    /// that moved or went have their tracked flows flushed (they may be another
    /// interface's next).
    fn sync_overlay(
        &mut self,
        router: &RouterSpec,
        flushed: &mut BTreeMap<String, BTreeSet<Ipv4Addr>>,
    ) -> Result<()> {
        let tools = &self.options.tools;
        let name = &router.namespace;
        let Some(applied) = self.applied.routers.get_mut(name) else {
            return Ok(());
        };
        let want = router.overlay.as_ref();
        let same_device =
            |have: &OverlaySpec| want.is_some_and(|w| w.vni == have.vni && w.local == have.local);
        if let Some(have) = applied.overlay.take_if(|have| !same_device(have)) {
            tools.ip_batch(
                Some(name),
                &[ip_line!("link", "del", "dev", OVERLAY_IFNAME)],
            )?;
            flushed
                .entry(name.clone())
                .or_default()
                .extend(have.routes.keys().copied());
        }
        let Some(want) = want else {
            return Ok(());
        };
        if applied.overlay.is_none() {
            // A device of that name that adopt could not read would stop the new one.
            let _ = tools.ip_batch_forced(
                Some(name),
                &[ip_line!("link", "del", "dev", OVERLAY_IFNAME)],
            );
            tools.ip_batch(
                None,
                &[ip_line!(
                    "link",
                    "add",
                    OVERLAY_IFNAME,
                    "netns",
                    name,
                    "address",
                    names::overlay_mac(want.local),
                    "mtu",
                    OVERLAY_MTU,
                    "type",
                    "vxlan",
                    "id",
                    want.vni,
                    "local",
                    want.local,
                    "dstport",
                    OVERLAY_PORT,
                    "nolearning"
                )],
            )?;
            tools.ip_batch(
                Some(name),
                &[ip_line!("link", "set", "dev", OVERLAY_IFNAME, "up")],
            )?;
            applied.overlay = Some(OverlaySpec {
                routes: BTreeMap::new(),
                ..want.clone()
            });
        }
        let have = applied.overlay.clone().unwrap_or_else(|| want.clone());
        if have.routes == want.routes {
            return Ok(());
        }
        // Every host the routes lead to gets its entries again (replacing is harmless, and
        // an earlier agent that stopped half-way may have left some out).
        let mut ip_lines: Vec<IpLine> = Vec::new();
        let mut fdb_lines: Vec<IpLine> = Vec::new();
        for peer in want.peers() {
            let mac = names::overlay_mac(peer);
            ip_lines.push(ip_line!(
                "neigh",
                "replace",
                peer,
                "lladdr",
                mac,
                "dev",
                OVERLAY_IFNAME,
                "nud",
                "permanent"
            ));
            fdb_lines.push(ip_line!(
                "fdb",
                "replace",
                mac,
                "dev",
                OVERLAY_IFNAME,
                "dst",
                peer,
                "self",
                "permanent"
            ));
        }
        let mut moved: BTreeSet<Ipv4Addr> = BTreeSet::new();
        for (address, via) in &want.routes {
            match have.routes.get(address) {
                Some(old) if old == via => {}
                old => {
                    if old.is_some() {
                        moved.insert(*address);
                    }
                    ip_lines.push(ip_line!(
                        "route",
                        "replace",
                        format!("{address}/32"),
                        "via",
                        via,
                        "dev",
                        OVERLAY_IFNAME,
                        "onlink"
                    ));
                }
            }
        }
        let mut gone_lines: Vec<IpLine> = Vec::new();
        for address in have.routes.keys().filter(|a| !want.routes.contains_key(a)) {
            moved.insert(*address);
            gone_lines.push(ip_line!(
                "route",
                "del",
                format!("{address}/32"),
                "dev",
                OVERLAY_IFNAME
            ));
        }
        let wanted_peers = want.peers();
        let mut gone_fdb: Vec<IpLine> = Vec::new();
        for peer in have.peers().difference(&wanted_peers) {
            let mac = names::overlay_mac(*peer);
            gone_lines.push(ip_line!("neigh", "del", peer, "dev", OVERLAY_IFNAME));
            gone_fdb.push(ip_line!(
                "fdb",
                "del",
                mac,
                "dev",
                OVERLAY_IFNAME,
                "dst",
                peer,
                "self"
            ));
        }
        let result = tools
            .bridge_batch(name, &fdb_lines, false)
            .and_then(|()| tools.ip_batch(Some(name), &ip_lines));
        if result.is_ok() {
            // Best effort: what is already gone must not hold up the rest.
            let _ = tools.ip_batch_forced(Some(name), &gone_lines);
            let _ = tools.bridge_batch(name, &gone_fdb, true);
        }
        flushed.entry(name.clone()).or_default().extend(moved);
        match result {
            Ok(()) => {
                applied.overlay = Some(want.clone());
                Ok(())
            }
            Err(e) => {
                // Some lines may have run: what is there now is what the next apply diffs.
                applied.overlay = crate::adopt::read_overlay(tools, name).unwrap_or(None);
                Err(e)
            }
        }
    }

    fn sync_outside(&mut self, desired: &DesiredState, failed: &HashSet<String>) -> Result<()> {
        let outside = &desired.outside;
        let Some(applied) = self.applied.outside.as_mut() else {
            return Ok(());
        };
        let mut lines: Vec<IpLine> = Vec::new();
        let mut wanted: BTreeMap<Ipv4Addr, String> = BTreeMap::new();
        for (address, router) in &outside.routes {
            // A router that failed keeps its old routes; one whose NIC is not there yet
            // (its link failed) gets none.
            let present = self.applied.routers.get(router).is_some_and(|r| {
                r.uplink
                    && r.nics
                        .values()
                        .any(|n| n.addresses().any(|a| a == *address))
            });
            if present && !failed.contains(router) {
                wanted.insert(*address, router.clone());
            } else if let Some(old) = applied.get(address) {
                if failed.contains(old) && self.applied.routers.contains_key(old) {
                    wanted.insert(*address, old.clone());
                }
            }
        }
        for (address, router) in applied.iter() {
            // A route through an uplink that is gone went with it.
            let through_live_uplink = self.applied.routers.get(router).is_some_and(|r| r.uplink);
            if wanted.get(address) != Some(router) && through_live_uplink {
                lines.push(ip_line!("route", "del", format!("{address}/32")));
            }
        }
        for (address, router) in &wanted {
            if applied.get(address) != Some(router) {
                let Some(spec) = desired.routers.get(router) else {
                    continue;
                };
                lines.push(ip_line!(
                    "route",
                    "replace",
                    format!("{address}/32"),
                    "via",
                    ROUTER_NEXT_HOP,
                    "dev",
                    spec.uplink_peer,
                    "onlink",
                    "src",
                    outside.address
                ));
            }
        }
        self.options
            .tools
            .ip_batch(Some(&outside.namespace), &lines)?;
        *applied = wanted;
        Ok(())
    }

    /// Deletes the tracked connections through `router` that the desired state no longer
    /// allows: every entry of an address whose NIC came or went in this apply, and among the
    /// entries of NICs whose chains, dispatch or looked-up sets changed, those the engine
    /// now denies. Nothing is listed when nothing that decides a verdict changed.
    fn sweep_conntrack(
        &self,
        desired: &DesiredState,
        router: &RouterSpec,
        pending: &PendingSweep,
    ) -> Result<usize> {
        let mut judged: HashSet<IpAddr> = HashSet::new();
        for nic in router.nics.values() {
            let chains = [
                router.ruleset.egress.get(&nic.ifname),
                router.ruleset.ingress.get(&nic.ifname),
            ];
            let affected = pending.dispatch.contains(&nic.ifname)
                || chains.iter().flatten().any(|c| {
                    pending.chains.contains(*c)
                        || router
                            .ruleset
                            .chains
                            .get(*c)
                            .is_some_and(|chain| chain.sets().any(|s| pending.sets.contains(s)))
                });
            if affected {
                judged.extend(nic.addresses().map(IpAddr::V4));
            }
        }
        let flush: HashSet<IpAddr> = pending.flush.iter().map(|a| IpAddr::V4(*a)).collect();
        if judged.is_empty() && flush.is_empty() {
            return Ok(0);
        }
        let tools = &self.options.tools;
        let listing = tools.conntrack_list(&router.namespace)?;
        let mut doomed = Vec::new();
        for entry in conntrack::parse(&listing) {
            let ends = [entry.flow.source, entry.flow.destination];
            let delete = if ends.iter().any(|a| flush.contains(a)) {
                true
            } else if ends.iter().any(|a| judged.contains(a)) {
                desired.judge.allows(&router.namespace, &entry.flow) == Some(false)
            } else {
                false
            };
            if delete {
                doomed.push(entry);
            }
        }
        tools.conntrack_delete(&router.namespace, &doomed)
    }
}

/// The instance side of one interface: its addresses on `ethN`, its gateway's permanent
/// neighbour entry and its routes. The primary interface (`eth0`) has the main table's
/// default route. A secondary one has its own table ([`NicSpec::table`]) with its subnet
/// and a default route through its own vSwitch's gateway, chosen by a policy rule per
/// address (`from ADDR lookup table`): a packet sourced from one of its addresses leaves by
/// it, whatever its destination. Its addresses carry no prefix route in the main table, so
/// that an unbound socket still leaves by eth0 with eth0's address.
fn instance_lines(nic: &NicSpec) -> Vec<IpLine> {
    let device = nic.device();
    let mut lines = vec![ip_line!("link", "set", "dev", "lo", "up")];
    for address in nic.addresses() {
        lines.push(address_line(nic, address));
    }
    lines.push(ip_line!("link", "set", "dev", device, "up"));
    // The gateway's MAC is known in advance: no ARP before the first packet.
    lines.push(ip_line!(
        "neigh",
        "replace",
        nic.gateway,
        "lladdr",
        ROUTER_MAC,
        "dev",
        device,
        "nud",
        "permanent"
    ));
    if nic.is_primary() {
        lines.push(ip_line!(
            "route",
            "replace",
            "default",
            "via",
            nic.gateway,
            "dev",
            device
        ));
        return lines;
    }
    let table = nic.table().to_string();
    let subnet = ipnet::Ipv4Net::new(nic.address, nic.prefix_len)
        .map(|n| n.trunc().to_string())
        .unwrap_or_else(|_| format!("{}/32", nic.gateway));
    lines.push(ip_line!(
        "route",
        "replace",
        subnet,
        "dev",
        device,
        "src",
        nic.address,
        "table",
        table
    ));
    lines.push(ip_line!(
        "route",
        "replace",
        "default",
        "via",
        nic.gateway,
        "dev",
        device,
        "table",
        table
    ));
    for address in nic.addresses() {
        lines.push(policy_rule("add", nic, address));
    }
    lines
}

/// `ip addr replace ADDR/LEN dev ethN`, without a main-table prefix route on a secondary
/// interface (see [`instance_lines`]).
fn address_line(nic: &NicSpec, address: impl std::fmt::Display) -> IpLine {
    let cidr = format!("{address}/{}", nic.prefix_len);
    let mut line = ip_line!("addr", "replace", cidr, "dev", nic.device());
    if !nic.is_primary() {
        line.push("noprefixroute".to_string());
    }
    line
}

/// `ip rule add|del from ADDR/32 table T pref T`: the policy rule that sends what a
/// secondary interface's address sources out of the interface's own table.
fn policy_rule(verb: &str, nic: &NicSpec, address: impl std::fmt::Display) -> IpLine {
    let table = nic.table().to_string();
    ip_line!(
        "rule",
        verb,
        "from",
        format!("{address}/32"),
        "table",
        table,
        "pref",
        table
    )
}

/// The policy rules of a secondary interface (see [`instance_lines`]), to delete.
fn rule_deletions(nic: &NicSpec) -> Vec<IpLine> {
    nic.addresses()
        .map(|address| policy_rule("del", nic, address))
        .collect()
}

/// Whether `have` and `want` are the same link but for their secondary addresses.
fn only_secondaries_differ(have: &NicSpec, want: &NicSpec) -> bool {
    have.secondary != want.secondary
        && NicSpec {
            secondary: want.secondary.clone(),
            ..have.clone()
        } == *want
}
