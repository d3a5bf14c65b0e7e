//! Real packets against the engine on seeded random topologies (several VPCs with one
//! block, two vSwitches each, normal and enterprise groups, several groups per NIC, every
//! rule kind, Drop rules and equal priorities, group and prefix-list peers, both
//! InnerAccessPolicy values, stopped instances): every ordered pair of distinct Running
//! instances and outside → instance, on tcp/22, tcp/80, udp/53 and icmp, and every Running
//! instance and outside → each stopped instance (denied). The seeds are
//! applied one after another to one data plane, so each is reached incrementally from the
//! last. `SECGROUP_DIFF_SEEDS=N` runs N seeds (default 24).

mod support;

use std::collections::HashMap;
use std::net::Ipv4Addr;

use secgroup_dataplane::{AccountNetwork, OUTSIDE_ADDRESS};
use secgroup_domain::network::{InstanceStatus, NetworkState};
use secgroup_domain::rules::IpProtocol;
use secgroup_reach::testkit::topology::{seeded_with, Shape};
use secgroup_reach::{Endpoint, Flow, Snapshot};
use support::*;

const PREFIX: &str = "sgt-diff-";
const PROBES: [Probe; 4] = [Probe::Tcp(22), Probe::Tcp(80), Probe::Udp(53), Probe::Icmp];

fn engine_flow(source: Endpoint, destination: &str, what: Probe) -> Flow {
    let (protocol, port) = match what {
        Probe::Tcp(p) => (IpProtocol::Tcp, Some(p)),
        Probe::Udp(p) => (IpProtocol::Udp, Some(p)),
        Probe::Icmp => (IpProtocol::Icmp, None),
    };
    // Probes use ephemeral source ports (32768-60999), which no generated source-port range
    // covers: the engine, told none, matches exactly the same rules.
    Flow {
        source,
        destination: Endpoint::Nic(destination.to_string()),
        protocol,
        port,
        source_port: None,
    }
}

#[test]
fn real_packets_agree_with_the_engine_on_random_topologies() {
    if !can_run("differential") {
        return;
    }
    let _guard = lock();
    let seeds: u64 = std::env::var("SECGROUP_DIFF_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(24);
    let mut dp = dataplane(PREFIX);
    // Listeners per namespace, restarted when a namespace is new (inode changed).
    let mut listeners: HashMap<String, (Option<u64>, Listeners)> = HashMap::new();
    let mut mismatches = Vec::new();
    let mut probed = 0usize;
    let mut allowed = 0usize;
    let started = std::time::Instant::now();
    for seed in 0..seeds {
        let t = seeded_with(seed, Shape::dense());
        let networks = vec![AccountNetwork {
            state: t.input.clone(),
            vswitches: t.vswitches.clone(),
        }];
        let desired = plan(PREFIX, &networks);
        dp.apply(&desired)
            .unwrap_or_else(|e| panic!("seed {seed}: apply failed: {e}"));

        let running: Vec<&secgroup_domain::network::Instance> = t
            .input
            .instances
            .iter()
            .filter(|i| i.status == InstanceStatus::Running)
            .collect();
        for i in &t.input.instances {
            let exists = namespaces().contains(&i.id);
            assert_eq!(
                exists,
                i.status == InstanceStatus::Running,
                "seed {seed}: namespace of {} ({:?})",
                i.id,
                i.status
            );
        }
        listeners.retain(|ns, _| running.iter().any(|i| &i.id == ns));
        for i in &running {
            let inode = netns_inode(&i.id);
            let fresh = listeners.get(&i.id).is_none_or(|(have, _)| *have != inode);
            if fresh {
                listeners.insert(i.id.clone(), (inode, Listeners::start(&i.id)));
            }
        }

        let engine = Snapshot::build(&NetworkState {
            instances: running.iter().map(|i| (*i).clone()).collect(),
            ..t.input.clone()
        });
        let outside_ns = format!("{PREFIX}outside");
        let mut probes: Vec<(String, Ipv4Addr, Probe)> = Vec::new();
        let mut wants: Vec<(String, String, bool)> = Vec::new();
        for d in &running {
            let d_ip: Ipv4Addr = d.private_ip.parse().expect("address");
            for what in PROBES {
                for s in &running {
                    if s.id == d.id {
                        continue;
                    }
                    let want = engine
                        .evaluate(&engine_flow(Endpoint::Nic(s.id.clone()), &d.id, what))
                        .expect("known NICs")
                        .allowed;
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
                probes.push((outside_ns.clone(), d_ip, what));
                wants.push(("outside".into(), d.id.clone(), want));
            }
        }
        // A stopped instance is reached by nothing, whatever its groups say (docs/semantics.md
        // §4; the engine decides only the groups): its address is probed from every Running
        // instance and from outside, and must not answer.
        for d in t
            .input
            .instances
            .iter()
            .filter(|i| i.status != InstanceStatus::Running)
        {
            let d_ip: Ipv4Addr = d.private_ip.parse().expect("address");
            for what in PROBES {
                for s in &running {
                    probes.push((s.id.clone(), d_ip, what));
                    wants.push((s.id.clone(), format!("{} (stopped)", d.id), false));
                }
                probes.push((outside_ns.clone(), d_ip, what));
                wants.push(("outside".into(), format!("{} (stopped)", d.id), false));
            }
        }
        let results = probe_all(&probes);
        probed += results.len();
        allowed += results.iter().filter(|r| **r).count();
        for ((got, (from, to, want)), (_, _, what)) in results.into_iter().zip(wants).zip(&probes) {
            if got != want {
                mismatches.push(format!(
                    "seed {seed}: {from} -> {to} {what:?}: packets {}, engine {}",
                    if got { "allowed" } else { "denied" },
                    if want { "allowed" } else { "denied" }
                ));
            }
        }
    }
    drop(listeners);
    dp.cleanup().expect("cleanup");
    assert_clean(PREFIX, &[]);
    eprintln!(
        "differential: {seeds} topologies, {probed} probes ({allowed} allowed), {} mismatches, {:?}",
        mismatches.len(),
        started.elapsed()
    );
    assert!(
        mismatches.is_empty(),
        "{} of {probed} probes disagree:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
