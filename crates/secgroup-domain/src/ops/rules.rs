//! Security-group rules: authorize, revoke, modify, list and references (docs/ecs.md §2,
//! §3.7–§3.13).

use chrono::{DateTime, SubsecRound, Utc};
use rand::Rng;

use super::rule_draft::{draft_of, RuleDraft};
use super::{security_groups, Limits};
use crate::error::DomainError;
use crate::ids::{AccountId, PrefixListId, RuleId, SecurityGroupId};
use crate::model::{SecurityGroup, SecurityGroupType};
use crate::rules::{Direction, Family, Peer, Rule, RulePolicy, RuleSpec};
use crate::store::Tx;
use crate::AddressFamily;

/// The group a rule operation works on, and the direction of the rules concerned.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub account_id: &'a AccountId,
    pub region_id: &'a str,
    pub group_id: &'a SecurityGroupId,
    pub direction: Direction,
}

/// Another group whose rules name a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    pub group_id: String,
    pub account_id: String,
}

/// At most this many permissions (or rule ids) in one request.
pub const MAX_PERMISSIONS_PER_REQUEST: usize = 100;

/// At most this many groups in one `DescribeSecurityGroupReferences`.
pub const MAX_REFERENCE_QUERIES: usize = 10;

fn new_rule_id() -> String {
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..20)
        .map(|_| ALNUM[rng.gen_range(0..ALNUM.len())] as char)
        .collect();
    format!("sgr-{tail}")
}

/// Parses every draft and refuses two that state the same rule.
fn parse_all(drafts: &[RuleDraft], direction: Direction) -> Result<Vec<RuleSpec>, DomainError> {
    if drafts.len() > MAX_PERMISSIONS_PER_REQUEST {
        return Err(DomainError::TooManyPermissions(MAX_PERMISSIONS_PER_REQUEST));
    }
    let specs = drafts
        .iter()
        .map(|d| d.parse(direction))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, spec) in specs.iter().enumerate() {
        if specs[..i].iter().any(|other| other.same_rule(spec)) {
            return Err(DomainError::DuplicatePermissions);
        }
    }
    Ok(specs)
}

/// Checks a rule's peer against stored state and the group's type; returns the rule with a
/// group owner equal to the caller's own account written as empty (one spelling, one identity).
fn check_peer(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    group: &SecurityGroup,
    mut spec: RuleSpec,
) -> Result<RuleSpec, DomainError> {
    let enterprise = group.group_type == SecurityGroupType::Enterprise;
    if enterprise && (spec.policy == RulePolicy::Drop || matches!(spec.peer, Peer::Group { .. })) {
        return Err(DomainError::EnterpriseRuleDenied);
    }
    match &mut spec.peer {
        Peer::Cidr(_) => {}
        Peer::Group {
            group_id,
            owner_account,
        } => {
            if owner_account == account_id {
                owner_account.clear();
            }
            let owner = if owner_account.is_empty() {
                account_id.clone()
            } else {
                AccountId::from(owner_account.as_str())
            };
            let peer = tx
                .security_group(&owner, &SecurityGroupId::from(group_id.as_str()))?
                .filter(|g| g.region_id == group.region_id)
                .ok_or_else(|| DomainError::PeerGroupNotFound(spec.direction, group_id.clone()))?;
            if peer.group_type == SecurityGroupType::Enterprise {
                return Err(DomainError::AuthorizeEnterpriseGroup);
            }
            // VPC ids are per account, so only a same-account reference can be compared.
            if owner == *account_id && peer.vpc_id != group.vpc_id {
                return Err(DomainError::PeerGroupVpcMismatch(spec.direction));
            }
        }
        Peer::PrefixList(id) => {
            let list = tx
                .prefix_list(account_id, &PrefixListId::from(id.as_str()))?
                .filter(|l| l.region_id == group.region_id)
                .ok_or_else(|| DomainError::PrefixListNotFound(id.clone()))?;
            let family = match list.address_family {
                AddressFamily::IPv4 => Family::V4,
                AddressFamily::IPv6 => Family::V6,
            };
            let clash = spec.protocol.family().is_some_and(|f| f != family)
                || spec
                    .local_cidr
                    .as_ref()
                    .is_some_and(|c| c.family() != family);
            if clash {
                return Err(DomainError::PrefixListFamilyMismatch);
            }
        }
    }
    Ok(spec)
}

fn is_group_rule(spec: &RuleSpec) -> bool {
    matches!(spec.peer, Peer::Group { .. })
}

/// `AuthorizeSecurityGroup(Egress)`: adds the rules that do not exist yet; an existing one
/// is a success that adds nothing. Quotas are checked inside the transaction.
pub fn authorize(
    tx: &mut dyn Tx,
    target: &Target<'_>,
    drafts: &[RuleDraft],
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let Target {
        account_id,
        region_id,
        group_id,
        direction,
    } = *target;
    let specs = parse_all(drafts, direction)?;
    let group = security_groups::get(tx, account_id, region_id, group_id)?;
    let existing = tx.rules(account_id, group_id)?;
    let mut fresh = Vec::new();
    for spec in specs {
        let spec = check_peer(tx, account_id, &group, spec)?;
        if !existing.iter().any(|r| r.spec.same_rule(&spec)) {
            fresh.push(spec);
        }
    }
    if existing.len() + fresh.len() > limits.rules_per_group {
        return Err(DomainError::RuleQuotaExceeded);
    }
    let group_rules = existing.iter().filter(|r| is_group_rule(&r.spec)).count()
        + fresh.iter().filter(|s| is_group_rule(s)).count();
    if fresh.iter().any(is_group_rule) && group_rules > limits.group_rules_per_group {
        return Err(DomainError::GroupRuleQuotaExceeded);
    }
    let create_time = now.trunc_subsecs(0);
    for spec in fresh {
        let rule = Rule {
            id: new_rule_id(),
            security_group_id: group.id.clone(),
            spec,
            create_time,
        };
        tx.insert_rule(account_id, &rule)?;
    }
    Ok(())
}

/// `Revoke…` by `SecurityGroupRuleId.N`: every id must be a rule of this group and direction.
pub fn revoke_by_ids(
    tx: &mut dyn Tx,
    target: &Target<'_>,
    ids: &[RuleId],
) -> Result<(), DomainError> {
    let Target {
        account_id,
        region_id,
        group_id,
        direction,
    } = *target;
    if ids.len() > MAX_PERMISSIONS_PER_REQUEST {
        return Err(DomainError::TooManyPermissions(MAX_PERMISSIONS_PER_REQUEST));
    }
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err(DomainError::RuleIdRepeated);
        }
    }
    security_groups::get(tx, account_id, region_id, group_id)?;
    let rules = tx.rules(account_id, group_id)?;
    for id in ids {
        if !rules
            .iter()
            .any(|r| r.id == *id && r.spec.direction == direction)
        {
            return Err(DomainError::RuleIdNotFound(direction, id.to_string()));
        }
    }
    tx.delete_rules(account_id, group_id, ids)?;
    Ok(())
}

/// `Revoke…` by parameters: removes the rules these drafts identify (descriptions ignored);
/// no match is a success.
pub fn revoke_matching(
    tx: &mut dyn Tx,
    target: &Target<'_>,
    drafts: &[RuleDraft],
) -> Result<(), DomainError> {
    let Target {
        account_id,
        region_id,
        group_id,
        direction,
    } = *target;
    let specs = parse_all(drafts, direction)?;
    security_groups::get(tx, account_id, region_id, group_id)?;
    let doomed: Vec<RuleId> = tx
        .rules(account_id, group_id)?
        .into_iter()
        .filter(|r| {
            specs
                .iter()
                .any(|s| normalised(account_id, s).same_rule(&r.spec))
        })
        .map(|r| RuleId::from(r.id))
        .collect();
    if !doomed.is_empty() {
        tx.delete_rules(account_id, group_id, &doomed)?;
    }
    Ok(())
}

/// A caller naming its own account as a group's owner means the same as naming none.
fn normalised(account_id: &AccountId, spec: &RuleSpec) -> RuleSpec {
    let mut spec = spec.clone();
    if let Peer::Group { owner_account, .. } = &mut spec.peer {
        if owner_account == account_id {
            owner_account.clear();
        }
    }
    spec
}

/// `Modify…Rule` by parameters (Terraform's mode): the fields identify one rule and only its
/// description changes. Sending it twice is harmless.
pub fn modify_matching(
    tx: &mut dyn Tx,
    target: &Target<'_>,
    draft: &RuleDraft,
) -> Result<(), DomainError> {
    let Target {
        account_id,
        region_id,
        group_id,
        direction,
    } = *target;
    let spec = normalised(account_id, &draft.parse(direction)?);
    security_groups::get(tx, account_id, region_id, group_id)?;
    let mut rule = tx
        .rules(account_id, group_id)?
        .into_iter()
        .find(|r| r.spec.same_rule(&spec))
        .ok_or(DomainError::RuleNotFoundByParams(direction))?;
    if draft.description.is_some() && rule.spec.description != spec.description {
        rule.spec.description = spec.description;
        tx.update_rule(account_id, &rule)?;
    }
    Ok(())
}

/// `Modify…Rule` by `SecurityGroupRuleId`: the given fields are the new values. The peer's
/// kind and the NicType cannot change, a set field cannot be emptied, and the result may
/// not duplicate another rule.
pub fn modify_by_id(
    tx: &mut dyn Tx,
    target: &Target<'_>,
    rule_id: &RuleId,
    changes: &RuleDraft,
) -> Result<(), DomainError> {
    let Target {
        account_id,
        region_id,
        group_id,
        direction,
    } = *target;
    let group = security_groups::get(tx, account_id, region_id, group_id)?;
    let rules = tx.rules(account_id, group_id)?;
    let mut rule = rules
        .iter()
        .find(|r| r.id == *rule_id && r.spec.direction == direction)
        .cloned()
        .ok_or_else(|| DomainError::RuleIdNotFound(direction, rule_id.to_string()))?;
    if changes
        .nic_type
        .as_deref()
        .is_some_and(|n| !n.is_empty() && n != "intranet")
    {
        return Err(DomainError::ModifyNicType);
    }
    if changes
        .named_peer_kinds(direction)
        .iter()
        .any(|kind| *kind != rule.spec.peer.kind())
    {
        return Err(DomainError::ModifyChangesPeerType);
    }
    let merged = overlay(&draft_of(&rule.spec), changes)?;
    let spec = check_peer(tx, account_id, &group, merged.parse(direction)?)?;
    if rules
        .iter()
        .any(|r| r.id != rule.id && r.spec.same_rule(&spec))
    {
        return Err(DomainError::RuleDuplicate);
    }
    rule.spec = spec;
    tx.update_rule(account_id, &rule)?;
    Ok(())
}

/// The stored rule's fields with the request's given ones on top. Giving an empty value for
/// a field the rule has set is refused (the description alone may be cleared).
fn overlay(base: &RuleDraft, changes: &RuleDraft) -> Result<RuleDraft, DomainError> {
    let mut out = base.clone();
    macro_rules! fields {
        ($($f:ident),*) => {$(
            match changes.$f.as_deref() {
                None => {}
                Some("") if base.$f.as_deref().is_some_and(|v| !v.is_empty()) => return Err(DomainError::ModifyRequestInvalid),
                Some("") => {}
                Some(v) => out.$f = Some(v.to_string()),
            }
        )*};
    }
    fields!(
        ip_protocol,
        port_range,
        port_range_list_id,
        source_port_range,
        policy,
        priority,
        source_cidr_ip,
        ipv6_source_cidr_ip,
        dest_cidr_ip,
        ipv6_dest_cidr_ip,
        source_group_id,
        source_group_owner_account,
        source_group_owner_id,
        dest_group_id,
        dest_group_owner_account,
        dest_group_owner_id,
        source_prefix_list_id,
        dest_prefix_list_id
    );
    if let Some(d) = &changes.description {
        out.description = Some(d.clone());
    }
    Ok(out)
}

/// A rule with the names of the group or prefix list it refers to.
#[derive(Debug, Clone)]
pub struct RuleView {
    pub rule: Rule,
    pub peer_name: String,
}

/// The group and its rules, oldest first, with peer names resolved.
pub fn list(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    group_id: &SecurityGroupId,
) -> Result<(SecurityGroup, Vec<RuleView>), DomainError> {
    let group = security_groups::get(tx, account_id, region_id, group_id)?;
    let mut views = Vec::new();
    for rule in tx.rules(account_id, group_id)? {
        let peer_name = match &rule.spec.peer {
            Peer::Cidr(_) => String::new(),
            Peer::Group {
                group_id,
                owner_account,
            } => {
                let owner = if owner_account.is_empty() {
                    account_id.clone()
                } else {
                    AccountId::from(owner_account.as_str())
                };
                tx.security_group(&owner, &SecurityGroupId::from(group_id))?
                    .map(|g| g.name)
                    .unwrap_or_default()
            }
            Peer::PrefixList(id) => tx
                .prefix_list(account_id, &PrefixListId::from(id))?
                .map(|l| l.name)
                .unwrap_or_default(),
        };
        views.push(RuleView { rule, peer_name });
    }
    Ok((group, views))
}

/// For each group: the other groups (any account) whose rules name it, as (group id, account id).
pub fn references(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    group_ids: &[SecurityGroupId],
) -> Result<Vec<(String, Vec<Referrer>)>, DomainError> {
    if group_ids.is_empty() || group_ids.len() > MAX_REFERENCE_QUERIES {
        return Err(DomainError::TooManySecurityGroupIds(MAX_REFERENCE_QUERIES));
    }
    let mut out = Vec::new();
    for id in group_ids {
        security_groups::get(tx, account_id, region_id, id)?;
        let referrers = tx
            .groups_referencing_group(id)?
            .into_iter()
            .filter(|(group, _)| group != id)
            .map(|(group_id, account_id)| Referrer {
                group_id: group_id.into_string(),
                account_id: account_id.into_string(),
            })
            .collect();
        out.push((id.to_string(), referrers));
    }
    Ok(out)
}
