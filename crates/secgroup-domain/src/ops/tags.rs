//! `TagResources`, `UntagResources`, `ListTagResources`.
//!
//! Resource ids stay strings here: one request names resources of the kind its
//! `ResourceType` says, so the id's type is known only once that is read.

use crate::error::DomainError;
use crate::ids::{AccountId, InstanceId, PrefixListId, SecurityGroupId, VSwitchId, VpcId};
use crate::model::{ResourceType, Tag};
use crate::ops::security_groups;
use crate::store::Tx;
use crate::validate::{self, MAX_TAGS_PER_REQUEST, MAX_TAGS_PER_RESOURCE};

pub const MAX_RESOURCES_PER_REQUEST: usize = 50;

/// Fails unless every resource exists for this account in this region.
fn check_resources(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    resource_type: ResourceType,
    resource_ids: &[String],
) -> Result<(), DomainError> {
    if resource_ids.len() > MAX_RESOURCES_PER_REQUEST {
        return Err(DomainError::TooManyResources(MAX_RESOURCES_PER_REQUEST));
    }
    for id in resource_ids {
        let exists = match resource_type {
            // Only "no such group" means absent; a storage failure must surface as one.
            ResourceType::SecurityGroup => {
                match security_groups::get(tx, account_id, region_id, &SecurityGroupId::from(id)) {
                    Ok(_) => true,
                    Err(
                        DomainError::SecurityGroupNotFound(_)
                        | DomainError::SecurityGroupIdMalformed,
                    ) => false,
                    Err(other) => return Err(other),
                }
            }
            ResourceType::PrefixList => tx
                .prefix_list(account_id, &PrefixListId::from(id))?
                .is_some_and(|l| l.region_id == region_id),
            ResourceType::Instance => tx
                .instance(account_id, &InstanceId::from(id))?
                .is_some_and(|i| i.region_id == region_id),
            ResourceType::Eni => {
                match super::network_interfaces::get(tx, account_id, region_id, id) {
                    Ok(_) => true,
                    Err(DomainError::NetworkInterfaceNotFound(_)) => false,
                    Err(other) => return Err(other),
                }
            }
            ResourceType::Vpc => tx
                .vpc(account_id, &VpcId::from(id))?
                .is_some_and(|v| v.region_id == region_id),
            ResourceType::VSwitch => tx
                .vswitch(account_id, &VSwitchId::from(id))?
                .is_some_and(|v| v.region_id == region_id),
            ResourceType::NetworkPath => tx
                .network_path(account_id, id)?
                .is_some_and(|p| p.region_id == region_id),
            ResourceType::NetworkReachableAnalysis => tx
                .analysis(account_id, id)?
                .is_some_and(|a| a.region_id == region_id),
        };
        if !exists {
            return Err(DomainError::ResourceNotFound(id.clone()));
        }
    }
    Ok(())
}

/// Adds `tags` to every resource; an existing key takes the new value.
pub fn tag(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    resource_type: ResourceType,
    resource_ids: &[String],
    tags: &[Tag],
) -> Result<(), DomainError> {
    validate::tags(tags)?;
    check_resources(tx, account_id, region_id, resource_type, resource_ids)?;
    for id in resource_ids {
        let mut current = tx.tags(account_id, resource_type, id)?;
        for tag in tags {
            match current.iter_mut().find(|t| t.key == tag.key) {
                Some(existing) => existing.value = tag.value.clone(),
                None => current.push(tag.clone()),
            }
        }
        if current.len() > MAX_TAGS_PER_RESOURCE {
            return Err(DomainError::TagQuotaExceeded);
        }
        tx.set_tags(account_id, resource_type, id, &current)?;
    }
    Ok(())
}

/// What `UntagResources` removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untag {
    Keys(Vec<String>),
    All,
}

pub fn untag(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    resource_type: ResourceType,
    resource_ids: &[String],
    which: &Untag,
) -> Result<(), DomainError> {
    if let Untag::Keys(keys) = which {
        if keys.len() > MAX_TAGS_PER_REQUEST {
            return Err(DomainError::TooManyTags(MAX_TAGS_PER_REQUEST));
        }
    }
    check_resources(tx, account_id, region_id, resource_type, resource_ids)?;
    for id in resource_ids {
        let remaining: Vec<Tag> = match which {
            Untag::All => Vec::new(),
            Untag::Keys(keys) => tx
                .tags(account_id, resource_type, id)?
                .into_iter()
                .filter(|t| !keys.contains(&t.key))
                .collect(),
        };
        tx.set_tags(account_id, resource_type, id, &remaining)?;
    }
    Ok(())
}

/// One (resource, tag) pair of `ListTagResources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedResource {
    pub resource_id: String,
    pub tag: Tag,
}

/// Pairs of the given resources (all of the type when empty) whose tags match every filter
/// (key, optional exact value); the resource must hold all filter tags, and every tag of a
/// matching resource is listed. Resources outside the region are not listed.
pub fn list(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    resource_type: ResourceType,
    resource_ids: &[String],
    filters: &[(String, Option<String>)],
) -> Result<Vec<TaggedResource>, DomainError> {
    if resource_ids.len() > MAX_RESOURCES_PER_REQUEST {
        return Err(DomainError::TooManyResources(MAX_RESOURCES_PER_REQUEST));
    }
    let in_region: Vec<String> = match resource_type {
        ResourceType::SecurityGroup => tx
            .security_groups(account_id, region_id)?
            .into_iter()
            .map(|g| g.id)
            .collect(),
        ResourceType::PrefixList => tx
            .prefix_lists(account_id, region_id)?
            .into_iter()
            .map(|l| l.id)
            .collect(),
        ResourceType::Instance => tx
            .instances(account_id, region_id, &Default::default())?
            .into_iter()
            .map(|i| i.id)
            .collect(),
        ResourceType::Eni => super::network_interfaces::all(tx, account_id, region_id)?
            .into_iter()
            .map(|e| e.id)
            .collect(),
        ResourceType::Vpc => tx
            .vpcs(account_id, region_id)?
            .into_iter()
            .map(|v| v.id)
            .collect(),
        ResourceType::VSwitch => tx
            .vswitches(account_id, region_id)?
            .into_iter()
            .map(|v| v.id)
            .collect(),
        ResourceType::NetworkPath => tx
            .network_paths(account_id)?
            .into_iter()
            .filter(|p| p.region_id == region_id)
            .map(|p| p.id)
            .collect(),
        // NIS offers no tag listing; `ResourceType::parse` never names an analysis, so no
        // request reaches here with one.
        ResourceType::NetworkReachableAnalysis => Vec::new(),
    };
    let mut all = tx.all_tags(account_id, resource_type)?;
    let mut out = Vec::new();
    for id in in_region {
        if !resource_ids.is_empty() && !resource_ids.contains(&id) {
            continue;
        }
        let Some(tags) = all.remove(&id) else {
            continue;
        };
        let matches = filters.iter().all(|(k, v)| {
            tags.iter()
                .any(|t| t.key == *k && v.as_ref().is_none_or(|v| *v == t.value))
        });
        if matches {
            out.extend(tags.into_iter().map(|tag| TaggedResource {
                resource_id: id.clone(),
                tag,
            }));
        }
    }
    Ok(out)
}
