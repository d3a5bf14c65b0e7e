//! Elastic network interfaces (docs/ecs.md §10). Security groups belong to interfaces: an
//! instance's primary interface is created and released with it (its fields live on the
//! [`Instance`]); a secondary interface is created on its own in a vSwitch, attached to
//! one instance of its VPC and zone at a time, and keeps its own groups and addresses.
//!
//! Limits come from the instance type (the catalogue's `eni_quantity`, the primary
//! interface included, and `eni_private_ips` per interface, the primary address
//! included); an interface that is not attached takes at most
//! [`UNATTACHED_PRIVATE_IPS`] addresses, and a type the catalogue lacks takes
//! [`UNKNOWN_TYPE_QUOTA`].

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};

use super::instances::addresses;
use super::instances::membership::{has_room, mixed, no_repeats};
use super::instances::naming;
use super::instances::{get as get_instance, settle, InstanceAttributes, InstanceTimings, Settled};
use super::vpcs::vswitches;
use super::{security_groups, Limits};
use crate::catalogue::Catalogue;
use crate::error::DomainError;
use crate::ids::{self, AccountId, InstanceId, SecurityGroupId, VSwitchId};
use crate::model::{ResourceType, SecurityGroup, Tag};
use crate::network::{Instance, InstanceScope, InstanceStatus, InterfaceKind, NetworkInterface};
use crate::store::{StoreError, Tx};
use crate::validate;

/// Private addresses an interface that is not attached may hold.
pub const UNATTACHED_PRIVATE_IPS: u32 = 10;

/// `(interfaces, addresses per interface)` of an instance type the catalogue lacks.
pub const UNKNOWN_TYPE_QUOTA: (u32, u32) = (8, 20);

/// How many interfaces an instance of `instance_type` takes, and how many addresses each.
pub fn quota(catalogue: &Catalogue, instance_type: &str) -> (u32, u32) {
    catalogue
        .instance_type(instance_type)
        .map(|t| (t.eni_quantity, t.eni_private_ips))
        .unwrap_or(UNKNOWN_TYPE_QUOTA)
}

/// An instance's primary interface, as every interface is shown.
pub fn primary(
    instance: &Instance,
    secondary_ips: Vec<String>,
    attributes: &InstanceAttributes,
) -> NetworkInterface {
    NetworkInterface {
        id: instance.network_interface_id.clone(),
        account_id: instance.account_id.clone(),
        region_id: instance.region_id.clone(),
        zone_id: instance.zone_id.clone(),
        vpc_id: instance.vpc_id.clone(),
        vswitch_id: instance.vswitch_id.clone(),
        kind: InterfaceKind::Primary,
        name: attributes.primary_interface_name.clone(),
        description: attributes.primary_interface_description.clone(),
        resource_group_id: attributes.resource_group_id.clone(),
        instance_id: instance.id.clone(),
        device_index: 0,
        mac_address: instance.mac_address.clone(),
        primary_ip: instance.private_ip.clone(),
        secondary_ips,
        security_group_ids: instance.security_group_ids.clone(),
        creation_time: instance.creation_time,
    }
}

/// Every interface of the account in the region: each instance's primary one (in instance
/// order), then the secondary ones (oldest first).
pub fn all(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
) -> Result<Vec<NetworkInterface>, DomainError> {
    let instances = tx.instances(account_id, region_id, &Default::default())?;
    let secondary = tx.network_interfaces(account_id, region_id)?;
    Ok(compose(
        &instances,
        secondary,
        tx.secondary_private_ips(account_id, region_id)?,
    ))
}

/// The primary interfaces of `instances` (with their secondary addresses from
/// `secondary_ips`), then `secondary`.
pub fn compose(
    instances: &[Instance],
    secondary: Vec<NetworkInterface>,
    mut secondary_ips: HashMap<String, Vec<String>>,
) -> Vec<NetworkInterface> {
    let mut out = Vec::with_capacity(instances.len() + secondary.len());
    for instance in instances {
        let ips = secondary_ips
            .remove(&instance.network_interface_id)
            .unwrap_or_default();
        // Unreadable attributes are reported by every read of the instance itself.
        let attributes = InstanceAttributes::parse(&instance.attributes).unwrap_or_default();
        out.push(primary(instance, ips, &attributes));
    }
    out.extend(secondary);
    out
}

/// Where an interface is: stored on its own, or the primary one of an instance (settled
/// at the time of the request). What Join/Leave by `NetworkInterfaceId` change too.
// One short-lived value per request: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Found {
    Secondary(NetworkInterface),
    Primary(Settled),
}

/// The interface `id` of the account in the region: a secondary one, else the primary one
/// of an instance.
pub(crate) fn find(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    id: &str,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<Found, DomainError> {
    if let Some(eni) = tx
        .network_interface(account_id, id)?
        .filter(|e| e.region_id == region_id)
    {
        return Ok(Found::Secondary(eni));
    }
    let owner = tx
        .instances(account_id, region_id, &Default::default())?
        .into_iter()
        .find(|i| i.network_interface_id == id);
    match owner {
        Some(instance) => Ok(Found::Primary(settle(instance, timings, now)?)),
        None => Err(DomainError::NetworkInterfaceNotFound(id.to_string())),
    }
}

/// One interface of either kind, as it is shown.
pub fn get(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    id: &str,
) -> Result<NetworkInterface, DomainError> {
    match find(
        tx,
        account_id,
        region_id,
        id,
        &InstanceTimings::default(),
        Utc::now(),
    )? {
        Found::Secondary(eni) => Ok(eni),
        Found::Primary(settled) => {
            let ips = secondary_ips_of(tx, account_id, region_id, id)?;
            Ok(primary(&settled.instance, ips, &settled.attributes))
        }
    }
}

fn secondary_ips_of(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    id: &str,
) -> Result<Vec<String>, DomainError> {
    Ok(tx
        .secondary_private_ips(account_id, region_id)?
        .remove(id)
        .unwrap_or_default())
}

/// The groups of an interface or an instance: in its VPC, all of one type, 1..=N of them,
/// none repeated, each with room for one more member unless it is in `current` already.
fn check_groups(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    vpc_id: &str,
    ids: &[SecurityGroupId],
    current: &[String],
    limits: &Limits,
) -> Result<Vec<SecurityGroup>, DomainError> {
    no_repeats(ids)?;
    if ids.len() > limits.security_groups_per_instance {
        return Err(DomainError::InstanceSecurityGroupLimitExceeded(
            limits.security_groups_per_instance,
        ));
    }
    let mut groups = Vec::with_capacity(ids.len());
    for id in ids {
        groups.push(security_groups::get(tx, account_id, region_id, id)?);
    }
    if groups
        .iter()
        .any(|g| g.vpc_id.is_empty() || g.vpc_id != vpc_id)
    {
        return Err(DomainError::SecurityGroupVpcMismatch);
    }
    if mixed(&groups) {
        return Err(DomainError::SecurityGroupTypesMixed);
    }
    for group in &groups {
        if !current.contains(&group.id) && has_room(tx, account_id, group, 1, limits)? == 0 {
            return Err(DomainError::SecurityGroupInstanceLimitExceeded(
                group.id.clone(),
            ));
        }
    }
    Ok(groups)
}

fn name_ok(name: &str) -> Result<(), DomainError> {
    validate::security_group_name(name).map_err(|_| DomainError::NetworkInterfaceNameMalformed)
}

/// What `CreateNetworkInterface` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewInterface {
    pub region_id: String,
    pub vswitch_id: VSwitchId,
    pub security_group_ids: Vec<SecurityGroupId>,
    pub primary_ip: Option<String>,
    /// `PrivateIpAddress.N`: secondary addresses wanted.
    pub secondary_ips: Vec<String>,
    /// `SecondaryPrivateIpAddressCount`.
    pub secondary_count: u32,
    pub name: String,
    pub description: String,
    pub resource_group_id: String,
    pub tags: Vec<Tag>,
}

/// `CreateNetworkInterface`: an `Available` secondary interface in the vSwitch.
pub fn create(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    new: &NewInterface,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<NetworkInterface, DomainError> {
    if !new.name.is_empty() {
        name_ok(&new.name)?;
    }
    if !new.description.is_empty() {
        naming::description(&new.description)?;
    }
    validate::tags(&new.tags)?;
    let vsw = vswitches::get(tx, account_id, Some(&new.region_id), &new.vswitch_id)?;
    check_groups(
        tx,
        account_id,
        &new.region_id,
        &vsw.vpc_id,
        &new.security_group_ids,
        &[],
        limits,
    )?;
    if !new.secondary_ips.is_empty() && new.secondary_count > 0 {
        return Err(DomainError::PrivateIpAssignmentAmbiguous);
    }
    let wanted = new.secondary_ips.len() as u64 + u64::from(new.secondary_count);
    if 1 + wanted > u64::from(UNATTACHED_PRIVATE_IPS) {
        return Err(DomainError::PrivateIpLimitExceeded(UNATTACHED_PRIVATE_IPS));
    }
    let block = addresses::block(&vsw.cidr_block)?;
    let mut used = addresses::used_set(&tx.used_private_ips(&new.vswitch_id)?);
    let primary_ip = match &new.primary_ip {
        Some(ip) => addresses::consecutive(&block, &used, addresses::parse(ip)?, 1)?,
        None => addresses::lowest_free(&block, &used, 1),
    }
    .pop()
    .ok_or(DomainError::PrivateIpExhausted)?;
    used.insert(u32::from(primary_ip));
    let secondary_ips = pick(&block, &mut used, &new.secondary_ips, new.secondary_count)?;
    let eni = NetworkInterface {
        id: ids::new_network_interface_id(),
        account_id: account_id.to_string(),
        region_id: new.region_id.clone(),
        zone_id: vsw.zone_id.clone(),
        vpc_id: vsw.vpc_id.clone(),
        vswitch_id: vsw.id.clone(),
        kind: InterfaceKind::Secondary,
        name: new.name.clone(),
        description: new.description.clone(),
        resource_group_id: new.resource_group_id.clone(),
        instance_id: String::new(),
        device_index: 0,
        mac_address: ids::new_mac_address(),
        primary_ip: primary_ip.to_string(),
        secondary_ips,
        security_group_ids: new
            .security_group_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
        creation_time: now.trunc_subsecs(0),
    };
    tx.insert_network_interface(&eni).map_err(address_race)?;
    if !new.tags.is_empty() {
        tx.set_tags(account_id, ResourceType::Eni, &eni.id, &new.tags)?;
    }
    Ok(eni)
}

/// The writer serialises writes, so a duplicate address is a race with another process.
fn address_race(e: StoreError) -> DomainError {
    match e {
        StoreError::Duplicate(what) => DomainError::PrivateIpInUse(what),
        other => other.into(),
    }
}

/// The given addresses (each usable and free), or the lowest `count` free ones.
fn pick(
    block: &ipnet::Ipv4Net,
    used: &mut std::collections::HashSet<u32>,
    given: &[String],
    count: u32,
) -> Result<Vec<String>, DomainError> {
    let mut out = Vec::new();
    for ip in given {
        let ip = addresses::consecutive(block, used, addresses::parse(ip)?, 1)?
            .pop()
            .ok_or(DomainError::PrivateIpNotInVSwitch)?;
        used.insert(u32::from(ip));
        out.push(ip.to_string());
    }
    if count > 0 {
        let free = addresses::lowest_free(block, used, count as usize);
        if free.len() < count as usize {
            return Err(DomainError::PrivateIpExhausted);
        }
        for ip in free {
            used.insert(u32::from(ip));
            out.push(ip.to_string());
        }
    }
    Ok(out)
}

/// Where an interface operation is asked, and the settings that apply.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub account_id: &'a AccountId,
    pub region_id: &'a str,
    pub limits: &'a Limits,
    pub catalogue: &'a Catalogue,
    pub timings: &'a InstanceTimings,
    pub now: DateTime<Utc>,
}

fn locate(tx: &mut dyn Tx, s: &Scope<'_>, id: &str) -> Result<Found, DomainError> {
    find(tx, s.account_id, s.region_id, id, s.timings, s.now)
}

/// A secondary interface; the primary one of an instance is refused.
fn secondary(tx: &mut dyn Tx, s: &Scope<'_>, id: &str) -> Result<NetworkInterface, DomainError> {
    match locate(tx, s, id)? {
        Found::Secondary(eni) => Ok(eni),
        Found::Primary(_) => Err(DomainError::PrimaryNetworkInterface),
    }
}

/// `DeleteNetworkInterface`: an `Available` secondary interface, its addresses and tags.
pub fn delete(tx: &mut dyn Tx, s: &Scope<'_>, id: &str) -> Result<(), DomainError> {
    let eni = secondary(tx, s, id)?;
    if !eni.instance_id.is_empty() {
        return Err(DomainError::NetworkInterfaceStateInvalid);
    }
    tx.delete_network_interface(s.account_id, &eni.id)?;
    Ok(())
}

/// Attach and detach act on `Running` and `Stopped` instances only.
fn stable(settled: &Settled) -> Result<(), DomainError> {
    match settled.instance.status {
        InstanceStatus::Running | InstanceStatus::Stopped => Ok(()),
        _ => Err(DomainError::IncorrectInstanceStatus),
    }
}

/// The secondary interfaces attached to an instance, by device index.
fn attached_to(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    instance_id: &str,
) -> Result<Vec<NetworkInterface>, DomainError> {
    let mut out: Vec<NetworkInterface> = tx
        .network_interfaces(account_id, region_id)?
        .into_iter()
        .filter(|e| e.instance_id == instance_id)
        .collect();
    out.sort_by_key(|e| e.device_index);
    Ok(out)
}

/// `AttachNetworkInterface`: an `Available` secondary interface joins an instance of its
/// VPC and zone at the lowest free device index, within the instance type's quota.
pub fn attach(
    tx: &mut dyn Tx,
    s: &Scope<'_>,
    id: &str,
    instance_id: &InstanceId,
) -> Result<(), DomainError> {
    let mut eni = secondary(tx, s, id)?;
    super::instances::validate_id(instance_id)?;
    let settled = get_instance(tx, s.account_id, instance_id, s.timings, s.now)?;
    if settled.instance.region_id != s.region_id {
        return Err(DomainError::InstanceNotFound(instance_id.to_string()));
    }
    if !eni.instance_id.is_empty() {
        return Err(DomainError::NetworkInterfaceStateInvalid);
    }
    stable(&settled)?;
    if eni.vpc_id != settled.instance.vpc_id || eni.zone_id != settled.instance.zone_id {
        return Err(DomainError::NetworkInterfaceInstanceMismatch);
    }
    let (interfaces, ips) = quota(s.catalogue, &settled.instance.instance_type);
    let attached = attached_to(tx, s.account_id, s.region_id, &settled.instance.id)?;
    if 1 + attached.len() as u64 >= u64::from(interfaces) {
        return Err(DomainError::NetworkInterfaceLimitExceeded(interfaces));
    }
    if eni.addresses().count() as u64 > u64::from(ips) {
        return Err(DomainError::PrivateIpLimitExceeded(ips));
    }
    let taken: Vec<u32> = attached.iter().map(|e| e.device_index).collect();
    eni.device_index = (1..).find(|n| !taken.contains(n)).unwrap_or(1);
    eni.instance_id = settled.instance.id.clone();
    tx.update_network_interface(&eni)?;
    Ok(())
}

/// `DetachNetworkInterface`: a secondary interface attached to `instance_id` becomes
/// `Available` again.
pub fn detach(
    tx: &mut dyn Tx,
    s: &Scope<'_>,
    id: &str,
    instance_id: &InstanceId,
) -> Result<(), DomainError> {
    super::instances::validate_id(instance_id)?;
    let settled = get_instance(tx, s.account_id, instance_id, s.timings, s.now)?;
    if settled.instance.region_id != s.region_id {
        return Err(DomainError::InstanceNotFound(instance_id.to_string()));
    }
    let mut eni = secondary(tx, s, id)?;
    if eni.instance_id != settled.instance.id {
        return Err(DomainError::NetworkInterfaceStateInvalid);
    }
    stable(&settled)?;
    eni.instance_id.clear();
    eni.device_index = 0;
    tx.update_network_interface(&eni)?;
    Ok(())
}

/// Detaches every secondary interface of an instance that is being released.
pub fn detach_all(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    instance: &Instance,
) -> Result<(), DomainError> {
    for mut eni in attached_to(tx, account_id, &instance.region_id, &instance.id)? {
        eni.instance_id.clear();
        eni.device_index = 0;
        tx.update_network_interface(&eni)?;
    }
    Ok(())
}

/// What `ModifyNetworkInterfaceAttribute` changes; `None` keeps the current value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModifyInterface {
    pub name: Option<String>,
    pub description: Option<String>,
    /// `SecurityGroupId.N`: the interface's groups become exactly these.
    pub security_group_ids: Option<Vec<SecurityGroupId>>,
}

/// `ModifyNetworkInterfaceAttribute`. On a primary interface the groups are the
/// instance's (the same membership `ModifyInstanceAttribute` changes), and its name and
/// description are kept with the instance's attributes.
pub fn modify(
    tx: &mut dyn Tx,
    s: &Scope<'_>,
    id: &str,
    m: &ModifyInterface,
) -> Result<(), DomainError> {
    if let Some(name) = &m.name {
        name_ok(name)?;
    }
    if let Some(text) = m.description.as_deref().filter(|d| !d.is_empty()) {
        naming::description(text)?;
    }
    match locate(tx, s, id)? {
        Found::Secondary(mut eni) => {
            if let Some(ids) = &m.security_group_ids {
                check_groups(
                    tx,
                    s.account_id,
                    s.region_id,
                    &eni.vpc_id,
                    ids,
                    &eni.security_group_ids,
                    s.limits,
                )?;
                eni.security_group_ids = ids.iter().map(ToString::to_string).collect();
            }
            if let Some(name) = &m.name {
                eni.name = name.clone();
            }
            if let Some(description) = &m.description {
                eni.description = description.clone();
            }
            tx.update_network_interface(&eni)?;
        }
        Found::Primary(mut settled) => {
            if let Some(ids) = &m.security_group_ids {
                super::instances::membership::replace(
                    tx,
                    s.account_id,
                    &mut settled,
                    ids,
                    s.limits,
                )?;
            }
            if let Some(name) = &m.name {
                settled.attributes.primary_interface_name = name.clone();
            }
            if let Some(description) = &m.description {
                settled.attributes.primary_interface_description = description.clone();
            }
            tx.update_instance(&settled.into_instance()?)?;
        }
    }
    Ok(())
}

/// The addresses `AssignPrivateIpAddresses` asks for: these, or this many of the lowest
/// free ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    pub ips: Vec<String>,
    pub count: u32,
}

/// Where an interface is and how many addresses it may hold.
struct Placement {
    vswitch_id: String,
    current: Vec<String>,
    max: u32,
}

fn placement(tx: &mut dyn Tx, s: &Scope<'_>, id: &str) -> Result<Placement, DomainError> {
    Ok(match locate(tx, s, id)? {
        Found::Secondary(eni) => {
            let max = if eni.instance_id.is_empty() {
                UNATTACHED_PRIVATE_IPS
            } else {
                let owner = tx
                    .instance(s.account_id, &InstanceId::from(&eni.instance_id))?
                    .map(|i| i.instance_type)
                    .unwrap_or_default();
                quota(s.catalogue, &owner).1
            };
            Placement {
                vswitch_id: eni.vswitch_id.clone(),
                current: eni.addresses().map(str::to_string).collect(),
                max,
            }
        }
        Found::Primary(settled) => {
            let secondary = secondary_ips_of(tx, s.account_id, s.region_id, id)?;
            let i = settled.instance;
            Placement {
                max: quota(s.catalogue, &i.instance_type).1,
                current: std::iter::once(i.private_ip).chain(secondary).collect(),
                vswitch_id: i.vswitch_id,
            }
        }
    })
}

/// `AssignPrivateIpAddresses`: secondary addresses for an interface of either kind, within
/// its quota; returns the addresses assigned.
pub fn assign(
    tx: &mut dyn Tx,
    s: &Scope<'_>,
    id: &str,
    a: &Assignment,
) -> Result<Vec<String>, DomainError> {
    if a.ips.is_empty() == (a.count == 0) {
        return Err(DomainError::PrivateIpAssignmentAmbiguous);
    }
    let p = placement(tx, s, id)?;
    let wanted = a.ips.len() as u64 + u64::from(a.count);
    if p.current.len() as u64 + wanted > u64::from(p.max) {
        return Err(DomainError::PrivateIpLimitExceeded(p.max));
    }
    let vswitch_id = VSwitchId::from(&p.vswitch_id);
    let vsw = vswitches::get(tx, s.account_id, Some(s.region_id), &vswitch_id)?;
    let block = addresses::block(&vsw.cidr_block)?;
    let mut used = addresses::used_set(&tx.used_private_ips(&vswitch_id)?);
    let ips = pick(&block, &mut used, &a.ips, a.count)?;
    tx.add_private_ips(s.account_id, s.region_id, &vswitch_id, id, &ips)
        .map_err(address_race)?;
    Ok(ips)
}

/// `UnassignPrivateIpAddresses`: removes secondary addresses (each must be one of the
/// interface's; the primary address stays).
pub fn unassign(
    tx: &mut dyn Tx,
    s: &Scope<'_>,
    id: &str,
    ips: &[String],
) -> Result<(), DomainError> {
    let p = placement(tx, s, id)?;
    for (n, ip) in ips.iter().enumerate() {
        let secondary = p.current.iter().skip(1).any(|c| c == ip);
        if !secondary || ips[..n].contains(ip) {
            return Err(DomainError::PrivateIpNotAssigned(ip.clone()));
        }
    }
    tx.remove_private_ips(s.account_id, id, ips)?;
    Ok(())
}

/// Members of a scope: instances (their primary interfaces) and secondary interfaces.
pub fn members(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    scope: InstanceScope<'_>,
) -> Result<u64, DomainError> {
    Ok(tx.count_instances(account_id, scope)? + tx.count_network_interfaces(account_id, scope)?)
}

/// What `DescribeNetworkInterfaces` narrows to (all given ones must match).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterfaceFilter {
    pub ids: Vec<String>,
    pub instance_id: Option<String>,
    pub security_group_id: Option<String>,
    pub vpc_id: Option<String>,
    pub vswitch_id: Option<String>,
    pub kind: Option<InterfaceKind>,
    pub status: Option<String>,
    pub primary_ip: Option<String>,
    pub private_ips: Vec<String>,
    pub name: Option<String>,
    pub resource_group_id: Option<String>,
    pub tags: Vec<(String, Option<String>)>,
}

/// An interface with its tags, as `DescribeNetworkInterfaces` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceView {
    pub interface: NetworkInterface,
    pub tags: Vec<Tag>,
}

/// The interfaces of the account in the region that match `f`, primary ones first.
pub fn list(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    f: &InterfaceFilter,
) -> Result<Vec<InterfaceView>, DomainError> {
    let mut out = Vec::new();
    let mut all_tags = tx.all_tags(account_id, ResourceType::Eni)?;
    for eni in all(tx, account_id, region_id)? {
        let tags = all_tags.remove(&eni.id).unwrap_or_default();
        let matches = (f.ids.is_empty() || f.ids.contains(&eni.id))
            && f.instance_id.as_ref().is_none_or(|i| *i == eni.instance_id)
            && f.security_group_id
                .as_ref()
                .is_none_or(|g| eni.security_group_ids.contains(g))
            && f.vpc_id.as_ref().is_none_or(|v| *v == eni.vpc_id)
            && f.vswitch_id.as_ref().is_none_or(|v| *v == eni.vswitch_id)
            && f.kind.is_none_or(|k| k == eni.kind)
            && f.status.as_deref().is_none_or(|st| st == eni.status())
            && f.primary_ip.as_ref().is_none_or(|ip| *ip == eni.primary_ip)
            && (f.private_ips.is_empty()
                || f.private_ips
                    .iter()
                    .any(|ip| eni.addresses().any(|a| a == ip)))
            && f.name.as_ref().is_none_or(|n| *n == eni.name)
            && f.resource_group_id
                .as_ref()
                .is_none_or(|r| *r == eni.resource_group_id)
            && super::vpcs::tags_match(&tags, &f.tags);
        if matches {
            out.push(InterfaceView {
                interface: eni,
                tags,
            });
        }
    }
    Ok(out)
}
