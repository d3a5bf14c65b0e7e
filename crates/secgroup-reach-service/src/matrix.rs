//! Every ordered pair of a scope's NICs (a VPC's, or the members of some groups: each
//! attached interface with its own groups, docs/semantics.md §1), decided
//! at once by [`secgroup_reach::Snapshot::matrix_with_source_port`]. As for one flow, an
//! instance that is not `Running` reaches nothing and is reached by nothing
//! (docs/semantics.md §4).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use secgroup_domain::network::InterfaceKind;
use secgroup_domain::rules::IpProtocol;
use secgroup_domain::DomainError;

use crate::flow::{InstanceFacts, ReachabilityError};
use crate::network::Network;

/// Which NICs the matrix covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatrixScope {
    /// Every attached interface of the VPC's instances.
    Vpc(String),
    /// Every interface that is a member of any of these groups.
    SecurityGroups(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixQuery {
    pub scope: MatrixScope,
    pub protocol: IpProtocol,
    pub port: Option<u16>,
    pub source_port: Option<u16>,
}

/// Who reaches whom among the scope's NICs (sources and destinations alike, in the
/// store's order: instances oldest first, each one's primary interface and then its
/// secondary ones; an instance with no secondary interface is one entry, as before).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixAnswer {
    /// Each entry's `network_interface_id` says which of its instance's interfaces it is.
    pub instances: Vec<InstanceFacts>,
    /// Row-major, one bit per pair: bit `source * n + destination` (a million pairs are
    /// 125 KB here, not 1 MB).
    allowed: Vec<u64>,
    pub allowed_count: u64,
}

impl MatrixAnswer {
    /// Whether `instances[source]` reaches `instances[destination]`.
    pub fn allowed(&self, source: usize, destination: usize) -> bool {
        let n = self.instances.len();
        let bit = source * n + destination;
        source < n
            && destination < n
            && self
                .allowed
                .get(bit / 64)
                .is_some_and(|word| word >> (bit % 64) & 1 == 1)
    }
}

impl Network {
    /// Decides every pair of the scope of `query` at `now`; a scope of more than
    /// `max_instances` instances is refused before any engine work.
    pub fn matrix(
        &self,
        query: &MatrixQuery,
        max_instances: usize,
        now: DateTime<Utc>,
    ) -> Result<MatrixAnswer, ReachabilityError> {
        let scoped: Vec<usize> = match &query.scope {
            MatrixScope::Vpc(vpc_id) => {
                if !self.has_vpc(vpc_id) {
                    return Err(DomainError::VpcNotFound(vpc_id.clone()).into());
                }
                self.select(|i, _| &i.vpc_id == vpc_id)
            }
            MatrixScope::SecurityGroups(ids) => {
                if let Some(unknown) = ids.iter().find(|id| !self.has_group(id)) {
                    return Err(DomainError::SecurityGroupNotFound(unknown.clone()).into());
                }
                let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
                self.select(|_, nic| {
                    nic.security_group_ids
                        .iter()
                        .any(|g| wanted.contains(g.as_str()))
                })
            }
        };
        if scoped.len() > max_instances {
            return Err(ReachabilityError::ScopeTooLarge {
                count: scoped.len(),
                max: max_instances,
            });
        }
        let instances: Vec<InstanceFacts> = scoped
            .iter()
            .map(|&k| self.nic_facts(k, None, now))
            .collect();
        // A primary interface is named by its instance, a secondary one by its own id; the
        // engine decides each at its primary address.
        let ids: Vec<&str> = scoped
            .iter()
            .zip(&instances)
            .map(|(&k, facts)| match self.nics()[k].kind {
                InterfaceKind::Primary => facts.id.as_str(),
                InterfaceKind::Secondary => facts.network_interface_id.as_str(),
            })
            .collect();
        let decided = self.snapshot().matrix_with_source_port(
            &ids,
            &ids,
            query.protocol,
            query.port,
            query.source_port,
        )?;
        let n = instances.len();
        let mut allowed = vec![0u64; (n * n).div_ceil(64)];
        let mut allowed_count = 0u64;
        for (s, source) in instances.iter().enumerate() {
            if !source.is_running() {
                continue;
            }
            for (d, destination) in instances.iter().enumerate() {
                if destination.is_running() && decided.allowed(s, d) {
                    let bit = s * n + d;
                    allowed[bit / 64] |= 1 << (bit % 64);
                    allowed_count += 1;
                }
            }
        }
        Ok(MatrixAnswer {
            instances,
            allowed,
            allowed_count,
        })
    }

    /// The indexes (into [`Network::nics`]) of the NICs `keep` accepts, given each with its
    /// instance, in order.
    fn select(
        &self,
        keep: impl Fn(&secgroup_domain::network::Instance, &crate::network::Nic) -> bool,
    ) -> Vec<usize> {
        self.nics()
            .iter()
            .enumerate()
            .filter(|(_, nic)| keep(&self.instances()[nic.instance], nic))
            .map(|(k, _)| k)
            .collect()
    }
}
