//! VPCs with the same block stay apart; the outside namespace reaches instances as their
//! ingress alone decides, and instances reach it as their egress alone decides; an address
//! two VPCs hold is not reachable from outside.

mod support;

use std::net::{Ipv4Addr, TcpListener};

use secgroup_dataplane::{in_netns, AccountNetwork, OUTSIDE_ADDRESS};
use secgroup_domain::network::NetworkState;
use secgroup_domain::rules::{Direction, IpProtocol, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use support::*;

const PREFIX: &str = "sgt-out-";
const OUTSIDE_NS: &str = "sgt-out-outside";

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test setup")
}

/// VPC 1 and VPC 2, both 10.40.0.0/16: x1 (10.40.0.5) and y1 (10.40.0.5 too) clash; x2
/// (10.40.0.6) and y2 (10.40.0.7) do not. Everyone's ingress accepts all from anywhere,
/// except `closed` (normal, no rules: ingress denied, egress allowed); `mute` (enterprise,
/// ingress all from anywhere, no egress rule: egress denied).
fn networks() -> Vec<AccountNetwork> {
    let open_all = |id: &str, group: &str| {
        rule(
            id,
            group,
            Direction::Ingress,
            IpProtocol::All,
            (-1, -1),
            RulePolicy::Accept,
            1,
            cidr("0.0.0.0/0"),
        )
    };
    let nic = |id: &str, vpc: &str, vsw: &str, address: &str, groups: &[&str], mac: u8| {
        let mut i = instance(id, vpc, address, groups);
        i.vswitch_id = vsw.into();
        i.mac_address = format!("00:16:3e:00:40:{mac:02x}");
        i
    };
    vec![
        network(
            NetworkState {
                groups: vec![
                    group(
                        "sg-open1",
                        "vpc-out1",
                        SecurityGroupType::Normal,
                        InnerAccessPolicy::Drop,
                    ),
                    group(
                        "sg-closed",
                        "vpc-out1",
                        SecurityGroupType::Normal,
                        InnerAccessPolicy::Drop,
                    ),
                    group(
                        "sg-mute",
                        "vpc-out1",
                        SecurityGroupType::Enterprise,
                        InnerAccessPolicy::Drop,
                    ),
                ],
                rules: vec![open_all("sgr-o1", "sg-open1"), open_all("sgr-m", "sg-mute")],
                instances: vec![
                    nic(
                        "i-outx1",
                        "vpc-out1",
                        "vsw-out1",
                        "10.40.0.5",
                        &["sg-open1"],
                        1,
                    ),
                    nic(
                        "i-outx2",
                        "vpc-out1",
                        "vsw-out1",
                        "10.40.0.6",
                        &["sg-open1"],
                        2,
                    ),
                    nic(
                        "i-outc",
                        "vpc-out1",
                        "vsw-out1",
                        "10.40.0.8",
                        &["sg-closed"],
                        3,
                    ),
                    nic(
                        "i-outm",
                        "vpc-out1",
                        "vsw-out1",
                        "10.40.0.9",
                        &["sg-mute"],
                        4,
                    ),
                ],
                vpcs: vec![vpc("vpc-out1", "1", "10.40.0.0/16")],
                ..NetworkState::default()
            },
            vec![vswitch("vsw-out1", "vpc-out1", "10.40.0.0/24")],
        ),
        // Another account, with the same block.
        network(
            NetworkState {
                groups: vec![group(
                    "sg-open2",
                    "vpc-out2",
                    SecurityGroupType::Normal,
                    InnerAccessPolicy::Accept,
                )],
                rules: vec![open_all("sgr-o2", "sg-open2")],
                instances: vec![
                    nic(
                        "i-outy1",
                        "vpc-out2",
                        "vsw-out2",
                        "10.40.0.5",
                        &["sg-open2"],
                        5,
                    ),
                    nic(
                        "i-outy2",
                        "vpc-out2",
                        "vsw-out2",
                        "10.40.0.7",
                        &["sg-open2"],
                        6,
                    ),
                ],
                vpcs: vec![vpc("vpc-out2", "2", "10.40.0.0/16")],
                ..NetworkState::default()
            },
            vec![vswitch("vsw-out2", "vpc-out2", "10.40.0.0/24")],
        ),
    ]
}

#[test]
fn vpcs_with_one_block_stay_apart_and_the_outside_is_judged_by_one_end() {
    if !can_run("outside") {
        return;
    }
    let _guard = lock();
    let mut dp = dataplane(PREFIX);
    let desired = plan(PREFIX, &networks());
    assert!(
        !desired.outside.routes.contains_key(&ip("10.40.0.5")),
        "a clashing address is routed from outside"
    );
    dp.apply(&desired).expect("apply");

    // Who answers on 10.40.0.5 is told apart by port: 7001 only in x1, 7002 only in y1.
    let _x1 = in_netns("i-outx1", || {
        TcpListener::bind(("0.0.0.0", 7001)).expect("test setup")
    })
    .expect("test setup");
    let _y1 = in_netns("i-outy1", || {
        TcpListener::bind(("0.0.0.0", 7002)).expect("test setup")
    })
    .expect("test setup");
    let _listeners: Vec<Listeners> = ["i-outx2", "i-outc", "i-outm", "i-outy2"]
        .iter()
        .map(|n| Listeners::start(n))
        .collect();
    let outside_listener = in_netns(OUTSIDE_NS, || {
        TcpListener::bind(("0.0.0.0", 8080)).expect("test setup")
    })
    .expect("test setup");
    let out = OUTSIDE_ADDRESS;

    let cases: Vec<(&str, &str, Ipv4Addr, Probe, bool)> = vec![
        (
            "x2 reaches x1 (its own VPC's 10.40.0.5)",
            "i-outx2",
            ip("10.40.0.5"),
            Probe::Tcp(7001),
            true,
        ),
        (
            "x2 never reaches y1 (the other VPC's 10.40.0.5)",
            "i-outx2",
            ip("10.40.0.5"),
            Probe::Tcp(7002),
            false,
        ),
        (
            "y2 reaches y1",
            "i-outy2",
            ip("10.40.0.5"),
            Probe::Tcp(7002),
            true,
        ),
        (
            "y2 never reaches x2 (no 10.40.0.6 in its VPC)",
            "i-outy2",
            ip("10.40.0.6"),
            Probe::Tcp(22),
            false,
        ),
        (
            "y2 never reaches x2 by ping",
            "i-outy2",
            ip("10.40.0.6"),
            Probe::Icmp,
            false,
        ),
        (
            "outside reaches x2 (ingress accepts all)",
            OUTSIDE_NS,
            ip("10.40.0.6"),
            Probe::Tcp(22),
            true,
        ),
        (
            "outside reaches y2 over UDP",
            OUTSIDE_NS,
            ip("10.40.0.7"),
            Probe::Udp(53),
            true,
        ),
        (
            "outside pings y2",
            OUTSIDE_NS,
            ip("10.40.0.7"),
            Probe::Icmp,
            true,
        ),
        (
            "outside cannot reach a clashing address",
            OUTSIDE_NS,
            ip("10.40.0.5"),
            Probe::Tcp(7001),
            false,
        ),
        (
            "outside cannot reach closed (default ingress deny)",
            OUTSIDE_NS,
            ip("10.40.0.8"),
            Probe::Tcp(22),
            false,
        ),
        (
            "outside reaches mute: its egress denies, but only ingress judges",
            OUTSIDE_NS,
            ip("10.40.0.9"),
            Probe::Tcp(80),
            true,
        ),
        (
            "closed reaches outside: its ingress denies, but only egress judges",
            "i-outc",
            out,
            Probe::Tcp(8080),
            true,
        ),
        ("x2 reaches outside", "i-outx2", out, Probe::Tcp(8080), true),
        (
            "mute cannot reach outside (enterprise egress deny)",
            "i-outm",
            out,
            Probe::Tcp(8080),
            false,
        ),
        (
            "mute cannot ping outside",
            "i-outm",
            out,
            Probe::Icmp,
            false,
        ),
        ("x2 pings outside", "i-outx2", out, Probe::Icmp, true),
    ];
    let probes: Vec<(String, Ipv4Addr, Probe)> =
        cases.iter().map(|c| (c.1.to_string(), c.2, c.3)).collect();
    let results = probe_all(&probes);
    let wrong: Vec<String> = cases
        .iter()
        .zip(results)
        .filter(|(c, got)| c.4 != *got)
        .map(|(c, got)| format!("{}: got {got}", c.0))
        .collect();
    drop(outside_listener);

    // The outside namespace is deleted behind the data plane's back: the next apply makes
    // it again, with every uplink and route.
    let deleted = std::process::Command::new("ip")
        .args(["netns", "del", OUTSIDE_NS])
        .status()
        .expect("ip");
    assert!(deleted.success());
    dp.apply(&desired).expect("apply after the outside went");
    let again = probe_all(&[
        (OUTSIDE_NS.to_string(), ip("10.40.0.6"), Probe::Tcp(22)),
        (OUTSIDE_NS.to_string(), ip("10.40.0.7"), Probe::Icmp),
    ]);
    dp.cleanup().expect("cleanup");
    assert_clean(
        PREFIX,
        &[
            "i-outx1", "i-outx2", "i-outc", "i-outm", "i-outy1", "i-outy2",
        ],
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(again, [true, true], "outside after it was made again");
}
