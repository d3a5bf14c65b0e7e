//! `CreatePrefixList`, `DescribePrefixLists`, `DescribePrefixListAttributes`,
//! `ModifyPrefixList`, `DeletePrefixList`, `DescribePrefixListAssociations`
//! (docs/ecs.md §6.2–§6.7), each a typed action.

use secgroup_api::paging::Paging;
use secgroup_api::render::{tags, time};
use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ids::PrefixListId;
use secgroup_domain::ops::prefix_lists::{
    self as ops, NewPrefixList, PrefixListChange, PrefixListFilter, PrefixListView, MAX_ENTRIES,
};
use secgroup_domain::{AddressFamily, DomainError, PrefixListEntry, Store};
use secgroup_rpc::{Node, RpcError};

use crate::errors::invalid;
use crate::{strings, usize_of, Ecs};

/// The `ResourceType` of every association: only security-group rules name a list.
const ASSOCIATED_TYPE: &str = "securitygroup";

/// `<prefix>.N.Cidr` with optional `<prefix>.N.Description`, N from 0 or 1, sorted by N.
fn entries(p: &mut Input<'_>, prefix: &str) -> Result<Vec<PrefixListEntry>, RpcError> {
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

/// `MaxResults` (1–100, default 10) and `NextToken`: the listings page by token only.
fn paging(p: &mut Input<'_>) -> Result<Paging, RpcError> {
    let max = p
        .int_in("MaxResults", 1..=100, || invalid("MaxResults"))?
        .unwrap_or(10);
    let offset = p.next_token(|| invalid("NextToken"))?;
    Ok(Paging::Tokens {
        offset,
        max: usize_of(max),
    })
}

#[derive(Debug)]
pub struct CreatePrefixList(NewPrefixList);

impl<S: Store> Action<Ecs<S>> for CreatePrefixList {
    const NAME: &'static str = "CreatePrefixList";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let address_family = AddressFamily::parse(p.required("AddressFamily")?)
            .ok_or_else(|| p.error(DomainError::AddressFamilyInvalid))?;
        let invalid_max = p.error(DomainError::MaxEntriesInvalid);
        let max_entries = p
            .int_in("MaxEntries", 1..=i64::from(MAX_ENTRIES), || {
                invalid_max.clone()
            })?
            .ok_or_else(|| RpcError::missing("MaxEntries"))?;
        let new = NewPrefixList {
            region_id,
            name: p.required("PrefixListName")?.to_string(),
            description: p.optional("Description").unwrap_or("").to_string(),
            address_family,
            max_entries: u32::try_from(max_entries).map_err(|_| invalid_max)?,
            resource_group_id: p.optional("ResourceGroupId").unwrap_or("").to_string(),
            entries: entries(p, "Entry")?,
            tags: p.tags()?,
        };
        p.client_token()?;
        Ok(CreatePrefixList(new))
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let created = cx
            .write(move |tx, scope| {
                let quota = scope.config().limits.prefix_lists_per_region;
                ops::create(tx, scope.account(), &self.0, quota, scope.now())
            })
            .await?;
        Ok(Node::object()
            .str("PrefixListId", created.prefix_list_id)
            .build())
    }
}

#[derive(Debug)]
pub struct DescribePrefixLists {
    region_id: String,
    filter: PrefixListFilter,
    paging: Paging,
}

impl<S: Store> Action<Ecs<S>> for DescribePrefixLists {
    const NAME: &'static str = "DescribePrefixLists";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let ids = strings(p, "PrefixListId");
        let name = p.non_empty("PrefixListName").map(str::to_string);
        let address_family = p
            .non_empty("AddressFamily")
            .map(|f| AddressFamily::parse(f).ok_or_else(|| invalid("AddressFamily")))
            .transpose()?;
        let resource_group_id = p.non_empty("ResourceGroupId").map(str::to_string);
        let malformed = p.error(DomainError::TagKeyMalformed);
        let tags = p.tag_filters_strict(|| malformed.clone())?;
        Ok(DescribePrefixLists {
            region_id,
            filter: PrefixListFilter {
                ids,
                name,
                address_family,
                resource_group_id,
                tags,
            },
            paging: paging(p)?,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let views = cx
            .read(move |tx, scope| ops::list(tx, scope.account(), &self.region_id, &self.filter))
            .await?;
        let page = self.paging.cut(views);
        Ok(Node::object()
            .str("NextToken", page.next_token)
            .field(
                "PrefixLists",
                Node::list("PrefixList", page.items.iter().map(summary)),
            )
            .build())
    }
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
        .str("CreationTime", time(&l.creation_time))
        .str("ResourceGroupId", &l.resource_group_id)
        .field("Tags", tags(&view.tags))
        .build()
}

/// A prefix list named by `RegionId` and `PrefixListId`.
#[derive(Debug)]
struct Named {
    region_id: String,
    id: PrefixListId,
}

impl Named {
    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(Named {
            region_id: p.region()?,
            id: PrefixListId::new(p.required("PrefixListId")?),
        })
    }
}

#[derive(Debug)]
pub struct DescribePrefixListAttributes(Named);

impl<S: Store> Action<Ecs<S>> for DescribePrefixListAttributes {
    const NAME: &'static str = "DescribePrefixListAttributes";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Named::decode(p).map(DescribePrefixListAttributes)
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let Named { region_id, id } = self.0;
        let l = cx
            .read(move |tx, scope| ops::get(tx, scope.account(), &region_id, &id))
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
            .str("CreationTime", time(&l.creation_time))
            .field("Entries", Node::list("Entry", entries))
            .build())
    }
}

#[derive(Debug)]
pub struct ModifyPrefixList {
    list: Named,
    change: PrefixListChange,
}

impl<S: Store> Action<Ecs<S>> for ModifyPrefixList {
    const NAME: &'static str = "ModifyPrefixList";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let list = Named::decode(p)?;
        let change = PrefixListChange {
            name: p.non_empty("PrefixListName").map(str::to_string),
            description: p.optional("Description").map(str::to_string),
            add: entries(p, "AddEntry")?,
            remove: entries(p, "RemoveEntry")?
                .into_iter()
                .map(|e| e.cidr)
                .collect(),
        };
        Ok(ModifyPrefixList { list, change })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            let Named { region_id, id } = &self.list;
            ops::modify(tx, scope.account(), region_id, id, &self.change)
        })
        .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct DeletePrefixList(Named);

impl<S: Store> Action<Ecs<S>> for DeletePrefixList {
    const NAME: &'static str = "DeletePrefixList";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Named::decode(p).map(DeletePrefixList)
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let Named { region_id, id } = self.0;
        cx.write(move |tx, scope| ops::delete(tx, scope.account(), &region_id, &id))
            .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct DescribePrefixListAssociations {
    list: Named,
    paging: Paging,
}

impl<S: Store> Action<Ecs<S>> for DescribePrefixListAssociations {
    const NAME: &'static str = "DescribePrefixListAssociations";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(DescribePrefixListAssociations {
            list: Named::decode(p)?,
            paging: paging(p)?,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let Named { region_id, id } = self.list;
        let groups = cx
            .read(move |tx, scope| ops::associations(tx, scope.account(), &region_id, &id))
            .await?;
        let page = self.paging.cut(groups);
        let items = page.items.iter().map(|g| {
            Node::object()
                .str("ResourceId", g)
                .str("ResourceType", ASSOCIATED_TYPE)
                .build()
        });
        Ok(Node::object()
            .str("NextToken", page.next_token)
            .field(
                "PrefixListAssociations",
                Node::list("PrefixListAssociation", items),
            )
            .build())
    }
}
