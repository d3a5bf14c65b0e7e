//! One direction of the all-pairs matrix, decided per class instead of per pair.
//!
//! Rules are first reduced to the (protocol, port) asked, then grouped into buckets: the
//! rules of one group, or of one group with one quintuple local block (a NIC takes such a
//! bucket only when its own address is inside the block). A bucket's answer for a peer is
//! the best matching rule encoded as one byte (see [`encode`]), computed once per distinct
//! peer address for address rules (CIDR, prefix list) and once per peer group for group
//! rules. NICs with the same buckets and group type form a *side class*; peers with the same
//! per-bucket address answers and the same groups form a *peer class*; the direction's
//! answer is then a function of (side class, peer class) only.

use std::collections::HashMap;
use std::net::IpAddr;

use secgroup_domain::rules::{Direction, RulePolicy};
use secgroup_domain::SecurityGroupType;

use crate::evaluate::default_allows;
use crate::snapshot::{direction_slot, AddressBlock, CompiledRule, PeerMatch, Snapshot};

/// No rule of a bucket matches.
pub(crate) const NO_MATCH: u8 = u8::MAX;

/// A matching rule as one byte whose minimum is the winner: the smaller priority number
/// first, and at equal priority `Drop` (even) before `Accept` (odd). Priorities are 1..=100;
/// clamping keeps any out-of-range value clear of [`NO_MATCH`].
fn encode(rule: &CompiledRule) -> u8 {
    rule.priority.min(126) * 2 + u8::from(rule.policy == RulePolicy::Accept)
}

#[derive(Default)]
struct Bucket {
    address_rules: Vec<(Vec<AddressBlock>, u8)>,
    /// Best code per peer group, sorted by group.
    by_peer_group: Vec<(u32, u8)>,
}

/// Interns values into dense ids.
pub(crate) struct Classes<K> {
    ids: HashMap<K, u32>,
    pub(crate) keys: Vec<K>,
}

impl<K: std::hash::Hash + Eq + Clone> Classes<K> {
    pub(crate) fn new() -> Self {
        Classes {
            ids: HashMap::new(),
            keys: Vec::new(),
        }
    }
    pub(crate) fn id(&mut self, key: K) -> u32 {
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let id = u32::try_from(self.keys.len()).unwrap_or(u32::MAX);
        self.ids.insert(key.clone(), id);
        self.keys.push(key);
        id
    }
}

/// One direction's tables for the NICs on its side and the peers on the other.
pub(crate) struct DirectionTable {
    direction: Direction,
    buckets: Vec<Bucket>,
    /// Per side class: its buckets, and whether its NICs are in advanced groups (the type
    /// decides the default).
    side_classes: Classes<(Vec<u32>, bool)>,
    /// Per peer class: (address signature id, peer group set).
    peer_classes: Classes<(u32, Vec<u32>)>,
    /// Row per address signature: the code of every bucket for that address.
    signatures: Vec<Vec<u8>>,
    /// Side class of each NIC of the side, in the order given.
    pub(crate) side_class_of: Vec<u32>,
    /// Peer class of each peer NIC, in the order given.
    pub(crate) peer_class_of: Vec<u32>,
}

impl DirectionTable {
    /// `side`: NICs whose rules of `direction` are consulted; `peers`: the other ends.
    pub(crate) fn build(
        snapshot: &Snapshot,
        direction: Direction,
        relevant: &[bool],
        side: &[u32],
        peers: &[u32],
    ) -> DirectionTable {
        let slot = direction_slot(direction);
        let mut bucket_ids: Classes<(u32, Option<AddressBlock>)> = Classes::new();
        let mut buckets: Vec<Bucket> = Vec::new();
        let mut group_best: Vec<HashMap<u32, u8>> = Vec::new();
        for (g, lists) in snapshot.rules_by_group.iter().enumerate() {
            for &r in &lists[slot] {
                if !relevant[r as usize] {
                    continue;
                }
                let rule = &snapshot.rules[r as usize];
                let b = bucket_ids.id((g as u32, rule.local)) as usize;
                if b == buckets.len() {
                    buckets.push(Bucket::default());
                    group_best.push(HashMap::new());
                }
                let code = encode(rule);
                match &rule.peer {
                    PeerMatch::Addresses(blocks) => {
                        buckets[b].address_rules.push((blocks.clone(), code));
                    }
                    PeerMatch::Group(h) => {
                        let best = group_best[b].entry(*h).or_insert(NO_MATCH);
                        *best = (*best).min(code);
                    }
                }
            }
        }
        for (bucket, best) in buckets.iter_mut().zip(group_best) {
            bucket.by_peer_group = best.into_iter().collect();
            bucket.by_peer_group.sort_unstable();
        }
        // Buckets each group's NICs take: always the plain one, quintuple ones by address.
        let mut buckets_of_group: HashMap<u32, Vec<(u32, Option<AddressBlock>)>> = HashMap::new();
        for (b, &(g, local)) in bucket_ids.keys.iter().enumerate() {
            buckets_of_group
                .entry(g)
                .or_default()
                .push((b as u32, local));
        }

        let mut side_classes = Classes::new();
        let side_class_of = side
            .iter()
            .map(|&n| {
                let nic = &snapshot.nics[n as usize];
                let mut taken: Vec<u32> = nic
                    .groups
                    .iter()
                    .filter_map(|g| buckets_of_group.get(g))
                    .flatten()
                    .filter(|(_, local)| {
                        local.is_none_or(|block| nic.address.is_some_and(|a| block.contains(a)))
                    })
                    .map(|&(b, _)| b)
                    .collect();
                taken.sort_unstable();
                side_classes.id((taken, nic.group_type == SecurityGroupType::Enterprise))
            })
            .collect();

        let (signatures, signature_of_peer) = address_signatures(snapshot, &buckets, peers);
        let mut peer_classes = Classes::new();
        let peer_class_of = peers
            .iter()
            .zip(signature_of_peer)
            .map(|(&n, signature)| {
                peer_classes.id((signature, snapshot.nics[n as usize].groups.clone()))
            })
            .collect();
        DirectionTable {
            direction,
            buckets,
            side_classes,
            peer_classes,
            signatures,
            side_class_of,
            peer_class_of,
        }
    }

    /// Every (side class, peer class) answer, decided once each: there are never more of
    /// them than (source kind, destination kind) pairs, which then only look them up.
    pub(crate) fn decide_all(&self) -> DecidedClasses {
        let peers = self.peer_classes.keys.len();
        let mut bits = vec![0u64; (self.side_classes.keys.len() * peers).div_ceil(64)];
        for side in 0..self.side_classes.keys.len() {
            for peer in 0..peers {
                if self.allows(side as u32, peer as u32) {
                    let bit = side * peers + peer;
                    bits[bit / 64] |= 1 << (bit % 64);
                }
            }
        }
        DecidedClasses { peers, bits }
    }

    /// Whether NICs of `side_class` let traffic to or from peers of `peer_class` through.
    fn allows(&self, side_class: u32, peer_class: u32) -> bool {
        let (buckets, enterprise) = &self.side_classes.keys[side_class as usize];
        let (signature, peer_groups) = &self.peer_classes.keys[peer_class as usize];
        let by_address = &self.signatures[*signature as usize];
        let mut best = NO_MATCH;
        for &b in buckets {
            best = best.min(by_address[b as usize]);
            let by_group = &self.buckets[b as usize].by_peer_group;
            for g in peer_groups {
                if let Ok(i) = by_group.binary_search_by_key(g, |&(h, _)| h) {
                    best = best.min(by_group[i].1);
                }
            }
        }
        if best == NO_MATCH {
            let group_type = if *enterprise {
                SecurityGroupType::Enterprise
            } else {
                SecurityGroupType::Normal
            };
            default_allows(self.direction, group_type)
        } else {
            best % 2 == 1
        }
    }
}

/// One direction's answer per (side class, peer class), one bit each.
pub(crate) struct DecidedClasses {
    peers: usize,
    bits: Vec<u64>,
}

impl DecidedClasses {
    pub(crate) fn allows(&self, side_class: u32, peer_class: u32) -> bool {
        let bit = side_class as usize * self.peers + peer_class as usize;
        self.bits
            .get(bit / 64)
            .is_some_and(|word| word >> (bit % 64) & 1 == 1)
    }
}

/// For every peer, the id of its row of per-bucket address answers; rows are shared by
/// peers whose addresses every address rule treats alike. Each rule block is applied once,
/// to the range of sorted distinct peer addresses it covers.
fn address_signatures(
    snapshot: &Snapshot,
    buckets: &[Bucket],
    peers: &[u32],
) -> (Vec<Vec<u8>>, Vec<u32>) {
    let mut addresses: Vec<IpAddr> = peers
        .iter()
        .filter_map(|&n| snapshot.nics[n as usize].address)
        .collect();
    addresses.sort_unstable();
    addresses.dedup();
    let width = buckets.len();
    let mut codes = vec![NO_MATCH; addresses.len() * width];
    for (b, bucket) in buckets.iter().enumerate() {
        for (blocks, code) in &bucket.address_rules {
            for block in blocks {
                let start = addresses.partition_point(|a| *a < block.first);
                let end = addresses.partition_point(|a| *a <= block.last);
                for i in start..end {
                    let cell = &mut codes[i * width + b];
                    *cell = (*cell).min(*code);
                }
            }
        }
    }
    let mut rows: Classes<Vec<u8>> = Classes::new();
    let unaddressed = rows.id(vec![NO_MATCH; width]);
    let row_of_address: Vec<u32> = (0..addresses.len())
        .map(|i| rows.id(codes[i * width..(i + 1) * width].to_vec()))
        .collect();
    let signature_of_peer = peers
        .iter()
        .map(|&n| match snapshot.nics[n as usize].address {
            Some(a) => addresses
                .binary_search(&a)
                .map_or(unaddressed, |i| row_of_address[i]),
            None => unaddressed,
        })
        .collect();
    (rows.keys, signature_of_peer)
}
