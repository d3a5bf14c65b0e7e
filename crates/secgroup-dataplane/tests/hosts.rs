//! Several hosts on one machine: each host is a namespace of its own with an underlay
//! address ([`Underlay`]), its own data plane (its own prefix, applied from inside the
//! host's namespace, so that its overlay sockets are the host's), and the instances placed
//! on it. The seeded random topologies of `differential.rs` (several VPCs with one block,
//! so VNIs must keep them apart) are spread over three hosts by a hash of the instance id,
//! and real packets between every ordered pair of Running instances (most of them between
//! hosts) and from each destination's own host's outside namespace agree with the engine.
//! `SECGROUP_HOSTS_SEEDS=N` runs N seeds (default 6).

mod support;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use secgroup_dataplane::names::short_hash;
use secgroup_dataplane::{
    in_netns, AccountNetwork, Dataplane, DesiredState, HostPlan, PlanOptions, Topology,
    OUTSIDE_ADDRESS,
};
use secgroup_domain::network::{InstanceStatus, NetworkState};
use secgroup_domain::rules::IpProtocol;
use secgroup_reach::testkit::topology::{seeded_with, Shape};
use secgroup_reach::{Endpoint, Snapshot};
use support::*;

const HOSTS: usize = 3;
const PROBES: [Probe; 3] = [Probe::Tcp(22), Probe::Udp(53), Probe::Icmp];

fn host_name(n: usize) -> String {
    format!("host{}", n + 1)
}

fn prefix_of(n: usize) -> String {
    format!("sgt-mh{}-", n + 1)
}

/// Which host an instance is on: stable across seeds, so that no instance moves between
/// hosts from one topology to the next (on one machine, two hosts would share its
/// namespace during a move).
fn host_of(instance_id: &str) -> usize {
    usize::from_str_radix(&short_hash(instance_id, 4), 16).unwrap_or(0) % HOSTS
}

fn plan_for(n: usize, underlay: &Underlay, networks: &[AccountNetwork]) -> DesiredState {
    let peers: BTreeMap<String, Ipv4Addr> = (0..HOSTS)
        .filter(|&m| m != n)
        .map(|m| (host_name(m), underlay.host(m).1))
        .collect();
    let desired = Topology::from(networks).plan(&PlanOptions {
        prefix: prefix_of(n),
        host: Some(HostPlan {
            name: host_name(n),
            underlay: Some(underlay.host(n).1),
            peers,
        }),
    });
    assert!(
        desired.issues.is_empty(),
        "plan issues: {:?}",
        desired.issues
    );
    desired
}

fn apply_on(host_ns: &str, dp: &mut Dataplane, desired: &DesiredState) {
    in_netns(host_ns, || dp.apply(desired))
        .expect("enter the host")
        .unwrap_or_else(|e| panic!("apply on {host_ns}: {e}"));
}

#[test]
fn real_packets_agree_with_the_engine_with_instances_spread_over_three_hosts() {
    if !can_run("hosts") {
        return;
    }
    let _guard = lock();
    let seeds: u64 = std::env::var("SECGROUP_HOSTS_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let underlay = Underlay::create("sgt-mh-", HOSTS as u8);
    let mut dps: Vec<Dataplane> = (0..HOSTS).map(|n| dataplane(&prefix_of(n))).collect();
    let mut listeners = ListenersByNamespace::default();
    let mut mismatches = Vec::new();
    let (mut probed, mut allowed, mut across) = (0usize, 0usize, 0usize);
    let started = std::time::Instant::now();
    for seed in 0..seeds {
        let t = seeded_with(500 + seed, Shape::dense());
        let placements: BTreeMap<String, String> = t
            .input
            .instances
            .iter()
            .map(|i| (i.id.clone(), host_name(host_of(&i.id))))
            .collect();
        let vnis: BTreeMap<String, u32> = t
            .input
            .vpcs
            .iter()
            .enumerate()
            .map(|(k, v)| (v.id.clone(), 1001 + k as u32))
            .collect();
        let networks = vec![AccountNetwork {
            state: t.input.clone(),
            vswitches: t.vswitches.clone(),
            placements,
            vnis,
        }];
        let plans: Vec<DesiredState> = (0..HOSTS)
            .map(|n| plan_for(n, &underlay, &networks))
            .collect();
        for (n, (dp, desired)) in dps.iter_mut().zip(&plans).enumerate() {
            apply_on(underlay.host(n).0, dp, desired);
        }
        let running: Vec<&secgroup_domain::network::Instance> = t
            .input
            .instances
            .iter()
            .filter(|i| i.status == InstanceStatus::Running)
            .collect();
        // Each Running instance has its namespace, planned by its own host alone.
        for i in &running {
            let planned_by: Vec<usize> = (0..HOSTS)
                .filter(|&n| plans[n].nic(&i.id).is_some())
                .collect();
            assert_eq!(planned_by, vec![host_of(&i.id)], "seed {seed}: {}", i.id);
            assert!(namespaces().contains(&i.id), "seed {seed}: {}", i.id);
        }
        listeners.refresh(running.iter().map(|i| i.id.as_str()));
        let engine = Snapshot::build(&NetworkState {
            instances: running.iter().map(|i| (*i).clone()).collect(),
            ..t.input.clone()
        });
        let mut probes: Vec<(String, Ipv4Addr, Probe)> = Vec::new();
        let mut wants: Vec<(String, String, bool)> = Vec::new();
        for d in &running {
            let d_ip: Ipv4Addr = d.private_ip.parse().expect("address");
            for what in PROBES {
                for s in running.iter().filter(|s| s.id != d.id) {
                    let want = engine
                        .evaluate(&engine_flow(Endpoint::Nic(s.id.clone()), &d.id, what))
                        .expect("known NICs")
                        .allowed;
                    if host_of(&s.id) != host_of(&d.id) {
                        across += 1;
                    }
                    probes.push((s.id.clone(), d_ip, what));
                    wants.push((s.id.clone(), d.id.clone(), want));
                }
                let want = engine
                    .evaluate(&engine_flow(
                        Endpoint::Outside(std::net::IpAddr::V4(OUTSIDE_ADDRESS)),
                        &d.id,
                        what,
                    ))
                    .expect("known NIC")
                    .allowed;
                let outside = format!("{}outside", prefix_of(host_of(&d.id)));
                probes.push((outside, d_ip, what));
                wants.push(("outside".into(), d.id.clone(), want));
            }
        }
        let results = probe_all(&probes);
        probed += results.len();
        allowed += results.iter().filter(|r| **r).count();
        for ((got, (from, to, want)), (_, _, what)) in results.into_iter().zip(wants).zip(&probes) {
            if got != want {
                mismatches.push(format!(
                    "seed {seed}: {from} (host {}) -> {to} (host {}) {what:?}: packets {}, engine {}",
                    host_of(&from) + 1,
                    host_of(&to) + 1,
                    if got { "allowed" } else { "denied" },
                    if want { "allowed" } else { "denied" }
                ));
            }
        }
    }
    drop(listeners);
    for dp in &mut dps {
        dp.cleanup().expect("cleanup");
    }
    drop(underlay);
    for n in 0..HOSTS {
        assert_clean(&prefix_of(n), &[]);
    }
    eprintln!(
        "hosts: {seeds} topologies over {HOSTS} hosts, {probed} probes ({allowed} allowed, {across} between hosts), {} mismatches, {:?}",
        mismatches.len(),
        started.elapsed()
    );
    assert!(across > probed / 3, "most probes cross hosts");
    assert!(allowed > 0 && allowed < probed, "both verdicts occur");
    assert!(
        mismatches.is_empty(),
        "{} of {probed} probes disagree:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

/// Two instances of one VPC on two hosts: A (host 1) may reach B (host 2) on tcp/8022 as a
/// member of B's group; `revoked` removes that rule.
fn pair(revoked: bool) -> Vec<AccountNetwork> {
    use secgroup_domain::rules::{Direction, RulePolicy};
    use secgroup_domain::{InnerAccessPolicy, SecurityGroupType};
    let mut rules = vec![rule(
        "sgr-web",
        "sg-b",
        Direction::Ingress,
        IpProtocol::Tcp,
        (80, 80),
        RulePolicy::Accept,
        1,
        cidr("10.60.0.0/16"),
    )];
    if !revoked {
        rules.push(rule(
            "sgr-ssh",
            "sg-b",
            Direction::Ingress,
            IpProtocol::Tcp,
            (8022, 8022),
            RulePolicy::Accept,
            1,
            group_peer("sg-a"),
        ));
    }
    let mut a = instance("i-mha", "vpc-mh", "10.60.0.5", &["sg-a"]);
    a.vswitch_id = "vsw-mh".into();
    a.mac_address = "00:16:3e:00:60:05".into();
    let mut b = instance("i-mhb", "vpc-mh", "10.60.0.6", &["sg-b"]);
    b.vswitch_id = "vsw-mh".into();
    b.mac_address = "00:16:3e:00:60:06".into();
    vec![AccountNetwork {
        state: NetworkState {
            groups: vec![
                group(
                    "sg-a",
                    "vpc-mh",
                    SecurityGroupType::Normal,
                    InnerAccessPolicy::Drop,
                ),
                group(
                    "sg-b",
                    "vpc-mh",
                    SecurityGroupType::Normal,
                    InnerAccessPolicy::Drop,
                ),
            ],
            rules,
            instances: vec![a, b],
            vpcs: vec![vpc("vpc-mh", "1", "10.60.0.0/16")],
            ..NetworkState::default()
        },
        vswitches: vec![vswitch("vsw-mh", "vpc-mh", "10.60.0.0/24")],
        placements: [("i-mha", host_name(0)), ("i-mhb", host_name(1))]
            .into_iter()
            .map(|(i, h)| (i.to_string(), h))
            .collect(),
        vnis: [("vpc-mh".to_string(), 4242)].into(),
    }]
}

#[test]
fn hosts_adopt_what_they_left_without_cutting_a_flow_between_them_and_a_revoke_cuts_it() {
    if !can_run("hosts (adopt)") {
        return;
    }
    let _guard = lock();
    let underlay = Underlay::create("sgt-mha-", 2);
    let b_ip = Ipv4Addr::new(10, 60, 0, 6);
    let wait = std::time::Duration::from_millis(700);
    let prefixes = ["sgt-mha1-", "sgt-mha2-"];
    let plan_on = |n: usize, networks: &[AccountNetwork]| {
        let desired = Topology::from(networks).plan(&PlanOptions {
            prefix: prefixes[n].to_string(),
            host: Some(HostPlan {
                name: host_name(n),
                underlay: Some(underlay.host(n).1),
                peers: [(host_name(1 - n), underlay.host(1 - n).1)].into(),
            }),
        });
        assert!(desired.issues.is_empty(), "{:?}", desired.issues);
        desired
    };
    let mut first: Vec<Dataplane> = prefixes.iter().map(|p| dataplane(p)).collect();
    for (n, dp) in first.iter_mut().enumerate() {
        apply_on(underlay.host(n).0, dp, &plan_on(n, &pair(false)));
    }
    let _listeners = Listeners::start("i-mhb");
    assert!(
        probe("i-mha", b_ip, Probe::Tcp(80)),
        "a CIDR rule across hosts"
    );
    let (mut client, mut server, _l) = connect_pair("i-mha", "i-mhb", b_ip, 8022);
    assert!(arrives(&mut client, &mut server, b"one", wait));
    // Both agents go without cleaning up (as after kill -9); new ones adopt.
    drop(first);
    let mut second: Vec<Dataplane> = prefixes
        .iter()
        .map(|p| Dataplane::adopt(options(p)).expect("adopt"))
        .collect();
    for (n, dp) in second.iter_mut().enumerate() {
        let report = in_netns(underlay.host(n).0, || dp.apply(&plan_on(n, &pair(false))))
            .expect("enter")
            .expect("apply after adopt");
        assert_eq!(
            report.nft_transactions + report.links_created + report.links_deleted,
            0,
            "host {n}: {report:?}"
        );
    }
    assert!(
        arrives(&mut client, &mut server, b"two", wait),
        "the flow between hosts died across the restart"
    );
    // The revoke is B's ingress, enforced at B's host: the open connection stops there.
    for (n, dp) in second.iter_mut().enumerate() {
        apply_on(underlay.host(n).0, dp, &plan_on(n, &pair(true)));
    }
    assert!(
        !arrives(&mut client, &mut server, b"three", wait),
        "revoked"
    );
    assert!(
        !probe("i-mha", b_ip, Probe::Tcp(8022)),
        "no new connection either"
    );
    assert!(probe("i-mha", b_ip, Probe::Tcp(80)));
    for dp in &mut second {
        dp.cleanup().expect("cleanup");
    }
    drop(underlay);
    for p in prefixes {
        assert_clean(p, &["i-mha", "i-mhb"]);
    }
}
