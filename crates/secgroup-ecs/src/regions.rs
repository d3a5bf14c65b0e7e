//! `DescribeRegions` (docs/ecs.md §5), a typed action: the configured regions, no
//! transaction.

use secgroup_api::{Action, Cx, Input};
use secgroup_domain::regions::Language;
use secgroup_domain::Store;
use secgroup_rpc::{Node, RpcError};

use crate::errors::invalid;
use crate::Ecs;

#[derive(Debug)]
pub struct DescribeRegions {
    language: Language,
}

impl<S: Store> Action<Ecs<S>> for DescribeRegions {
    const NAME: &'static str = "DescribeRegions";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        // Legacy SDKs always send the client's region; the operation takes none.
        p.optional("RegionId");
        let language = match p.non_empty("AcceptLanguage") {
            None => Language::Chinese,
            Some(v) => Language::parse(v).ok_or_else(|| {
                RpcError::new(
                    404,
                    "InvalidAcceptLanguage.NotFound",
                    "Only Chinese (zh-CN), English (en-US), and Japanese (ja) are allowed.",
                )
            })?,
        };
        if let Some(rt) = p.non_empty("ResourceType") {
            if !["instance", "disk", "reservedinstance", "scu"].contains(&rt) {
                return Err(RpcError::new(
                    404,
                    "InvalidResourceType.NotFound",
                    "The ResourceType provided does not exist in our records.",
                ));
            }
        }
        if let Some(ct) = p.non_empty("InstanceChargeType") {
            if !["PrePaid", "PostPaid", "SpotWithPriceLimit", "SpotAsPriceGo"].contains(&ct) {
                return Err(invalid("InstanceChargeType"));
            }
        }
        Ok(DescribeRegions { language })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        let regions = cx.config().regions.all().iter().map(|r| {
            Node::object()
                .str("RegionId", &r.id)
                .str("LocalName", r.local_name(self.language))
                .str("RegionEndpoint", format!("ecs.{}.aliyuncs.com", r.id))
                .str("Status", "available")
                .build()
        });
        Ok(Node::object()
            .field("Regions", Node::list("Region", regions))
            .build())
    }
}
