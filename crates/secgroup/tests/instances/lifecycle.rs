//! The status machine (docs/ecs.md §7.1, §7.7, §7.8) with instant and with delayed
//! transitions.

use std::time::Duration;

use secgroup::Settings;
use secgroup_domain::ops::instances::InstanceTimings;

use super::{describe_one, listed, net, ok, outcome, run};
use crate::common::{create_group, TestServer};

#[tokio::test]
async fn start_stop_reboot_delete_follow_the_state_table() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let id = ok(
        &c,
        "CreateInstance",
        &[
            ("InstanceType", "ecs.g5.large"),
            ("VSwitchId", &n.vsw),
            ("SecurityGroupId", &n.sg),
        ],
    )
    .await["InstanceId"]
        .as_str()
        .expect("id")
        .to_string();
    let status = |v: serde_json::Value| v["Status"].as_str().unwrap_or("").to_string();
    let i = [("InstanceId", id.as_str())];
    assert_eq!(
        status(describe_one(&c, &id).await),
        "Stopped",
        "CreateInstance ends Stopped"
    );
    assert_eq!(describe_one(&c, &id).await["StartTime"], "");
    let refused = (403, "IncorrectInstanceStatus".to_string());
    assert_eq!(outcome(&c, "StopInstance", &i).await, refused);
    assert_eq!(outcome(&c, "RebootInstance", &i).await, refused);

    ok(&c, "StartInstance", &i).await;
    assert_eq!(status(describe_one(&c, &id).await), "Running");
    assert_eq!(outcome(&c, "StartInstance", &i).await, refused);
    assert_eq!(
        outcome(&c, "DeleteInstance", &i).await,
        refused,
        "Running needs Force"
    );

    ok(&c, "RebootInstance", &i).await;
    assert_eq!(status(describe_one(&c, &id).await), "Running");

    ok(
        &c,
        "StopInstance",
        &[("InstanceId", &id), ("StoppedMode", "StopCharging")],
    )
    .await;
    let stopped = describe_one(&c, &id).await;
    assert_eq!(
        (status(stopped.clone()), stopped["StoppedMode"].as_str()),
        ("Stopped".into(), Some("StopCharging"))
    );
    let attr = ok(&c, "DescribeInstanceAttribute", &i).await;
    assert_eq!(attr["StoppedMode"], "StopCharging");

    // Deletion protection holds even a Stopped instance.
    ok(
        &c,
        "ModifyInstanceAttribute",
        &[("InstanceId", &id), ("DeletionProtection", "true")],
    )
    .await;
    assert_eq!(
        outcome(&c, "DeleteInstance", &i).await,
        (403, "InvalidOperation.DeletionProtection".into())
    );
    ok(
        &c,
        "ModifyInstanceAttribute",
        &[("InstanceId", &id), ("DeletionProtection", "false")],
    )
    .await;
    assert_eq!(
        outcome(
            &c,
            "DeleteInstance",
            &[("InstanceId", &id), ("DryRun", "true")]
        )
        .await,
        (400, "DryRunOperation".into())
    );
    ok(&c, "DeleteInstance", &i).await;
    assert!(listed(&c, &[]).await.is_empty());
    assert_eq!(
        outcome(&c, "DeleteInstance", &i).await,
        (404, "InvalidInstanceId.NotFound".into())
    );

    // Force deletes a Running one; ModifyInstanceAttribute renames.
    let id = run(&c, &n.vsw, &n.sg, &[]).await.remove(0);
    ok(
        &c,
        "ModifyInstanceAttribute",
        &[
            ("InstanceId", &id),
            ("InstanceName", "renamed"),
            ("Description", "about it"),
            ("HostName", "h-1"),
        ],
    )
    .await;
    let i = describe_one(&c, &id).await;
    assert_eq!(
        (
            i["InstanceName"].as_str(),
            i["Description"].as_str(),
            i["HostName"].as_str()
        ),
        (Some("renamed"), Some("about it"), Some("h-1"))
    );
    ok(
        &c,
        "DeleteInstance",
        &[("InstanceId", &id), ("Force", "true")],
    )
    .await;
}

/// How long each transient state lasts in [`transient_states_settle_after_their_delay`].
const TRANSITION: Duration = Duration::from_secs(2);

/// Sleeps until `phases` transitions after `anchor` plus half of one: the middle of a
/// state's window. `anchor` is taken just before the call that starts the transitions, so
/// the server's clock started at most one call's latency later; the check has half a
/// transition of slack either way, even on a busy machine.
async fn mid_window(anchor: tokio::time::Instant, phases: u32) {
    tokio::time::sleep_until(anchor + TRANSITION * phases + TRANSITION / 2).await;
}

#[tokio::test]
async fn transient_states_settle_after_their_delay() {
    let mut settings = Settings::default();
    settings.products.instance_timings = InstanceTimings::uniform(TRANSITION);
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let sg2 = create_group(&c, &[("VpcId", &n.vpc)]).await;
    let launched = tokio::time::Instant::now();
    let id = run(&c, &n.vsw, &n.sg, &[]).await.remove(0);
    assert_eq!(describe_one(&c, &id).await["Status"], "Pending");
    assert_eq!(listed(&c, &[("Status", "Pending")]).await.len(), 1);
    let i = [("InstanceId", id.as_str())];
    assert_eq!(
        outcome(
            &c,
            "DeleteInstance",
            &[("InstanceId", &id), ("Force", "true")]
        )
        .await,
        (403, "IncorrectInstanceStatus.Initializing".into())
    );
    assert_eq!(
        outcome(
            &c,
            "JoinSecurityGroup",
            &[("InstanceId", &id), ("SecurityGroupId", &sg2)]
        )
        .await,
        (403, "IncorrectInstanceStatus".into())
    );
    assert_eq!(
        outcome(
            &c,
            "ModifyInstanceAttribute",
            &[("InstanceId", &id), ("SecurityGroupIds.1", &sg2)]
        )
        .await,
        (403, "IncorrectInstanceStatus".into()),
        "not while Pending"
    );
    mid_window(launched, 1).await;
    assert_eq!(describe_one(&c, &id).await["Status"], "Starting");
    ok(
        &c,
        "ModifyInstanceAttribute",
        &[("InstanceId", &id), ("SecurityGroupIds.1", &sg2)],
    )
    .await;
    mid_window(launched, 2).await;
    assert_eq!(describe_one(&c, &id).await["Status"], "Running");

    let stopped = tokio::time::Instant::now();
    ok(&c, "StopInstance", &i).await;
    assert_eq!(describe_one(&c, &id).await["Status"], "Stopping");
    assert_eq!(
        outcome(&c, "StartInstance", &i).await,
        (403, "IncorrectInstanceStatus".into())
    );
    // Force deletes a Stopping instance; without it only Stopped ones go.
    assert_eq!(
        outcome(&c, "DeleteInstance", &i).await,
        (403, "IncorrectInstanceStatus".into())
    );
    mid_window(stopped, 1).await;
    assert_eq!(describe_one(&c, &id).await["Status"], "Stopped");
    let started = tokio::time::Instant::now();
    ok(&c, "StartInstance", &i).await;
    assert_eq!(describe_one(&c, &id).await["Status"], "Starting");
    mid_window(started, 1).await;
    let rebooted = tokio::time::Instant::now();
    ok(&c, "RebootInstance", &i).await;
    assert_eq!(describe_one(&c, &id).await["Status"], "Stopping");
    mid_window(rebooted, 1).await;
    assert_eq!(
        describe_one(&c, &id).await["Status"],
        "Starting",
        "a reboot starts again"
    );
    ok(
        &c,
        "DeleteInstance",
        &[("InstanceId", &id), ("Force", "true")],
    )
    .await;
}
