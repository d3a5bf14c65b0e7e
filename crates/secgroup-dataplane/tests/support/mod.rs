//! What the real-packet tests share: a lock so that tests of one binary do not build
//! namespaces at the same time, domain builders, and (from `secgroup_dataplane::testkit`)
//! the root check and probes that send real packets from inside a namespace.
#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};

use chrono::{TimeZone, Utc};
use secgroup_dataplane::{
    AccountNetwork, Dataplane, DataplaneOptions, DesiredState, PlanOptions, Topology,
};
use secgroup_domain::network::{InterfaceKind, NetworkInterface, NetworkState, VSwitch, Vpc};

#[allow(unused_imports)]
pub use secgroup_dataplane::testkit::*;
#[allow(unused_imports)]
pub use secgroup_reach::testkit::*;

static LOCK: Mutex<()> = Mutex::new(());

/// Serializes the tests of one binary (cargo runs binaries one after another).
pub fn lock() -> MutexGuard<'static, ()> {
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A data plane whose namespaces carry a prefix of the test's own, so that a running
/// agent's `secgroup-` namespaces are never touched; anything a crashed earlier run left
/// is removed first.
pub fn dataplane(prefix: &str) -> Dataplane {
    let mut dp = Dataplane::new(options(prefix));
    dp.cleanup().expect("cleanup of leftovers");
    dp
}

pub fn options(prefix: &str) -> DataplaneOptions {
    DataplaneOptions {
        prefix: prefix.to_string(),
        ..DataplaneOptions::default()
    }
}

pub fn plan(prefix: &str, networks: &[AccountNetwork]) -> DesiredState {
    let desired = Topology::from(networks).plan(&PlanOptions {
        prefix: prefix.to_string(),
        ..Default::default()
    });
    assert!(
        desired.issues.is_empty(),
        "plan issues: {:?}",
        desired.issues
    );
    desired
}

pub fn vpc(id: &str, account: &str, cidr: &str) -> Vpc {
    let t = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
    Vpc {
        id: id.into(),
        account_id: account.into(),
        region_id: "cn-hangzhou".into(),
        cidr_block: cidr.into(),
        name: String::new(),
        description: String::new(),
        resource_group_id: String::new(),
        vrouter_id: format!("vrt-{id}"),
        route_table_id: format!("vtb-{id}"),
        user_cidrs: Vec::new(),
        enable_ipv6: false,
        ipv6_cidr_block: String::new(),
        enable_dns_hostname: false,
        creation_time: t,
    }
}

pub fn vswitch(id: &str, vpc: &str, cidr: &str) -> VSwitch {
    VSwitch {
        id: id.into(),
        account_id: "1".into(),
        region_id: "cn-hangzhou".into(),
        vpc_id: vpc.into(),
        zone_id: "cn-hangzhou-a".into(),
        cidr_block: cidr.into(),
        name: String::new(),
        description: String::new(),
        creation_time: Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
    }
}

/// One account's network from a state whose instances name `vswitch_id`s among `vswitches`.
pub fn network(state: NetworkState, vswitches: Vec<VSwitch>) -> AccountNetwork {
    AccountNetwork {
        state,
        vswitches,
        ..AccountNetwork::default()
    }
}

/// The engine's flow for a probe from `source` to the NIC `destination`. Probes use
/// ephemeral source ports (32768-60999), which no generated source-port range covers: the
/// engine, told none, matches exactly the same rules.
pub fn engine_flow(
    source: secgroup_reach::Endpoint,
    destination: &str,
    what: Probe,
) -> secgroup_reach::Flow {
    use secgroup_domain::rules::IpProtocol;
    let (protocol, port) = match what {
        Probe::Tcp(p) => (IpProtocol::Tcp, Some(p)),
        Probe::Udp(p) => (IpProtocol::Udp, Some(p)),
        Probe::Icmp => (IpProtocol::Icmp, None),
    };
    secgroup_reach::Flow {
        source,
        destination: secgroup_reach::Endpoint::Nic(destination.to_string()),
        protocol,
        port,
        source_port: None,
    }
}

/// Listeners in every namespace of `running`, kept across topologies applied one after
/// another: those of namespaces that went are dropped, and a namespace made anew (another
/// inode) gets new ones.
#[derive(Default)]
pub struct ListenersByNamespace(std::collections::HashMap<String, (Option<u64>, Listeners)>);

impl ListenersByNamespace {
    pub fn refresh<'a>(&mut self, running: impl IntoIterator<Item = &'a str> + Clone) {
        self.0
            .retain(|ns, _| running.clone().into_iter().any(|r| r == ns));
        for ns in running {
            let inode = netns_inode(ns);
            if self.0.get(ns).is_none_or(|(have, _)| *have != inode) {
                self.0.insert(ns.to_string(), (inode, Listeners::start(ns)));
            }
        }
    }
}

/// No namespace with `prefix` or of the instances, and no `secgroup` table in any remaining
/// namespace (other tests' aside) nor in the machine's own.
pub fn assert_clean(prefix: &str, instance_ids: &[&str]) {
    let left: Vec<String> = namespaces()
        .into_iter()
        .filter(|n| n.starts_with(prefix) || instance_ids.contains(&n.as_str()))
        .collect();
    assert!(left.is_empty(), "namespaces left: {left:?}");
    for ns in namespaces() {
        // Another test's namespaces (perhaps left by a run that crashed) are that test's.
        if ns.starts_with("sgt-") && !ns.starts_with(prefix) {
            continue;
        }
        let out = std::process::Command::new("ip")
            .args(["netns", "exec", &ns, "nft", "list", "tables"])
            .output()
            .expect("nft list tables");
        let tables = String::from_utf8_lossy(&out.stdout);
        assert!(
            !tables.contains("secgroup"),
            "a secgroup table is left in {ns}: {tables}"
        );
    }
    let root = std::process::Command::new("nft")
        .args(["list", "tables"])
        .output()
        .expect("nft list tables");
    assert!(!String::from_utf8_lossy(&root.stdout).contains("secgroup"));
}

/// An interface attached to `instance` (`device` 0 is its primary one) in `vswitch`, with
/// `addresses` (the primary one first) and `groups`; its MAC is derived from its id.
pub fn interface(
    id: &str,
    instance: &str,
    vpc: &str,
    vswitch: &str,
    device: u32,
    addresses: &[&str],
    groups: &[&str],
) -> NetworkInterface {
    let digest = secgroup_dataplane::names::short_hash(id, 6);
    NetworkInterface {
        id: id.into(),
        account_id: "1".into(),
        region_id: "cn-hangzhou".into(),
        zone_id: "cn-hangzhou-a".into(),
        vpc_id: vpc.into(),
        vswitch_id: vswitch.into(),
        kind: if device == 0 {
            InterfaceKind::Primary
        } else {
            InterfaceKind::Secondary
        },
        name: String::new(),
        description: String::new(),
        resource_group_id: String::new(),
        instance_id: instance.into(),
        device_index: device,
        mac_address: format!(
            "00:16:3e:{}:{}:{}",
            &digest[0..2],
            &digest[2..4],
            &digest[4..6]
        ),
        primary_ip: addresses[0].into(),
        secondary_ips: addresses[1..].iter().map(|a| a.to_string()).collect(),
        security_group_ids: groups.iter().map(|g| g.to_string()).collect(),
        creation_time: Utc.timestamp_opt(0, 0).single().unwrap_or_default(),
    }
}

/// The state as today's engine (one address per NIC) can judge instances with several
/// interfaces: every address of every attached interface of a Running instance becomes an
/// instance of its own with its interface's groups (docs/semantics.md: secondary addresses
/// are their interface's; a group peer matches every address of every member interface).
/// The instance's primary address keeps the instance's id, every other one is
/// `instance@address`. Returns the state and the engine id of each address.
pub fn one_nic_per_address(
    state: &NetworkState,
) -> (NetworkState, std::collections::BTreeMap<String, String>) {
    let mut ids = std::collections::BTreeMap::new();
    let mut instances = Vec::new();
    for i in &state.instances {
        let attached: Vec<&NetworkInterface> = state
            .interfaces
            .iter()
            .filter(|e| e.instance_id == i.id)
            .collect();
        let mut shown = |address: &str, groups: &[String], first: bool| {
            let mut s = i.clone();
            s.id = if first {
                i.id.clone()
            } else {
                format!("{}@{address}", i.id)
            };
            s.network_interface_id = s.id.clone();
            s.private_ip = address.to_string();
            s.security_group_ids = groups.to_vec();
            ids.insert(address.to_string(), s.id.clone());
            instances.push(s);
        };
        if attached.is_empty() {
            shown(&i.private_ip, &i.security_group_ids, true);
        }
        for e in attached {
            for (k, address) in e.addresses().enumerate() {
                shown(
                    address,
                    &e.security_group_ids,
                    e.kind == InterfaceKind::Primary && k == 0,
                );
            }
        }
    }
    (
        NetworkState {
            instances,
            interfaces: Vec::new(),
            ..state.clone()
        },
        ids,
    )
}
