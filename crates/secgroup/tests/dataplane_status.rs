//! `DescribeDataplaneStatus` through the API: the current revision includes every write
//! answered before it; each agent's report, with only the caller's share of instances;
//! JSON and XML; reports do not move the revision.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use secgroup::testkit::{create_group, TestClient, TestServer};
use secgroup_domain::ops::accounts;
use secgroup_domain::{AgentReport, AgentStatus, Store};

const VERSION: &str = "x-secgroup-2026-11-01";

/// A client for a new account, and that account's id.
async fn account(server: &TestServer) -> (TestClient, String) {
    let key = server
        .store
        .write(|tx| accounts::create_account(tx, false, Utc::now()))
        .await
        .expect("account");
    (
        TestClient::new(server.addr, &key.access_key_id, &key.secret),
        key.account_id.to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revision_and_agents_as_each_account_sees_them() {
    let server = TestServer::start().await;
    let (a, a_id) = account(&server).await;
    let (b, _) = account(&server).await;

    let r = a
        .call_version(VERSION, "DescribeDataplaneStatus", &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    let before = body["CurrentRevision"].as_u64().expect("revision");
    assert_eq!(body["Agents"]["Agent"], serde_json::json!([]));

    // A write's 200 is included in the next answer.
    create_group(&a, &[]).await;
    let r = a
        .call_version(VERSION, "DescribeDataplaneStatus", &[])
        .await;
    let after = r.json()["CurrentRevision"].as_u64().expect("revision");
    assert!(after > before, "{before} -> {after}");

    let mut counts = BTreeMap::new();
    counts.insert(a_id, 3u64);
    counts.insert("someone-else".to_owned(), 5u64);
    let status = AgentStatus {
        agent_id: "agent-1".into(),
        host: "host-1".into(),
        underlay_address: "192.0.2.1".into(),
        applied_revision: after,
        last_applied_time: Utc.with_ymd_and_hms(2026, 11, 1, 8, 30, 5).single(),
        instance_counts: counts,
        last_error: "secgroup-vpc-x: `nft` failed".into(),
        updated_at: Utc::now(),
    };
    server
        .store
        .record_agent_status(AgentReport::Status(status))
        .await
        .expect("record");
    assert_eq!(
        server.store.revision().await.expect("revision"),
        after,
        "a report is no change"
    );

    let r = a
        .call_version(VERSION, "DescribeDataplaneStatus", &[])
        .await;
    let body = r.json();
    assert_eq!(body["CurrentRevision"].as_u64(), Some(after));
    let agent = &body["Agents"]["Agent"][0];
    assert_eq!(agent["AgentId"], "agent-1");
    assert_eq!(agent["Host"], "host-1");
    assert_eq!(agent["AppliedRevision"].as_u64(), Some(after));
    assert_eq!(agent["LastAppliedTime"], "2026-11-01T08:30:05Z");
    assert_eq!(agent["InstanceCount"].as_u64(), Some(3), "{body}");
    assert_eq!(agent["LastError"], "secgroup-vpc-x: `nft` failed");

    // No RegionId needed: the answer is global.
    let r = a
        .call_version(VERSION, "DescribeDataplaneStatus", &[("RegionId", "")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["CurrentRevision"].as_u64(), Some(after));

    // Another account sees the agent, not a's instances.
    let r = b
        .call_version(VERSION, "DescribeDataplaneStatus", &[])
        .await;
    assert_eq!(
        r.json()["Agents"]["Agent"][0]["InstanceCount"].as_u64(),
        Some(0)
    );

    // XML, like the rest.
    let r = a
        .signed(
            "GET",
            "DescribeDataplaneStatus",
            vec![("RegionId".into(), "cn-hangzhou".into())],
            &[("Format", "XML"), ("Version", VERSION)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains("<DescribeDataplaneStatusResponse><RequestId>"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<Agents><Agent><AgentId>agent-1</AgentId><Host>host-1</Host>"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("<InstanceCount>3</InstanceCount>"),
        "{}",
        r.body
    );

    // Once the agent stops, it is gone from the answer.
    server
        .store
        .record_agent_status(AgentReport::Stopped {
            agent_id: "agent-1".into(),
        })
        .await
        .expect("record");
    let r = a
        .call_version(VERSION, "DescribeDataplaneStatus", &[])
        .await;
    assert_eq!(r.json()["Agents"]["Agent"], serde_json::json!([]));
}
