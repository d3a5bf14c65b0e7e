//! Every worked example of docs/semantics.md §6, built from domain values.

mod support;

use secgroup_domain::rules::{Direction, IpProtocol, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use secgroup_reach::{Endpoint, Flow, Snapshot, SnapshotInput, Step, StepKind, Verdict};
use support::{cidr, group, group_peer, instance, rule};

use Direction::{Egress, Ingress};
use InnerAccessPolicy::{Accept, Drop as DropPolicy};
use IpProtocol::Tcp;
use RulePolicy::{Accept as Allow, Drop};
use SecurityGroupType::{Enterprise, Normal};

fn tcp(from: &str, to: &str, port: u16) -> Flow {
    Flow {
        source: Endpoint::Nic(from.into()),
        destination: Endpoint::Nic(to.into()),
        protocol: Tcp,
        port: Some(port),
        source_port: None,
    }
}

fn decide(input: SnapshotInput, flow: Flow) -> Verdict {
    Snapshot::build(&input)
        .evaluate(&flow)
        .expect("both ends are known NICs")
}

fn two_in_g1(policy: InnerAccessPolicy, rules: Vec<secgroup_domain::rules::Rule>) -> SnapshotInput {
    SnapshotInput {
        groups: vec![group("sg-1", "vpc-1", Normal, policy)],
        instances: vec![
            instance("i-a", "vpc-1", "10.0.0.5", &["sg-1"]),
            instance("i-b", "vpc-1", "10.0.0.6", &["sg-1"]),
        ],
        rules,
        ..SnapshotInput::default()
    }
}

#[test]
fn accept_policy_with_no_rules_allows_by_inner_access() {
    let v = decide(two_in_g1(Accept, vec![]), tcp("i-a", "i-b", 22));
    assert!(v.allowed);
    assert_eq!(
        v.decided_by,
        Step::InnerAccess {
            group_id: "sg-1".into()
        }
    );
}

#[test]
fn drop_policy_with_no_rules_denies_by_default_ingress_at_b() {
    let v = decide(two_in_g1(DropPolicy, vec![]), tcp("i-a", "i-b", 22));
    assert!(!v.allowed);
    let ingress_default = Step::Default {
        direction: Ingress,
        group_type: Normal,
    };
    assert_eq!(v.decided_by, ingress_default);
    assert_eq!(v.blocking, vec![ingress_default]);
    assert_eq!(v.ingress.map(|o| o.instance_id), Some("i-b".into()));
}

fn self_reference_rule() -> secgroup_domain::rules::Rule {
    rule(
        "sgr-in",
        "sg-1",
        Ingress,
        Tcp,
        (22, 22),
        Allow,
        1,
        group_peer("sg-1"),
    )
}

#[test]
fn drop_policy_with_a_self_referencing_ingress_rule_allows() {
    let v = decide(
        two_in_g1(DropPolicy, vec![self_reference_rule()]),
        tcp("i-a", "i-b", 22),
    );
    assert!(v.allowed);
    assert_eq!(
        v.decided_by,
        Step::Rule {
            group_id: "sg-1".into(),
            rule_id: "sgr-in".into(),
            direction: Ingress,
            priority: 1,
            policy: Allow,
        }
    );
}

#[test]
fn an_egress_drop_at_a_denies_despite_the_ingress_accept_at_b() {
    let egress_drop = rule(
        "sgr-out",
        "sg-1",
        Egress,
        Tcp,
        (22, 22),
        Drop,
        1,
        cidr("0.0.0.0/0"),
    );
    let v = decide(
        two_in_g1(DropPolicy, vec![self_reference_rule(), egress_drop]),
        tcp("i-a", "i-b", 22),
    );
    assert!(!v.allowed);
    let step = Step::Rule {
        group_id: "sg-1".into(),
        rule_id: "sgr-out".into(),
        direction: Egress,
        priority: 1,
        policy: Drop,
    };
    assert_eq!(v.decided_by, step);
    assert_eq!(v.blocking, vec![step]);
    assert_eq!(v.egress.map(|o| o.instance_id), Some("i-a".into()));
}

#[test]
fn inner_access_accept_overrides_an_ingress_drop() {
    let drop_all = rule(
        "sgr-d",
        "sg-1",
        Ingress,
        Tcp,
        (22, 22),
        Drop,
        1,
        cidr("0.0.0.0/0"),
    );
    let v = decide(two_in_g1(Accept, vec![drop_all]), tcp("i-a", "i-b", 22));
    assert!(v.allowed);
    assert_eq!(v.decided_by.kind(), StepKind::InnerAccess);
}

fn b_in_g2_with_drop_priority(drop_priority: u8) -> SnapshotInput {
    SnapshotInput {
        groups: vec![
            group("sg-1", "vpc-1", Normal, Accept),
            group("sg-2", "vpc-1", Normal, Accept),
        ],
        instances: vec![
            instance("i-a", "vpc-1", "10.0.0.5", &["sg-1"]),
            instance("i-b", "vpc-1", "10.0.0.6", &["sg-2"]),
        ],
        rules: vec![
            rule(
                "sgr-acc",
                "sg-2",
                Ingress,
                Tcp,
                (1, 65535),
                Allow,
                10,
                cidr("10.0.0.0/8"),
            ),
            rule(
                "sgr-drop",
                "sg-2",
                Ingress,
                Tcp,
                (22, 22),
                Drop,
                drop_priority,
                cidr("10.0.0.5/32"),
            ),
        ],
        ..SnapshotInput::default()
    }
}

#[test]
fn at_equal_priority_drop_wins() {
    let v = decide(b_in_g2_with_drop_priority(10), tcp("i-a", "i-b", 22));
    assert!(!v.allowed);
    let drop = Step::Rule {
        group_id: "sg-2".into(),
        rule_id: "sgr-drop".into(),
        direction: Ingress,
        priority: 10,
        policy: Drop,
    };
    assert_eq!(v.decided_by, drop);
    assert_eq!(v.blocking, vec![drop]);
}

#[test]
fn a_smaller_priority_number_wins() {
    let v = decide(b_in_g2_with_drop_priority(20), tcp("i-a", "i-b", 22));
    assert!(v.allowed);
    assert!(matches!(
        v.decided_by,
        Step::Rule { ref rule_id, priority: 10, policy: Allow, .. } if rule_id == "sgr-acc"
    ));
}

#[test]
fn enterprise_source_without_rules_is_denied_by_its_default_egress() {
    let input = SnapshotInput {
        groups: vec![
            group("sg-e1", "vpc-1", Enterprise, DropPolicy),
            group("sg-e2", "vpc-1", Enterprise, DropPolicy),
        ],
        instances: vec![
            instance("i-a", "vpc-1", "10.0.0.5", &["sg-e1"]),
            instance("i-b", "vpc-1", "10.0.0.6", &["sg-e2"]),
        ],
        rules: vec![rule(
            "sgr-all",
            "sg-e2",
            Ingress,
            IpProtocol::All,
            (-1, -1),
            Allow,
            1,
            cidr("10.0.0.5/32"),
        )],
        ..SnapshotInput::default()
    };
    let v = decide(input, tcp("i-a", "i-b", 80));
    assert!(!v.allowed);
    let egress_default = Step::Default {
        direction: Egress,
        group_type: Enterprise,
    };
    assert_eq!(v.decided_by, egress_default);
    assert_eq!(v.blocking, vec![egress_default]);
}

#[test]
fn different_vpcs_are_denied_whatever_the_rules() {
    let input = SnapshotInput {
        groups: vec![
            group("sg-1", "vpc-1", Normal, Accept),
            group("sg-2", "vpc-2", Normal, Accept),
        ],
        instances: vec![
            instance("i-a", "vpc-1", "10.0.0.5", &["sg-1"]),
            instance("i-b", "vpc-2", "10.0.0.6", &["sg-2"]),
        ],
        rules: vec![rule(
            "sgr-any",
            "sg-2",
            Ingress,
            IpProtocol::All,
            (-1, -1),
            Allow,
            1,
            cidr("0.0.0.0/0"),
        )],
        ..SnapshotInput::default()
    };
    let v = decide(input, tcp("i-a", "i-b", 22));
    assert!(!v.allowed);
    assert_eq!(v.decided_by.kind(), StepKind::DifferentVpc);
}

#[test]
fn a_denied_flow_names_both_directions_and_an_outside_flow_carries_the_scope_note() {
    let input = SnapshotInput {
        groups: vec![group("sg-e", "vpc-1", Enterprise, DropPolicy)],
        instances: vec![
            instance("i-a", "vpc-1", "10.0.0.5", &["sg-e"]),
            instance("i-b", "vpc-1", "10.0.0.6", &["sg-e"]),
        ],
        ..SnapshotInput::default()
    };
    let snapshot = Snapshot::build(&input);
    let v = snapshot
        .evaluate(&tcp("i-a", "i-b", 22))
        .expect("known NICs");
    assert_eq!(v.blocking.len(), 2);
    assert!(v.scope_note.is_none());
    let outside = Flow {
        source: Endpoint::Outside("203.0.113.9".parse().expect("address")),
        ..tcp("i-a", "i-b", 22)
    };
    let v = snapshot.evaluate(&outside).expect("one NIC");
    assert!(!v.allowed && v.egress.is_none() && v.scope_note.is_some());
}
