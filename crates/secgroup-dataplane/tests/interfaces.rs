//! Instances with several interfaces (docs/semantics.md: every attached interface is a NIC
//! with its own groups; secondary private addresses count as their interface's; a group
//! peer matches every address of every member interface). The plan is checked as data,
//! then real packets are sent from chosen source addresses against a hand-written truth
//! table, across incremental changes (a secondary address added, an interface detached)
//! and an adopting agent.

mod support;

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};

use secgroup_dataplane::model::SetElement;
use secgroup_dataplane::names::nic_ifname;
use secgroup_dataplane::{AccountNetwork, Dataplane, Topology, OUTSIDE_ADDRESS};
use secgroup_domain::network::{Instance, NetworkInterface, NetworkState};
use secgroup_domain::rules::{Direction, IpProtocol, Rule, RulePolicy};
use secgroup_domain::{InnerAccessPolicy, SecurityGroup, SecurityGroupType};
use secgroup_reach::{Endpoint, Flow, Snapshot};
use support::*;

use Direction::{Egress, Ingress};

const PREFIX: &str = "sgt-eni-";
const VPC: &str = "vpc-eni";
/// Two interfaces: eth0 in sg-web (vsw-a), eth1 in sg-db (vsw-b) with a secondary address.
const M: &str = "i-enim";
/// Two interfaces: eth0 in sg-plain (vsw-a), eth1 in sg-client (vsw-b) with a secondary.
const C: &str = "i-enic";
/// One interface, in sg-plain.
const O: &str = "i-enio";
const M1: &str = "eni-enim1";
const C1: &str = "eni-enic1";

const M0_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 10);
const M1_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 10);
const M1_IP2: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 11);
const M1_IP3: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 12);
const C0_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 20);
const C1_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 20);
const C1_IP2: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 21);
const O_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 30);

fn normal(id: &str) -> SecurityGroup {
    group(id, VPC, SecurityGroupType::Normal, InnerAccessPolicy::Drop)
}

fn rules() -> Vec<Rule> {
    use IpProtocol::{Icmp, Tcp, Udp};
    use RulePolicy::{Accept, Drop};
    vec![
        rule(
            "sgr-web80",
            "sg-web",
            Ingress,
            Tcp,
            (80, 80),
            Accept,
            1,
            cidr("0.0.0.0/0"),
        ),
        // SourceGroupId: every address of every sg-client interface, and only those.
        rule(
            "sgr-db22",
            "sg-db",
            Ingress,
            Tcp,
            (22, 22),
            Accept,
            1,
            group_peer("sg-client"),
        ),
        // For a long-lived connection to eth1 that the probes' listeners do not hold.
        rule(
            "sgr-db8022",
            "sg-db",
            Ingress,
            Tcp,
            (8022, 8022),
            Accept,
            1,
            group_peer("sg-client"),
        ),
        rule(
            "sgr-dbicmp",
            "sg-db",
            Ingress,
            Icmp,
            (-1, -1),
            Accept,
            1,
            cidr("10.0.1.0/24"),
        ),
        rule(
            "sgr-db53",
            "sg-db",
            Egress,
            Udp,
            (53, 53),
            Drop,
            1,
            cidr("0.0.0.0/0"),
        ),
        rule(
            "sgr-plain53",
            "sg-plain",
            Ingress,
            Udp,
            (53, 53),
            Accept,
            1,
            cidr("0.0.0.0/0"),
        ),
        rule(
            "sgr-plain22",
            "sg-plain",
            Ingress,
            Tcp,
            (22, 22),
            Accept,
            1,
            group_peer("sg-db"),
        ),
    ]
}

fn host(id: &str, ip: Ipv4Addr, groups: &[&str], primary: &NetworkInterface) -> Instance {
    let mut i = instance(id, VPC, &ip.to_string(), groups);
    i.vswitch_id = "vsw-enia".into();
    i.mac_address = primary.mac_address.clone();
    i.network_interface_id = primary.id.clone();
    i
}

/// The state; `extra_secondary` gives eth1 of M a second secondary address, `c1_attached`
/// says whether C's eth1 is attached.
fn state(extra_secondary: bool, c1_attached: bool) -> Vec<AccountNetwork> {
    state_with(extra_secondary, c1_attached, true)
}

/// [`state`], with or without sg-db's tcp/22 rule (from sg-client).
fn state_with(extra_secondary: bool, c1_attached: bool, db22: bool) -> Vec<AccountNetwork> {
    let m0 = interface(
        "eni-enim0",
        M,
        VPC,
        "vsw-enia",
        0,
        &["10.0.1.10"],
        &["sg-web"],
    );
    let c0 = interface(
        "eni-enic0",
        C,
        VPC,
        "vsw-enia",
        0,
        &["10.0.1.20"],
        &["sg-plain"],
    );
    let o0 = interface(
        "eni-enio0",
        O,
        VPC,
        "vsw-enia",
        0,
        &["10.0.1.30"],
        &["sg-plain"],
    );
    let m1_addresses: &[&str] = if extra_secondary {
        &["10.0.2.10", "10.0.2.11", "10.0.2.12"]
    } else {
        &["10.0.2.10", "10.0.2.11"]
    };
    let m1 = interface(M1, M, VPC, "vsw-enib", 1, m1_addresses, &["sg-db"]);
    let mut c1 = interface(
        C1,
        C,
        VPC,
        "vsw-enib",
        1,
        &["10.0.2.20", "10.0.2.21"],
        &["sg-client"],
    );
    if !c1_attached {
        c1.instance_id.clear();
        c1.device_index = 0;
    }
    let instances = vec![
        host(M, M0_IP, &["sg-web"], &m0),
        host(C, C0_IP, &["sg-plain"], &c0),
        host(O, O_IP, &["sg-plain"], &o0),
    ];
    vec![network(
        NetworkState {
            groups: ["sg-web", "sg-db", "sg-plain", "sg-client"]
                .into_iter()
                .map(normal)
                .collect(),
            rules: rules()
                .into_iter()
                .filter(|r| db22 || r.id != "sgr-db22")
                .collect(),
            instances,
            interfaces: vec![m0, m1, c0, c1, o0],
            ..NetworkState::default()
        },
        vec![
            vswitch("vsw-enia", VPC, "10.0.1.0/24"),
            vswitch("vsw-enib", VPC, "10.0.2.0/24"),
        ],
    )]
}

fn addresses(elements: &BTreeSet<SetElement>) -> Vec<Ipv4Addr> {
    elements
        .iter()
        .filter_map(|e| match e {
            SetElement::Address(IpAddr::V4(a)) => Some(*a),
            _ => None,
        })
        .collect()
}

#[test]
fn each_interface_is_planned_as_its_own_nic() {
    let d = Topology::from(&state(false, true)).plan(&secgroup_dataplane::PlanOptions {
        prefix: PREFIX.into(),
        ..Default::default()
    });
    assert!(d.issues.is_empty(), "{:?}", d.issues);
    let r = &d.routers[&format!("{PREFIX}{VPC}")];
    let keys: BTreeSet<&str> = r.nics.keys().map(String::as_str).collect();
    assert_eq!(keys, BTreeSet::from([M, C, O, M1, C1]));

    // The primary interface keeps the name it had when instances had one NIC.
    let m0 = d.nic(M).expect("eth0 of M");
    assert_eq!(
        (m0.device(), m0.ifname.clone()),
        ("eth0".into(), nic_ifname(M))
    );
    assert_eq!(m0.addresses().collect::<Vec<_>>(), [M0_IP]);
    let m1 = d.interface(M1).expect("eth1 of M");
    assert_eq!(m1.device(), "eth1");
    assert_eq!(m1.namespace, M);
    assert_eq!(m1.ifname, secgroup_dataplane::names::interface_ifname(M1));
    assert_ne!(m1.ifname, m0.ifname);
    assert_eq!(m1.addresses().collect::<Vec<_>>(), [M1_IP, M1_IP2]);
    assert_eq!(
        (m1.prefix_len, m1.gateway),
        (24, Ipv4Addr::new(10, 0, 2, 253))
    );
    assert_eq!(m0.gateway, Ipv4Addr::new(10, 0, 1, 253));
    assert_eq!(d.nics_of(M).len(), 2);
    assert_eq!(d.nics_of(O).len(), 1);
    assert!(
        d.interface(M).is_none(),
        "the primary one is found by its instance"
    );
    assert_eq!(
        r.gateways,
        BTreeSet::from([Ipv4Addr::new(10, 0, 1, 253), Ipv4Addr::new(10, 0, 2, 253)])
    );

    // Each interface is enforced by its own groups.
    let rs = &r.ruleset;
    assert_ne!(rs.ingress[&m0.ifname], rs.ingress[&m1.ifname]);
    assert_ne!(rs.egress[&m0.ifname], rs.egress[&m1.ifname]);
    let c0 = d.nic(C).expect("eth0 of C");
    let o = d.nic(O).expect("O");
    assert_eq!(
        rs.ingress[&c0.ifname], rs.ingress[&o.ifname],
        "same groups, same chains"
    );
    let db_chain = &rs.chains[&rs.ingress[&m1.ifname]];
    assert!(db_chain.rules.iter().any(|x| x.comment == "sgr-db22"));
    assert!(!db_chain.rules.iter().any(|x| x.comment == "sgr-web80"));

    // Members: every address of every member interface.
    let set = |g: &str| addresses(&rs.sets[&format!("g-{g}")].elements);
    assert_eq!(set("sg-client"), [C1_IP, C1_IP2]);
    assert_eq!(set("sg-db"), [M1_IP, M1_IP2]);

    // Every address is routed from outside.
    for a in [M0_IP, M1_IP, M1_IP2, C1_IP2, O_IP] {
        assert!(d.outside.routes.contains_key(&a), "{a}");
    }

    // Without an interface list each instance is its primary interface alone, the same
    // NIC as with a list that agrees with it.
    let mut bare = state(false, true);
    bare[0].state.interfaces.clear();
    let b = Topology::from(&bare).plan(&secgroup_dataplane::PlanOptions {
        prefix: PREFIX.into(),
        ..Default::default()
    });
    assert_eq!(b.routers.values().map(|r| r.nics.len()).sum::<usize>(), 3);
    assert_eq!(b.nic(M), d.nic(M));
    assert_eq!(b.nic(O), d.nic(O));
}

#[test]
fn a_secondary_interface_that_cannot_be_planned_is_left_out_alone() {
    type Change = Box<dyn Fn(&mut NetworkInterface)>;
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "unknown vSwitch",
            Box::new(|e| e.vswitch_id = "vsw-nope".into()),
            "unknown vSwitch",
        ),
        (
            "address outside its vSwitch",
            Box::new(|e| e.secondary_ips = vec!["10.0.1.77".into()]),
            "not a usable address",
        ),
        (
            "address another instance holds",
            Box::new(|e| e.secondary_ips = vec!["10.0.2.20".into()]),
            "already held",
        ),
        (
            "device taken",
            Box::new(|e| e.device_index = 0),
            "device index 0",
        ),
        (
            "bad MAC",
            Box::new(|e| e.mac_address = "01:00:5e:00:00:01".into()),
            "MAC",
        ),
        (
            "device too high",
            Box::new(|e| e.device_index = u32::MAX),
            "above",
        ),
    ];
    for (name, change, reason) in cases {
        let mut networks = state(false, true);
        let m1 = networks[0]
            .state
            .interfaces
            .iter_mut()
            .find(|e| e.id == M1)
            .expect("eth1");
        change(m1);
        let d = Topology::from(&networks).plan(&secgroup_dataplane::PlanOptions {
            prefix: PREFIX.into(),
            ..Default::default()
        });
        assert_eq!(d.issues.len(), 1, "{name}: {:?}", d.issues);
        assert_eq!(d.issues[0].instance_id, M, "{name}");
        assert!(
            d.issues[0].reason.contains(M1) && d.issues[0].reason.contains(reason),
            "{name}: {:?}",
            d.issues[0]
        );
        assert!(d.interface(M1).is_none(), "{name}");
        assert!(d.nic(M).is_some(), "{name}: eth0 stays");
        assert!(d.interface(C1).is_some(), "{name}: the others stay");
    }
}

/// One row of the truth table: from `namespace`, sourced from `from`, to `to`.
struct Row {
    why: &'static str,
    namespace: &'static str,
    from: Ipv4Addr,
    to: Ipv4Addr,
    what: Probe,
    allowed: bool,
}

fn row(
    why: &'static str,
    namespace: &'static str,
    from: Ipv4Addr,
    to: Ipv4Addr,
    what: Probe,
    allowed: bool,
) -> Row {
    Row {
        why,
        namespace,
        from,
        to,
        what,
        allowed,
    }
}

/// Expected verdicts per docs/semantics.md, written out by hand.
fn truth_table() -> Vec<Row> {
    use Probe::{Icmp, Tcp, Udp};
    let outside = "outside";
    vec![
        // To eth1: decided by eth1's groups (sg-db), not eth0's (sg-web).
        row(
            "sg-client member (eth1) -> M eth1 tcp/22",
            C,
            C1_IP,
            M1_IP,
            Tcp(22),
            true,
        ),
        row(
            "secondary -> secondary, tcp/22",
            C,
            C1_IP2,
            M1_IP2,
            Tcp(22),
            true,
        ),
        row(
            "C eth0 is not in sg-client",
            C,
            C0_IP,
            M1_IP,
            Tcp(22),
            false,
        ),
        row(
            "C eth0 not in sg-client (to secondary)",
            C,
            C0_IP,
            M1_IP2,
            Tcp(22),
            false,
        ),
        row(
            "eth0 of M has sg-web: tcp/22 closed",
            C,
            C1_IP,
            M0_IP,
            Tcp(22),
            false,
        ),
        row(
            "eth0 of M has sg-web: tcp/80 open",
            C,
            C0_IP,
            M0_IP,
            Tcp(80),
            true,
        ),
        row("eth1 of M has no tcp/80", C, C0_IP, M1_IP, Tcp(80), false),
        row(
            "outside -> M eth0 tcp/80",
            outside,
            OUTSIDE_ADDRESS,
            M0_IP,
            Tcp(80),
            true,
        ),
        row(
            "outside -> M eth1 secondary tcp/80",
            outside,
            OUTSIDE_ADDRESS,
            M1_IP2,
            Tcp(80),
            false,
        ),
        row("icmp from 10.0.1.0/24 to eth1", O, O_IP, M1_IP, Icmp, true),
        row(
            "icmp from 10.0.1.0/24 to eth1 secondary",
            O,
            O_IP,
            M1_IP2,
            Icmp,
            true,
        ),
        row(
            "icmp from 10.0.2.20 to eth1: not in the block",
            C,
            C1_IP,
            M1_IP,
            Icmp,
            false,
        ),
        row("no icmp rule on eth0 (sg-web)", O, O_IP, M0_IP, Icmp, false),
        // From eth1: decided by eth1's egress (sg-db drops udp/53).
        row("M eth1 egress drops udp/53", M, M1_IP, O_IP, Udp(53), false),
        row(
            "M eth1 secondary egress drops udp/53",
            M,
            M1_IP2,
            O_IP,
            Udp(53),
            false,
        ),
        row("M eth0 egress allows udp/53", M, M0_IP, O_IP, Udp(53), true),
        // SourceGroupId sg-db: eth1's addresses are members, eth0's is not.
        row(
            "sg-db member (eth1) -> O tcp/22",
            M,
            M1_IP,
            O_IP,
            Tcp(22),
            true,
        ),
        row(
            "sg-db member (eth1 secondary) -> O tcp/22",
            M,
            M1_IP2,
            O_IP,
            Tcp(22),
            true,
        ),
        row("M eth0 is not in sg-db", M, M0_IP, O_IP, Tcp(22), false),
        row(
            "sg-db member -> C eth0 tcp/22",
            M,
            M1_IP,
            C0_IP,
            Tcp(22),
            true,
        ),
        row(
            "C eth1 (sg-client) has no ingress rule",
            M,
            M1_IP,
            C1_IP,
            Tcp(22),
            false,
        ),
        row(
            "sg-plain admits udp/53 from anywhere (eth1 -> eth0)",
            C,
            C1_IP2,
            O_IP,
            Udp(53),
            true,
        ),
    ]
}

/// Sends every row and returns the rows whose packets disagree.
fn mismatches(rows: &[Row], step: &str) -> Vec<String> {
    let probes: Vec<(String, Ipv4Addr, Ipv4Addr, Probe)> = rows
        .iter()
        .map(|r| {
            let ns = if r.namespace == "outside" {
                format!("{PREFIX}outside")
            } else {
                r.namespace.to_string()
            };
            (ns, r.from, r.to, r.what)
        })
        .collect();
    probe_all_bound(&probes)
        .into_iter()
        .zip(rows)
        .filter(|(got, r)| *got != r.allowed)
        .map(|(got, r)| {
            format!(
                "{step}: {} ({} {} -> {} {:?}): packets {}, expected {}",
                r.why,
                r.namespace,
                r.from,
                r.to,
                r.what,
                if got { "allowed" } else { "denied" },
                if r.allowed { "allowed" } else { "denied" }
            )
        })
        .collect()
}

fn ifindex(namespace: &str, device: &str) -> Option<u64> {
    let out = std::process::Command::new("ip")
        .args(["-j", "-n", namespace, "link", "show", "dev", device])
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v.get(0)?.get("ifindex")?.as_u64()
}

fn policy_rules(namespace: &str) -> String {
    let out = std::process::Command::new("ip")
        .args(["-n", namespace, "rule", "show"])
        .output()
        .expect("ip rule");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn packets_follow_each_interfaces_own_groups() {
    if !can_run("interfaces") {
        return;
    }
    let _guard = lock();
    let mut dp = dataplane(PREFIX);
    let report = dp.apply(&plan(PREFIX, &state(false, true))).expect("apply");
    assert_eq!(report.links_created, 5, "{report:?}");
    assert_eq!(
        report.namespaces_created,
        3 + 2,
        "instances, router, outside: {report:?}"
    );
    let listeners: Vec<Listeners> = [M, C, O].iter().map(|ns| Listeners::start(ns)).collect();
    let mut wrong = mismatches(&truth_table(), "two interfaces");
    // Policy routing: one rule per address of eth1.
    let rules = policy_rules(M);
    assert!(rules.contains("from 10.0.2.10 lookup 101"), "{rules}");
    assert!(rules.contains("from 10.0.2.11 lookup 101"), "{rules}");

    // A secondary address is added: in place, eth1 of M stays (and its flows live on).
    let inode = netns_inode(M);
    let (eth0, eth1) = (ifindex(M, "eth0"), ifindex(M, "eth1"));
    let wait = std::time::Duration::from_millis(700);
    let (mut client, mut server, _l) = connect_bound(C, C1_IP, M, M1_IP2, 8022);
    assert!(arrives(&mut client, &mut server, b"one", wait));
    let report = dp.apply(&plan(PREFIX, &state(true, true))).expect("apply");
    assert_eq!(
        (
            report.links_deleted,
            report.links_created,
            report.namespaces_created
        ),
        (0, 0, 0),
        "{report:?}"
    );
    assert_eq!(netns_inode(M), inode);
    assert_eq!(
        (ifindex(M, "eth0"), ifindex(M, "eth1")),
        (eth0, eth1),
        "untouched"
    );
    assert!(
        arrives(&mut client, &mut server, b"two", wait),
        "a flow of eth1 died when an address was added"
    );
    let added = [
        row(
            "new secondary: sg-client -> tcp/22",
            C,
            C1_IP,
            M1_IP3,
            Tcp(22),
            true,
        ),
        row(
            "new secondary: icmp from 10.0.1.0/24",
            O,
            O_IP,
            M1_IP3,
            Probe::Icmp,
            true,
        ),
        row("new secondary is in sg-db", M, M1_IP3, O_IP, Tcp(22), true),
        row(
            "new secondary: egress drops udp/53",
            M,
            M1_IP3,
            O_IP,
            Probe::Udp(53),
            false,
        ),
    ];
    wrong.extend(mismatches(&added, "secondary added"));
    wrong.extend(mismatches(&truth_table(), "secondary added"));

    // A new agent adopts the interfaces and changes nothing.
    drop(dp);
    let mut dp = Dataplane::adopt(options(PREFIX)).expect("adopt");
    let report = dp.apply(&plan(PREFIX, &state(true, true))).expect("apply");
    assert_eq!(
        report.links_created + report.links_deleted + report.namespaces_created,
        0,
        "{report:?}"
    );
    assert_eq!(report.nft_transactions, 0, "{report:?}");

    // The secondary address is removed again, in place: it answers no more.
    let report = dp.apply(&plan(PREFIX, &state(false, true))).expect("apply");
    assert_eq!(
        (report.links_deleted, report.links_created),
        (0, 0),
        "{report:?}"
    );
    assert_eq!(
        (ifindex(M, "eth0"), ifindex(M, "eth1")),
        (eth0, eth1),
        "untouched"
    );
    let removed = [
        row(
            "removed secondary is gone",
            C,
            C1_IP,
            M1_IP3,
            Tcp(22),
            false,
        ),
        row(
            "removed secondary is no sg-db member",
            M,
            M1_IP,
            O_IP,
            Tcp(22),
            true,
        ),
    ];
    wrong.extend(mismatches(&removed, "secondary removed"));
    wrong.extend(mismatches(&truth_table(), "secondary removed"));
    assert!(
        !policy_rules(M).contains("from 10.0.2.12 "),
        "{}",
        policy_rules(M)
    );
    assert!(
        arrives(&mut client, &mut server, b"three", wait),
        "a flow of eth1 died when an address was removed"
    );
    drop((client, server));

    // C's eth1 is detached: it goes (with its policy rules), C keeps its namespace and eth0,
    // and sg-client has no member left.
    let inode = netns_inode(C);
    let report = dp
        .apply(&plan(PREFIX, &state(false, false)))
        .expect("apply");
    assert_eq!(
        (report.links_deleted, report.links_created),
        (1, 0),
        "{report:?}"
    );
    assert_eq!(report.namespaces_deleted, 0, "{report:?}");
    assert_eq!(netns_inode(C), inode);
    assert!(ifindex(C, "eth1").is_none());
    let rules = policy_rules(C);
    assert!(!rules.contains("lookup 101"), "{rules}");
    let after = [
        row(
            "C eth0 still reaches M eth0 tcp/80",
            C,
            C0_IP,
            M0_IP,
            Tcp(80),
            true,
        ),
        row(
            "C eth0 still not in sg-client",
            C,
            C0_IP,
            M1_IP,
            Tcp(22),
            false,
        ),
        row("M eth1 still reaches O", M, M1_IP, O_IP, Tcp(22), true),
    ];
    wrong.extend(mismatches(&after, "eth1 of C detached"));

    // An interface cannot send with another interface's address: M sends from eth1's
    // address (an sg-db member) out of eth0, and the router's strict reverse-path filter
    // drops it before O's sg-db rule could admit it.
    let spoof = [
        "rule",
        "add",
        "from",
        "10.0.2.10",
        "to",
        "10.0.1.30",
        "lookup",
        "main",
        "pref",
        "50",
    ];
    ip_in(M, &spoof);
    let spoofed = probe_bound(M, M1_IP, O_IP, Tcp(22));
    ip_in(M, &["rule", "del", "pref", "50"]);
    assert!(!spoofed, "eth1's address sent out of eth0 got through");
    assert!(
        probe_bound(M, M1_IP, O_IP, Tcp(22)),
        "from eth1 itself it does"
    );
    drop(listeners);

    // A revoke on eth1's groups cuts eth1's established flows, and only those.
    let _ = dp.apply(&plan(PREFIX, &state(true, true))).expect("apply");
    let wait = std::time::Duration::from_millis(700);
    let (mut c1_client, mut m1_server, _l22) = connect_bound(C, C1_IP, M, M1_IP, 22);
    let (mut c0_client, mut m0_server, _l80) = connect_bound(C, C0_IP, M, M0_IP, 80);
    assert!(arrives(&mut c1_client, &mut m1_server, b"one", wait));
    assert!(arrives(&mut c0_client, &mut m0_server, b"one", wait));
    let report = dp
        .apply(&plan(PREFIX, &state_with(true, true, false)))
        .expect("apply revoke");
    assert!(report.conntrack_deleted >= 1, "{report:?}");
    assert!(
        !arrives(&mut c1_client, &mut m1_server, b"two", wait),
        "the revoked flow to eth1 lives on"
    );
    assert!(
        arrives(&mut c0_client, &mut m0_server, b"two", wait),
        "the flow to eth0 was cut"
    );

    dp.cleanup().expect("cleanup");
    assert_clean(PREFIX, &[M, C, O]);
    assert!(
        wrong.is_empty(),
        "{} mismatches:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

use Probe::Tcp;

/// The engine's endpoint for an address of the truth table: the interface holding it, at
/// that address.
fn engine_endpoint(address: Ipv4Addr) -> Endpoint {
    let by_address = [
        (M0_IP, "eni-enim0"),
        (C0_IP, "eni-enic0"),
        (O_IP, "eni-enio0"),
        (M1_IP, M1),
        (M1_IP2, M1),
        (M1_IP3, M1),
        (C1_IP, C1),
        (C1_IP2, C1),
    ];
    match by_address.iter().find(|(a, _)| *a == address) {
        None => Endpoint::Outside(IpAddr::V4(address)),
        Some((_, id)) => Endpoint::Interface {
            id: id.to_string(),
            address: Some(IpAddr::V4(address)),
        },
    }
}

#[test]
fn the_engine_agrees_with_the_truth_table_of_several_interfaces() {
    // The state as the agent reads it: instances with their interface list.
    let networks = state(false, true);
    let engine = Snapshot::build(&networks[0].state);
    let mut wrong = Vec::new();
    for r in truth_table() {
        let (protocol, port) = match r.what {
            Probe::Tcp(p) => (IpProtocol::Tcp, Some(p)),
            Probe::Udp(p) => (IpProtocol::Udp, Some(p)),
            Probe::Icmp => (IpProtocol::Icmp, None),
        };
        let flow = Flow {
            source: engine_endpoint(r.from),
            destination: engine_endpoint(r.to),
            protocol,
            port,
            source_port: None,
        };
        match engine.evaluate(&flow) {
            Ok(v) if v.allowed == r.allowed => {}
            other => wrong.push(format!(
                "{}: engine {other:?}, expected {}",
                r.why, r.allowed
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

fn ip_in(namespace: &str, args: &[&str]) {
    let status = std::process::Command::new("ip")
        .args(["-n", namespace])
        .args(args)
        .status()
        .expect("ip");
    assert!(status.success(), "ip -n {namespace} {args:?}");
}

/// An established TCP connection from `client_ns`, sourced from `from`, to `to`:`port` in
/// `server_ns` (client stream, accepted stream, listener).
fn connect_bound(
    client_ns: &str,
    from: Ipv4Addr,
    server_ns: &str,
    to: Ipv4Addr,
    port: u16,
) -> (
    std::net::TcpStream,
    std::net::TcpStream,
    std::net::TcpListener,
) {
    use std::net::{SocketAddr, TcpListener};
    let listener =
        secgroup_dataplane::in_netns(server_ns, || TcpListener::bind((to, port)).expect("listen"))
            .expect("enter namespace");
    let client = secgroup_dataplane::in_netns(client_ns, || {
        let socket = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )
        .expect("socket");
        socket
            .bind(&SocketAddr::new(IpAddr::V4(from), 0).into())
            .expect("bind");
        socket
            .connect_timeout(
                &SocketAddr::new(IpAddr::V4(to), port).into(),
                std::time::Duration::from_secs(2),
            )
            .expect("connect");
        std::net::TcpStream::from(socket)
    })
    .expect("enter namespace");
    let (server, _) = listener.accept().expect("accept");
    (client, server, listener)
}

/// Today's engine (one address per NIC) over the state shown as the data plane's conntrack
/// judge shows it: every address of every interface a NIC of its own with its interface's
/// groups. It agrees with the truth table, so the packets, the table and the engine keep
/// one meaning until the engine judges interfaces itself.
#[test]
fn the_engine_over_one_nic_per_address_agrees_with_the_truth_table() {
    let networks = state(false, true);
    let st = &networks[0].state;
    let mut instances = Vec::new();
    for e in st.interfaces.iter().filter(|e| !e.instance_id.is_empty()) {
        let owner = st
            .instances
            .iter()
            .find(|i| i.id == e.instance_id)
            .expect("owner");
        for address in e.addresses() {
            let mut shown = owner.clone();
            shown.id = address.to_string();
            shown.private_ip = address.to_string();
            shown.security_group_ids = e.security_group_ids.clone();
            instances.push(shown);
        }
    }
    let engine = Snapshot::build(&NetworkState {
        instances,
        interfaces: Vec::new(),
        ..st.clone()
    });
    let endpoint = |a: Ipv4Addr| {
        if a == OUTSIDE_ADDRESS {
            Endpoint::Outside(IpAddr::V4(a))
        } else {
            Endpoint::Nic(a.to_string())
        }
    };
    let mut wrong = Vec::new();
    for r in truth_table() {
        let (protocol, port) = match r.what {
            Probe::Tcp(p) => (IpProtocol::Tcp, Some(p)),
            Probe::Udp(p) => (IpProtocol::Udp, Some(p)),
            Probe::Icmp => (IpProtocol::Icmp, None),
        };
        let flow = Flow {
            source: endpoint(r.from),
            destination: endpoint(r.to),
            protocol,
            port,
            source_port: None,
        };
        match engine.evaluate(&flow) {
            Ok(v) if v.allowed == r.allowed => {}
            other => wrong.push(format!(
                "{}: engine {other:?}, expected {}",
                r.why, r.allowed
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
