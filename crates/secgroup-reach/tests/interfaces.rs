//! An instance with two interfaces in different groups: each interface is a NIC of its own
//! (docs/semantics.md §1), decided by its own groups at any of its addresses.

mod support;

use std::net::IpAddr;

use secgroup_domain::rules::{Cidr, Direction, IpProtocol, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use secgroup_reach::{Endpoint, Flow, ReachError, Snapshot, SnapshotInput, StepKind};
use support::{cidr, group, group_peer, instance, primary_interface, rule, secondary_interface};

fn ip(text: &str) -> IpAddr {
    text.parse().expect("address")
}

/// `i-a`: eth0 (`eni-i-a`) 10.0.0.10 and 10.0.0.11 in sg-front; eth1 (`eni-a1`) 10.0.0.20
/// and 10.0.0.21 in sg-back. `i-b` 10.0.0.30 in sg-db, which admits tcp/5432 from sg-back
/// only. sg-back admits tcp/22 from 10.0.0.30 and tcp/80 to 10.0.0.21 only. `eni-loose`
/// (10.0.0.40, sg-back) is attached to nothing.
fn input() -> SnapshotInput {
    let a = instance("i-a", "vpc-1", "10.0.0.10", &["sg-front"]);
    let b = instance("i-b", "vpc-1", "10.0.0.30", &["sg-db"]);
    let eth1 = secondary_interface("eni-a1", &a, 1, &["10.0.0.20", "10.0.0.21"], &["sg-back"]);
    let mut loose = secondary_interface("eni-loose", &a, 2, &["10.0.0.40"], &["sg-back"]);
    loose.instance_id = String::new();
    let mut http = rule(
        "sgr-http",
        "sg-back",
        Direction::Ingress,
        IpProtocol::Tcp,
        (80, 80),
        RulePolicy::Accept,
        1,
        cidr("0.0.0.0/0"),
    );
    http.spec.local_cidr = Cidr::parse_any("10.0.0.21/32");
    let basic = |id: &str| {
        group(
            id,
            "vpc-1",
            SecurityGroupType::Normal,
            InnerAccessPolicy::Drop,
        )
    };
    SnapshotInput {
        groups: vec![basic("sg-front"), basic("sg-back"), basic("sg-db")],
        rules: vec![
            rule(
                "sgr-db",
                "sg-db",
                Direction::Ingress,
                IpProtocol::Tcp,
                (5432, 5432),
                RulePolicy::Accept,
                1,
                group_peer("sg-back"),
            ),
            rule(
                "sgr-ssh",
                "sg-back",
                Direction::Ingress,
                IpProtocol::Tcp,
                (22, 22),
                RulePolicy::Accept,
                1,
                cidr("10.0.0.30/32"),
            ),
            http,
        ],
        interfaces: vec![
            primary_interface(&a, &["10.0.0.11"]),
            primary_interface(&b, &[]),
            eth1,
            loose,
        ],
        instances: vec![a, b],
        ..SnapshotInput::default()
    }
}

fn at(id: &str, address: Option<&str>) -> Endpoint {
    Endpoint::Interface {
        id: id.into(),
        address: address.map(ip),
    }
}

fn tcp(source: Endpoint, destination: Endpoint, port: u16) -> Flow {
    Flow {
        source,
        destination,
        protocol: IpProtocol::Tcp,
        port: Some(port),
        source_port: None,
    }
}

#[test]
fn traffic_to_the_second_interface_is_decided_by_its_own_groups() {
    let snapshot = Snapshot::build(&input());
    let b = || Endpoint::Nic("i-b".into());
    for address in [None, Some("10.0.0.20"), Some("10.0.0.21")] {
        let v = snapshot
            .evaluate(&tcp(b(), at("eni-a1", address), 22))
            .expect("known NICs");
        assert!(v.allowed, "{address:?}: {v:?}");
        let ingress = v.ingress.expect("ingress checked");
        assert_eq!(
            (ingress.instance_id.as_str(), ingress.interface_id.as_str()),
            ("i-a", "eni-a1")
        );
        assert_eq!(ingress.address, Some(ip(address.unwrap_or("10.0.0.20"))));
    }
    // eth0 of the same instance is in sg-front, which admits nothing: at either address.
    for to in [
        Endpoint::Nic("i-a".into()),
        at("eni-i-a", Some("10.0.0.11")),
    ] {
        let v = snapshot.evaluate(&tcp(b(), to, 22)).expect("known NICs");
        assert!(!v.allowed);
        assert_eq!(v.decided_by.kind(), StepKind::Default);
        assert_eq!(v.ingress.expect("checked").interface_id, "eni-i-a");
    }
}

#[test]
fn a_group_rule_admits_every_address_of_a_member_interface_and_no_other() {
    let snapshot = Snapshot::build(&input());
    let db = || Endpoint::Nic("i-b".into());
    for from in [
        at("eni-a1", None),
        at("eni-a1", Some("10.0.0.20")),
        at("eni-a1", Some("10.0.0.21")),
    ] {
        let v = snapshot
            .evaluate(&tcp(from.clone(), db(), 5432))
            .expect("known NICs");
        assert!(v.allowed, "{from:?}: {v:?}");
        assert_eq!(v.decided_by.kind(), StepKind::Rule);
        assert_eq!(v.egress.expect("checked").interface_id, "eni-a1");
    }
    for from in [
        Endpoint::Nic("i-a".into()),
        at("eni-i-a", None),
        at("eni-i-a", Some("10.0.0.11")),
    ] {
        let v = snapshot
            .evaluate(&tcp(from.clone(), db(), 5432))
            .expect("known NICs");
        assert!(!v.allowed, "{from:?}: {v:?}");
    }
}

#[test]
fn a_quintuple_block_sees_the_address_the_flow_uses() {
    let snapshot = Snapshot::build(&input());
    let outside = || Endpoint::Outside(ip("203.0.113.9"));
    let to = |a| snapshot.evaluate(&tcp(outside(), at("eni-a1", Some(a)), 80));
    assert!(to("10.0.0.21").expect("known").allowed);
    assert!(!to("10.0.0.20").expect("known").allowed);
}

#[test]
fn every_attached_address_is_a_nic_and_a_loose_interface_is_none() {
    let snapshot = Snapshot::build(&input());
    let b = || Endpoint::Nic("i-b".into());
    for address in ["10.0.0.10", "10.0.0.11", "10.0.0.20", "10.0.0.21"] {
        assert_eq!(
            snapshot.evaluate(&tcp(Endpoint::Outside(ip(address)), b(), 5432)),
            Err(ReachError::AddressIsNic {
                address: ip(address),
                instance_id: "i-a".into()
            })
        );
    }
    let loose = snapshot
        .evaluate(&tcp(Endpoint::Outside(ip("10.0.0.40")), b(), 5432))
        .expect("an outside address");
    assert!(!loose.allowed, "an outside address is nobody's member");
    assert_eq!(
        snapshot.evaluate(&tcp(at("eni-loose", None), b(), 5432)),
        Err(ReachError::UnknownInstance("eni-loose".into()))
    );
    assert_eq!(
        snapshot.evaluate(&tcp(at("eni-a1", Some("10.0.0.11")), b(), 5432)),
        Err(ReachError::UnknownInstance("eni-a1 at 10.0.0.11".into())),
        "an address of another interface of the same instance"
    );
    assert_eq!(snapshot.members_of("sg-back"), vec!["i-a"]);
    assert_eq!(snapshot.interface_members_of("sg-back"), vec!["eni-a1"]);
    assert_eq!(snapshot.instance_ids(), vec!["i-a", "i-b"]);
    assert_eq!(
        snapshot.interface_ids(),
        vec!["eni-i-a", "eni-i-b", "eni-a1"]
    );
    assert_eq!(snapshot.instance_of_interface("eni-a1"), Some("i-a"));
}

#[test]
fn a_matrix_names_interfaces_as_well_as_instances() {
    let snapshot = Snapshot::build(&input());
    let names = ["i-a", "eni-a1", "i-b"];
    let m = snapshot
        .matrix(&names, &names, IpProtocol::Tcp, Some(5432))
        .expect("known NICs");
    assert!(m.allowed(1, 2), "eth1 reaches the database");
    assert!(!m.allowed(0, 2), "eth0 does not");
    assert_eq!(m.allowed_count(), 1);
}

#[test]
fn without_interface_records_each_instance_is_its_primary_interface() {
    let mut input = input();
    input.interfaces.clear();
    let snapshot = Snapshot::build(&input);
    assert_eq!(snapshot.interface_ids(), vec!["eni-i-a", "eni-i-b"]);
    let from = Endpoint::Outside(ip("10.0.0.11"));
    assert!(
        snapshot
            .evaluate(&tcp(from, Endpoint::Nic("i-b".into()), 5432))
            .is_ok(),
        "a secondary address nobody knows of is outside"
    );
    assert_eq!(
        snapshot.evaluate(&tcp(at("eni-a1", None), Endpoint::Nic("i-b".into()), 1)),
        Err(ReachError::UnknownInstance("eni-a1".into()))
    );
}
