//! Placement of instances on the data plane's hosts through the API (README "Data plane"):
//! fake agents' reports recorded through the store make hosts live or not; RunInstances
//! spreads instances over the live hosts, StartInstance keeps a live host and leaves a
//! dead one, no live host leaves instances unplaced until `place_unplaced`; the placement
//! shows in `DescribeInstances` (`AdditionalInfo.ManagedHostId`, JSON and XML) and in
//! `DescribeDataplaneStatus`; a refused request places nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use secgroup::testkit::{create_group, create_vpc, TestClient, TestServer};
use secgroup_domain::ops::instances::InstanceTimings;
use secgroup_domain::ops::placement::{self, PlacementPolicy};
use secgroup_domain::{AgentReport, AgentStatus, DomainError, Store};
use serde_json::Value;

const VERSION: &str = "x-secgroup-2026-11-01";

struct Setup {
    server: TestServer,
    c: TestClient,
    vpc: String,
    vsw: String,
    sg: String,
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let vpc = create_vpc(&c, &[("CidrBlock", "10.0.0.0/8")]).await;
    let r = c
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", &vpc),
                ("ZoneId", "cn-hangzhou-b"),
                ("CidrBlock", "10.1.0.0/16"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let vsw = r.json()["VSwitchId"].as_str().expect("vsw").to_owned();
    let sg = create_group(&c, &[("VpcId", &vpc)]).await;
    Setup {
        server,
        c,
        vpc,
        vsw,
        sg,
    }
}

/// Records an agent's report on `host`, made `age_secs` ago.
async fn report(s: &Setup, host: &str, underlay: &str, age_secs: i64) {
    let status = AgentStatus {
        agent_id: format!("agent-{host}"),
        host: host.to_owned(),
        underlay_address: underlay.to_owned(),
        applied_revision: 0,
        last_applied_time: None,
        instance_counts: BTreeMap::new(),
        last_error: String::new(),
        updated_at: Utc::now() - TimeDelta::seconds(age_secs),
    };
    s.server
        .store
        .record_agent_status(AgentReport::Status(status))
        .await
        .expect("record");
}

async fn run(s: &Setup, amount: &str) -> Vec<String> {
    let r =
        s.c.call(
            "RunInstances",
            &[
                ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
                ("InstanceType", "ecs.g5.large"),
                ("VSwitchId", &s.vsw),
                ("SecurityGroupId", &s.sg),
                ("Amount", amount),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["InstanceIdSets"]["InstanceIdSet"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_str().expect("id").to_owned())
        .collect()
}

/// Instance id → `ManagedHostId`, as DescribeInstances shows it.
async fn hosts(s: &Setup) -> BTreeMap<String, String> {
    let r =
        s.c.call(
            "DescribeInstances",
            &[("RegionId", "cn-hangzhou"), ("PageSize", "100")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["Instances"]["Instance"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| {
            (
                i["InstanceId"].as_str().expect("id").to_owned(),
                i["AdditionalInfo"]["ManagedHostId"]
                    .as_str()
                    .expect("ManagedHostId")
                    .to_owned(),
            )
        })
        .collect()
}

/// The stored placements (instance id → host), stopped instances' included.
async fn stored(s: &Setup) -> BTreeMap<String, String> {
    s.server
        .store
        .read(|tx| tx.placed_instances(None))
        .await
        .expect("read")
        .into_iter()
        .map(|p| (p.placement.instance_id, p.placement.host))
        .collect()
}

async fn act(s: &Setup, action: &str, id: &str) -> (u16, String) {
    let r = s.c.call(action, &[("InstanceId", id)]).await;
    (r.status, r.code())
}

fn per_host(hosts: &BTreeMap<String, String>) -> BTreeMap<String, usize> {
    let mut n = BTreeMap::new();
    for h in hosts.values() {
        *n.entry(h.clone()).or_insert(0) += 1;
    }
    n
}

async fn dataplane_status(s: &Setup) -> Value {
    let r =
        s.c.call_version(VERSION, "DescribeDataplaneStatus", &[])
            .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// What an agent does when it sees instances with no host: `place_unplaced` in one write,
/// now; how many it placed.
async fn place_unplaced_now(s: &Setup) -> usize {
    let now = Utc::now();
    s.server
        .store
        .write(move |tx| {
            placement::place_unplaced(
                tx,
                &InstanceTimings::default(),
                &PlacementPolicy::default(),
                now,
            )
        })
        .await
        .map_err(|e: DomainError| e)
        .expect("place")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_instances_spreads_over_live_hosts_and_start_keeps_the_host() {
    let s = setup().await;
    for h in ["host-c", "host-a", "host-b"] {
        report(&s, h, "", 1).await;
    }
    let ids = run(&s, "6").await;
    let shown = hosts(&s).await;
    assert_eq!(shown.len(), 6);
    assert_eq!(
        per_host(&shown),
        [("host-a", 2), ("host-b", 2), ("host-c", 2)]
            .iter()
            .map(|(h, n)| ((*h).to_owned(), *n))
            .collect(),
        "{shown:?}"
    );
    // The VPC got the first VNI.
    let vnis = s.server.store.read(|tx| tx.vpc_vnis()).await.expect("vnis");
    assert_eq!(vnis.get(&s.vpc).copied(), Some(placement::FIRST_VNI));

    // Stopped: shown nowhere, the row kept; started again: the same host.
    let id = &ids[0];
    let host = shown[id].clone();
    assert_eq!(act(&s, "StopInstance", id).await, (200, String::new()));
    assert_eq!(hosts(&s).await[id], "");
    assert_eq!(stored(&s).await[id], host);
    // Another launch meanwhile goes to the host the stopped one left emptier.
    let more = run(&s, "1").await;
    assert_eq!(hosts(&s).await[&more[0]], host, "least loaded host");
    assert_eq!(act(&s, "StartInstance", id).await, (200, String::new()));
    assert_eq!(hosts(&s).await[id], host, "sticky");
    // Reboot keeps it; delete takes the row.
    assert_eq!(act(&s, "RebootInstance", id).await, (200, String::new()));
    assert_eq!(hosts(&s).await[id], host);
    let r =
        s.c.call("DeleteInstance", &[("InstanceId", id), ("Force", "true")])
            .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!stored(&s).await.contains_key(id));

    // XML shows it too.
    let other = &ids[1];
    let r =
        s.c.signed(
            "GET",
            "DescribeInstances",
            vec![("RegionId".into(), "cn-hangzhou".into())],
            &[("Format", "XML")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let want = format!("<ManagedHostId>{}</ManagedHostId>", shown[other]);
    assert!(r.body.contains(&want), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_gone_too_long_gets_nothing_and_its_instances_move_on_start() {
    let s = setup().await;
    report(&s, "host-a", "", 1).await;
    report(&s, "host-b", "", 1).await;
    let ids = run(&s, "2").await;
    let shown = hosts(&s).await;
    let on_b = ids
        .iter()
        .find(|i| shown[*i] == "host-b")
        .expect("one on host-b")
        .clone();
    assert_eq!(act(&s, "StopInstance", &on_b).await, (200, String::new()));
    // host-b last reported 31 s ago: past the 30 s timeout.
    report(&s, "host-b", "", 31).await;
    let more = run(&s, "3").await;
    for id in &more {
        assert_eq!(hosts(&s).await[id], "host-a", "nothing new on a dead host");
    }
    assert_eq!(act(&s, "StartInstance", &on_b).await, (200, String::new()));
    assert_eq!(hosts(&s).await[&on_b], "host-a", "moved off the dead host");
    assert_eq!(
        stored(&s).await[&on_b],
        "host-a",
        "one row: never on two hosts"
    );

    let body = dataplane_status(&s).await;
    let agents = body["Agents"]["Agent"].as_array().expect("agents");
    let b = agents
        .iter()
        .find(|a| a["Host"] == "host-b")
        .expect("host-b");
    assert_eq!(b["Alive"], false);
    assert_eq!(b["InstanceIds"]["InstanceId"], serde_json::json!([]));
    let a = agents
        .iter()
        .find(|a| a["Host"] == "host-a")
        .expect("host-a");
    assert_eq!(a["Alive"], true);
    assert_eq!(
        a["InstanceIds"]["InstanceId"].as_array().map(Vec::len),
        Some(5),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_live_host_instances_wait_for_place_unplaced() {
    let s = setup().await;
    report(&s, "host-old", "", 300).await;
    let ids = run(&s, "2").await;
    assert!(hosts(&s).await.values().all(String::is_empty));
    assert!(stored(&s).await.is_empty());
    let body = dataplane_status(&s).await;
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(
        body["UnplacedInstanceIds"]["InstanceId"],
        serde_json::json!(sorted)
    );
    assert_eq!(body["HostTimeoutSeconds"], 30);

    // Nothing live yet: nothing to place.
    let placed = place_unplaced_now(&s).await;
    assert_eq!(placed, 0);

    report(&s, "host-new", "192.0.2.7", 0).await;
    let before = s.server.store.revision().await.expect("revision");
    let placed = place_unplaced_now(&s).await;
    assert_eq!(placed, 2);
    assert!(s.server.store.revision().await.expect("revision") > before);
    assert!(hosts(&s).await.values().all(|h| h == "host-new"));

    let body = dataplane_status(&s).await;
    assert_eq!(
        body["UnplacedInstanceIds"]["InstanceId"],
        serde_json::json!([])
    );
    let agent = body["Agents"]["Agent"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["Host"] == "host-new")
        .expect("host-new")
        .clone();
    assert_eq!(agent["UnderlayAddress"], "192.0.2.7");
    assert_eq!(agent["Alive"], true);
    assert_eq!(
        agent["InstanceIds"]["InstanceId"],
        serde_json::json!(sorted)
    );
    let reported = agent["LastReportTime"].as_str().expect("time");
    let reported: DateTime<Utc> = reported.parse().expect("an ISO time");
    assert!((Utc::now() - reported).num_seconds() < 30, "{reported}");
    // The fields are appended after the existing ones.
    let keys: Vec<&String> = agent.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        [
            "AgentId",
            "Host",
            "AppliedRevision",
            "LastAppliedTime",
            "InstanceCount",
            "LastError",
            "UnderlayAddress",
            "LastReportTime",
            "Alive",
            "InstanceIds"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_places_nothing() {
    let s = setup().await;
    report(&s, "host-a", "", 1).await;
    let ids = run(&s, "1").await;
    let before = stored(&s).await;
    assert_eq!(before.len(), 1);

    // A dry run launches and rolls back: no placement, no VNI change.
    let r =
        s.c.call(
            "RunInstances",
            &[
                ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
                ("InstanceType", "ecs.g5.large"),
                ("VSwitchId", &s.vsw),
                ("SecurityGroupId", &s.sg),
                ("DryRun", "true"),
            ],
        )
        .await;
    assert_eq!(r.code(), "DryRunOperation", "{}", r.body);
    // Starting a running instance, deleting it without Force: refused.
    assert_eq!(act(&s, "StartInstance", &ids[0]).await.0, 403);
    assert_eq!(act(&s, "DeleteInstance", &ids[0]).await.0, 403);
    // A launch refused after its checks (an unknown group).
    let r =
        s.c.call(
            "RunInstances",
            &[
                ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
                ("InstanceType", "ecs.g5.large"),
                ("VSwitchId", &s.vsw),
                ("SecurityGroupId", "sg-nosuchgroup"),
            ],
        )
        .await;
    assert_ne!(r.status, 200);
    assert_eq!(stored(&s).await, before);
}
