//! Quintuple rules with fixed source ports: `SourcePortRange` on ingress and egress, and the
//! rule's own-address side (`DestCidrIp` on ingress, `SourceCidrIp` on egress), each probe
//! compared with the engine given the same source port.

mod support;

use std::net::Ipv4Addr;

use secgroup_dataplane::AccountNetwork;
use secgroup_domain::network::NetworkState;
use secgroup_domain::rules::{Cidr, Direction, IpProtocol, PortRange, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use secgroup_reach::{Endpoint, Flow, Snapshot};
use support::*;

const PREFIX: &str = "sgt-sp-";

fn networks() -> Vec<AccountNetwork> {
    use Direction::{Egress, Ingress};
    use RulePolicy::{Accept, Drop};
    let with =
        |mut r: secgroup_domain::rules::Rule, sport: Option<(i32, i32)>, local: Option<&str>| {
            r.spec.source_port_range = sport.map(|(from, to)| PortRange { from, to });
            r.spec.local_cidr = local.and_then(Cidr::parse_any);
            r
        };
    let rules = vec![
        // b (normal): TCP 22 only from source ports 1000-2000; UDP 53 from 5000-5100.
        with(
            rule(
                "sgr-t",
                "sg-spb",
                Ingress,
                IpProtocol::Tcp,
                (22, 22),
                Accept,
                1,
                cidr("10.60.0.0/24"),
            ),
            Some((1000, 2000)),
            None,
        ),
        with(
            rule(
                "sgr-u",
                "sg-spb",
                Ingress,
                IpProtocol::Udp,
                (53, 53),
                Accept,
                1,
                cidr("10.60.0.0/24"),
            ),
            Some((5000, 5100)),
            None,
        ),
        // TCP 80 is open only on the member whose own address is 10.60.0.6 (b, not c).
        with(
            rule(
                "sgr-l",
                "sg-spb",
                Ingress,
                IpProtocol::Tcp,
                (80, 80),
                Accept,
                1,
                cidr("0.0.0.0/0"),
            ),
            None,
            Some("10.60.0.6/32"),
        ),
        // e (enterprise): egress TCP 22 only from source ports 3000-4000, and all egress from
        // its own address but drop UDP from source port 6000.
        with(
            rule(
                "sgr-e",
                "sg-spe",
                Egress,
                IpProtocol::Tcp,
                (22, 22),
                Accept,
                1,
                cidr("10.60.0.0/24"),
            ),
            Some((3000, 4000)),
            None,
        ),
        with(
            rule(
                "sgr-eu",
                "sg-spe",
                Egress,
                IpProtocol::Udp,
                (53, 53),
                Accept,
                2,
                cidr("10.60.0.0/24"),
            ),
            None,
            Some("10.60.0.9/32"),
        ),
        with(
            rule(
                "sgr-ed",
                "sg-spe",
                Egress,
                IpProtocol::Udp,
                (1, 65535),
                Drop,
                2,
                cidr("0.0.0.0/0"),
            ),
            Some((6000, 6000)),
            None,
        ),
    ];
    let nic = |id: &str, address: &str, groups: &[&str], mac: u8| {
        let mut i = instance(id, "vpc-sp", address, groups);
        i.vswitch_id = "vsw-sp".into();
        i.mac_address = format!("00:16:3e:00:60:{mac:02x}");
        i
    };
    vec![network(
        NetworkState {
            groups: vec![
                group(
                    "sg-spa",
                    "vpc-sp",
                    SecurityGroupType::Normal,
                    InnerAccessPolicy::Drop,
                ),
                group(
                    "sg-spb",
                    "vpc-sp",
                    SecurityGroupType::Normal,
                    InnerAccessPolicy::Drop,
                ),
                group(
                    "sg-spe",
                    "vpc-sp",
                    SecurityGroupType::Enterprise,
                    InnerAccessPolicy::Drop,
                ),
            ],
            rules,
            instances: vec![
                nic("i-spa", "10.60.0.5", &["sg-spa"], 5),
                nic("i-spb", "10.60.0.6", &["sg-spb"], 6),
                nic("i-spc", "10.60.0.7", &["sg-spb"], 7),
                nic("i-spe", "10.60.0.9", &["sg-spe"], 9),
            ],
            vpcs: vec![vpc("vpc-sp", "1", "10.60.0.0/16")],
            ..NetworkState::default()
        },
        vec![vswitch("vsw-sp", "vpc-sp", "10.60.0.0/24")],
    )]
}

#[test]
fn source_ports_and_own_address_blocks_decide_like_the_engine() {
    if !can_run("source_ports") {
        return;
    }
    let _guard = lock();
    let networks = networks();
    let mut dp = dataplane(PREFIX);
    dp.apply(&plan(PREFIX, &networks)).expect("apply");
    let _l: Vec<Listeners> = ["i-spb", "i-spc"]
        .iter()
        .map(|n| Listeners::start(n))
        .collect();
    let snapshot = Snapshot::build(&networks[0].state);
    let address = |id: &str| -> Ipv4Addr {
        networks[0]
            .state
            .instances
            .iter()
            .find(|i| i.id == id)
            .expect("test setup")
            .private_ip
            .parse()
            .expect("test setup")
    };
    let cases: Vec<(&str, &str, Probe, u16, bool)> = vec![
        ("i-spa", "i-spb", Probe::Tcp(22), 1500, true),
        ("i-spa", "i-spb", Probe::Tcp(22), 2500, false),
        ("i-spa", "i-spb", Probe::Udp(53), 5050, true),
        ("i-spa", "i-spb", Probe::Udp(53), 5200, false),
        ("i-spa", "i-spb", Probe::Tcp(80), 40001, true),
        ("i-spa", "i-spc", Probe::Tcp(80), 40002, false),
        ("i-spe", "i-spb", Probe::Tcp(22), 3500, false), // e's egress allows, b's ingress wants 1000-2000
        ("i-spe", "i-spb", Probe::Tcp(22), 1500, false), // b's ingress allows, e's egress wants 3000-4000
        ("i-spe", "i-spb", Probe::Udp(53), 5050, true),
        ("i-spe", "i-spb", Probe::Udp(53), 6000, false), // drop at equal priority wins
    ];
    let mut wrong = Vec::new();
    for (from, to, what, sport, expected) in &cases {
        let (protocol, port) = match what {
            Probe::Tcp(p) => (IpProtocol::Tcp, *p),
            Probe::Udp(p) => (IpProtocol::Udp, *p),
            Probe::Icmp => unreachable!(),
        };
        let engine = snapshot
            .evaluate(&Flow {
                source: Endpoint::Nic(from.to_string()),
                destination: Endpoint::Nic(to.to_string()),
                protocol,
                port: Some(port),
                source_port: Some(*sport),
            })
            .expect("known")
            .allowed;
        let got = probe_from(from, address(to), *what, Some(*sport));
        if got != engine || got != *expected {
            wrong.push(format!("{from} -> {to} {what:?} from port {sport}: packets {got}, engine {engine}, expected {expected}"));
        }
    }
    dp.cleanup().expect("cleanup");
    assert_clean(PREFIX, &["i-spa", "i-spb", "i-spc", "i-spe"]);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
