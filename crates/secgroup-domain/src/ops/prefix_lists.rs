//! Prefix lists (docs/ecs.md §6): create, read, list, modify, delete, and the security
//! groups whose rules name a list.

use chrono::{DateTime, SubsecRound, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::{AccountId, PrefixListId, SecurityGroupId};
use crate::model::{AddressFamily, PrefixList, PrefixListEntry, ResourceType, Tag};
use crate::store::Tx;
use crate::validate;

/// `MaxEntries` is fixed at creation within `1..=MAX_ENTRIES`.
pub const MAX_ENTRIES: u32 = 200;
/// `Entry.N`, `AddEntry.N`, `RemoveEntry.N`: at most this many in one request (`LimitExceed.Entry`).
pub const MAX_ENTRIES_PER_REQUEST: usize = 200;
/// `DescribePrefixLists.PrefixListId.N` (`LimitExceed.PrefixListId`).
pub const MAX_IDS_PER_DESCRIBE: usize = 100;

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `pl-` + 20 lower-case alphanumerics.
pub fn new_prefix_list_id() -> String {
    let mut rng = rand::thread_rng();
    let tail: String = (0..20)
        .map(|_| LOWER_ALNUM[rng.gen_range(0..LOWER_ALNUM.len())] as char)
        .collect();
    format!("pl-{tail}")
}

/// What `CreatePrefixList` asks for, already parsed. Entry blocks are as the client wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrefixList {
    pub region_id: String,
    pub name: String,
    pub description: String,
    pub address_family: AddressFamily,
    pub max_entries: u32,
    pub resource_group_id: String,
    pub entries: Vec<PrefixListEntry>,
    pub tags: Vec<Tag>,
}

/// A created list's id, as remembered for `ClientToken` replays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    pub prefix_list_id: String,
}

/// Validates and canonicalises entries given in one request: descriptions valid, blocks in
/// canonical form and of `family`, no block twice.
fn canonical_entries(
    entries: &[PrefixListEntry],
    family: Option<AddressFamily>,
) -> Result<Vec<PrefixListEntry>, DomainError> {
    if entries.len() > MAX_ENTRIES_PER_REQUEST {
        return Err(DomainError::TooManyEntriesInRequest);
    }
    let mut out: Vec<PrefixListEntry> = Vec::with_capacity(entries.len());
    for entry in entries {
        let cidr = canonical_cidr(&entry.cidr, family)?;
        if !entry.description.is_empty() {
            validate::prefix_list_entry_description(&entry.description)?;
        }
        if out.iter().any(|e| e.cidr == cidr) {
            return Err(DomainError::PrefixListCidrDuplicated(entry.cidr.clone()));
        }
        out.push(PrefixListEntry {
            cidr,
            description: entry.description.clone(),
        });
    }
    Ok(out)
}

/// One block in canonical form; a block of the other family is malformed for this list.
fn canonical_cidr(cidr: &str, family: Option<AddressFamily>) -> Result<String, DomainError> {
    let (text, found) = validate::prefix_list_cidr(cidr)?;
    if family.is_some_and(|f| f != found) {
        return Err(DomainError::PrefixListCidrMalformed(cidr.to_string()));
    }
    Ok(text)
}

/// `quota`: lists per account and region (`Limits::prefix_lists_per_region`).
pub fn create(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    new: &NewPrefixList,
    quota: u64,
    now: DateTime<Utc>,
) -> Result<Created, DomainError> {
    validate::prefix_list_name(&new.name)?;
    if !new.description.is_empty() {
        validate::prefix_list_description(&new.description)?;
    }
    if !(1..=MAX_ENTRIES).contains(&new.max_entries) {
        return Err(DomainError::MaxEntriesInvalid);
    }
    let entries = canonical_entries(&new.entries, Some(new.address_family))?;
    if entries.len() > new.max_entries as usize {
        return Err(DomainError::MaxEntriesExceeded);
    }
    validate::tags(&new.tags)?;
    if tx.count_prefix_lists(account_id, &new.region_id)? >= quota {
        return Err(DomainError::PrefixListQuotaExceeded);
    }
    let list = PrefixList {
        id: new_prefix_list_id(),
        account_id: account_id.to_string(),
        region_id: new.region_id.clone(),
        name: new.name.clone(),
        description: new.description.clone(),
        address_family: new.address_family,
        max_entries: new.max_entries,
        resource_group_id: new.resource_group_id.clone(),
        creation_time: now.trunc_subsecs(0),
        entries,
    };
    tx.insert_prefix_list(&list)?;
    if !new.tags.is_empty() {
        tx.set_tags(account_id, ResourceType::PrefixList, &list.id, &new.tags)?;
    }
    Ok(Created {
        prefix_list_id: list.id,
    })
}

/// The list `id` of this account in this region. A list of another account or region
/// answers exactly like one that does not exist.
pub fn get(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    id: &PrefixListId,
) -> Result<PrefixList, DomainError> {
    tx.prefix_list(account_id, id)?
        .filter(|l| l.region_id == region_id)
        .ok_or_else(|| DomainError::PrefixListNotFound(id.to_string()))
}

/// A list as `DescribePrefixLists` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixListView {
    pub list: PrefixList,
    pub tags: Vec<Tag>,
    /// Security groups with a rule naming the list.
    pub association_count: u64,
}

/// The filters of `DescribePrefixLists`; every given filter must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixListFilter {
    /// `PrefixListId.N`; empty means any. Unknown ids simply match nothing.
    pub ids: Vec<String>,
    pub name: Option<String>,
    pub address_family: Option<AddressFamily>,
    pub resource_group_id: Option<String>,
    /// Key, and the value it must have (`None`: any value).
    pub tags: Vec<(String, Option<String>)>,
}

impl PrefixListFilter {
    fn matches(&self, list: &PrefixList, tags: &[Tag]) -> bool {
        (self.ids.is_empty() || self.ids.contains(&list.id))
            && self.name.as_ref().is_none_or(|n| *n == list.name)
            && self.address_family.is_none_or(|f| f == list.address_family)
            && self
                .resource_group_id
                .as_ref()
                .is_none_or(|r| *r == list.resource_group_id)
            && self.tags.iter().all(|(key, value)| {
                tags.iter()
                    .any(|t| t.key == *key && value.as_ref().is_none_or(|v| *v == t.value))
            })
    }
}

/// Every matching list of the account in the region, oldest first.
pub fn list(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    filter: &PrefixListFilter,
) -> Result<Vec<PrefixListView>, DomainError> {
    if filter.ids.len() > MAX_IDS_PER_DESCRIBE {
        return Err(DomainError::TooManyPrefixListIds(MAX_IDS_PER_DESCRIBE));
    }
    if filter.tags.len() > validate::MAX_TAGS_PER_REQUEST {
        return Err(DomainError::TooManyTags(validate::MAX_TAGS_PER_REQUEST));
    }
    let mut all_tags = tx.all_tags(account_id, ResourceType::PrefixList)?;
    let mut out = Vec::new();
    for list in tx.prefix_lists(account_id, region_id)? {
        let tags = all_tags.remove(&list.id).unwrap_or_default();
        if !filter.matches(&list, &tags) {
            continue;
        }
        let association_count = tx
            .groups_referencing_prefix_list(account_id, &PrefixListId::from(&list.id))?
            .len();
        out.push(PrefixListView {
            list,
            tags,
            association_count: association_count as u64,
        });
    }
    Ok(out)
}

/// What `ModifyPrefixList` asks for. Blocks are as the client wrote them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixListChange {
    pub name: Option<String>,
    /// `Some("")` clears the description.
    pub description: Option<String>,
    pub add: Vec<PrefixListEntry>,
    pub remove: Vec<String>,
}

/// `ModifyPrefixList`: removals first, then additions, where adding a block the list holds
/// replaces its description (docs/ecs.md §6.5). The same block in both lists is
/// accepted (Terraform's way of changing a description); removing an absent block is a no-op.
pub fn modify(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    id: &PrefixListId,
    change: &PrefixListChange,
) -> Result<(), DomainError> {
    if let Some(name) = &change.name {
        validate::prefix_list_name(name)?;
    }
    if let Some(description) = change.description.as_deref().filter(|d| !d.is_empty()) {
        validate::prefix_list_description(description)?;
    }
    // Syntax and duplicates first (400), then existence (404), then the list's family.
    let add = canonical_entries(&change.add, None)?;
    let removals: Vec<PrefixListEntry> = change
        .remove
        .iter()
        .map(|cidr| PrefixListEntry {
            cidr: cidr.clone(),
            description: String::new(),
        })
        .collect();
    let remove = canonical_entries(&removals, None)?;
    let mut list = get(tx, account_id, region_id, id)?;
    let family = Some(list.address_family);
    for cidr in change.add.iter().map(|e| &e.cidr).chain(&change.remove) {
        canonical_cidr(cidr, family)?;
    }

    list.entries
        .retain(|e| !remove.iter().any(|r| r.cidr == e.cidr));
    for entry in add {
        match list.entries.iter_mut().find(|e| e.cidr == entry.cidr) {
            Some(existing) => existing.description = entry.description,
            None => list.entries.push(entry),
        }
    }
    if list.entries.len() > list.max_entries as usize {
        return Err(DomainError::MaxEntriesExceeded);
    }
    if let Some(name) = &change.name {
        list.name = name.clone();
    }
    if let Some(description) = &change.description {
        list.description = description.clone();
    }
    if !tx.update_prefix_list(&list)? {
        return Err(DomainError::PrefixListNotFound(id.to_string()));
    }
    Ok(())
}

/// Deletes the list with its entries and tags; refused while a rule names it.
pub fn delete(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    id: &PrefixListId,
) -> Result<(), DomainError> {
    get(tx, account_id, region_id, id)?;
    if !tx
        .groups_referencing_prefix_list(account_id, id)?
        .is_empty()
    {
        return Err(DomainError::PrefixListInUse);
    }
    tx.delete_prefix_list(account_id, id)?;
    Ok(())
}

/// `DescribePrefixListAssociations`: the security groups with at least one rule naming the
/// list, one entry per group (docs/ecs.md §6.7), in id order so that pages are stable.
pub fn associations(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    id: &PrefixListId,
) -> Result<Vec<String>, DomainError> {
    get(tx, account_id, region_id, id)?;
    let mut groups = tx.groups_referencing_prefix_list(account_id, id)?;
    groups.sort_unstable();
    groups.dedup();
    Ok(groups
        .into_iter()
        .map(SecurityGroupId::into_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(cidr: &str, description: &str) -> PrefixListEntry {
        PrefixListEntry {
            cidr: cidr.into(),
            description: description.into(),
        }
    }

    #[test]
    fn ids_have_the_documented_shape() {
        let id = new_prefix_list_id();
        assert_eq!(id.len(), 23);
        assert!(id.starts_with("pl-"));
        assert!(id[3..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    }

    #[test]
    fn entries_are_canonical_and_unique_after_normalisation() {
        let v4 = Some(AddressFamily::IPv4);
        assert_eq!(
            canonical_entries(&[entry("10.0.0.1", "ab")], v4),
            Ok(vec![entry("10.0.0.1/32", "ab")])
        );
        assert_eq!(
            canonical_entries(&[entry("10.0.0.1/32", ""), entry("10.0.0.1", "")], v4),
            Err(DomainError::PrefixListCidrDuplicated("10.0.0.1".into()))
        );
        assert_eq!(
            canonical_entries(
                &[
                    entry("2001:fd01:0:0:0:0:0:0/32", ""),
                    entry("2001:fd01::/32", "")
                ],
                Some(AddressFamily::IPv6)
            ),
            Err(DomainError::PrefixListCidrDuplicated(
                "2001:fd01::/32".into()
            ))
        );
        assert_eq!(
            canonical_entries(&[entry("2001:db8::/32", "")], v4),
            Err(DomainError::PrefixListCidrMalformed("2001:db8::/32".into()))
        );
        assert_eq!(
            canonical_entries(&[entry("10.0.0.0/8", "x")], v4),
            Err(DomainError::PrefixListEntryDescriptionMalformed)
        );
        let many: Vec<_> = (0..201)
            .map(|i| entry(&format!("10.0.{}.{}", i / 256, i % 256), ""))
            .collect();
        assert_eq!(
            canonical_entries(&many, v4),
            Err(DomainError::TooManyEntriesInRequest)
        );
    }
}
