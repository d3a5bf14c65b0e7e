//! One flow: its ends resolved against the network, their statuses settled, the engine's
//! verdict. Only a `Running` instance sends or receives traffic (docs/semantics.md §4): a
//! flow with an end that is not running is unreachable whatever the groups say; the groups'
//! own decision is still computed, and each product reports it its own way.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use secgroup_domain::network::InstanceStatus;
use secgroup_domain::rules::IpProtocol;
use secgroup_domain::DomainError;
use secgroup_reach::{Endpoint, Flow, ReachError, Verdict};

use crate::network::Network;

/// One end of a flow, as the caller named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointQuery {
    Instance(String),
    /// An address: an instance's private address stands for that instance (several
    /// instances holding it is ambiguous), any other is outside the account's network.
    Address(IpAddr),
    /// An address of this vSwitch: the instance there that holds it, else outside.
    AddressIn {
        vswitch_id: String,
        address: IpAddr,
    },
    /// An address taken as outside, whoever holds it (an Internet address).
    Outside(IpAddr),
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

/// A flow decided: what the groups say, and which instance ends are not running.
#[derive(Debug, Clone)]
pub struct FlowCheck {
    pub source: EndpointFacts,
    pub destination: EndpointFacts,
    /// Instance ends that are not `Running`, source first, each once.
    pub not_running: Vec<InstanceFacts>,
    /// What the security groups alone decide.
    pub verdict: Verdict,
}

impl FlowCheck {
    /// The groups allow the flow and both instance ends are running.
    pub fn reachable(&self) -> bool {
        self.verdict.allowed && self.not_running.is_empty()
    }
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
    /// The blocking task that compiled or answered stopped (it panicked, or the runtime is
    /// shutting down); nothing the caller asked is wrong.
    #[error("the reachability worker stopped: {0}")]
    Worker(String),
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

impl Network {
    /// Instance `index` as answers describe it, its status settled at `now`.
    pub fn facts(&self, index: usize, now: DateTime<Utc>) -> InstanceFacts {
        let i = &self.instances()[index];
        InstanceFacts {
            id: i.id.clone(),
            name: i.name.clone(),
            private_ip: i.private_ip.clone(),
            vpc_id: i.vpc_id.clone(),
            status: self.status(index, now),
        }
    }

    /// One end, resolved at `now`: an unknown instance is `InstanceNotFound`.
    pub fn resolve(
        &self,
        end: &EndpointQuery,
        now: DateTime<Utc>,
    ) -> Result<EndpointFacts, ReachabilityError> {
        let instance = |n: usize| Ok(EndpointFacts::Instance(self.facts(n, now)));
        match end {
            EndpointQuery::Instance(id) => match self.instance_index(id) {
                Some(n) => instance(n),
                None => Err(DomainError::InstanceNotFound(id.clone()).into()),
            },
            EndpointQuery::Address(address) => match self.holders(*address) {
                [] => Ok(EndpointFacts::Outside(*address)),
                [one] => instance(*one),
                // Private addresses are unique per vSwitch, not per account: two VPCs may
                // both hold 10.0.0.5, and then the address alone does not say which instance.
                many => Err(ReachabilityError::AmbiguousAddress {
                    address: *address,
                    instances: many
                        .iter()
                        .map(|&n| self.instances()[n].id.clone())
                        .collect(),
                }),
            },
            EndpointQuery::AddressIn {
                vswitch_id,
                address,
            } => {
                // Only the named vSwitch counts: the same private address may be held in
                // another one. The address must parse as stored, untrimmed.
                let holder = self.holders(*address).iter().copied().find(|&n| {
                    let i = &self.instances()[n];
                    &i.vswitch_id == vswitch_id
                        && i.private_ip.parse::<IpAddr>().ok() == Some(*address)
                });
                match holder {
                    Some(n) => instance(n),
                    None => Ok(EndpointFacts::Outside(*address)),
                }
            }
            EndpointQuery::Outside(address) => Ok(EndpointFacts::Outside(*address)),
        }
    }

    /// What the groups decide for the flow between two resolved ends (statuses play no
    /// part here).
    pub fn evaluate(
        &self,
        source: &EndpointFacts,
        destination: &EndpointFacts,
        protocol: IpProtocol,
        port: Option<u16>,
        source_port: Option<u16>,
    ) -> Result<Verdict, ReachError> {
        self.snapshot().evaluate(&Flow {
            source: source.engine_endpoint(),
            destination: destination.engine_endpoint(),
            protocol,
            port,
            source_port,
        })
    }

    /// Decides `query` at `now`: both ends resolved, at least one an instance.
    pub fn check(
        &self,
        query: &FlowQuery,
        now: DateTime<Utc>,
    ) -> Result<FlowCheck, ReachabilityError> {
        let source = self.resolve(&query.source, now)?;
        let destination = self.resolve(&query.destination, now)?;
        if source.instance().is_none() && destination.instance().is_none() {
            return Err(ReachabilityError::NoInstance);
        }
        let verdict = self.evaluate(
            &source,
            &destination,
            query.protocol,
            query.port,
            query.source_port,
        )?;
        let mut not_running: Vec<InstanceFacts> = Vec::new();
        for end in [&source, &destination]
            .into_iter()
            .filter_map(|e| e.instance())
        {
            if !end.is_running() && !not_running.iter().any(|n| n.id == end.id) {
                not_running.push(end.clone());
            }
        }
        Ok(FlowCheck {
            source,
            destination,
            not_running,
            verdict,
        })
    }
}
