//! [`Network`]: one account's network in one region, as read in one transaction and compiled
//! for the engine, with the indexes every question needs. Immutable, so that one compiled
//! copy serves any number of requests at once (see [`crate::cache`]).
//!
//! Instance statuses are kept as stored and settled per question ([`Network::status`]): the
//! engine never looks at them (the snapshot holds groups, rules and addresses), only the
//! "is it running?" rule applied on top does (docs/semantics.md §4), so the compiled part
//! stays valid however long the transient states last.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use secgroup_domain::network::{
    Instance, InstanceStatus, InterfaceKind, NetworkInterface, NetworkState, VSwitch,
};
use secgroup_domain::ops::instances::{observe, InstanceAttributes, InstanceTimings};
use secgroup_domain::rules::Rule;
use secgroup_domain::DomainError;
use secgroup_reach::Snapshot;

/// An attached interface as the service knows it: a NIC of the engine (docs/semantics.md
/// §1), the primary one of an instance or a secondary one attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nic {
    /// Index of its instance in [`Network::instances`].
    pub instance: usize,
    /// `eni-…`
    pub interface_id: String,
    pub kind: InterfaceKind,
    /// `eth{device_index}` on the instance; the primary one is 0.
    pub device_index: u32,
    pub vswitch_id: String,
    pub mac_address: String,
    /// Every private address as stored, the primary one first.
    pub addresses: Vec<String>,
    /// The interface's groups (the instance's for the primary one).
    pub security_group_ids: Vec<String>,
}

impl Nic {
    /// The primary private address, as stored.
    pub fn primary_ip(&self) -> &str {
        self.addresses.first().map_or("", String::as_str)
    }
}

/// Who holds an address: a NIC (an index into [`Network::nics`]), and whether the address
/// is stored exactly so (untrimmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    pub nic: usize,
    pub exact: bool,
}

/// One account's network in one region, compiled.
pub struct Network {
    state: NetworkState,
    vswitches: HashMap<String, VSwitch>,
    snapshot: Snapshot,
    timings: InstanceTimings,
    /// Per instance (same index as `state.instances`): where `Pending` and `Stopping` lead.
    auto_start: Vec<bool>,
    by_id: HashMap<String, usize>,
    /// Each instance's interfaces: its primary one (in instance order), then its secondary
    /// ones by device index.
    nics: Vec<Nic>,
    nic_by_interface: HashMap<String, usize>,
    /// NICs by private address, primary and secondary ones, in the store's order
    /// (addresses repeat across VPCs).
    by_address: HashMap<IpAddr, Vec<Holder>>,
    rules_by_id: HashMap<String, usize>,
}

impl Network {
    /// Compiles `state` (and the region's `vswitches`, for topologies). CPU work that grows
    /// with the network: callers run it on the blocking pool.
    pub fn compile(
        mut state: NetworkState,
        vswitches: Vec<VSwitch>,
        timings: InstanceTimings,
    ) -> Result<Network, DomainError> {
        // Parsed once here rather than per question; an unreadable record fails the
        // question, as settling every instance on each request did. The rest of the
        // attributes (echoed launch parameters, several hundred bytes of JSON) answers no
        // reachability question, so a kept network does not keep them.
        let mut auto_start = Vec::with_capacity(state.instances.len());
        for instance in &mut state.instances {
            auto_start.push(InstanceAttributes::parse(&instance.attributes)?.auto_start);
            instance.attributes = String::new();
        }
        let mut by_id = HashMap::with_capacity(state.instances.len());
        for (n, instance) in state.instances.iter().enumerate() {
            by_id.insert(instance.id.clone(), n);
        }
        let nics = nics_of(&state, &by_id);
        let mut by_address: HashMap<IpAddr, Vec<Holder>> = HashMap::new();
        let mut nic_by_interface = HashMap::with_capacity(nics.len());
        for (k, nic) in nics.iter().enumerate() {
            nic_by_interface.insert(nic.interface_id.clone(), k);
            for text in &nic.addresses {
                if let Ok(address) = text.trim().parse::<IpAddr>() {
                    by_address.entry(address).or_default().push(Holder {
                        nic: k,
                        exact: text.parse::<IpAddr>().is_ok(),
                    });
                }
            }
        }
        let rules_by_id = state
            .rules
            .iter()
            .enumerate()
            .map(|(n, r)| (r.id.clone(), n))
            .collect();
        let snapshot = Snapshot::build(&state);
        Ok(Network {
            vswitches: vswitches.into_iter().map(|v| (v.id.clone(), v)).collect(),
            snapshot,
            timings,
            auto_start,
            by_id,
            nics,
            nic_by_interface,
            by_address,
            rules_by_id,
            state,
        })
    }

    /// What the cache counts an entry as: the records it holds.
    pub(crate) fn weight(&self) -> usize {
        let s = &self.state;
        let entries: usize = s.prefix_lists.iter().map(|p| p.entries.len()).sum();
        1 + s.instances.len()
            + s.interfaces.len()
            + s.rules.len()
            + s.groups.len()
            + s.vpcs.len()
            + entries
            + self.vswitches.len()
    }

    /// The engine's compiled view.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The instances, oldest first, with their statuses as stored (ask [`Network::status`]
    /// for the one a reader sees) and without their echoed `attributes`.
    pub fn instances(&self) -> &[Instance] {
        &self.state.instances
    }

    /// The index of instance `id` in [`Network::instances`].
    pub fn instance_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.instance_index(id).map(|n| &self.state.instances[n])
    }

    /// The NICs holding `address` (a primary or secondary private address), instances
    /// oldest first and each instance's interfaces in order.
    pub fn holders(&self, address: IpAddr) -> &[Holder] {
        self.by_address.get(&address).map_or(&[], Vec::as_slice)
    }

    /// Every attached interface (docs/semantics.md §1): per instance, oldest first, its
    /// primary one and then its secondary ones by device index.
    pub fn nics(&self) -> &[Nic] {
        &self.nics
    }

    /// The index in [`Network::nics`] of an attached interface (`eni-…`).
    pub fn nic_index(&self, interface_id: &str) -> Option<usize> {
        self.nic_by_interface.get(interface_id).copied()
    }

    /// The state instance `index` is in at `now` (transient states settled as
    /// DescribeInstances would, docs/ecs.md §7.1).
    pub fn status(&self, index: usize, now: DateTime<Utc>) -> InstanceStatus {
        let instance = &self.state.instances[index];
        let auto_start = self.auto_start.get(index).copied().unwrap_or(false);
        observe(
            instance.status,
            instance.status_since,
            auto_start,
            &self.timings,
            now,
        )
        .0
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules_by_id.get(id).map(|&n| &self.state.rules[n])
    }

    pub fn vswitch(&self, id: &str) -> Option<&VSwitch> {
        self.vswitches.get(id)
    }

    pub fn has_vpc(&self, id: &str) -> bool {
        self.state.vpcs.iter().any(|v| v.id == id)
    }

    pub fn has_group(&self, id: &str) -> bool {
        self.state.groups.iter().any(|g| g.id == id)
    }
}

/// The attached interfaces of `state`, as the engine counts them: each instance's primary
/// one (its record, when there is one, adds the secondary addresses), then those of its
/// secondary interfaces attached to it, by device index.
fn nics_of(state: &NetworkState, by_id: &HashMap<String, usize>) -> Vec<Nic> {
    let records: HashMap<&str, &NetworkInterface> = state
        .interfaces
        .iter()
        .map(|e| (e.id.as_str(), e))
        .collect();
    let mut secondary: Vec<Vec<&NetworkInterface>> = vec![Vec::new(); state.instances.len()];
    for eni in &state.interfaces {
        if eni.kind != InterfaceKind::Secondary {
            continue;
        }
        if let Some(&n) = by_id.get(&eni.instance_id) {
            secondary[n].push(eni);
        }
    }
    let mut nics = Vec::with_capacity(state.instances.len() + state.interfaces.len());
    for (n, instance) in state.instances.iter().enumerate() {
        let mut addresses = vec![instance.private_ip.clone()];
        if let Some(record) = records.get(instance.network_interface_id.as_str()) {
            addresses.extend(record.secondary_ips.iter().cloned());
        }
        nics.push(Nic {
            instance: n,
            interface_id: instance.network_interface_id.clone(),
            kind: InterfaceKind::Primary,
            device_index: 0,
            vswitch_id: instance.vswitch_id.clone(),
            mac_address: instance.mac_address.clone(),
            addresses,
            security_group_ids: instance.security_group_ids.clone(),
        });
        secondary[n].sort_by_key(|e| e.device_index);
        for eni in &secondary[n] {
            nics.push(Nic {
                instance: n,
                interface_id: eni.id.clone(),
                kind: InterfaceKind::Secondary,
                device_index: eni.device_index,
                vswitch_id: eni.vswitch_id.clone(),
                mac_address: eni.mac_address.clone(),
                addresses: eni.addresses().map(str::to_string).collect(),
                security_group_ids: eni.security_group_ids.clone(),
            });
        }
    }
    nics
}
