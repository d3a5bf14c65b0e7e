//! The data plane end to end: `secgroup serve` and `secgroup agent` as real processes on
//! one temporary SQLite database, driven through the API with the signing client; every
//! wait is on `DescribeDataplaneStatus` (AppliedRevision ≥ CurrentRevision), never a
//! sleep; verdicts are real packets (TCP connect, UDP request and reply, ICMP echo)
//! between namespaces the agent made. Skipped when not root outside CI (fails under
//! CI=true), like the data plane's own tests.

mod common;
#[path = "../../secgroup-store-postgres/tests/common/mod.rs"]
mod databases;
#[path = "dataplane/failed_apply.rs"]
mod failed_apply;
#[path = "dataplane/harness.rs"]
mod harness;
#[path = "metrics/openmetrics.rs"]
mod openmetrics;
#[path = "reachability/topology.rs"]
mod topology;
#[path = "dataplane/truth_tables.rs"]
mod truth_tables;
#[path = "dataplane/worked_examples.rs"]
mod worked_examples;

use std::net::Ipv4Addr;
use std::time::Duration;

use harness::{address, probes, Harness, Listeners, Probe};
use topology::{rule_id, Topology};

/// Asserts each (from, to, probe) gets `expected`, naming every mismatch.
async fn expect(cases: &[(&str, &str, Ipv4Addr, Probe, bool)]) {
    let list = cases
        .iter()
        .map(|(_, ns, to, p, _)| (ns.to_string(), *to, *p))
        .collect();
    let got = probes(list).await;
    let wrong: Vec<String> = cases
        .iter()
        .zip(&got)
        .filter(|(c, g)| c.4 != **g)
        .map(|(c, g)| {
            format!(
                "{}: {:?} to {} wanted {}, packets say {g}",
                c.0, c.3, c.2, c.4
            )
        })
        .collect();
    assert!(wrong.is_empty(), "mismatches:\n{}", wrong.join("\n"));
}

fn netns_exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_kind_of_change_reaches_the_packets() {
    if !harness::can_run("every_kind_of_change_reaches_the_packets") {
        return;
    }
    let _serial = harness::lock().await;
    let h = Harness::start("sgt-e2e1-");
    let c = &h.client;
    let t = Topology::build(c).await;
    let agent = h.settled().await;
    assert_eq!(agent["InstanceCount"].as_u64(), Some(4), "{agent}");
    assert_eq!(agent["LastError"], "");
    let (web, app, db, batch) = (&t.web, &t.app, &t.db, &t.batch);
    let ip = |id: &str| {
        let id = id.to_owned();
        async move { address(c, &id).await }
    };
    let (web_ip, app_ip, db_ip, batch_ip) =
        (ip(web).await, ip(app).await, ip(db).await, ip(batch).await);
    let outside = h.outside();
    let outside_ip = Ipv4Addr::new(100, 64, 0, 1);
    let _listeners: Vec<Listeners> = [web, app, db, batch]
        .iter()
        .map(|id| Listeners::start(id))
        .chain(std::iter::once(Listeners::start(&outside)))
        .collect();

    // The worked example: inner access, a group peer, defaults, egress drop, outside.
    expect(&[
        ("web→app inner accept", web, app_ip, Probe::Tcp(80), true),
        ("web→app icmp inner accept", web, app_ip, Probe::Icmp, true),
        ("web→db 22 from sg_web", web, db_ip, Probe::Tcp(22), true),
        ("web→db 80 default deny", web, db_ip, Probe::Tcp(80), false),
        ("web→db udp default deny", web, db_ip, Probe::Udp(53), false),
        ("db→batch inner drop", db, batch_ip, Probe::Tcp(22), false),
        ("db→web no rule", db, web_ip, Probe::Tcp(22), false),
        (
            "outside→web default deny",
            &outside,
            web_ip,
            Probe::Tcp(22),
            false,
        ),
        (
            "db→outside egress allow",
            db,
            outside_ip,
            Probe::Tcp(80),
            true,
        ),
        (
            "db→outside udp egress allow",
            db,
            outside_ip,
            Probe::Udp(53),
            true,
        ),
    ])
    .await;

    // Authorize: port 80 from anywhere.
    h.ok(
        "AuthorizeSecurityGroup",
        &[
            ("SecurityGroupId", &t.sg_db),
            ("IpProtocol", "tcp"),
            ("PortRange", "80/80"),
            ("SourceCidrIp", "0.0.0.0/0"),
        ],
    )
    .await;
    h.settled().await;
    expect(&[
        ("web→db 80 authorized", web, db_ip, Probe::Tcp(80), true),
        (
            "outside→db 80 authorized",
            &outside,
            db_ip,
            Probe::Tcp(80),
            true,
        ),
        (
            "outside→db 22 still denied",
            &outside,
            db_ip,
            Probe::Tcp(22),
            false,
        ),
    ])
    .await;

    // Modify the rule: 80 becomes 22.
    let rule = rule_id(c, &t.sg_db, "80/80").await;
    h.ok(
        "ModifySecurityGroupRule",
        &[
            ("SecurityGroupId", &t.sg_db),
            ("SecurityGroupRuleId", &rule),
            ("PortRange", "22/22"),
        ],
    )
    .await;
    h.settled().await;
    expect(&[
        (
            "outside→db 80 after modify",
            &outside,
            db_ip,
            Probe::Tcp(80),
            false,
        ),
        (
            "outside→db 22 after modify",
            &outside,
            db_ip,
            Probe::Tcp(22),
            true,
        ),
    ])
    .await;

    // A revoke cuts an open connection: authorize 8080 from sg_web, connect, revoke.
    let grant: [(&str, &str); 4] = [
        ("SecurityGroupId", &t.sg_db),
        ("IpProtocol", "tcp"),
        ("PortRange", "8080/8080"),
        ("SourceGroupId", &t.sg_web),
    ];
    h.ok("AuthorizeSecurityGroup", &grant).await;
    h.settled().await;
    let (web_ns, db_ns) = (web.clone(), db.clone());
    let (mut client, mut server, _l) =
        tokio::task::spawn_blocking(move || harness::connect_pair(&web_ns, &db_ns, db_ip, 8080))
            .await
            .expect("connect");
    assert!(harness::arrives(
        &mut client,
        &mut server,
        b"before",
        Duration::from_secs(1)
    ));
    h.ok("RevokeSecurityGroup", &grant).await;
    h.settled().await;
    assert!(
        !harness::arrives(
            &mut client,
            &mut server,
            b"after",
            Duration::from_millis(600)
        ),
        "the revoked connection still carries data"
    );

    // Policy change: sg_db's members reach each other.
    h.ok(
        "ModifySecurityGroupPolicy",
        &[
            ("SecurityGroupId", &t.sg_db),
            ("InnerAccessPolicy", "Accept"),
        ],
    )
    .await;
    h.settled().await;
    expect(&[("db→batch inner accept", db, batch_ip, Probe::Tcp(80), true)]).await;

    // Join and leave: batch joins sg_web (inner accept there), then leaves.
    h.ok(
        "JoinSecurityGroup",
        &[("InstanceId", batch), ("SecurityGroupId", &t.sg_web)],
    )
    .await;
    h.settled().await;
    expect(&[("batch→web after join", batch, web_ip, Probe::Tcp(80), true)]).await;
    h.ok(
        "LeaveSecurityGroup",
        &[("InstanceId", batch), ("SecurityGroupId", &t.sg_web)],
    )
    .await;
    h.settled().await;
    expect(&[(
        "batch→web after leave",
        batch,
        web_ip,
        Probe::Tcp(80),
        false,
    )])
    .await;

    // Prefix-list peers, and edits of the list.
    let web_cidr = format!("{web_ip}/32");
    let pl = h
        .ok(
            "CreatePrefixList",
            &[
                ("AddressFamily", "IPv4"),
                ("MaxEntries", "5"),
                ("PrefixListName", "clients"),
                ("Entry.1.Cidr", &web_cidr),
            ],
        )
        .await["PrefixListId"]
        .as_str()
        .expect("pl")
        .to_owned();
    h.ok(
        "AuthorizeSecurityGroup",
        &[
            ("SecurityGroupId", &t.sg_db),
            ("IpProtocol", "udp"),
            ("PortRange", "53/53"),
            ("SourcePrefixListId", &pl),
        ],
    )
    .await;
    h.settled().await;
    expect(&[
        (
            "web→db udp via prefix list",
            web,
            db_ip,
            Probe::Udp(53),
            true,
        ),
        ("app→db udp not in list", app, db_ip, Probe::Udp(53), false),
    ])
    .await;
    let app_cidr = format!("{app_ip}/32");
    h.ok(
        "ModifyPrefixList",
        &[("PrefixListId", &pl), ("AddEntry.1.Cidr", &app_cidr)],
    )
    .await;
    h.settled().await;
    expect(&[(
        "app→db udp after list edit",
        app,
        db_ip,
        Probe::Udp(53),
        true,
    )])
    .await;

    // Stop: no namespace, nothing reaches it. Start: back with the same address.
    drop(_listeners);
    h.ok("StopInstance", &[("InstanceId", db)]).await;
    let agent = h.settled().await;
    assert!(!netns_exists(db), "a stopped instance keeps its namespace");
    assert_eq!(agent["InstanceCount"].as_u64(), Some(3));
    expect(&[("web→db stopped", web, db_ip, Probe::Icmp, false)]).await;
    h.ok("StartInstance", &[("InstanceId", db)]).await;
    h.settled().await;
    assert!(netns_exists(db));
    assert_eq!(address(c, db).await, db_ip);
    let _back = Listeners::start(db);
    expect(&[("web→db 22 after start", web, db_ip, Probe::Tcp(22), true)]).await;
    drop(_back);

    // Delete; and run a new one.
    h.ok("StopInstance", &[("InstanceId", db)]).await;
    h.ok("DeleteInstance", &[("InstanceId", db)]).await;
    h.settled().await;
    assert!(!netns_exists(db));
    let body = h
        .ok(
            "RunInstances",
            &[
                ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
                ("InstanceType", "ecs.g5.large"),
                ("VSwitchId", &vswitch_of(c, web).await),
                ("SecurityGroupId", &t.sg_web),
            ],
        )
        .await;
    let new = body["InstanceIdSets"]["InstanceIdSet"][0]
        .as_str()
        .expect("id")
        .to_owned();
    let agent = h.settled().await;
    assert!(netns_exists(&new));
    assert_eq!(agent["InstanceCount"].as_u64(), Some(4));
    let new_ip = address(c, &new).await;
    let _l = Listeners::start(&new);
    expect(&[("web→new inner accept", web, new_ip, Probe::Tcp(80), true)]).await;
}

async fn vswitch_of(c: &common::TestClient, id: &str) -> String {
    let filter = format!("[\"{id}\"]");
    let r = c
        .call("DescribeInstances", &[("InstanceIds", &filter)])
        .await;
    r.json()["Instances"]["Instance"][0]["VpcAttributes"]["VSwitchId"]
        .as_str()
        .expect("vswitch")
        .to_owned()
}

/// `agent --metrics-listen`: the agent's own `/metrics`, read strictly as OpenMetrics text;
/// its names and types, bounded labels, and values that follow a rule change.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agent_metrics_follow_a_rule_change() {
    if !harness::can_run("agent_metrics_follow_a_rule_change") {
        return;
    }
    let _serial = harness::lock().await;
    let metrics = harness::free_port();
    let h = Harness::start_with("sgt-e2e6-", &["--metrics-listen", &metrics.to_string()]);
    let c = &h.client;
    let t = Topology::build(c).await;
    h.settled().await;
    let read = move || tokio::task::spawn_blocking(move || openmetrics::scrape(metrics));
    let (before, types) = read().await.expect("scrape");
    for (name, kind) in [
        ("secgroup_agent_sync_duration_seconds", "histogram"),
        ("secgroup_agent_nft_transactions", "counter"),
        ("secgroup_agent_nft_transaction_failures", "counter"),
        ("secgroup_agent_chains", "gauge"),
        ("secgroup_agent_rules", "gauge"),
        ("secgroup_agent_set_elements", "gauge"),
        ("secgroup_agent_revision_lag", "gauge"),
        ("secgroup_agent_applied_revision", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
    ] {
        assert_eq!(
            types.get(name).map(String::as_str),
            Some(kind),
            "{name}: {types:?}"
        );
    }
    // Only a pass's outcome (and a histogram's bounds) label anything.
    for (name, labels) in before.keys() {
        for (key, value) in labels {
            assert!(
                (key == "outcome" && ["ok", "error"].contains(&value.as_str())) || key == "le",
                "{name} has label {key}={value}"
            );
        }
    }
    let g = |samples: &std::collections::BTreeMap<openmetrics::Key, f64>, name: &str| {
        openmetrics::get(samples, name, &[])
    };
    let passes =
        |samples| openmetrics::sum(samples, "secgroup_agent_sync_duration_seconds_count", &[]);
    assert!(g(&before, "secgroup_agent_nft_transactions_total") >= 1.0);
    assert_eq!(
        g(&before, "secgroup_agent_nft_transaction_failures_total"),
        0.0
    );
    assert!(g(&before, "secgroup_agent_chains") >= 2.0, "{before:?}");
    assert!(g(&before, "secgroup_agent_rules") >= 1.0);
    // sg_web is a peer of sg_db's rules: its members are a set.
    assert!(
        g(&before, "secgroup_agent_set_elements") >= 1.0,
        "{before:?}"
    );
    assert_eq!(g(&before, "secgroup_agent_revision_lag"), 0.0);
    assert!(passes(&before) >= 1.0);

    // One more rule on sg_db: one more nft transaction, one more rule, one more pass, and
    // the lag back to 0 once applied.
    h.ok(
        "AuthorizeSecurityGroup",
        &[
            ("SecurityGroupId", &t.sg_db),
            ("IpProtocol", "tcp"),
            ("PortRange", "8443/8443"),
            ("SourceCidrIp", "10.99.0.0/16"),
        ],
    )
    .await;
    let agent = h.settled().await;
    let (after, _) = read().await.expect("scrape");
    assert!(
        g(&after, "secgroup_agent_nft_transactions_total")
            > g(&before, "secgroup_agent_nft_transactions_total")
    );
    assert!(
        g(&after, "secgroup_agent_rules") > g(&before, "secgroup_agent_rules"),
        "rules {} then {}",
        g(&before, "secgroup_agent_rules"),
        g(&after, "secgroup_agent_rules")
    );
    assert!(passes(&after) > passes(&before));
    assert_eq!(
        g(&after, "secgroup_agent_applied_revision"),
        agent["AppliedRevision"].as_u64().expect("revision") as f64
    );
    assert!(
        g(&after, "secgroup_agent_applied_revision")
            > g(&before, "secgroup_agent_applied_revision")
    );
    assert_eq!(g(&after, "secgroup_agent_revision_lag"), 0.0);
}

/// SIGTERM removes everything; `--keep` leaves it and a new agent adopts it without
/// Instances started while no agent was live have no host; the first agent places them,
/// and the revision it reports applied is never one at which they are enforced nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_started_with_no_live_host_are_enforced_once_the_status_says_so() {
    if !harness::can_run("instances_started_with_no_live_host") {
        return;
    }
    let _serial = harness::lock().await;
    let mut h = Harness::start("sgt-e2e9-");
    h.settled().await;
    // SIGTERM: the agent cleans up and its status row goes, so no host is live.
    assert_eq!(h.stop_agent("-TERM"), Some(0));
    let t = Topology::build(&h.client).await;
    assert_eq!(
        h.status().await["UnplacedInstanceIds"]["InstanceId"]
            .as_array()
            .map(Vec::len),
        Some(t.all().len())
    );
    h.start_agent(&[]);
    let agent = h.settled().await;
    for id in t.all() {
        assert!(netns_exists(&id), "{id} enforced once the status says so");
    }
    assert_eq!(
        agent["InstanceCount"].as_u64(),
        Some(t.all().len() as u64),
        "{agent}"
    );
}

/// cutting a connection; kill -9 then a restart reconciles changes made meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stop_keep_adopt_and_kill_dash_nine() {
    if !harness::can_run("stop_keep_adopt_and_kill_dash_nine") {
        return;
    }
    let _serial = harness::lock().await;
    let mut h = Harness::start("sgt-e2e2-");
    let c = &h.client;
    let t = Topology::build(c).await;
    h.settled().await;
    let (web, app, db) = (t.web.clone(), t.app.clone(), t.db.clone());
    let app_ip = address(c, &app).await;
    let db_ip = address(c, &db).await;
    let inode = harness::netns_inode(&web).expect("web's namespace");
    let (w, a) = (web.clone(), app.clone());
    let (mut client, mut server, _l) =
        tokio::task::spawn_blocking(move || harness::connect_pair(&w, &a, app_ip, 9000))
            .await
            .expect("connect");
    assert!(harness::arrives(
        &mut client,
        &mut server,
        b"one",
        Duration::from_secs(1)
    ));

    // kill -9: everything stays; a change made meanwhile is applied by the next agent.
    assert_eq!(h.stop_agent("-KILL"), None);
    let _listeners = Listeners::start(&db);
    h.ok(
        "AuthorizeSecurityGroup",
        &[
            ("SecurityGroupId", &t.sg_db),
            ("IpProtocol", "tcp"),
            ("PortRange", "80/80"),
            ("SourceGroupId", &t.sg_web),
        ],
    )
    .await;
    h.start_agent(&["--keep"]);
    h.settled().await;
    expect(&[("web→db 80 after restart", &web, db_ip, Probe::Tcp(80), true)]).await;
    assert_eq!(
        harness::netns_inode(&web),
        Some(inode),
        "the namespace was made anew"
    );
    assert!(harness::arrives(
        &mut client,
        &mut server,
        b"two",
        Duration::from_secs(1)
    ));

    // --keep: SIGTERM exits 0 and leaves everything; the next agent adopts it.
    assert_eq!(h.stop_agent("-TERM"), Some(0));
    assert!(netns_exists(&web) && netns_exists(&h.outside()));
    assert!(harness::arrives(
        &mut client,
        &mut server,
        b"three",
        Duration::from_secs(1)
    ));
    h.start_agent(&[]);
    h.settled().await;
    assert_eq!(harness::netns_inode(&web), Some(inode));
    assert!(
        harness::arrives(&mut client, &mut server, b"four", Duration::from_secs(1)),
        "adoption cut a connection"
    );

    // SIGTERM without --keep: exit 0, nothing of ours left, the agent's row gone.
    drop(_listeners);
    drop((client, server));
    assert_eq!(h.stop_agent("-TERM"), Some(0));
    let ids: Vec<&str> = [&t.web, &t.app, &t.db, &t.batch]
        .iter()
        .map(|s| s.as_str())
        .collect();
    let left: Vec<String> = harness::namespaces()
        .into_iter()
        .filter(|n| n.starts_with("sgt-e2e2-") || ids.contains(&n.as_str()))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let status = h.status().await;
    assert_eq!(status["Agents"]["Agent"], serde_json::json!([]), "{status}");
}

/// The agent refuses to start, changing nothing, when a tool is missing: one line on
/// stderr naming the Debian packages, exit 2.
#[test]
fn preflight_refuses_without_the_tools() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", dir.path().join("db.sqlite").display());
    let out = std::process::Command::new(harness::BIN)
        .args([
            "agent",
            "--database",
            &db,
            "--namespace-prefix",
            "sgt-e2e3-",
        ])
        .env("PATH", dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let root = harness::can_run_quietly();
    if root {
        assert!(
            stderr.contains("apt-get install -y iproute2 nftables conntrack"),
            "{stderr}"
        );
    } else {
        assert!(stderr.contains("must run as root"), "{stderr}");
    }
    assert!(
        !dir.path().join("db.sqlite").exists(),
        "the database was opened"
    );
    assert!(harness::namespaces()
        .iter()
        .all(|n| !n.starts_with("sgt-e2e3-")));
}

/// The extension's matrix (and CheckReachability from outside) against real packets over
/// 20 seeded random rule sets through the API, on two VPCs with the same block (10.0.0.0/8):
/// VPC 1 with two vSwitches (four basic instances on one, an instance in two enterprise
/// groups on the other), VPC 2 with two basic instances. Each seed draws both inner
/// policies of the basic groups, rules of every kind (tcp and udp ports and ranges, icmp,
/// gre, all) on every group, Accept and Drop with equal and different priorities, CIDR
/// (blocks and instances' /32), group and prefix-list peers, maybe a second basic group for
/// one instance (JoinSecurityGroup), and a stopped instance on odd seeds; then every ordered
/// pair of distinct instances (across VPCs too) and outside → instance is probed on tcp/22,
/// tcp/80, udp/53 and icmp. A mismatch names the seed, the pair, the flow and both verdicts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn differential_truth_tables_through_the_api() {
    if !harness::can_run("differential_truth_tables_through_the_api") {
        return;
    }
    let _serial = harness::lock().await;
    let harness = Harness::start("sgt-e2e4-");
    truth_tables::run(&harness, 20)
        .await
        .assert_agrees("differential through the API (20 seeds)");
}

/// On PostgreSQL the agent learns of changes by LISTEN/NOTIFY (its poll is only a 1 s
/// fallback): a change is applied, and the next packet obeys it, well within the poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgresql_changes_arrive_by_notify() {
    if !harness::can_run("on_postgresql_changes_arrive_by_notify") {
        return;
    }
    let Some(url) = databases::server_url("on_postgresql_changes_arrive_by_notify") else {
        return;
    };
    let _serial = harness::lock().await;
    let dbs = databases::Databases::new(url);
    let h = Harness::start_on("sgt-e2e5-", dbs.create(), None);
    let c = &h.client;
    let t = Topology::build(c).await;
    h.settled().await;
    let db_ip = address(c, &t.db).await;
    let _l = Listeners::start(&t.db);
    expect(&[("web→db 80 before", &t.web, db_ip, Probe::Tcp(80), false)]).await;
    let mut waits = Vec::new();
    for port in ["80/80", "81/81"] {
        h.ok(
            "AuthorizeSecurityGroup",
            &[
                ("SecurityGroupId", &t.sg_db),
                ("IpProtocol", "tcp"),
                ("PortRange", port),
                ("SourceGroupId", &t.sg_web),
            ],
        )
        .await;
        let started = std::time::Instant::now();
        h.settled().await;
        waits.push(started.elapsed());
    }
    expect(&[("web→db 80 after", &t.web, db_ip, Probe::Tcp(80), true)]).await;
    // Both applied well before a 1 s poll would have noticed (the notification woke it).
    assert!(
        waits.iter().any(|w| *w < Duration::from_millis(900)),
        "applies waited for the poll: {waits:?}"
    );
    drop(h);
}

/// Probes sent from a chosen source address: (label, namespace, source, destination,
/// probe, expected).
async fn expect_from(cases: &[(&str, &str, Ipv4Addr, Ipv4Addr, Probe, bool)]) {
    let list: Vec<(String, Ipv4Addr, Ipv4Addr, Probe)> = cases
        .iter()
        .map(|(_, ns, from, to, p, _)| (ns.to_string(), *from, *to, *p))
        .collect();
    let got = tokio::task::spawn_blocking(move || harness::probe_all_bound(&list))
        .await
        .expect("probes");
    let wrong: Vec<String> = cases
        .iter()
        .zip(&got)
        .filter(|(c, g)| c.5 != **g)
        .map(|(c, g)| {
            format!(
                "{}: {:?} {} -> {} wanted {}, packets say {g}",
                c.0, c.4, c.2, c.3, c.5
            )
        })
        .collect();
    assert!(wrong.is_empty(), "mismatches:\n{}", wrong.join("\n"));
}

/// A secondary interface through the API: created in another vSwitch with a group of its
/// own, attached, given a secondary address (and the primary interface one too), enforced
/// by its own groups in both directions, then detached, with the instance's namespace kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_secondary_interface_is_enforced_by_its_own_groups() {
    if !harness::can_run("a_secondary_interface_is_enforced_by_its_own_groups") {
        return;
    }
    let _serial = harness::lock().await;
    let h = Harness::start("sgt-e2eni-");
    let c = &h.client;
    let t = Topology::build(c).await;
    // db's group also admits tcp/80 from its own members (SourceGroupId = eth1's group).
    h.ok(
        "AuthorizeSecurityGroup",
        &[
            ("SecurityGroupId", &t.sg_db),
            ("IpProtocol", "tcp"),
            ("PortRange", "80/80"),
            ("SourceGroupId", &t.sg_db),
        ],
    )
    .await;
    let r = c
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", &t.vpc),
                ("ZoneId", "cn-hangzhou-b"),
                ("CidrBlock", "10.2.0.0/24"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let vsw2 = r.json()["VSwitchId"]
        .as_str()
        .expect("VSwitchId")
        .to_string();
    let eni = h
        .ok(
            "CreateNetworkInterface",
            &[
                ("VSwitchId", &vsw2),
                ("SecurityGroupId", &t.sg_db),
                ("PrimaryIpAddress", "10.2.0.50"),
            ],
        )
        .await["NetworkInterfaceId"]
        .as_str()
        .expect("id")
        .to_string();
    h.ok(
        "AttachNetworkInterface",
        &[("NetworkInterfaceId", &eni), ("InstanceId", &t.web)],
    )
    .await;
    h.ok(
        "AssignPrivateIpAddresses",
        &[
            ("NetworkInterfaceId", &eni),
            ("PrivateIpAddress.1", "10.2.0.51"),
        ],
    )
    .await;
    let filter = format!("[\"{}\"]", t.web);
    let web = h.ok("DescribeInstances", &[("InstanceIds", &filter)]).await["Instances"]["Instance"]
        [0]
    .clone();
    let primary_eni = web["NetworkInterfaces"]["NetworkInterface"]
        .as_array()
        .expect("NetworkInterfaces")
        .iter()
        .find(|n| n["Type"] == "Primary")
        .and_then(|n| n["NetworkInterfaceId"].as_str())
        .expect("primary interface")
        .to_string();
    h.ok(
        "AssignPrivateIpAddresses",
        &[
            ("NetworkInterfaceId", &primary_eni),
            ("PrivateIpAddress.1", "10.1.0.77"),
        ],
    )
    .await;
    let agent = h.settled().await;
    assert_eq!(agent["LastError"], "", "{agent}");
    let (web, app, db) = (&t.web, &t.app, &t.db);
    let web0 = address(c, web).await;
    let db_ip = address(c, db).await;
    let web0b: Ipv4Addr = "10.1.0.77".parse().expect("ip");
    let (web1, web1b): (Ipv4Addr, Ipv4Addr) = (
        "10.2.0.50".parse().expect("ip"),
        "10.2.0.51".parse().expect("ip"),
    );
    let app_ip = address(c, app).await;
    let inode = harness::netns_inode(web);
    let _listeners: Vec<Listeners> = [web, app, db]
        .iter()
        .map(|id| Listeners::start(id))
        .collect();
    expect_from(&[
        // To eth1: sg_db's rules (tcp/22 from sg_web, tcp/80 from sg_db), not eth0's.
        (
            "app→web eth1 22 from sg_web",
            app,
            app_ip,
            web1,
            Probe::Tcp(22),
            true,
        ),
        (
            "app→web eth1 secondary 22",
            app,
            app_ip,
            web1b,
            Probe::Tcp(22),
            true,
        ),
        (
            "db→web eth1 22: db is no sg_web member",
            db,
            db_ip,
            web1,
            Probe::Tcp(22),
            false,
        ),
        (
            "db→web eth1 80 from sg_db",
            db,
            db_ip,
            web1,
            Probe::Tcp(80),
            true,
        ),
        (
            "db→web eth0 80: sg_web admits only its own",
            db,
            db_ip,
            web0,
            Probe::Tcp(80),
            false,
        ),
        // eth0's secondary address is eth0's (sg_web, inner accept).
        (
            "app→web eth0 secondary 80 inner accept",
            app,
            app_ip,
            web0b,
            Probe::Tcp(80),
            true,
        ),
        (
            "db→web eth0 secondary 22",
            db,
            db_ip,
            web0b,
            Probe::Tcp(22),
            false,
        ),
        // From eth1: a member of sg_db; from eth0: not.
        (
            "web eth1→db 80 (sg_db member)",
            web,
            web1,
            db_ip,
            Probe::Tcp(80),
            true,
        ),
        (
            "web eth1 secondary→db 80",
            web,
            web1b,
            db_ip,
            Probe::Tcp(80),
            true,
        ),
        (
            "web eth0→db 80 (not a member)",
            web,
            web0,
            db_ip,
            Probe::Tcp(80),
            false,
        ),
        (
            "web eth0 secondary→db 80",
            web,
            web0b,
            db_ip,
            Probe::Tcp(80),
            false,
        ),
    ])
    .await;

    h.ok(
        "DetachNetworkInterface",
        &[("NetworkInterfaceId", &eni), ("InstanceId", web)],
    )
    .await;
    h.settled().await;
    assert_eq!(harness::netns_inode(web), inode, "the namespace stays");
    expect_from(&[
        (
            "app→detached eth1 22",
            app,
            app_ip,
            web1,
            Probe::Tcp(22),
            false,
        ),
        (
            "app→web eth0 80 still",
            app,
            app_ip,
            web0,
            Probe::Tcp(80),
            true,
        ),
        (
            "web eth0→db 80 still denied",
            web,
            web0,
            db_ip,
            Probe::Tcp(80),
            false,
        ),
    ])
    .await;
}
