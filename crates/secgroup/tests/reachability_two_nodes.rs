//! Two `secgroup serve` processes on one PostgreSQL database: each keeps its own compiled
//! networks, and the change revision lives in the database, so a write through one node is
//! seen by the very next question to the other. Skipped, with a message, unless
//! `SECGROUP_TEST_POSTGRES_URL` names a server (`scripts/test` starts one).

mod common;
mod pg;
#[path = "reachability/topology.rs"]
mod topology;

use common::TestClient;
use pg::{Databases, Node};
use topology::{ext, Topology};

async fn reachable(c: &TestClient, from: &str, to: &str) -> bool {
    let r = ext(
        c,
        "CheckReachability",
        &[
            ("SourceInstanceId", from),
            ("DestinationInstanceId", to),
            ("Protocol", "tcp"),
            ("Port", "22"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["Reachable"].as_bool().expect("Reachable")
}

async fn analysed_reachable(c: &TestClient, from: &str, to: &str) -> bool {
    let r = c
        .call_version(
            "2021-12-16",
            "CreateAndAnalyzeNetworkPath",
            &[
                ("RegionId", "cn-hangzhou"),
                ("SourceId", from),
                ("SourceType", "ecs"),
                ("TargetId", to),
                ("TargetType", "ecs"),
                ("Protocol", "tcp"),
                ("TargetPort", "22"),
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
            "2021-12-16",
            "GetNetworkReachableAnalysis",
            &[("NetworkReachableAnalysisId", &id)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["Reachable"].as_bool().expect("Reachable")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_node_is_seen_by_the_next_question_on_the_other() {
    let test = "a_write_on_one_node_is_seen_by_the_next_question_on_the_other";
    let Some(url) = pg::server_url(test) else {
        return;
    };
    let dbs = Databases::new(url);
    let database = dbs.create();
    let (a, b) = tokio::join!(Node::start(&database, &[]), Node::start(&database, &[]));
    let (on_a, on_b) = (a.client(), b.client());
    let t = Topology::build(&on_a).await;
    // Asked on B twice: B compiles and keeps the network.
    for _ in 0..2 {
        assert!(reachable(&on_b, &t.web, &t.db).await);
        assert!(analysed_reachable(&on_b, &t.web, &t.db).await);
    }
    let ssh = [
        ("SecurityGroupId", t.sg_db.as_str()),
        ("IpProtocol", "tcp"),
        ("PortRange", "22/22"),
        ("SourceGroupId", t.sg_web.as_str()),
        ("Policy", "accept"),
        ("Priority", "1"),
    ];
    let r = on_a.call("RevokeSecurityGroup", &ssh).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!reachable(&on_b, &t.web, &t.db).await, "B sees A's revoke");
    assert!(!analysed_reachable(&on_b, &t.web, &t.db).await);

    let r = on_b.call("AuthorizeSecurityGroup", &ssh).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        reachable(&on_a, &t.web, &t.db).await,
        "A sees B's authorize"
    );
    assert!(reachable(&on_b, &t.web, &t.db).await);
    drop((a, b));
}
