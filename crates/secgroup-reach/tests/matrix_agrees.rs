//! The all-pairs matrix equals pairwise evaluation, on random topologies, its NICs named by
//! instance (the primary interface) or by interface (secondary ones too).

mod support;

use proptest::prelude::*;
use secgroup_reach::{Endpoint, Flow, Snapshot};

/// What a matrix name stands for in one flow: an instance's primary NIC, or an interface's.
fn end(name: &str) -> Endpoint {
    if name.starts_with("eni-") {
        Endpoint::Interface {
            id: name.to_string(),
            address: None,
        }
    } else {
        Endpoint::Nic(name.to_string())
    }
}
use support::topology::{ports, protocols, source_ports, topology};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn matrix_equals_pairwise_evaluation(
        t in topology(),
        protocol in 0..protocols().len(),
        port in 0..ports().len(),
        split in 0usize..8,
    ) {
        let snapshot = Snapshot::build(&t.input);
        let (protocol, port) = (protocols()[protocol], ports()[port]);
        // Sources and destinations overlap but differ, to exercise both index spaces.
        let mut names: Vec<&str> = t.instance_ids.iter().map(String::as_str).collect();
        names.extend(snapshot.interface_ids().into_iter().skip(t.instance_ids.len()));
        let sources: Vec<&str> = names.clone();
        let destinations: Vec<&str> = names.iter().skip(split % names.len()).copied().collect();
        let matrix = snapshot.matrix(&sources, &destinations, protocol, port).expect("known NICs");
        let mut allowed = 0u64;
        for (i, s) in sources.iter().enumerate() {
            for (j, d) in destinations.iter().enumerate() {
                let flow = Flow {
                    source: end(s),
                    destination: end(d),
                    protocol,
                    port,
                    source_port: None,
                };
                let verdict = snapshot.evaluate(&flow).expect("known NICs");
                prop_assert_eq!(matrix.allowed(i, j), verdict.allowed, "{:?}: {:?}", flow, verdict);
                allowed += u64::from(verdict.allowed);
            }
        }
        prop_assert_eq!(matrix.allowed_count(), allowed);
    }

    /// A known source port narrows quintuple rules the same way in both.
    #[test]
    fn matrix_with_a_source_port_equals_pairwise_evaluation(
        t in topology(),
        protocol in 0..protocols().len(),
        port in 0..ports().len(),
        source_port in 0..source_ports().len(),
    ) {
        let snapshot = Snapshot::build(&t.input);
        let (protocol, port, source_port) =
            (protocols()[protocol], ports()[port], source_ports()[source_port]);
        let ids: Vec<&str> = snapshot.interface_ids();
        let matrix = snapshot
            .matrix_with_source_port(&ids, &ids, protocol, port, source_port)
            .expect("known NICs");
        for (i, s) in ids.iter().enumerate() {
            for (j, d) in ids.iter().enumerate() {
                let flow = Flow {
                    source: end(s),
                    destination: end(d),
                    protocol,
                    port,
                    source_port,
                };
                let verdict = snapshot.evaluate(&flow).expect("known NICs");
                prop_assert_eq!(matrix.allowed(i, j), verdict.allowed, "{:?}: {:?}", flow, verdict);
            }
        }
    }
}

#[test]
fn an_unknown_instance_is_an_error() {
    let snapshot = Snapshot::build(&secgroup_reach::SnapshotInput::default());
    assert!(snapshot
        .matrix(
            &["i-missing"],
            &["i-missing"],
            secgroup_domain::rules::IpProtocol::Tcp,
            Some(22)
        )
        .is_err());
}
