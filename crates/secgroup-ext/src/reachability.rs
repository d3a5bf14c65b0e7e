//! The engine behind `CheckReachability`, free of HTTP: the account's network as read in one
//! transaction ([`secgroup_domain::ops::network_state::load`]), a [`Snapshot`], and the
//! answer in domain terms. Rendering is the handler's business.
//!
//! Only a `Running` instance sends or receives traffic: a flow with an end that is not
//! running is unreachable whatever the groups say (docs/semantics.md §4, as NIS reports it).
//! The groups' own decision is still computed and reported beside it.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use secgroup_domain::network::{Instance, InstanceStatus, NetworkState};
use secgroup_domain::ops::instances::InstanceTimings;
use secgroup_domain::ops::network_state;
use secgroup_domain::rules::IpProtocol;
use secgroup_domain::DomainError;
use secgroup_reach::{Endpoint, Flow, ReachError, Snapshot};

use crate::explain::{self, Element};

/// One end of the flow, as the caller named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointQuery {
    Instance(String),
    /// An address: an instance's private address stands for that instance, any other is
    /// outside the account's network.
    Address(IpAddr),
}

/// The flow asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowQuery {
    pub source: EndpointQuery,
    pub destination: EndpointQuery,
    pub protocol: IpProtocol,
    pub port: Option<u16>,
    pub source_port: Option<u16>,
}

/// What an answer says about an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceFacts {
    pub id: String,
    pub name: String,
    pub private_ip: String,
    pub vpc_id: String,
    /// The state a reader sees now (transient states settled).
    pub status: InstanceStatus,
}

impl InstanceFacts {
    pub fn is_running(&self) -> bool {
        self.status == InstanceStatus::Running
    }
    /// `i-… (name)`, or the bare id when the instance has no name.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            self.id.clone()
        } else {
            format!("{} ({})", self.id, self.name)
        }
    }
}

/// One end of the flow after resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointFacts {
    Instance(InstanceFacts),
    /// An address that is no instance's in the region.
    Outside(IpAddr),
}

impl EndpointFacts {
    pub fn label(&self) -> String {
        match self {
            EndpointFacts::Instance(i) => i.label(),
            EndpointFacts::Outside(a) => format!("{a} (outside)"),
        }
    }
    pub fn instance(&self) -> Option<&InstanceFacts> {
        match self {
            EndpointFacts::Instance(i) => Some(i),
            EndpointFacts::Outside(_) => None,
        }
    }
    fn engine_endpoint(&self) -> Endpoint {
        match self {
            EndpointFacts::Instance(i) => Endpoint::Nic(i.id.clone()),
            EndpointFacts::Outside(a) => Endpoint::Outside(*a),
        }
    }
}

/// The answer for one flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowAnswer {
    /// The groups allow the flow and both instance ends are running.
    pub reachable: bool,
    /// What the security groups alone decide.
    pub groups_allow: bool,
    pub source: EndpointFacts,
    pub destination: EndpointFacts,
    /// Instance ends that are not `Running`.
    pub not_running: Vec<InstanceFacts>,
    /// What decided: the inner-access group, or each direction's winning rules or default
    /// (allowed flow); the first blocking element (denied flow).
    pub deciding: Vec<Element>,
    /// Everything that blocks the flow (empty when reachable): ends that are not running,
    /// then each element the engine names.
    pub blocking: Vec<Element>,
    /// What the answer does not cover, when an end is outside.
    pub scope_note: Option<&'static str>,
    /// One line a person reads at a glance.
    pub summary: String,
}

/// Why a question could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum ReachabilityError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{address} is the address of several instances ({}); name the instance instead", instances.join(", "))]
    AmbiguousAddress {
        address: IpAddr,
        instances: Vec<String>,
    },
    #[error("neither end of the flow is an instance of the account in this region")]
    NoInstance,
    #[error("the scope holds {count} instances; at most {max} are supported")]
    ScopeTooLarge { count: usize, max: usize },
    #[error("{0}")]
    Engine(ReachError),
}

impl From<ReachError> for ReachabilityError {
    fn from(e: ReachError) -> Self {
        match e {
            ReachError::UnknownInstance(id) => DomainError::InstanceNotFound(id).into(),
            ReachError::NoNic => ReachabilityError::NoInstance,
            other => ReachabilityError::Engine(other),
        }
    }
}

/// The instances (statuses settled) as answers describe them.
pub(crate) fn instance_facts(instances: &[Instance]) -> Vec<InstanceFacts> {
    instances
        .iter()
        .map(|i| InstanceFacts {
            id: i.id.clone(),
            name: i.name.clone(),
            private_ip: i.private_ip.clone(),
            vpc_id: i.vpc_id.clone(),
            status: i.status,
        })
        .collect()
}

/// Decides `query` over the account's network `state`.
pub fn check(
    mut state: NetworkState,
    query: &FlowQuery,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<FlowAnswer, ReachabilityError> {
    network_state::settle_statuses(&mut state, timings, now)?;
    let facts = instance_facts(&state.instances);
    let source = resolve(&query.source, &facts)?;
    let destination = resolve(&query.destination, &facts)?;
    if source.instance().is_none() && destination.instance().is_none() {
        return Err(ReachabilityError::NoInstance);
    }
    let snapshot = Snapshot::build(&state);
    let verdict = snapshot.evaluate(&Flow {
        source: source.engine_endpoint(),
        destination: destination.engine_endpoint(),
        protocol: query.protocol,
        port: query.port,
        source_port: query.source_port,
    })?;

    let mut not_running: Vec<InstanceFacts> = Vec::new();
    for end in [&source, &destination]
        .into_iter()
        .filter_map(|e| e.instance())
    {
        if !end.is_running() && !not_running.iter().any(|n| n.id == end.id) {
            not_running.push(end.clone());
        }
    }
    let reachable = verdict.allowed && not_running.is_empty();
    let source_id = source.instance().map(|i| i.id.as_str());
    let destination_id = destination.instance().map(|i| i.id.as_str());
    let deciding = explain::deciding(&verdict);
    let mut blocking: Vec<Element> = not_running
        .iter()
        .map(|i| Element::NotRunning {
            instance_id: i.id.clone(),
            status: i.status,
        })
        .collect();
    blocking.extend(explain::blocking(&verdict, source_id, destination_id));
    let summary = explain::summary(&explain::SummaryInput {
        source: &source,
        destination: &destination,
        protocol: query.protocol,
        port: query.port,
        source_port: query.source_port,
        groups_allow: verdict.allowed,
        not_running: &not_running,
        deciding: &deciding,
        blocking: &blocking,
    });
    Ok(FlowAnswer {
        reachable,
        groups_allow: verdict.allowed,
        source,
        destination,
        not_running,
        deciding,
        blocking,
        scope_note: verdict.scope_note,
        summary,
    })
}

fn resolve(
    endpoint: &EndpointQuery,
    facts: &[InstanceFacts],
) -> Result<EndpointFacts, ReachabilityError> {
    match endpoint {
        EndpointQuery::Instance(id) => facts
            .iter()
            .find(|f| &f.id == id)
            .map(|f| EndpointFacts::Instance(f.clone()))
            .ok_or_else(|| DomainError::InstanceNotFound(id.clone()).into()),
        EndpointQuery::Address(address) => {
            // Private addresses are unique per vSwitch, not per account: two VPCs may both
            // hold 10.0.0.5, and then the address alone does not say which instance.
            let owners: Vec<&InstanceFacts> = facts
                .iter()
                .filter(|f| f.private_ip.trim().parse::<IpAddr>().ok() == Some(*address))
                .collect();
            match owners.as_slice() {
                [] => Ok(EndpointFacts::Outside(*address)),
                [one] => Ok(EndpointFacts::Instance((*one).clone())),
                many => Err(ReachabilityError::AmbiguousAddress {
                    address: *address,
                    instances: many.iter().map(|f| f.id.clone()).collect(),
                }),
            }
        }
    }
}
