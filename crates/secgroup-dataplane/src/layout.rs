//! How a chain is rendered: runs of plain CIDR rules become one lookup in a verdict map, so
//! that a new flow costs one lookup per run instead of one rule per permission (issue 16:
//! "sets and maps, not linear rule lists").
//!
//! A rule is plain when it matches only a peer block (or just the family, for a `/0`), a
//! protocol and destination and source port ranges, and its verdict is a direction's
//! `return` or `drop`. Group and prefix-list peers (named sets), a local CIDR, inner access
//! and the default are not: each stays a rule of its own and ends the run. Within a run the
//! first rule that matches decides (docs/semantics.md §3.4: smallest priority number, Drop
//! first at equal priority); the map holds the run's rules as disjoint boxes, each part of a
//! rule's box that no earlier rule of the run covers with that rule's verdict, so one
//! lookup answers exactly what the rules in order would. Boxes are disjoint across a run's
//! maps too, so their order does not matter.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use crate::model::{
    IpFamily, MapElement, MapVerdict, Match, NftChain, NftMap, NftRule, RuleVerdict, Side, Step, L4,
};
use crate::topology::{from_u128, to_u128};

/// Shorter runs stay rules: a lookup buys nothing over one or two rules, and small chains
/// stay easy to read in `nft list ruleset`.
const MIN_RUN: usize = 2;
/// A run whose rules overlap so much that their disjoint parts outnumber this many per rule
/// (plus a margin) stays rules: the map would be larger than the rules it replaces.
const MAX_PARTS_PER_RULE: usize = 8;
const PARTS_MARGIN: usize = 64;

/// Dimensions of a box: peer address, protocol, destination port, source port. Protocol
/// comes before the ports, so a box split along a port is already cut to one protocol.
type Bounds = [(u128, u128); 4];
const PEER: usize = 0;
const PROTOCOL: usize = 1;
const DPORT: usize = 2;
const SPORT: usize = 3;
const ANY_PORT: (u128, u128) = (0, 65535);

/// Layouts of the chains of the last plans, so that an agent's pass does not cut the
/// same runs into boxes again when their rules did not change (the cutting is quadratic in
/// a run's rules). Entries not used by a plan are dropped by the plan after it.
#[derive(Debug, Default)]
pub struct LayoutCache {
    current: HashMap<u64, Vec<Laid>>,
    previous: HashMap<u64, Vec<Laid>>,
}

#[derive(Debug, Clone)]
struct Laid {
    name: String,
    peer: Side,
    rules: Vec<NftRule>,
    steps: Vec<Step>,
    map_digest: String,
    maps: Vec<(String, NftMap)>,
}

impl LayoutCache {
    /// Called after each plan: what this plan did not use goes.
    pub(crate) fn end_plan(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }

    /// `lay_out`, from the cache when the same chain had the same rules.
    pub(crate) fn lay_out(
        &mut self,
        chain_name: &str,
        chain: &mut NftChain,
        peer: Side,
        maps: &mut BTreeMap<String, NftMap>,
    ) {
        let mut hasher = DefaultHasher::new();
        (chain_name, peer, &chain.rules).hash(&mut hasher);
        let key = hasher.finish();
        let same = |l: &Laid, rules: &[NftRule]| {
            l.name == chain_name && l.peer == peer && l.rules == rules
        };
        if let Some(laid) = self
            .current
            .get(&key)
            .and_then(|v| v.iter().find(|l| same(l, &chain.rules)))
        {
            // The same chain twice in one plan (not expected: chains are per group set).
            chain.steps = laid.steps.clone();
            chain.map_digest = laid.map_digest.clone();
            maps.extend(laid.maps.iter().cloned());
            return;
        }
        let earlier = self.previous.get_mut(&key).and_then(|v| {
            let i = v.iter().position(|l| same(l, &chain.rules))?;
            Some(v.swap_remove(i))
        });
        let laid = match earlier {
            Some(laid) => {
                chain.steps = laid.steps.clone();
                chain.map_digest = laid.map_digest.clone();
                laid
            }
            None => {
                let mut own = BTreeMap::new();
                lay_out(chain_name, chain, peer, &mut own);
                Laid {
                    name: chain_name.to_string(),
                    peer,
                    rules: chain.rules.clone(),
                    steps: chain.steps.clone(),
                    map_digest: chain.map_digest.clone(),
                    maps: own.into_iter().collect(),
                }
            }
        };
        maps.extend(laid.maps.iter().cloned());
        self.current.entry(key).or_default().push(laid);
    }
}

/// Fills `chain.steps` and adds the maps it looks up (named after `chain_name`) to `maps`.
/// `peer` is the side of the packet that is the peer's address in this chain's direction.
pub(crate) fn lay_out(
    chain_name: &str,
    chain: &mut NftChain,
    peer: Side,
    maps: &mut BTreeMap<String, NftMap>,
) {
    let mut steps = Vec::new();
    let mut run: Vec<(usize, Vec<Bounds>, IpFamily, MapVerdict)> = Vec::new();
    let mut runs = 0usize;
    let mut end_run = |run: &mut Vec<(usize, Vec<Bounds>, IpFamily, MapVerdict)>,
                       steps: &mut Vec<Step>,
                       maps: &mut BTreeMap<String, NftMap>| {
        if run.is_empty() {
            return;
        }
        let laid = (run.len() >= MIN_RUN)
            .then(|| run_maps(chain_name, runs, peer, run))
            .flatten();
        match laid {
            Some(new) => {
                runs += 1;
                for (name, map) in new {
                    steps.push(Step::Lookup {
                        map: name.clone(),
                        rules: run.len(),
                    });
                    maps.insert(name, map);
                }
            }
            None => steps.extend(run.iter().map(|(i, ..)| Step::Rule(*i))),
        }
        run.clear();
    };
    for (i, rule) in chain.rules.iter().enumerate() {
        match plain(rule, peer) {
            Some((boxes, family, verdict)) => {
                // One run holds one family's rules and the other's: a packet is of one
                // family, so the two families' maps never both match it.
                run.push((i, boxes, family, verdict));
            }
            None => {
                end_run(&mut run, &mut steps, maps);
                steps.push(Step::Rule(i));
            }
        }
    }
    end_run(&mut run, &mut steps, maps);
    let mut digest = String::new();
    for step in &steps {
        if let Step::Lookup { map, .. } = step {
            if let Some(m) = maps.get(map) {
                digest.push_str(map);
                digest.push_str(&serde_json::to_string(&m.elements).unwrap_or_default());
            }
        }
    }
    chain.map_digest = if digest.is_empty() {
        digest
    } else {
        crate::names::short_hash(&digest, 16)
    };
    chain.steps = steps;
}

/// The maps of one run, or `None` when it is better left as rules.
fn run_maps(
    chain_name: &str,
    index: usize,
    peer: Side,
    run: &[(usize, Vec<Bounds>, IpFamily, MapVerdict)],
) -> Option<Vec<(String, NftMap)>> {
    let limit = run.len() * MAX_PARTS_PER_RULE + PARTS_MARGIN;
    let mut out = Vec::new();
    for family in [IpFamily::V4, IpFamily::V6] {
        let mut placed: Vec<(Bounds, MapVerdict)> = Vec::new();
        for (_, boxes, _, verdict) in run.iter().filter(|r| r.2 == family) {
            for b in boxes {
                let mut parts = vec![*b];
                for (earlier, _) in &placed {
                    // Most boxes meet no earlier one: no allocation for those.
                    if !parts.iter().any(|p| meets(p, earlier)) {
                        continue;
                    }
                    let mut rest = Vec::with_capacity(parts.len() + 2);
                    for p in parts {
                        subtract(p, earlier, &mut rest);
                    }
                    parts = rest;
                    if parts.is_empty() {
                        break;
                    }
                }
                placed.extend(parts.into_iter().map(|p| (p, *verdict)));
                if placed.len() > limit {
                    return None;
                }
            }
        }
        let mut ported = NftMap {
            chain: chain_name.to_string(),
            family,
            side: peer,
            ported: true,
            elements: Default::default(),
        };
        let mut unported = NftMap {
            ported: false,
            ..ported.clone()
        };
        let v6 = family == IpFamily::V6;
        for (b, verdict) in placed {
            let any_ports = b[DPORT] == ANY_PORT && b[SPORT] == ANY_PORT;
            let element = MapElement {
                peer: (from_u128(b[PEER].0, v6), from_u128(b[PEER].1, v6)),
                protocol: (narrow(b[PROTOCOL].0)?, narrow(b[PROTOCOL].1)?),
                dport: (narrow(b[DPORT].0)?, narrow(b[DPORT].1)?),
                sport: (narrow(b[SPORT].0)?, narrow(b[SPORT].1)?),
                verdict,
            };
            if any_ports {
                unported.elements.insert(element);
            } else {
                // Only TCP and UDP carry ports (`th` reads them); a part cut along a port
                // is cut to one protocol first, so this always holds. Were it not to, the
                // run stays rules rather than be looked up wrongly.
                let single = b[PROTOCOL].0 == b[PROTOCOL].1;
                let tcp_or_udp = [L4::Tcp, L4::Udp]
                    .iter()
                    .any(|l| protocol_number(*l) == b[PROTOCOL].0);
                if !(single && tcp_or_udp) {
                    return None;
                }
                ported.elements.insert(element);
            }
        }
        let tag = if v6 { "6" } else { "4" };
        for (map, kind) in [(ported, "p"), (unported, "u")] {
            if !map.elements.is_empty() {
                out.push((format!("{chain_name}-{index}-{tag}{kind}"), map));
            }
        }
    }
    Some(out)
}

fn narrow<T: TryFrom<u128>>(value: u128) -> Option<T> {
    T::try_from(value).ok()
}

fn meets(b: &Bounds, a: &Bounds) -> bool {
    (0..4).all(|d| b[d].0 <= a[d].1 && a[d].0 <= b[d].1)
}

/// The parts of `b` outside `a`, pushed onto `out` (disjoint, and disjoint from `a`).
fn subtract(b: Bounds, a: &Bounds, out: &mut Vec<Bounds>) {
    if !meets(&b, a) {
        out.push(b);
        return;
    }
    let mut rest = b;
    for d in 0..4 {
        if rest[d].0 < a[d].0 {
            let mut part = rest;
            part[d] = (rest[d].0, a[d].0 - 1);
            out.push(part);
            rest[d].0 = a[d].0;
        }
        if rest[d].1 > a[d].1 {
            let mut part = rest;
            part[d] = (a[d].1 + 1, rest[d].1);
            out.push(part);
            rest[d].1 = a[d].1;
        }
    }
    // What is left lies inside `a`: an earlier rule decides it.
}

pub(crate) fn protocol_number(l4: L4) -> u128 {
    match l4 {
        L4::Icmp => 1,
        L4::Tcp => 6,
        L4::Udp => 17,
        L4::Gre => 47,
        L4::Icmpv6 => 58,
    }
}

/// The boxes of a plain rule (two for an `ALL` rule with ports: TCP and UDP), its family
/// and its verdict; `None` when the rule is not plain.
fn plain(rule: &NftRule, peer: Side) -> Option<(Vec<Bounds>, IpFamily, MapVerdict)> {
    let verdict = match rule.verdict {
        RuleVerdict::Return => MapVerdict::Return,
        RuleVerdict::Drop => MapVerdict::Drop,
        RuleVerdict::Accept => return None,
    };
    let mut address: Option<(IpFamily, (u128, u128))> = None;
    let mut protocols: Vec<(u128, u128)> = vec![(0, 255)];
    let mut dport = ANY_PORT;
    let mut sport = ANY_PORT;
    for m in &rule.matches {
        match m {
            Match::Family(f) if address.is_none() => {
                let top = match f {
                    IpFamily::V4 => u128::from(u32::MAX),
                    IpFamily::V6 => u128::MAX,
                };
                address = Some((*f, (0, top)));
            }
            Match::Address { side, net } if *side == peer && address.is_none() => {
                let net = net.trunc();
                let family = match net {
                    ipnet::IpNet::V4(_) => IpFamily::V4,
                    ipnet::IpNet::V6(_) => IpFamily::V6,
                };
                address = Some((family, (to_u128(net.network()), to_u128(net.broadcast()))));
            }
            Match::Protocol(l4) => {
                let n = protocol_number(*l4);
                protocols = vec![(n, n)];
            }
            Match::PortProtocols => {
                let (tcp, udp) = (protocol_number(L4::Tcp), protocol_number(L4::Udp));
                protocols = vec![(tcp, tcp), (udp, udp)];
            }
            Match::DestinationPorts(a, b) => dport = (u128::from(*a), u128::from(*b)),
            Match::SourcePorts(a, b) => sport = (u128::from(*a), u128::from(*b)),
            // A second address, a local CIDR or a set: not plain.
            Match::Family(_) | Match::Address { .. } | Match::InSet { .. } => return None,
        }
    }
    let (family, peer_range) = address?;
    let ported = dport != ANY_PORT || sport != ANY_PORT;
    let tcp_or_udp = |p: &(u128, u128)| {
        p.0 == p.1 && (p.0 == protocol_number(L4::Tcp) || p.0 == protocol_number(L4::Udp))
    };
    // Ports are only ever planned with TCP, UDP or both (topology::rule_matches).
    if ported && !protocols.iter().all(tcp_or_udp) {
        return None;
    }
    let boxes = protocols
        .into_iter()
        .map(|p| [peer_range, p, dport, sport])
        .collect();
    Some((boxes, family, verdict))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(matches: Vec<Match>, verdict: RuleVerdict, id: &str) -> NftRule {
        NftRule {
            matches,
            verdict,
            comment: id.into(),
        }
    }

    fn net(s: &str) -> Match {
        Match::Address {
            side: Side::Source,
            net: s.parse().expect("test net"),
        }
    }

    /// The first rule in order that matches, by brute force over the rules.
    fn first(
        rules: &[NftRule],
        addr: u32,
        proto: u8,
        dport: u16,
        sport: u16,
    ) -> Option<MapVerdict> {
        for r in rules {
            if let Some((boxes, family, verdict)) = plain(r, Side::Source) {
                if family != IpFamily::V4 {
                    continue;
                }
                let point = [
                    u128::from(addr),
                    u128::from(proto),
                    u128::from(dport),
                    u128::from(sport),
                ];
                if boxes
                    .iter()
                    .any(|b| (0..4).all(|d| b[d].0 <= point[d] && point[d] <= b[d].1))
                {
                    return Some(verdict);
                }
            }
        }
        None
    }

    fn lookup(
        maps: &BTreeMap<String, NftMap>,
        addr: u32,
        proto: u8,
        dport: u16,
        sport: u16,
    ) -> Option<MapVerdict> {
        let a = std::net::IpAddr::V4(addr.into());
        let mut found = Vec::new();
        for m in maps.values().filter(|m| m.family == IpFamily::V4) {
            for e in &m.elements {
                let ports = !m.ported
                    || (e.dport.0 <= dport
                        && dport <= e.dport.1
                        && e.sport.0 <= sport
                        && sport <= e.sport.1);
                if e.peer.0 <= a
                    && a <= e.peer.1
                    && e.protocol.0 <= proto
                    && proto <= e.protocol.1
                    && ports
                {
                    found.push(e.verdict);
                }
            }
        }
        assert!(found.len() <= 1, "boxes overlap: {found:?}");
        found.first().copied()
    }

    #[test]
    fn a_run_of_overlapping_rules_answers_as_the_rules_in_order() {
        let rules = vec![
            rule(
                vec![
                    Match::Protocol(L4::Tcp),
                    Match::DestinationPorts(22, 22),
                    net("10.0.0.5/32"),
                ],
                RuleVerdict::Drop,
                "a",
            ),
            rule(
                vec![
                    Match::Protocol(L4::Tcp),
                    Match::DestinationPorts(20, 80),
                    net("10.0.0.0/8"),
                ],
                RuleVerdict::Return,
                "b",
            ),
            rule(
                vec![
                    Match::PortProtocols,
                    Match::DestinationPorts(53, 53),
                    Match::SourcePorts(1000, 2000),
                    net("10.0.0.0/16"),
                ],
                RuleVerdict::Drop,
                "c",
            ),
            rule(vec![net("10.0.0.0/24")], RuleVerdict::Return, "d"),
            rule(
                vec![Match::Protocol(L4::Icmp), Match::Family(IpFamily::V4)],
                RuleVerdict::Drop,
                "e",
            ),
            rule(
                vec![Match::Protocol(L4::Udp), Match::Family(IpFamily::V4)],
                RuleVerdict::Return,
                "f",
            ),
        ];
        let mut chain = NftChain {
            rules: rules.clone(),
            steps: vec![],
            map_digest: String::new(),
        };
        let mut maps = BTreeMap::new();
        lay_out("in-x", &mut chain, Side::Source, &mut maps);
        assert!(
            chain.steps.iter().all(|s| matches!(s, Step::Lookup { .. })),
            "{:?}",
            chain.steps
        );
        let addrs = [
            0x0a00_0005u32,
            0x0a00_0006,
            0x0a00_0106,
            0x0a01_0001,
            0x0b00_0001,
        ];
        for addr in addrs {
            for proto in [1u8, 6, 17, 47] {
                for dport in [21u16, 22, 53, 80, 81] {
                    for sport in [999u16, 1000, 1500, 2001] {
                        assert_eq!(
                            lookup(&maps, addr, proto, dport, sport),
                            first(&rules, addr, proto, dport, sport),
                            "{addr:x} {proto} {dport} {sport}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn random_runs_answer_as_the_rules_in_order() {
        // A small linear congruential generator: seeded, so a failure names its seed.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        for seed in 0..200 {
            let mut rules = Vec::new();
            for r in 0..(2 + next(12)) {
                let len = [0u8, 8, 16, 24, 30, 32][next(6) as usize];
                let addr = 0x0a00_0000u32 | (next(4) as u32) << 8 | next(8) as u32;
                let mut matches = vec![if len == 0 {
                    Match::Family(IpFamily::V4)
                } else {
                    Match::Address {
                        side: Side::Source,
                        net: ipnet::IpNet::V4(
                            ipnet::Ipv4Net::new(addr.into(), len).expect("len").trunc(),
                        ),
                    }
                }];
                let ported = match next(5) {
                    0 => {
                        matches.push(Match::Protocol(L4::Icmp));
                        false
                    }
                    1 => false,
                    2 => {
                        matches.push(Match::PortProtocols);
                        true
                    }
                    3 => {
                        matches.push(Match::Protocol(L4::Udp));
                        true
                    }
                    _ => {
                        matches.push(Match::Protocol(L4::Tcp));
                        true
                    }
                };
                if ported {
                    let a = 20 + next(8) as u16;
                    matches.push(Match::DestinationPorts(a, a + next(4) as u16));
                    if next(3) == 0 {
                        let b = 1000 + next(3) as u16 * 500;
                        matches.push(Match::SourcePorts(b, b + 499));
                    }
                }
                let verdict = if next(2) == 0 {
                    RuleVerdict::Drop
                } else {
                    RuleVerdict::Return
                };
                rules.push(rule(matches, verdict, &format!("r{r}")));
            }
            let mut chain = NftChain {
                rules: rules.clone(),
                steps: vec![],
                map_digest: String::new(),
            };
            let mut maps = BTreeMap::new();
            lay_out("in-x", &mut chain, Side::Source, &mut maps);
            for addr in [
                0x0a00_0000u32,
                0x0a00_0003,
                0x0a00_0105,
                0x0a00_0207,
                0x0a00_03ff,
                0x0b00_0000,
            ] {
                for proto in [1u8, 6, 17, 47] {
                    for dport in [19u16, 20, 23, 27, 30, 31] {
                        for sport in [999u16, 1000, 1499, 1500, 2499, 2500] {
                            let want = first(&rules, addr, proto, dport, sport);
                            let got = if maps.is_empty() {
                                want
                            } else {
                                lookup(&maps, addr, proto, dport, sport)
                            };
                            assert_eq!(got, want, "seed {seed}: {addr:x} {proto} {dport} {sport}");
                        }
                    }
                }
            }
            assert!(
                !maps.is_empty() || chain.steps.iter().all(|s| matches!(s, Step::Rule(_))),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn the_cache_gives_what_a_fresh_layout_gives_and_forgets_unused_chains() {
        let tcp = |n: u32, verdict| {
            rule(
                vec![
                    Match::Protocol(L4::Tcp),
                    Match::DestinationPorts(22, 22),
                    net(&format!("10.0.0.{n}/32")),
                ],
                verdict,
                &format!("r{n}"),
            )
        };
        let fresh = |rules: &[NftRule]| {
            let mut chain = NftChain {
                rules: rules.to_vec(),
                steps: vec![],
                map_digest: String::new(),
            };
            let mut maps = BTreeMap::new();
            lay_out("in-x", &mut chain, Side::Source, &mut maps);
            (chain, maps)
        };
        let cached = |cache: &mut LayoutCache, rules: &[NftRule]| {
            let mut chain = NftChain {
                rules: rules.to_vec(),
                steps: vec![],
                map_digest: String::new(),
            };
            let mut maps = BTreeMap::new();
            cache.lay_out("in-x", &mut chain, Side::Source, &mut maps);
            cache.end_plan();
            (chain, maps)
        };
        let mut cache = LayoutCache::default();
        let first = vec![tcp(1, RuleVerdict::Return), tcp(2, RuleVerdict::Return)];
        assert_eq!(cached(&mut cache, &first), fresh(&first));
        assert_eq!(cached(&mut cache, &first), fresh(&first), "from the cache");
        let second = vec![
            tcp(1, RuleVerdict::Drop),
            tcp(2, RuleVerdict::Return),
            tcp(3, RuleVerdict::Return),
        ];
        let (chain, maps) = cached(&mut cache, &second);
        assert_eq!((&chain, &maps), (&fresh(&second).0, &fresh(&second).1));
        assert_ne!(chain.map_digest, fresh(&first).0.map_digest);
        assert_eq!(
            cache.previous.len(),
            1,
            "only what the last plan used is kept"
        );
    }

    #[test]
    fn sets_local_cidrs_and_the_default_end_a_run() {
        let rules = vec![
            rule(
                vec![Match::Protocol(L4::Tcp), net("10.0.0.1/32")],
                RuleVerdict::Return,
                "a",
            ),
            rule(
                vec![Match::Protocol(L4::Tcp), net("10.0.0.2/32")],
                RuleVerdict::Return,
                "b",
            ),
            rule(
                vec![Match::InSet {
                    side: Side::Source,
                    family: IpFamily::V4,
                    set: "g-sg".into(),
                }],
                RuleVerdict::Return,
                "g",
            ),
            rule(
                vec![Match::Protocol(L4::Tcp), net("10.0.0.3/32")],
                RuleVerdict::Return,
                "c",
            ),
            rule(
                vec![
                    Match::Protocol(L4::Tcp),
                    net("10.0.0.4/32"),
                    Match::Address {
                        side: Side::Destination,
                        net: "10.1.0.0/16".parse().expect("net"),
                    },
                ],
                RuleVerdict::Return,
                "l",
            ),
            rule(vec![], RuleVerdict::Drop, "default"),
        ];
        let mut chain = NftChain {
            rules,
            steps: vec![],
            map_digest: String::new(),
        };
        let mut maps = BTreeMap::new();
        lay_out("in-x", &mut chain, Side::Source, &mut maps);
        assert_eq!(
            chain.steps,
            vec![
                Step::Lookup {
                    map: "in-x-0-4u".into(),
                    rules: 2
                },
                Step::Rule(2),
                Step::Rule(3),
                Step::Rule(4),
                Step::Rule(5),
            ]
        );
        assert_eq!(maps.len(), 1);
    }
}
