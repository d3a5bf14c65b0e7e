//! Which security groups an instance (its primary interface) is in: `JoinSecurityGroup`,
//! `LeaveSecurityGroup` and the replace-the-set `SecurityGroupIds.N` of
//! `ModifyInstanceAttribute`. Every rule is checked inside the write transaction that
//! changes the set: the groups are in the instance's VPC and region, 1..=N of them
//! (`Limits::security_groups_per_instance`), all basic or all advanced, none full.

use chrono::{DateTime, Utc};

use super::{get, InstanceTimings, Settled};
use crate::error::DomainError;
use crate::ids::{AccountId, InstanceId, SecurityGroupId};
use crate::model::{SecurityGroup, SecurityGroupType};
use crate::network::{Instance, InstanceScope, InstanceStatus};
use crate::ops::network_interfaces::{self, Found};
use crate::ops::{security_groups, Limits};
use crate::store::Tx;

/// The member a Join/Leave names: an instance, or a network interface (an instance's
/// primary one, or a secondary one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    Instance(InstanceId),
    /// `eni-…`, looked up among the region's secondary interfaces, then among its
    /// instances' primary ones.
    NetworkInterface {
        id: String,
        region_id: String,
    },
}

/// How many members (instances and secondary interfaces) a group may hold.
pub fn group_capacity(group: &SecurityGroup, limits: &Limits) -> u64 {
    match group.group_type {
        SecurityGroupType::Normal => limits.instances_per_group,
        SecurityGroupType::Enterprise => limits.instances_per_enterprise_group,
    }
}

/// How many of `more` new members `group` can take.
pub(crate) fn has_room(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    group: &SecurityGroup,
    more: u64,
    limits: &Limits,
) -> Result<u64, DomainError> {
    let members = crate::ops::network_interfaces::members(
        tx,
        account_id,
        InstanceScope::SecurityGroup(&SecurityGroupId::from(&group.id)),
    )?;
    Ok(group_capacity(group, limits)
        .saturating_sub(members)
        .min(more))
}

/// Refuses a repeated id in a requested set.
pub(crate) fn no_repeats<T: PartialEq>(ids: &[T]) -> Result<(), DomainError> {
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err(DomainError::SecurityGroupIdRepeated);
        }
    }
    Ok(())
}

/// Whether basic and advanced groups are mixed.
pub(crate) fn mixed(groups: &[SecurityGroup]) -> bool {
    groups
        .windows(2)
        .any(|w| w[0].group_type != w[1].group_type)
}

/// What a Join/Leave changes: an instance (its primary interface) or a secondary interface.
impl Found {
    fn groups(&self) -> &[String] {
        match self {
            Found::Primary(s) => &s.instance.security_group_ids,
            Found::Secondary(e) => &e.security_group_ids,
        }
    }

    fn groups_mut(&mut self) -> &mut Vec<String> {
        match self {
            Found::Primary(s) => &mut s.instance.security_group_ids,
            Found::Secondary(e) => &mut e.security_group_ids,
        }
    }

    fn region_and_vpc(&self) -> (String, String) {
        match self {
            Found::Primary(s) => (s.instance.region_id.clone(), s.instance.vpc_id.clone()),
            Found::Secondary(e) => (e.region_id.clone(), e.vpc_id.clone()),
        }
    }

    /// Instances must be `Running` or `Stopped` (docs/ecs.md §7.1); a secondary interface
    /// changes in any state.
    fn stable(&self) -> Result<(), DomainError> {
        match self {
            Found::Primary(s) => stable(&s.instance),
            Found::Secondary(_) => Ok(()),
        }
    }

    fn store(self, tx: &mut dyn Tx) -> Result<(), DomainError> {
        match self {
            Found::Primary(s) => tx.update_instance(&s.into_instance()?)?,
            Found::Secondary(e) => tx.update_network_interface(&e)?,
        };
        Ok(())
    }
}

fn resolve(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    member: &Member,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<Found, DomainError> {
    match member {
        Member::Instance(id) => {
            super::validate_id(id)?;
            get(tx, account_id, id, timings, now).map(Found::Primary)
        }
        Member::NetworkInterface { id, region_id } => {
            network_interfaces::find(tx, account_id, region_id, id, timings, now)
        }
    }
}

/// Join and Leave act on `Running` and `Stopped` instances only (docs/ecs.md §7.1).
fn stable(instance: &Instance) -> Result<(), DomainError> {
    match instance.status {
        InstanceStatus::Running | InstanceStatus::Stopped => Ok(()),
        _ => Err(DomainError::IncorrectInstanceStatus),
    }
}

/// The request of a Join or Leave: who, which group, and the settings that apply.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    pub account_id: &'a AccountId,
    pub member: &'a Member,
    pub group_id: &'a SecurityGroupId,
    pub limits: &'a Limits,
    pub timings: &'a InstanceTimings,
}

/// `JoinSecurityGroup`: adds one group to the member's set.
pub fn join(tx: &mut dyn Tx, c: &Change<'_>, now: DateTime<Utc>) -> Result<(), DomainError> {
    let mut target = resolve(tx, c.account_id, c.member, c.timings, now)?;
    let (region, vpc) = target.region_and_vpc();
    let group = security_groups::get(tx, c.account_id, &region, c.group_id)?;
    target.stable()?;
    let current = target.groups().to_vec();
    if current.contains(&group.id) {
        return Err(DomainError::InstanceAlreadyInSecurityGroup);
    }
    if group.vpc_id.is_empty() || group.vpc_id != vpc {
        return Err(DomainError::SecurityGroupVpcMismatch);
    }
    for other in current.iter() {
        let other = tx.security_group(c.account_id, &SecurityGroupId::from(other))?;
        if other.is_some_and(|o| o.group_type != group.group_type) {
            return Err(DomainError::SecurityGroupTypesMixed);
        }
    }
    if current.len() >= c.limits.security_groups_per_instance {
        return Err(DomainError::InstanceSecurityGroupLimitExceeded(
            c.limits.security_groups_per_instance,
        ));
    }
    if has_room(tx, c.account_id, &group, 1, c.limits)? == 0 {
        return Err(DomainError::SecurityGroupInstanceLimitExceeded(group.id));
    }
    target.groups_mut().push(group.id);
    target.store(tx)
}

/// `LeaveSecurityGroup`: removes one group; the last one cannot be left.
pub fn leave(tx: &mut dyn Tx, c: &Change<'_>, now: DateTime<Utc>) -> Result<(), DomainError> {
    let mut target = resolve(tx, c.account_id, c.member, c.timings, now)?;
    let (region, _) = target.region_and_vpc();
    let group = security_groups::get(tx, c.account_id, &region, c.group_id)?;
    target.stable()?;
    let current = target.groups_mut();
    if !current.contains(&group.id) {
        return Err(DomainError::InstanceNotInSecurityGroup);
    }
    if current.len() == 1 {
        return Err(DomainError::InstanceLastSecurityGroup);
    }
    current.retain(|g| *g != group.id);
    target.store(tx)
}

/// `ModifyInstanceAttribute` `SecurityGroupIds.N`: the instance's set becomes exactly `ids`
/// (in that order). Changes `settled` in place; the caller stores it.
pub fn replace(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    settled: &mut Settled,
    ids: &[SecurityGroupId],
    limits: &Limits,
) -> Result<(), DomainError> {
    no_repeats(ids)?;
    if ids.len() > limits.security_groups_per_instance {
        return Err(DomainError::InstanceSecurityGroupLimitExceeded(
            limits.security_groups_per_instance,
        ));
    }
    if settled.instance.status == InstanceStatus::Pending {
        return Err(DomainError::IncorrectInstanceStatus);
    }
    let region = settled.instance.region_id.clone();
    let mut groups = Vec::with_capacity(ids.len());
    for id in ids {
        groups.push(security_groups::get(tx, account_id, &region, id)?);
    }
    for group in &groups {
        if group.vpc_id.is_empty() {
            return Err(DomainError::SecurityGroupClassic);
        }
        if group.vpc_id != settled.instance.vpc_id {
            return Err(DomainError::SecurityGroupVpcMismatch);
        }
    }
    if mixed(&groups) {
        return Err(DomainError::SecurityGroupTypesMixed);
    }
    for group in &groups {
        let joining = !settled.instance.security_group_ids.contains(&group.id);
        if joining && has_room(tx, account_id, group, 1, limits)? == 0 {
            return Err(DomainError::SecurityGroupInstanceLimitExceeded(
                group.id.clone(),
            ));
        }
    }
    settled.instance.security_group_ids = ids.iter().map(|id| id.to_string()).collect();
    Ok(())
}
