//! `StartInstance`, `StopInstance`, `RebootInstance`, `DeleteInstance`, `DeleteInstances`
//! and `ModifyInstanceAttribute` (docs/ecs.md §7.7–§7.9), each a typed action. A dry run is
//! the framework's: the operation runs and is rolled back.

use secgroup_api::{Action, Cx, Input, Scope};
use secgroup_domain::ids::InstanceId;
use secgroup_domain::ops::instances::lifecycle::{self as ops, Actor, ModifyInstance};
use secgroup_domain::{DomainError, Store, Tx};
use secgroup_rpc::{Node, RpcError};

use super::instance_id;
use crate::errors::{dry_run_success, invalid};
use crate::{strings, Ecs};

/// The caller, the instance timings and the time of this attempt.
fn actor(scope: &Scope) -> Actor<'_> {
    Actor {
        account_id: scope.account(),
        timings: &scope.config().instance_timings,
        placement: &scope.config().placement,
        now: scope.now(),
    }
}

/// Runs a status-machine operation as the caller, now, in one write.
async fn act<S, F>(cx: &Cx<'_, Ecs<S>>, mut op: F) -> Result<Node, RpcError>
where
    S: Store,
    F: FnMut(&mut dyn Tx, &Actor<'_>) -> Result<(), DomainError> + Send + 'static,
{
    cx.write(move |tx, scope| op(tx, &actor(scope))).await?;
    Ok(Node::object().build())
}

#[derive(Debug)]
pub struct StartInstance {
    id: InstanceId,
}

impl<S: Store> Action<Ecs<S>> for StartInstance {
    const NAME: &'static str = "StartInstance";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let id = instance_id(p)?;
        p.bool("InitLocalDisk")?;
        p.dry_run()?;
        Ok(StartInstance { id })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        act(cx, move |tx, a| ops::start(tx, a, &self.id)).await
    }
}

#[derive(Debug)]
pub struct StopInstance {
    id: InstanceId,
    stopped_mode: String,
}

impl<S: Store> Action<Ecs<S>> for StopInstance {
    const NAME: &'static str = "StopInstance";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let id = instance_id(p)?;
        for flag in ["ForceStop", "ConfirmStop", "Hibernate"] {
            p.bool(flag)?;
        }
        let stopped_mode = match p.non_empty("StoppedMode") {
            None => "KeepCharging",
            Some(m @ ("KeepCharging" | "StopCharging")) => m,
            Some(_) => return Err(invalid("StoppedMode")),
        };
        p.dry_run()?;
        Ok(StopInstance {
            id,
            stopped_mode: stopped_mode.to_string(),
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        act(cx, move |tx, a| {
            ops::stop(tx, a, &self.id, &self.stopped_mode)
        })
        .await
    }
}

#[derive(Debug)]
pub struct RebootInstance {
    id: InstanceId,
}

impl<S: Store> Action<Ecs<S>> for RebootInstance {
    const NAME: &'static str = "RebootInstance";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let id = instance_id(p)?;
        p.bool("ForceStop")?;
        p.dry_run()?;
        Ok(RebootInstance { id })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        act(cx, move |tx, a| ops::reboot(tx, a, &self.id)).await
    }
}

/// `Force`, and the flags of a delete that change nothing here.
fn force(p: &mut Input<'_>) -> Result<bool, RpcError> {
    let force = p.bool("Force")?.unwrap_or(false);
    p.bool("ForceStop")?;
    p.bool("TerminateSubscription")?;
    Ok(force)
}

#[derive(Debug)]
pub struct DeleteInstance {
    id: InstanceId,
    force: bool,
}

impl<S: Store> Action<Ecs<S>> for DeleteInstance {
    const NAME: &'static str = "DeleteInstance";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let id = instance_id(p)?;
        let force = force(p)?;
        p.dry_run()?;
        Ok(DeleteInstance { id, force })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        act(cx, move |tx, a| ops::delete(tx, a, &self.id, self.force)).await
    }
}

#[derive(Debug)]
pub struct DeleteInstances {
    region_id: String,
    ids: Vec<InstanceId>,
    force: bool,
}

impl<S: Store> Action<Ecs<S>> for DeleteInstances {
    const NAME: &'static str = "DeleteInstances";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region_id = p.region()?;
        let ids = strings(p, "InstanceId");
        if ids.is_empty() {
            return Err(RpcError::missing("InstanceId"));
        }
        let force = force(p)?;
        p.dry_run()?;
        p.client_token()?;
        Ok(DeleteInstances {
            region_id,
            ids,
            force,
        })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        act(cx, move |tx, a| {
            ops::delete_many(tx, a, &self.region_id, &self.ids, self.force)
        })
        .await
    }

    fn dry_run_passed() -> RpcError {
        dry_run_success()
    }
}

#[derive(Debug)]
pub struct ModifyInstanceAttribute {
    id: InstanceId,
    change: ModifyInstance,
}

impl<S: Store> Action<Ecs<S>> for ModifyInstanceAttribute {
    const NAME: &'static str = "ModifyInstanceAttribute";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let id = instance_id(p)?;
        let groups = strings(p, "SecurityGroupIds");
        let change = ModifyInstance {
            name: p.non_empty("InstanceName").map(str::to_string),
            description: p.optional("Description").map(str::to_string),
            host_name: p.non_empty("HostName").map(str::to_string),
            deletion_protection: p.bool("DeletionProtection")?,
            credit_specification: p.non_empty("CreditSpecification").map(str::to_string),
            security_group_ids: (!groups.is_empty()).then_some(groups),
        };
        // Accepted, not simulated.
        for name in ["Password", "UserData", "NetworkInterfaceQueueNumber"] {
            p.optional(name);
        }
        for flag in ["Recyclable", "EnableJumboFrame", "EnableNetworkEncryption"] {
            p.bool(flag)?;
        }
        Ok(ModifyInstanceAttribute { id, change })
    }

    async fn run(self, cx: &Cx<'_, Ecs<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            let limits = &scope.config().limits;
            ops::modify_attribute(tx, &actor(scope), &self.id, &self.change, limits)
        })
        .await?;
        Ok(Node::object().build())
    }

    /// The replace-the-set `SecurityGroupIds.N` documents its own codes (docs/ecs.md §7.9).
    fn wording(err: &DomainError) -> Option<RpcError> {
        match err {
            DomainError::InstanceSecurityGroupLimitExceeded(max) => Some(RpcError::new(
                400,
                "JoinedGroupLimitExceed",
                format!(
                    "The number of security groups that the instance joins exceeds the limit of {max}."
                ),
            )),
            DomainError::SecurityGroupVpcMismatch => Some(RpcError::new(
                404,
                "InvalidSecurityGroupVpc.NotBelongToOneVpc",
                "The specified SecurityGroupIds are belong to different vpc.",
            )),
            _ => None,
        }
    }
}
