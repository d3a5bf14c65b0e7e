//! An agent restart: the old data plane is dropped without cleanup (`--keep`), a new one
//! adopts what it left, and applying the same state changes nothing, so processes in the
//! instances keep their namespaces and connections; later changes are incremental.

mod support;

use std::net::Ipv4Addr;
use std::time::Duration;

use secgroup_dataplane::{AccountNetwork, Dataplane};
use secgroup_domain::network::NetworkState;
use secgroup_domain::rules::{Direction, IpProtocol, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use support::*;

const PREFIX: &str = "sgt-ad-";
const A: &str = "i-ada";
const B: &str = "i-adb";
const B_IP: Ipv4Addr = Ipv4Addr::new(10, 50, 1, 6);

fn state(extra_rule: bool) -> Vec<AccountNetwork> {
    let mut rules = vec![
        rule(
            "sgr-ssh",
            "sg-ad",
            Direction::Ingress,
            IpProtocol::Tcp,
            (22, 22),
            RulePolicy::Accept,
            1,
            group_peer("sg-ad"),
        ),
        rule(
            "sgr-pl",
            "sg-ad",
            Direction::Ingress,
            IpProtocol::Udp,
            (53, 53),
            RulePolicy::Accept,
            5,
            secgroup_domain::rules::Peer::PrefixList("pl-ad".into()),
        ),
        // Two plain CIDR rules in a row: one lookup in a verdict map, whose elements an
        // adopting agent does not read back (the chain's fingerprint vouches for them).
        rule(
            "sgr-v1",
            "sg-ad",
            Direction::Ingress,
            IpProtocol::Tcp,
            (8000, 8100),
            RulePolicy::Accept,
            10,
            cidr("10.50.0.0/16"),
        ),
        rule(
            "sgr-v2",
            "sg-ad",
            Direction::Ingress,
            IpProtocol::Udp,
            (9000, 9000),
            RulePolicy::Accept,
            10,
            cidr("192.0.2.0/24"),
        ),
    ];
    if extra_rule {
        rules.push(rule(
            "sgr-web",
            "sg-ad",
            Direction::Ingress,
            IpProtocol::Tcp,
            (80, 80),
            RulePolicy::Accept,
            1,
            cidr("10.50.0.0/16"),
        ));
    }
    let mut a = instance(A, "vpc-ad", "10.50.0.5", &["sg-ad"]);
    a.vswitch_id = "vsw-ad0".into();
    a.mac_address = "00:16:3e:00:50:05".into();
    let mut b = instance(B, "vpc-ad", "10.50.1.6", &["sg-ad"]);
    b.vswitch_id = "vsw-ad1".into();
    b.mac_address = "00:16:3e:00:50:06".into();
    vec![network(
        NetworkState {
            interfaces: Vec::new(),
            groups: vec![group(
                "sg-ad",
                "vpc-ad",
                SecurityGroupType::Normal,
                InnerAccessPolicy::Drop,
            )],
            rules,
            instances: vec![a, b],
            prefix_lists: vec![prefix_list(
                "pl-ad",
                &["10.50.0.0/24", "10.50.0.128/25", "192.0.2.0/24"],
            )],
            vpcs: vec![vpc("vpc-ad", "1", "10.50.0.0/16")],
        },
        vec![
            vswitch("vsw-ad0", "vpc-ad", "10.50.0.0/24"),
            vswitch("vsw-ad1", "vpc-ad", "10.50.1.0/24"),
        ],
    )]
}

#[test]
fn a_new_agent_adopts_what_the_old_one_left_and_changes_nothing_unchanged() {
    if !can_run("adopt") {
        return;
    }
    let _guard = lock();
    let mut first = dataplane(PREFIX);
    let planned = plan(PREFIX, &state(false));
    assert!(
        planned.routers.values().any(|r| !r.ruleset.maps.is_empty()),
        "the state has a run of plain rules"
    );
    first.apply(&planned).expect("apply");
    let wait = Duration::from_millis(700);
    let (mut client, mut server, _listener) = connect_pair(A, B, B_IP, 22);
    assert!(arrives(&mut client, &mut server, b"one", wait));
    let inodes = (netns_inode(A), netns_inode(B));
    drop(first); // the old agent exits, keeping everything

    let mut second = Dataplane::adopt(options(PREFIX)).expect("adopt");
    let mut held: Vec<String> = second.instances().into_iter().map(|(id, _)| id).collect();
    held.sort();
    assert_eq!(held, [A, B]);
    let report = second
        .apply(&plan(PREFIX, &state(false)))
        .expect("apply after adopt");
    assert_eq!(report.nft_transactions, 0, "{report:?}");
    assert_eq!(
        report.namespaces_created + report.links_created + report.links_deleted,
        0,
        "{report:?}"
    );
    assert_eq!(report.conntrack_deleted, 0, "{report:?}");
    assert_eq!((netns_inode(A), netns_inode(B)), inodes);
    assert!(
        arrives(&mut client, &mut server, b"two", wait),
        "the connection died across the restart"
    );

    // A change after adoption is one transaction, and the old flow lives on.
    let _listeners = Listeners::start(B);
    assert!(!probe(A, B_IP, Probe::Tcp(80)));
    let report = second
        .apply(&plan(PREFIX, &state(true)))
        .expect("apply change");
    assert_eq!(report.nft_transactions, 1, "{report:?}");
    assert!(probe(A, B_IP, Probe::Tcp(80)));
    assert!(probe(A, B_IP, Probe::Udp(53)), "prefix-list rule");
    assert!(arrives(&mut client, &mut server, b"three", wait));

    // A data plane that did not adopt still finds its way over what exists.
    drop(second);
    let mut third = Dataplane::new(options(PREFIX));
    let report = third
        .apply(&plan(PREFIX, &state(true)))
        .expect("apply over leftovers");
    assert_eq!(report.links_created + report.links_deleted, 0, "{report:?}");
    assert!(arrives(&mut client, &mut server, b"four", wait));

    third.cleanup().expect("cleanup");
    assert_clean(PREFIX, &[A, B]);
}
