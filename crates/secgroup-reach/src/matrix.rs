//! Every source × destination pair for one (protocol, port), without evaluating every rule
//! for every pair: each direction is decided per (side class, peer class) by
//! [`DirectionTable`], and NICs that agree on everything that matters (VPC, classes, groups)
//! share one *kind*; the matrix is decided per (source kind, destination kind).

use std::collections::HashMap;

use secgroup_domain::rules::{Direction, IpProtocol};

use crate::direction_table::{Classes, DirectionTable};
use crate::snapshot::Snapshot;
use crate::verdict::ReachError;

/// Which sources reach which destinations. Stored per kind pair (one bit each), so memory
/// grows with the number of distinct kinds, not with sources × destinations.
#[derive(Debug, Clone)]
pub struct Matrix {
    sources: Vec<String>,
    destinations: Vec<String>,
    source_kind: Vec<u32>,
    destination_kind: Vec<u32>,
    destination_kinds: usize,
    /// Bit `source_kind * destination_kinds + destination_kind`.
    allowed_bits: Vec<u64>,
}

impl Matrix {
    pub fn sources(&self) -> &[String] {
        &self.sources
    }
    pub fn destinations(&self) -> &[String] {
        &self.destinations
    }
    /// Whether `sources()[source]` reaches `destinations()[destination]`; `false` out of range.
    pub fn allowed(&self, source: usize, destination: usize) -> bool {
        match (
            self.source_kind.get(source),
            self.destination_kind.get(destination),
        ) {
            (Some(&s), Some(&d)) => self.kind_pair_allowed(s, d),
            _ => false,
        }
    }
    /// How many (source, destination) pairs are allowed.
    pub fn allowed_count(&self) -> u64 {
        let mut per_destination_kind = vec![0u64; self.destination_kinds];
        for &d in &self.destination_kind {
            per_destination_kind[d as usize] += 1;
        }
        let mut per_source_kind: HashMap<u32, u64> = HashMap::new();
        for &s in &self.source_kind {
            *per_source_kind.entry(s).or_default() += 1;
        }
        per_source_kind
            .iter()
            .map(|(&s, &sources)| {
                let reached: u64 = per_destination_kind
                    .iter()
                    .enumerate()
                    .filter(|&(d, _)| self.kind_pair_allowed(s, d as u32))
                    .map(|(_, &n)| n)
                    .sum();
                sources * reached
            })
            .sum()
    }
    /// Distinct (source kinds, destination kinds): what the matrix was actually decided on.
    pub fn kind_counts(&self) -> (usize, usize) {
        let source_kinds = self.source_kind.iter().max().map_or(0, |&m| m as usize + 1);
        (source_kinds, self.destination_kinds)
    }
    fn kind_pair_allowed(&self, source_kind: u32, destination_kind: u32) -> bool {
        let bit = source_kind as usize * self.destination_kinds + destination_kind as usize;
        self.allowed_bits
            .get(bit / 64)
            .is_some_and(|word| word >> (bit % 64) & 1 == 1)
    }
}

impl Snapshot {
    /// Decides every `sources × destinations` pair of NICs for one protocol and destination
    /// port, each NIC at its primary address and named by its instance's id (its primary
    /// interface) or by its interface's (`eni-…`), with no source port (quintuple rules with
    /// a real source port range do not match, as in [`Snapshot::evaluate`] with
    /// `source_port: None`).
    pub fn matrix<S: AsRef<str>>(
        &self,
        sources: &[S],
        destinations: &[S],
        protocol: IpProtocol,
        port: Option<u16>,
    ) -> Result<Matrix, ReachError> {
        self.matrix_with_source_port(sources, destinations, protocol, port, None)
    }

    /// [`Snapshot::matrix`] for flows from one known source port: the port is the same for
    /// every pair, so it only narrows which rules are relevant.
    pub fn matrix_with_source_port<S: AsRef<str>>(
        &self,
        sources: &[S],
        destinations: &[S],
        protocol: IpProtocol,
        port: Option<u16>,
        source_port: Option<u16>,
    ) -> Result<Matrix, ReachError> {
        let source_nics = self.resolve_nics(sources)?;
        let destination_nics = self.resolve_nics(destinations)?;
        let relevant: Vec<bool> = self
            .rules
            .iter()
            .map(|r| r.matches_protocol_and_ports(protocol, port, source_port))
            .collect();
        let egress = DirectionTable::build(
            self,
            Direction::Egress,
            &relevant,
            &source_nics,
            &destination_nics,
        );
        let ingress = DirectionTable::build(
            self,
            Direction::Ingress,
            &relevant,
            &destination_nics,
            &source_nics,
        );
        // A kind: (VPC, class on its own side, class as the other's peer, groups). The
        // groups decide inner access; they are also part of the peer class already.
        let mut source_kinds: Classes<(u32, u32, u32, &[u32])> = Classes::new();
        let source_kind: Vec<u32> = source_nics
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let nic = &self.nics[n as usize];
                source_kinds.id((
                    nic.vpc,
                    egress.side_class_of[i],
                    ingress.peer_class_of[i],
                    &nic.groups,
                ))
            })
            .collect();
        let mut destination_kinds: Classes<(u32, u32, u32, &[u32])> = Classes::new();
        let destination_kind: Vec<u32> = destination_nics
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let nic = &self.nics[n as usize];
                destination_kinds.id((
                    nic.vpc,
                    ingress.side_class_of[i],
                    egress.peer_class_of[i],
                    &nic.groups,
                ))
            })
            .collect();
        let (egress_decided, ingress_decided) = (egress.decide_all(), ingress.decide_all());
        let columns = destination_kinds.keys.len();
        let mut allowed_bits = vec![0u64; (source_kinds.keys.len() * columns).div_ceil(64)];
        for (s, &(s_vpc, s_egress, s_as_peer, s_groups)) in source_kinds.keys.iter().enumerate() {
            for (d, &(d_vpc, d_ingress, d_as_peer, d_groups)) in
                destination_kinds.keys.iter().enumerate()
            {
                let allowed = s_vpc == d_vpc
                    && (self.share_accepting_group(s_groups, d_groups)
                        || (egress_decided.allows(s_egress, d_as_peer)
                            && ingress_decided.allows(d_ingress, s_as_peer)));
                if allowed {
                    let bit = s * columns + d;
                    allowed_bits[bit / 64] |= 1 << (bit % 64);
                }
            }
        }
        Ok(Matrix {
            sources: sources.iter().map(|s| s.as_ref().to_string()).collect(),
            destinations: destinations
                .iter()
                .map(|s| s.as_ref().to_string())
                .collect(),
            source_kind,
            destination_kind,
            destination_kinds: columns,
            allowed_bits,
        })
    }

    /// Instance ids stand for their primary NICs; interface ids (`eni-…`) for theirs.
    fn resolve_nics<S: AsRef<str>>(&self, ids: &[S]) -> Result<Vec<u32>, ReachError> {
        ids.iter()
            .map(|id| {
                let id = id.as_ref();
                self.nic_index(id)
                    .or_else(|| self.interface_index(id))
                    .ok_or_else(|| ReachError::UnknownInstance(id.to_string()))
            })
            .collect()
    }

    /// Step 2 on group sets (both sorted).
    fn share_accepting_group(&self, a: &[u32], b: &[u32]) -> bool {
        a.iter()
            .any(|g| b.binary_search(g).is_ok() && self.groups[*g as usize].accepts_members())
    }
}
