//! `TagResources`, `UntagResources`, `ListTagResources` (docs/ecs.md §4), each a typed
//! action. The tag APIs refuse a missing parameter as 404 `MissingParameter.<X>`.

use secgroup_api::paging::Paging;
use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ops::tags::{self as ops, Untag};
use secgroup_domain::{validate, DomainError, ResourceType, Store, Tag};
use secgroup_rpc::{Node, RpcError};

use crate::errors::tag_missing;
use crate::{strings, Ecs};

/// Page size of `ListTagResources` (server-chosen).
const TAG_PAGE: usize = 50;

/// The resources a tag API names: `RegionId`, `ResourceType` and `ResourceId.N`.
#[derive(Debug)]
struct Resources {
    region_id: String,
    resource_type: ResourceType,
    ids: Vec<String>,
}

impl Resources {
    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region_or(|| tag_missing("RegionId"))?;
        let rt = p
            .non_empty("ResourceType")
            .ok_or_else(|| tag_missing("ResourceType"))?;
        let resource_type = ResourceType::parse(rt).ok_or_else(|| {
            RpcError::new(
                404,
                "InvalidResourceType.NotFound",
                "The ResourceType provided does not exist in our records.",
            )
        })?;
        Ok(Resources {
            region_id,
            resource_type,
            ids: strings(p, "ResourceId"),
        })
    }

    /// The same, refusing an empty `ResourceId.N`.
    fn decode_some(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let resources = Resources::decode(p)?;
        if resources.ids.is_empty() {
            return Err(tag_missing("ResourceIds"));
        }
        Ok(resources)
    }
}

#[derive(Debug)]
pub struct TagResources {
    resources: Resources,
    tags: Vec<Tag>,
}

impl<S: Store> Action<Ecs<S>> for TagResources {
    const NAME: &'static str = "TagResources";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let resources = Resources::decode_some(p)?;
        let tags = p.tags()?;
        if tags.is_empty() {
            return Err(tag_missing("Tags"));
        }
        Ok(TagResources { resources, tags })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            let r = &self.resources;
            ops::tag(
                tx,
                scope.account(),
                &r.region_id,
                r.resource_type,
                &r.ids,
                &self.tags,
            )
        })
        .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct UntagResources {
    resources: Resources,
    which: Untag,
}

impl<S: Store> Action<Ecs<S>> for UntagResources {
    const NAME: &'static str = "UntagResources";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let resources = Resources::decode_some(p)?;
        let keys = strings(p, "TagKey");
        let all = p.bool("All")?.unwrap_or(false);
        // `All` applies only when no key is named.
        let which = match (keys.is_empty(), all) {
            (false, _) => Untag::Keys(keys),
            (true, true) => Untag::All,
            (true, false) => return Err(tag_missing("TagKeys")),
        };
        Ok(UntagResources { resources, which })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            let r = &self.resources;
            ops::untag(
                tx,
                scope.account(),
                &r.region_id,
                r.resource_type,
                &r.ids,
                &self.which,
            )
        })
        .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct ListTagResources {
    resources: Resources,
    /// `Tag.N`, and the keys of the `TagFilter.N` (which must exist).
    filters: Vec<(String, Option<String>)>,
    /// `TagFilter.N.TagKey` with its `TagValues.M` (any of them; none: any value).
    alternatives: Vec<(String, Vec<String>)>,
    offset: usize,
}

impl<S: Store> Action<Ecs<S>> for ListTagResources {
    const NAME: &'static str = "ListTagResources";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let resources = Resources::decode(p)?;
        let mut filters = p.tag_filters_strict(|| {
            RpcError::new(
                400,
                "InvalidParameter.TagValue",
                "The specified parameter Tag.n.Value is not valid without Tag.n.Key.",
            )
        })?;
        // TagFilter.N.TagKey with TagFilter.N.TagValues.M: the key must be present; values,
        // if any, are alternatives.
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
        if filters.len() + alternatives.len() > validate::MAX_TAGS_PER_REQUEST {
            return Err(p.error(DomainError::TooManyTags(validate::MAX_TAGS_PER_REQUEST)));
        }
        if resources.ids.is_empty() && filters.is_empty() && alternatives.is_empty() {
            return Err(tag_missing("ResourceIds"));
        }
        let offset = p.next_token(|| {
            RpcError::new(
                400,
                "InvalidNextToken.Malformed",
                "The specified NextToken is not valid.",
            )
        })?;
        // Keys of the fuzzy filters must exist; their values are checked on the result.
        filters.extend(alternatives.iter().map(|(k, _)| (k.clone(), None)));
        Ok(ListTagResources {
            resources,
            filters,
            alternatives,
            offset,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let rt = self.resources.resource_type;
        let (resources, filters) = (self.resources, self.filters);
        let pairs = cx
            .read(move |tx, scope| {
                let r = &resources;
                ops::list(tx, scope.account(), &r.region_id, rt, &r.ids, &filters)
            })
            .await?;
        let alternatives = &self.alternatives;
        let pairs: Vec<_> = pairs
            .into_iter()
            .filter(|pair| {
                alternatives.iter().all(|(key, values)| {
                    pair.tag.key != *key || values.is_empty() || values.contains(&pair.tag.value)
                })
            })
            .collect();
        let paging = Paging::Tokens {
            offset: self.offset,
            max: TAG_PAGE,
        };
        let page = paging.cut(pairs);
        let items = page.items.iter().map(|pair| {
            Node::object()
                .str("ResourceId", &pair.resource_id)
                .str("ResourceType", rt.as_str())
                .str("TagKey", &pair.tag.key)
                .str("TagValue", &pair.tag.value)
                .build()
        });
        Ok(Node::object()
            .str("NextToken", page.next_token)
            .field("TagResources", Node::list("TagResource", items))
            .build())
    }
}
