//! The engine against a literal transcription of docs/semantics.md §3, on random topologies
//! whose instances have several interfaces, each in groups of its own and with secondary
//! addresses: a NIC is an interface, at the address the flow names.

mod support;

use proptest::prelude::*;
use secgroup_domain::network::InterfaceKind;
use secgroup_reach::{Endpoint, Flow, ReachError, Snapshot, StepKind};
use support::oracle::{self, End, Interface, Question, Reason};
use support::topology::{flow_in, topology, Topology};

fn expected_kind(reason: Reason) -> StepKind {
    match reason {
        Reason::DifferentVpc => StepKind::DifferentVpc,
        Reason::InnerAccess => StepKind::InnerAccess,
        Reason::Rule => StepKind::Rule,
        Reason::Default => StepKind::Default,
    }
}

/// The interface an end names, read from the records (or from the instance when the input
/// has none), at the address the flow uses there.
fn end<'a>(t: &'a Topology, e: &Endpoint) -> End<'a> {
    let input = &t.input;
    match e {
        Endpoint::Nic(id) if input.interfaces.is_empty() => {
            let i = input
                .instances
                .iter()
                .find(|i| &i.id == id)
                .expect("generated id");
            End::Nic(Interface {
                vpc_id: &i.vpc_id,
                security_group_ids: &i.security_group_ids,
                address: i.private_ip.parse().ok(),
            })
        }
        Endpoint::Nic(id) => {
            let r = input
                .interfaces
                .iter()
                .find(|r| r.kind == InterfaceKind::Primary && &r.instance_id == id)
                .expect("every instance has its primary interface");
            End::Nic(Interface {
                vpc_id: &r.vpc_id,
                security_group_ids: &r.security_group_ids,
                address: r.primary_ip.parse().ok(),
            })
        }
        Endpoint::Interface { id, address } => {
            let r = input
                .interfaces
                .iter()
                .find(|r| &r.id == id && !r.instance_id.is_empty())
                .expect("generated attached interface");
            End::Nic(Interface {
                vpc_id: &r.vpc_id,
                security_group_ids: &r.security_group_ids,
                address: address.or_else(|| r.primary_ip.parse().ok()),
            })
        }
        Endpoint::Outside(a) => End::Outside(*a),
    }
}

fn ask_oracle(t: &Topology, f: &Flow) -> Option<(bool, Reason)> {
    let q = Question {
        source: end(t, &f.source),
        destination: end(t, &f.destination),
        protocol: f.protocol,
        port: f.port,
        source_port: f.source_port,
    };
    if let (End::Outside(_), End::Outside(_)) = (&q.source, &q.destination) {
        return None;
    }
    Some(oracle::decide(&t.input, &q))
}

fn topology_and_flows() -> impl Strategy<Value = (Topology, Vec<Flow>)> {
    topology().prop_flat_map(|t| {
        let flows = prop::collection::vec(flow_in(&t), 1..16);
        (Just(t), flows)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn engine_agrees_with_the_literal_semantics((t, flows) in topology_and_flows()) {
        let snapshot = Snapshot::build(&t.input);
        for f in &flows {
            let Some((allowed, reason)) = ask_oracle(&t, f) else {
                prop_assert_eq!(snapshot.evaluate(f), Err(ReachError::NoNic));
                continue;
            };
            let verdict = snapshot.evaluate(f).expect("generated flows have a known NIC");
            prop_assert_eq!(verdict.allowed, allowed, "flow {:?}: {:?}", f, verdict);
            prop_assert_eq!(verdict.decided_by.kind(), expected_kind(reason), "flow {:?}: {:?}", f, verdict);
            prop_assert_eq!(verdict.blocking.is_empty(), allowed);
        }
    }

    /// Every address of an attached interface is a NIC's, never an outside one; an
    /// interface attached to nothing is no NIC.
    #[test]
    fn interface_addresses_are_nics_and_loose_ones_are_not(t in topology()) {
        let snapshot = Snapshot::build(&t.input);
        let probe = |a| Flow {
            source: Endpoint::Outside(a),
            destination: Endpoint::Nic(t.instance_ids[0].clone()),
            protocol: secgroup_domain::rules::IpProtocol::Tcp,
            port: Some(22),
            source_port: None,
        };
        for (id, a) in &t.interface_addresses {
            let refused = matches!(snapshot.evaluate(&probe(*a)), Err(ReachError::AddressIsNic { .. }));
            prop_assert!(refused, "{} of {}", a, id);
        }
        for a in &t.loose_addresses {
            prop_assert!(snapshot.evaluate(&probe(*a)).is_ok(), "{}", a);
        }
        for eni in t.input.interfaces.iter().filter(|e| e.instance_id.is_empty()) {
            let flow = Flow {
                source: Endpoint::Interface { id: eni.id.clone(), address: None },
                ..probe(std::net::IpAddr::from([203, 0, 113, 9]))
            };
            prop_assert_eq!(snapshot.evaluate(&flow), Err(ReachError::UnknownInstance(eni.id.clone())));
        }
    }
}
