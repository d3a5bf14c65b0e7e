//! Rule handlers (docs/ecs.md §3.7–§3.13): authorize, revoke and modify in both directions, and
//! DescribeSecurityGroupReferences. Decode, call the domain, render.

use std::collections::BTreeMap;

use chrono::Utc;
use secgroup_domain::ops::idempotency;
use secgroup_domain::ops::rule_draft::RuleDraft;
use secgroup_domain::ops::rules as ops;
use secgroup_domain::rules::{Direction, Family, Peer, PortRange, Rule, RuleSpec};
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::{CallContext, Node, ParamCursor, Params, RpcError};

use crate::decode;
use crate::errors::from_domain;
use crate::security_groups::client_token;
use crate::Ecs;

/// The rule fields, by wire name, as they appear flat or under `Permissions.N.`.
const RULE_FIELDS: &[&str] = &[
    "IpProtocol",
    "PortRange",
    "PortRangeListId",
    "SourcePortRange",
    "Policy",
    "Priority",
    "NicType",
    "SourceCidrIp",
    "Ipv6SourceCidrIp",
    "DestCidrIp",
    "Ipv6DestCidrIp",
    "SourceGroupId",
    "SourceGroupOwnerAccount",
    "SourceGroupOwnerId",
    "DestGroupId",
    "DestGroupOwnerAccount",
    "DestGroupOwnerId",
    "SourcePrefixListId",
    "DestPrefixListId",
    "Description",
];

/// A draft from a field lookup (values as sent; empty strings kept).
fn draft(get: impl Fn(&str) -> Option<String>) -> RuleDraft {
    RuleDraft {
        ip_protocol: get("IpProtocol"),
        port_range: get("PortRange"),
        port_range_list_id: get("PortRangeListId"),
        source_port_range: get("SourcePortRange"),
        policy: get("Policy"),
        priority: get("Priority"),
        nic_type: get("NicType"),
        source_cidr_ip: get("SourceCidrIp"),
        ipv6_source_cidr_ip: get("Ipv6SourceCidrIp"),
        dest_cidr_ip: get("DestCidrIp"),
        ipv6_dest_cidr_ip: get("Ipv6DestCidrIp"),
        source_group_id: get("SourceGroupId"),
        source_group_owner_account: get("SourceGroupOwnerAccount"),
        source_group_owner_id: get("SourceGroupOwnerId"),
        dest_group_id: get("DestGroupId"),
        dest_group_owner_account: get("DestGroupOwnerAccount"),
        dest_group_owner_id: get("DestGroupOwnerId"),
        source_prefix_list_id: get("SourcePrefixListId"),
        dest_prefix_list_id: get("DestPrefixListId"),
        description: get("Description"),
    }
}

/// The deprecated flat rule parameters, if any is present.
fn flat_draft(p: &mut ParamCursor<'_>) -> Option<RuleDraft> {
    let values: BTreeMap<&str, String> = RULE_FIELDS
        .iter()
        .filter_map(|f| p.optional(f).map(|v| (*f, v.to_string())))
        .collect();
    (!values.is_empty()).then(|| draft(|f| values.get(f).cloned()))
}

/// `Permissions.N.*` drafts, or the one flat draft; never both (`InvalidParam.Permissions`).
fn drafts(p: &mut ParamCursor<'_>) -> Result<Vec<RuleDraft>, RpcError> {
    let listed: Vec<RuleDraft> = p
        .object_list("Permissions")
        .into_iter()
        .map(|(_, fields)| draft(|f| fields.get(f).map(|v| v.to_string())))
        .collect();
    let flat = flat_draft(p);
    match (listed.is_empty(), flat) {
        (false, Some(_)) => Err(from_domain(DomainError::PermissionsWithFlatParams)),
        (false, None) => Ok(listed),
        (true, Some(flat)) => Ok(vec![flat]),
        // Nothing given: parsing the empty draft names the first missing field.
        (true, None) => Ok(vec![RuleDraft::default()]),
    }
}

/// The direction an action works on.
fn direction_of(action: &str) -> Direction {
    if action.contains("Egress") {
        Direction::Egress
    } else {
        Direction::Ingress
    }
}

/// The group named by the request: required, well-formed.
fn group_id(p: &mut ParamCursor<'_>) -> Result<String, RpcError> {
    let id = p.required("SecurityGroupId")?;
    secgroup_domain::validate::security_group_id(id).map_err(|_| {
        RpcError::new(
            400,
            "InvalidSecurityGroupId.Malformed",
            "The specified parameter SecurityGroupId is not valid.",
        )
    })?;
    Ok(id.to_string())
}

fn target<'a>(
    account_id: &'a str,
    region_id: &'a str,
    group_id: &'a str,
    direction: Direction,
) -> ops::Target<'a> {
    ops::Target {
        account_id,
        region_id,
        group_id,
        direction,
    }
}

/// `AuthorizeSecurityGroup` and `AuthorizeSecurityGroupEgress`.
pub async fn authorize<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let direction = direction_of(&ctx.action);
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let group_id = group_id(&mut p)?;
    let drafts = drafts(&mut p)?;
    let token = client_token(ctx, params, p.optional("ClientToken"))?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let limits = ecs.config.limits.clone();
    ecs.write(move |tx| {
        let now = Utc::now();
        idempotency::once(tx, &account, token.as_ref(), now, |tx| {
            let target = target(&account, &region_id, &group_id, direction);
            ops::authorize(tx, &target, &drafts, &limits, now)
        })
    })
    .await?;
    Ok(Node::object().build())
}

/// `RevokeSecurityGroup` and `RevokeSecurityGroupEgress`: by rule ids or by parameters.
pub async fn revoke<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let direction = direction_of(&ctx.action);
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let group_id = group_id(&mut p)?;
    let ids: Vec<String> = p
        .string_list("SecurityGroupRuleId")
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let by_ids = !ids.is_empty();
    let has_rule_fields = p.has_list("Permissions")
        || RULE_FIELDS
            .iter()
            .any(|f| params.get(f).is_some_and(|v| !v.is_empty()));
    if by_ids && has_rule_fields {
        return Err(from_domain(DomainError::RuleIdsWithPermissions));
    }
    let drafts = if by_ids { Vec::new() } else { drafts(&mut p)? };
    // Terraform always sends Description (often empty); it is not part of a rule's identity.
    p.optional("Description");
    let token = client_token(ctx, params, p.optional("ClientToken"))?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    ecs.write(move |tx| {
        idempotency::once(tx, &account, token.as_ref(), Utc::now(), |tx| {
            if by_ids {
                ops::revoke_by_ids(
                    tx,
                    &target(&account, &region_id, &group_id, direction),
                    &ids,
                )
            } else {
                ops::revoke_matching(
                    tx,
                    &target(&account, &region_id, &group_id, direction),
                    &drafts,
                )
            }
        })
    })
    .await?;
    Ok(Node::object().build())
}

/// `ModifySecurityGroupRule` and `ModifySecurityGroupEgressRule`: by id, or by parameters.
pub async fn modify<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let direction = direction_of(&ctx.action);
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let group_id = group_id(&mut p)?;
    let rule_id = p.non_empty("SecurityGroupRuleId").map(str::to_string);
    let changes = flat_draft(&mut p).unwrap_or_default();
    let token = client_token(ctx, params, p.optional("ClientToken"))?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    ecs.write(move |tx| {
        idempotency::once(
            tx,
            &account,
            token.as_ref(),
            Utc::now(),
            |tx| match &rule_id {
                Some(id) => ops::modify_by_id(
                    tx,
                    &target(&account, &region_id, &group_id, direction),
                    id,
                    &changes,
                ),
                None => ops::modify_matching(
                    tx,
                    &target(&account, &region_id, &group_id, direction),
                    &changes,
                ),
            },
        )
    })
    .await?;
    Ok(Node::object().build())
}

/// `DescribeSecurityGroupReferences`.
pub async fn describe_references<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let ids: Vec<String> = p
        .string_list("SecurityGroupId")
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let found = ecs
        .read(move |tx| ops::references(tx, &account, &region_id, &ids))
        .await
        .map_err(|e| match e.code.as_ref() {
            // This operation words its not-found answer its own way.
            "InvalidSecurityGroupId.NotFound" => RpcError::new(
                404,
                "InvalidSecurityGroupId.NotFound",
                "The SecurityGroupId provided does not exist in our records.",
            ),
            _ => e,
        })?;
    let references = found.into_iter().map(|(id, referrers)| {
        let referrers = referrers.into_iter().map(|r| {
            Node::object()
                .str("SecurityGroupId", r.group_id)
                .str("AliUid", r.account_id)
                .build()
        });
        Node::object()
            .str("SecurityGroupId", id)
            .field(
                "ReferencingSecurityGroups",
                Node::list("ReferencingSecurityGroup", referrers),
            )
            .build()
    });
    Ok(Node::object()
        .field(
            "SecurityGroupReferences",
            Node::list("SecurityGroupReference", references),
        )
        .build())
}

/// The fields of one side (source or destination) of a rendered rule; unset ones are `""`.
#[derive(Default)]
struct SideFields<'a> {
    cidr: &'a str,
    ipv6: &'a str,
    group_id: &'a str,
    group_name: &'a str,
    group_owner: &'a str,
    prefix_list_id: &'a str,
    prefix_list_name: &'a str,
}

/// One entry of `Permissions.Permission`: ingress rules fill `Source*`, egress rules
/// `Dest*`; the other side only for quintuple rules. Unset strings are `""`. Takes the view
/// by value so the id and description move into the node rather than being copied (a
/// 1,000-rule group renders 1,000 of these per request).
pub fn permission(view: ops::RuleView) -> Node {
    let ops::RuleView { rule, peer_name } = view;
    let Rule {
        id,
        spec,
        create_time,
        ..
    } = rule;
    let RuleSpec {
        direction,
        protocol,
        port_range,
        source_port_range,
        policy,
        priority,
        peer,
        local_cidr,
        description,
    } = spec;
    let mut peer_side = SideFields::default();
    match &peer {
        Peer::Cidr(c) if c.family() == Family::V4 => peer_side.cidr = c.as_str(),
        Peer::Cidr(c) => peer_side.ipv6 = c.as_str(),
        Peer::Group {
            group_id,
            owner_account,
        } => {
            peer_side.group_id = group_id;
            peer_side.group_name = &peer_name;
            peer_side.group_owner = owner_account;
        }
        Peer::PrefixList(id) => {
            peer_side.prefix_list_id = id;
            peer_side.prefix_list_name = &peer_name;
        }
    }
    let mut local = SideFields::default();
    match &local_cidr {
        Some(c) if c.family() == Family::V4 => local.cidr = c.as_str(),
        Some(c) => local.ipv6 = c.as_str(),
        None => {}
    }
    let (source, dest) = match direction {
        Direction::Ingress => (peer_side, local),
        Direction::Egress => (local, peer_side),
    };
    Node::object_with_capacity(27)
        .str("SecurityGroupRuleId", id)
        .static_str("Direction", direction.as_str())
        .static_str("Policy", policy.as_str())
        .field("Priority", small_number(priority))
        .static_str("IpProtocol", protocol.as_str())
        .field("PortRange", port_range_text(port_range))
        .field(
            "SourcePortRange",
            source_port_range.map_or(Node::Static(""), port_range_text),
        )
        .static_str("NicType", "intranet")
        .field("SourceCidrIp", text(source.cidr))
        .field("Ipv6SourceCidrIp", text(source.ipv6))
        .field("DestCidrIp", text(dest.cidr))
        .field("Ipv6DestCidrIp", text(dest.ipv6))
        .field("SourceGroupId", text(source.group_id))
        .field("SourceGroupName", text(source.group_name))
        .field("SourceGroupOwnerAccount", text(source.group_owner))
        .field("DestGroupId", text(dest.group_id))
        .field("DestGroupName", text(dest.group_name))
        .field("DestGroupOwnerAccount", text(dest.group_owner))
        .field("SourcePrefixListId", text(source.prefix_list_id))
        .field("SourcePrefixListName", text(source.prefix_list_name))
        .field("DestPrefixListId", text(dest.prefix_list_id))
        .field("DestPrefixListName", text(dest.prefix_list_name))
        .static_str("PortRangeListId", "")
        .static_str("PortRangeListName", "")
        .str("Description", description)
        .str("CreateTime", crate::render::time(&create_time))
        .build()
}

/// A string field; the empty one (most of a permission's fields) without a `String`.
fn text(s: &str) -> Node {
    if s.is_empty() {
        Node::Static("")
    } else {
        Node::str(s)
    }
}

/// `00`, `01` … `99`: the decimal text of the numbers below 100, two digits each.
const TWO_DIGITS: &str = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// The decimal text of a priority (1 to 100), without formatting or allocating.
fn small_number(n: u8) -> Node {
    let i = usize::from(n);
    match n {
        0..=9 => TWO_DIGITS.get(2 * i + 1..2 * i + 2),
        10..=99 => TWO_DIGITS.get(2 * i..2 * i + 2),
        100 => Some("100"),
        _ => None,
    }
    .map_or_else(|| Node::str(n.to_string()), Node::Static)
}

/// `from/to`, written without the formatting machinery (about 1,000 instructions a call).
fn port_range_text(range: PortRange) -> Node {
    if range.is_any() {
        return Node::Static("-1/-1");
    }
    let mut out = String::with_capacity(11);
    push_int(&mut out, range.from);
    out.push('/');
    push_int(&mut out, range.to);
    Node::Str(out)
}

fn push_int(out: &mut String, n: i32) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 10];
    let mut left = n.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (left % 10) as u8;
        left /= 10;
        if left == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}
