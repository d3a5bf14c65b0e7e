//! Revoking what allowed a flow cuts it even when it is established (TCP, UDP and ICMP),
//! and only the flows the new rules deny: an established flow that stays allowed lives on.

mod support;

use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

use secgroup_dataplane::{in_netns, AccountNetwork};
use secgroup_domain::network::NetworkState;
use secgroup_domain::rules::{Direction, IpProtocol, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use support::*;

const PREFIX: &str = "sgt-rv-";
const A: &str = "i-rva";
const B: &str = "i-rvb";
const B_IP: Ipv4Addr = Ipv4Addr::new(10, 30, 0, 6);

fn state(with_revoked: bool) -> Vec<AccountNetwork> {
    use Direction::Ingress;
    use RulePolicy::Accept;
    let mut rules = vec![rule(
        "sgr-keep",
        "sg-rv",
        Ingress,
        IpProtocol::Tcp,
        (80, 80),
        Accept,
        1,
        group_peer("sg-rv"),
    )];
    if with_revoked {
        rules.extend([
            rule(
                "sgr-tcp",
                "sg-rv",
                Ingress,
                IpProtocol::Tcp,
                (22, 22),
                Accept,
                1,
                group_peer("sg-rv"),
            ),
            rule(
                "sgr-udp",
                "sg-rv",
                Ingress,
                IpProtocol::Udp,
                (53, 53),
                Accept,
                1,
                cidr("10.30.0.0/24"),
            ),
            rule(
                "sgr-icmp",
                "sg-rv",
                Ingress,
                IpProtocol::Icmp,
                (-1, -1),
                Accept,
                1,
                cidr("10.30.0.5/32"),
            ),
        ]);
    }
    let mut a = instance(A, "vpc-rv", "10.30.0.5", &["sg-rv"]);
    a.vswitch_id = "vsw-rv".into();
    a.mac_address = "00:16:3e:00:30:05".into();
    let mut b = instance(B, "vpc-rv", "10.30.0.6", &["sg-rv"]);
    b.vswitch_id = "vsw-rv".into();
    b.mac_address = "00:16:3e:00:30:06".into();
    vec![network(
        NetworkState {
            groups: vec![group(
                "sg-rv",
                "vpc-rv",
                SecurityGroupType::Normal,
                InnerAccessPolicy::Drop,
            )],
            rules,
            instances: vec![a, b],
            vpcs: vec![vpc("vpc-rv", "1", "10.30.0.0/16")],
            ..NetworkState::default()
        },
        vec![vswitch("vsw-rv", "vpc-rv", "10.30.0.0/24")],
    )]
}

#[test]
fn a_revoke_cuts_established_tcp_udp_and_icmp_flows_and_only_those() {
    if !can_run("revoke") {
        return;
    }
    let _guard = lock();
    let mut dp = dataplane(PREFIX);
    dp.apply(&plan(PREFIX, &state(true))).expect("apply");

    let wait = Duration::from_millis(700);
    let (mut c22, mut s22, _l22) = connect_pair(A, B, B_IP, 22);
    let (mut c80, mut s80, _l80) = connect_pair(A, B, B_IP, 80);
    assert!(arrives(&mut c22, &mut s22, b"before", wait));
    assert!(arrives(&mut c80, &mut s80, b"before", wait));
    // A UDP flow with one socket at each end, and an ICMP flow with one identifier.
    let server =
        in_netns(B, || UdpSocket::bind(("0.0.0.0", 53)).expect("bind")).expect("test setup");
    server.set_read_timeout(Some(wait)).expect("test setup");
    let client =
        in_netns(A, || UdpSocket::bind(("0.0.0.0", 5353)).expect("bind")).expect("test setup");
    let mut buf = [0u8; 16];
    client.send_to(b"ping", (B_IP, 53)).expect("test setup");
    assert!(server.recv_from(&mut buf).is_ok(), "UDP before the revoke");
    assert!(
        in_netns(A, || icmp_echo_seq(B_IP, 4242, 1)).expect("test setup"),
        "ICMP before"
    );

    let report = dp.apply(&plan(PREFIX, &state(false))).expect("revoke");
    assert_eq!(report.nft_transactions, 1);
    assert!(report.conntrack_deleted >= 3, "{report:?}");

    assert!(
        !arrives(&mut c22, &mut s22, b"after", wait),
        "TCP/22 still flows after its revoke"
    );
    client.send_to(b"ping", (B_IP, 53)).expect("test setup");
    assert!(
        server.recv_from(&mut buf).is_err(),
        "UDP/53 still flows after its revoke"
    );
    assert!(
        !in_netns(A, || icmp_echo_seq(B_IP, 4242, 2)).expect("test setup"),
        "ICMP still flows"
    );
    // The flow whose rule stayed is untouched, both ways.
    assert!(
        arrives(&mut c80, &mut s80, b"after", wait),
        "TCP/80 was cut"
    );
    assert!(
        arrives(&mut s80, &mut c80, b"reply", wait),
        "TCP/80 replies were cut"
    );

    dp.cleanup().expect("cleanup");
    assert_clean(PREFIX, &[A, B]);
}
