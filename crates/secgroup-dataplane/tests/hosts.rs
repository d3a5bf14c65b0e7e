//! Several hosts on one machine: each host is a namespace of its own with an underlay
//! address ([`Underlay`]), its own data plane (its own prefix, applied from inside the
//! host's namespace, so that its overlay sockets are the host's), and the instances placed
//! on it. The seeded random topologies of `differential.rs` (several VPCs with one block,
//! so VNIs must keep them apart) are spread over three hosts by a hash of the instance id,
//! and real packets between every ordered pair of Running instances (most of them between
//! hosts) and from each destination's own host's outside namespace agree with the engine.
//! `SECGROUP_HOSTS_SEEDS=N` runs N seeds (default 6).

mod support;

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

use secgroup_dataplane::names::short_hash;
use secgroup_dataplane::{
    in_netns, AccountNetwork, Dataplane, DesiredState, HostPlan, PlanOptions, Topology,
    OUTSIDE_ADDRESS,
};
use secgroup_domain::network::{InstanceStatus, NetworkState};
use secgroup_domain::rules::IpProtocol;
use secgroup_reach::testkit::topology::{seeded_with, Shape};
use secgroup_reach::{Endpoint, Flow, Snapshot};
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
    assert!(desired.issues.is_empty(), "plan issues: {:?}", desired.issues);
    desired
}

fn apply_on(host_ns: &str, dp: &mut Dataplane, desired: &DesiredState) {
    in_netns(host_ns, || dp.apply(desired))
        .expect("enter the host")
        .unwrap_or_else(|e| panic!("apply on {host_ns}: {e}"));
}

fn engine_flow(source: Endpoint, destination: &str, what: Probe) -> Flow {
    let (protocol, port) = match what {
        Probe::Tcp(p) => (IpProtocol::Tcp, Some(p)),
        Probe::Udp(p) => (IpProtocol::Udp, Some(p)),
        Probe::Icmp => (IpProtocol::Icmp, None),
    };
    Flow {
        source,
        destination: Endpoint::Nic(destination.to_string()),
        protocol,
        port,
        source_port: None,
    }
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
    let mut listeners: HashMap<String, (Option<u64>, Listeners)> = HashMap::new();
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
        listeners.retain(|ns, _| running.iter().any(|i| &i.id == ns));
        for i in &running {
            let inode = netns_inode(&i.id);
            if listeners.get(&i.id).is_none_or(|(have, _)| *have != inode) {
                listeners.insert(i.id.clone(), (inode, Listeners::start(&i.id)));
            }
        }
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
