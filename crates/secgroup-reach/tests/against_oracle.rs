//! The engine against a literal transcription of docs/semantics.md §3, on random topologies.

mod support;

use proptest::prelude::*;
use secgroup_reach::{Endpoint, Flow, Snapshot, StepKind};
use support::oracle::{self, End, Question, Reason};
use support::topology::{flow, topology, Topology};

fn expected_kind(reason: Reason) -> StepKind {
    match reason {
        Reason::DifferentVpc => StepKind::DifferentVpc,
        Reason::InnerAccess => StepKind::InnerAccess,
        Reason::Rule => StepKind::Rule,
        Reason::Default => StepKind::Default,
    }
}

fn ask_oracle(t: &Topology, f: &Flow) -> (bool, Reason) {
    let end = |e: &Endpoint| match e {
        Endpoint::Nic(id) => End::Nic(
            t.input
                .instances
                .iter()
                .find(|i| &i.id == id)
                .expect("generated id"),
        ),
        Endpoint::Outside(a) => End::Outside(*a),
    };
    let q = Question {
        source: end(&f.source),
        destination: end(&f.destination),
        protocol: f.protocol,
        port: f.port,
        source_port: f.source_port,
    };
    oracle::decide(&t.input, &q)
}

fn topology_and_flows() -> impl Strategy<Value = (Topology, Vec<Flow>)> {
    topology().prop_flat_map(|t| {
        let n = t.instance_ids.len();
        (Just(t), prop::collection::vec(flow(n), 1..16))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn engine_agrees_with_the_literal_semantics((t, flows) in topology_and_flows()) {
        let snapshot = Snapshot::build(&t.input);
        for f in &flows {
            let (allowed, reason) = ask_oracle(&t, f);
            let verdict = snapshot.evaluate(f).expect("generated flows have a known NIC");
            prop_assert_eq!(verdict.allowed, allowed, "flow {:?}: {:?}", f, verdict);
            prop_assert_eq!(verdict.decided_by.kind(), expected_kind(reason), "flow {:?}: {:?}", f, verdict);
            prop_assert_eq!(verdict.blocking.is_empty(), allowed);
        }
    }
}
