//! The review of an account (docs/review.md §3): exposure to `0.0.0.0/0` and `::/0`, dead
//! rules, hygiene findings and a matrix picture, per region. Flows are decided by the
//! engine over the network the reachability service compiles ([`Reachability::ask`]); the
//! rules' text is read only to know where the answers can change (port boundaries).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use secgroup_domain::ids::AccountId;
use secgroup_domain::network::InstanceStatus;
use secgroup_domain::ops::import::AccountImage;
use secgroup_domain::ops::instances::InstanceTimings;
use secgroup_domain::ops::Limits;
use secgroup_domain::rules::{Cidr, Direction, IpProtocol, Peer, Rule};
use secgroup_domain::{SecurityGroupType, Store};
use secgroup_reach::{Endpoint, Flow, Step};
use secgroup_reach_service::{Network, Reachability, ReachabilityError};
use serde::Serialize;

use crate::shadow::{self, DeadRule};

/// Ports reported first, in this order: remote logins, databases, caches, search engines,
/// container and cluster control planes.
pub const SENSITIVE_PORTS: [u16; 20] = [
    22, 3389, 3306, 5432, 6379, 9200, 27017, 2375, 2376, 1433, 1521, 11211, 9300, 5984, 2379, 6443,
    10250, 5900, 23, 445,
];

/// The share of a quota from which a count is "close to" it.
pub const NEAR_QUOTA: f64 = 0.8;

/// The probes of the matrix picture and of `--diff`.
pub const PROBES: [(IpProtocol, Option<u16>); 8] = [
    (IpProtocol::Tcp, Some(22)),
    (IpProtocol::Tcp, Some(3389)),
    (IpProtocol::Tcp, Some(3306)),
    (IpProtocol::Tcp, Some(5432)),
    (IpProtocol::Tcp, Some(6379)),
    (IpProtocol::Tcp, Some(80)),
    (IpProtocol::Tcp, Some(443)),
    (IpProtocol::Icmp, None),
];

/// Instances drawn in a region's matrix picture at most.
pub const MATRIX_INSTANCES: usize = 60;

pub fn probe_name(protocol: IpProtocol, port: Option<u16>) -> String {
    match port {
        Some(p) => format!("{}/{p}", protocol.as_str()),
        None => protocol.as_str().to_string(),
    }
}

/// One instance accepting a port range of a protocol from the whole Internet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposure {
    pub instance_id: String,
    pub instance_name: String,
    pub status: &'static str,
    pub private_ip: String,
    /// `0.0.0.0/0` or `::/0`.
    pub from: &'static str,
    pub protocol: &'static str,
    /// `-1/-1` for a protocol without ports.
    pub port_range: String,
    /// The sensitive ports inside the range, in [`SENSITIVE_PORTS`] order.
    pub sensitive_ports: Vec<u16>,
    /// The rules that accept it (ids).
    pub accepted_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hygiene {
    /// Groups no instance is in.
    pub groups_without_members: Vec<String>,
    /// Rules whose peer is a group of this account that does not exist (in the region).
    pub rules_naming_deleted_groups: Vec<RuleRef>,
    /// Rules whose peer is a prefix list that does not exist or has no entries.
    pub rules_naming_empty_prefix_lists: Vec<RuleRef>,
    pub near_quota: Vec<Quota>,
    /// Rules naming another account's group: kept, not checked (informational).
    pub other_account_references: Vec<RuleRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    pub security_group_id: String,
    pub rule_id: String,
    /// The group or prefix list named.
    pub names: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quota {
    /// The group or prefix list, or the region for a per-region quota.
    pub resource: String,
    /// `rules`, `group_rules`, `members`, `security_groups`, `prefix_list_entries`.
    pub what: &'static str,
    pub used: u64,
    pub limit: u64,
}

/// Who reaches whom among (at most [`MATRIX_INSTANCES`]) instances of a region, on any of
/// the [`PROBES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixPicture {
    pub title: String,
    /// `(id, name, status)`.
    pub instances: Vec<(String, String, &'static str)>,
    /// `allowed[source][destination]`.
    pub allowed: Vec<Vec<bool>>,
    pub allowed_count: u64,
    /// Instances of the region not drawn.
    pub omitted: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionReview {
    pub region_id: String,
    pub instances: usize,
    pub security_groups: usize,
    pub rules: usize,
    /// Sensitive ports first, then by instance.
    pub exposures: Vec<Exposure>,
    pub dead_rules: Vec<DeadRule>,
    pub hygiene: Hygiene,
    pub matrix: MatrixPicture,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    /// The version of this JSON layout (docs/review.md §4).
    pub format: u32,
    pub account_id: String,
    pub regions: Vec<RegionReview>,
    /// Exposures, dead rules and hygiene findings (other-account references aside).
    pub findings: usize,
}

impl RegionReview {
    pub fn findings(&self) -> usize {
        let h = &self.hygiene;
        self.exposures.len()
            + self.dead_rules.len()
            + h.groups_without_members.len()
            + h.rules_naming_deleted_groups.len()
            + h.rules_naming_empty_prefix_lists.len()
            + h.near_quota.len()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("reachability: {0}")]
    Reach(String),
}

impl From<ReachabilityError> for ReviewError {
    fn from(e: ReachabilityError) -> Self {
        ReviewError::Reach(format!("{e:?}"))
    }
}

/// The regions an image has anything in, in first-seen order.
pub fn regions_of(image: &AccountImage) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in image
        .vpcs
        .iter()
        .map(|v| &v.region_id)
        .chain(image.groups.iter().map(|g| &g.region_id))
        .chain(image.instances.iter().map(|i| &i.region_id))
        .chain(image.prefix_lists.iter().map(|p| &p.region_id))
    {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// Reviews `account_id` in `store`, whose contents are `image` (read in one transaction
/// by [`crate::store::read_account`]).
pub async fn review<S: Store>(
    store: Arc<S>,
    account_id: &AccountId,
    image: Arc<AccountImage>,
    limits: &Limits,
) -> Result<Review, ReviewError> {
    let reach = Reachability::new(store, InstanceTimings::default());
    let mut regions = Vec::new();
    for region in regions_of(&image) {
        let image = image.clone();
        let limits = limits.clone();
        let r = region.clone();
        let reviewed = reach
            .ask(account_id, &region, move |network, _now| {
                review_region(network, &image, &r, &limits)
            })
            .await?;
        regions.push(reviewed);
    }
    let findings = regions.iter().map(RegionReview::findings).sum();
    Ok(Review {
        format: 1,
        account_id: account_id.to_string(),
        regions,
        findings,
    })
}

fn status_name(s: InstanceStatus) -> &'static str {
    s.as_str()
}

fn review_region(
    network: &Network,
    image: &AccountImage,
    region: &str,
    limits: &Limits,
) -> RegionReview {
    let groups: Vec<&secgroup_domain::SecurityGroup> = image
        .groups
        .iter()
        .filter(|g| g.region_id == region)
        .collect();
    let group_ids: HashSet<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    let rules: Vec<&Rule> = image
        .rules
        .iter()
        .filter(|r| group_ids.contains(r.security_group_id.as_str()))
        .collect();
    let lists: Vec<secgroup_domain::PrefixList> = image
        .prefix_lists
        .iter()
        .filter(|p| p.region_id == region)
        .cloned()
        .collect();
    let mut by_group: HashMap<&str, Vec<Rule>> = HashMap::new();
    for r in &rules {
        by_group
            .entry(r.security_group_id.as_str())
            .or_default()
            .push((*r).clone());
    }

    let exposures = exposures(network, &rules, &lists);

    let mut dead_rules = Vec::new();
    for g in &groups {
        let own = by_group.get(g.id.as_str()).map_or(&[][..], Vec::as_slice);
        dead_rules.extend(shadow::dead_rules(g, own, &lists));
    }

    let hygiene = hygiene(
        image,
        region,
        &groups,
        &rules,
        &lists,
        limits,
        account_of(image),
    );
    RegionReview {
        region_id: region.to_string(),
        instances: network.instances().len(),
        security_groups: groups.len(),
        rules: rules.len(),
        exposures,
        dead_rules,
        hygiene,
        matrix: matrix_picture(network, region),
    }
}

fn account_of(image: &AccountImage) -> &str {
    image
        .groups
        .first()
        .map(|g| g.account_id.as_str())
        .unwrap_or("")
}

/// An address of the family that no rule or prefix-list entry with a prefix longer than
/// `/0` covers, nor a private, loopback, link-local or multicast block, nor an
/// instance: the engine's answer for it is the answer for "anyone on the Internet".
fn internet_address(
    v6: bool,
    rules: &[&Rule],
    lists: &[secgroup_domain::PrefixList],
    taken: &HashSet<IpAddr>,
) -> Option<IpAddr> {
    let reserved_v4 = [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
    ];
    let reserved_v6 = ["::/3", "4000::/2", "8000::/1", "2001:db8::/32"];
    let mut blocks: Vec<(u128, u128)> = Vec::new();
    let mut add = |c: &Cidr| {
        if c.network().prefix_len() == 0 {
            return;
        }
        let net = c.network();
        match (net.network(), net.broadcast()) {
            (IpAddr::V4(a), IpAddr::V4(b)) if !v6 => {
                blocks.push((u32::from(a).into(), u32::from(b).into()))
            }
            (IpAddr::V6(a), IpAddr::V6(b)) if v6 => blocks.push((a.into(), b.into())),
            _ => {}
        }
    };
    for text in if v6 {
        &reserved_v6[..]
    } else {
        &reserved_v4[..]
    } {
        if let Some(c) = Cidr::parse_any(text) {
            add(&c);
        }
    }
    for r in rules {
        if let Peer::Cidr(c) = &r.spec.peer {
            add(c);
        }
    }
    for l in lists {
        for e in &l.entries {
            if let Some(c) = Cidr::parse_any(&e.cidr) {
                add(&c);
            }
        }
    }
    blocks.sort_unstable();
    let top: u128 = if v6 { u128::MAX } else { u32::MAX.into() };
    let mut candidate: u128 = 0;
    let to_ip = |n: u128| -> IpAddr {
        if v6 {
            IpAddr::V6(Ipv6Addr::from(n))
        } else {
            IpAddr::V4(Ipv4Addr::from(u32::try_from(n).unwrap_or(u32::MAX)))
        }
    };
    loop {
        let mut moved = false;
        for &(a, b) in &blocks {
            if a <= candidate && candidate <= b {
                if b == top {
                    return None;
                }
                candidate = b + 1;
                moved = true;
            }
        }
        while taken.contains(&to_ip(candidate)) {
            if candidate == top {
                return None;
            }
            candidate += 1;
            moved = true;
        }
        if !moved {
            return Some(to_ip(candidate));
        }
    }
}

fn exposures(
    network: &Network,
    rules: &[&Rule],
    lists: &[secgroup_domain::PrefixList],
) -> Vec<Exposure> {
    let snapshot = network.snapshot();
    let taken: HashSet<IpAddr> = network
        .instances()
        .iter()
        .filter_map(|i| i.private_ip.parse().ok())
        .collect();
    let ingress: Vec<&Rule> = rules
        .iter()
        .copied()
        .filter(|r| r.spec.direction == Direction::Ingress)
        .collect();
    let mut groups_with_local: HashSet<&str> = HashSet::new();
    let mut rules_of: HashMap<&str, Vec<&Rule>> = HashMap::new();
    for r in &ingress {
        rules_of
            .entry(r.security_group_id.as_str())
            .or_default()
            .push(r);
        if r.spec.local_cidr.is_some() {
            groups_with_local.insert(r.security_group_id.as_str());
        }
    }
    let mut out = Vec::new();
    for (v6, from) in [(false, "0.0.0.0/0"), (true, "::/0")] {
        let Some(source) = internet_address(v6, rules, lists, &taken) else {
            continue;
        };
        // Instances with the same groups (and, under quintuple rules, the same address)
        // get the same answers: computed once per class.
        let mut classes: HashMap<(Vec<String>, String), Vec<ExposedRange>> = HashMap::new();
        for (index, instance) in network.instances().iter().enumerate() {
            let mut key_groups = instance.security_group_ids.clone();
            key_groups.sort();
            let local = if key_groups
                .iter()
                .any(|g| groups_with_local.contains(g.as_str()))
            {
                instance.private_ip.clone()
            } else {
                String::new()
            };
            let key = (key_groups, local);
            if !classes.contains_key(&key) {
                let class_rules: Vec<&Rule> = instance
                    .security_group_ids
                    .iter()
                    .flat_map(|g| rules_of.get(g.as_str()).into_iter().flatten().copied())
                    .collect();
                let ranges = exposed_ranges(snapshot, &instance.id, source, &class_rules, v6);
                classes.insert(key.clone(), ranges);
            }
            let status = status_name(network.status(index, chrono::Utc::now()));
            for (protocol, range, accepted_by) in classes.get(&key).into_iter().flatten() {
                let sensitive = sensitive_in(range);
                out.push(Exposure {
                    instance_id: instance.id.clone(),
                    instance_name: instance.name.clone(),
                    status,
                    private_ip: instance.private_ip.clone(),
                    from,
                    protocol,
                    port_range: range.clone(),
                    sensitive_ports: sensitive,
                    accepted_by: accepted_by.clone(),
                });
            }
        }
    }
    out.sort_by_key(|e| {
        let first = e
            .sensitive_ports
            .first()
            .and_then(|p| SENSITIVE_PORTS.iter().position(|s| s == p))
            .unwrap_or(SENSITIVE_PORTS.len());
        (
            first,
            e.instance_id.clone(),
            e.from,
            e.protocol,
            e.port_range.clone(),
        )
    });
    out
}

/// A protocol, a port range (`-1/-1` without ports) and the rules that accept it.
type ExposedRange = (&'static str, String, Vec<String>);

fn sensitive_in(range: &str) -> Vec<u16> {
    let Some((a, b)) = range.split_once('/') else {
        return Vec::new();
    };
    let (Ok(a), Ok(b)) = (a.parse::<i32>(), b.parse::<i32>()) else {
        return Vec::new();
    };
    // `-1/-1`: a protocol without ports (ICMP, GRE); TCP and UDP ranges are real.
    if a < 0 {
        return Vec::new();
    }
    SENSITIVE_PORTS
        .iter()
        .copied()
        .filter(|&p| (a..=b).contains(&i32::from(p)))
        .collect()
}

/// The ranges one instance accepts from `source`: per protocol, the port ranges where the
/// engine allows, merged; the rules that accepted.
fn exposed_ranges(
    snapshot: &secgroup_reach::Snapshot,
    instance_id: &str,
    source: IpAddr,
    rules: &[&Rule],
    v6: bool,
) -> Vec<ExposedRange> {
    let mut out = Vec::new();
    let icmp = if v6 {
        IpProtocol::Icmpv6
    } else {
        IpProtocol::Icmp
    };
    for protocol in [IpProtocol::Tcp, IpProtocol::Udp, icmp, IpProtocol::Gre] {
        let ask = |port: Option<u16>| -> Option<Vec<String>> {
            let flow = Flow {
                source: Endpoint::Outside(source),
                destination: Endpoint::Nic(instance_id.to_string()),
                protocol,
                port,
                source_port: None,
            };
            let verdict = snapshot.evaluate(&flow).ok()?;
            if !verdict.allowed {
                return None;
            }
            let by: Vec<String> = verdict
                .ingress
                .iter()
                .flat_map(|o| o.steps.iter())
                .filter_map(|s| match s {
                    Step::Rule { rule_id, .. } => Some(rule_id.clone()),
                    _ => None,
                })
                .collect();
            Some(by)
        };
        if !protocol.has_ports() {
            if let Some(by) = ask(None) {
                out.push((protocol.as_str(), "-1/-1".to_string(), by));
            }
            continue;
        }
        // Where the answer can change: the ends of every real port range that applies.
        let mut starts: Vec<u32> = vec![1];
        for r in rules {
            if (r.spec.protocol == protocol || r.spec.protocol == IpProtocol::All)
                && !r.spec.port_range.is_any()
            {
                starts.push(u32::try_from(r.spec.port_range.from).unwrap_or(1));
                starts.push(u32::try_from(r.spec.port_range.to).unwrap_or(65535) + 1);
            }
        }
        starts.retain(|&s| (1..=65535).contains(&s));
        starts.sort_unstable();
        starts.dedup();
        let mut open: Option<(u32, u32, Vec<String>)> = None;
        for (n, &start) in starts.iter().enumerate() {
            let end = starts.get(n + 1).map_or(65535, |next| next - 1);
            let answer = u16::try_from(start).ok().and_then(|p| ask(Some(p)));
            match (answer, open.take()) {
                (Some(by), Some((a, _, mut all))) => {
                    for b in by {
                        if !all.contains(&b) {
                            all.push(b);
                        }
                    }
                    open = Some((a, end, all));
                }
                (Some(by), None) => open = Some((start, end, by)),
                (None, Some((a, b, all))) => out.push((protocol.as_str(), format!("{a}/{b}"), all)),
                (None, None) => {}
            }
        }
        if let Some((a, b, all)) = open {
            let range = if a == 1 && b == 65535 {
                "1/65535".to_string()
            } else {
                format!("{a}/{b}")
            };
            out.push((protocol.as_str(), range, all));
        }
    }
    out
}

fn hygiene(
    image: &AccountImage,
    region: &str,
    groups: &[&secgroup_domain::SecurityGroup],
    rules: &[&Rule],
    lists: &[secgroup_domain::PrefixList],
    limits: &Limits,
    account_id: &str,
) -> Hygiene {
    let mut members: HashMap<&str, u64> = HashMap::new();
    for i in image.instances.iter().filter(|i| i.region_id == region) {
        for g in &i.security_group_ids {
            *members.entry(g.as_str()).or_default() += 1;
        }
    }
    let ids: HashSet<&str> = groups.iter().map(|g| g.id.as_str()).collect();
    let list_sizes: HashMap<&str, usize> = lists
        .iter()
        .map(|l| (l.id.as_str(), l.entries.len()))
        .collect();
    let mut h = Hygiene {
        groups_without_members: groups
            .iter()
            .filter(|g| !members.contains_key(g.id.as_str()))
            .map(|g| g.id.clone())
            .collect(),
        rules_naming_deleted_groups: Vec::new(),
        rules_naming_empty_prefix_lists: Vec::new(),
        near_quota: Vec::new(),
        other_account_references: Vec::new(),
    };
    for r in rules {
        let reference = |names: &str| RuleRef {
            security_group_id: r.security_group_id.clone(),
            rule_id: r.id.clone(),
            names: names.to_string(),
        };
        match &r.spec.peer {
            Peer::Group {
                group_id,
                owner_account,
            } if !owner_account.is_empty() && owner_account != account_id => {
                h.other_account_references
                    .push(reference(&format!("{owner_account}/{group_id}")));
            }
            Peer::Group { group_id, .. } if !ids.contains(group_id.as_str()) => {
                h.rules_naming_deleted_groups.push(reference(group_id));
            }
            Peer::PrefixList(id) if list_sizes.get(id.as_str()).copied().unwrap_or(0) == 0 => {
                h.rules_naming_empty_prefix_lists.push(reference(id));
            }
            _ => {}
        }
    }
    let near = |used: u64, limit: u64| limit > 0 && used as f64 >= NEAR_QUOTA * limit as f64;
    let mut quota = |resource: &str, what, used: u64, limit: u64| {
        if near(used, limit) {
            h.near_quota.push(Quota {
                resource: resource.to_string(),
                what,
                used,
                limit,
            });
        }
    };
    quota(
        region,
        "security_groups",
        groups.len() as u64,
        limits.security_groups_per_region,
    );
    for g in groups {
        let own: Vec<&&Rule> = rules
            .iter()
            .filter(|r| r.security_group_id == g.id)
            .collect();
        let group_rules = own
            .iter()
            .filter(|r| matches!(r.spec.peer, Peer::Group { .. }))
            .count();
        quota(
            &g.id,
            "rules",
            own.len() as u64,
            limits.rules_per_group as u64,
        );
        quota(
            &g.id,
            "group_rules",
            group_rules as u64,
            limits.group_rules_per_group as u64,
        );
        let member_limit = match g.group_type {
            SecurityGroupType::Normal => limits.instances_per_group,
            SecurityGroupType::Enterprise => limits.instances_per_enterprise_group,
        };
        quota(
            &g.id,
            "members",
            members.get(g.id.as_str()).copied().unwrap_or(0),
            member_limit,
        );
    }
    for l in lists {
        quota(
            &l.id,
            "prefix_list_entries",
            l.entries.len() as u64,
            u64::from(l.max_entries),
        );
    }
    h
}

/// Who reaches whom among the region's first instances, on any probe.
fn matrix_picture(network: &Network, region: &str) -> MatrixPicture {
    let now = chrono::Utc::now();
    let all = network.instances();
    let shown: Vec<usize> = (0..all.len().min(MATRIX_INSTANCES)).collect();
    let ids: Vec<&str> = shown.iter().map(|&n| all[n].id.as_str()).collect();
    let running: Vec<bool> = shown
        .iter()
        .map(|&n| network.status(n, now) == InstanceStatus::Running)
        .collect();
    let n = ids.len();
    let mut allowed = vec![vec![false; n]; n];
    for (protocol, port) in PROBES {
        if let Ok(m) = network.snapshot().matrix(&ids, &ids, protocol, port) {
            for s in 0..n {
                for d in 0..n {
                    if running[s] && running[d] && m.allowed(s, d) {
                        allowed[s][d] = true;
                    }
                }
            }
        }
    }
    let allowed_count = allowed.iter().flatten().filter(|&&a| a).count() as u64;
    let probes: Vec<String> = PROBES
        .iter()
        .map(|(p, port)| probe_name(*p, *port))
        .collect();
    MatrixPicture {
        title: format!("{region}: reachable on any of {}", probes.join(", ")),
        instances: shown
            .iter()
            .map(|&k| {
                (
                    all[k].id.clone(),
                    all[k].name.clone(),
                    status_name(network.status(k, now)),
                )
            })
            .collect(),
        allowed,
        allowed_count,
        omitted: all.len() - n,
    }
}

/// Reachability between instances per probe, and from the Internet, as a set of facts
/// `--diff` compares: `"i-a -> i-b TCP/22"`, `"0.0.0.0/0 -> i-b TCP/20/30"`.
pub async fn reachability_facts<S: Store>(
    store: Arc<S>,
    account_id: &AccountId,
    image: Arc<AccountImage>,
) -> Result<BTreeMap<String, Vec<String>>, ReviewError> {
    let reach = Reachability::new(store, InstanceTimings::default());
    let mut out = BTreeMap::new();
    for region in regions_of(&image) {
        let image = image.clone();
        let r = region.clone();
        let facts = reach
            .ask(account_id, &region, move |network, now| {
                let mut facts = Vec::new();
                let all = network.instances();
                let mut by_vpc: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
                for (n, i) in all.iter().enumerate() {
                    by_vpc.entry(i.vpc_id.as_str()).or_default().push(n);
                }
                for members in by_vpc.values() {
                    let ids: Vec<&str> = members.iter().map(|&n| all[n].id.as_str()).collect();
                    let running: Vec<bool> = members
                        .iter()
                        .map(|&n| network.status(n, now) == InstanceStatus::Running)
                        .collect();
                    for (protocol, port) in PROBES {
                        let Ok(m) = network.snapshot().matrix(&ids, &ids, protocol, port) else {
                            continue;
                        };
                        let probe = probe_name(protocol, port);
                        for s in 0..ids.len() {
                            for d in 0..ids.len() {
                                if s != d && running[s] && running[d] && m.allowed(s, d) {
                                    facts.push(format!("{} -> {} {probe}", ids[s], ids[d]));
                                }
                            }
                        }
                    }
                }
                let groups: HashSet<&str> = image
                    .groups
                    .iter()
                    .filter(|g| g.region_id == r)
                    .map(|g| g.id.as_str())
                    .collect();
                let rules: Vec<&Rule> = image
                    .rules
                    .iter()
                    .filter(|x| groups.contains(x.security_group_id.as_str()))
                    .collect();
                let lists: Vec<secgroup_domain::PrefixList> = image
                    .prefix_lists
                    .iter()
                    .filter(|p| p.region_id == r)
                    .cloned()
                    .collect();
                for e in exposures(network, &rules, &lists) {
                    facts.push(format!(
                        "{} -> {} {}/{}",
                        e.from, e.instance_id, e.protocol, e.port_range
                    ));
                }
                facts.sort();
                facts
            })
            .await?;
        out.insert(region, facts);
    }
    Ok(out)
}
