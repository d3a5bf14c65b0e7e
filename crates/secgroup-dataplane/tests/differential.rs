//! Real packets against the engine on seeded random topologies (several VPCs with one
//! block, two vSwitches each, normal and enterprise groups, several groups per NIC, every
//! rule kind, Drop rules and equal priorities, group and prefix-list peers, both
//! InnerAccessPolicy values, stopped instances): every ordered pair of distinct Running
//! instances and outside → instance, on tcp/22, tcp/80, udp/53 and icmp, and every Running
//! instance and outside → each stopped instance (denied). The seeds are
//! applied one after another to one data plane, so each is reached incrementally from the
//! last. `SECGROUP_DIFF_SEEDS=N` runs N seeds (default 24).
//!
//! The same topologies with interfaces added (every other instance gets a secondary
//! interface in the other vSwitch, with a secondary address and a group of its own; some
//! primary interfaces get a secondary address): every address against every address of
//! another Running instance and from outside, each probe sent from its source address.
//! The engine judges each address as a NIC of its own with its interface's groups
//! ([`support::one_nic_per_address`]). `SECGROUP_DIFF_ENI_SEEDS=N` runs N seeds (default 8).

mod support;

use std::net::Ipv4Addr;

use secgroup_dataplane::{AccountNetwork, OUTSIDE_ADDRESS};
use secgroup_domain::network::{InstanceStatus, NetworkState};
use secgroup_reach::testkit::topology::{seeded_with, Shape};
use secgroup_reach::{Endpoint, Snapshot};
use support::*;

const PREFIX: &str = "sgt-diff-";
const PROBES: [Probe; 4] = [Probe::Tcp(22), Probe::Tcp(80), Probe::Udp(53), Probe::Icmp];

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
    let mut listeners = ListenersByNamespace::default();
    let mut mismatches = Vec::new();
    let mut probed = 0usize;
    let mut allowed = 0usize;
    let started = std::time::Instant::now();
    for seed in 0..seeds {
        let t = seeded_with(seed, Shape::dense());
        let networks = vec![AccountNetwork {
            state: t.input.clone(),
            vswitches: t.vswitches.clone(),
            ..AccountNetwork::default()
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
        listeners.refresh(running.iter().map(|i| i.id.as_str()));

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

/// Interfaces for a generated topology: every instance's primary interface (even-numbered
/// ones of odd seeds with a secondary address), and for every other instance a secondary
/// interface in the other vSwitch of its VPC with two addresses and one group of its VPC
/// chosen by the seed.
fn with_interfaces(seed: u64, state: &NetworkState) -> NetworkState {
    let mut interfaces = Vec::new();
    for (n, i) in state.instances.iter().enumerate() {
        let index: u64 = i.id.trim_start_matches("i-").parse().expect("generated id");
        let side = index % 2;
        let mut primary_addresses = vec![i.private_ip.clone()];
        if (seed + index).is_multiple_of(3) {
            primary_addresses.push(format!("10.0.{side}.{}", 200 + index));
        }
        let groups: Vec<&str> = i.security_group_ids.iter().map(String::as_str).collect();
        let addresses: Vec<&str> = primary_addresses.iter().map(String::as_str).collect();
        let mut primary = interface(
            &format!("eni-{}", i.id),
            &i.id,
            &i.vpc_id,
            &i.vswitch_id,
            0,
            &addresses,
            &groups,
        );
        primary.mac_address = i.mac_address.clone();
        interfaces.push(primary);
        if (seed + index).is_multiple_of(2) {
            let vpc_groups: Vec<&str> = state
                .groups
                .iter()
                .filter(|g| g.vpc_id == i.vpc_id)
                .map(|g| g.id.as_str())
                .collect();
            let Some(group) = vpc_groups.get((seed as usize + n) % vpc_groups.len().max(1)) else {
                continue;
            };
            let other = 1 - side;
            let a = format!("10.0.{other}.{}", 100 + index);
            let b = format!("10.0.{other}.{}", 150 + index);
            let vsw = format!("vsw-{}-{other}", i.vpc_id.trim_start_matches("vpc-"));
            interfaces.push(interface(
                &format!("eni-{}-1", i.id),
                &i.id,
                &i.vpc_id,
                &vsw,
                1,
                &[&a, &b],
                &[group],
            ));
        }
    }
    NetworkState {
        interfaces,
        ..state.clone()
    }
}

#[test]
fn real_packets_agree_with_the_engine_with_several_interfaces_per_instance() {
    if !can_run("differential (interfaces)") {
        return;
    }
    let _guard = lock();
    let seeds: u64 = std::env::var("SECGROUP_DIFF_ENI_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let prefix = "sgt-diffeni-";
    let mut dp = dataplane(prefix);
    let mut mismatches = Vec::new();
    let mut probed = 0usize;
    let mut allowed = 0usize;
    let started = std::time::Instant::now();
    for seed in 0..seeds {
        let t = seeded_with(1000 + seed, Shape::dense());
        let state = with_interfaces(seed, &t.input);
        let networks = vec![AccountNetwork {
            state: state.clone(),
            vswitches: t.vswitches.clone(),
            ..AccountNetwork::default()
        }];
        let desired = plan(prefix, &networks);
        assert!(
            desired.instances().any(|(_, n)| !n.is_primary())
                && desired.instances().any(|(_, n)| !n.secondary.is_empty()),
            "seed {seed}: secondary interfaces and addresses are planned"
        );
        dp.apply(&desired)
            .unwrap_or_else(|e| panic!("seed {seed}: apply failed: {e}"));
        let running: NetworkState = NetworkState {
            instances: state
                .instances
                .iter()
                .filter(|i| i.status == InstanceStatus::Running)
                .cloned()
                .collect(),
            ..state.clone()
        };
        // Every address of each Running instance, by instance.
        let mut held: Vec<(String, Vec<Ipv4Addr>)> = Vec::new();
        for i in &running.instances {
            let addresses: Vec<Ipv4Addr> = running
                .interfaces
                .iter()
                .filter(|e| e.instance_id == i.id)
                .flat_map(|e| e.addresses().map(|a| a.parse().expect("address")))
                .collect();
            held.push((i.id.clone(), addresses));
        }
        let listeners: Vec<Listeners> = held
            .iter()
            .map(|(id, addresses)| Listeners::start_on(id, addresses))
            .collect();
        let (shown, ids) = one_nic_per_address(&running);
        let engine = Snapshot::build(&shown);
        let endpoint = |a: Ipv4Addr| match ids.get(&a.to_string()) {
            Some(id) => Endpoint::Nic(id.clone()),
            None => Endpoint::Outside(std::net::IpAddr::V4(a)),
        };
        let outside_ns = format!("{prefix}outside");
        let mut probes: Vec<(String, Ipv4Addr, Ipv4Addr, Probe)> = Vec::new();
        let mut wants: Vec<bool> = Vec::new();
        for (d, d_addresses) in &held {
            for &to in d_addresses {
                for what in PROBES {
                    let mut ask = |ns: &str, from: Ipv4Addr| {
                        let Endpoint::Nic(to_id) = endpoint(to) else {
                            return;
                        };
                        let mut flow = engine_flow(endpoint(from), &to_id, what);
                        flow.destination = Endpoint::Nic(to_id);
                        let want = engine.evaluate(&flow).expect("known NICs").allowed;
                        probes.push((ns.to_string(), from, to, what));
                        wants.push(want);
                    };
                    for (s, s_addresses) in &held {
                        if s == d {
                            continue;
                        }
                        for &from in s_addresses {
                            ask(s, from);
                        }
                    }
                    ask(&outside_ns, OUTSIDE_ADDRESS);
                }
            }
        }
        let results = probe_all_bound(&probes);
        probed += results.len();
        allowed += results.iter().filter(|r| **r).count();
        for ((got, want), (ns, from, to, what)) in results.into_iter().zip(wants).zip(&probes) {
            if got != want {
                mismatches.push(format!(
                    "seed {seed}: {ns} {from} -> {to} {what:?}: packets {}, engine {}",
                    if got { "allowed" } else { "denied" },
                    if want { "allowed" } else { "denied" }
                ));
            }
        }
        drop(listeners);
    }
    dp.cleanup().expect("cleanup");
    assert_clean(prefix, &[]);
    eprintln!(
        "differential (interfaces): {seeds} topologies, {probed} probes ({allowed} allowed), {} mismatches, {:?}",
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
