//! The data plane across hosts, end to end: three hosts (each a namespace with its own
//! `secgroup agent` process, joined by an underlay the test creates), two `secgroup serve`
//! nodes and one PostgreSQL server (`dataplane/cluster.rs`). Instances are placed by the
//! control plane; traffic between hosts crosses the VXLAN overlay and is checked at the
//! source's host (egress) and the destination's (ingress). Waits are on
//! `DescribeDataplaneStatus`, verdicts are real packets. Root and PostgreSQL binaries are
//! needed (skipped otherwise, failed under CI=true).

#[path = "dataplane/cluster.rs"]
mod cluster;
mod common;
#[path = "dataplane/harness.rs"]
mod harness;
mod pg;
#[path = "reachability/topology.rs"]
mod topology;
#[path = "dataplane/truth_tables.rs"]
mod truth_tables;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cluster::Cluster;
use harness::{address, arrives, connect_pair, probes, Listeners, Probe};
use serde_json::Value;

/// The cluster as a [`truth_tables::Lab`]: writes alternate between the two nodes, so that
/// a change made on either converges on every host.
struct Spread<'a> {
    cluster: &'a Cluster,
    next: AtomicUsize,
}

impl truth_tables::Lab for Spread<'_> {
    fn client(&self) -> &common::TestClient {
        &self.cluster.clients[0]
    }
    async fn ok(&self, action: &str, params: &[(&str, &str)]) -> Value {
        let node = self.next.fetch_add(1, Ordering::Relaxed) % self.cluster.nodes.len();
        self.cluster.ok_on(node, action, params).await
    }
    async fn settled(&self) {
        self.cluster.settled().await;
    }
    async fn outside_for(&self, instance: &str) -> String {
        let host = self.cluster.host_of(instance).await.expect("placed");
        self.cluster.outside_of(host)
    }
}

async fn run_instances(c: &Cluster, vswitch: &str, group: &str, amount: &str) -> Vec<String> {
    c.ok_on(
        0,
        "RunInstances",
        &[
            ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
            ("InstanceType", "ecs.g5.large"),
            ("VSwitchId", vswitch),
            ("SecurityGroupId", group),
            ("Amount", amount),
        ],
    )
    .await["InstanceIdSets"]["InstanceIdSet"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_str().expect("id").to_owned())
        .collect()
}

/// A VPC with one vSwitch and one basic group (InnerAccessPolicy Drop) that accepts
/// `tcp/22` from its own members; its ids.
async fn network(c: &Cluster) -> (String, String) {
    let r = c.clients[0]
        .call_vpc("CreateVpc", &[("CidrBlock", "10.0.0.0/8")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let vpc = r.json()["VpcId"].as_str().expect("vpc").to_owned();
    let r = c.clients[0]
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", &vpc),
                ("ZoneId", "cn-hangzhou-b"),
                ("CidrBlock", "10.7.0.0/24"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let vsw = r.json()["VSwitchId"].as_str().expect("vsw").to_owned();
    let sg = c
        .ok_on(
            0,
            "CreateSecurityGroup",
            &[("VpcId", &vpc), ("SecurityGroupType", "normal")],
        )
        .await["SecurityGroupId"]
        .as_str()
        .expect("sg")
        .to_owned();
    c.ok_on(
        0,
        "ModifySecurityGroupPolicy",
        &[("SecurityGroupId", &sg), ("InnerAccessPolicy", "Drop")],
    )
    .await;
    c.ok_on(
        0,
        "AuthorizeSecurityGroup",
        &[
            ("SecurityGroupId", &sg),
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourceGroupId", &sg),
        ],
    )
    .await;
    (vsw, sg)
}

/// Opens (`AuthorizeSecurityGroup`) or closes (`RevokeSecurityGroup`) tcp/80 from the
/// VPC's block in `sg`, through node `node`.
async fn port80(c: &Cluster, sg: &str, node: usize, verb: &str) {
    c.ok_on(
        node,
        verb,
        &[
            ("SecurityGroupId", sg),
            ("IpProtocol", "tcp"),
            ("PortRange", "80/80"),
            ("SourceCidrIp", "10.0.0.0/8"),
        ],
    )
    .await;
}

/// Instances by the host they are placed on.
async fn by_host(c: &Cluster, ids: &[String]) -> BTreeMap<usize, Vec<String>> {
    let mut out: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for id in ids {
        let host = c.host_of(id).await.expect("every instance is placed");
        out.entry(host).or_default().push(id.clone());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn placement_spreads_instances_and_the_truth_tables_hold_across_hosts() {
    let test = "placement_spreads_instances_and_the_truth_tables_hold_across_hosts";
    if !harness::can_run(test) {
        return;
    }
    let _serial = harness::lock().await;
    let Some(c) = Cluster::start(test, "sgt-eh-", 3).await else {
        return;
    };
    // Every host reports, with its underlay address.
    let status = c.status(1).await;
    for n in 0..3 {
        let row = Cluster::agent_row(&status, n);
        assert_eq!(row["Host"], Cluster::host_name(n).as_str(), "{row}");
        assert_eq!(row["UnderlayAddress"], c.underlay.host(n).1.to_string());
        assert_eq!(row["Alive"], true, "{row}");
    }
    let lab = Spread {
        cluster: &c,
        next: AtomicUsize::new(0),
    };
    let tally = truth_tables::run(&lab, 6).await;
    // The tables' instances are spread over every host: most pairs cross hosts.
    let instances = c
        .ok_on(0, "DescribeInstances", &[("PageSize", "100")])
        .await;
    let ids: Vec<String> = instances["Instances"]["Instance"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| i["InstanceId"].as_str().expect("id").to_owned())
        .collect();
    let spread = by_host(&c, &ids).await;
    assert_eq!(spread.len(), 3, "instances on every host: {spread:?}");
    let (most, least) = (
        spread.values().map(Vec::len).max().unwrap_or(0),
        spread.values().map(Vec::len).min().unwrap_or(0),
    );
    assert!(most - least <= 1, "evenly: {spread:?}");
    // Each instance's namespace is made by its own host's agent alone.
    let status = c.status(0).await;
    for (host, placed) in &spread {
        let row = Cluster::agent_row(&status, *host);
        let mut listed: Vec<String> = row["InstanceIds"]["InstanceId"]
            .as_array()
            .expect("instance ids")
            .iter()
            .map(|v| v.as_str().expect("id").to_owned())
            .collect();
        listed.sort();
        let mut want = placed.clone();
        want.sort();
        assert_eq!(listed, want, "host {host}");
        assert_eq!(row["InstanceCount"].as_u64(), Some(want.len() as u64));
    }
    tally.assert_agrees("truth tables over 3 hosts (6 seeds)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_dash_nine_during_rule_changes_and_a_host_cut_off_from_the_database() {
    let test = "kill_dash_nine_during_rule_changes_and_a_host_cut_off_from_the_database";
    if !harness::can_run(test) {
        return;
    }
    let _serial = harness::lock().await;
    let Some(mut c) = Cluster::start(test, "sgt-ek-", 3).await else {
        return;
    };
    let (vsw, sg) = network(&c).await;
    let ids = run_instances(&c, &vsw, &sg, "6").await;
    c.settled().await;
    let spread = by_host(&c, &ids).await;
    assert_eq!(spread.len(), 3, "{spread:?}");
    let on = |h: usize, k: usize| spread[&h][k].clone();
    let (a, b, d) = (on(0, 0), on(1, 0), on(2, 0));
    let (b_ip, d_ip) = (
        address(&c.clients[0], &b).await,
        address(&c.clients[0], &d).await,
    );
    let wait = Duration::from_millis(700);
    // A long-lived allowed connection from host 1 to host 2 (tcp/22, same group).
    let (mut client, mut server, _l) = {
        let (a, b) = (a.clone(), b.clone());
        tokio::task::spawn_blocking(move || connect_pair(&a, &b, b_ip, 22))
            .await
            .expect("connect")
    };
    assert!(arrives(&mut client, &mut server, b"before", wait));
    let _listeners: Vec<Listeners> = [&b, &d].iter().map(|i| Listeners::start(i)).collect();

    // Rule changes (tcp/80 opened and closed over and over, through both nodes) while host
    // 2's agent is killed with SIGKILL in the middle of them.
    for round in 0..6 {
        port80(&c, &sg, round % 2, "AuthorizeSecurityGroup").await;
        if round == 3 {
            c.stop_agent(1, "-KILL");
        }
        port80(&c, &sg, (round + 1) % 2, "RevokeSecurityGroup").await;
    }
    // The last change leaves tcp/80 closed; host 2 keeps its last applied rules meanwhile.
    let revision = c.status(1).await["CurrentRevision"].as_u64().expect("rev");
    c.applied_on(&[0, 2], revision).await;
    c.start_agent(1);
    c.applied_on(&[0, 1, 2], revision).await;
    let got = probes(vec![
        (a.clone(), b_ip, Probe::Tcp(80)),
        (d.clone(), b_ip, Probe::Tcp(80)),
        (a.clone(), d_ip, Probe::Tcp(80)),
        (d.clone(), b_ip, Probe::Tcp(22)),
        (b.clone(), d_ip, Probe::Tcp(22)),
    ])
    .await;
    assert_eq!(
        got,
        vec![false, false, false, true, true],
        "after the restart: tcp/80 closed everywhere, tcp/22 open between members"
    );
    assert!(
        arrives(&mut client, &mut server, b"after", wait),
        "the allowed connection survived the agent's kill -9 and restart"
    );

    // Host 3 cut off from the database: it keeps enforcing what it applied (tcp/80 closed),
    // while a change opens tcp/80 on the other hosts; the API says host 3 is away.
    let before = c.status(0).await["CurrentRevision"].as_u64().expect("rev");
    c.applied_on(&[2], before).await;
    c.disconnect(2).await;
    port80(&c, &sg, 1, "AuthorizeSecurityGroup").await;
    let revision = c.status(0).await["CurrentRevision"].as_u64().expect("rev");
    c.applied_on(&[0, 1], revision).await;
    let got = probes(vec![
        (d.clone(), b_ip, Probe::Tcp(80)),
        (b.clone(), d_ip, Probe::Tcp(80)),
        (b.clone(), d_ip, Probe::Tcp(22)),
    ])
    .await;
    assert_eq!(
        got,
        vec![true, false, true],
        "host 3 enforces its last state: the new rule is not there yet, the old ones are"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let row = loop {
        let row = Cluster::agent_row(&c.status(0).await, 2);
        if row["Alive"] == false {
            break row;
        }
        assert!(Instant::now() < deadline, "host 3 never went away: {row}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        row["LastError"]
            .as_str()
            .is_some_and(|e| e.contains("no report")),
        "LastError says the host is not reporting: {row}"
    );
    assert!(row["AppliedRevision"].as_u64().unwrap_or(0) < revision);
    // Back: it catches up.
    c.reconnect(2);
    c.applied_on(&[2], revision).await;
    assert!(probes(vec![(b.clone(), d_ip, Probe::Tcp(80))]).await[0]);
    let row = Cluster::agent_row(&c.status(0).await, 2);
    assert_eq!(row["Alive"], true, "{row}");
    assert_eq!(row["LastError"], "", "{row}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_host_that_stays_away_loses_its_instances_on_their_next_start() {
    let test = "a_host_that_stays_away_loses_its_instances_on_their_next_start";
    if !harness::can_run(test) {
        return;
    }
    let _serial = harness::lock().await;
    let Some(mut c) = Cluster::start(test, "sgt-ew-", 3).await else {
        return;
    };
    let (vsw, sg) = network(&c).await;
    let ids = run_instances(&c, &vsw, &sg, "3").await;
    c.settled().await;
    let spread = by_host(&c, &ids).await;
    assert_eq!(spread.len(), 3, "one per host: {spread:?}");
    let moved = spread[&2][0].clone();
    // Host 3's agent dies and stays away past the host timeout.
    c.stop_agent(2, "-KILL");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Cluster::agent_row(&c.status(0).await, 2)["Alive"] != false {
        assert!(Instant::now() < deadline, "host 3 never went away");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Still placed there (its packets may still flow), until it starts again.
    assert_eq!(c.host_of(&moved).await, Some(2));
    c.ok_on(1, "StopInstance", &[("InstanceId", &moved)]).await;
    c.ok_on(0, "StartInstance", &[("InstanceId", &moved)]).await;
    let new_host = c.host_of(&moved).await.expect("placed");
    assert_ne!(new_host, 2, "a host that is away gets nothing");
    // New instances go to live hosts only.
    let more = run_instances(&c, &vsw, &sg, "4").await;
    for id in &more {
        assert_ne!(c.host_of(id).await, Some(2), "{id}");
    }
    c.applied_on(
        &[0, 1],
        c.status(0).await["CurrentRevision"].as_u64().expect("rev"),
    )
    .await;
    // It runs on its new host: reached from a member on the other live host.
    let moved_ip: Ipv4Addr = address(&c.clients[0], &moved).await;
    let _l = Listeners::start(&moved);
    let peer = spread
        .iter()
        .find(|(h, _)| **h != 2 && **h != new_host)
        .map(|(_, on)| on[0].clone())
        .expect("an instance on the third host");
    assert!(
        probes(vec![(peer.clone(), moved_ip, Probe::Tcp(22))]).await[0],
        "the moved instance is reached on its new host"
    );
    // Host 3 comes back: it removes what it no longer holds and leaves the moved instance
    // (now another host's) alone.
    c.start_agent(2);
    c.settled().await;
    assert!(
        probes(vec![(peer, moved_ip, Probe::Tcp(22))]).await[0],
        "host 3's return did not take the moved instance's namespace"
    );
    let status = c.status(0).await;
    let row = Cluster::agent_row(&status, 2);
    assert_eq!(row["Alive"], true, "{row}");
    assert_eq!(
        row["InstanceIds"]["InstanceId"],
        serde_json::json!([]),
        "{row}"
    );
}
