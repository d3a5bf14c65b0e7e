//! `RunInstances` and `CreateInstance` (docs/ecs.md §7.3, §7.4): validate, place the
//! instances in the vSwitch, give each a primary interface and an address, make them
//! members of their groups — all in one transaction.
//!
//! Checks run in the order chosen by docs/ecs.md §7.3: parameter syntax → vSwitch →
//! groups → same VPC → zone → addresses → quotas. A `DryRun` is the product's: it runs the
//! launch and rolls the transaction back.

use std::net::Ipv4Addr;

use chrono::{DateTime, SubsecRound, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::membership::{has_room, mixed, no_repeats};
use super::{addresses, naming, InstanceAttributes};
use crate::error::DomainError;
use crate::ids;
use crate::ids::{AccountId, SecurityGroupId, VSwitchId};
use crate::model::{ResourceType, Tag};
use crate::network::{Instance, InstanceStatus, VSwitch};
use crate::ops::compute::{self, DiskSpec};
use crate::ops::{security_groups, vpcs, Limits};
use crate::store::{StoreError, Tx};
use crate::validate;

/// `Amount` and `MinAmount` are within `1..=MAX_AMOUNT`.
pub const MAX_AMOUNT: u32 = 100;

/// What a launch asks for, already decoded.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewInstances {
    pub region_id: String,
    /// Must be the vSwitch's zone when given.
    pub zone_id: Option<String>,
    pub vswitch_id: VSwitchId,
    /// The primary interface's groups, in order (1..=N).
    pub security_group_ids: Vec<SecurityGroupId>,
    /// The first address; with `amount > 1` the following ones go to the next instances.
    pub private_ip: Option<String>,
    pub amount: u32,
    /// With it, a launch short of addresses or group room makes as many as it can, if at
    /// least this many; without it, nothing.
    pub min_amount: Option<u32>,
    /// A plain name, or a `prefix[begin,bits]suffix` batch pattern; `None`: the instance id.
    pub name: Option<String>,
    pub host_name: Option<String>,
    /// `HostNames.N`: one per instance, before `host_name`.
    pub host_names: Vec<String>,
    /// Appends `001`, `002`, … to a plain `name` and `host_name`.
    pub unique_suffix: bool,
    pub description: String,
    pub instance_type: String,
    pub image_id: String,
    pub tags: Vec<Tag>,
    /// `true` (RunInstances): `Pending` → `Starting` → `Running`; `false` (CreateInstance):
    /// `Pending` → `Stopped`.
    pub auto_start: bool,
    /// The echoed parameters (charge types, bandwidth, ...).
    pub attributes: InstanceAttributes,
    /// The system disk (`SystemDisk.*`) and the data disks (`DataDisk.N.*`), in order.
    pub system_disk: DiskSpec,
    pub data_disks: Vec<DiskSpec>,
    /// `UserData`, base64 as given.
    pub user_data: Option<String>,
}

/// The ids made by a launch, as remembered for `ClientToken` replays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Launched {
    pub instance_ids: Vec<String>,
}

/// The names of the instances, validated (`None` entries take the instance id).
fn names(new: &NewInstances, count: usize) -> Result<Vec<Option<String>>, DomainError> {
    let Some(template) = &new.name else {
        return Ok(vec![None; count]);
    };
    let names = naming::expand(template, count, new.unique_suffix);
    for name in &names {
        naming::instance_name(name)?;
    }
    Ok(names.into_iter().map(Some).collect())
}

fn host_names(new: &NewInstances, count: usize) -> Result<Vec<Option<String>>, DomainError> {
    let mut out: Vec<Option<String>> = new.host_names.iter().cloned().map(Some).collect();
    if out.len() < count {
        let rest = count - out.len();
        match &new.host_name {
            Some(template) => out.extend(
                naming::expand(template, rest, new.unique_suffix)
                    .into_iter()
                    .map(Some),
            ),
            None => out.resize(count, None),
        }
    }
    out.truncate(count);
    for name in out.iter().flatten() {
        naming::host_name(name)?;
    }
    Ok(out)
}

/// Syntax that needs no stored state.
fn check_syntax(new: &NewInstances, limits: &Limits) -> Result<(), DomainError> {
    if !(1..=MAX_AMOUNT).contains(&new.amount) {
        return Err(DomainError::InstanceAmountInvalid);
    }
    if new.min_amount.is_some_and(|m| m == 0 || m > new.amount) {
        return Err(DomainError::MinAmountInvalid);
    }
    names(new, new.amount as usize)?;
    host_names(new, new.amount as usize)?;
    if !new.description.is_empty() {
        naming::description(&new.description)?;
    }
    validate::tags(&new.tags)?;
    no_repeats(&new.security_group_ids)?;
    if new.security_group_ids.len() > limits.security_groups_per_instance {
        return Err(DomainError::InstanceSecurityGroupLimitExceeded(
            limits.security_groups_per_instance,
        ));
    }
    if let Some(ip) = &new.private_ip {
        addresses::parse(ip)?;
    }
    Ok(())
}

/// The vSwitch of the launch, in the request's region.
fn vswitch(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    new: &NewInstances,
) -> Result<VSwitch, DomainError> {
    tx.vswitch(account_id, &new.vswitch_id)?
        .filter(|v| v.region_id == new.region_id)
        .ok_or_else(|| DomainError::VSwitchNotFound(new.vswitch_id.to_string()))
}

/// How many of `wanted` can be made when only `room` fit: all, or (with `MinAmount`) as
/// many as fit if that is at least the minimum.
fn fit(
    wanted: usize,
    room: usize,
    min: Option<u32>,
    short: DomainError,
) -> Result<usize, DomainError> {
    if room >= wanted {
        Ok(wanted)
    } else if min.is_some_and(|m| room >= m as usize) {
        Ok(room)
    } else {
        Err(short)
    }
}

/// A public address for an instance with outbound bandwidth (cosmetic: not unique-checked).
fn public_ip() -> String {
    let mut rng = rand::thread_rng();
    Ipv4Addr::new(47, rng.gen_range(96..128), rng.gen(), rng.gen_range(1..255)).to_string()
}

/// A random lowercase UUID (version 4 layout).
fn serial_number() -> String {
    let b: [u8; 16] = rand::thread_rng().gen();
    let hex =
        |r: std::ops::Range<usize>| -> String { b[r].iter().map(|x| format!("{x:02x}")).collect() };
    format!(
        "{}-{}-4{}-{:x}{}-{}",
        hex(0..4),
        hex(4..6),
        &hex(6..8)[1..],
        8 | (b[8] & 3),
        &hex(8..10)[1..],
        hex(10..16)
    )
}

/// Validates and creates the instances.
pub fn launch(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    new: &NewInstances,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<Launched, DomainError> {
    check_syntax(new, limits)?;
    let vsw = vswitch(tx, account_id, new)?;
    let mut groups = Vec::with_capacity(new.security_group_ids.len());
    for id in &new.security_group_ids {
        groups.push(security_groups::get(tx, account_id, &new.region_id, id)?);
    }
    if groups.iter().any(|g| g.vpc_id != vsw.vpc_id) {
        return Err(DomainError::SecurityGroupVpcMismatch);
    }
    if let Some(zone) = &new.zone_id {
        vpcs::zone(&new.region_id, zone)?;
        if *zone != vsw.zone_id {
            return Err(DomainError::VSwitchZoneMismatch);
        }
    }
    if mixed(&groups) {
        return Err(DomainError::SecurityGroupTypesMixed);
    }
    compute::check_key_pair(
        tx,
        account_id,
        &new.region_id,
        &new.attributes.key_pair_name,
    )?;

    let block = addresses::block(&vsw.cidr_block)?;
    let used = addresses::used_set(&tx.used_private_ips(&VSwitchId::from(&vsw.id))?);
    let wanted = new.amount as usize;
    let ips = match &new.private_ip {
        Some(ip) => addresses::consecutive(&block, &used, addresses::parse(ip)?, wanted)?,
        None => {
            let free = addresses::lowest_free(&block, &used, wanted);
            let n = fit(
                wanted,
                free.len(),
                new.min_amount,
                DomainError::PrivateIpExhausted,
            )?;
            free[..n].to_vec()
        }
    };
    let mut count = ips.len();
    for group in &groups {
        let room = has_room(tx, account_id, group, count as u64, limits)? as usize;
        let short = DomainError::SecurityGroupInstanceLimitExceeded(group.id.clone());
        count = fit(count, room, new.min_amount, short)?;
    }

    let names = names(new, count)?;
    let host_names = host_names(new, count)?;
    let now = now.trunc_subsecs(0);
    let mut attributes = new.attributes.clone();
    attributes.auto_start = new.auto_start;
    let mut launched = Vec::with_capacity(count);
    for ((ip, name), host_name) in ips.into_iter().zip(names).zip(host_names).take(count) {
        let id = ids::new_instance_id();
        attributes.serial_number = serial_number();
        if attributes.internet_max_bandwidth_out > 0 && new.auto_start {
            attributes.public_ip = public_ip();
        }
        let instance = Instance {
            account_id: account_id.to_string(),
            region_id: new.region_id.clone(),
            zone_id: vsw.zone_id.clone(),
            vpc_id: vsw.vpc_id.clone(),
            vswitch_id: vsw.id.clone(),
            name: name.unwrap_or_else(|| id.clone()),
            description: new.description.clone(),
            host_name: host_name.unwrap_or_else(|| naming::default_host_name(&id)),
            instance_type: new.instance_type.clone(),
            image_id: new.image_id.clone(),
            status: InstanceStatus::Pending,
            status_since: now,
            creation_time: now,
            network_interface_id: ids::new_network_interface_id(),
            mac_address: ids::new_mac_address(),
            private_ip: ip.to_string(),
            security_group_ids: new
                .security_group_ids
                .iter()
                .map(ToString::to_string)
                .collect(),
            attributes: attributes.to_json()?,
            id,
        };
        tx.insert_instance(&instance).map_err(|e| match e {
            // The writer serialises launches, so this is a race with another process.
            StoreError::Duplicate(_) => DomainError::PrivateIpInUse(instance.private_ip.clone()),
            other => other.into(),
        })?;
        if !new.tags.is_empty() {
            tx.set_tags(account_id, ResourceType::Instance, &instance.id, &new.tags)?;
        }
        compute::record_launch(
            tx,
            &instance,
            &new.system_disk,
            &new.data_disks,
            new.user_data.as_deref(),
        )?;
        launched.push(instance.id);
    }
    Ok(Launched {
        instance_ids: launched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_takes_all_or_at_least_the_minimum() {
        let short = || DomainError::PrivateIpExhausted;
        assert_eq!(fit(5, 9, None, short()), Ok(5));
        assert_eq!(fit(5, 3, None, short()), Err(short()));
        assert_eq!(fit(5, 3, Some(3), short()), Ok(3));
        assert_eq!(fit(5, 2, Some(3), short()), Err(short()));
    }

    #[test]
    fn syntax_is_checked_before_any_state() {
        let limits = Limits::default();
        let ok = NewInstances {
            amount: 2,
            security_group_ids: vec!["sg-a".into()],
            ..Default::default()
        };
        assert_eq!(check_syntax(&ok, &limits), Ok(()));
        let bad = |f: &dyn Fn(&mut NewInstances)| {
            let mut n = ok.clone();
            f(&mut n);
            check_syntax(&n, &limits)
        };
        assert_eq!(
            bad(&|n| n.amount = 0),
            Err(DomainError::InstanceAmountInvalid)
        );
        assert_eq!(
            bad(&|n| n.amount = 101),
            Err(DomainError::InstanceAmountInvalid)
        );
        assert_eq!(
            bad(&|n| n.min_amount = Some(3)),
            Err(DomainError::MinAmountInvalid)
        );
        assert_eq!(
            bad(&|n| n.name = Some("1x".into())),
            Err(DomainError::InstanceNameMalformed)
        );
        assert_eq!(
            bad(&|n| n.host_name = Some("-x".into())),
            Err(DomainError::HostNameMalformed)
        );
        assert_eq!(
            bad(&|n| n.security_group_ids = vec!["sg-a".into(), "sg-a".into()]),
            Err(DomainError::SecurityGroupIdRepeated)
        );
        assert_eq!(
            bad(&|n| n.security_group_ids = (0..6)
                .map(|i| SecurityGroupId::from(format!("sg-{i}")))
                .collect()),
            Err(DomainError::InstanceSecurityGroupLimitExceeded(5))
        );
        assert_eq!(
            bad(&|n| n.private_ip = Some("10.0.0.300".into())),
            Err(DomainError::PrivateIpMalformed)
        );
    }
}
