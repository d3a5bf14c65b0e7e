//! The security-group lifecycle: create, read, list, modify, delete.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::Limits;
use crate::error::DomainError;
use crate::ids;
use crate::ids::{AccountId, SecurityGroupId, VpcId};
use crate::model::{InnerAccessPolicy, ResourceType, SecurityGroup, SecurityGroupType, Tag};
use crate::network::InstanceScope;
use crate::store::Tx;
use crate::validate;

/// What `CreateSecurityGroup` asks for, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSecurityGroup {
    pub region_id: String,
    pub name: String,
    pub description: String,
    pub group_type: SecurityGroupType,
    /// Empty when the request names none (refused: only VPC groups exist).
    pub vpc_id: VpcId,
    pub resource_group_id: String,
    pub tags: Vec<Tag>,
}

/// A created group's id, as remembered for `ClientToken` replays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub security_group_id: String,
}

pub fn create(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    new: &NewSecurityGroup,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<Created, DomainError> {
    if !new.name.is_empty() {
        validate::security_group_name(&new.name)?;
    }
    if !new.description.is_empty() {
        validate::security_group_description(&new.description)?;
    }
    validate::tags(&new.tags)?;
    if new.group_type == SecurityGroupType::Enterprise && new.vpc_id.is_empty() {
        return Err(DomainError::EnterpriseNeedsVpc);
    }
    // Only VPC groups exist (the classic network is retired): the VPC must be the account's own.
    if new.vpc_id.is_empty() {
        return Err(DomainError::VpcIdRequired);
    }
    super::vpcs::get(tx, account_id, Some(&new.region_id), &new.vpc_id)?;
    if tx.count_security_groups(account_id, &new.region_id)? >= limits.security_groups_per_region {
        return Err(DomainError::SecurityGroupQuotaExceeded);
    }
    let group = SecurityGroup {
        id: ids::new_security_group_id(),
        account_id: account_id.to_string(),
        region_id: new.region_id.clone(),
        name: new.name.clone(),
        description: new.description.clone(),
        group_type: new.group_type,
        inner_access_policy: new.group_type.default_inner_access_policy(),
        vpc_id: new.vpc_id.to_string(),
        resource_group_id: new.resource_group_id.clone(),
        creation_time: now.trunc_subsecs(0),
    };
    tx.insert_security_group(&group)?;
    if !new.tags.is_empty() {
        tx.set_tags(
            account_id,
            ResourceType::SecurityGroup,
            &group.id,
            &new.tags,
        )?;
    }
    Ok(Created {
        security_group_id: group.id,
    })
}

/// The group `id` of this account in this region. A group of another account or region
/// answers exactly like one that does not exist.
pub fn get(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    id: &SecurityGroupId,
) -> Result<SecurityGroup, DomainError> {
    validate::security_group_id(id)?;
    tx.security_group(account_id, id)?
        .filter(|g| g.region_id == region_id)
        .ok_or_else(|| DomainError::SecurityGroupNotFound(id.to_string()))
}

/// A group with its tags, as `DescribeSecurityGroups` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    pub group: SecurityGroup,
    pub tags: Vec<Tag>,
    /// Rules of the group, ingress and egress.
    pub rule_count: u64,
    /// Of those, the rules whose peer is a security group.
    pub group_rule_count: u64,
    /// Filled by [`count_members`] (`IsQueryEcsCount=true`).
    pub ecs_count: Option<EcsCount>,
}

/// How many instances a group holds, and how many more it can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcsCount {
    pub members: u64,
    pub available: u64,
}

/// Fills [`GroupView::ecs_count`] of every view.
pub fn count_members(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    views: &mut [GroupView],
    limits: &Limits,
) -> Result<(), DomainError> {
    let counts = tx.member_counts(account_id, region_id)?;
    // Secondary interfaces are members too: they take room, though `EcsCount` counts
    // instances (docs/ecs.md §10.1).
    let mut interfaces: HashMap<String, u64> = HashMap::new();
    for eni in tx.network_interfaces(account_id, region_id)? {
        for group in eni.security_group_ids {
            *interfaces.entry(group).or_default() += 1;
        }
    }
    for view in views {
        let members = counts.get(view.group.id.as_str()).copied().unwrap_or(0);
        let others = interfaces.get(&view.group.id).copied().unwrap_or(0);
        let capacity = super::instances::membership::group_capacity(&view.group, limits);
        view.ecs_count = Some(EcsCount {
            members,
            available: capacity.saturating_sub(members + others),
        });
    }
    Ok(())
}

/// The filters of `DescribeSecurityGroups`; every given filter must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupFilter {
    /// `SecurityGroupId` and `SecurityGroupIds` together: a group must be in every given set.
    pub id_sets: Vec<Vec<String>>,
    pub vpc_id: Option<String>,
    pub name: Option<String>,
    /// With the deprecated `FuzzyQuery`, the name matches as a substring.
    pub fuzzy_name: bool,
    pub group_type: Option<SecurityGroupType>,
    /// `Some(true)` only VPC groups, `Some(false)` only classic ones.
    pub in_vpc: Option<bool>,
    pub resource_group_id: Option<String>,
    /// Key, and the value it must have (`None`: any value).
    pub tags: Vec<(String, Option<String>)>,
}

impl GroupFilter {
    fn matches(&self, view: &GroupView) -> bool {
        let g = &view.group;
        self.id_sets.iter().all(|set| set.contains(&g.id))
            && self.vpc_id.as_ref().is_none_or(|v| *v == g.vpc_id)
            && self.name.as_ref().is_none_or(|n| {
                if self.fuzzy_name {
                    g.name.contains(n.as_str())
                } else {
                    *n == g.name
                }
            })
            && self.group_type.is_none_or(|t| t == g.group_type)
            && self
                .in_vpc
                .is_none_or(|in_vpc| in_vpc != g.vpc_id.is_empty())
            && self
                .resource_group_id
                .as_ref()
                .is_none_or(|r| *r == g.resource_group_id)
            && self.tags.iter().all(|(key, value)| {
                view.tags
                    .iter()
                    .any(|t| t.key == *key && value.as_ref().is_none_or(|v| *v == t.value))
            })
    }
}

/// Every matching group of the account in the region, oldest first.
pub fn list(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    filter: &GroupFilter,
) -> Result<Vec<GroupView>, DomainError> {
    let mut tags = tx.all_tags(account_id, ResourceType::SecurityGroup)?;
    let counts = tx.rule_counts(account_id, region_id)?;
    Ok(tx
        .security_groups(account_id, region_id)?
        .into_iter()
        .map(|group| {
            let tags = tags.remove(&group.id).unwrap_or_default();
            let (rule_count, group_rule_count) =
                counts.get(group.id.as_str()).copied().unwrap_or_default();
            GroupView {
                group,
                tags,
                rule_count,
                group_rule_count,
                ecs_count: None,
            }
        })
        .filter(|view| filter.matches(view))
        .collect())
}

/// `ModifySecurityGroupAttribute`: absent fields stay; an empty description clears it.
pub fn modify_attribute(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    id: &SecurityGroupId,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<(), DomainError> {
    if let Some(name) = name {
        validate::security_group_name(name)?;
    }
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        validate::security_group_description(description)?;
    }
    let mut group = get(tx, account_id, region_id, id)?;
    if let Some(name) = name {
        group.name = name.to_string();
    }
    if let Some(description) = description {
        group.description = description.to_string();
    }
    tx.update_security_group(&group)?;
    Ok(())
}

/// `ModifySecurityGroupPolicy`: basic groups switch; advanced groups refuse whatever the value.
pub fn modify_inner_access_policy(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    id: &SecurityGroupId,
    policy: InnerAccessPolicy,
) -> Result<(), DomainError> {
    let mut group = get(tx, account_id, region_id, id)?;
    if group.group_type == SecurityGroupType::Enterprise {
        return Err(DomainError::EnterprisePolicyImmutable);
    }
    group.inner_access_policy = policy;
    tx.update_security_group(&group)?;
    Ok(())
}

pub fn delete(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    id: &SecurityGroupId,
) -> Result<(), DomainError> {
    get(tx, account_id, region_id, id)?;
    if super::network_interfaces::members(tx, account_id, InstanceScope::SecurityGroup(id))? > 0 {
        return Err(DomainError::SecurityGroupHasInstances);
    }
    // A group that another group's rule names cannot go; naming itself does not count.
    if tx
        .groups_referencing_group(id)?
        .iter()
        .any(|(group, _)| group != id)
    {
        return Err(DomainError::GroupReferenced);
    }
    tx.delete_security_group(account_id, id)?;
    Ok(())
}
