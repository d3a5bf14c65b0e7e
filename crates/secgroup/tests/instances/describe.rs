//! DescribeInstances filters and both paging styles, account isolation, and the tag API
//! on instances.

use super::{create_vswitch, describe_one, ids_of, listed, net, ok, outcome, run, run_params};
use crate::common::{create_group, TestServer};

/// Request parameters.
type Params<'a> = Vec<(&'a str, &'a str)>;

#[tokio::test]
async fn describe_filters_and_pages() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let other_vsw = create_vswitch(&c, &n.vpc, "cn-hangzhou-c", "10.3.0.0/24").await;
    let sg2 = create_group(&c, &[("VpcId", &n.vpc)]).await;
    let a = run(
        &c,
        &n.vsw,
        &n.sg,
        &[("Amount", "3"), ("InstanceName", "web-[1,2]")],
    )
    .await;
    let b = run(
        &c,
        &other_vsw,
        &sg2,
        &[
            ("InstanceName", "db-1"),
            ("Tag.1.Key", "role"),
            ("Tag.1.Value", "db"),
        ],
    )
    .await;
    let stopped = ok(
        &c,
        "CreateInstance",
        &[
            ("InstanceType", "ecs.g5.large"),
            ("VSwitchId", &n.vsw),
            ("SecurityGroupId", &sg2),
        ],
    )
    .await["InstanceId"]
        .as_str()
        .expect("id")
        .to_string();
    let two = format!("[\"{}\",\"{}\",\"i-unknown\"]", b[0], a[1]);
    let ips = "[\"10.1.0.2\",\"10.3.0.1\"]".to_string();
    let cases: Vec<(Params, Vec<&String>)> = vec![
        (vec![], vec![&a[0], &a[1], &a[2], &b[0], &stopped]),
        (vec![("InstanceIds", &two)], vec![&a[1], &b[0]]),
        (vec![("InstanceIds", "[]")], vec![]),
        (vec![("SecurityGroupId", &sg2)], vec![&b[0], &stopped]),
        (vec![("VSwitchId", &other_vsw)], vec![&b[0]]),
        (
            vec![("VpcId", &n.vpc), ("ZoneId", "cn-hangzhou-c")],
            vec![&b[0]],
        ),
        (vec![("Status", "Stopped")], vec![&stopped]),
        (
            vec![("Status", "Running"), ("SecurityGroupId", &sg2)],
            vec![&b[0]],
        ),
        (vec![("InstanceName", "web-*")], vec![&a[0], &a[1], &a[2]]),
        (vec![("InstanceName", "*-1")], vec![&b[0]]),
        (vec![("InstanceName", "web-01")], vec![&a[0]]),
        (vec![("PrivateIpAddresses", &ips)], vec![&a[1], &b[0]]),
        (vec![("Tag.1.Key", "role")], vec![&b[0]]),
        (vec![("Tag.1.Key", "role"), ("Tag.1.Value", "web")], vec![]),
        (vec![("InstanceNetworkType", "classic")], vec![]),
        (
            vec![
                ("InstanceChargeType", "PostPaid"),
                ("InstanceNetworkType", "vpc"),
            ],
            vec![&a[0], &a[1], &a[2], &b[0], &stopped],
        ),
        (vec![("SecurityGroupId", "sg-unknown")], vec![]),
        (vec![("EipAddresses", "[\"47.0.0.1\"]")], vec![]),
    ];
    for (filters, expected) in cases {
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(ids_of(&listed(&c, &filters).await), expected, "{filters:?}");
    }

    let page = ok(
        &c,
        "DescribeInstances",
        &[("PageNumber", "2"), ("PageSize", "2")],
    )
    .await;
    assert_eq!(
        (page["TotalCount"].as_i64(), page["PageNumber"].as_i64()),
        (Some(5), Some(2))
    );
    assert_eq!(
        ids_of(page["Instances"]["Instance"].as_array().expect("list")),
        [a[2].clone(), b[0].clone()]
    );
    let page = ok(&c, "DescribeInstances", &[]).await;
    assert_eq!(
        (page["PageNumber"].as_i64(), page["PageSize"].as_i64()),
        (Some(1), Some(10))
    );

    // Token paging: MaxResults below 10 counts as 10.
    for _ in 0..6 {
        run(&c, &n.vsw, &n.sg, &[]).await;
    }
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut params = vec![("MaxResults", "3")];
        if !token.is_empty() {
            params.push(("NextToken", &token));
        }
        let body = ok(&c, "DescribeInstances", &params).await;
        seen.extend(ids_of(
            body["Instances"]["Instance"].as_array().expect("list"),
        ));
        token = body["NextToken"].as_str().expect("NextToken").to_string();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 11);
    assert_eq!(ids_of(&listed(&c, &[]).await), seen);
}

#[tokio::test]
async fn accounts_never_see_each_others_instances() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let other = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let ids = run(&c, &n.vsw, &n.sg, &[]).await;
    let id = ids[0].as_str();
    assert!(listed(&other, &[]).await.is_empty());
    let their = net(&other, "10.1.0.0/24").await;
    for (action, params) in [
        ("DescribeInstanceAttribute", vec![("InstanceId", id)]),
        ("StopInstance", vec![("InstanceId", id)]),
        (
            "DeleteInstance",
            vec![("InstanceId", id), ("Force", "true")],
        ),
        (
            "ModifyInstanceAttribute",
            vec![("InstanceId", id), ("InstanceName", "stolen")],
        ),
        (
            "JoinSecurityGroup",
            vec![("InstanceId", id), ("SecurityGroupId", their.sg.as_str())],
        ),
    ] {
        assert_eq!(
            outcome(&other, action, &params).await,
            (404, "InvalidInstanceId.NotFound".into()),
            "{action}"
        );
    }
    // Another account's vSwitch and group are unknown too.
    assert_eq!(
        outcome(&other, "RunInstances", &run_params(&n.vsw, &their.sg, &[])).await,
        (404, "InvalidVSwitchId.NotFound".into())
    );
    assert_eq!(
        outcome(&other, "RunInstances", &run_params(&their.vsw, &n.sg, &[])).await,
        (404, "InvalidSecurityGroupId.NotFound".into())
    );
    assert_eq!(describe_one(&c, id).await["InstanceName"], id);
}

#[tokio::test]
async fn instances_take_tags_through_the_tag_api() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let id = run(&c, &n.vsw, &n.sg, &[]).await.remove(0);
    ok(
        &c,
        "TagResources",
        &[
            ("ResourceType", "instance"),
            ("ResourceId.1", &id),
            ("Tag.1.Key", "team"),
            ("Tag.1.Value", "a"),
        ],
    )
    .await;
    assert_eq!(
        describe_one(&c, &id).await["Tags"]["Tag"][0]["TagKey"],
        "team"
    );
    let listed_tags = ok(
        &c,
        "ListTagResources",
        &[("ResourceType", "instance"), ("ResourceId.1", &id)],
    )
    .await;
    assert_eq!(
        listed_tags["TagResources"]["TagResource"][0]["ResourceId"],
        id.as_str()
    );
    assert_eq!(
        ids_of(&listed(&c, &[("Tag.1.Key", "team"), ("Tag.1.Value", "a")]).await),
        [id]
    );
}
