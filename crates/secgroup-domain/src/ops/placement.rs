//! Placement of instances on hosts, and each VPC's VXLAN network identifier (README "Data
//! plane"). Every `secgroup agent` reports the host it runs on; a host is *live* while one
//! of its agents reported within [`PlacementPolicy::host_timeout`]. An instance that starts
//! is placed on one live host: the one it had if that is still live (sticky), otherwise the
//! live host with the fewest placed instances that are not `Stopped` (ties by host name).
//! The placement is one row per instance, written in the same transaction as the start,
//! so an instance is never on two hosts at once, whichever node places it. The first
//! placement of an instance of a VPC gives the VPC its VNI: the lowest free one from
//! [`FIRST_VNI`].

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::instances::{observe, InstanceAttributes, InstanceTimings};
use crate::error::DomainError;
use crate::ids::{AccountId, InstanceId, VpcId};
use crate::model::AgentStatus;
use crate::network::{Instance, InstanceQuery, InstanceStatus, Placement};
use crate::store::{StoreError, Tx};

/// The first VNI handed out (lower numbers are left for the operator).
pub const FIRST_VNI: u32 = 1001;
/// The largest VNI (24 bits).
pub const MAX_VNI: u32 = 16_777_215;
/// How long a host may stay silent and still be live, by default (`--host-timeout-secs`).
pub const DEFAULT_HOST_TIMEOUT: Duration = Duration::from_secs(30);

/// How the control plane places instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacementPolicy {
    /// A host whose agents all reported longer ago than this is not live: it gets no new
    /// placements, and its instances go elsewhere on their next start.
    pub host_timeout: Duration,
}

impl Default for PlacementPolicy {
    fn default() -> Self {
        PlacementPolicy {
            host_timeout: DEFAULT_HOST_TIMEOUT,
        }
    }
}

impl PlacementPolicy {
    /// A policy of `secs` seconds (`--host-timeout-secs`); zero is refused (no host would
    /// ever be live).
    pub fn from_secs(secs: u64) -> Result<Self, String> {
        if secs == 0 {
            return Err("must be a positive number of seconds".to_owned());
        }
        Ok(PlacementPolicy {
            host_timeout: Duration::from_secs(secs),
        })
    }

    /// Whether a report made at `updated_at` still makes its host live at `now`.
    pub fn is_alive(&self, updated_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let timeout = TimeDelta::from_std(self.host_timeout).unwrap_or(TimeDelta::MAX);
        match now.checked_sub_signed(timeout) {
            Some(oldest) => updated_at >= oldest,
            None => true,
        }
    }
}

/// The live hosts at `now`, each with its underlay address (that of its most recent
/// report that names one; empty when none does).
pub fn live_hosts(
    statuses: &[AgentStatus],
    now: DateTime<Utc>,
    policy: &PlacementPolicy,
) -> BTreeMap<String, String> {
    let mut newest: BTreeMap<String, (DateTime<Utc>, String)> = BTreeMap::new();
    for s in statuses
        .iter()
        .filter(|s| policy.is_alive(s.updated_at, now))
    {
        let entry = newest
            .entry(s.host.clone())
            .or_insert((s.updated_at, String::new()));
        if !s.underlay_address.is_empty() && (entry.1.is_empty() || s.updated_at >= entry.0) {
            *entry = (s.updated_at, s.underlay_address.clone());
        }
    }
    newest
        .into_iter()
        .map(|(host, (_, underlay))| (host, underlay))
        .collect()
}

/// The live host with the fewest instances (ties by name), or `None` without one.
pub fn choose(live: &BTreeMap<String, String>, loads: &BTreeMap<String, usize>) -> Option<String> {
    live.keys()
        .min_by_key(|host| (loads.get(*host).copied().unwrap_or(0), (*host).clone()))
        .cloned()
}

/// Whether an instance in `status` (settled), leading on as `auto_start` says, is on its
/// way to `Running` (so needs a host).
fn bound_to_run(status: InstanceStatus, auto_start: bool) -> bool {
    use InstanceStatus as S;
    match status {
        S::Starting | S::Running => true,
        S::Pending | S::Stopping => auto_start,
        S::Stopped => false,
    }
}

/// The state of a stored instance at `now`.
fn settled_status(
    status: InstanceStatus,
    since: DateTime<Utc>,
    attributes: &str,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<(InstanceStatus, bool), DomainError> {
    let auto_start = InstanceAttributes::parse(attributes)?.auto_start;
    Ok((
        observe(status, since, auto_start, timings, now).0,
        auto_start,
    ))
}

/// Instances per host that are not `Stopped` at `now`.
fn loads(
    tx: &mut dyn Tx,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<BTreeMap<String, usize>, DomainError> {
    let mut loads = BTreeMap::new();
    for p in tx.placed_instances(None)? {
        let (status, _) = settled_status(p.status, p.status_since, &p.attributes, timings, now)?;
        if status != InstanceStatus::Stopped {
            *loads.entry(p.placement.host).or_insert(0) += 1;
        }
    }
    Ok(loads)
}

/// Gives the VPC a VNI unless it has one: the lowest free from [`FIRST_VNI`].
pub fn ensure_vni(tx: &mut dyn Tx, vpc_id: &str) -> Result<u32, DomainError> {
    let vnis = tx.vpc_vnis()?;
    if let Some(vni) = vnis.get(vpc_id) {
        return Ok(*vni);
    }
    let taken: HashSet<u32> = vnis.values().copied().collect();
    let vni = (FIRST_VNI..=MAX_VNI)
        .find(|v| !taken.contains(v))
        .ok_or_else(|| StoreError::Other("every VNI is taken".to_owned()))?;
    tx.insert_vpc_vni(&VpcId::from(vpc_id), vni)?;
    Ok(vni)
}

/// Places the instances of the account that are on their way to `Running` (the others are
/// left as they are): each keeps its host if that is live, or goes to the least loaded live
/// host (counting the ones placed by this call); its VPC gets a VNI. Without a live host
/// an instance is left unplaced (a placement on a host that is not live goes). Returns how
/// many instances were placed anew. Call it in the write that starts them.
pub fn place(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    ids: &[InstanceId],
    timings: &InstanceTimings,
    policy: &PlacementPolicy,
    now: DateTime<Utc>,
) -> Result<usize, DomainError> {
    let mut instances = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(instance) = tx.instance(account_id, id)? {
            instances.push(instance);
        }
    }
    place_instances(tx, &instances, timings, policy, now)
}

fn place_instances(
    tx: &mut dyn Tx,
    instances: &[Instance],
    timings: &InstanceTimings,
    policy: &PlacementPolicy,
    now: DateTime<Utc>,
) -> Result<usize, DomainError> {
    if instances.is_empty() {
        return Ok(0);
    }
    let live = live_hosts(&tx.agent_statuses()?, now, policy);
    let mut loads = loads(tx, timings, now)?;
    let mut placed = 0;
    for instance in instances {
        let (status, auto_start) = settled_status(
            instance.status,
            instance.status_since,
            &instance.attributes,
            timings,
            now,
        )?;
        if !bound_to_run(status, auto_start) {
            continue;
        }
        let id = InstanceId::from(&instance.id);
        let current = tx.placement(&id)?;
        if current.as_ref().is_some_and(|p| live.contains_key(&p.host)) {
            ensure_vni(tx, &instance.vpc_id)?;
            continue;
        }
        let Some(host) = choose(&live, &loads) else {
            if current.is_some() {
                tx.delete_placement(&id)?;
            }
            continue;
        };
        tx.put_placement(&Placement {
            instance_id: instance.id.clone(),
            host: host.clone(),
            placed_at: now,
        })?;
        *loads.entry(host).or_insert(0) += 1;
        ensure_vni(tx, &instance.vpc_id)?;
        placed += 1;
    }
    Ok(placed)
}

/// Places every instance, of every account, that is on its way to `Running` with no
/// placement at all (started while no agent was live). One placed on a host that went away
/// stays there until its next start: that host's packets may still flow with its last
/// rules (an agent killed, a host cut off from the database), and an instance must never
/// run on two hosts at once.
/// Returns how many were placed. An ordinary write: run it in [`crate::Store::write`]
/// (which moves the revision) only when a settled picture holds such an instance, or the
/// revision moves for nothing.
pub fn place_unplaced(
    tx: &mut dyn Tx,
    timings: &InstanceTimings,
    policy: &PlacementPolicy,
    now: DateTime<Utc>,
) -> Result<usize, DomainError> {
    let placements: BTreeMap<String, String> = tx
        .placed_instances(None)?
        .into_iter()
        .map(|p| (p.placement.instance_id, p.placement.host))
        .collect();
    let mut waiting = Vec::new();
    for (account_id, region_id) in tx.instance_regions()? {
        for instance in tx.instances(&account_id, &region_id, &InstanceQuery::default())? {
            if !placements.contains_key(&instance.id) {
                waiting.push(instance);
            }
        }
    }
    place_instances(tx, &waiting, timings, policy, now)
}

/// The host the instance is shown on: its placement's, unless it is `Stopped`.
pub fn shown_host(status: InstanceStatus, placement: Option<&str>) -> String {
    match (status, placement) {
        (InstanceStatus::Stopped, _) | (_, None) => String::new(),
        (_, Some(host)) => host.to_owned(),
    }
}

/// Where one account's instances run, as `DescribeDataplaneStatus` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountHosts {
    /// Host → the account's instances placed there that are not `Stopped`, sorted.
    pub placed: BTreeMap<String, Vec<String>>,
    /// The account's instances that are not `Stopped` with no placement on a live host,
    /// sorted.
    pub unplaced: Vec<String>,
}

/// The account's instances (every region) by host, settled to `now`.
pub fn account_hosts(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    timings: &InstanceTimings,
    policy: &PlacementPolicy,
    now: DateTime<Utc>,
) -> Result<AccountHosts, DomainError> {
    let live = live_hosts(&tx.agent_statuses()?, now, policy);
    let placements: BTreeMap<String, String> = tx
        .placed_instances(Some(account_id))?
        .into_iter()
        .map(|p| (p.placement.instance_id, p.placement.host))
        .collect();
    let mut out = AccountHosts::default();
    let regions: Vec<String> = tx
        .instance_regions()?
        .into_iter()
        .filter(|(a, _)| a == account_id)
        .map(|(_, r)| r)
        .collect();
    for region_id in regions {
        for instance in tx.instances(account_id, &region_id, &InstanceQuery::default())? {
            let (status, _) = settled_status(
                instance.status,
                instance.status_since,
                &instance.attributes,
                timings,
                now,
            )?;
            if status == InstanceStatus::Stopped {
                continue;
            }
            match placements.get(&instance.id) {
                Some(host) => {
                    if !live.contains_key(host) {
                        out.unplaced.push(instance.id.clone());
                    }
                    out.placed
                        .entry(host.clone())
                        .or_default()
                        .push(instance.id);
                }
                None => out.unplaced.push(instance.id),
            }
        }
    }
    for ids in out.placed.values_mut() {
        ids.sort();
    }
    out.unplaced.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("time")
    }

    fn report(agent: &str, host: &str, underlay: &str, secs: i64) -> AgentStatus {
        AgentStatus {
            agent_id: agent.to_owned(),
            host: host.to_owned(),
            underlay_address: underlay.to_owned(),
            applied_revision: 0,
            last_applied_time: None,
            instance_counts: BTreeMap::new(),
            last_error: String::new(),
            updated_at: at(secs),
        }
    }

    #[test]
    fn live_hosts_are_those_reported_within_the_timeout() {
        let policy = PlacementPolicy::default();
        let statuses = [
            report("a1", "host-a", "10.1.0.1", 100),
            report("a2", "host-a", "", 120),
            report("b", "host-b", "", 70),
            report("c", "host-c", "10.1.0.3", 69),
        ];
        let live = live_hosts(&statuses, at(100), &policy);
        assert_eq!(
            live.into_iter().collect::<Vec<_>>(),
            vec![
                ("host-a".to_owned(), "10.1.0.1".to_owned()),
                ("host-b".to_owned(), String::new()),
            ],
            "30 s: 70 is live at 100, 69 is not; the underlay of a report that names one"
        );
        let short = PlacementPolicy {
            host_timeout: Duration::from_secs(5),
        };
        assert_eq!(
            live_hosts(&statuses, at(124), &short)
                .keys()
                .collect::<Vec<_>>(),
            vec!["host-a"]
        );
        assert!(live_hosts(&statuses, at(200), &policy).is_empty());
    }

    #[test]
    fn choice_is_the_least_loaded_then_by_name() {
        let live: BTreeMap<String, String> = ["h-b", "h-a", "h-c"]
            .iter()
            .map(|h| ((*h).to_owned(), String::new()))
            .collect();
        let mut loads = BTreeMap::new();
        assert_eq!(choose(&live, &loads).as_deref(), Some("h-a"));
        loads.insert("h-a".to_owned(), 2);
        loads.insert("h-b".to_owned(), 1);
        loads.insert("h-c".to_owned(), 1);
        assert_eq!(choose(&live, &loads).as_deref(), Some("h-b"));
        loads.insert("h-dead".to_owned(), 0);
        assert_eq!(choose(&live, &loads).as_deref(), Some("h-b"));
        assert_eq!(choose(&BTreeMap::new(), &loads), None);
    }

    #[test]
    fn only_instances_bound_to_run_need_a_host() {
        use InstanceStatus as S;
        assert!(bound_to_run(S::Running, false));
        assert!(bound_to_run(S::Starting, false));
        assert!(bound_to_run(S::Pending, true));
        assert!(!bound_to_run(S::Pending, false));
        assert!(!bound_to_run(S::Stopping, false));
        assert!(!bound_to_run(S::Stopped, true));
        assert_eq!(shown_host(S::Running, Some("h")), "h");
        assert_eq!(shown_host(S::Stopped, Some("h")), "");
        assert_eq!(shown_host(S::Running, None), "");
    }
}
