//! A whole account at once: [`read`] takes everything an account has in some regions,
//! [`plan`] and [`apply`] bring a store to hold an [`AccountImage`] (an offline export of
//! a real account, docs/review.md). `apply` runs in the caller's one write transaction, so
//! a bad image stores nothing; applying the same image twice changes nothing the second
//! time ([`plan`] tells, in a read, that there is nothing to do).
//!
//! Import only adds and updates: a record of the store that the image does not hold stays.
//! A record that exists with other values in fields no update can change (a group's type
//! or VPC, an instance's address, a vSwitch's block) is a [`ImportConflict`], not
//! silently rewritten.

use crate::ids::{AccountId, InstanceId, PrefixListId, SecurityGroupId, VSwitchId, VpcId};
use crate::model::{PrefixList, ResourceType, SecurityGroup, Tag};
use crate::network::{Instance, InstanceQuery, VSwitch, Vpc};
use crate::ops::instances::InstanceAttributes;
use crate::rules::Rule;
use crate::store::{StoreError, Tx, TxError};

/// Everything one account has (in the regions read or exported), in listing order:
/// oldest first, as the Describe operations list them.
#[derive(Debug, Clone, Default)]
pub struct AccountImage {
    pub vpcs: Vec<Vpc>,
    pub vswitches: Vec<VSwitch>,
    pub prefix_lists: Vec<PrefixList>,
    pub groups: Vec<SecurityGroup>,
    /// Grouped by security group, each group's in its listing order.
    pub rules: Vec<Rule>,
    pub instances: Vec<Instance>,
    /// Only resources with at least one tag.
    pub tags: Vec<ResourceTags>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTags {
    pub resource_type: ResourceType,
    pub resource_id: String,
    pub tags: Vec<Tag>,
}

/// What [`apply`] did, or [`plan`] would do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl ImportCounts {
    pub fn changes(&self) -> usize {
        self.inserted + self.updated
    }
}

/// A stored record the image cannot be reconciled with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {id} is stored with other {what}; import it into a fresh database")]
pub struct ImportConflict {
    pub kind: &'static str,
    pub id: String,
    pub what: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Conflict(#[from] ImportConflict),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TxError for ImportError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            ImportError::Store(e) => Some(e),
            ImportError::Conflict(_) => None,
        }
    }
}

/// Everything `account_id` has in `regions`, oldest first per kind and region.
pub fn read(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    regions: &[&str],
) -> Result<AccountImage, StoreError> {
    let mut image = AccountImage::default();
    for region in regions {
        let vpcs = tx.vpcs(account_id, region)?;
        let vswitches = tx.vswitches(account_id, region)?;
        let prefix_lists = tx.prefix_lists(account_id, region)?;
        let groups = tx.security_groups(account_id, region)?;
        let instances = tx.instances(account_id, region, &InstanceQuery::default())?;
        for group in &groups {
            image
                .rules
                .extend(tx.rules(account_id, &SecurityGroupId::from(&group.id))?);
        }
        image.vpcs.extend(vpcs);
        image.vswitches.extend(vswitches);
        image.prefix_lists.extend(prefix_lists);
        image.groups.extend(groups);
        image.instances.extend(instances);
    }
    let kinds: [(ResourceType, Vec<&str>); 5] = [
        (
            ResourceType::Vpc,
            image.vpcs.iter().map(|v| v.id.as_str()).collect(),
        ),
        (
            ResourceType::VSwitch,
            image.vswitches.iter().map(|v| v.id.as_str()).collect(),
        ),
        (
            ResourceType::PrefixList,
            image.prefix_lists.iter().map(|p| p.id.as_str()).collect(),
        ),
        (
            ResourceType::SecurityGroup,
            image.groups.iter().map(|g| g.id.as_str()).collect(),
        ),
        (
            ResourceType::Instance,
            image.instances.iter().map(|i| i.id.as_str()).collect(),
        ),
    ];
    let mut tags = Vec::new();
    for (resource_type, ids) in kinds {
        let mut all = tx.all_tags(account_id, resource_type)?;
        for id in ids {
            if let Some(t) = all.remove(id).filter(|t| !t.is_empty()) {
                tags.push(ResourceTags {
                    resource_type,
                    resource_id: id.to_string(),
                    tags: t,
                });
            }
        }
    }
    image.tags = tags;
    Ok(image)
}

/// What [`apply`] would do, without writing (run it in a read).
pub fn plan(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    image: &AccountImage,
) -> Result<ImportCounts, ImportError> {
    reconcile(tx, account_id, image, false)
}

/// Inserts what the store lacks and updates what differs, in the caller's transaction.
/// Every record must belong to `account_id` (its `account_id` field is not looked at:
/// the records are written for this account).
pub fn apply(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    image: &AccountImage,
) -> Result<ImportCounts, ImportError> {
    reconcile(tx, account_id, image, true)
}

/// One record's fate.
enum Fate {
    Insert,
    Update,
    Same,
}

fn conflict(kind: &'static str, id: &str, what: &'static str) -> ImportError {
    ImportConflict {
        kind,
        id: id.to_string(),
        what,
    }
    .into()
}

fn reconcile(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    image: &AccountImage,
    write: bool,
) -> Result<ImportCounts, ImportError> {
    let mut counts = ImportCounts::default();
    let mut count = |fate: &Fate| match fate {
        Fate::Insert => counts.inserted += 1,
        Fate::Update => counts.updated += 1,
        Fate::Same => counts.unchanged += 1,
    };
    let owner = account_id.as_str();

    for vpc in &image.vpcs {
        let vpc = Vpc {
            account_id: owner.to_string(),
            ..vpc.clone()
        };
        let fate = match tx.vpc(account_id, &VpcId::from(&vpc.id))? {
            None => Fate::Insert,
            Some(old) if old == vpc => Fate::Same,
            Some(old) => {
                let merged = Vpc {
                    cidr_block: vpc.cidr_block.clone(),
                    name: vpc.name.clone(),
                    description: vpc.description.clone(),
                    resource_group_id: vpc.resource_group_id.clone(),
                    user_cidrs: vpc.user_cidrs.clone(),
                    enable_ipv6: vpc.enable_ipv6,
                    ipv6_cidr_block: vpc.ipv6_cidr_block.clone(),
                    enable_dns_hostname: vpc.enable_dns_hostname,
                    ..old
                };
                if merged != vpc {
                    return Err(conflict("VPC", &vpc.id, "region, router or creation time"));
                }
                Fate::Update
            }
        };
        if write {
            match fate {
                Fate::Insert => tx.insert_vpc(&vpc)?,
                Fate::Update => {
                    tx.update_vpc(&vpc)?;
                }
                Fate::Same => {}
            }
        }
        count(&fate);
    }

    for vswitch in &image.vswitches {
        let vswitch = VSwitch {
            account_id: owner.to_string(),
            ..vswitch.clone()
        };
        let fate = match tx.vswitch(account_id, &VSwitchId::from(&vswitch.id))? {
            None => Fate::Insert,
            Some(old) if old == vswitch => Fate::Same,
            Some(old) => {
                let merged = VSwitch {
                    name: vswitch.name.clone(),
                    description: vswitch.description.clone(),
                    ..old
                };
                if merged != vswitch {
                    return Err(conflict(
                        "vSwitch",
                        &vswitch.id,
                        "VPC, zone, block or creation time",
                    ));
                }
                Fate::Update
            }
        };
        if write {
            match fate {
                Fate::Insert => tx.insert_vswitch(&vswitch)?,
                Fate::Update => {
                    tx.update_vswitch(&vswitch)?;
                }
                Fate::Same => {}
            }
        }
        count(&fate);
    }

    for list in &image.prefix_lists {
        let list = PrefixList {
            account_id: owner.to_string(),
            ..list.clone()
        };
        let fate = match tx.prefix_list(account_id, &PrefixListId::from(&list.id))? {
            None => Fate::Insert,
            Some(old) if old == list => Fate::Same,
            Some(old) => {
                let merged = PrefixList {
                    name: list.name.clone(),
                    description: list.description.clone(),
                    entries: list.entries.clone(),
                    ..old
                };
                if merged != list {
                    return Err(conflict(
                        "prefix list",
                        &list.id,
                        "address family, maximum entries or creation time",
                    ));
                }
                Fate::Update
            }
        };
        if write {
            match fate {
                Fate::Insert => tx.insert_prefix_list(&list)?,
                Fate::Update => {
                    tx.update_prefix_list(&list)?;
                }
                Fate::Same => {}
            }
        }
        count(&fate);
    }

    for group in &image.groups {
        let group = SecurityGroup {
            account_id: owner.to_string(),
            ..group.clone()
        };
        let fate = match tx.security_group(account_id, &SecurityGroupId::from(&group.id))? {
            None => Fate::Insert,
            Some(old) if old == group => Fate::Same,
            Some(old) => {
                let merged = SecurityGroup {
                    name: group.name.clone(),
                    description: group.description.clone(),
                    inner_access_policy: group.inner_access_policy,
                    resource_group_id: group.resource_group_id.clone(),
                    ..old
                };
                if merged != group {
                    return Err(conflict(
                        "security group",
                        &group.id,
                        "type, VPC, region or creation time",
                    ));
                }
                Fate::Update
            }
        };
        if write {
            match fate {
                Fate::Insert => tx.insert_security_group(&group)?,
                Fate::Update => tx.update_security_group(&group)?,
                Fate::Same => {}
            }
        }
        count(&fate);
    }

    // Rules, a group at a time (the image keeps each group's rules together).
    let mut n = 0;
    while n < image.rules.len() {
        let group_id = image.rules[n].security_group_id.clone();
        let end = image.rules[n..]
            .iter()
            .position(|r| r.security_group_id != group_id)
            .map_or(image.rules.len(), |k| n + k);
        let stored = tx.rules(account_id, &SecurityGroupId::from(&group_id))?;
        for rule in &image.rules[n..end] {
            let row = rule.to_row();
            let fate = match stored.iter().find(|r| r.id == rule.id) {
                None => Fate::Insert,
                Some(old) if old.to_row() == row => Fate::Same,
                Some(_) => Fate::Update,
            };
            if write {
                match fate {
                    Fate::Insert => tx.insert_rule(account_id, rule)?,
                    Fate::Update => {
                        tx.update_rule(account_id, rule)?;
                    }
                    Fate::Same => {}
                }
            }
            count(&fate);
        }
        n = end;
    }

    for instance in &image.instances {
        let instance = Instance {
            account_id: owner.to_string(),
            ..instance.clone()
        };
        let fate = match tx.instance(account_id, &InstanceId::from(&instance.id))? {
            None => Fate::Insert,
            Some(old) => {
                let same_attributes = InstanceAttributes::parse(&old.attributes).ok()
                    == InstanceAttributes::parse(&instance.attributes).ok();
                let old_plain = Instance {
                    attributes: String::new(),
                    ..old.clone()
                };
                let new_plain = Instance {
                    attributes: String::new(),
                    ..instance.clone()
                };
                if old_plain == new_plain && same_attributes {
                    Fate::Same
                } else {
                    let merged = Instance {
                        name: instance.name.clone(),
                        description: instance.description.clone(),
                        host_name: instance.host_name.clone(),
                        instance_type: instance.instance_type.clone(),
                        image_id: instance.image_id.clone(),
                        status: instance.status,
                        status_since: instance.status_since,
                        security_group_ids: instance.security_group_ids.clone(),
                        attributes: String::new(),
                        ..old
                    };
                    if merged != new_plain {
                        return Err(conflict(
                            "instance",
                            &instance.id,
                            "placement, interface, address or creation time",
                        ));
                    }
                    Fate::Update
                }
            }
        };
        if write {
            match fate {
                Fate::Insert => tx.insert_instance(&instance)?,
                Fate::Update => {
                    tx.update_instance(&instance)?;
                }
                Fate::Same => {}
            }
        }
        count(&fate);
    }

    for entry in &image.tags {
        let old = tx.tags(account_id, entry.resource_type, &entry.resource_id)?;
        let fate = if old == entry.tags {
            Fate::Same
        } else if old.is_empty() {
            Fate::Insert
        } else {
            Fate::Update
        };
        if write && !matches!(fate, Fate::Same) {
            tx.set_tags(
                account_id,
                entry.resource_type,
                &entry.resource_id,
                &entry.tags,
            )?;
        }
        count(&fate);
    }
    Ok(counts)
}
