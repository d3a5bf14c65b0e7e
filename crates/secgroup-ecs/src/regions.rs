//! `DescribeRegions` (docs/ecs.md §5).

use secgroup_domain::regions::Language;
use secgroup_domain::Store;
use secgroup_rpc::{CallContext, Node, Params, RpcError};

use crate::Ecs;

pub async fn describe_regions<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
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
            return Err(crate::errors::invalid("InstanceChargeType"));
        }
    }
    ctx.note_unread(&p);
    let regions = ecs.config.regions.all().iter().map(|r| {
        Node::object()
            .str("RegionId", &r.id)
            .str("LocalName", r.local_name(language))
            .str("RegionEndpoint", format!("ecs.{}.aliyuncs.com", r.id))
            .str("Status", "available")
            .build()
    });
    Ok(Node::object()
        .field("Regions", Node::list("Region", regions))
        .build())
}
