//! ECS instances and their security-group membership (docs/ecs.md §7). An instance is its
//! primary network interface as far as groups are concerned: one private IPv4 address in one
//! vSwitch, 1..=5 groups of one type, all in its VPC.
//!
//! Launching is in [`launch`] (addresses in [`addresses`], names in [`naming`]), the status
//! machine's operations in [`lifecycle`], group membership in [`membership`], listings in
//! [`query`]. This module holds what they share: the echoed attributes and the status
//! machine itself.
//!
//! Transient states settle lazily: the store keeps the state last written and when it was
//! entered; [`observe`] computes what a reader sees now from that and the configured
//! [`InstanceTimings`] (all zero by default, so `Pending` is `Running` at once). A write
//! first [`settle`]s the instance, so it acts on — and stores — the state a reader sees.

pub mod addresses;
pub mod launch;
pub mod lifecycle;
pub mod membership;
pub mod naming;
pub mod query;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{AccountId, InstanceId};
use crate::network::{Instance, InstanceStatus};
use crate::store::{StoreError, Tx};

/// How long each transient state lasts (docs/ecs.md §7.1: configurable, 0 by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstanceTimings {
    pub pending: Duration,
    pub starting: Duration,
    pub stopping: Duration,
}

impl InstanceTimings {
    /// The same delay for every transient state.
    pub fn uniform(delay: Duration) -> Self {
        InstanceTimings {
            pending: delay,
            starting: delay,
            stopping: delay,
        }
    }
}

/// What an instance keeps besides its typed fields: the lifecycle's bookkeeping and the
/// accepted-and-echoed launch parameters that are not simulated. Stored as the JSON text of
/// [`Instance::attributes`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct InstanceAttributes {
    /// After `Pending` or `Stopping` the instance goes on to `Starting` (RunInstances,
    /// RebootInstance) instead of settling in `Stopped` (CreateInstance, StopInstance).
    pub auto_start: bool,
    /// When the instance last became `Running`, as far as a write has observed.
    pub start_time: Option<DateTime<Utc>>,
    /// `KeepCharging` / `StopCharging`, recorded by StopInstance.
    pub stopped_mode: String,
    pub instance_charge_type: String,
    pub internet_charge_type: String,
    pub internet_max_bandwidth_in: i64,
    pub internet_max_bandwidth_out: i64,
    /// The public address assigned when `InternetMaxBandwidthOut > 0`, or empty.
    pub public_ip: String,
    pub spot_strategy: String,
    pub resource_group_id: String,
    pub key_pair_name: String,
    pub deletion_protection: bool,
    pub auto_release_time: String,
    pub credit_specification: String,
    pub deployment_set_id: String,
    pub hpc_cluster_id: String,
    pub system_disk_category: String,
    /// A lowercase UUID, fixed at launch.
    pub serial_number: String,
    /// The primary interface's `NetworkInterfaceName` and `Description`
    /// (`ModifyNetworkInterfaceAttribute`, docs/ecs.md §10.4).
    pub primary_interface_name: String,
    pub primary_interface_description: String,
}

impl InstanceAttributes {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        if text.is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(text).map_err(|e| {
            StoreError::Other(format!("unreadable instance attributes in database: {e}")).into()
        })
    }

    pub fn to_json(&self) -> Result<String, DomainError> {
        serde_json::to_string(self)
            .map_err(|e| StoreError::Other(format!("instance attributes: {e}")).into())
    }
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// The state a reader sees at `now`, and when the instance entered it.
pub fn observe(
    status: InstanceStatus,
    since: DateTime<Utc>,
    auto_start: bool,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> (InstanceStatus, DateTime<Utc>) {
    use InstanceStatus as S;
    let (mut status, mut since) = (status, since);
    loop {
        let (lasts, next) = match status {
            S::Running | S::Stopped => return (status, since),
            S::Pending if auto_start => (timings.pending, S::Starting),
            S::Pending => (timings.pending, S::Stopped),
            S::Starting => (timings.starting, S::Running),
            S::Stopping if auto_start => (timings.stopping, S::Starting),
            S::Stopping => (timings.stopping, S::Stopped),
        };
        let ends = since.checked_add_signed(delta(lasts));
        match ends {
            Some(ends) if ends <= now => (status, since) = (next, ends),
            _ => return (status, since),
        }
    }
}

/// An instance as stored, with its attributes parsed and its state settled to `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub instance: Instance,
    pub attributes: InstanceAttributes,
}

impl Settled {
    /// The instance with its settled state and attributes, ready to be stored.
    pub fn into_instance(self) -> Result<Instance, DomainError> {
        let mut instance = self.instance;
        instance.attributes = self.attributes.to_json()?;
        Ok(instance)
    }

    /// Moves to `status` now; `auto_start` says where `Pending`/`Stopping` lead.
    pub fn enter(&mut self, status: InstanceStatus, auto_start: bool, now: DateTime<Utc>) {
        self.instance.status = status;
        self.instance.status_since = now;
        self.attributes.auto_start = auto_start;
    }
}

/// Parses the attributes and settles the state to `now`.
pub fn settle(
    instance: Instance,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<Settled, DomainError> {
    let mut attributes = InstanceAttributes::parse(&instance.attributes)?;
    let mut instance = instance;
    let (status, since) = observe(
        instance.status,
        instance.status_since,
        attributes.auto_start,
        timings,
        now,
    );
    if status != instance.status && status == InstanceStatus::Running {
        attributes.start_time = Some(since);
    }
    instance.status = status;
    instance.status_since = since;
    Ok(Settled {
        instance,
        attributes,
    })
}

/// Instance ids may hold letters, digits, `_` and `-`, at most 100 characters.
pub fn validate_id(id: &str) -> Result<(), DomainError> {
    let ok = !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then_some(()).ok_or(DomainError::InstanceIdMalformed)
}

/// The instance `id` of this account (any region: the instance operations carry no
/// `RegionId`), settled to `now`.
pub fn get(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    id: &InstanceId,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<Settled, DomainError> {
    let instance = tx
        .instance(account_id, id)?
        .ok_or_else(|| DomainError::InstanceNotFound(id.to_string()))?;
    settle(instance, timings, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstanceStatus as S;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("time")
    }

    #[test]
    fn zero_delays_settle_at_once() {
        let t = InstanceTimings::default();
        assert_eq!(
            observe(S::Pending, at(0), true, &t, at(0)),
            (S::Running, at(0))
        );
        assert_eq!(
            observe(S::Pending, at(0), false, &t, at(0)),
            (S::Stopped, at(0))
        );
        assert_eq!(
            observe(S::Stopping, at(5), true, &t, at(5)),
            (S::Running, at(5))
        );
        assert_eq!(
            observe(S::Stopping, at(5), false, &t, at(5)),
            (S::Stopped, at(5))
        );
        assert_eq!(
            observe(S::Starting, at(5), false, &t, at(9)),
            (S::Running, at(5))
        );
    }

    #[test]
    fn delays_walk_the_chain() {
        let t = InstanceTimings {
            pending: Duration::from_secs(2),
            starting: Duration::from_secs(3),
            stopping: Duration::from_secs(4),
        };
        assert_eq!(
            observe(S::Pending, at(0), true, &t, at(1)),
            (S::Pending, at(0))
        );
        assert_eq!(
            observe(S::Pending, at(0), true, &t, at(2)),
            (S::Starting, at(2))
        );
        assert_eq!(
            observe(S::Pending, at(0), true, &t, at(4)),
            (S::Starting, at(2))
        );
        assert_eq!(
            observe(S::Pending, at(0), true, &t, at(5)),
            (S::Running, at(5))
        );
        assert_eq!(
            observe(S::Pending, at(0), false, &t, at(9)),
            (S::Stopped, at(2))
        );
        // A reboot: Stopping, then Starting, then Running.
        assert_eq!(
            observe(S::Stopping, at(0), true, &t, at(4)),
            (S::Starting, at(4))
        );
        assert_eq!(
            observe(S::Stopping, at(0), true, &t, at(7)),
            (S::Running, at(7))
        );
        assert_eq!(
            observe(S::Running, at(0), true, &t, at(99)),
            (S::Running, at(0))
        );
    }

    #[test]
    fn attributes_round_trip_and_tolerate_missing_fields() {
        let a = InstanceAttributes {
            auto_start: true,
            instance_charge_type: "PostPaid".into(),
            internet_max_bandwidth_out: 5,
            ..Default::default()
        };
        let text = a.to_json().expect("json");
        assert_eq!(InstanceAttributes::parse(&text).expect("parse"), a);
        assert_eq!(
            InstanceAttributes::parse("{}").expect("parse"),
            InstanceAttributes::default()
        );
        assert!(InstanceAttributes::parse("[").is_err());
    }
}
