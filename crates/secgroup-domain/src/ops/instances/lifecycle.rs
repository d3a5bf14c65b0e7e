//! The status machine's operations (docs/ecs.md §7.1, §7.7–§7.9): start, stop, reboot,
//! delete one or many, and `ModifyInstanceAttribute`. Each settles the instance first, so
//! it acts on the state a reader would see now.
//!
//! | Operation | allowed in |
//! |---|---|
//! | Start | `Stopped` |
//! | Stop, Reboot | `Running` (Stop on `Stopped` is refused too: a Decision) |
//! | Delete | `Stopped`; with `Force` also `Starting`, `Running`, `Stopping`; never `Pending` |
//! | Modify `SecurityGroupIds` | all but `Pending` (a Decision) |

use chrono::{DateTime, Utc};

use super::{get, membership, naming, InstanceTimings, Settled};
use crate::error::DomainError;
use crate::ids::{AccountId, InstanceId, SecurityGroupId};
use crate::network::{Instance, InstanceStatus};
use crate::ops::placement::{self, PlacementPolicy};
use crate::ops::Limits;
use crate::store::Tx;

/// At most this many instances in one `DeleteInstances`.
pub const MAX_DELETE_IDS: usize = 100;

/// Who acts, with which settings, at what time.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub account_id: &'a AccountId,
    pub timings: &'a InstanceTimings,
    /// Where a start places the instance (README "Data plane").
    pub placement: &'a PlacementPolicy,
    pub now: DateTime<Utc>,
}

/// Moves the instance from `from` to `to` (`auto_start`: where `to` leads), or refuses.
fn transition(
    tx: &mut dyn Tx,
    a: &Actor<'_>,
    id: &InstanceId,
    from: InstanceStatus,
    to: InstanceStatus,
    auto_start: bool,
    then: impl FnOnce(&mut Settled),
) -> Result<(), DomainError> {
    let mut settled = get(tx, a.account_id, id, a.timings, a.now)?;
    if settled.instance.status != from {
        return Err(DomainError::IncorrectInstanceStatus);
    }
    settled.enter(to, auto_start, a.now);
    then(&mut settled);
    tx.update_instance(&settled.into_instance()?)?;
    Ok(())
}

/// `StartInstance`: `Stopped` → `Starting` → `Running`.
pub fn start(tx: &mut dyn Tx, a: &Actor<'_>, id: &InstanceId) -> Result<(), DomainError> {
    use InstanceStatus as S;
    transition(tx, a, id, S::Stopped, S::Starting, false, |s| {
        s.attributes.stopped_mode.clear();
    })?;
    placement::place(
        tx,
        a.account_id,
        std::slice::from_ref(id),
        a.timings,
        a.placement,
        a.now,
    )?;
    Ok(())
}

/// `StopInstance`: `Running` → `Stopping` → `Stopped`, recording `StoppedMode`.
pub fn stop(
    tx: &mut dyn Tx,
    a: &Actor<'_>,
    id: &InstanceId,
    stopped_mode: &str,
) -> Result<(), DomainError> {
    use InstanceStatus as S;
    transition(tx, a, id, S::Running, S::Stopping, false, |s| {
        s.attributes.stopped_mode = stopped_mode.to_string();
    })
}

/// `RebootInstance`: `Running` → `Stopping` → `Starting` → `Running`, on the host it has.
pub fn reboot(tx: &mut dyn Tx, a: &Actor<'_>, id: &InstanceId) -> Result<(), DomainError> {
    use InstanceStatus as S;
    transition(tx, a, id, S::Running, S::Stopping, true, |_| {})
}

/// Whether the settled instance may be deleted.
fn deletable(settled: &Settled, force: bool) -> Result<(), DomainError> {
    match settled.instance.status {
        InstanceStatus::Pending => return Err(DomainError::InstanceInitializing),
        InstanceStatus::Stopped => {}
        _ if force => {}
        _ => return Err(DomainError::IncorrectInstanceStatus),
    }
    if settled.attributes.deletion_protection {
        return Err(DomainError::InstanceDeletionProtected);
    }
    Ok(())
}

/// `DeleteInstance`: the instance, its interface, address, memberships and tags go.
pub fn delete(
    tx: &mut dyn Tx,
    a: &Actor<'_>,
    id: &InstanceId,
    force: bool,
) -> Result<(), DomainError> {
    let settled = get(tx, a.account_id, id, a.timings, a.now)?;
    deletable(&settled, force)?;
    release(tx, a.account_id, &settled.instance)
}

/// Releases an instance: its disks, its secondary interfaces (detached, they stay), then
/// the instance with its primary interface.
fn release(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    instance: &Instance,
) -> Result<(), DomainError> {
    let id = InstanceId::from(&instance.id);
    tx.release_instance_disks(account_id, &id)?;
    crate::ops::network_interfaces::detach_all(tx, account_id, instance)?;
    tx.delete_instance(account_id, &id)?;
    tx.delete_placement(&id)?;
    Ok(())
}

/// `DeleteInstances`: all of them, or (on any refusal) none.
pub fn delete_many(
    tx: &mut dyn Tx,
    a: &Actor<'_>,
    region_id: &str,
    ids: &[InstanceId],
    force: bool,
) -> Result<(), DomainError> {
    if ids.len() > MAX_DELETE_IDS {
        return Err(DomainError::TooManyInstanceIds(MAX_DELETE_IDS));
    }
    let mut distinct: Vec<Instance> = Vec::with_capacity(ids.len());
    for id in ids {
        let settled = get(tx, a.account_id, id, a.timings, a.now)?;
        if settled.instance.region_id != region_id {
            return Err(DomainError::InstancesCrossRegion);
        }
        deletable(&settled, force)?;
        if !distinct.iter().any(|i| i.id == settled.instance.id) {
            distinct.push(settled.instance);
        }
    }
    for instance in &distinct {
        release(tx, a.account_id, instance)?;
    }
    Ok(())
}

/// What `ModifyInstanceAttribute` changes; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModifyInstance {
    pub name: Option<String>,
    /// `Some("")` clears it.
    pub description: Option<String>,
    pub host_name: Option<String>,
    pub deletion_protection: Option<bool>,
    pub credit_specification: Option<String>,
    /// Replaces the whole set.
    pub security_group_ids: Option<Vec<SecurityGroupId>>,
}

/// `ModifyInstanceAttribute`: validates every given field, then applies them together.
pub fn modify_attribute(
    tx: &mut dyn Tx,
    a: &Actor<'_>,
    id: &InstanceId,
    m: &ModifyInstance,
    limits: &Limits,
) -> Result<(), DomainError> {
    if let Some(name) = &m.name {
        naming::instance_name(name)?;
    }
    if let Some(description) = m.description.as_ref().filter(|d| !d.is_empty()) {
        naming::description(description)?;
    }
    if let Some(host_name) = &m.host_name {
        naming::host_name(host_name)?;
    }
    let mut settled = get(tx, a.account_id, id, a.timings, a.now)?;
    if let Some(ids) = &m.security_group_ids {
        membership::replace(tx, a.account_id, &mut settled, ids, limits)?;
    }
    let (instance, attributes) = (&mut settled.instance, &mut settled.attributes);
    if let Some(name) = &m.name {
        instance.name.clone_from(name);
    }
    if let Some(description) = &m.description {
        instance.description.clone_from(description);
    }
    if let Some(host_name) = &m.host_name {
        instance.host_name.clone_from(host_name);
    }
    if let Some(protect) = m.deletion_protection {
        attributes.deletion_protection = protect;
    }
    if let Some(credit) = &m.credit_specification {
        attributes.credit_specification.clone_from(credit);
    }
    tx.update_instance(&settled.into_instance()?)?;
    Ok(())
}
