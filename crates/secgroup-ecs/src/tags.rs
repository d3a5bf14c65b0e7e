//! `TagResources`, `UntagResources`, `ListTagResources` (docs/ecs.md §4).

use secgroup_domain::ops::tags::{self as ops, Untag};
use secgroup_domain::{DomainError, ResourceType, Store};
use secgroup_rpc::{CallContext, Node, ParamCursor, Params, RpcError};

use crate::decode::{self, next_token};
use crate::errors::{from_domain, tag_missing};
use crate::Ecs;

/// Page size of `ListTagResources` (server-chosen).
const TAG_PAGE: usize = 50;

fn resource_type(p: &mut ParamCursor<'_>) -> Result<ResourceType, RpcError> {
    let rt = p
        .non_empty("ResourceType")
        .ok_or_else(|| tag_missing("ResourceType"))?;
    ResourceType::parse(rt).ok_or_else(|| {
        RpcError::new(
            404,
            "InvalidResourceType.NotFound",
            "The ResourceType provided does not exist in our records.",
        )
    })
}

fn resource_ids(p: &mut ParamCursor<'_>) -> Vec<String> {
    p.string_list("ResourceId")
        .into_iter()
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn tag_resources<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let rt = resource_type(&mut p)?;
    let ids = resource_ids(&mut p);
    if ids.is_empty() {
        return Err(tag_missing("ResourceIds"));
    }
    let tags = decode::tags(&mut p)?;
    if tags.is_empty() {
        return Err(tag_missing("Tags"));
    }
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    ecs.write(move |tx| ops::tag(tx, &account, &region_id, rt, &ids, &tags))
        .await?;
    Ok(Node::object().build())
}

pub async fn untag_resources<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let rt = resource_type(&mut p)?;
    let ids = resource_ids(&mut p);
    if ids.is_empty() {
        return Err(tag_missing("ResourceIds"));
    }
    let keys: Vec<String> = p
        .string_list("TagKey")
        .into_iter()
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    let all = decode::bool(&mut p, "All")?.unwrap_or(false);
    // `All` applies only when no key is named.
    let which = match (keys.is_empty(), all) {
        (false, _) => Untag::Keys(keys),
        (true, true) => Untag::All,
        (true, false) => return Err(tag_missing("TagKeys")),
    };
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    ecs.write(move |tx| ops::untag(tx, &account, &region_id, rt, &ids, &which))
        .await?;
    Ok(Node::object().build())
}

pub async fn list_tag_resources<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let rt = resource_type(&mut p)?;
    let ids = resource_ids(&mut p);
    let mut filters = decode::tag_filters(&mut p, || {
        RpcError::new(
            400,
            "InvalidParameter.TagValue",
            "The specified parameter Tag.n.Value is not valid without Tag.n.Key.",
        )
    })?;
    // TagFilter.N.TagKey with TagFilter.N.TagValues.M: the key must be present; values, if any, are alternatives.
    let mut alternatives: Vec<(String, Vec<String>)> = Vec::new();
    for (_, fields) in p.object_list("TagFilter") {
        let Some(key) = fields.get("TagKey").filter(|k| !k.is_empty()) else {
            continue;
        };
        let values = fields
            .iter()
            .filter(|(f, v)| f.starts_with("TagValues.") && !v.is_empty())
            .map(|(_, v)| v.to_string())
            .collect();
        alternatives.push((key.to_string(), values));
    }
    if filters.len() + alternatives.len() > secgroup_domain::validate::MAX_TAGS_PER_REQUEST {
        return Err(from_domain(DomainError::TooManyTags(
            secgroup_domain::validate::MAX_TAGS_PER_REQUEST,
        )));
    }
    if ids.is_empty() && filters.is_empty() && alternatives.is_empty() {
        return Err(tag_missing("ResourceIds"));
    }
    let offset = match p.non_empty("NextToken") {
        None => 0,
        Some(t) => next_token::decode(t).ok_or_else(|| {
            RpcError::new(
                400,
                "InvalidNextToken.Malformed",
                "The specified NextToken is not valid.",
            )
        })?,
    };
    ctx.note_unread(&p);
    // Keys of the fuzzy filters must exist; their values are checked below.
    filters.extend(alternatives.iter().map(|(k, _)| (k.clone(), None)));
    let account = ctx.account_id.clone();
    let pairs = ecs
        .read(move |tx| ops::list(tx, &account, &region_id, rt, &ids, &filters))
        .await?;
    let pairs: Vec<_> = pairs
        .into_iter()
        .filter(|pair| {
            alternatives.iter().all(|(key, values)| {
                pair.tag.key != *key || values.is_empty() || values.contains(&pair.tag.value)
            })
        })
        .collect();
    let page: Vec<_> = pairs.iter().skip(offset).take(TAG_PAGE).collect();
    let end = offset + page.len();
    let token = if end < pairs.len() {
        next_token::encode(end)
    } else {
        String::new()
    };
    let items = page.into_iter().map(|pair| {
        Node::object()
            .str("ResourceId", &pair.resource_id)
            .str("ResourceType", rt.as_str())
            .str("TagKey", &pair.tag.key)
            .str("TagValue", &pair.tag.value)
            .build()
    });
    Ok(Node::object()
        .str("NextToken", token)
        .field("TagResources", Node::list("TagResource", items))
        .build())
}
