//! VPCs (docs/vpc.md): create, read, list, modify, delete. vSwitches are in
//! [`vswitches`], the block arithmetic and CIDR rules in [`cidr`].
//!
//! VPCs and vSwitches are `Available` as soon as they exist (no `Pending` phase is
//! simulated), so the status preconditions of the real service always hold.

pub mod cidr;
pub mod vswitches;

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use ipnet::Ipv6Net;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::Limits;
use crate::error::DomainError;
use crate::ids;
use crate::ids::{AccountId, VpcId};
use crate::model::{ResourceType, Tag};
use crate::network::{InstanceScope, Vpc};
use crate::ops::Window;
use crate::store::Tx;
use crate::validate;

/// The only status a VPC or vSwitch is reported in.
pub const AVAILABLE: &str = "Available";

/// Names: 1–128 characters; descriptions: 1–256; neither starts with `http://`/`https://`
/// (current SDK rule, docs/vpc.md §1.5). Empty means "none" and is always accepted.
pub(crate) fn text_ok(text: &str, max: usize) -> bool {
    text.is_empty() || (text.chars().count() <= max && validate::free_text_ok(text))
}

/// A zone of the region: `<RegionId>-<letter>` (docs/ecs.md §1.3).
pub fn zone(region_id: &str, zone_id: &str) -> Result<(), DomainError> {
    let ok = zone_id
        .strip_prefix(region_id)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|letter| letter.len() == 1 && letter.bytes().all(|b| b.is_ascii_lowercase()));
    ok.then_some(())
        .ok_or_else(|| DomainError::ZoneNotFound(zone_id.to_string()))
}

/// Key, and the value it must have (`None`: any value): every one must be on the resource.
pub(crate) fn tags_match(tags: &[Tag], filters: &[(String, Option<String>)]) -> bool {
    filters.iter().all(|(key, value)| {
        tags.iter()
            .any(|t| t.key == *key && value.as_ref().is_none_or(|v| *v == t.value))
    })
}

/// What `CreateVpc` asks for, already parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewVpc {
    pub region_id: String,
    /// `None`: [`cidr::DEFAULT_VPC_CIDR`].
    pub cidr_block: Option<String>,
    pub name: String,
    pub description: String,
    pub resource_group_id: String,
    /// `UserCidr` as sent (comma-separated).
    pub user_cidrs: Option<String>,
    pub enable_ipv6: bool,
    /// An explicit IPv6 block; with `enable_ipv6` and none, one is allocated.
    pub ipv6_cidr_block: Option<String>,
    pub enable_dns_hostname: bool,
    pub tags: Vec<Tag>,
}

/// What `CreateVpc` answers, as remembered for `ClientToken` replays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedVpc {
    pub vpc_id: String,
    pub vrouter_id: String,
    pub route_table_id: String,
    pub resource_group_id: String,
}

fn vpc_name(name: &str) -> Result<(), DomainError> {
    text_ok(name, 128)
        .then_some(())
        .ok_or(DomainError::VpcNameMalformed)
}

fn vpc_description(description: &str) -> Result<(), DomainError> {
    text_ok(description, 256)
        .then_some(())
        .ok_or(DomainError::VpcDescriptionMalformed)
}

/// A canonical IPv6 block: the given one, or a random /56 of a BGP-like pool.
fn ipv6_block(given: Option<&str>) -> Result<String, DomainError> {
    match given {
        Some(text) => text
            .parse::<Ipv6Net>()
            .ok()
            .filter(|n| n.trunc() == *n)
            .map(|n| n.to_string())
            .ok_or(DomainError::CidrBlockMalformed),
        None => {
            let mut rng = rand::thread_rng();
            Ok(format!(
                "2408:4005:{:x}:{:x}00::/56",
                0x300 + rng.gen_range(0..0x100u32),
                rng.gen_range(0x10..0x100u32)
            ))
        }
    }
}

pub fn create(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    new: &NewVpc,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<CreatedVpc, DomainError> {
    vpc_name(&new.name)?;
    vpc_description(&new.description)?;
    let block = cidr::vpc_block(new.cidr_block.as_deref().unwrap_or(cidr::DEFAULT_VPC_CIDR))?;
    let user_cidrs = match &new.user_cidrs {
        Some(text) => cidr::user_cidrs(text)?,
        None => Vec::new(),
    };
    validate::tags(&new.tags)?;
    let ipv6_cidr_block = if new.enable_ipv6 {
        ipv6_block(new.ipv6_cidr_block.as_deref())?
    } else {
        String::new()
    };
    if tx.vpcs(account_id, &new.region_id)?.len() as u64 >= limits.vpcs_per_region {
        return Err(DomainError::VpcQuotaExceeded);
    }
    let vpc = Vpc {
        id: ids::new_vpc_id(),
        account_id: account_id.to_string(),
        region_id: new.region_id.clone(),
        cidr_block: block.to_string(),
        name: new.name.clone(),
        description: new.description.clone(),
        resource_group_id: new.resource_group_id.clone(),
        vrouter_id: ids::new_vrouter_id(),
        route_table_id: ids::new_route_table_id(),
        user_cidrs,
        enable_ipv6: new.enable_ipv6,
        ipv6_cidr_block,
        enable_dns_hostname: new.enable_dns_hostname,
        creation_time: now.trunc_subsecs(0),
    };
    tx.insert_vpc(&vpc)?;
    if !new.tags.is_empty() {
        tx.set_tags(account_id, ResourceType::Vpc, &vpc.id, &new.tags)?;
    }
    Ok(CreatedVpc {
        vpc_id: vpc.id,
        vrouter_id: vpc.vrouter_id,
        route_table_id: vpc.route_table_id,
        resource_group_id: vpc.resource_group_id,
    })
}

/// The VPC `id` of this account (in `region_id` when one is given). Another account's or
/// region's VPC answers exactly like one that does not exist.
pub fn get(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    id: &VpcId,
) -> Result<Vpc, DomainError> {
    tx.vpc(account_id, id)?
        .filter(|v| region_id.is_none_or(|r| r == v.region_id))
        .ok_or_else(|| DomainError::VpcNotFound(id.to_string()))
}

/// A VPC as `DescribeVpcs` / `DescribeVpcAttribute` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcView {
    pub vpc: Vpc,
    pub tags: Vec<Tag>,
    /// Its vSwitches, oldest first.
    pub vswitch_ids: Vec<String>,
}

/// One VPC with its tags and vSwitches.
pub fn view(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    id: &VpcId,
) -> Result<VpcView, DomainError> {
    let vpc = get(tx, account_id, region_id, id)?;
    let tags = tx.tags(account_id, ResourceType::Vpc, &vpc.id)?;
    let vswitch_ids = tx
        .vswitches(account_id, &vpc.region_id)?
        .into_iter()
        .filter(|s| s.vpc_id == vpc.id)
        .map(|s| s.id)
        .collect();
    Ok(VpcView {
        vpc,
        tags,
        vswitch_ids,
    })
}

/// The filters of `DescribeVpcs`; every given one must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VpcFilter {
    pub ids: Option<Vec<String>>,
    pub name: Option<String>,
    /// No VPC here is a default VPC: `Some(true)` matches none.
    pub is_default: Option<bool>,
    pub resource_group_id: Option<String>,
    pub enable_ipv6: Option<bool>,
    /// No VPC here has a DHCP options set: any value matches none.
    pub dhcp_options_set_id: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Vec<(String, Option<String>)>,
}

impl VpcFilter {
    fn matches(&self, view: &VpcView) -> bool {
        let v = &view.vpc;
        self.ids.as_ref().is_none_or(|ids| ids.contains(&v.id))
            && self.name.as_ref().is_none_or(|n| *n == v.name)
            && self.is_default != Some(true)
            && self
                .resource_group_id
                .as_ref()
                .is_none_or(|r| *r == v.resource_group_id)
            && self.enable_ipv6.is_none_or(|e| e == v.enable_ipv6)
            && self.dhcp_options_set_id.is_none()
            && self.owner_id.as_ref().is_none_or(|o| *o == v.account_id)
            && tags_match(&view.tags, &self.tags)
    }
}

/// The matching VPCs of the account in the region, oldest first: the total and one window.
pub fn list(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    filter: &VpcFilter,
    window: Window,
) -> Result<(usize, Vec<VpcView>), DomainError> {
    let mut tags = tx.all_tags(account_id, ResourceType::Vpc)?;
    let mut vswitches: HashMap<String, Vec<String>> = HashMap::new();
    for s in tx.vswitches(account_id, region_id)? {
        vswitches.entry(s.vpc_id).or_default().push(s.id);
    }
    let all: Vec<VpcView> = tx
        .vpcs(account_id, region_id)?
        .into_iter()
        .map(|vpc| VpcView {
            tags: tags.remove(&vpc.id).unwrap_or_default(),
            vswitch_ids: vswitches.remove(&vpc.id).unwrap_or_default(),
            vpc,
        })
        .filter(|view| filter.matches(view))
        .collect();
    Ok(window.cut(all))
}

/// What `ModifyVpcAttribute` changes; `None` leaves a field alone, an empty name or
/// description clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModifyVpc {
    pub region_id: Option<String>,
    pub id: VpcId,
    pub name: Option<String>,
    pub description: Option<String>,
    /// A new primary block that contains, or lies inside, the current one and still holds
    /// every vSwitch.
    pub cidr_block: Option<String>,
    pub enable_ipv6: Option<bool>,
    pub ipv6_cidr_block: Option<String>,
    pub enable_dns_hostname: Option<bool>,
}

pub fn modify(tx: &mut dyn Tx, account_id: &AccountId, m: &ModifyVpc) -> Result<(), DomainError> {
    if let Some(name) = &m.name {
        vpc_name(name)?;
    }
    if let Some(description) = &m.description {
        vpc_description(description)?;
    }
    let new_block = m.cidr_block.as_deref().map(cidr::vpc_block).transpose()?;
    let mut vpc = get(tx, account_id, m.region_id.as_deref(), &m.id)?;
    if let Some(block) = new_block {
        let old = cidr::parse(&vpc.cidr_block)?;
        let related = block.contains(&old.network()) || old.contains(&block.network());
        let holds_all = tx
            .vswitches(account_id, &vpc.region_id)?
            .iter()
            .filter(|s| s.vpc_id == vpc.id)
            .all(|s| cidr::parse(&s.cidr_block).is_ok_and(|n| block.contains(&n)));
        if !related || !holds_all {
            return Err(DomainError::VpcCidrInvalid);
        }
        vpc.cidr_block = block.to_string();
    }
    if let Some(name) = &m.name {
        vpc.name.clone_from(name);
    }
    if let Some(description) = &m.description {
        vpc.description.clone_from(description);
    }
    match m.enable_ipv6 {
        Some(true) if !vpc.enable_ipv6 => {
            vpc.ipv6_cidr_block = ipv6_block(m.ipv6_cidr_block.as_deref())?;
            vpc.enable_ipv6 = true;
        }
        Some(false) => {
            vpc.ipv6_cidr_block.clear();
            vpc.enable_ipv6 = false;
        }
        _ => {}
    }
    if let Some(enable) = m.enable_dns_hostname {
        vpc.enable_dns_hostname = enable;
    }
    tx.update_vpc(&vpc)?;
    Ok(())
}

/// `DeleteVpc`: only an empty VPC goes. Checks in order: existence, vSwitches, security
/// groups, instances.
pub fn delete(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    id: &VpcId,
) -> Result<(), DomainError> {
    let vpc = get(tx, account_id, region_id, id)?;
    if tx
        .vswitches(account_id, &vpc.region_id)?
        .iter()
        .any(|s| s.vpc_id == vpc.id)
    {
        return Err(DomainError::VpcHasVSwitches);
    }
    if tx.count_security_groups_in_vpc(account_id, id)? > 0 {
        return Err(DomainError::VpcHasSecurityGroups);
    }
    if super::network_interfaces::members(tx, account_id, InstanceScope::Vpc(id))? > 0 {
        return Err(DomainError::VpcHasInstances);
    }
    tx.delete_vpc(account_id, id)?;
    tx.delete_vpc_vni(id)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_belong_to_their_region() {
        assert!(zone("cn-hangzhou", "cn-hangzhou-b").is_ok());
        for bad in [
            "cn-hangzhou",
            "cn-hangzhou-",
            "cn-hangzhou-bb",
            "cn-beijing-a",
            "cn-hangzhou-B",
        ] {
            assert_eq!(
                zone("cn-hangzhou", bad),
                Err(DomainError::ZoneNotFound(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn names_and_descriptions() {
        assert!(text_ok("", 128));
        assert!(text_ok("a", 128));
        assert!(text_ok(&"n".repeat(128), 128));
        assert!(!text_ok(&"n".repeat(129), 128));
        assert!(!text_ok("http://x", 128));
        assert!(!text_ok("https://x", 256));
        assert_eq!(vpc_name("https://x"), Err(DomainError::VpcNameMalformed));
        assert_eq!(
            vpc_description(&"d".repeat(257)),
            Err(DomainError::VpcDescriptionMalformed)
        );
    }

    #[test]
    fn ipv6_blocks() {
        let random = ipv6_block(None).expect("allocated");
        assert!(random.parse::<Ipv6Net>().is_ok(), "{random}");
        assert!(random.ends_with("/56"), "{random}");
        assert_eq!(
            ipv6_block(Some("2408:4005:0300:AB00::/56")),
            Ok("2408:4005:300:ab00::/56".into())
        );
        assert_eq!(ipv6_block(Some("x")), Err(DomainError::CidrBlockMalformed));
    }

    #[test]
    fn windows() {
        use crate::ops::Window;
        let window = |offset, limit| Window { offset, limit };
        assert_eq!(window(0, 2).cut(vec![1, 2, 3]), (3, vec![1, 2]));
        assert_eq!(window(2, 2).cut(vec![1, 2, 3]), (3, vec![3]));
        assert_eq!(window(4, 2).cut(vec![1, 2, 3]), (3, vec![]));
    }
}
