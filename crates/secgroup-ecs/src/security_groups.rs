//! Security-group lifecycle handlers (docs/ecs.md §3.1–§3.6): decode, call the domain, render.

use chrono::Utc;
use secgroup_domain::ops::idempotency::{self, ClientToken};
use secgroup_domain::ops::rules as rule_ops;
use secgroup_domain::ops::security_groups::{self as ops, GroupFilter, NewSecurityGroup};
use secgroup_domain::rules::Direction;
use secgroup_domain::{validate, DomainError, InnerAccessPolicy, SecurityGroupType, Store};
use secgroup_rpc::{CallContext, Node, Params, RpcError};

use crate::decode::{self, next_token};
use crate::errors::{dry_run_passed, from_domain, invalid};
use crate::{render, Ecs};

/// The `ClientToken` of a request, fingerprinted with its action and business parameters.
pub(crate) fn client_token(
    ctx: &CallContext,
    params: &Params,
    token: Option<&str>,
) -> Result<Option<ClientToken>, RpcError> {
    token
        .map(|t| ClientToken::new(t, params.iter().chain([("Action", ctx.action.as_str())])))
        .transpose()
        .map_err(from_domain)
}

pub async fn create<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let group_type = match p.non_empty("SecurityGroupType") {
        None => SecurityGroupType::Normal,
        Some(t) => SecurityGroupType::parse(t)
            .ok_or_else(|| from_domain(DomainError::SecurityGroupTypeInvalid))?,
    };
    let new = NewSecurityGroup {
        region_id,
        name: p.optional("SecurityGroupName").unwrap_or("").to_string(),
        description: p.optional("Description").unwrap_or("").to_string(),
        group_type,
        vpc_id: p.optional("VpcId").unwrap_or("").to_string(),
        resource_group_id: p.optional("ResourceGroupId").unwrap_or("").to_string(),
        tags: decode::tags(&mut p)?,
    };
    // "Not publicly available": accepted so that SDK models that send it still work.
    decode::bool(&mut p, "ServiceManaged")?;
    let token = client_token(ctx, params, p.optional("ClientToken"))?;
    ctx.note_unread(&p);

    let account = ctx.account_id.clone();
    let limits = ecs.config.limits.clone();
    let created = ecs
        .write(move |tx| {
            let now = Utc::now();
            idempotency::once(tx, &account, token.as_ref(), now, |tx| {
                ops::create(tx, &account, &new, &limits, now)
            })
        })
        .await?;
    Ok(Node::object()
        .str("SecurityGroupId", created.security_group_id)
        .build())
}

pub async fn delete<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let id = p.required("SecurityGroupId")?.to_string();
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    ecs.write(move |tx| ops::delete(tx, &account, &region_id, &id))
        .await?;
    Ok(Node::object().build())
}

pub async fn modify_attribute<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let id = p.required("SecurityGroupId")?.to_string();
    let name = p.optional("SecurityGroupName").map(str::to_string);
    let description = p.optional("Description").map(str::to_string);
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    ecs.write(move |tx| {
        ops::modify_attribute(
            tx,
            &account,
            &region_id,
            &id,
            name.as_deref(),
            description.as_deref(),
        )
    })
    .await?;
    Ok(Node::object().build())
}

pub async fn modify_policy<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let id = p.required("SecurityGroupId")?.to_string();
    let policy = p.required("InnerAccessPolicy")?;
    validate::security_group_id(&id).map_err(from_domain)?;
    let policy = InnerAccessPolicy::parse(policy)
        .ok_or_else(|| from_domain(DomainError::PolicyMalformed))?;
    let token = client_token(ctx, params, p.optional("ClientToken"))?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    ecs.write(move |tx| {
        idempotency::once(tx, &account, token.as_ref(), Utc::now(), |tx| {
            ops::modify_inner_access_policy(tx, &account, &region_id, &id, policy)
        })
    })
    .await?;
    Ok(Node::object().build())
}

pub async fn describe_attribute<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let invalid_parameter = || RpcError::new(400, "InvalidParamter", "Invalid Parameter.");
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let id = p.required("SecurityGroupId")?.to_string();
    validate::security_group_id(&id).map_err(|_| {
        RpcError::new(
            400,
            "InvalidSecurityGroupId.Malformed",
            "The specified parameter \"SecurityGroupId\" is not valid.",
        )
    })?;
    // `None`: both directions.
    let direction = match p.non_empty("Direction") {
        None | Some("all") => None,
        Some(d) => Some(Direction::parse(d).ok_or_else(invalid_parameter)?),
    };
    if let Some(nic) = p.non_empty("NicType") {
        if !["internet", "intranet"].contains(&nic) {
            return Err(RpcError::new(
                400,
                "InvalidNicType.ValueNotSupported",
                "The specified NicType does not exist.",
            ));
        }
    }
    let max_results =
        decode::int_in(&mut p, "MaxResults", 10..=1000, invalid_parameter)?.unwrap_or(500) as usize;
    let offset = match p.non_empty("NextToken") {
        None => 0,
        Some(token) => next_token::decode(token).ok_or_else(invalid_parameter)?,
    };
    let with_snapshot_policies = match p.non_empty("Attribute") {
        None => false,
        Some("snapshotPolicyIds") => true,
        Some(_) => {
            return Err(RpcError::new(
                400,
                "InvalidParameter.AttributeNotSupported",
                "The specified value for parameter Attribute is not supported. Valid values: snapshotPolicyIds.",
            ))
        }
    };
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let (group, rules) = ecs
        .read(move |tx| rule_ops::list(tx, &account, &region_id, &id))
        .await?;
    // VPC groups hold only intranet rules, so the NicType filter keeps them all.
    let rules: Vec<_> = rules
        .into_iter()
        .filter(|v| direction.is_none_or(|d| v.rule.spec.direction == d))
        .collect();
    let total = rules.len();
    let page: Vec<Node> = rules
        .into_iter()
        .skip(offset)
        .take(max_results)
        .map(crate::rules::permission)
        .collect();
    let end = offset + page.len();
    let token = if end < total {
        next_token::encode(end)
    } else {
        String::new()
    };
    let mut node = Node::object()
        .str("RegionId", &group.region_id)
        .str("SecurityGroupId", &group.id)
        .str("SecurityGroupName", &group.name)
        .str("Description", &group.description)
        .str("VpcId", &group.vpc_id)
        .str("InnerAccessPolicy", group.inner_access_policy.as_str())
        .str("NextToken", token)
        .field("Permissions", Node::list("Permission", page));
    if with_snapshot_policies {
        node = node.field("SnapshotPolicyIds", Node::list("SnapshotPolicyId", []));
    }
    Ok(node.build())
}

/// How `DescribeSecurityGroups` pages: by page number, or by token once `MaxResults`/`NextToken` appear.
enum Paging {
    Pages { number: usize, size: usize },
    Tokens { offset: usize, max: usize },
}

pub async fn describe<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let malformed_id = || {
        RpcError::new(
            400,
            "InvalidSecurityGroupId.Malformed",
            "The specified parameter SecurityGroupId is not valid.",
        )
    };
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let mut filter = GroupFilter::default();
    if let Some(id) = p.non_empty("SecurityGroupId") {
        validate::security_group_id(id).map_err(|_| malformed_id())?;
        filter.id_sets.push(vec![id.to_string()]);
    }
    if let Some(ids) = p.non_empty("SecurityGroupIds") {
        let ids: Vec<String> = serde_json::from_str(ids).map_err(|_| malformed_id())?;
        if ids.len() > 100
            || ids
                .iter()
                .any(|id| validate::security_group_id(id).is_err())
        {
            return Err(malformed_id());
        }
        filter.id_sets.push(ids);
    }
    filter.vpc_id = p.non_empty("VpcId").map(str::to_string);
    filter.fuzzy_name = decode::bool(&mut p, "FuzzyQuery")?.unwrap_or(false);
    if let Some(name) = p.non_empty("SecurityGroupName") {
        if !filter.fuzzy_name && name.chars().count() > 128 {
            return Err(RpcError::new(
                400,
                "InvalidSecurityGroupName.Malformed",
                "The specified parameter SecurityGroupName is not valid.",
            ));
        }
        filter.name = Some(name.to_string());
    }
    if let Some(t) = p.non_empty("SecurityGroupType") {
        filter.group_type = Some(SecurityGroupType::parse(t).ok_or_else(|| {
            RpcError::new(
                400,
                "InvalidParameter.SecurityGroupType",
                "The specified SecurityGroupType is not valid.",
            )
        })?);
    }
    filter.in_vpc = match p.non_empty("NetworkType") {
        None => None,
        Some("vpc") => Some(true),
        Some("classic") => Some(false),
        Some(_) => return Err(invalid("NetworkType")),
    };
    filter.resource_group_id = p.non_empty("ResourceGroupId").map(str::to_string);
    filter.tags = decode::tag_filters(&mut p, || from_domain(DomainError::TagKeyMalformed))?;
    if filter.tags.len() > validate::MAX_TAGS_PER_REQUEST {
        return Err(from_domain(DomainError::TooManyTags(
            validate::MAX_TAGS_PER_REQUEST,
        )));
    }
    let with_ecs_count = decode::bool(&mut p, "IsQueryEcsCount")?.unwrap_or(false);
    decode::bool(&mut p, "ServiceManaged")?;
    let max_results = decode::int_in(&mut p, "MaxResults", 1..=100, || invalid("MaxResults"))?;
    let next = p.non_empty("NextToken");
    let paging = if max_results.is_some() || next.is_some() {
        let offset = match next {
            None => 0,
            Some(t) => next_token::decode(t).ok_or_else(|| {
                RpcError::new(
                    400,
                    "InValidParameter.NextToken",
                    "The parameter NextToken is invalid.",
                )
            })?,
        };
        Paging::Tokens {
            offset,
            max: max_results.unwrap_or(10) as usize,
        }
    } else {
        let number = decode::int_in(&mut p, "PageNumber", 1..=i64::from(u32::MAX), || {
            invalid("PageNumber")
        })?
        .unwrap_or(1);
        let size =
            decode::int_in(&mut p, "PageSize", 1..=50, || invalid("PageSize"))?.unwrap_or(10);
        Paging::Pages {
            number: number as usize,
            size: size as usize,
        }
    };
    let dry_run = decode::bool(&mut p, "DryRun")?.unwrap_or(false);
    ctx.note_unread(&p);
    if dry_run {
        return Err(dry_run_passed());
    }

    let account = ctx.account_id.clone();
    let region = region_id.clone();
    let limits = ecs.config.limits.clone();
    let views = ecs
        .read(move |tx| {
            let mut views = ops::list(tx, &account, &region, &filter)?;
            if with_ecs_count {
                ops::count_members(tx, &account, &region, &mut views, &limits)?;
            }
            Ok(views)
        })
        .await?;
    let total = views.len();
    let node = Node::object().str("RegionId", region_id);
    let (node, page) = match paging {
        Paging::Pages { number, size } => {
            let start = (number - 1).saturating_mul(size);
            let page: Vec<_> = views.iter().skip(start).take(size).collect();
            let node = node
                .int("TotalCount", total as i64)
                .int("PageNumber", number as i64)
                .int("PageSize", size as i64);
            (node, page)
        }
        Paging::Tokens { offset, max } => {
            let page: Vec<_> = views.iter().skip(offset).take(max).collect();
            let end = offset + page.len();
            let token = if end < total {
                next_token::encode(end)
            } else {
                String::new()
            };
            (node.str("NextToken", token), page)
        }
    };
    let groups = page
        .into_iter()
        .map(|view| render::group_summary(view, with_ecs_count));
    Ok(node
        .field("SecurityGroups", Node::list("SecurityGroup", groups))
        .build())
}
