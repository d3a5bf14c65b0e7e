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
use secgroup_domain::network::{Instance, InstanceStatus, NetworkState, VSwitch};
use secgroup_domain::ops::instances::{observe, InstanceAttributes, InstanceTimings};
use secgroup_domain::rules::Rule;
use secgroup_domain::DomainError;
use secgroup_reach::Snapshot;

/// One account's network in one region, compiled.
pub struct Network {
    state: NetworkState,
    vswitches: HashMap<String, VSwitch>,
    snapshot: Snapshot,
    timings: InstanceTimings,
    /// Per instance (same index as `state.instances`): where `Pending` and `Stopping` lead.
    auto_start: Vec<bool>,
    by_id: HashMap<String, usize>,
    /// Instances by private address, in the store's order (addresses repeat across VPCs).
    by_address: HashMap<IpAddr, Vec<usize>>,
    rules_by_id: HashMap<String, usize>,
}

impl Network {
    /// Compiles `state` (and the region's `vswitches`, for topologies). CPU work that grows
    /// with the network: callers run it on the blocking pool.
    pub(crate) fn compile(
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
        let mut by_address: HashMap<IpAddr, Vec<usize>> = HashMap::new();
        for (n, instance) in state.instances.iter().enumerate() {
            by_id.insert(instance.id.clone(), n);
            if let Ok(address) = instance.private_ip.trim().parse::<IpAddr>() {
                by_address.entry(address).or_default().push(n);
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

    /// The instances whose private address is `address`, oldest first.
    pub fn holders(&self, address: IpAddr) -> &[usize] {
        self.by_address.get(&address).map_or(&[], Vec::as_slice)
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
