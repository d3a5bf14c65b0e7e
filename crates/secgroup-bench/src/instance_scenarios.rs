//! The instance scenarios: `DescribeInstances` filtered by group over 10,000 instances, and
//! `RunInstances` with `Amount=100`. Both make their own VPC, vSwitches and groups through
//! the API (the VPC API for the network).

use std::sync::Arc;

use anyhow::Result;

use crate::load::RequestGen;
use crate::scenario::{BoxFuture, SetupCtx};
use crate::signing::ActionParams;

/// Instances the describe scenario's setup launches, spread evenly over its groups.
const DESCRIBE_INSTANCES: u64 = 10_000;
/// Groups of the describe scenario: the one queried holds 1/10 of the instances.
const DESCRIBE_GROUPS: u64 = 10;
/// vSwitches (`/16`, 65,532 addresses each) the launch scenario spreads its calls over,
/// each with a group of its own, so that no vSwitch fills up during a run and the
/// per-call cost (the vSwitch's used addresses, the group's member count) stays bounded.
const RUN_VSWITCHES: u64 = 64;

fn run_instances(region: &str, vswitch: &str, group: &str, amount: u64) -> ActionParams {
    ActionParams::new("RunInstances")
        .with("RegionId", region)
        .with("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd")
        .with("InstanceType", "ecs.g5.large")
        .with("VSwitchId", vswitch)
        .with("SecurityGroupId", group)
        .with("Amount", amount.to_string())
}

/// `DescribeInstances` with `SecurityGroupId` (and `PageSize=100`) over 10,000 instances in
/// ten groups of 1,000, launched at setup 100 at a time.
pub fn setup_describe_instances(ctx: &mut SetupCtx) -> BoxFuture<'_, Result<RequestGen>> {
    Box::pin(async move {
        let region = ctx.region_id.clone();
        let vpc = ctx.create_vpc("10.0.0.0/8").await?;
        let vswitch = ctx.create_vswitch(&vpc, "10.0.0.0/16").await?;
        let mut groups = Vec::new();
        for g in 0..DESCRIBE_GROUPS {
            groups.push(
                ctx.create_security_group_in(&format!("bench-members-{g}"), &vpc)
                    .await?,
            );
        }
        for call in 0..DESCRIBE_INSTANCES / 100 {
            let group = &groups[(call % DESCRIBE_GROUPS) as usize];
            ctx.api()?
                .call(&run_instances(&region, &vswitch, group, 100))
                .await?;
        }
        let call = ActionParams::new("DescribeInstances")
            .with("RegionId", region)
            .with("SecurityGroupId", groups[0].clone())
            .with("PageSize", "100");
        let gen: RequestGen = Arc::new(move |_| call.clone());
        Ok(gen)
    })
}

/// `RunInstances` with `Amount=100`, round-robin over [`RUN_VSWITCHES`] vSwitches.
pub fn setup_run_100(ctx: &mut SetupCtx) -> BoxFuture<'_, Result<RequestGen>> {
    Box::pin(async move {
        let region = ctx.region_id.clone();
        // A VPC of its own (VPC ids differ, so the blocks may repeat the other scenario's).
        let vpc = ctx.create_vpc("10.0.0.0/8").await?;
        let mut targets = Vec::new();
        for k in 0..RUN_VSWITCHES {
            let vswitch = ctx
                .create_vswitch(&vpc, &format!("10.{}.0.0/16", k + 1))
                .await?;
            let group = ctx
                .create_security_group_in(&format!("bench-run-{k}"), &vpc)
                .await?;
            targets.push((vswitch, group));
        }
        let gen: RequestGen = Arc::new(move |seq| {
            let (vswitch, group) = &targets[(seq % RUN_VSWITCHES) as usize];
            run_instances(&region, vswitch, group, 100)
        });
        Ok(gen)
    })
}
