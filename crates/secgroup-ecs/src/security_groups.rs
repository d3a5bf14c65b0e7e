//! `CreateSecurityGroup`, `DeleteSecurityGroup`, `DescribeSecurityGroups`,
//! `DescribeSecurityGroupAttribute`, `ModifySecurityGroupAttribute`,
//! `ModifySecurityGroupPolicy` (docs/ecs.md §3.1–§3.6), each a typed action. Each operation
//! words a missing `RegionId` its own way.

use secgroup_api::paging::Paging;
use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ids::{SecurityGroupId, VpcId};
use secgroup_domain::ops::rules as rule_ops;
use secgroup_domain::ops::security_groups::{self as ops, GroupFilter, NewSecurityGroup};
use secgroup_domain::ops::Window;
use secgroup_domain::rules::Direction;
use secgroup_domain::{validate, DomainError, InnerAccessPolicy, SecurityGroupType, Store};
use secgroup_rpc::{Node, RpcError};

use crate::errors::{group_id_not_valid, invalid, security_group_id_malformed};
use crate::{i64_of, render, usize_of, Ecs};

/// `DescribeSecurityGroups.SecurityGroupIds` holds at most this many ids.
const MAX_GROUP_IDS: usize = 100;

#[derive(Debug)]
pub struct CreateSecurityGroup(NewSecurityGroup);

impl<S: Store> Action<Ecs<S>> for CreateSecurityGroup {
    const NAME: &'static str = "CreateSecurityGroup";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let group_type = match p.non_empty("SecurityGroupType") {
            None => SecurityGroupType::Normal,
            Some(t) => SecurityGroupType::parse(t)
                .ok_or_else(|| p.error(DomainError::SecurityGroupTypeInvalid))?,
        };
        let new = NewSecurityGroup {
            region_id,
            name: p.optional("SecurityGroupName").unwrap_or("").to_string(),
            description: p.optional("Description").unwrap_or("").to_string(),
            group_type,
            vpc_id: VpcId::new(p.optional("VpcId").unwrap_or("")),
            resource_group_id: p.optional("ResourceGroupId").unwrap_or("").to_string(),
            tags: p.tags()?,
        };
        // "Not publicly available": accepted so that SDK models that send it still work.
        p.bool("ServiceManaged")?;
        p.client_token()?;
        Ok(CreateSecurityGroup(new))
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let created = cx
            .write(move |tx, scope| {
                ops::create(
                    tx,
                    scope.account(),
                    &self.0,
                    &scope.config().limits,
                    scope.now(),
                )
            })
            .await?;
        Ok(Node::object()
            .str("SecurityGroupId", created.security_group_id)
            .build())
    }
}

#[derive(Debug)]
pub struct DeleteSecurityGroup {
    region_id: String,
    id: SecurityGroupId,
}

impl<S: Store> Action<Ecs<S>> for DeleteSecurityGroup {
    const NAME: &'static str = "DeleteSecurityGroup";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region_or(|| {
            RpcError::new(
                400,
                "MissingParameter.RegionId",
                "The parameter \"RegionId\" should not be null.",
            )
        })?;
        let id = SecurityGroupId::new(p.required("SecurityGroupId")?);
        Ok(DeleteSecurityGroup { region_id, id })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| ops::delete(tx, scope.account(), &self.region_id, &self.id))
            .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct ModifySecurityGroupAttribute {
    region_id: String,
    id: SecurityGroupId,
    name: Option<String>,
    description: Option<String>,
}

impl<S: Store> Action<Ecs<S>> for ModifySecurityGroupAttribute {
    const NAME: &'static str = "ModifySecurityGroupAttribute";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(ModifySecurityGroupAttribute {
            region_id: p.region()?,
            id: SecurityGroupId::new(p.required("SecurityGroupId")?),
            name: p.optional("SecurityGroupName").map(str::to_string),
            description: p.optional("Description").map(str::to_string),
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            ops::modify_attribute(
                tx,
                scope.account(),
                &self.region_id,
                &self.id,
                self.name.as_deref(),
                self.description.as_deref(),
            )
        })
        .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct ModifySecurityGroupPolicy {
    region_id: String,
    id: SecurityGroupId,
    policy: InnerAccessPolicy,
}

impl<S: Store> Action<Ecs<S>> for ModifySecurityGroupPolicy {
    const NAME: &'static str = "ModifySecurityGroupPolicy";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        // Sic: "MissingParamter" is the documented code.
        let region_id = p.region_or(|| {
            RpcError::new(
                400,
                "MissingParamter.RegionId",
                "The RegionId should not be null.",
            )
        })?;
        let id = SecurityGroupId::new(p.required("SecurityGroupId")?);
        let policy = p.required("InnerAccessPolicy")?;
        validate::security_group_id(&id).map_err(|e| p.error(e))?;
        let policy = InnerAccessPolicy::parse(policy)
            .ok_or_else(|| p.error(DomainError::PolicyMalformed))?;
        p.client_token()?;
        Ok(ModifySecurityGroupPolicy {
            region_id,
            id,
            policy,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            ops::modify_inner_access_policy(
                tx,
                scope.account(),
                &self.region_id,
                &self.id,
                self.policy,
            )
        })
        .await?;
        Ok(Node::object().build())
    }
}

#[derive(Debug)]
pub struct DescribeSecurityGroupAttribute {
    region_id: String,
    id: SecurityGroupId,
    /// `None`: both directions.
    direction: Option<Direction>,
    /// Always by token.
    paging: Paging,
    with_snapshot_policies: bool,
}

/// `DescribeSecurityGroupAttribute`'s refusal of a bad `Direction`, `MaxResults` or
/// `NextToken` (sic).
fn invalid_paramter() -> RpcError {
    RpcError::new(400, "InvalidParamter", "Invalid Parameter.")
}

impl<S: Store> Action<Ecs<S>> for DescribeSecurityGroupAttribute {
    const NAME: &'static str = "DescribeSecurityGroupAttribute";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region_or(|| {
            RpcError::new(
                400,
                "MissingParameter.RegionId",
                "The parameter RegionId is missing.",
            )
        })?;
        let id = SecurityGroupId::new(p.required("SecurityGroupId")?);
        validate::security_group_id(&id).map_err(|_| {
            security_group_id_malformed("The specified parameter \"SecurityGroupId\" is not valid.")
        })?;
        let direction = match p.non_empty("Direction") {
            None | Some("all") => None,
            Some(d) => Some(Direction::parse(d).ok_or_else(invalid_paramter)?),
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
        let max = p
            .int_in("MaxResults", 10..=1000, invalid_paramter)?
            .unwrap_or(500);
        let offset = p.next_token(invalid_paramter)?;
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
        Ok(DescribeSecurityGroupAttribute {
            region_id,
            id,
            direction,
            paging: Paging::Tokens {
                offset,
                max: usize_of(max),
            },
            with_snapshot_policies,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let (group, rules) = cx
            .read(move |tx, scope| rule_ops::list(tx, scope.account(), &self.region_id, &self.id))
            .await?;
        // VPC groups hold only intranet rules, so the NicType filter keeps them all.
        let direction = self.direction;
        let rules: Vec<_> = rules
            .into_iter()
            .filter(|v| direction.is_none_or(|d| v.rule.spec.direction == d))
            .collect();
        let total = rules.len();
        // Cut while rendering, not through `Paging::cut`: no second list of a 1,000 rules.
        let Window { offset, limit } = self.paging.window();
        let page: Vec<Node> = rules
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(crate::rules::permission)
            .collect();
        let token = self.paging.next_token(total, page.len());
        let mut node = Node::object()
            .str("RegionId", &group.region_id)
            .str("SecurityGroupId", &group.id)
            .str("SecurityGroupName", &group.name)
            .str("Description", &group.description)
            .str("VpcId", &group.vpc_id)
            .str("InnerAccessPolicy", group.inner_access_policy.as_str())
            .str("NextToken", token)
            .field("Permissions", Node::list("Permission", page));
        if self.with_snapshot_policies {
            node = node.field("SnapshotPolicyIds", Node::list("SnapshotPolicyId", []));
        }
        Ok(node.build())
    }
}

#[derive(Debug)]
pub struct DescribeSecurityGroups {
    region_id: String,
    filter: GroupFilter,
    with_ecs_count: bool,
    /// By page number, or by token once `MaxResults` or `NextToken` appears.
    paging: Paging,
}

impl<S: Store> Action<Ecs<S>> for DescribeSecurityGroups {
    const NAME: &'static str = "DescribeSecurityGroups";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region_or(|| {
            RpcError::new(
                400,
                "MissingParameter.RegionId",
                "The input parameter RegionId that is mandatory for processing this request is not supplied.",
            )
        })?;
        let mut filter = GroupFilter::default();
        if let Some(id) = p.non_empty("SecurityGroupId") {
            validate::security_group_id(id).map_err(|_| group_id_not_valid())?;
            filter.id_sets.push(vec![id.to_string()]);
        }
        if let Some(ids) = p.json_strings("SecurityGroupIds", MAX_GROUP_IDS, group_id_not_valid)? {
            if ids
                .iter()
                .any(|id| validate::security_group_id(id).is_err())
            {
                return Err(group_id_not_valid());
            }
            filter.id_sets.push(ids);
        }
        filter.vpc_id = p.non_empty("VpcId").map(str::to_string);
        filter.fuzzy_name = p.bool("FuzzyQuery")?.unwrap_or(false);
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
        filter.tags = crate::tag_filters(p)?;
        let with_ecs_count = p.bool("IsQueryEcsCount")?.unwrap_or(false);
        p.bool("ServiceManaged")?;
        let paging = paging(p)?;
        p.dry_run()?;
        Ok(DescribeSecurityGroups {
            region_id,
            filter,
            with_ecs_count,
            paging,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let (region, filter, with_ecs_count) =
            (self.region_id.clone(), self.filter, self.with_ecs_count);
        let views = cx
            .read(move |tx, scope| {
                let mut views = ops::list(tx, scope.account(), &region, &filter)?;
                if with_ecs_count {
                    let limits = &scope.config().limits;
                    ops::count_members(tx, scope.account(), &region, &mut views, limits)?;
                }
                Ok(views)
            })
            .await?;
        let page = self.paging.cut(views);
        let node = Node::object().str("RegionId", self.region_id);
        let node = match self.paging {
            Paging::Pages { number, size } => node
                .int("TotalCount", i64_of(page.total))
                .int("PageNumber", i64_of(number))
                .int("PageSize", i64_of(size)),
            Paging::Tokens { .. } => node.str("NextToken", page.next_token),
        };
        let groups = page
            .items
            .iter()
            .map(|view| render::group_summary(view, with_ecs_count));
        Ok(node
            .field("SecurityGroups", Node::list("SecurityGroup", groups))
            .build())
    }
}

/// `DescribeSecurityGroups` pages by token once `MaxResults` (1–100, default 10) or
/// `NextToken` appears; by page number (`PageSize` 1–50, default 10) otherwise.
fn paging(p: &mut Input<'_>) -> Result<Paging, RpcError> {
    let max = p.int_in("MaxResults", 1..=100, || invalid("MaxResults"))?;
    if max.is_none() && p.non_empty("NextToken").is_none() {
        return p.pages(1..=50, 10);
    }
    let offset = p.next_token(|| {
        RpcError::new(
            400,
            "InValidParameter.NextToken",
            "The parameter NextToken is invalid.",
        )
    })?;
    Ok(Paging::Tokens {
        offset,
        max: usize_of(max.unwrap_or(10)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode;
    use crate::instances::{DeleteInstances, JoinSecurityGroup, RunInstances};
    use crate::tags::ListTagResources;

    type P = Ecs<secgroup_store_sqlite::SqliteStore>;

    fn missing_region<A: Action<P> + std::fmt::Debug>(
        pairs: &[(&str, &str)],
    ) -> (u16, String, String) {
        let e = decode::<A>(pairs).expect_err("no region");
        (
            e.status.as_u16(),
            e.code.into_owned(),
            e.message.into_owned(),
        )
    }

    /// Each operation's own refusal of a missing `RegionId`.
    #[rustfmt::skip]
    #[test]
    fn each_operation_words_a_missing_region() {
        let id = [("SecurityGroupId", "sg-a"), ("InnerAccessPolicy", "Drop")];
        let rows = [
            (missing_region::<ModifySecurityGroupPolicy>(&id), (400, "MissingParamter.RegionId", "The RegionId should not be null.")),
            (missing_region::<DeleteSecurityGroup>(&id), (400, "MissingParameter.RegionId", "The parameter \"RegionId\" should not be null.")),
            (missing_region::<DescribeSecurityGroupAttribute>(&id), (400, "MissingParameter.RegionId", "The parameter RegionId is missing.")),
            (missing_region::<DescribeSecurityGroups>(&id), (400, "MissingParameter.RegionId", "The input parameter RegionId that is mandatory for processing this request is not supplied.")),
            (missing_region::<ListTagResources>(&id), (404, "MissingParameter.RegionId", "The parameter - RegionId should not be null.")),
            (missing_region::<ModifySecurityGroupAttribute>(&id), (400, "MissingRegionId", "RegionId is mandatory for this action.")),
            (missing_region::<RunInstances>(&id), (400, "MissingRegionId", "RegionId is mandatory for this action.")),
            (missing_region::<DeleteInstances>(&[("InstanceId.1", "i-a")]), (400, "MissingRegionId", "RegionId is mandatory for this action.")),
            // With an interface only: the operation's own wording.
            (missing_region::<JoinSecurityGroup>(&[("SecurityGroupId", "sg-a"), ("NetworkInterfaceId", "eni-a")]), (400, "MissingParameter.RegionId", "The specified RegionId should not be null.")),
        ];
        for (got, (status, code, message)) in rows {
            assert_eq!(got, (status, code.to_string(), message.to_string()));
        }
        let e = decode::<DescribeSecurityGroups>(&[("RegionId", "xx-nowhere-1")]).expect_err("unknown");
        assert_eq!((e.status.as_u16(), e.code.as_ref()), (404, "InvalidRegionId.NotFound"));
    }

    #[test]
    fn describe_security_groups_pages_two_ways() {
        let paging = |extra: &[(&str, &str)]| {
            let mut pairs = vec![("RegionId", "cn-hangzhou")];
            pairs.extend_from_slice(extra);
            decode::<DescribeSecurityGroups>(&pairs).map(|d| d.paging)
        };
        assert_eq!(
            paging(&[("PageNumber", "2"), ("PageSize", "50")]).expect("pages"),
            Paging::Pages {
                number: 2,
                size: 50
            }
        );
        // Once MaxResults appears, page numbers are not read (nor refused).
        assert_eq!(
            paging(&[("MaxResults", "100"), ("PageSize", "500")]).expect("tokens"),
            Paging::Tokens {
                offset: 0,
                max: 100
            }
        );
        assert_eq!(
            paging(&[("PageSize", "51")]).expect_err("size").code,
            "InvalidParameter"
        );
        assert_eq!(
            paging(&[("MaxResults", "101")]).expect_err("max").code,
            "InvalidParameter"
        );
        assert_eq!(
            paging(&[("NextToken", "bad")]).expect_err("token").code,
            "InValidParameter.NextToken"
        );
    }

    #[test]
    fn malformed_group_ids_word_their_operation() {
        let e = decode::<DescribeSecurityGroupAttribute>(&[
            ("RegionId", "cn-hangzhou"),
            ("SecurityGroupId", "sg-bad!id"),
        ])
        .expect_err("malformed");
        assert_eq!(
            e.message,
            "The specified parameter \"SecurityGroupId\" is not valid."
        );
        for ids in [r#"["sg-a","sg-bad!id"]"#, "sg-a", "[1]"] {
            let e = decode::<DescribeSecurityGroups>(&[
                ("RegionId", "cn-hangzhou"),
                ("SecurityGroupIds", ids),
            ])
            .expect_err("malformed");
            assert_eq!(
                (e.code.as_ref(), e.message.as_ref()),
                (
                    "InvalidSecurityGroupId.Malformed",
                    "The specified parameter SecurityGroupId is not valid."
                ),
                "{ids}"
            );
        }
        let e = decode::<ModifySecurityGroupPolicy>(&[
            ("RegionId", "cn-hangzhou"),
            ("SecurityGroupId", "sg-bad!id"),
            ("InnerAccessPolicy", "Drop"),
        ])
        .expect_err("malformed");
        assert!(e.message.starts_with("The SecurityGroupId is invalid."));
    }
}
