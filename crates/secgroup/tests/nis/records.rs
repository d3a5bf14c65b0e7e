//! Analyses as records: the one-off CreateAndAnalyzeNetworkPath (GET), records that keep
//! the network of their time, deletion, statuses of instances, outside addresses, and
//! account isolation.

use serde_json::Value;

use super::common::TestServer;
use super::{ecs_ok, nis, ok, Analysis, Lab};

#[tokio::test]
async fn create_and_analyze_echoes_the_path_with_string_ports_and_is_readable() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g = lab.group("normal", "Accept").await;
    let a = lab.instance(&[&g], Some("10.0.0.10")).await;
    let b = lab.instance(&[&g], None).await;
    let params: Vec<(String, String)> = [
        ("SourceId", a.as_str()),
        ("SourceType", "ecs"),
        ("TargetId", b.as_str()),
        ("TargetType", "ecs"),
        ("Protocol", "tcp"),
        ("TargetPort", "80"),
        ("SourceIpAddress", "10.0.0.10"),
        ("RegionId", "cn-hangzhou"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    // The SDK sends this action as a GET.
    let reply = lab
        .c
        .signed(
            "GET",
            "CreateAndAnalyzeNetworkPath",
            params,
            &[("Format", "JSON"), ("Version", super::NIS)],
        )
        .await;
    let body = ok(reply).await;
    assert_eq!(body["SourceId"], *a);
    assert_eq!(body["TargetId"], *b);
    assert_eq!(body["SourceType"], "ecs");
    assert_eq!(body["TargetPort"], "80", "ports are strings");
    assert_eq!(body["SourcePort"], "0");
    assert_eq!(body["Protocol"], "tcp");
    assert_eq!(body["SourceIpAddress"], "10.0.0.10");
    let id = body["NetworkReachableAnalysisId"].as_str().expect("id");
    assert!(id.starts_with("nra-") && id.len() == 24, "{id}");
    let got = lab.read(id).await;
    assert!(got.reachable);
    assert_eq!(got.reply["NetworkPathId"], "");
    let parameter: Value =
        serde_json::from_str(got.reply["NetworkPathParameter"].as_str().expect("string"))
            .expect("JSON");
    assert_eq!(parameter["sourceId"], *a);
    assert_eq!(parameter["targetType"], "ecs");
    assert_eq!(parameter["targetPort"], 80);
    assert!(got.reply["AliUid"].as_i64().expect("AliUid is a number") > 0);
    let created = got.reply["CreateTime"].as_str().expect("CreateTime");
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "{created}"
    );
    // The topology goes VM → ENI → VSW → ENI → VM, and back.
    let nodes = got.result["topologyData"]["positive"]["nodeList"]
        .as_array()
        .expect("nodes");
    let kinds: Vec<&str> = nodes
        .iter()
        .map(|n| n["nodeType"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["VM", "ENI", "VSW", "ENI", "VM"]);
    assert_eq!(nodes[2]["cidr"], "10.0.0.0/24");
    assert_eq!(nodes[1]["ip"], "10.0.0.10");
    let links = got.result["topologyData"]["positive"]["linkList"]
        .as_array()
        .expect("links");
    assert_eq!(links.len(), 4);
    assert_eq!(links[0]["source"], *a);
    assert_eq!(
        got.result["topologyData"]["reverse"]["revNodeList"][0]["id"],
        *b
    );
}

#[tokio::test]
async fn an_analysis_keeps_the_network_of_its_time_and_outlives_its_path() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g = lab.group("normal", "Drop").await;
    let a = lab.instance(&[&g], None).await;
    let b = lab.instance(&[&g], None).await;
    let path = ok(nis(
        &lab.c,
        "CreateNetworkPath",
        &[
            ("NetworkPathName", "a to b"),
            ("SourceId", &a),
            ("SourceType", "ecs"),
            ("TargetId", &b),
            ("TargetType", "ecs"),
            ("Protocol", "tcp"),
            ("TargetPort", "22"),
        ],
    )
    .await)
    .await["NetworkPathId"]
        .as_str()
        .expect("path")
        .to_string();
    let analyse = || async {
        let r = ok(nis(
            &lab.c,
            "CreateNetworkReachableAnalysis",
            &[("NetworkPathId", &path)],
        )
        .await)
        .await;
        r["NetworkReachableAnalysisId"]
            .as_str()
            .expect("id")
            .to_string()
    };
    let before = analyse().await;
    lab.rule(
        &g,
        "ingress",
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourceGroupId", &g),
        ],
    )
    .await;
    let after = analyse().await;
    assert!(
        !lab.read(&before).await.reachable,
        "the first ran before the rule"
    );
    assert!(lab.read(&after).await.reachable);
    assert_eq!(lab.read(&after).await.reply["NetworkPathId"], *path);

    let deleted = ok(nis(
        &lab.c,
        "DeleteNetworkPath",
        &[("NetworkPathIds", &format!("[\"{path}\"]"))],
    )
    .await)
    .await;
    assert_eq!(deleted["Data"], true);
    assert!(!lab.read(&before).await.reachable, "records stay readable");
    let gone = nis(
        &lab.c,
        "CreateNetworkReachableAnalysis",
        &[("NetworkPathId", &path)],
    )
    .await;
    assert_eq!(
        (gone.status, gone.code().as_str()),
        (404, "ResourceNotFound.NetworkPath")
    );

    let ids = format!("[\"{before}\",\"{after}\"]");
    let deleted = ok(nis(
        &lab.c,
        "DeleteNetworkReachableAnalysis",
        &[("NetworkReachableAnalysisIds", &ids)],
    )
    .await)
    .await;
    assert_eq!(deleted["Data"], true);
    let gone = nis(
        &lab.c,
        "GetNetworkReachableAnalysis",
        &[("NetworkReachableAnalysisId", &before)],
    )
    .await;
    assert_eq!(
        (gone.status, gone.code().as_str()),
        (404, "ResourceNotFound.NetworkReachableAnalysisId")
    );
}

#[tokio::test]
async fn a_stopped_instance_is_unreachable_and_says_so() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g = lab.group("normal", "Accept").await;
    let a = lab.instance(&[&g], None).await;
    let b = lab.instance(&[&g], None).await;
    super::ecs_ok(&lab.c, "StopInstance", &[("InstanceId", &b)]).await;
    let got = lab.tcp(&a, &b, "22").await;
    assert!(!got.reachable);
    assert_eq!(got.error_code(), "INSTANCE_NOT_RUNNING");
    assert!(got.decided_by().contains(&b), "{}", got.decided_by());
}

#[tokio::test]
async fn internet_addresses_are_checked_against_the_instance_groups() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g = lab.group("normal", "Accept").await;
    let web = lab.instance(&[&g], None).await;
    let from_outside = |port: &'static str| {
        let web = web.clone();
        let lab = &lab;
        async move {
            lab.analyse(&[
                ("SourceId", "203.0.113.9"),
                ("SourceType", "internetIp"),
                ("TargetId", &web),
                ("TargetType", "ecs"),
                ("Protocol", "tcp"),
                ("TargetPort", port),
            ])
            .await
        }
    };
    let closed: Analysis = from_outside("443").await;
    assert!(!closed.reachable);
    let rule = lab
        .rule(
            &g,
            "ingress",
            &[
                ("IpProtocol", "tcp"),
                ("PortRange", "443/443"),
                ("SourceCidrIp", "0.0.0.0/0"),
            ],
        )
        .await;
    let open = from_outside("443").await;
    assert!(open.reachable, "{:?}", open.result);
    assert!(open.rule_item(&rule).is_some());
    assert!(open.result["explanation"]["scopeNote"].as_str().is_some());
    let nodes = open.result["topologyData"]["positive"]["nodeList"]
        .as_array()
        .expect("nodes");
    assert_eq!(nodes[0]["nodeType"], "IP");
    // Outbound to the Internet: a basic group's default egress allows.
    let out = lab
        .analyse(&[
            ("SourceId", &web),
            ("SourceType", "ecs"),
            ("TargetId", "8.8.8.8"),
            ("TargetType", "internetIp"),
            ("Protocol", "udp"),
            ("TargetPort", "53"),
        ])
        .await;
    assert!(out.reachable);
}

#[tokio::test]
async fn another_accounts_paths_and_analyses_do_not_exist() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g = lab.group("normal", "Accept").await;
    let a = lab.instance(&[&g], None).await;
    let b = lab.instance(&[&g], None).await;
    let got = lab.tcp(&a, &b, "22").await;
    let analysis = got.reply["NetworkReachableAnalysisId"]
        .as_str()
        .expect("id")
        .to_string();
    let path = got.reply["NetworkPathId"].as_str().expect("id").to_string();

    let other = server.new_account().await;
    let r = nis(
        &other,
        "GetNetworkReachableAnalysis",
        &[("NetworkReachableAnalysisId", &analysis)],
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (404, "ResourceNotFound.NetworkReachableAnalysisId")
    );
    let r = nis(
        &other,
        "CreateNetworkReachableAnalysis",
        &[("NetworkPathId", &path)],
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (404, "ResourceNotFound.NetworkPath")
    );
    let r = nis(
        &other,
        "DeleteNetworkPath",
        &[("NetworkPathIds", &format!("[\"{path}\"]"))],
    )
    .await;
    assert_eq!(r.status, 404);
    // Another account cannot name our instances in a path either.
    let r = nis(
        &other,
        "CreateNetworkPath",
        &[
            ("NetworkPathName", "theirs"),
            ("SourceId", &a),
            ("SourceType", "ecs"),
            ("TargetId", &b),
            ("TargetType", "ecs"),
            ("Protocol", "tcp"),
            ("TargetPort", "22"),
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "IllegalParam.SourceId")
    );
    // Ours are untouched.
    assert!(lab.read(&analysis).await.reachable);
}

#[tokio::test]
async fn a_vswitch_address_held_by_an_instance_is_that_instance() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g = lab.group("normal", "Accept").await;
    lab.instance(&[&g], Some("10.0.0.30")).await;
    let b = lab.instance(&[&g], None).await;
    let from = |ip: &'static str| {
        let (lab, b) = (&lab, b.clone());
        async move {
            lab.analyse(&[
                ("SourceId", &lab.vsw),
                ("SourceType", "vsw"),
                ("SourceIpAddress", ip),
                ("TargetId", &b),
                ("TargetType", "ecs"),
                ("Protocol", "tcp"),
                ("TargetPort", "22"),
            ])
            .await
        }
    };
    // 10.0.0.30 is a member of g: inner access allows it.
    let member = from("10.0.0.30").await;
    assert!(member.reachable, "{:?}", member.result);
    // 10.0.0.31 is no instance's: only b's ingress decides, and it has no rule.
    let stranger = from("10.0.0.31").await;
    assert!(!stranger.reachable);
    assert_eq!(
        stranger.result["topologyData"]["positive"]["nodeList"][0]["nodeType"],
        "IP"
    );
}

#[tokio::test]
async fn an_ecs_end_at_a_secondary_interface_address_is_that_interface() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    // a's primary interface is in `open` (accepts tcp/22 from the VPC); b's primary one too,
    // b's secondary interface is in `closed` (Drop, no rules).
    let open = lab.group("normal", "Drop").await;
    lab.rule(
        &open,
        "ingress",
        &[
            ("IpProtocol", "tcp"),
            ("PortRange", "22/22"),
            ("SourceCidrIp", "10.0.0.0/8"),
        ],
    )
    .await;
    let closed = lab.group("normal", "Drop").await;
    let a = lab.instance(&[&open], Some("10.0.0.10")).await;
    let b = lab.instance(&[&open], Some("10.0.0.20")).await;
    let created = ecs_ok(
        &lab.c,
        "CreateNetworkInterface",
        &[
            ("VSwitchId", lab.vsw.as_str()),
            ("SecurityGroupId", closed.as_str()),
            ("PrimaryIpAddress", "10.0.0.30"),
            ("PrivateIpAddress.1", "10.0.0.31"),
        ],
    )
    .await;
    let eni = created["NetworkInterfaceId"]
        .as_str()
        .expect("eni")
        .to_string();
    ecs_ok(
        &lab.c,
        "AttachNetworkInterface",
        &[("NetworkInterfaceId", &eni), ("InstanceId", &b)],
    )
    .await;

    let to_primary = lab.tcp(&a, &b, "22").await;
    assert!(to_primary.reachable, "{:?}", to_primary.result);
    for address in ["10.0.0.30", "10.0.0.31"] {
        let got = lab
            .analyse(&[
                ("SourceId", &a),
                ("SourceType", "ecs"),
                ("TargetId", &b),
                ("TargetType", "ecs"),
                ("TargetIpAddress", address),
                ("Protocol", "tcp"),
                ("TargetPort", "22"),
            ])
            .await;
        assert!(!got.reachable, "{address}: {:?}", got.result);
        assert_eq!(got.error_code(), "SECURITY_GROUP_DENY");
        let target_items: Vec<Value> = got
            .items()
            .into_iter()
            .filter(|i| i["securityGroupId"] == closed.as_str())
            .collect();
        assert!(!target_items.is_empty(), "{:?}", got.items());
        assert!(
            target_items.iter().all(|i| i["resourceId"] == eni.as_str()),
            "{:?}",
            target_items
        );
    }
    // An address none of b's interfaces holds is refused as the end's address.
    let r = nis(
        &lab.c,
        "CreateNetworkPath",
        &[
            ("NetworkPathName", "wrong address"),
            ("SourceId", &a),
            ("SourceType", "ecs"),
            ("TargetId", &b),
            ("TargetType", "ecs"),
            ("TargetIpAddress", "10.0.0.99"),
            ("Protocol", "tcp"),
            ("TargetPort", "22"),
        ],
    )
    .await;
    assert_eq!(r.code(), "IllegalParam.TargetIp", "{}", r.body);
}
