//! Group membership: Join, Leave, ModifyInstanceAttribute `SecurityGroupIds.N`, the
//! limits, `DeleteSecurityGroup` while members remain, `EcsCount`.

use secgroup::Settings;

use super::{describe_one, groups_of, listed, net, ok, outcome, run, run_params};
use crate::common::{create_group, TestServer};

#[tokio::test]
async fn membership_is_joined_left_and_replaced_within_the_limits() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let mut groups = vec![n.sg.clone()];
    for _ in 0..5 {
        groups.push(create_group(&c, &[("VpcId", &n.vpc)]).await);
    }
    let id = run(&c, &n.vsw, &n.sg, &[]).await.remove(0);
    for g in &groups[1..5] {
        ok(
            &c,
            "JoinSecurityGroup",
            &[("InstanceId", &id), ("SecurityGroupId", g)],
        )
        .await;
    }
    assert_eq!(
        groups_of(&describe_one(&c, &id).await),
        groups[..5],
        "join order kept"
    );
    assert_eq!(
        outcome(
            &c,
            "JoinSecurityGroup",
            &[("InstanceId", &id), ("SecurityGroupId", &groups[5])]
        )
        .await,
        (400, "InstanceSecurityGroupLimitExceeded".into())
    );
    ok(
        &c,
        "LeaveSecurityGroup",
        &[("InstanceId", &id), ("SecurityGroupId", &groups[0])],
    )
    .await;
    assert_eq!(groups_of(&describe_one(&c, &id).await), groups[1..5]);

    // ModifyInstanceAttribute replaces the whole set, in the order given.
    let set = [
        ("InstanceId", id.as_str()),
        ("SecurityGroupIds.1", &groups[5]),
        ("SecurityGroupIds.2", &groups[0]),
    ];
    ok(&c, "ModifyInstanceAttribute", &set).await;
    assert_eq!(
        groups_of(&describe_one(&c, &id).await),
        [groups[5].clone(), groups[0].clone()]
    );
    assert_eq!(
        listed(&c, &[("SecurityGroupId", &groups[1])]).await.len(),
        0
    );

    // By the primary interface (needs RegionId).
    let eni = describe_one(&c, &id).await["NetworkInterfaces"]["NetworkInterface"][0]
        ["NetworkInterfaceId"]
        .as_str()
        .expect("eni")
        .to_string();
    ok(
        &c,
        "JoinSecurityGroup",
        &[
            ("NetworkInterfaceId", &eni),
            ("SecurityGroupId", &groups[1]),
        ],
    )
    .await;
    ok(
        &c,
        "LeaveSecurityGroup",
        &[
            ("NetworkInterfaceId", &eni),
            ("SecurityGroupId", &groups[5]),
        ],
    )
    .await;
    assert_eq!(
        groups_of(&describe_one(&c, &id).await),
        [groups[0].clone(), groups[1].clone()]
    );
    ok(
        &c,
        "LeaveSecurityGroup",
        &[("InstanceId", &id), ("SecurityGroupId", &groups[0])],
    )
    .await;
    assert_eq!(
        outcome(
            &c,
            "LeaveSecurityGroup",
            &[("InstanceId", &id), ("SecurityGroupId", &groups[1])]
        )
        .await,
        (403, "InstanceLastSecurityGroup".into())
    );

    // Switching wholly to advanced groups is allowed; mixing is not.
    let esg = create_group(
        &c,
        &[("VpcId", &n.vpc), ("SecurityGroupType", "enterprise")],
    )
    .await;
    ok(
        &c,
        "ModifyInstanceAttribute",
        &[("InstanceId", &id), ("SecurityGroupIds.1", &esg)],
    )
    .await;
    assert_eq!(
        outcome(
            &c,
            "JoinSecurityGroup",
            &[("InstanceId", &id), ("SecurityGroupId", &groups[1])]
        )
        .await,
        (400, "InvalidOperation.MultiGroupType".into())
    );
}

#[tokio::test]
async fn groups_count_their_members_and_refuse_deletion_while_they_have_some() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let ids = run(&c, &n.vsw, &n.sg, &[("Amount", "3")]).await;
    let counts = ok(
        &c,
        "DescribeSecurityGroups",
        &[("SecurityGroupId", &n.sg), ("IsQueryEcsCount", "true")],
    )
    .await;
    let g = &counts["SecurityGroups"]["SecurityGroup"][0];
    assert_eq!(
        (
            g["EcsCount"].as_i64(),
            g["AvailableInstanceAmount"].as_i64()
        ),
        (Some(3), Some(5997))
    );
    let plain = ok(&c, "DescribeSecurityGroups", &[("SecurityGroupId", &n.sg)]).await;
    assert!(plain["SecurityGroups"]["SecurityGroup"][0]
        .get("EcsCount")
        .is_none());

    let delete = [("SecurityGroupId", n.sg.as_str())];
    let r = c.call("DeleteSecurityGroup", &delete).await;
    assert_eq!(
        (r.status, r.code()),
        (403, "DependencyViolation".to_string())
    );
    assert_eq!(
        r.json()["Message"],
        "There is still instance(s) in the specified security group."
    );
    let mut batch: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(k, id)| (format!("InstanceId.{}", k + 1), id.clone()))
        .collect();
    batch.push(("Force".into(), "true".into()));
    let batch: Vec<(&str, &str)> = batch
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    ok(&c, "DeleteInstances", &batch).await;
    ok(&c, "DeleteSecurityGroup", &delete).await;
}

#[tokio::test]
async fn configured_limits_bound_groups_and_instances() {
    let mut settings = Settings::default();
    settings.products.limits.instances_per_group = 2;
    settings.products.limits.security_groups_per_instance = 2;
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let [sg2, sg3] = [
        create_group(&c, &[("VpcId", &n.vpc)]).await,
        create_group(&c, &[("VpcId", &n.vpc)]).await,
    ];
    assert_eq!(
        outcome(
            &c,
            "RunInstances",
            &run_params(&n.vsw, &n.sg, &[("Amount", "3")])
        )
        .await,
        (403, "SecurityGroupInstanceLimitExceed".into())
    );
    let two = run(&c, &n.vsw, &n.sg, &[("Amount", "3"), ("MinAmount", "2")]).await;
    assert_eq!(two.len(), 2, "MinAmount takes what the group has room for");
    let third = run(&c, &n.vsw, &sg2, &[]).await.remove(0);
    assert_eq!(
        outcome(
            &c,
            "JoinSecurityGroup",
            &[("InstanceId", &third), ("SecurityGroupId", &n.sg)]
        )
        .await,
        (403, "SecurityGroupInstanceLimitExceeded".into())
    );
    assert_eq!(
        outcome(
            &c,
            "ModifyInstanceAttribute",
            &[("InstanceId", &third), ("SecurityGroupIds.1", &n.sg)]
        )
        .await,
        (403, "SecurityGroupInstanceLimitExceed".into())
    );
    ok(
        &c,
        "JoinSecurityGroup",
        &[("InstanceId", &third), ("SecurityGroupId", &sg3)],
    )
    .await;
    assert_eq!(
        outcome(
            &c,
            "ModifyInstanceAttribute",
            &[
                ("InstanceId", &third),
                ("SecurityGroupIds.1", &sg2),
                ("SecurityGroupIds.2", &sg3),
                ("SecurityGroupIds.3", &n.sg)
            ]
        )
        .await,
        (400, "JoinedGroupLimitExceed".into())
    );
    let counts = ok(
        &c,
        "DescribeSecurityGroups",
        &[("SecurityGroupId", &n.sg), ("IsQueryEcsCount", "true")],
    )
    .await;
    let g = &counts["SecurityGroups"]["SecurityGroup"][0];
    assert_eq!(
        (
            g["EcsCount"].as_i64(),
            g["AvailableInstanceAmount"].as_i64()
        ),
        (Some(2), Some(0))
    );
}
