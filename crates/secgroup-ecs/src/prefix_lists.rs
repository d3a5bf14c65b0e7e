//! Prefix-list handlers (docs/ecs.md §6.2–§6.7): decode, call the domain, render.

use chrono::Utc;
use secgroup_domain::ops::idempotency;
use secgroup_domain::ops::prefix_lists::{
    self as ops, NewPrefixList, PrefixListChange, PrefixListFilter, PrefixListView, MAX_ENTRIES,
};
use secgroup_domain::{AddressFamily, DomainError, PrefixListEntry, Store};
use secgroup_rpc::{CallContext, Node, ParamCursor, Params, RpcError};

use crate::decode::{self, next_token};
use crate::errors::{from_domain, invalid, missing};
use crate::security_groups::client_token;
use crate::{render, Ecs};

/// The `ResourceType` of every association: only security-group rules name a list.
const ASSOCIATED_TYPE: &str = "securitygroup";

/// `<prefix>.N.Cidr` with optional `<prefix>.N.Description`, N from 0 or 1, sorted by N.
fn entries(p: &mut ParamCursor<'_>, prefix: &str) -> Result<Vec<PrefixListEntry>, RpcError> {
    p.object_list(prefix)
        .into_iter()
        .map(|(index, fields)| {
            let cidr = fields
                .get("Cidr")
                .filter(|c| !c.is_empty())
                .ok_or_else(|| RpcError::missing_parameter(&format!("{prefix}.{index}.Cidr")))?;
            Ok(PrefixListEntry {
                cidr: cidr.to_string(),
                description: fields.get("Description").copied().unwrap_or("").to_string(),
            })
        })
        .collect()
}

/// `MaxResults` (1–100, default 10) and `NextToken` (offset): the window of one page.
fn paging(p: &mut ParamCursor<'_>) -> Result<(usize, usize), RpcError> {
    let max = decode::int_in(p, "MaxResults", 1..=100, || invalid("MaxResults"))?.unwrap_or(10);
    let offset = match p.non_empty("NextToken") {
        None => 0,
        Some(t) => next_token::decode(t).ok_or_else(|| invalid("NextToken"))?,
    };
    Ok((offset, max as usize))
}

/// The items of one page and the token of the next (`""` when there is none).
fn page<T>(items: &[T], offset: usize, max: usize) -> (&[T], String) {
    let start = offset.min(items.len());
    let end = start.saturating_add(max).min(items.len());
    let token = if end < items.len() {
        next_token::encode(end)
    } else {
        String::new()
    };
    (&items[start..end], token)
}

pub async fn create<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let address_family = AddressFamily::parse(p.required("AddressFamily")?)
        .ok_or_else(|| from_domain(DomainError::AddressFamilyInvalid))?;
    let max_entries = decode::int_in(&mut p, "MaxEntries", 1..=i64::from(MAX_ENTRIES), || {
        from_domain(DomainError::MaxEntriesInvalid)
    })?
    .ok_or_else(|| missing("MaxEntries"))? as u32;
    let new = NewPrefixList {
        region_id,
        name: p.required("PrefixListName")?.to_string(),
        description: p.optional("Description").unwrap_or("").to_string(),
        address_family,
        max_entries,
        resource_group_id: p.optional("ResourceGroupId").unwrap_or("").to_string(),
        entries: entries(&mut p, "Entry")?,
        tags: decode::tags(&mut p)?,
    };
    let token = client_token(ctx, params, p.optional("ClientToken"))?;
    ctx.note_unread(&p);

    let account = ctx.account_id.clone();
    let quota = ecs.config.limits.prefix_lists_per_region;
    let created = ecs
        .write(move |tx| {
            let now = Utc::now();
            idempotency::once(tx, &account, token.as_ref(), now, |tx| {
                ops::create(tx, &account, &new, quota, now)
            })
        })
        .await?;
    Ok(Node::object()
        .str("PrefixListId", created.prefix_list_id)
        .build())
}

pub async fn describe<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let filter = PrefixListFilter {
        ids: p
            .string_list("PrefixListId")
            .into_iter()
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .collect(),
        name: p.non_empty("PrefixListName").map(str::to_string),
        address_family: p
            .non_empty("AddressFamily")
            .map(|f| AddressFamily::parse(f).ok_or_else(|| invalid("AddressFamily")))
            .transpose()?,
        resource_group_id: p.non_empty("ResourceGroupId").map(str::to_string),
        tags: decode::tag_filters(&mut p, || from_domain(DomainError::TagKeyMalformed))?,
    };
    let (offset, max) = paging(&mut p)?;
    ctx.note_unread(&p);

    let account = ctx.account_id.clone();
    let views = ecs
        .read(move |tx| ops::list(tx, &account, &region_id, &filter))
        .await?;
    let (views, token) = page(&views, offset, max);
    Ok(Node::object()
        .str("NextToken", token)
        .field(
            "PrefixLists",
            Node::list("PrefixList", views.iter().map(summary)),
        )
        .build())
}

/// One entry of `DescribePrefixLists`.
fn summary(view: &PrefixListView) -> Node {
    let l = &view.list;
    Node::object()
        .str("PrefixListId", &l.id)
        .str("PrefixListName", &l.name)
        .str("Description", &l.description)
        .str("AddressFamily", l.address_family.as_str())
        .int("MaxEntries", i64::from(l.max_entries))
        .int(
            "AssociationCount",
            i64::try_from(view.association_count).unwrap_or(i64::MAX),
        )
        .str("CreationTime", render::time(&l.creation_time))
        .str("ResourceGroupId", &l.resource_group_id)
        .field("Tags", render::tags(&view.tags))
        .build()
}

pub async fn describe_attributes<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let id = p.required("PrefixListId")?.to_string();
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let l = ecs
        .read(move |tx| ops::get(tx, &account, &region_id, &id))
        .await?;
    let entries = l.entries.iter().map(|e| {
        Node::object()
            .str("Cidr", &e.cidr)
            .str("Description", &e.description)
            .build()
    });
    Ok(Node::object()
        .str("PrefixListId", &l.id)
        .str("PrefixListName", &l.name)
        .str("Description", &l.description)
        .str("AddressFamily", l.address_family.as_str())
        .int("MaxEntries", i64::from(l.max_entries))
        .str("CreationTime", render::time(&l.creation_time))
        .field("Entries", Node::list("Entry", entries))
        .build())
}

pub async fn modify<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let id = p.required("PrefixListId")?.to_string();
    let change = PrefixListChange {
        name: p.non_empty("PrefixListName").map(str::to_string),
        description: p.optional("Description").map(str::to_string),
        add: entries(&mut p, "AddEntry")?,
        remove: entries(&mut p, "RemoveEntry")?
            .into_iter()
            .map(|e| e.cidr)
            .collect(),
    };
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    ecs.write(move |tx| ops::modify(tx, &account, &region_id, &id, &change))
        .await?;
    Ok(Node::object().build())
}

pub async fn delete<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let id = p.required("PrefixListId")?.to_string();
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    ecs.write(move |tx| ops::delete(tx, &account, &region_id, &id))
        .await?;
    Ok(Node::object().build())
}

pub async fn describe_associations<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let id = p.required("PrefixListId")?.to_string();
    let (offset, max) = paging(&mut p)?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let groups = ecs
        .read(move |tx| ops::associations(tx, &account, &region_id, &id))
        .await?;
    let (groups, token) = page(&groups, offset, max);
    let items = groups.iter().map(|g| {
        Node::object()
            .str("ResourceId", g)
            .str("ResourceType", ASSOCIATED_TYPE)
            .build()
    });
    Ok(Node::object()
        .str("NextToken", token)
        .field(
            "PrefixListAssociations",
            Node::list("PrefixListAssociation", items),
        )
        .build())
}
