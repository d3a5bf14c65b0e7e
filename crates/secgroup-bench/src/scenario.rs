//! The scenarios. A scenario is a name, the server it targets, an optional throughput
//! target relative to the bare server, and a setup that prepares state through the API and
//! returns the request-parameter generator.
//!
//! To add one (say `AuthorizeSecurityGroup` with 100 permissions, or `RunInstances`):
//! write a `fn setup_x(ctx: &mut SetupCtx) -> BoxFuture<'_, Result<RequestGen>>` that makes
//! whatever it needs with `ctx.api()` (e.g. its own group via `ctx.create_security_group`)
//! and returns a closure `seq -> ActionParams`, then append a [`Scenario`] to [`all`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::{Context, Result};

use crate::client::ApiClient;
use crate::load::RequestGen;
use crate::signing::ActionParams;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The server a scenario sends its load to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The bare axum hello server: the ceiling of HTTP + client cost on this machine.
    Bare,
    /// The real `secgroup` server.
    Secgroup,
}

pub type SetupFn = for<'a> fn(&'a mut SetupCtx) -> BoxFuture<'a, Result<RequestGen>>;

pub struct Scenario {
    /// Short name used by `--scenario` and in the JSON output.
    pub name: &'static str,
    /// What the table shows (usually the action).
    pub label: &'static str,
    pub target: Target,
    /// Minimum req/s as a fraction of the bare server's (a target, reported PASS/MISS).
    pub min_ratio_to_bare: Option<f64>,
    /// Median latency target (ms), if the scenario has one.
    pub max_p50_ms: Option<f64>,
    /// Connections for this scenario instead of `--connections` (a latency measurement).
    pub connections: Option<usize>,
    pub setup: SetupFn,
}

/// What setups share: the API client of the secgroup server (absent when no selected
/// scenario needs it) and the security group created at startup.
pub struct SetupCtx {
    api: Option<ApiClient>,
    pub region_id: String,
    /// The group made by the initial `CreateSecurityGroup` (a placeholder without server).
    pub security_group_id: String,
    /// The VPC the groups of `create_security_group` go into, made on first use.
    bench_vpc: Option<String>,
}

impl SetupCtx {
    pub fn new(api: Option<ApiClient>, region_id: String) -> Self {
        SetupCtx {
            api,
            region_id,
            security_group_id: "sg-bench-placeholder".to_string(),
            bench_vpc: None,
        }
    }

    pub fn api(&mut self) -> Result<&mut ApiClient> {
        self.api
            .as_mut()
            .context("this scenario needs the secgroup server")
    }

    /// `CreateVpc` (VPC API); returns the new `VpcId`.
    pub async fn create_vpc(&mut self, cidr: &str) -> Result<String> {
        let call = ActionParams::vpc("CreateVpc")
            .with("RegionId", self.region_id.clone())
            .with("CidrBlock", cidr);
        self.api()?.call_for(&call, "VpcId").await
    }

    /// `CreateVSwitch` in zone `<region>-b` (VPC API); returns the new `VSwitchId`.
    pub async fn create_vswitch(&mut self, vpc_id: &str, cidr: &str) -> Result<String> {
        let call = ActionParams::vpc("CreateVSwitch")
            .with("RegionId", self.region_id.clone())
            .with("VpcId", vpc_id)
            .with("ZoneId", format!("{}-b", self.region_id))
            .with("CidrBlock", cidr);
        self.api()?.call_for(&call, "VSwitchId").await
    }

    /// `CreateSecurityGroup` (basic) in a real VPC; returns the new `SecurityGroupId`.
    pub async fn create_security_group_in(&mut self, name: &str, vpc_id: &str) -> Result<String> {
        let call = ActionParams::new("CreateSecurityGroup")
            .with("RegionId", self.region_id.clone())
            .with("SecurityGroupType", "normal")
            .with("VpcId", vpc_id)
            .with("SecurityGroupName", name);
        self.api()?.call_for(&call, "SecurityGroupId").await
    }

    /// `CreateSecurityGroup` in the bench VPC (a real one: `VpcId` must exist); returns
    /// the new `SecurityGroupId`.
    pub async fn create_security_group(&mut self, name: &str) -> Result<String> {
        let vpc = match &self.bench_vpc {
            Some(vpc) => vpc.clone(),
            None => {
                let vpc = self.create_vpc("192.168.0.0/16").await?;
                self.bench_vpc = Some(vpc.clone());
                vpc
            }
        };
        self.create_security_group_in(name, &vpc).await
    }
}

/// Every scenario, in run order (the bare baseline first: the others' ratios need it).
pub fn all() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "bare",
            label: "bare axum server",
            target: Target::Bare,
            min_ratio_to_bare: None,
            max_p50_ms: None,
            connections: None,
            setup: setup_describe,
        },
        Scenario {
            name: "describe",
            label: "DescribeSecurityGroupAttribute",
            target: Target::Secgroup,
            min_ratio_to_bare: Some(0.40),
            max_p50_ms: None,
            connections: None,
            setup: setup_describe,
        },
        Scenario {
            name: "modify",
            label: "ModifySecurityGroupPolicy",
            target: Target::Secgroup,
            min_ratio_to_bare: Some(0.15),
            max_p50_ms: None,
            connections: None,
            setup: setup_modify_policy,
        },
        Scenario {
            name: "authorize100",
            label: "Authorize/Revoke 100 permissions",
            target: Target::Secgroup,
            min_ratio_to_bare: None,
            max_p50_ms: None,
            connections: None,
            setup: setup_authorize_100,
        },
        Scenario {
            name: "describe1000",
            label: "DescribeSecurityGroupAttribute, 1,000 rules",
            target: Target::Secgroup,
            min_ratio_to_bare: None,
            // A latency target: one request at a time, so queueing does not hide the cost.
            max_p50_ms: Some(5.0),
            connections: Some(1),
            setup: setup_describe_1000,
        },
        Scenario {
            name: "describe_instances",
            label: "DescribeInstances by SecurityGroupId, 10,000 instances",
            target: Target::Secgroup,
            min_ratio_to_bare: None,
            // A latency target: one request at a time, so queueing does not hide the cost.
            max_p50_ms: Some(20.0),
            connections: Some(1),
            setup: crate::instance_scenarios::setup_describe_instances,
        },
        Scenario {
            name: "run100",
            label: "RunInstances, Amount=100",
            target: Target::Secgroup,
            min_ratio_to_bare: None,
            max_p50_ms: None,
            connections: None,
            setup: crate::instance_scenarios::setup_run_100,
        },
        Scenario {
            name: "nis_analyze",
            label: "NIS CreateAndAnalyzeNetworkPath, 1,000 instances, 2,000 rules",
            target: Target::Secgroup,
            min_ratio_to_bare: None,
            max_p50_ms: None,
            connections: Some(1),
            setup: crate::reach_scenarios::setup_nis_analyze,
        },
        Scenario {
            name: "check_reachability",
            label: "CheckReachability, 1,000 instances, 2,000 rules",
            target: Target::Secgroup,
            min_ratio_to_bare: None,
            max_p50_ms: Some(1.0),
            connections: Some(1),
            setup: crate::reach_scenarios::setup_check_reachability,
        },
        Scenario {
            name: "matrix1000",
            label: "DescribeReachabilityMatrix, VPC of 1,000 instances",
            target: Target::Secgroup,
            min_ratio_to_bare: None,
            max_p50_ms: Some(30.0),
            connections: Some(1),
            setup: crate::reach_scenarios::setup_matrix,
        },
        Scenario {
            name: "check_after_write",
            label: "Revoke/Authorize, each followed by CheckReachability, 1,000 instances",
            target: Target::Secgroup,
            min_ratio_to_bare: None,
            max_p50_ms: None,
            connections: Some(1),
            setup: crate::reach_scenarios::setup_check_after_write,
        },
    ]
}

/// Groups the authorize scenario spreads its calls over.
const AUTHORIZE_GROUPS: u64 = 16;

/// `AuthorizeSecurityGroup` with 100 permissions per call. Every second call revokes the
/// same 100 by parameters, so each group stays bounded and most authorizations insert.
fn setup_authorize_100(ctx: &mut SetupCtx) -> BoxFuture<'_, Result<RequestGen>> {
    Box::pin(async move {
        let mut groups = Vec::new();
        for i in 0..AUTHORIZE_GROUPS {
            groups.push(
                ctx.create_security_group(&format!("bench-authorize-{i}"))
                    .await?,
            );
        }
        let region = ctx.region_id.clone();
        let gen: RequestGen = Arc::new(move |seq| {
            let group = &groups[((seq / 2) % AUTHORIZE_GROUPS) as usize];
            let action = if seq % 2 == 0 {
                "AuthorizeSecurityGroup"
            } else {
                "RevokeSecurityGroup"
            };
            with_permissions(ActionParams::new(action), 0..100)
                .with("RegionId", region.clone())
                .with("SecurityGroupId", group.clone())
        });
        Ok(gen)
    })
}

/// `DescribeSecurityGroupAttribute` of a group holding 1,000 rules (10 × 100 authorized at setup).
fn setup_describe_1000(ctx: &mut SetupCtx) -> BoxFuture<'_, Result<RequestGen>> {
    Box::pin(async move {
        let group = ctx.create_security_group("bench-1000-rules").await?;
        let region = ctx.region_id.clone();
        for batch in 0..10u32 {
            let call = with_permissions(
                ActionParams::new("AuthorizeSecurityGroup"),
                batch * 100..(batch + 1) * 100,
            )
            .with("RegionId", region.clone())
            .with("SecurityGroupId", group.clone());
            ctx.api()?.call(&call).await?;
        }
        let call = ActionParams::new("DescribeSecurityGroupAttribute")
            .with("RegionId", region)
            .with("SecurityGroupId", group)
            .with("MaxResults", "1000");
        let gen: RequestGen = Arc::new(move |_| call.clone());
        Ok(gen)
    })
}

/// `Permissions.N.*` for rules numbered `range`: TCP, one port each, from 10.0.0.0/8.
fn with_permissions(mut call: ActionParams, range: std::ops::Range<u32>) -> ActionParams {
    for (n, rule) in range.enumerate() {
        let prefix = format!("Permissions.{}", n + 1);
        let port = 1000 + rule;
        call = call
            .with(&format!("{prefix}.IpProtocol"), "tcp")
            .with(&format!("{prefix}.PortRange"), format!("{port}/{port}"))
            .with(&format!("{prefix}.SourceCidrIp"), "10.0.0.0/8")
            .with(
                &format!("{prefix}.Description"),
                format!("bench rule {rule}"),
            );
    }
    call
}

/// `DescribeSecurityGroupAttribute` of the startup group. The bare scenario sends the very
/// same requests, so the client-side cost is identical.
fn setup_describe(ctx: &mut SetupCtx) -> BoxFuture<'_, Result<RequestGen>> {
    let call = ActionParams::new("DescribeSecurityGroupAttribute")
        .with("RegionId", ctx.region_id.clone())
        .with("SecurityGroupId", ctx.security_group_id.clone());
    Box::pin(async move {
        let gen: RequestGen = Arc::new(move |_| call.clone());
        Ok(gen)
    })
}

/// `ModifySecurityGroupPolicy` on the startup group, alternating Accept and Drop.
fn setup_modify_policy(ctx: &mut SetupCtx) -> BoxFuture<'_, Result<RequestGen>> {
    let base = ActionParams::new("ModifySecurityGroupPolicy")
        .with("RegionId", ctx.region_id.clone())
        .with("SecurityGroupId", ctx.security_group_id.clone());
    Box::pin(async move {
        let gen: RequestGen = Arc::new(move |seq| {
            let policy = if seq % 2 == 0 { "Accept" } else { "Drop" };
            base.clone().with("InnerAccessPolicy", policy)
        });
        Ok(gen)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_bare_comes_first() {
        let all = all();
        assert_eq!(all[0].target, Target::Bare);
        let mut names: Vec<_> = all.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }

    #[tokio::test]
    async fn modify_alternates_policies() {
        let mut ctx = SetupCtx::new(None, "cn-hangzhou".into());
        let gen = setup_modify_policy(&mut ctx).await.expect("setup");
        let policy = |seq| {
            gen(seq)
                .params
                .iter()
                .find(|(k, _)| k == "InnerAccessPolicy")
                .map(|(_, v)| v.clone())
                .expect("policy param")
        };
        assert_eq!((policy(0).as_str(), policy(1).as_str()), ("Accept", "Drop"));
    }
}
