//! The reachability service keeps each account's compiled network between questions; these
//! tests hold it to what an uncached answer would say: the very next `CheckReachability`,
//! NIS analysis and matrix after a write that returned see that write, and an instance that
//! leaves `Pending` with time alone (docs/ecs.md §7.1) is seen running without any write.

mod common;
#[path = "reachability/topology.rs"]
mod topology;

use std::time::Duration;

use common::{TestClient, TestServer};
use secgroup::Settings;
use secgroup_domain::ops::instances::InstanceTimings;
use serde_json::Value;
use topology::{ext, Topology};

const NIS: &str = "2021-12-16";

async fn check(c: &TestClient, from: &str, to: &str, port: &str) -> Value {
    let r = ext(
        c,
        "CheckReachability",
        &[
            ("SourceInstanceId", from),
            ("DestinationInstanceId", to),
            ("Protocol", "tcp"),
            ("Port", port),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

async fn reachable(c: &TestClient, from: &str, to: &str, port: &str) -> bool {
    let answer = check(c, from, to, port).await;
    answer["Reachable"].as_bool().expect("Reachable")
}

/// A one-off NIS analysis of `from` → `to` on tcp/`port`, read back: (reachable, errorCode).
async fn analysis(c: &TestClient, from: &str, to: &str, port: &str) -> (bool, String) {
    let r = c
        .call_version(
            NIS,
            "CreateAndAnalyzeNetworkPath",
            &[
                ("RegionId", "cn-hangzhou"),
                ("SourceId", from),
                ("SourceType", "ecs"),
                ("TargetId", to),
                ("TargetType", "ecs"),
                ("Protocol", "tcp"),
                ("TargetPort", port),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["NetworkReachableAnalysisId"]
        .as_str()
        .expect("id")
        .to_string();
    let r = c
        .call_version(
            NIS,
            "GetNetworkReachableAnalysis",
            &[("NetworkReachableAnalysisId", &id)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got = r.json();
    let result: Value = serde_json::from_str(
        got["NetworkReachableAnalysisResult"]
            .as_str()
            .expect("result"),
    )
    .expect("result JSON");
    (
        got["Reachable"].as_bool().expect("Reachable"),
        result["errorCode"].as_str().unwrap_or("").to_string(),
    )
}

/// `AllowedCount` of the VPC's matrix on tcp/`port`.
async fn allowed_in_matrix(c: &TestClient, vpc: &str, port: &str) -> i64 {
    let r = ext(
        c,
        "DescribeReachabilityMatrix",
        &[("VpcId", vpc), ("Protocol", "tcp"), ("Port", port)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["AllowedCount"].as_i64().expect("AllowedCount")
}

async fn ecs_ok(c: &TestClient, action: &str, params: &[(&str, &str)]) {
    let r = c.call(action, params).await;
    assert_eq!(r.status, 200, "{action}: {}", r.body);
}

#[tokio::test]
async fn every_write_is_seen_by_the_very_next_question() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let t = Topology::build(&c).await;
    let ssh = [
        ("SecurityGroupId", t.sg_db.as_str()),
        ("IpProtocol", "tcp"),
        ("PortRange", "22/22"),
        ("SourceGroupId", t.sg_web.as_str()),
        ("Policy", "accept"),
        ("Priority", "1"),
    ];
    // Asked twice: the second answer comes from the kept network.
    for _ in 0..2 {
        assert!(reachable(&c, &t.web, &t.db, "22").await);
        assert_eq!(
            analysis(&c, &t.web, &t.db, "22").await,
            (true, String::new())
        );
    }
    let before = allowed_in_matrix(&c, &t.vpc, "22").await;

    ecs_ok(&c, "RevokeSecurityGroup", &ssh).await;
    assert!(!reachable(&c, &t.web, &t.db, "22").await, "revoked");
    assert_eq!(
        analysis(&c, &t.web, &t.db, "22").await,
        (false, "SECURITY_GROUP_DENY".into())
    );
    assert!(allowed_in_matrix(&c, &t.vpc, "22").await < before);

    ecs_ok(&c, "AuthorizeSecurityGroup", &ssh).await;
    assert!(reachable(&c, &t.web, &t.db, "22").await, "authorized again");
    assert_eq!(
        analysis(&c, &t.web, &t.db, "22").await,
        (true, String::new())
    );
    assert_eq!(allowed_in_matrix(&c, &t.vpc, "22").await, before);

    // db and batch share sg_db, whose InnerAccessPolicy is Drop: nothing allows tcp/80.
    assert!(!reachable(&c, &t.db, &t.batch, "80").await);
    ecs_ok(
        &c,
        "ModifySecurityGroupPolicy",
        &[
            ("SecurityGroupId", &t.sg_db),
            ("InnerAccessPolicy", "Accept"),
        ],
    )
    .await;
    assert!(
        reachable(&c, &t.db, &t.batch, "80").await,
        "inner access now"
    );
    assert_eq!(
        analysis(&c, &t.db, &t.batch, "80").await,
        (true, String::new())
    );

    ecs_ok(&c, "StopInstance", &[("InstanceId", &t.db)]).await;
    let answer = check(&c, &t.web, &t.db, "22").await;
    assert_eq!(answer["Reachable"], false, "{answer}");
    assert_eq!(answer["Destination"]["Status"], "Stopped");
    assert_eq!(
        analysis(&c, &t.web, &t.db, "22").await,
        (false, "INSTANCE_NOT_RUNNING".into())
    );

    ecs_ok(&c, "StartInstance", &[("InstanceId", &t.db)]).await;
    assert!(reachable(&c, &t.web, &t.db, "22").await, "running again");
    assert_eq!(
        analysis(&c, &t.web, &t.db, "22").await,
        (true, String::new())
    );
}

#[tokio::test]
async fn another_accounts_writes_change_nothing_here_and_are_seen_there() {
    let server = TestServer::start().await;
    let (c, other) = (server.new_account().await, server.new_account().await);
    let (t, u) = (Topology::build(&c).await, Topology::build(&other).await);
    assert!(reachable(&c, &t.web, &t.db, "22").await);
    assert!(reachable(&other, &u.web, &u.db, "22").await);
    ecs_ok(&other, "StopInstance", &[("InstanceId", &u.db)]).await;
    assert!(reachable(&c, &t.web, &t.db, "22").await);
    assert!(!reachable(&other, &u.web, &u.db, "22").await);
}

/// How long each transient state lasts in the next test.
const TRANSITION: Duration = Duration::from_secs(2);

/// The middle of the window `phases` transitions after `anchor`, taken just before the
/// calls that started them (as in the instance lifecycle tests).
async fn mid_window(anchor: tokio::time::Instant, phases: u32) {
    tokio::time::sleep_until(anchor + TRANSITION * phases + TRANSITION / 2).await;
}

#[tokio::test]
async fn a_pending_instance_is_seen_running_without_any_write() {
    let mut settings = Settings::default();
    settings.products.instance_timings = InstanceTimings::uniform(TRANSITION);
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    let launched = tokio::time::Instant::now();
    let t = Topology::build(&c).await;

    // web and app share sg_web (InnerAccessPolicy Accept): only their states stand between.
    let answer = check(&c, &t.web, &t.app, "22").await;
    assert_eq!(answer["Reachable"], false, "{answer}");
    assert_eq!(answer["SecurityGroupsAllow"], true);
    assert_eq!(answer["Source"]["Status"], "Pending");
    assert_eq!(allowed_in_matrix(&c, &t.vpc, "22").await, 0);

    // No write from here on: the kept network's statuses settle with the clock.
    mid_window(launched, 1).await;
    let answer = check(&c, &t.web, &t.app, "22").await;
    assert_eq!(
        (&answer["Reachable"], &answer["Source"]["Status"]),
        (&Value::Bool(false), &Value::from("Starting")),
        "{answer}"
    );
    mid_window(launched, 2).await;
    let answer = check(&c, &t.web, &t.app, "22").await;
    assert_eq!(answer["Reachable"], true, "{answer}");
    assert_eq!(answer["Destination"]["Status"], "Running");
    assert!(allowed_in_matrix(&c, &t.vpc, "22").await > 0);
}

#[tokio::test]
async fn a_pending_instance_is_analysed_running_once_it_runs() {
    let mut settings = Settings::default();
    settings.products.instance_timings = InstanceTimings::uniform(TRANSITION);
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    let launched = tokio::time::Instant::now();
    let t = Topology::build(&c).await;
    // The only writes from here on are the analyses' own records.
    assert_eq!(
        analysis(&c, &t.web, &t.db, "22").await,
        (false, "INSTANCE_NOT_RUNNING".into())
    );
    mid_window(launched, 2).await;
    assert_eq!(
        analysis(&c, &t.web, &t.db, "22").await,
        (true, String::new())
    );
}
