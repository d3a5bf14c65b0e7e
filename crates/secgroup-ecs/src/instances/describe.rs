//! `DescribeInstances` and `DescribeInstanceAttribute` (docs/ecs.md §7.5, §7.6), typed
//! actions.

use chrono::{DateTime, NaiveDateTime, Utc};
use secgroup_api::paging::Paging;
use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ids::InstanceId;
use secgroup_domain::network::InstanceStatus;
use secgroup_domain::ops::instances::query::{self as ops, InstanceFilter};
use secgroup_domain::{validate, Store};
use secgroup_rpc::{Node, RpcError};

use super::{instance_id, view};
use crate::errors::invalid;
use crate::{i64_of, usize_of, Ecs};

/// At most this many ids or addresses in one JSON-array filter.
const MAX_LIST_FILTER: usize = 100;

/// One of `allowed`, or the 404 `code`/`message` the operation documents.
fn one_of(
    p: &mut Input<'_>,
    name: &str,
    allowed: &[&str],
    code: &'static str,
    message: &'static str,
) -> Result<Option<String>, RpcError> {
    match p.non_empty(name) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(_) => Err(RpcError::new(404, code, message)),
    }
}

/// `Filter.N.Key` (`CreationStartTime`/`CreationEndTime`) with `Filter.N.Value`
/// (`yyyy-MM-ddTHH:mmZ`).
fn creation_filters(p: &mut Input<'_>, filter: &mut InstanceFilter) -> Result<(), RpcError> {
    for (n, fields) in p.object_list("Filter") {
        let key = fields.get("Key").copied().unwrap_or("");
        let value = fields.get("Value").copied().unwrap_or("");
        if key.is_empty() && value.is_empty() {
            continue;
        }
        let time = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%MZ")
            .map(|t| DateTime::<Utc>::from_naive_utc_and_offset(t, Utc))
            .map_err(|_| invalid(&format!("Filter.{n}.Value")))?;
        match key {
            "CreationStartTime" => filter.created_from = Some(time),
            "CreationEndTime" => filter.created_to = Some(time),
            _ => {
                return Err(RpcError::new(
                    404,
                    "InvalidFilterKey.NotFound",
                    "The specified filter key is not found.",
                ))
            }
        }
    }
    Ok(())
}

fn filter(p: &mut Input<'_>) -> Result<InstanceFilter, RpcError> {
    let mut f = InstanceFilter {
        ids: p.json_strings("InstanceIds", MAX_LIST_FILTER, || {
            RpcError::new(
                400,
                "InvalidInstanceIds.Malformed",
                "The specified parameter InstanceIds is not valid.",
            )
        })?,
        vpc_id: p.non_empty("VpcId").map(str::to_string),
        vswitch_id: p.non_empty("VSwitchId").map(str::to_string),
        security_group_id: p.non_empty("SecurityGroupId").map(str::to_string),
        zone_id: p.non_empty("ZoneId").map(str::to_string),
        name: p.non_empty("InstanceName").map(str::to_string),
        private_ips: p.json_strings("PrivateIpAddresses", MAX_LIST_FILTER, || {
            invalid("PrivateIpAddresses")
        })?,
        public_ips: p.json_strings("PublicIpAddresses", MAX_LIST_FILTER, || {
            invalid("PublicIpAddresses")
        })?,
        instance_type: p.non_empty("InstanceType").map(str::to_string),
        image_id: p.non_empty("ImageId").map(str::to_string),
        resource_group_id: p.non_empty("ResourceGroupId").map(str::to_string),
        key_pair_name: p.non_empty("KeyPairName").map(str::to_string),
        ..InstanceFilter::default()
    };
    f.status = match p.non_empty("Status") {
        None => None,
        Some(s) => Some(InstanceStatus::parse(s).ok_or_else(|| {
            RpcError::new(
                404,
                "InvalidStatus.NotFound",
                "The specified Status is not found",
            )
        })?),
    };
    let network = one_of(
        p,
        "InstanceNetworkType",
        &["vpc", "classic"],
        "InvalidNetworkType.NotFound",
        "The specified InstanceNetworkType is not found",
    )?;
    let lock = one_of(
        p,
        "LockReason",
        &[
            "financial",
            "security",
            "recycling",
            "dedicatedhostfinancial",
            "refunded",
        ],
        "InvalidLockReason.NotFound",
        "The specified LockReason is not found",
    )?;
    // Every instance is a VPC instance without locks, classic (inner) addresses or EIPs.
    let inner = p.json_strings("InnerIpAddresses", MAX_LIST_FILTER, || {
        invalid("InnerIpAddresses")
    })?;
    let eips = p.json_strings("EipAddresses", MAX_LIST_FILTER, || invalid("EipAddresses"))?;
    f.nothing = network.as_deref() == Some("classic")
        || lock.is_some()
        || inner.is_some_and(|l| !l.is_empty())
        || eips.is_some_and(|l| !l.is_empty());
    f.instance_charge_type = one_of(
        p,
        "InstanceChargeType",
        &["PostPaid", "PrePaid"],
        "InvalidInstanceChargeType.NotFound",
        "The InstanceChargeType does not exist in our records",
    )?;
    f.internet_charge_type = one_of(
        p,
        "InternetChargeType",
        &["PayByTraffic", "PayByBandwidth"],
        "InvalidInternetChargeType.ValueNotSupported",
        "The specified InternetChargeType is not valid",
    )?;
    f.tags = p.tag_filters_strict(|| {
        RpcError::new(
            400,
            "InvalidTag.Mismatch",
            "The specified Tag.n.Key and Tag.n.Value are not match.",
        )
    })?;
    if f.tags.len() > validate::MAX_TAGS_PER_REQUEST {
        return Err(RpcError::new(
            400,
            "InvalidTagCount",
            "The specified tags are beyond the permitted range.",
        ));
    }
    creation_filters(p, &mut f)?;
    p.string_list("AdditionalAttributes");
    Ok(f)
}

/// Page numbers (deprecated: `PageNumber`/`PageSize`, size 1–100, default 10), or tokens
/// once `MaxResults` or `NextToken` appears (`MaxResults` clamped into 10–100).
fn paging(p: &mut Input<'_>) -> Result<Paging, RpcError> {
    let max = p.int("MaxResults")?;
    if max.is_none() && p.non_empty("NextToken").is_none() {
        return p.pages(1..=100, 10);
    }
    let offset = p.next_token(|| invalid("NextToken"))?;
    Ok(Paging::Tokens {
        offset,
        max: usize_of(max.unwrap_or(10).clamp(10, 100)),
    })
}

#[derive(Debug)]
pub struct DescribeInstances {
    region_id: String,
    filter: InstanceFilter,
    paging: Paging,
}

impl<S: Store> Action<Ecs<S>> for DescribeInstances {
    const NAME: &'static str = "DescribeInstances";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let filter = filter(p)?;
        let paging = paging(p)?;
        p.dry_run()?;
        Ok(DescribeInstances {
            region_id,
            filter,
            paging,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let window = self.paging.window();
        let (region_id, filter) = (self.region_id, self.filter);
        let (total, page) = cx
            .read(move |tx, scope| {
                ops::list(
                    tx,
                    scope.account(),
                    &region_id,
                    &filter,
                    (window.offset, window.limit),
                    &scope.config().instance_timings,
                    scope.now(),
                )
            })
            .await?;
        let node = Node::object().int("TotalCount", i64_of(total));
        // Both styles name the page size; only page numbers name the page.
        let node = match self.paging {
            Paging::Pages { number, .. } => node.int("PageNumber", i64_of(number)),
            Paging::Tokens { .. } => node,
        };
        Ok(node
            .int("PageSize", i64_of(window.limit))
            .str("NextToken", self.paging.next_token(total, page.len()))
            .field(
                "Instances",
                Node::list(
                    "Instance",
                    page.iter()
                        .map(|v| view::instance(v, &cx.config().catalogue)),
                ),
            )
            .build())
    }
}

#[derive(Debug)]
pub struct DescribeInstanceAttribute {
    id: InstanceId,
}

impl<S: Store> Action<Ecs<S>> for DescribeInstanceAttribute {
    const NAME: &'static str = "DescribeInstanceAttribute";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(DescribeInstanceAttribute {
            id: instance_id(p)?,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let v = cx
            .read(move |tx, scope| {
                let timings = &scope.config().instance_timings;
                ops::attribute(tx, scope.account(), &self.id, timings, scope.now())
            })
            .await?;
        Ok(view::attribute(&v, &cx.config().catalogue))
    }
}

/// At most this many `InstanceId.N` in `DescribeInstanceStatus`.
const MAX_STATUS_IDS: usize = 100;

/// `DescribeInstanceStatus` (docs/ecs.md §7.12): the status of each instance, filtered by
/// `ZoneId` and `InstanceId.N`, in pages of 1–50 (default 10).
#[derive(Debug)]
pub struct DescribeInstanceStatus {
    region_id: String,
    filter: InstanceFilter,
    paging: Paging,
}

impl<S: Store> Action<Ecs<S>> for DescribeInstanceStatus {
    const NAME: &'static str = "DescribeInstanceStatus";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let ids: Vec<String> = crate::strings(p, "InstanceId");
        if ids.len() > MAX_STATUS_IDS {
            return Err(invalid("InstanceId"));
        }
        let filter = InstanceFilter {
            ids: (!ids.is_empty()).then_some(ids),
            zone_id: p.non_empty("ZoneId").map(str::to_string),
            // No classic clusters: a ClusterId matches nothing.
            nothing: p.non_empty("ClusterId").is_some(),
            ..InstanceFilter::default()
        };
        let paging = p.pages(1..=50, 10)?;
        Ok(DescribeInstanceStatus {
            region_id,
            filter,
            paging,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let window = self.paging.window();
        let (region_id, filter) = (self.region_id, self.filter);
        let (total, page) = cx
            .read(move |tx, scope| {
                ops::list(
                    tx,
                    scope.account(),
                    &region_id,
                    &filter,
                    (window.offset, window.limit),
                    &scope.config().instance_timings,
                    scope.now(),
                )
            })
            .await?;
        let number = match self.paging {
            Paging::Pages { number, .. } => number,
            Paging::Tokens { .. } => 1,
        };
        let statuses = page.iter().map(|v| {
            Node::object()
                .str("InstanceId", &v.instance.id)
                .str("Status", v.instance.status.as_str())
                .build()
        });
        Ok(Node::object()
            .int("TotalCount", i64_of(total))
            .int("PageNumber", i64_of(number))
            .int("PageSize", i64_of(window.limit))
            .field("InstanceStatuses", Node::list("InstanceStatus", statuses))
            .build())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode;

    fn paging_of<'a>(extra: &[(&'a str, &'a str)]) -> Result<Paging, RpcError> {
        let mut pairs = vec![("RegionId", "cn-hangzhou")];
        pairs.extend_from_slice(extra);
        decode::<DescribeInstances>(&pairs).map(|d| d.paging)
    }

    #[test]
    fn page_numbers_until_a_token_or_max_results_appears() {
        assert_eq!(
            paging_of(&[]).expect("default"),
            Paging::Pages {
                number: 1,
                size: 10
            }
        );
        assert_eq!(
            paging_of(&[("PageNumber", "3"), ("PageSize", "100")]).expect("pages"),
            Paging::Pages {
                number: 3,
                size: 100
            }
        );
        // MaxResults is clamped into 10–100; page numbers are then not read.
        assert_eq!(
            paging_of(&[("MaxResults", "5"), ("PageSize", "0")]).expect("tokens"),
            Paging::Tokens { offset: 0, max: 10 }
        );
        assert_eq!(
            paging_of(&[("MaxResults", "1000")]).expect("tokens"),
            Paging::Tokens {
                offset: 0,
                max: 100
            }
        );
        let token = secgroup_api::paging::next_token::encode(20);
        assert_eq!(
            paging_of(&[("NextToken", &token)]).expect("token"),
            Paging::Tokens {
                offset: 20,
                max: 10
            }
        );
    }

    #[test]
    fn bad_paging_values_are_invalid_parameters() {
        for bad in [
            [("PageSize", "101")],
            [("PageSize", "0")],
            [("PageNumber", "0")],
            [("MaxResults", "ten")],
            [("NextToken", "bad")],
        ] {
            let e = paging_of(&bad).expect_err("refused");
            assert_eq!(
                (e.status.as_u16(), e.code.as_ref()),
                (400, "InvalidParameter"),
                "{bad:?}"
            );
            assert!(e.message.contains(bad[0].0), "{}", e.message);
        }
    }

    #[test]
    fn json_filters_and_tags() {
        let d = decode::<DescribeInstances>(&[
            ("RegionId", "cn-hangzhou"),
            ("InstanceIds", r#"["i-a","i-b"]"#),
            ("InstanceNetworkType", "classic"),
        ])
        .expect("filters");
        assert_eq!(d.filter.ids, Some(vec!["i-a".into(), "i-b".into()]));
        assert!(d.filter.nothing);
        for (pairs, code) in [
            (("InstanceIds", "i-a"), "InvalidInstanceIds.Malformed"),
            (("Tag.1.Value", ""), "InvalidTag.Mismatch"),
            (("Status", "Flying"), "InvalidStatus.NotFound"),
        ] {
            let e = decode::<DescribeInstances>(&[("RegionId", "cn-hangzhou"), pairs])
                .expect_err("refused");
            assert_eq!(e.code, code, "{pairs:?}");
        }
    }
}
