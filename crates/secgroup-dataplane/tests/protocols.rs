//! GRE with real packets (the probes elsewhere are TCP, UDP and ICMP): a GRE rule lets GRE
//! through, an ALL rule does too, an ICMP rule does not, even for a GRE flow that was
//! established under the GRE rule; and the engine agrees.

mod support;

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use secgroup_dataplane::{in_netns, AccountNetwork};
use secgroup_domain::network::NetworkState;
use secgroup_domain::rules::{Direction, IpProtocol, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use secgroup_reach::{Endpoint, Flow, Snapshot};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use support::*;

const PREFIX: &str = "sgt-gre-";
const GRE: i32 = 47;

/// b admits from a what `protocol` names (GRE, ALL or ICMP).
fn networks(protocol: IpProtocol) -> Vec<AccountNetwork> {
    let nic = |id: &str, address: &str, groups: &[&str], mac: u8| {
        let mut i = instance(id, "vpc-gre", address, groups);
        i.vswitch_id = "vsw-gre".into();
        i.mac_address = format!("00:16:3e:00:47:{mac:02x}");
        i
    };
    vec![network(
        NetworkState {
            groups: vec![
                group(
                    "sg-grea",
                    "vpc-gre",
                    SecurityGroupType::Normal,
                    InnerAccessPolicy::Drop,
                ),
                group(
                    "sg-greb",
                    "vpc-gre",
                    SecurityGroupType::Normal,
                    InnerAccessPolicy::Drop,
                ),
            ],
            rules: vec![rule(
                "sgr-gre",
                "sg-greb",
                Direction::Ingress,
                protocol,
                (-1, -1),
                RulePolicy::Accept,
                1,
                group_peer("sg-grea"),
            )],
            instances: vec![
                nic("i-grea", "10.47.0.5", &["sg-grea"], 5),
                nic("i-greb", "10.47.0.6", &["sg-greb"], 6),
            ],
            vpcs: vec![vpc("vpc-gre", "1", "10.47.0.0/16")],
            ..NetworkState::default()
        },
        vec![vswitch("vsw-gre", "vpc-gre", "10.47.0.0/24")],
    )]
}

/// Sends one GRE packet from a's namespace to b and tells whether b's raw socket got it.
fn gre_arrives(receiver: &Socket, nonce: u32) -> bool {
    let to = Ipv4Addr::new(10, 47, 0, 6);
    in_netns("i-grea", || {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(GRE))).expect("raw");
        // A minimal GRE header (no flags, payload type IPv4) and a nonce.
        let mut packet = vec![0u8, 0, 0x08, 0x00];
        packet.extend_from_slice(&nonce.to_be_bytes());
        socket
            .send_to(&packet, &SockAddr::from(SocketAddr::new(IpAddr::V4(to), 0)))
            .expect("send");
    })
    .expect("enter");
    let deadline = Instant::now() + Duration::from_millis(600);
    let mut buf = [0u8; 1500];
    while Instant::now() < deadline {
        let Ok(n) = (&*receiver).read(&mut buf) else {
            return false;
        };
        if n >= 20 {
            let ihl = usize::from(buf[0] & 0x0f) * 4;
            if n >= ihl + 8 && buf[ihl + 4..ihl + 8] == nonce.to_be_bytes() {
                return true;
            }
        }
    }
    false
}

#[test]
fn gre_passes_exactly_where_a_gre_or_all_rule_admits_it() {
    if !can_run("protocols") {
        return;
    }
    let _guard = lock();
    let mut dp = dataplane(PREFIX);
    let mut wrong = Vec::new();
    let mut receiver = None;
    for (n, protocol) in [IpProtocol::Gre, IpProtocol::Icmp, IpProtocol::All]
        .into_iter()
        .enumerate()
    {
        let networks = networks(protocol);
        dp.apply(&plan(PREFIX, &networks)).expect("apply");
        let receiver = receiver.get_or_insert_with(|| {
            let socket = in_netns("i-greb", || {
                Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(GRE))).expect("raw")
            })
            .expect("enter");
            socket
                .set_read_timeout(Some(Duration::from_millis(600)))
                .expect("timeout");
            socket
        });
        let engine = Snapshot::build(&networks[0].state)
            .evaluate(&Flow {
                source: Endpoint::Nic("i-grea".into()),
                destination: Endpoint::Nic("i-greb".into()),
                protocol: IpProtocol::Gre,
                port: None,
                source_port: None,
            })
            .expect("known")
            .allowed;
        let got = gre_arrives(receiver, 0x4700_0000 + n as u32);
        if got {
            // b answers, so that the flow is established: the next apply must still cut it
            // where the new rules deny GRE.
            in_netns("i-greb", || {
                let socket =
                    Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(GRE))).expect("raw");
                let back = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 47, 0, 5)), 0);
                socket
                    .send_to(&[0, 0, 8, 0, 1, 2, 3, 4], &SockAddr::from(back))
                    .expect("send");
            })
            .expect("enter");
            std::thread::sleep(Duration::from_millis(50));
        }
        let expected = protocol != IpProtocol::Icmp;
        if got != engine || got != expected {
            wrong.push(format!(
                "{protocol:?} rule: packets {got}, engine {engine}, expected {expected}"
            ));
        }
    }
    drop(receiver);
    dp.cleanup().expect("cleanup");
    assert_clean(PREFIX, &["i-grea", "i-greb"]);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
