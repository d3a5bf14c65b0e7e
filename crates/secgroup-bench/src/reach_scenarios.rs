//! The reachability API figures: one flow through NIS (`CreateAndAnalyzeNetworkPath`) and
//! through the extension (`CheckReachability`), and the all-pairs matrix of a VPC
//! (`DescribeReachabilityMatrix`), each over a network of 1,000 instances in 20 groups with
//! 2,000 rules made through the API. Every request reads the account's whole network and
//! compiles it, so these figures are what one question costs end to end.
//!
//! `check_after_write` asks about one pair right after each write that changes its answer:
//! what a question costs when the network it asks about has just changed.

use std::sync::Arc;

use anyhow::{Context, Result};

use crate::load::RequestGen;
use crate::scenario::{BoxFuture, SetupCtx};
use crate::signing::ActionParams;

const NIS_VERSION: &str = "2021-12-16";
const EXTENSION_VERSION: &str = "x-secgroup-2026-11-01";
const INSTANCES: usize = 1_000;
const GROUPS: usize = 20;
/// Per group: 50 group-peer rules would exceed the 20 allowed, so 95 CIDR rules and 5 peers.
const CIDR_RULES_PER_GROUP: usize = 95;
const GROUP_RULES_PER_GROUP: usize = 5;

/// The network the reachability scenarios ask about.
struct Network {
    vpc: String,
    /// Oldest first: instance `i` is in group `i / 100`.
    instances: Vec<String>,
    groups: Vec<String>,
}

async fn network(ctx: &mut SetupCtx) -> Result<Network> {
    let region = ctx.region_id.clone();
    let vpc = ctx.create_vpc("10.0.0.0/8").await?;
    let vswitch = ctx.create_vswitch(&vpc, "10.0.0.0/16").await?;
    let mut groups = Vec::new();
    for g in 0..GROUPS {
        groups.push(
            ctx.create_security_group_in(&format!("bench-reach-{g}"), &vpc)
                .await?,
        );
    }
    for (g, group) in groups.iter().enumerate() {
        let mut call = ActionParams::new("AuthorizeSecurityGroup")
            .with("RegionId", region.clone())
            .with("SecurityGroupId", group.clone());
        for r in 0..CIDR_RULES_PER_GROUP {
            let n = r + 1;
            call = call
                .with(&format!("Permissions.{n}.IpProtocol"), "tcp")
                .with(
                    &format!("Permissions.{n}.PortRange"),
                    format!("{}/{}", 1000 + r, 1000 + r),
                )
                .with(
                    &format!("Permissions.{n}.SourceCidrIp"),
                    format!("10.{g}.{r}.0/24"),
                )
                .with(
                    &format!("Permissions.{n}.Priority"),
                    ((r % 100) + 1).to_string(),
                );
        }
        for p in 0..GROUP_RULES_PER_GROUP {
            let n = CIDR_RULES_PER_GROUP + p + 1;
            let peer = &groups[(g + p + 1) % GROUPS];
            call = call
                .with(&format!("Permissions.{n}.IpProtocol"), "tcp")
                .with(&format!("Permissions.{n}.PortRange"), "22/22")
                .with(&format!("Permissions.{n}.SourceGroupId"), peer.clone());
        }
        ctx.api()?.call(&call).await?;
    }
    let mut instances = Vec::with_capacity(INSTANCES);
    for batch in 0..INSTANCES / 100 {
        let call = ActionParams::new("RunInstances")
            .with("RegionId", region.clone())
            .with("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd")
            .with("InstanceType", "ecs.g5.large")
            .with("VSwitchId", vswitch.clone())
            .with("SecurityGroupId", groups[batch % GROUPS].clone())
            .with("Amount", "100");
        let body = ctx.api()?.call(&call).await?;
        let ids = body["InstanceIdSets"]["InstanceIdSet"]
            .as_array()
            .context("RunInstances answered no InstanceIdSet")?;
        instances.extend(ids.iter().filter_map(|v| v.as_str().map(str::to_string)));
    }
    Ok(Network {
        vpc,
        instances,
        groups,
    })
}

/// A different (source, target) pair for each request, over the whole network.
fn pair(instances: &[String], seq: u64) -> (String, String) {
    let n = instances.len() as u64;
    let source = seq % n;
    let target = (seq * 7 + 1) % n;
    let target = if target == source {
        (target + 1) % n
    } else {
        target
    };
    (
        instances[source as usize].clone(),
        instances[target as usize].clone(),
    )
}

/// NIS `CreateAndAnalyzeNetworkPath`, tcp/22, between changing pairs.
pub fn setup_nis_analyze(ctx: &mut SetupCtx) -> BoxFuture<'_, Result<RequestGen>> {
    Box::pin(async move {
        let region = ctx.region_id.clone();
        let net = network(ctx).await?;
        let gen: RequestGen = Arc::new(move |seq| {
            let (source, target) = pair(&net.instances, seq);
            ActionParams::versioned(NIS_VERSION, "CreateAndAnalyzeNetworkPath")
                .with("RegionId", region.clone())
                .with("SourceId", source)
                .with("SourceType", "ecs")
                .with("TargetId", target)
                .with("TargetType", "ecs")
                .with("Protocol", "tcp")
                .with("TargetPort", "22")
        });
        Ok(gen)
    })
}

/// The extension's `CheckReachability`, tcp/22, between changing pairs.
pub fn setup_check_reachability(ctx: &mut SetupCtx) -> BoxFuture<'_, Result<RequestGen>> {
    Box::pin(async move {
        let region = ctx.region_id.clone();
        let net = network(ctx).await?;
        let gen: RequestGen = Arc::new(move |seq| {
            let (source, target) = pair(&net.instances, seq);
            ActionParams::versioned(EXTENSION_VERSION, "CheckReachability")
                .with("RegionId", region.clone())
                .with("SourceInstanceId", source)
                .with("DestinationInstanceId", target)
                .with("Protocol", "tcp")
                .with("Port", "22")
        });
        Ok(gen)
    })
}

/// The extension's `DescribeReachabilityMatrix` of the 1,000-instance VPC, tcp/22.
pub fn setup_matrix(ctx: &mut SetupCtx) -> BoxFuture<'_, Result<RequestGen>> {
    Box::pin(async move {
        let region = ctx.region_id.clone();
        let net = network(ctx).await?;
        let call = ActionParams::versioned(EXTENSION_VERSION, "DescribeReachabilityMatrix")
            .with("RegionId", region)
            .with("VpcId", net.vpc)
            .with("Protocol", "tcp")
            .with("Port", "22");
        let gen: RequestGen = Arc::new(move |_| call.clone());
        Ok(gen)
    })
}

/// The pair `check_after_write` asks about: an instance of group 1 to one of group 0, tcp/22,
/// allowed by group 0's rule naming group 1 (and by nothing else).
fn watched_pair(net: &Network) -> Result<(String, String, String, String)> {
    let source = net.instances.get(100).context("no instance in group 1")?;
    let target = net.instances.first().context("no instance in group 0")?;
    let (allowing, allowed) = (
        net.groups.first().context("no group 0")?,
        net.groups.get(1).context("no group 1")?,
    );
    Ok((
        source.clone(),
        target.clone(),
        allowing.clone(),
        allowed.clone(),
    ))
}

/// Step `seq` of the cycle revoke, check (denied), authorize, check (allowed).
fn after_write_step(
    region: &str,
    (source, target, allowing, allowed): &(String, String, String, String),
    seq: u64,
) -> ActionParams {
    let rule = |action: &str| {
        ActionParams::new(action)
            .with("RegionId", region.to_string())
            .with("SecurityGroupId", allowing.clone())
            .with("IpProtocol", "tcp")
            .with("PortRange", "22/22")
            .with("SourceGroupId", allowed.clone())
    };
    match seq % 4 {
        0 => rule("RevokeSecurityGroup"),
        2 => rule("AuthorizeSecurityGroup"),
        _ => ActionParams::versioned(EXTENSION_VERSION, "CheckReachability")
            .with("RegionId", region.to_string())
            .with("SourceInstanceId", source.clone())
            .with("DestinationInstanceId", target.clone())
            .with("Protocol", "tcp")
            .with("Port", "22"),
    }
}

/// Alternating writes and `CheckReachability`: revoke the rule that allows the watched pair,
/// ask, authorize it again, ask. The setup first walks the cycle a few times and fails
/// unless every answer follows the write just before it; the load then measures writes and
/// questions together, every question asked of a network that just changed.
pub fn setup_check_after_write(ctx: &mut SetupCtx) -> BoxFuture<'_, Result<RequestGen>> {
    Box::pin(async move {
        let region = ctx.region_id.clone();
        let net = network(ctx).await?;
        let pair = watched_pair(&net)?;
        for seq in 0..20u64 {
            let body = ctx
                .api()?
                .call(&after_write_step(&region, &pair, seq))
                .await?;
            if seq % 2 == 1 {
                let expected = seq % 4 == 3;
                let answered = body["Reachable"].as_bool();
                if answered != Some(expected) {
                    anyhow::bail!(
                        "CheckReachability after a write answered Reachable={answered:?}, expected {expected}: {body}"
                    );
                }
            }
        }
        let gen: RequestGen = Arc::new(move |seq| after_write_step(&region, &pair, seq));
        Ok(gen)
    })
}
