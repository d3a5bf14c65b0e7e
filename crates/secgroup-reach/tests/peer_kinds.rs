//! Prefix-list, quintuple, outside-address and cross-account peers, one case each.

mod support;

use secgroup_domain::rules::{Cidr, Direction, IpProtocol, PortRange, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use secgroup_reach::{Endpoint, Flow, ReachError, Snapshot, SnapshotInput, StepKind};
use support::{cidr, group, group_peer, instance, prefix_list, rule};

fn web_server(rules: Vec<secgroup_domain::rules::Rule>) -> Snapshot {
    Snapshot::build(&SnapshotInput {
        groups: vec![group(
            "sg-web",
            "vpc-1",
            SecurityGroupType::Normal,
            InnerAccessPolicy::Drop,
        )],
        instances: vec![instance("i-web", "vpc-1", "10.0.0.10", &["sg-web"])],
        prefix_lists: vec![prefix_list("pl-office", &["198.51.100.0/24"])],
        rules,
        ..SnapshotInput::default()
    })
}

fn from_outside(address: &str, port: u16, source_port: Option<u16>) -> Flow {
    Flow {
        source: Endpoint::Outside(address.parse().expect("address")),
        destination: Endpoint::Nic("i-web".into()),
        protocol: IpProtocol::Tcp,
        port: Some(port),
        source_port,
    }
}

#[test]
fn a_prefix_list_rule_matches_addresses_in_its_entries_only() {
    let snapshot = web_server(vec![rule(
        "sgr-pl",
        "sg-web",
        Direction::Ingress,
        IpProtocol::Tcp,
        (443, 443),
        RulePolicy::Accept,
        1,
        secgroup_domain::rules::Peer::PrefixList("pl-office".into()),
    )]);
    let inside = snapshot
        .evaluate(&from_outside("198.51.100.7", 443, None))
        .expect("one NIC");
    assert!(inside.allowed && inside.scope_note.is_some());
    let outside = snapshot
        .evaluate(&from_outside("203.0.113.7", 443, None))
        .expect("one NIC");
    assert!(!outside.allowed);
    assert_eq!(outside.decided_by.kind(), StepKind::Default);
}

#[test]
fn a_quintuple_rule_needs_its_source_ports_and_local_block() {
    let mut r = rule(
        "sgr-5",
        "sg-web",
        Direction::Ingress,
        IpProtocol::Tcp,
        (443, 443),
        RulePolicy::Accept,
        1,
        cidr("0.0.0.0/0"),
    );
    r.spec.source_port_range = Some(PortRange {
        from: 1024,
        to: 65535,
    });
    r.spec.local_cidr = Cidr::parse_v4("10.0.0.0/24");
    let snapshot = web_server(vec![r.clone()]);
    let ask = |sp| {
        snapshot
            .evaluate(&from_outside("203.0.113.7", 443, sp))
            .expect("one NIC")
            .allowed
    };
    assert!(ask(Some(40000)));
    assert!(!ask(Some(80)));
    assert!(
        !ask(None),
        "an unknown source port is in no particular range"
    );
    r.spec.local_cidr = Cidr::parse_v4("10.0.1.0/24");
    let elsewhere = web_server(vec![r]);
    assert!(
        !elsewhere
            .evaluate(&from_outside("203.0.113.7", 443, Some(40000)))
            .expect("one NIC")
            .allowed
    );
}

#[test]
fn another_accounts_group_matches_no_nic_of_this_account() {
    let snapshot = web_server(vec![rule(
        "sgr-x",
        "sg-web",
        Direction::Ingress,
        IpProtocol::All,
        (-1, -1),
        RulePolicy::Accept,
        1,
        group_peer("sg-of-another-account"),
    )]);
    assert!(
        !snapshot
            .evaluate(&from_outside("203.0.113.7", 22, None))
            .expect("one NIC")
            .allowed
    );
}

#[test]
fn questions_the_snapshot_cannot_answer_are_errors() {
    let snapshot = web_server(Vec::new());
    let nic_address = from_outside("10.0.0.10", 22, None);
    assert!(matches!(
        snapshot.evaluate(&nic_address),
        Err(ReachError::AddressIsNic { .. })
    ));
    let unknown = Flow {
        destination: Endpoint::Nic("i-nope".into()),
        ..from_outside("203.0.113.7", 22, None)
    };
    assert_eq!(
        snapshot.evaluate(&unknown),
        Err(ReachError::UnknownInstance("i-nope".into()))
    );
    let nowhere = Flow {
        destination: Endpoint::Outside("192.0.2.1".parse().expect("address")),
        ..unknown
    };
    assert_eq!(snapshot.evaluate(&nowhere), Err(ReachError::NoNic));
    assert_eq!(snapshot.members_of("sg-web"), vec!["i-web"]);
}
