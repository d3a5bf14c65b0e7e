//! `StartInstance`, `StopInstance`, `RebootInstance`, `DeleteInstance`, `DeleteInstances`
//! and `ModifyInstanceAttribute` (docs/ecs.md §7.7–§7.9).

use chrono::Utc;
use secgroup_domain::ops::idempotency;
use secgroup_domain::ops::instances::lifecycle::{self as ops, Actor, ModifyInstance};
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::{CallContext, Node, Params, RpcError};

use super::{dry_run, instance_id};
use crate::decode;
use crate::errors::{from_domain, invalid, missing};
use crate::security_groups::client_token;
use crate::Ecs;

/// Which status-machine operation a handler runs.
#[derive(Debug, Clone)]
enum Step {
    Start,
    Stop { stopped_mode: String },
    Reboot,
    Delete { force: bool },
}

async fn step<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    id: String,
    step: Step,
    dry_run: bool,
) -> Result<Node, RpcError> {
    let account = ctx.account_id.clone();
    let timings = ecs.config.instance_timings;
    ecs.write(move |tx| {
        let a = Actor {
            account_id: &account,
            timings: &timings,
            dry_run,
            now: Utc::now(),
        };
        match &step {
            Step::Start => ops::start(tx, &a, &id),
            Step::Stop { stopped_mode } => ops::stop(tx, &a, &id, stopped_mode),
            Step::Reboot => ops::reboot(tx, &a, &id),
            Step::Delete { force } => ops::delete(tx, &a, &id, *force),
        }
    })
    .await?;
    Ok(Node::object().build())
}

pub async fn start<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let id = instance_id(&mut p)?;
    decode::bool(&mut p, "InitLocalDisk")?;
    let dry = dry_run(&mut p)?;
    ctx.note_unread(&p);
    step(ecs, ctx, id, Step::Start, dry).await
}

pub async fn stop<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let id = instance_id(&mut p)?;
    for flag in ["ForceStop", "ConfirmStop", "Hibernate"] {
        decode::bool(&mut p, flag)?;
    }
    let stopped_mode = match p.non_empty("StoppedMode") {
        None => "KeepCharging",
        Some(m @ ("KeepCharging" | "StopCharging")) => m,
        Some(_) => return Err(invalid("StoppedMode")),
    };
    let dry = dry_run(&mut p)?;
    ctx.note_unread(&p);
    let stopped_mode = stopped_mode.to_string();
    step(ecs, ctx, id, Step::Stop { stopped_mode }, dry).await
}

pub async fn reboot<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let id = instance_id(&mut p)?;
    decode::bool(&mut p, "ForceStop")?;
    let dry = dry_run(&mut p)?;
    ctx.note_unread(&p);
    step(ecs, ctx, id, Step::Reboot, dry).await
}

pub async fn delete<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let id = instance_id(&mut p)?;
    let force = decode::bool(&mut p, "Force")?.unwrap_or(false);
    decode::bool(&mut p, "ForceStop")?;
    decode::bool(&mut p, "TerminateSubscription")?;
    let dry = dry_run(&mut p)?;
    ctx.note_unread(&p);
    step(ecs, ctx, id, Step::Delete { force }, dry).await
}

/// `DeleteInstances` answers a passed dry run with its own code (docs/ecs.md §2.10).
fn dry_run_success() -> RpcError {
    RpcError::new(
        400,
        "DRYRUN.SUCCESS",
        "This request is a dryrun request with successful result.",
    )
}

pub async fn delete_many<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region_id = decode::region(&mut p, &ctx.action, &ecs.config.regions)?;
    let ids: Vec<String> = p
        .string_list("InstanceId")
        .into_iter()
        .filter(|id| !id.is_empty())
        .map(str::to_string)
        .collect();
    if ids.is_empty() {
        return Err(missing("InstanceId"));
    }
    let force = decode::bool(&mut p, "Force")?.unwrap_or(false);
    decode::bool(&mut p, "ForceStop")?;
    decode::bool(&mut p, "TerminateSubscription")?;
    let dry = dry_run(&mut p)?;
    let token = client_token(ctx, params, p.optional("ClientToken"))?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let timings = ecs.config.instance_timings;
    let result = ecs
        .store
        .write(move |tx| {
            let now = Utc::now();
            let a = Actor {
                account_id: &account,
                timings: &timings,
                dry_run: dry,
                now,
            };
            let token = if dry { None } else { token.as_ref() };
            idempotency::once(tx, &account, token, now, |tx| {
                ops::delete_many(tx, &a, &region_id, &ids, force)
            })
        })
        .await;
    match result {
        Ok(()) => Ok(Node::object().build()),
        Err(DomainError::DryRunOperation) => Err(dry_run_success()),
        Err(e) => Err(from_domain(e)),
    }
}

pub async fn modify_attribute<S: Store>(
    ecs: &Ecs<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let id = instance_id(&mut p)?;
    let groups: Vec<String> = p
        .string_list("SecurityGroupIds")
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect();
    let m = ModifyInstance {
        name: p.non_empty("InstanceName").map(str::to_string),
        description: p.optional("Description").map(str::to_string),
        host_name: p.non_empty("HostName").map(str::to_string),
        deletion_protection: decode::bool(&mut p, "DeletionProtection")?,
        credit_specification: p.non_empty("CreditSpecification").map(str::to_string),
        security_group_ids: (!groups.is_empty()).then_some(groups),
    };
    // Accepted, not simulated.
    for name in ["Password", "UserData", "NetworkInterfaceQueueNumber"] {
        p.optional(name);
    }
    for flag in ["Recyclable", "EnableJumboFrame", "EnableNetworkEncryption"] {
        decode::bool(&mut p, flag)?;
    }
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let timings = ecs.config.instance_timings;
    let limits = ecs.config.limits.clone();
    ecs.write(move |tx| {
        let a = Actor {
            account_id: &account,
            timings: &timings,
            dry_run: false,
            now: Utc::now(),
        };
        ops::modify_attribute(tx, &a, &id, &m, &limits)
    })
    .await?;
    Ok(Node::object().build())
}
