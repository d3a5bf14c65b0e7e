//! vSwitches (docs/vpc.md §3.6–§3.10): create, read, list, modify, delete.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::{cidr, get as get_vpc, tags_match, text_ok, zone};
use crate::error::DomainError;
use crate::ids;
use crate::ids::{AccountId, VSwitchId, VpcId};
use crate::model::{ResourceType, Tag};
use crate::network::{InstanceScope, VSwitch, Vpc};
use crate::ops::Limits;
use crate::ops::Window;
use crate::store::Tx;
use crate::validate;

/// How the block of a new vSwitch is chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockRequest {
    /// `CidrBlock`: exactly this block.
    Cidr(String),
    /// `CidrMask`: the lowest free block of this length in the VPC.
    Mask(i64),
}

/// What `CreateVSwitch` asks for, already parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVSwitch {
    /// `None`: the VPC's region.
    pub region_id: Option<String>,
    pub vpc_id: VpcId,
    pub zone_id: String,
    pub block: BlockRequest,
    pub name: String,
    pub description: String,
    pub tags: Vec<Tag>,
}

/// What `CreateVSwitch` answers, as remembered for `ClientToken` replays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedVSwitch {
    pub vswitch_id: String,
}

fn vswitch_name(name: &str) -> Result<(), DomainError> {
    text_ok(name, 128)
        .then_some(())
        .ok_or(DomainError::VSwitchNameMalformed)
}

fn vswitch_description(description: &str) -> Result<(), DomainError> {
    text_ok(description, 256)
        .then_some(())
        .ok_or(DomainError::VSwitchDescriptionMalformed)
}

/// The block for a new vSwitch of `vpc` beside `siblings`, by docs/vpc.md §2.2: mask
/// /16–/29, inside the VPC, no sibling spanning the whole VPC (nor the new one while
/// siblings exist), no overlap.
fn choose_block(
    vpc: &Vpc,
    siblings: &[VSwitch],
    request: &BlockRequest,
) -> Result<ipnet::Ipv4Net, DomainError> {
    let vpc_block = cidr::parse(&vpc.cidr_block)?;
    let taken = siblings
        .iter()
        .map(|s| cidr::parse(&s.cidr_block))
        .collect::<Result<Vec<_>, _>>()?;
    let spans = |n: &ipnet::Ipv4Net| *n == vpc_block;
    if taken.iter().any(spans) {
        return Err(DomainError::VSwitchSpansVpc);
    }
    match request {
        BlockRequest::Cidr(text) => {
            let block = cidr::parse(text)?;
            if !cidr::VSWITCH_MASKS.contains(&block.prefix_len()) {
                return Err(DomainError::VSwitchMaskLength);
            }
            if !vpc_block.contains(&block) {
                return Err(DomainError::VSwitchCidrOutsideVpc);
            }
            if spans(&block) && !taken.is_empty() {
                return Err(DomainError::VSwitchSpansVpc);
            }
            if taken.iter().any(|t| cidr::overlaps(t, &block)) {
                return Err(DomainError::VSwitchCidrOverlapped);
            }
            Ok(block)
        }
        BlockRequest::Mask(mask) => {
            let mask = u8::try_from(*mask)
                .ok()
                .filter(|m| cidr::VSWITCH_MASKS.contains(m))
                .ok_or(DomainError::VSwitchMaskLength)?;
            if mask < vpc_block.prefix_len() {
                return Err(DomainError::VSwitchCidrOutsideVpc);
            }
            if mask == vpc_block.prefix_len() && !taken.is_empty() {
                return Err(DomainError::VSwitchSpansVpc);
            }
            cidr::lowest_free(&vpc_block, mask, &taken).ok_or(DomainError::VSwitchCidrOverlapped)
        }
    }
}

pub fn create(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    new: &NewVSwitch,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<CreatedVSwitch, DomainError> {
    vswitch_name(&new.name)?;
    vswitch_description(&new.description)?;
    validate::tags(&new.tags)?;
    if let BlockRequest::Cidr(text) = &new.block {
        cidr::parse(text)?;
    }
    let vpc = get_vpc(tx, account_id, new.region_id.as_deref(), &new.vpc_id)?;
    zone(&vpc.region_id, &new.zone_id)?;
    let siblings: Vec<VSwitch> = tx
        .vswitches(account_id, &vpc.region_id)?
        .into_iter()
        .filter(|s| s.vpc_id == vpc.id)
        .collect();
    if siblings.len() as u64 >= limits.vswitches_per_vpc {
        return Err(DomainError::VSwitchQuotaExceeded);
    }
    let block = choose_block(&vpc, &siblings, &new.block)?;
    let vswitch = VSwitch {
        id: ids::new_vswitch_id(),
        account_id: account_id.to_string(),
        region_id: vpc.region_id.clone(),
        vpc_id: vpc.id.clone(),
        zone_id: new.zone_id.clone(),
        cidr_block: block.to_string(),
        name: new.name.clone(),
        description: new.description.clone(),
        creation_time: now.trunc_subsecs(0),
    };
    tx.insert_vswitch(&vswitch)?;
    if !new.tags.is_empty() {
        tx.set_tags(account_id, ResourceType::VSwitch, &vswitch.id, &new.tags)?;
    }
    Ok(CreatedVSwitch {
        vswitch_id: vswitch.id,
    })
}

/// The vSwitch `id` of this account (in `region_id` when one is given).
pub fn get(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    id: &VSwitchId,
) -> Result<VSwitch, DomainError> {
    tx.vswitch(account_id, id)?
        .filter(|s| region_id.is_none_or(|r| r == s.region_id))
        .ok_or_else(|| DomainError::VSwitchNotFound(id.to_string()))
}

/// A vSwitch as `DescribeVSwitches` / `DescribeVSwitchAttributes` show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VSwitchView {
    pub vswitch: VSwitch,
    pub tags: Vec<Tag>,
    /// The resource group and system route table come from here.
    pub vpc: Vpc,
    /// Usable addresses not taken by an instance.
    pub available_ips: u64,
}

fn available_ips(tx: &mut dyn Tx, vswitch: &VSwitch) -> Result<u64, DomainError> {
    let usable = cidr::usable_addresses(&cidr::parse(&vswitch.cidr_block)?);
    let used = tx.used_private_ips(&VSwitchId::from(&vswitch.id))?.len() as u64;
    Ok(usable.saturating_sub(used))
}

/// One vSwitch with its tags, VPC and free addresses.
pub fn view(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    id: &VSwitchId,
) -> Result<VSwitchView, DomainError> {
    let vswitch = get(tx, account_id, region_id, id)?;
    let vpc = get_vpc(tx, account_id, None, &VpcId::from(&vswitch.vpc_id))?;
    let tags = tx.tags(account_id, ResourceType::VSwitch, &vswitch.id)?;
    let available_ips = available_ips(tx, &vswitch)?;
    Ok(VSwitchView {
        vswitch,
        tags,
        vpc,
        available_ips,
    })
}

/// The filters of `DescribeVSwitches`; every given one must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VSwitchFilter {
    pub vpc_id: Option<String>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub zone_id: Option<String>,
    /// No vSwitch here is a default one: `Some(true)` matches none.
    pub is_default: Option<bool>,
    /// No vSwitch here has IPv6: `Some(true)` matches none.
    pub enable_ipv6: Option<bool>,
    pub resource_group_id: Option<String>,
    pub route_table_id: Option<String>,
    pub owner_id: Option<String>,
    pub tags: Vec<(String, Option<String>)>,
}

impl VSwitchFilter {
    fn matches(&self, s: &VSwitch, vpc: &Vpc, tags: &[Tag]) -> bool {
        self.vpc_id.as_ref().is_none_or(|v| *v == s.vpc_id)
            && self.id.as_ref().is_none_or(|i| *i == s.id)
            && self.name.as_ref().is_none_or(|n| *n == s.name)
            && self.zone_id.as_ref().is_none_or(|z| *z == s.zone_id)
            && self.is_default != Some(true)
            && self.enable_ipv6 != Some(true)
            && self
                .resource_group_id
                .as_ref()
                .is_none_or(|r| *r == vpc.resource_group_id)
            && self
                .route_table_id
                .as_ref()
                .is_none_or(|r| *r == vpc.route_table_id)
            && self.owner_id.as_ref().is_none_or(|o| *o == s.account_id)
            && tags_match(tags, &self.tags)
    }
}

/// The matching vSwitches of the account, oldest first: the total and one window. Without
/// `region_id` the region is that of `filter.vpc_id` (nothing when that VPC is unknown).
pub fn list(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    filter: &VSwitchFilter,
    window: Window,
) -> Result<(usize, Vec<VSwitchView>), DomainError> {
    let region = match (region_id, &filter.vpc_id) {
        (Some(region), _) => region.to_string(),
        (None, Some(vpc_id)) => match tx.vpc(account_id, &VpcId::from(vpc_id))? {
            Some(vpc) => vpc.region_id,
            None => return Ok((0, Vec::new())),
        },
        (None, None) => return Ok((0, Vec::new())),
    };
    let vpcs: HashMap<String, Vpc> = tx
        .vpcs(account_id, &region)?
        .into_iter()
        .map(|v| (v.id.clone(), v))
        .collect();
    let mut tags = tx.all_tags(account_id, ResourceType::VSwitch)?;
    let mut matching = Vec::new();
    for s in tx.vswitches(account_id, &region)? {
        let Some(vpc) = vpcs.get(&s.vpc_id) else {
            continue;
        };
        let tags = tags.remove(&s.id).unwrap_or_default();
        if filter.matches(&s, vpc, &tags) {
            matching.push((s, vpc.clone(), tags));
        }
    }
    let (total, page) = window.cut(matching);
    let mut views = Vec::with_capacity(page.len());
    for (vswitch, vpc, tags) in page {
        let available_ips = available_ips(tx, &vswitch)?;
        views.push(VSwitchView {
            vswitch,
            tags,
            vpc,
            available_ips,
        });
    }
    Ok((total, views))
}

/// `ModifyVSwitchAttribute`: absent fields stay; an empty name or description clears it.
pub fn modify(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    id: &VSwitchId,
    name: Option<&str>,
    description: Option<&str>,
) -> Result<(), DomainError> {
    if let Some(name) = name {
        vswitch_name(name)?;
    }
    if let Some(description) = description {
        vswitch_description(description)?;
    }
    let mut vswitch = get(tx, account_id, region_id, id)?;
    if let Some(name) = name {
        vswitch.name = name.to_string();
    }
    if let Some(description) = description {
        vswitch.description = description.to_string();
    }
    tx.update_vswitch(&vswitch)?;
    Ok(())
}

/// `DeleteVSwitch`: only a vSwitch without instances goes.
pub fn delete(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    id: &VSwitchId,
) -> Result<(), DomainError> {
    get(tx, account_id, region_id, id)?;
    if crate::ops::network_interfaces::members(tx, account_id, InstanceScope::VSwitch(id))? > 0 {
        return Err(DomainError::VSwitchHasInstances);
    }
    tx.delete_vswitch(account_id, id)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vpc(block: &str) -> Vpc {
        Vpc {
            id: "vpc-1".into(),
            account_id: "a".into(),
            region_id: "cn-hangzhou".into(),
            cidr_block: block.into(),
            name: String::new(),
            description: String::new(),
            resource_group_id: String::new(),
            vrouter_id: "vrt-1".into(),
            route_table_id: "vtb-1".into(),
            user_cidrs: Vec::new(),
            enable_ipv6: false,
            ipv6_cidr_block: String::new(),
            enable_dns_hostname: false,
            creation_time: Utc::now(),
        }
    }

    fn vsw(block: &str) -> VSwitch {
        VSwitch {
            id: format!("vsw-{block}"),
            account_id: "a".into(),
            region_id: "cn-hangzhou".into(),
            vpc_id: "vpc-1".into(),
            zone_id: "cn-hangzhou-b".into(),
            cidr_block: block.into(),
            name: String::new(),
            description: String::new(),
            creation_time: Utc::now(),
        }
    }

    fn choose(
        vpc_block: &str,
        siblings: &[&str],
        req: BlockRequest,
    ) -> Result<String, DomainError> {
        let siblings: Vec<VSwitch> = siblings.iter().map(|b| vsw(b)).collect();
        choose_block(&vpc(vpc_block), &siblings, &req).map(|n| n.to_string())
    }

    #[test]
    fn block_rules() {
        use BlockRequest::{Cidr, Mask};
        let c = |s: &str| Cidr(s.into());
        assert_eq!(
            choose("10.0.0.0/16", &[], c("10.0.1.0/24")),
            Ok("10.0.1.0/24".into())
        );
        assert_eq!(
            choose("10.0.0.0/16", &[], c("10.0.0.0/15")),
            Err(DomainError::VSwitchMaskLength)
        );
        assert_eq!(
            choose("10.0.0.0/16", &[], c("10.0.0.0/30")),
            Err(DomainError::VSwitchMaskLength)
        );
        assert_eq!(
            choose("10.0.0.0/16", &[], c("10.1.0.0/24")),
            Err(DomainError::VSwitchCidrOutsideVpc)
        );
        assert_eq!(
            choose("10.0.0.0/16", &["10.0.0.0/23"], c("10.0.1.0/24")),
            Err(DomainError::VSwitchCidrOverlapped)
        );
        assert_eq!(
            choose("10.0.0.0/16", &[], c("10.0.0.0/16")),
            Ok("10.0.0.0/16".into())
        );
        assert_eq!(
            choose("10.0.0.0/16", &["10.0.0.0/16"], c("10.0.1.0/24")),
            Err(DomainError::VSwitchSpansVpc)
        );
        assert_eq!(
            choose("10.0.0.0/16", &["10.0.0.0/24"], c("10.0.0.0/16")),
            Err(DomainError::VSwitchSpansVpc)
        );
        assert_eq!(
            choose("10.0.0.0/16", &["10.0.0.0/24"], Mask(24)),
            Ok("10.0.1.0/24".into())
        );
        assert_eq!(
            choose("10.0.0.0/16", &[], Mask(30)),
            Err(DomainError::VSwitchMaskLength)
        );
        assert_eq!(
            choose("10.0.0.0/24", &[], Mask(16)),
            Err(DomainError::VSwitchCidrOutsideVpc)
        );
        assert_eq!(
            choose("10.0.0.0/24", &["10.0.0.0/25", "10.0.0.128/25"], Mask(26)),
            Err(DomainError::VSwitchCidrOverlapped)
        );
    }
}
