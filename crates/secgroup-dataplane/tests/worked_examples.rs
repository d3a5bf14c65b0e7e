//! Every worked example of docs/semantics.md §6, with real packets between namespaces the data
//! plane made. The examples are applied one after another to the same data plane (so the
//! incremental path is what is exercised), and each is also checked against the engine.

mod support;

use std::net::Ipv4Addr;

use secgroup_dataplane::AccountNetwork;
use secgroup_domain::network::NetworkState;
use secgroup_domain::rules::{Direction, IpProtocol, Rule, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use secgroup_reach::{Endpoint, Flow, Snapshot};
use support::*;

use Direction::{Egress, Ingress};
use IpProtocol::{All, Tcp};
use RulePolicy::{Accept as Allow, Drop};

const PREFIX: &str = "sgt-we-";
const A: &str = "i-wea";
const B: &str = "i-web";
const A_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const B_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 6);

struct Example {
    name: &'static str,
    groups: Vec<secgroup_domain::SecurityGroup>,
    a_groups: Vec<&'static str>,
    b_groups: Vec<&'static str>,
    b_vpc: &'static str,
    rules: Vec<Rule>,
    port: u16,
    allowed: bool,
}

fn normal(id: &str, policy: InnerAccessPolicy) -> secgroup_domain::SecurityGroup {
    group(id, "vpc-we1", SecurityGroupType::Normal, policy)
}

fn examples() -> Vec<Example> {
    use InnerAccessPolicy::{Accept, Drop as Isolate};
    let g1_ingress_from_g1 = rule(
        "sgr-1",
        "sg-g1",
        Ingress,
        Tcp,
        (22, 22),
        Allow,
        1,
        group_peer("sg-g1"),
    );
    let g1_egress_drop = rule(
        "sgr-2",
        "sg-g1",
        Egress,
        Tcp,
        (22, 22),
        Drop,
        1,
        cidr("0.0.0.0/0"),
    );
    let b_accept_range = rule(
        "sgr-3",
        "sg-g2",
        Ingress,
        Tcp,
        (1, 65535),
        Allow,
        10,
        cidr("10.0.0.0/8"),
    );
    let b_drop_22 = |priority| {
        rule(
            "sgr-4",
            "sg-g2",
            Ingress,
            Tcp,
            (22, 22),
            Drop,
            priority,
            cidr("10.0.0.5/32"),
        )
    };
    vec![
        Example {
            name: "A, B in G1 (Accept), no rules: allowed by inner access",
            groups: vec![normal("sg-g1", Accept)],
            a_groups: vec!["sg-g1"],
            b_groups: vec!["sg-g1"],
            b_vpc: "vpc-we1",
            rules: vec![],
            port: 22,
            allowed: true,
        },
        Example {
            name: "A, B in G1 (Drop), no rules: default ingress deny at B",
            groups: vec![normal("sg-g1", Isolate)],
            a_groups: vec!["sg-g1"],
            b_groups: vec!["sg-g1"],
            b_vpc: "vpc-we1",
            rules: vec![],
            port: 22,
            allowed: false,
        },
        Example {
            name: "G1 (Drop) with ingress accept tcp 22 from G1: allowed by the rule at B",
            groups: vec![normal("sg-g1", Isolate)],
            a_groups: vec!["sg-g1"],
            b_groups: vec!["sg-g1"],
            b_vpc: "vpc-we1",
            rules: vec![g1_ingress_from_g1.clone()],
            port: 22,
            allowed: true,
        },
        Example {
            name: "same, and G1 egress drop tcp 22 to 0.0.0.0/0: denied at A's egress",
            groups: vec![normal("sg-g1", Isolate)],
            a_groups: vec!["sg-g1"],
            b_groups: vec!["sg-g1"],
            b_vpc: "vpc-we1",
            rules: vec![g1_ingress_from_g1, g1_egress_drop],
            port: 22,
            allowed: false,
        },
        Example {
            name: "G1 (Accept) with ingress drop tcp 22 from 0.0.0.0/0: inner access overrides",
            groups: vec![normal("sg-g1", Accept)],
            a_groups: vec!["sg-g1"],
            b_groups: vec!["sg-g1"],
            b_vpc: "vpc-we1",
            rules: vec![rule("sgr-5", "sg-g1", Ingress, Tcp, (22, 22), Drop, 1, cidr("0.0.0.0/0"))],
            port: 22,
            allowed: true,
        },
        Example {
            name: "B in G2: accept 1-65535 from 10/8 and drop 22 from A/32, both priority 10: drop wins",
            groups: vec![normal("sg-g2", Isolate), normal("sg-g3", Isolate)],
            a_groups: vec!["sg-g3"],
            b_groups: vec!["sg-g2"],
            b_vpc: "vpc-we1",
            rules: vec![b_accept_range.clone(), b_drop_22(10)],
            port: 22,
            allowed: false,
        },
        Example {
            name: "same but the drop has priority 20: the priority-10 accept decides",
            groups: vec![normal("sg-g2", Isolate), normal("sg-g3", Isolate)],
            a_groups: vec!["sg-g3"],
            b_groups: vec!["sg-g2"],
            b_vpc: "vpc-we1",
            rules: vec![b_accept_range, b_drop_22(20)],
            port: 22,
            allowed: true,
        },
        Example {
            name: "A in enterprise E1 (no rules), B in E2 accepting all from A/32: A's egress denies",
            groups: vec![
                group("sg-e1", "vpc-we1", SecurityGroupType::Enterprise, Isolate),
                group("sg-e2", "vpc-we1", SecurityGroupType::Enterprise, Isolate),
            ],
            a_groups: vec!["sg-e1"],
            b_groups: vec!["sg-e2"],
            b_vpc: "vpc-we1",
            rules: vec![rule("sgr-6", "sg-e2", Ingress, All, (-1, -1), Allow, 1, cidr("10.0.0.5/32"))],
            port: 80,
            allowed: false,
        },
        Example {
            name: "A in VPC-1, B in VPC-2 (same block), everything open: different VPCs",
            groups: vec![normal("sg-g1", Accept)],
            a_groups: vec!["sg-g1"],
            b_groups: vec!["sg-g1"],
            b_vpc: "vpc-we2",
            rules: vec![
                rule("sgr-7", "sg-g1", Ingress, All, (-1, -1), Allow, 1, cidr("0.0.0.0/0")),
                rule("sgr-8", "sg-g1", Egress, All, (-1, -1), Allow, 1, cidr("0.0.0.0/0")),
            ],
            port: 22,
            allowed: false,
        },
    ]
}

fn network_of(example: &Example) -> AccountNetwork {
    let mut a = instance(A, "vpc-we1", "10.0.0.5", &example.a_groups);
    a.vswitch_id = "vsw-we1".into();
    a.mac_address = "00:16:3e:00:20:05".into();
    let mut b = instance(B, example.b_vpc, "10.0.0.6", &example.b_groups);
    b.vswitch_id = if example.b_vpc == "vpc-we1" {
        "vsw-we1"
    } else {
        "vsw-we2"
    }
    .into();
    b.mac_address = "00:16:3e:00:20:06".into();
    network(
        NetworkState {
            groups: example.groups.clone(),
            rules: example.rules.clone(),
            instances: vec![a, b],
            vpcs: vec![
                vpc("vpc-we1", "1", "10.0.0.0/16"),
                vpc("vpc-we2", "1", "10.0.0.0/16"),
            ],
            ..NetworkState::default()
        },
        vec![
            vswitch("vsw-we1", "vpc-we1", "10.0.0.0/24"),
            vswitch("vsw-we2", "vpc-we2", "10.0.0.0/24"),
        ],
    )
}

#[test]
fn every_worked_example_holds_for_real_packets() {
    if !can_run("worked_examples") {
        return;
    }
    let _guard = lock();
    let mut dp = dataplane(PREFIX);
    let mut listeners = Vec::new();
    let mut failures = Vec::new();
    for example in examples() {
        let networks = vec![network_of(&example)];
        dp.apply(&plan(PREFIX, &networks)).expect(example.name);
        if listeners.is_empty() {
            listeners.push(Listeners::start(A));
            listeners.push(Listeners::start(B));
        }
        let engine = Snapshot::build(&networks[0].state)
            .evaluate(&Flow {
                source: Endpoint::Nic(A.into()),
                destination: Endpoint::Nic(B.into()),
                protocol: Tcp,
                port: Some(example.port),
                source_port: None,
            })
            .expect("known NICs");
        assert_eq!(
            engine.allowed, example.allowed,
            "the engine disagrees with docs/semantics.md on: {}",
            example.name
        );
        let got = probe(A, B_IP, Probe::Tcp(example.port));
        if got != example.allowed {
            failures.push(format!(
                "{}: packets say {got}, docs/semantics.md says {}",
                example.name, example.allowed
            ));
        }
        // The reverse direction and the other protocols agree with the engine too.
        let snapshot = Snapshot::build(&networks[0].state);
        let mut probes = Vec::new();
        let mut wants = Vec::new();
        for (from, to, to_ip) in [(A, B, B_IP), (B, A, A_IP)] {
            for what in [Probe::Tcp(22), Probe::Tcp(80), Probe::Udp(53), Probe::Icmp] {
                let (protocol, port) = match what {
                    Probe::Tcp(p) => (Tcp, Some(p)),
                    Probe::Udp(p) => (IpProtocol::Udp, Some(p)),
                    Probe::Icmp => (IpProtocol::Icmp, None),
                };
                let want = snapshot
                    .evaluate(&Flow {
                        source: Endpoint::Nic(from.into()),
                        destination: Endpoint::Nic(to.into()),
                        protocol,
                        port,
                        source_port: None,
                    })
                    .expect("known")
                    .allowed;
                probes.push((from.to_string(), to_ip, what));
                wants.push((from, to, want));
            }
        }
        for ((got, (from, to, want)), (_, _, what)) in
            probe_all(&probes).into_iter().zip(wants).zip(&probes)
        {
            if got != want {
                failures.push(format!(
                    "{}: {from} -> {to} {what:?}: packets {got}, engine {want}",
                    example.name
                ));
            }
        }
    }
    drop(listeners);
    dp.cleanup().expect("cleanup");
    assert_clean(PREFIX, &[A, B]);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
