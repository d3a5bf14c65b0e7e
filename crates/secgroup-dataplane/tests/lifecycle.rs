//! Namespaces, links and their life: a Running instance's namespace and address, VPCs with
//! the same block kept apart, the outside namespace both ways, a stopped instance vanishing
//! and coming back, agent restarts (adopt), and cleanup.

mod support;

use std::net::Ipv4Addr;

use secgroup_domain::network::{InstanceStatus, NetworkState};
use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
use support::*;

const PREFIX: &str = "sgt-life-";

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("test setup")
}

/// What the machine's own network namespace holds: links, addresses, routes, nftables and
/// the sysctls the routers set in theirs.
fn root_namespace() -> Vec<String> {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(args[0])
            .args(&args[1..])
            .output()
            .expect("run");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let sysctl = |key: &str| {
        std::fs::read_to_string(format!("/proc/sys/net/ipv4/{key}")).unwrap_or_default()
    };
    vec![
        run(&["ip", "-o", "link", "show"]),
        run(&["ip", "-o", "addr", "show"]),
        run(&["ip", "route", "show", "table", "all"]),
        run(&["nft", "list", "ruleset"]),
        sysctl("ip_forward"),
        sysctl("conf/all/proxy_arp"),
    ]
}

fn one_vpc(stopped_b: bool) -> Vec<secgroup_dataplane::AccountNetwork> {
    let mut b = instance("i-lifeb", "vpc-life1", "10.10.1.7", &["sg-life1"]);
    b.vswitch_id = "vsw-life1b".into();
    b.mac_address = "00:16:3e:00:10:07".into();
    if stopped_b {
        b.status = InstanceStatus::Stopped;
    }
    let mut a = instance("i-lifea", "vpc-life1", "10.10.0.5", &["sg-life1"]);
    a.vswitch_id = "vsw-life1a".into();
    a.mac_address = "00:16:3e:00:10:05".into();
    vec![network(
        NetworkState {
            groups: vec![group(
                "sg-life1",
                "vpc-life1",
                SecurityGroupType::Normal,
                InnerAccessPolicy::Accept,
            )],
            instances: vec![a, b],
            vpcs: vec![vpc("vpc-life1", "1", "10.10.0.0/16")],
            ..NetworkState::default()
        },
        vec![
            vswitch("vsw-life1a", "vpc-life1", "10.10.0.0/24"),
            vswitch("vsw-life1b", "vpc-life1", "10.10.1.0/24"),
        ],
    )]
}

#[test]
fn a_running_instance_gets_its_namespace_and_a_stopped_one_loses_it() {
    if !can_run("lifecycle") {
        return;
    }
    let _guard = lock();
    let mut dp = dataplane(PREFIX);
    let root_before = root_namespace();
    let desired = plan(PREFIX, &one_vpc(false));
    dp.apply(&desired).expect("apply");
    assert_eq!(
        root_namespace(),
        root_before,
        "the machine's own namespace changed"
    );

    // The instance's namespace: lo up, eth0 with address, prefix, MAC; default via .253.
    let addr = std::process::Command::new("ip")
        .args(["-n", "i-lifea", "-br", "addr", "show", "dev", "eth0"])
        .output()
        .expect("test setup");
    let text = String::from_utf8_lossy(&addr.stdout);
    assert!(text.contains("10.10.0.5/24"), "{text}");
    let link = std::process::Command::new("ip")
        .args(["-n", "i-lifea", "-br", "link", "show", "dev", "eth0"])
        .output()
        .expect("test setup");
    assert!(String::from_utf8_lossy(&link.stdout).contains("00:16:3e:00:10:05"));
    let route = std::process::Command::new("ip")
        .args(["-n", "i-lifea", "route", "show", "default"])
        .output()
        .expect("test setup");
    assert!(String::from_utf8_lossy(&route.stdout).contains("via 10.10.0.253"));

    let _lb = Listeners::start("i-lifeb");
    let _la = Listeners::start("i-lifea");
    // Across vSwitches of one VPC; the very first packet is not held up by ARP.
    let started = std::time::Instant::now();
    assert!(probe("i-lifea", ip("10.10.1.7"), Probe::Tcp(22)));
    assert!(
        started.elapsed() < std::time::Duration::from_millis(300),
        "first connect took {:?}",
        started.elapsed()
    );
    assert!(probe("i-lifeb", ip("10.10.0.5"), Probe::Icmp));
    assert!(probe("i-lifeb", ip("10.10.0.5"), Probe::Udp(53)));
    let inode = netns_inode("i-lifea");

    // Stop b: its namespace, veth and routes go; a is untouched. A process that keeps b's
    // namespace alive (here: an open handle on it) finds no interface of it left.
    let kept = std::fs::File::open("/run/netns/i-lifeb").expect("open namespace");
    dp.apply(&plan(PREFIX, &one_vpc(true))).expect("apply stop");
    assert!(!namespaces().contains(&"i-lifeb".to_string()));
    let address_left = std::thread::spawn(move || {
        nix::sched::setns(&kept, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        std::net::UdpSocket::bind(("10.10.1.7", 0)).is_ok()
    })
    .join()
    .expect("thread");
    assert!(
        !address_left,
        "the stopped instance's address is still on an interface"
    );
    assert_eq!(netns_inode("i-lifea"), inode, "a's namespace was recreated");
    assert!(!probe("i-lifea", ip("10.10.1.7"), Probe::Icmp));
    let routes = std::process::Command::new("ip")
        .args(["-n", &format!("{PREFIX}vpc-life1"), "route", "show"])
        .output()
        .expect("test setup");
    assert!(
        !String::from_utf8_lossy(&routes.stdout).contains("10.10.1.7"),
        "a route of the stopped instance is left"
    );

    // Start it again: same address.
    dp.apply(&plan(PREFIX, &one_vpc(false)))
        .expect("apply start");
    let _lb = Listeners::start("i-lifeb");
    assert!(probe("i-lifea", ip("10.10.1.7"), Probe::Tcp(80)));

    dp.cleanup().expect("cleanup");
    assert_clean(PREFIX, &["i-lifea", "i-lifeb"]);
}

#[test]
fn a_failed_apply_keeps_the_last_good_ruleset_and_says_why() {
    if !can_run("lifecycle") {
        return;
    }
    let _guard = lock();
    let prefix = "sgt-fail-";
    let mut good = dataplane(prefix);
    let mut open = one_vpc(false);
    open[0].state.groups[0].inner_access_policy = InnerAccessPolicy::Accept;
    good.apply(&plan(prefix, &open)).expect("apply");
    let _lb = Listeners::start("i-lifeb");
    assert!(probe("i-lifea", ip("10.10.1.7"), Probe::Tcp(22)));
    drop(good);

    // An agent whose nft cannot run: the apply fails with the namespace and the reason,
    // and the kernel keeps the ruleset it had.
    let mut closed = one_vpc(false);
    closed[0].state.groups[0].inner_access_policy = InnerAccessPolicy::Drop;
    let broken_tools = secgroup_dataplane::Tools {
        nft: "/bin/false".into(),
        ..secgroup_dataplane::Tools::default()
    };
    let mut broken = secgroup_dataplane::Dataplane::adopt(secgroup_dataplane::DataplaneOptions {
        tools: broken_tools,
        ..options(prefix)
    })
    .expect("adopt");
    let error = broken
        .apply(&plan(prefix, &closed))
        .expect_err("nft cannot run");
    let text = error.to_string();
    assert!(
        matches!(error, secgroup_dataplane::Error::Partial(_)),
        "{error:?}"
    );
    assert!(
        text.contains(&format!("{prefix}vpc-life1")) && text.contains("nft"),
        "{text}"
    );
    assert!(
        probe("i-lifea", ip("10.10.1.7"), Probe::Tcp(22)),
        "the last good ruleset is gone"
    );

    // The retry with a working nft applies it.
    let mut fixed = secgroup_dataplane::Dataplane::adopt(options(prefix)).expect("adopt");
    fixed.apply(&plan(prefix, &closed)).expect("retry");
    assert!(!probe("i-lifea", ip("10.10.1.7"), Probe::Tcp(22)));
    fixed.cleanup().expect("cleanup");
    assert_clean(prefix, &["i-lifea", "i-lifeb"]);
}

#[test]
fn an_instance_cannot_send_with_another_instances_address() {
    if !can_run("lifecycle") {
        return;
    }
    let _guard = lock();
    let prefix = "sgt-spoof-";
    let nic = |id: &str, address: &str, groups: &[&str], mac: u8| {
        let mut i = instance(id, "vpc-spoof", address, groups);
        i.vswitch_id = "vsw-spoof".into();
        i.mac_address = format!("00:16:3e:00:11:{mac:02x}");
        i
    };
    // b and c share a group whose members reach each other; a is outside it.
    let networks = vec![network(
        NetworkState {
            groups: vec![
                group(
                    "sg-spa",
                    "vpc-spoof",
                    SecurityGroupType::Normal,
                    InnerAccessPolicy::Drop,
                ),
                group(
                    "sg-spbc",
                    "vpc-spoof",
                    SecurityGroupType::Normal,
                    InnerAccessPolicy::Accept,
                ),
            ],
            instances: vec![
                nic("i-spoofa", "10.11.0.5", &["sg-spa"], 5),
                nic("i-spoofb", "10.11.0.6", &["sg-spbc"], 6),
                nic("i-spoofc", "10.11.0.7", &["sg-spbc"], 7),
            ],
            vpcs: vec![vpc("vpc-spoof", "1", "10.11.0.0/16")],
            ..NetworkState::default()
        },
        vec![vswitch("vsw-spoof", "vpc-spoof", "10.11.0.0/24")],
    )];
    let mut dp = dataplane(prefix);
    dp.apply(&plan(prefix, &networks)).expect("apply");
    let receiver = secgroup_dataplane::in_netns("i-spoofc", || {
        std::net::UdpSocket::bind(("0.0.0.0", 5300)).expect("bind")
    })
    .expect("enter");
    receiver
        .set_read_timeout(Some(std::time::Duration::from_millis(600)))
        .expect("timeout");
    let send_from = |ns: &str, source: &str| {
        secgroup_dataplane::in_netns(ns, || {
            let socket = std::net::UdpSocket::bind((ip(source), 0)).expect("bind source");
            socket
                .send_to(b"hello", (ip("10.11.0.7"), 5300))
                .expect("send");
        })
        .expect("enter");
    };
    let mut buf = [0u8; 16];
    send_from("i-spoofb", "10.11.0.6");
    assert!(
        receiver.recv_from(&mut buf).is_ok(),
        "b reaches c by inner access"
    );
    // a takes b's address as its own and sends: the router drops it (strict reverse path).
    let added = std::process::Command::new("ip")
        .args([
            "-n",
            "i-spoofa",
            "addr",
            "add",
            "10.11.0.6/32",
            "dev",
            "eth0",
        ])
        .status()
        .expect("ip");
    assert!(added.success());
    send_from("i-spoofa", "10.11.0.6");
    assert!(receiver.recv_from(&mut buf).is_err(), "a passed for b");
    dp.cleanup().expect("cleanup");
    assert_clean(prefix, &["i-spoofa", "i-spoofb", "i-spoofc"]);
}
