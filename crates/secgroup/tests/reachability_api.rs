//! The extension API (`Version=x-secgroup-2026-11-01`) end to end: a topology built through
//! the ECS and VPC APIs, then `CheckReachability` verdicts and their deciding rules, the
//! matrix against pairwise checks, a stopped instance, a secondary interface, scope and
//! parameter errors, XML.

mod common;
#[path = "reachability/topology.rs"]
mod topology;

use common::{TestClient, TestServer};
use secgroup::Settings;
use serde_json::Value;
use topology::{ext, rule_id, Topology};

/// Owned request parameters, for tables of cases.
type Params = Vec<(&'static str, String)>;

async fn check(c: &TestClient, params: &[(&str, &str)]) -> Value {
    let r = ext(c, "CheckReachability", params).await;
    assert_eq!(r.status, 200, "{params:?}: {}", r.body);
    r.json()
}

fn texts(answer: &Value, list: &str, item: &str) -> Vec<String> {
    answer[list][item]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["Text"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn verdicts_name_the_rules_that_decide_and_block() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let t = Topology::build(&c).await;
    let ssh_rule = rule_id(&c, &t.sg_db, "22/22").await;

    // web → db on 22: the db group's rule naming the web group allows it.
    let a = check(
        &c,
        &[
            ("SourceInstanceId", &t.web),
            ("DestinationInstanceId", &t.db),
            ("Protocol", "TCP"),
            ("Port", "22"),
        ],
    )
    .await;
    assert_eq!(a["Reachable"], true, "{a}");
    assert_eq!(a["SecurityGroupsAllow"], true);
    assert_eq!(
        (a["Protocol"].as_str(), a["Port"].as_i64()),
        (Some("TCP"), Some(22))
    );
    let steps = a["DecidingSteps"]["Step"]
        .as_array()
        .expect("steps")
        .clone();
    let ingress = steps
        .iter()
        .find(|s| s["Direction"] == "ingress")
        .expect("an ingress step");
    assert_eq!(ingress["Kind"], "rule");
    assert_eq!(ingress["SecurityGroupRuleId"], ssh_rule.as_str());
    assert_eq!(ingress["SecurityGroupId"], t.sg_db.as_str());
    assert_eq!(ingress["InstanceId"], t.db.as_str());
    assert_eq!(
        (ingress["Priority"].as_i64(), ingress["Policy"].as_str()),
        (Some(1), Some("Accept"))
    );
    let summary = a["Summary"].as_str().expect("summary");
    assert!(
        summary.contains("is allowed") && summary.contains(&ssh_rule),
        "{summary}"
    );
    assert!(
        summary.contains("(web)") && summary.contains("(db)"),
        "{summary}"
    );
    assert_eq!(a["Source"]["Type"], "Instance");
    assert_eq!(a["Destination"]["PrivateIpAddress"], t.db_ip.as_str());
    assert!(a["BlockingElements"]["Element"]
        .as_array()
        .expect("list")
        .is_empty());

    // web → db on 80: nothing allows it, the basic group's default ingress denies.
    let a = check(
        &c,
        &[
            ("SourceInstanceId", &t.web),
            ("DestinationInstanceId", &t.db),
            ("Protocol", "tcp"),
            ("Port", "80"),
        ],
    )
    .await;
    assert_eq!(a["Reachable"], false, "{a}");
    let blocking = a["BlockingElements"]["Element"]
        .as_array()
        .expect("list")
        .clone();
    assert_eq!(blocking.len(), 1, "{a}");
    assert_eq!(
        (
            blocking[0]["Kind"].as_str(),
            blocking[0]["Direction"].as_str(),
            blocking[0]["GroupType"].as_str()
        ),
        (Some("default"), Some("ingress"), Some("normal"))
    );
    assert!(a["Summary"]
        .as_str()
        .expect("summary")
        .contains("is denied"));

    // db → web on 3306, denied by the egress drop rule at db AND web's default ingress:
    // every blocking element is named.
    let drop_rule = rule_id(&c, &t.sg_db, "3306/3306").await;
    let a = check(
        &c,
        &[
            ("SourceIpAddress", &t.db_ip),
            ("DestinationInstanceId", &t.web),
            ("Protocol", "tcp"),
            ("Port", "3306"),
        ],
    )
    .await;
    assert_eq!(a["Reachable"], false);
    assert_eq!(
        a["Source"]["InstanceId"],
        t.db.as_str(),
        "an instance's address is that instance"
    );
    let kinds: Vec<(String, String)> = a["BlockingElements"]["Element"]
        .as_array()
        .expect("list")
        .iter()
        .map(|e| {
            (
                e["Kind"].as_str().unwrap_or("").to_string(),
                e["SecurityGroupRuleId"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("rule".to_string(), drop_rule.clone()),
            ("default".to_string(), String::new())
        ]
    );
    assert!(texts(&a, "BlockingElements", "Element")[0].contains("Drop"));
    assert!(a["Summary"]
        .as_str()
        .expect("summary")
        .contains("(and 1 more)"));

    // web and app share the Accept group: inner access decides.
    let a = check(
        &c,
        &[
            ("SourceInstanceId", &t.app),
            ("DestinationInstanceId", &t.web),
            ("Protocol", "all"),
        ],
    )
    .await;
    assert_eq!(a["Reachable"], true);
    assert_eq!(a["DecidingSteps"]["Step"][0]["Kind"], "inner-access");
    assert_eq!(
        a["DecidingSteps"]["Step"][0]["SecurityGroupId"],
        t.sg_web.as_str()
    );
    assert!(a.get("Port").is_none(), "no port for ALL: {a}");

    // From outside: only the groups are evaluated, and the answer says so.
    let a = check(
        &c,
        &[
            ("SourceIpAddress", "203.0.113.7"),
            ("DestinationInstanceId", &t.db),
            ("Protocol", "tcp"),
            ("Port", "22"),
        ],
    )
    .await;
    assert_eq!(a["Reachable"], false);
    assert_eq!(a["Source"]["Type"], "IpAddress");
    assert!(a["ScopeNote"]
        .as_str()
        .expect("note")
        .contains("only security groups"));
}

#[tokio::test]
async fn a_stopped_instance_is_unreachable_and_said_to_be() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let t = Topology::build(&c).await;
    let r = c.call("StopInstance", &[("InstanceId", &t.db)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = check(
        &c,
        &[
            ("SourceInstanceId", &t.web),
            ("DestinationInstanceId", &t.db),
            ("Protocol", "tcp"),
            ("Port", "22"),
        ],
    )
    .await;
    assert_eq!(a["Reachable"], false, "{a}");
    assert_eq!(
        a["SecurityGroupsAllow"], true,
        "the groups alone would allow it"
    );
    assert_eq!(
        a["NotRunningInstances"]["Instance"][0]["InstanceId"],
        t.db.as_str()
    );
    assert_eq!(a["NotRunningInstances"]["Instance"][0]["Status"], "Stopped");
    assert_eq!(a["Destination"]["Status"], "Stopped");
    assert_eq!(
        a["BlockingElements"]["Element"][0]["Kind"],
        "instance-not-running"
    );
    let summary = a["Summary"].as_str().expect("summary");
    assert!(
        summary.contains("unreachable") && summary.contains("Stopped"),
        "{summary}"
    );
}

#[tokio::test]
async fn the_matrix_agrees_with_pairwise_checks() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let t = Topology::build(&c).await;
    let r = c.call("StopInstance", &[("InstanceId", &t.batch)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (protocol, port) in [("tcp", Some("22")), ("tcp", Some("3306")), ("icmp", None)] {
        let mut params = vec![("VpcId", t.vpc.as_str()), ("Protocol", protocol)];
        if let Some(port) = port {
            params.push(("Port", port));
        }
        let r = ext(&c, "DescribeReachabilityMatrix", &params).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let m = r.json();
        let ids: Vec<String> = m["Instances"]["Instance"]
            .as_array()
            .expect("instances")
            .iter()
            .map(|i| i["InstanceId"].as_str().expect("id").to_string())
            .collect();
        assert_eq!(ids, t.all(), "the VPC's instances, oldest first");
        assert_eq!(m["InstanceCount"], 4);
        let rows: Vec<String> = m["Rows"]["Row"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r.as_str().expect("row").to_string())
            .collect();
        let mut allowed = 0;
        for (s, source) in ids.iter().enumerate() {
            for (d, destination) in ids.iter().enumerate() {
                let mut q = vec![
                    ("SourceInstanceId", source.as_str()),
                    ("DestinationInstanceId", destination.as_str()),
                    ("Protocol", protocol),
                ];
                if let Some(port) = port {
                    q.push(("Port", port));
                }
                let pairwise = check(&c, &q).await["Reachable"] == true;
                let cell = rows[s].as_bytes()[d] == b'1';
                assert_eq!(
                    cell, pairwise,
                    "{protocol} {port:?} {source} -> {destination}"
                );
                allowed += usize::from(cell);
            }
        }
        assert_eq!(m["AllowedCount"], allowed as u64);
        assert!(allowed > 0 || protocol == "icmp");
        // The stopped instance's row and column are empty.
        let b = ids.iter().position(|i| *i == t.batch).expect("batch");
        assert!(rows[b].bytes().all(|c| c == b'0'));
        assert!(rows.iter().all(|r| r.as_bytes()[b] == b'0'));
    }

    // Scoped by groups: members of any of them.
    let groups = format!("[\"{}\"]", t.sg_db);
    let r = ext(
        &c,
        "DescribeReachabilityMatrix",
        &[
            ("SecurityGroupIds", &groups),
            ("Protocol", "tcp"),
            ("Port", "22"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let m = r.json();
    assert_eq!(m["InstanceCount"], 2, "db and the stopped batch: {m}");
    assert_eq!(m["Instances"]["Instance"][0]["InstanceId"], t.db.as_str());
    assert_eq!(m["Instances"]["Instance"][0]["InstanceName"], "db");
    assert_eq!(m["Instances"]["Instance"][1]["Status"], "Stopped");
    assert_eq!(
        m["Rows"]["Row"],
        serde_json::json!(["00", "00"]),
        "db does not reach itself on 22"
    );
}

#[tokio::test]
async fn scopes_and_parameters_are_refused_with_alibaba_style_errors() {
    let mut settings = Settings::default();
    settings.products.max_matrix_instances = 3;
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    let t = Topology::build(&c).await;
    let outcome = |r: common::Reply| (r.status, r.code());
    let matrix = |params: Vec<(&'static str, String)>| {
        let c = c.clone();
        async move {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            outcome(ext(&c, "DescribeReachabilityMatrix", &params).await)
        }
    };
    let tcp22 = || vec![("Protocol", "tcp".to_string()), ("Port", "22".to_string())];
    let with = |mut extra: Vec<(&'static str, String)>| {
        extra.extend(tcp22());
        extra
    };
    assert_eq!(
        matrix(with(vec![("VpcId", t.vpc.clone())])).await,
        (400, "InvalidParameter.ScopeTooLarge".into()),
        "4 instances, at most 3"
    );
    assert_eq!(
        matrix(with(vec![("VpcId", "vpc-doesnotexist".into())])).await,
        (404, "InvalidVpcId.NotFound".into())
    );
    assert_eq!(
        matrix(with(vec![(
            "SecurityGroupIds",
            "[\"sg-doesnotexist\"]".into()
        )]))
        .await,
        (404, "InvalidSecurityGroupId.NotFound".into())
    );
    assert_eq!(
        matrix(with(vec![("SecurityGroupIds", "sg-a,sg-b".into())])).await,
        (400, "InvalidSecurityGroupId.Malformed".into())
    );
    assert_eq!(
        matrix(tcp22()).await,
        (400, "MissingParameter.Scope".into())
    );
    assert_eq!(
        matrix(with(vec![
            ("VpcId", t.vpc.clone()),
            ("SecurityGroupIds", "[]".into())
        ]))
        .await,
        (400, "InvalidParameter.Conflict".into())
    );
    let groups = format!("[\"{}\"]", t.sg_web);
    assert_eq!(
        matrix(vec![
            ("SecurityGroupIds", groups),
            ("Protocol", "udp".into())
        ])
        .await,
        (400, "MissingPort".into())
    );

    let flow = |extra: &[(&'static str, &'static str)]| -> Params {
        let mut p: Params = vec![
            ("SourceInstanceId", t.web.clone()),
            ("DestinationInstanceId", t.db.clone()),
        ];
        p.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        p
    };
    let check_outcome = |params: Vec<(&'static str, String)>| {
        let c = c.clone();
        async move {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            outcome(ext(&c, "CheckReachability", &params).await)
        }
    };
    let cases: Vec<(Params, (u16, &str))> = vec![
        (flow(&[("Protocol", "tcp")]), (400, "MissingPort")),
        (flow(&[("Port", "22")]), (400, "MissingProtocol")),
        (
            flow(&[("Protocol", "sctp"), ("Port", "22")]),
            (400, "InvalidParameter.Protocol"),
        ),
        (
            flow(&[("Protocol", "tcp"), ("Port", "70000")]),
            (400, "InvalidParameter.Port"),
        ),
        (
            flow(&[("Protocol", "tcp"), ("Port", "22"), ("SourcePort", "0")]),
            (400, "InvalidParameter.SourcePort"),
        ),
        (
            vec![
                ("SourceInstanceId", "i-doesnotexist".into()),
                ("DestinationInstanceId", t.db.clone()),
                ("Protocol", "tcp".into()),
                ("Port", "22".into()),
            ],
            (404, "InvalidInstanceId.NotFound"),
        ),
        (
            vec![
                ("DestinationInstanceId", t.db.clone()),
                ("Protocol", "icmp".into()),
            ],
            (400, "MissingParameter.Source"),
        ),
        (
            vec![
                ("SourceIpAddress", "198.51.100.1".into()),
                ("DestinationIpAddress", "198.51.100.2".into()),
                ("Protocol", "icmp".into()),
            ],
            (400, "InvalidParameter.NoInstance"),
        ),
        (
            {
                let mut p = flow(&[("Protocol", "icmp")]);
                p.push(("RegionId", "xx-nowhere-1".into()));
                p
            },
            (404, "InvalidRegionId.NotFound"),
        ),
    ];
    for (params, expected) in cases {
        let got = check_outcome(params.clone()).await;
        assert_eq!((got.0, got.1.as_str()), expected, "{params:?}");
    }

    // Another account sees none of it.
    let other = server.new_account().await;
    let r = ext(
        &other,
        "CheckReachability",
        &[
            ("SourceInstanceId", &t.web),
            ("DestinationInstanceId", &t.db),
            ("Protocol", "icmp"),
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.code()),
        (404, "InvalidInstanceId.NotFound".into())
    );
}

#[tokio::test]
async fn answers_render_as_xml_too_and_unknown_actions_are_refused() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let t = Topology::build(&c).await;
    let params = vec![
        ("RegionId".to_string(), "cn-hangzhou".to_string()),
        ("SourceInstanceId".to_string(), t.web.clone()),
        ("DestinationInstanceId".to_string(), t.db.clone()),
        ("Protocol".to_string(), "tcp".to_string()),
        ("Port".to_string(), "22".to_string()),
    ];
    let r = c
        .signed(
            "GET",
            "CheckReachability",
            params,
            &[("Format", "XML"), ("Version", topology::VERSION)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains("<CheckReachabilityResponse><RequestId>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<Reachable>true</Reachable>"));
    assert!(r.body.contains("<DecidingSteps><Step><Kind>"), "{}", r.body);

    let r = ext(&c, "DescribeSecurityGroups", &[]).await;
    assert_eq!((r.status, r.code()), (404, "InvalidAction.NotFound".into()));
}

#[tokio::test]
async fn a_secondary_interface_is_decided_by_its_own_groups() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let t = Topology::build(&c).await;
    // batch's primary interface is in the db group (Drop, 22 from web only); its secondary
    // interface is in the web group (Accept between members).
    let vsw = {
        let filter = format!("[\"{}\"]", t.batch);
        let r = c
            .call("DescribeInstances", &[("InstanceIds", &filter)])
            .await;
        r.json()["Instances"]["Instance"][0]["VpcAttributes"]["VSwitchId"]
            .as_str()
            .expect("vsw")
            .to_string()
    };
    let r = c
        .call(
            "CreateNetworkInterface",
            &[
                ("VSwitchId", &vsw),
                ("SecurityGroupId", &t.sg_web),
                ("SecondaryPrivateIpAddressCount", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let eni = r.json()["NetworkInterfaceId"]
        .as_str()
        .expect("eni")
        .to_string();
    let secondary_ip = r.json()["PrivateIpSets"]["PrivateIpSet"][1]["PrivateIpAddress"]
        .as_str()
        .expect("ip")
        .to_string();
    let r = c
        .call(
            "AttachNetworkInterface",
            &[("NetworkInterfaceId", &eni), ("InstanceId", &t.batch)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    let to = |dest: (&'static str, String)| {
        let c = c.clone();
        let app = t.app.clone();
        async move {
            check(
                &c,
                &[
                    ("SourceInstanceId", app.as_str()),
                    (dest.0, dest.1.as_str()),
                    ("Protocol", "TCP"),
                    ("Port", "80"),
                ],
            )
            .await
        }
    };
    // app → batch on 80: the primary interface's db group drops it; the secondary
    // interface, at either of its addresses, is a web member.
    let primary = to(("DestinationInstanceId", t.batch.clone())).await;
    assert_eq!(primary["Reachable"], false, "{primary}");
    let by_id = to(("DestinationNetworkInterfaceId", eni.clone())).await;
    assert_eq!(by_id["Reachable"], true, "{by_id}");
    assert_eq!(
        by_id["Destination"]["NetworkInterfaceId"],
        eni.as_str(),
        "{by_id}"
    );
    let by_address = to(("DestinationIpAddress", secondary_ip.clone())).await;
    assert_eq!(by_address["Reachable"], true, "{by_address}");
    assert_eq!(
        by_address["Destination"]["NetworkInterfaceId"],
        eni.as_str(),
        "{by_address}"
    );

    // From the secondary interface, db's rule naming the web group admits 22; from the
    // primary one (a db member, Drop) it does not.
    let from = |source: (&'static str, String)| {
        let c = c.clone();
        let db = t.db.clone();
        async move {
            check(
                &c,
                &[
                    (source.0, source.1.as_str()),
                    ("DestinationInstanceId", db.as_str()),
                    ("Protocol", "TCP"),
                    ("Port", "22"),
                ],
            )
            .await
        }
    };
    assert_eq!(
        from(("SourceNetworkInterfaceId", eni.clone())).await["Reachable"],
        true
    );
    assert_eq!(
        from(("SourceInstanceId", t.batch.clone())).await["Reachable"],
        false
    );

    // Detached, the interface is no end at all (no NIC has that id).
    let r = c
        .call(
            "DetachNetworkInterface",
            &[("NetworkInterfaceId", &eni), ("InstanceId", &t.batch)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = ext(
        &c,
        "CheckReachability",
        &[
            ("SourceInstanceId", &t.app),
            ("DestinationNetworkInterfaceId", &eni),
            ("Protocol", "TCP"),
            ("Port", "80"),
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (404, "InvalidEniId.NotFound"),
        "{}",
        r.body
    );
}
