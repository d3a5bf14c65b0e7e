//! The engine behind `DescribeReachabilityMatrix`, free of HTTP: the instances of a scope
//! (a VPC, or the members of some groups), every ordered pair decided at once by
//! [`Snapshot::matrix_with_source_port`]. As for one flow, an instance that is not
//! `Running` reaches nothing and is reached by nothing.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use secgroup_domain::network::NetworkState;
use secgroup_domain::ops::instances::InstanceTimings;
use secgroup_domain::ops::network_state;
use secgroup_domain::rules::IpProtocol;
use secgroup_domain::DomainError;
use secgroup_reach::Snapshot;

use crate::reachability::{instance_facts, InstanceFacts, ReachabilityError};

/// Which instances the matrix covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatrixScope {
    /// Every instance of the VPC.
    Vpc(String),
    /// Every member of any of these groups.
    SecurityGroups(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixQuery {
    pub scope: MatrixScope,
    pub protocol: IpProtocol,
    pub port: Option<u16>,
    pub source_port: Option<u16>,
}

/// Who reaches whom among the scope's instances (sources and destinations alike, in the
/// store's order: oldest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixAnswer {
    pub instances: Vec<InstanceFacts>,
    /// Row-major: `allowed[source * n + destination]`.
    allowed: Vec<bool>,
    pub allowed_count: u64,
}

impl MatrixAnswer {
    /// Whether `instances[source]` reaches `instances[destination]`.
    pub fn allowed(&self, source: usize, destination: usize) -> bool {
        let n = self.instances.len();
        source < n && destination < n && self.allowed[source * n + destination]
    }
}

/// Decides every pair of the scope of `query` over the account's network `state`; a scope
/// of more than `max_instances` instances is refused before any work.
pub fn matrix(
    mut state: NetworkState,
    query: &MatrixQuery,
    max_instances: usize,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<MatrixAnswer, ReachabilityError> {
    network_state::settle_statuses(&mut state, timings, now)?;
    let in_scope: Vec<bool> = match &query.scope {
        MatrixScope::Vpc(vpc_id) => {
            if !state.vpcs.iter().any(|v| &v.id == vpc_id) {
                return Err(DomainError::VpcNotFound(vpc_id.clone()).into());
            }
            state
                .instances
                .iter()
                .map(|i| &i.vpc_id == vpc_id)
                .collect()
        }
        MatrixScope::SecurityGroups(ids) => {
            if let Some(unknown) = ids
                .iter()
                .find(|id| !state.groups.iter().any(|g| &g.id == *id))
            {
                return Err(DomainError::SecurityGroupNotFound(unknown.clone()).into());
            }
            let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
            state
                .instances
                .iter()
                .map(|i| {
                    i.security_group_ids
                        .iter()
                        .any(|g| wanted.contains(g.as_str()))
                })
                .collect()
        }
    };
    let count = in_scope.iter().filter(|&&b| b).count();
    if count > max_instances {
        return Err(ReachabilityError::ScopeTooLarge {
            count,
            max: max_instances,
        });
    }
    let scoped: Vec<_> = state
        .instances
        .iter()
        .zip(&in_scope)
        .filter(|(_, &keep)| keep)
        .map(|(i, _)| i.clone())
        .collect();
    let instances = instance_facts(&scoped);
    let ids: Vec<&str> = instances.iter().map(|i| i.id.as_str()).collect();
    let snapshot = Snapshot::build(&state);
    let decided = snapshot.matrix_with_source_port(
        &ids,
        &ids,
        query.protocol,
        query.port,
        query.source_port,
    )?;
    let n = instances.len();
    let mut allowed = vec![false; n * n];
    let mut allowed_count = 0u64;
    for (s, source) in instances.iter().enumerate() {
        for (d, destination) in instances.iter().enumerate() {
            let cell = source.is_running() && destination.is_running() && decided.allowed(s, d);
            allowed[s * n + d] = cell;
            allowed_count += u64::from(cell);
        }
    }
    Ok(MatrixAnswer {
        instances,
        allowed,
        allowed_count,
    })
}
