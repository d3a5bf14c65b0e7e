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
    /// An instance: its primary interface, at its primary address.
    Instance(String),
    /// An attached interface (`eni-…`, primary or secondary), at its primary address.
    Interface(String),
    /// An address: a private address (primary or secondary) of an attached interface
    /// stands for that interface of its instance (several holding it is ambiguous), any
    /// other is outside the account's network.
    Address(IpAddr),
    /// An address of this vSwitch: the interface there that holds it, else outside.
    AddressIn { vswitch_id: String, address: IpAddr },
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

/// What an answer says about an instance, at one of its interfaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceFacts {
    pub id: String,
    pub name: String,
    /// The instance's primary private address.
    pub private_ip: String,
    pub vpc_id: String,
    /// The state a reader sees now (transient states settled).
    pub status: InstanceStatus,
    /// The interface the flow uses at this end (`eni-…`; the primary one unless an address
    /// or an interface of another was asked), whose groups decide there.
    pub network_interface_id: String,
    /// The address the flow uses at this end, as stored.
    pub address: String,
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
            EndpointFacts::Instance(i) if i.network_interface_id.is_empty() => {
                Endpoint::Nic(i.id.clone())
            }
            EndpointFacts::Instance(i) => Endpoint::Interface {
                id: i.network_interface_id.clone(),
                address: i.address.trim().parse().ok(),
            },
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
    /// Instance `index` as answers describe it, at its primary interface, its status
    /// settled at `now`.
    pub fn facts(&self, index: usize, now: DateTime<Utc>) -> InstanceFacts {
        let i = &self.instances()[index];
        InstanceFacts {
            id: i.id.clone(),
            name: i.name.clone(),
            private_ip: i.private_ip.clone(),
            vpc_id: i.vpc_id.clone(),
            status: self.status(index, now),
            network_interface_id: i.network_interface_id.clone(),
            address: i.private_ip.clone(),
        }
    }

    /// The instance of NIC `nic` (an index into [`Network::nics`]) at `address` (one of
    /// its addresses, as stored; its primary one when `None`), its status settled at `now`.
    pub fn nic_facts(
        &self,
        nic: usize,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> InstanceFacts {
        let n = &self.nics()[nic];
        let mut facts = self.facts(n.instance, now);
        facts.network_interface_id = n.interface_id.clone();
        facts.address = address.unwrap_or(n.primary_ip()).to_string();
        facts
    }

    /// One end, resolved at `now`: an unknown instance is `InstanceNotFound`, an unknown
    /// (or unattached) interface `NetworkInterfaceNotFound`.
    pub fn resolve(
        &self,
        end: &EndpointQuery,
        now: DateTime<Utc>,
    ) -> Result<EndpointFacts, ReachabilityError> {
        let at = |holder: &crate::network::Holder, address: IpAddr| {
            // The address as the NIC stores it (it parses, perhaps only trimmed).
            let text = self.nics()[holder.nic]
                .addresses
                .iter()
                .find(|a| a.trim().parse::<IpAddr>().ok() == Some(address))
                .cloned()
                .unwrap_or_else(|| address.to_string());
            Ok(EndpointFacts::Instance(self.nic_facts(
                holder.nic,
                Some(&text),
                now,
            )))
        };
        match end {
            EndpointQuery::Instance(id) => match self.instance_index(id) {
                Some(n) => Ok(EndpointFacts::Instance(self.facts(n, now))),
                None => Err(DomainError::InstanceNotFound(id.clone()).into()),
            },
            EndpointQuery::Interface(id) => match self.nic_index(id) {
                Some(k) => Ok(EndpointFacts::Instance(self.nic_facts(k, None, now))),
                None => Err(DomainError::NetworkInterfaceNotFound(id.clone()).into()),
            },
            EndpointQuery::Address(address) => match self.holders(*address) {
                [] => Ok(EndpointFacts::Outside(*address)),
                [one] => at(one, *address),
                // Private addresses are unique per vSwitch, not per account: two VPCs may
                // both hold 10.0.0.5, and then the address alone does not say which instance.
                many => {
                    let mut instances: Vec<String> = Vec::new();
                    for h in many {
                        let id = &self.instances()[self.nics()[h.nic].instance].id;
                        if !instances.contains(id) {
                            instances.push(id.clone());
                        }
                    }
                    Err(ReachabilityError::AmbiguousAddress {
                        address: *address,
                        instances,
                    })
                }
            },
            EndpointQuery::AddressIn {
                vswitch_id,
                address,
            } => {
                // Only the named vSwitch counts: the same private address may be held in
                // another one. The address must parse as stored, untrimmed.
                let holder = self
                    .holders(*address)
                    .iter()
                    .find(|h| h.exact && &self.nics()[h.nic].vswitch_id == vswitch_id);
                match holder {
                    Some(h) => at(h, *address),
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
            // Interfaces share their instance's state: an instance is named once.
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

#[cfg(test)]
mod tests {
    use secgroup_domain::network::{NetworkState, Vpc};
    use secgroup_domain::ops::instances::InstanceTimings;
    use secgroup_domain::rules::{Direction, RulePolicy};
    use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
    use secgroup_reach::testkit::{
        group, group_peer, instance, primary_interface, rule, secondary_interface,
    };

    use super::*;
    use crate::matrix::{MatrixQuery, MatrixScope};

    /// `i-a`: eth0 10.0.0.10 (+ .11) in sg-front; eth1 `eni-a1` in vsw-2, 10.0.0.20 (+ .21),
    /// in sg-back. `i-b` 10.0.0.30 in sg-db, which admits tcp/5432 from sg-back only.
    fn network() -> Network {
        let a = instance("i-a", "vpc-1", "10.0.0.10", &["sg-front"]);
        let b = instance("i-b", "vpc-1", "10.0.0.30", &["sg-db"]);
        let mut eth1 =
            secondary_interface("eni-a1", &a, 1, &["10.0.0.20", "10.0.0.21"], &["sg-back"]);
        eth1.vswitch_id = "vsw-2".into();
        let basic = |id: &str| {
            group(
                id,
                "vpc-1",
                SecurityGroupType::Normal,
                InnerAccessPolicy::Drop,
            )
        };
        let state = NetworkState {
            groups: vec![basic("sg-front"), basic("sg-back"), basic("sg-db")],
            rules: vec![rule(
                "sgr-db",
                "sg-db",
                Direction::Ingress,
                IpProtocol::Tcp,
                (5432, 5432),
                RulePolicy::Accept,
                1,
                group_peer("sg-back"),
            )],
            interfaces: vec![
                primary_interface(&a, &["10.0.0.11"]),
                primary_interface(&b, &[]),
                eth1,
            ],
            instances: vec![a, b],
            vpcs: vec![Vpc {
                id: "vpc-1".into(),
                account_id: "1".into(),
                region_id: "cn-hangzhou".into(),
                cidr_block: "10.0.0.0/16".into(),
                name: String::new(),
                description: String::new(),
                resource_group_id: String::new(),
                vrouter_id: "vrt-1".into(),
                route_table_id: "vtb-1".into(),
                user_cidrs: Vec::new(),
                enable_ipv6: false,
                ipv6_cidr_block: String::new(),
                enable_dns_hostname: false,
                creation_time: Utc::now(),
            }],
            ..NetworkState::default()
        };
        Network::compile(state, Vec::new(), InstanceTimings::default()).expect("compiles")
    }

    fn to_db(source: EndpointQuery) -> FlowQuery {
        FlowQuery {
            source,
            destination: EndpointQuery::Instance("i-b".into()),
            protocol: IpProtocol::Tcp,
            port: Some(5432),
            source_port: None,
        }
    }

    fn address(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn every_address_of_an_interface_stands_for_that_interface() {
        let network = network();
        let now = Utc::now();
        let cases = [
            (
                EndpointQuery::Instance("i-a".into()),
                "eni-i-a",
                "10.0.0.10",
                false,
            ),
            (
                EndpointQuery::Address(address("10.0.0.11")),
                "eni-i-a",
                "10.0.0.11",
                false,
            ),
            (
                EndpointQuery::Interface("eni-a1".into()),
                "eni-a1",
                "10.0.0.20",
                true,
            ),
            (
                EndpointQuery::Address(address("10.0.0.21")),
                "eni-a1",
                "10.0.0.21",
                true,
            ),
            (
                EndpointQuery::AddressIn {
                    vswitch_id: "vsw-2".into(),
                    address: address("10.0.0.21"),
                },
                "eni-a1",
                "10.0.0.21",
                true,
            ),
        ];
        for (source, interface, at, allowed) in cases {
            let check = network
                .check(&to_db(source.clone()), now)
                .expect("answered");
            let facts = check.source.instance().expect("an instance end");
            assert_eq!(
                (facts.id.as_str(), facts.network_interface_id.as_str()),
                ("i-a", interface),
                "{source:?}"
            );
            assert_eq!(facts.address, at, "{source:?}");
            assert_eq!(facts.private_ip, "10.0.0.10", "the instance's own address");
            assert_eq!(check.reachable(), allowed, "{source:?}");
            let egress = check.verdict.egress.expect("egress checked");
            assert_eq!(egress.interface_id, interface);
        }
        // The secondary interface is in vsw-2, not in the instance's vSwitch.
        let elsewhere = EndpointQuery::AddressIn {
            vswitch_id: "vsw-1".into(),
            address: address("10.0.0.21"),
        };
        assert_eq!(
            network.resolve(&elsewhere, now).expect("resolved"),
            EndpointFacts::Outside(address("10.0.0.21"))
        );
        let unknown = network.resolve(&EndpointQuery::Interface("eni-nope".into()), now);
        assert!(matches!(
            unknown,
            Err(ReachabilityError::Domain(DomainError::NetworkInterfaceNotFound(id))) if id == "eni-nope"
        ));
    }

    #[test]
    fn a_matrix_has_one_entry_per_interface() {
        let network = network();
        let query = |scope| MatrixQuery {
            scope,
            protocol: IpProtocol::Tcp,
            port: Some(5432),
            source_port: None,
        };
        let answer = network
            .matrix(&query(MatrixScope::Vpc("vpc-1".into())), 10, Utc::now())
            .expect("answered");
        let entries: Vec<(&str, &str)> = answer
            .instances
            .iter()
            .map(|i| (i.id.as_str(), i.network_interface_id.as_str()))
            .collect();
        assert_eq!(
            entries,
            [("i-a", "eni-i-a"), ("i-a", "eni-a1"), ("i-b", "eni-i-b")]
        );
        assert!(answer.allowed(1, 2) && !answer.allowed(0, 2));
        assert_eq!(answer.allowed_count, 1);
        let members = network
            .matrix(
                &query(MatrixScope::SecurityGroups(vec!["sg-back".into()])),
                10,
                Utc::now(),
            )
            .expect("answered");
        assert_eq!(members.instances.len(), 1);
        assert_eq!(members.instances[0].network_interface_id, "eni-a1");
    }
}
