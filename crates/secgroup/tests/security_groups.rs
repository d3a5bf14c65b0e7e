//! The security-group operations end to end: lifecycle, policy, filters, paging, tags,
//! ClientToken idempotence and account isolation.

mod common;

use common::{create_group, create_vpc, TestServer};
use serde_json::Value;

fn groups(v: &Value) -> Vec<Value> {
    v["SecurityGroups"]["SecurityGroup"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn basic_group_switches_policy_and_advanced_group_refuses() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(
        &c,
        &[("SecurityGroupName", "web"), ("Description", "front end")],
    )
    .await;
    let attr = c
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &sg)],
        )
        .await
        .json();
    assert_eq!(attr["InnerAccessPolicy"], "Accept");
    assert_eq!(attr["SecurityGroupName"], "web");
    assert_eq!(attr["Description"], "front end");
    assert_eq!(attr["VpcId"], c.default_vpc().await);
    assert_eq!(attr["RegionId"], "cn-hangzhou");
    assert_eq!(attr["Permissions"], serde_json::json!({"Permission": []}));

    for (given, stored) in [("drop", "Drop"), ("ACCEPT", "Accept"), ("dRoP", "Drop")] {
        let r = c
            .call(
                "ModifySecurityGroupPolicy",
                &[("SecurityGroupId", &sg), ("InnerAccessPolicy", given)],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            r.json().as_object().map(|o| o.len()),
            Some(1),
            "only RequestId: {}",
            r.body
        );
        let attr = c
            .call(
                "DescribeSecurityGroupAttribute",
                &[("SecurityGroupId", &sg)],
            )
            .await
            .json();
        assert_eq!(attr["InnerAccessPolicy"], stored);
    }

    let esg = create_group(&c, &[("SecurityGroupType", "enterprise")]).await;
    let attr = c
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &esg)],
        )
        .await
        .json();
    assert_eq!(attr["InnerAccessPolicy"], "Drop");
    for value in ["Drop", "Accept"] {
        let r = c
            .call(
                "ModifySecurityGroupPolicy",
                &[("SecurityGroupId", &esg), ("InnerAccessPolicy", value)],
            )
            .await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (404, "InvalidParameter.InnerAccessPolicy")
        );
    }
}

#[tokio::test]
async fn lifecycle_modify_and_delete() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(
        &c,
        &[("SecurityGroupName", "old"), ("ResourceGroupId", "rg-1")],
    )
    .await;
    let r = c
        .call(
            "ModifySecurityGroupAttribute",
            &[("SecurityGroupId", &sg), ("SecurityGroupName", "new-name")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = c
        .call(
            "ModifySecurityGroupAttribute",
            &[("SecurityGroupId", &sg), ("Description", "described")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = c
        .call("DescribeSecurityGroups", &[("SecurityGroupId", &sg)])
        .await
        .json();
    let g = &groups(&listed)[0];
    assert_eq!(g["SecurityGroupName"], "new-name");
    assert_eq!(g["Description"], "described");
    assert_eq!(g["ResourceGroupId"], "rg-1");
    assert_eq!(g["SecurityGroupType"], "normal");
    assert!(
        g["CreationTime"]
            .as_str()
            .is_some_and(|t| t.len() == 20 && t.ends_with('Z')),
        "{g}"
    );
    // An explicit empty description clears it (Terraform sends one).
    c.call(
        "ModifySecurityGroupAttribute",
        &[("SecurityGroupId", &sg), ("Description", "")],
    )
    .await;
    let attr = c
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &sg)],
        )
        .await
        .json();
    assert_eq!(attr["Description"], "");

    assert_eq!(
        c.call("DeleteSecurityGroup", &[("SecurityGroupId", &sg)])
            .await
            .status,
        200
    );
    let gone = c
        .call("DeleteSecurityGroup", &[("SecurityGroupId", &sg)])
        .await;
    assert_eq!(
        (gone.status, gone.code().as_str()),
        (404, "InvalidSecurityGroupId.NotFound")
    );
    let listed = c
        .call("DescribeSecurityGroups", &[("SecurityGroupId", &sg)])
        .await
        .json();
    assert!(
        groups(&listed).is_empty(),
        "a deleted id lists as empty, not an error"
    );
}

#[tokio::test]
async fn client_token_replays_the_first_result_and_refuses_changed_parameters() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let token = "123e4567-e89b-12d3-a456-426655440000";
    let first = create_group(&c, &[("ClientToken", token), ("SecurityGroupName", "once")]).await;
    let again = create_group(&c, &[("ClientToken", token), ("SecurityGroupName", "once")]).await;
    assert_eq!(first, again);
    let listed = c.call("DescribeSecurityGroups", &[]).await.json();
    assert_eq!(listed["TotalCount"], 1, "no second effect");
    let vpc = c.default_vpc().await;
    let changed = c
        .call(
            "CreateSecurityGroup",
            &[
                ("ClientToken", token),
                ("SecurityGroupName", "other"),
                ("VpcId", &vpc),
            ],
        )
        .await;
    assert_eq!(
        (changed.status, changed.code().as_str()),
        (400, "IdempotentParameterMismatch")
    );

    // ModifySecurityGroupPolicy takes a token too: a replay does not re-apply after a later change.
    let p = |v: &'static str| {
        [
            ("SecurityGroupId", first.as_str()),
            ("InnerAccessPolicy", v),
            ("ClientToken", "policy-1"),
        ]
    };
    assert_eq!(
        c.call("ModifySecurityGroupPolicy", &p("Drop")).await.status,
        200
    );
    c.call(
        "ModifySecurityGroupPolicy",
        &[("SecurityGroupId", &first), ("InnerAccessPolicy", "Accept")],
    )
    .await;
    assert_eq!(
        c.call("ModifySecurityGroupPolicy", &p("Drop")).await.status,
        200
    );
    let attr = c
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &first)],
        )
        .await
        .json();
    assert_eq!(
        attr["InnerAccessPolicy"], "Accept",
        "replayed token had no second effect"
    );
    let r = c.call("ModifySecurityGroupPolicy", &p("Accept")).await;
    assert_eq!(r.code(), "IdempotentParameterMismatch");
}

#[tokio::test]
async fn accounts_never_see_each_other() {
    let server = TestServer::start().await;
    let alice = server.new_account().await;
    let bob = server.new_account().await;
    let sg = create_group(&alice, &[("Tag.1.Key", "owner"), ("Tag.1.Value", "alice")]).await;
    let nonexistent = "sg-doesnotexist000000";
    for id in [sg.as_str(), nonexistent] {
        let attr = bob
            .call("DescribeSecurityGroupAttribute", &[("SecurityGroupId", id)])
            .await;
        assert_eq!(
            (attr.status, attr.code().as_str()),
            (404, "InvalidSecurityGroupId.NotFound")
        );
        let modify = bob
            .call(
                "ModifySecurityGroupPolicy",
                &[("SecurityGroupId", id), ("InnerAccessPolicy", "Drop")],
            )
            .await;
        assert_eq!(
            (modify.status, modify.code().as_str()),
            (404, "InvalidSecurityGroupId.NotFound")
        );
        let rename = bob
            .call(
                "ModifySecurityGroupAttribute",
                &[("SecurityGroupId", id), ("SecurityGroupName", "mine")],
            )
            .await;
        assert_eq!(rename.code(), "InvalidSecurityGroupId.NotFound");
        let delete = bob
            .call("DeleteSecurityGroup", &[("SecurityGroupId", id)])
            .await;
        assert_eq!(delete.code(), "InvalidSecurityGroupId.NotFound");
        let tag = bob
            .call(
                "TagResources",
                &[
                    ("ResourceType", "securitygroup"),
                    ("ResourceId.1", id),
                    ("Tag.1.Key", "k"),
                ],
            )
            .await;
        assert_eq!(tag.code(), "InvalidResourceId.NotFound");
    }
    assert!(groups(&bob.call("DescribeSecurityGroups", &[]).await.json()).is_empty());
    let tags = bob
        .call(
            "ListTagResources",
            &[("ResourceType", "securitygroup"), ("Tag.1.Key", "owner")],
        )
        .await
        .json();
    assert_eq!(tags["TagResources"]["TagResource"], serde_json::json!([]));
    let attr = alice
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &sg)],
        )
        .await
        .json();
    assert_eq!(attr["InnerAccessPolicy"], "Accept", "bob changed nothing");
}

#[tokio::test]
async fn filters_and_both_paging_styles() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let mut ids = Vec::new();
    let (even, odd) = (create_vpc(&c, &[]).await, create_vpc(&c, &[]).await);
    for i in 0..7 {
        let vpc = if i % 2 == 0 {
            even.as_str()
        } else {
            odd.as_str()
        };
        let name = format!("group-{i}");
        let env = if i < 3 { "prod" } else { "dev" };
        let mut params = vec![
            ("VpcId", vpc),
            ("SecurityGroupName", name.as_str()),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", env),
        ];
        if i == 6 {
            params.push(("SecurityGroupType", "enterprise"));
            params.push(("ResourceGroupId", "rg-x"));
        }
        let r = c.call("CreateSecurityGroup", &params).await;
        ids.push(
            r.json()["SecurityGroupId"]
                .as_str()
                .expect("id")
                .to_string(),
        );
    }
    let count = |params: Vec<(&'static str, String)>| {
        let c = c.clone();
        async move {
            let borrowed: Vec<(&str, &str)> =
                params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = c.call("DescribeSecurityGroups", &borrowed).await;
            assert_eq!(r.status, 200, "{}", r.body);
            groups(&r.json()).len()
        }
    };
    assert_eq!(count(vec![("VpcId", even.clone())]).await, 4);
    assert_eq!(
        count(vec![("SecurityGroupName", "group-3".into())]).await,
        1
    );
    assert_eq!(
        count(vec![
            ("SecurityGroupName", "group".into()),
            ("FuzzyQuery", "True".into())
        ])
        .await,
        7
    );
    assert_eq!(
        count(vec![("SecurityGroupType", "enterprise".into())]).await,
        1
    );
    assert_eq!(count(vec![("SecurityGroupType", "normal".into())]).await, 6);
    assert_eq!(count(vec![("ResourceGroupId", "rg-x".into())]).await, 1);
    assert_eq!(count(vec![("NetworkType", "vpc".into())]).await, 7);
    assert_eq!(count(vec![("NetworkType", "classic".into())]).await, 0);
    assert_eq!(
        count(vec![
            ("Tag.1.Key", "env".into()),
            ("Tag.1.Value", "prod".into())
        ])
        .await,
        3
    );
    assert_eq!(count(vec![("Tag.1.Key", "env".into())]).await, 7);
    assert_eq!(
        count(vec![
            ("Tag.1.Key", "env".into()),
            ("Tag.1.Value", "prod".into()),
            ("VpcId", odd.clone())
        ])
        .await,
        1
    );
    let json_ids =
        serde_json::to_string(&[&ids[0], &ids[5], "sg-unknown00000000000"]).expect("json");
    assert_eq!(count(vec![("SecurityGroupIds", json_ids)]).await, 2);
    assert_eq!(count(vec![("SecurityGroupId", ids[1].clone())]).await, 1);
    assert_eq!(count(vec![("RegionId", "cn-beijing".into())]).await, 0);

    // Page numbers.
    let page = c
        .call(
            "DescribeSecurityGroups",
            &[("PageSize", "3"), ("PageNumber", "3")],
        )
        .await
        .json();
    assert_eq!(page["TotalCount"], 7);
    assert_eq!(page["PageNumber"], 3);
    assert_eq!(page["PageSize"], 3);
    assert_eq!(groups(&page).len(), 1);
    assert!(page.get("NextToken").is_none());

    // Tokens: every group exactly once, in order, and no TotalCount.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut params = vec![("MaxResults", "2")];
        if !token.is_empty() {
            params.push(("NextToken", token.as_str()));
        }
        let r = c.call("DescribeSecurityGroups", &params).await.json();
        assert!(r.get("TotalCount").is_none(), "{r}");
        seen.extend(groups(&r).iter().map(|g| {
            g["SecurityGroupId"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }));
        token = r["NextToken"].as_str().unwrap_or_default().to_string();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn tags_are_added_overwritten_listed_and_removed() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let a = create_group(&c, &[("Tag.1.Key", "env"), ("Tag.1.Value", "dev")]).await;
    let b = create_group(&c, &[]).await;
    let r = c
        .call(
            "TagResources",
            &[
                ("ResourceType", "securitygroup"),
                ("ResourceId.1", &a),
                ("ResourceId.2", &b),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", "prod"),
                ("Tag.2.Key", "team"),
                ("Tag.2.Value", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = c
        .call(
            "ListTagResources",
            &[("ResourceType", "securitygroup"), ("ResourceId.1", &a)],
        )
        .await
        .json();
    assert_eq!(
        listed["TagResources"]["TagResource"],
        serde_json::json!([
            {"ResourceId": a, "ResourceType": "securitygroup", "TagKey": "env", "TagValue": "prod"},
            {"ResourceId": a, "ResourceType": "securitygroup", "TagKey": "team", "TagValue": ""},
        ])
    );
    let by_tag = c
        .call(
            "ListTagResources",
            &[("ResourceType", "securitygroup"), ("Tag.1.Key", "team")],
        )
        .await
        .json();
    assert_eq!(
        by_tag["TagResources"]["TagResource"]
            .as_array()
            .map(Vec::len),
        Some(4)
    );
    let described = c
        .call("DescribeSecurityGroups", &[("SecurityGroupId", &b)])
        .await
        .json();
    assert_eq!(
        groups(&described)[0]["Tags"]["Tag"][0],
        serde_json::json!({"TagKey": "env", "TagValue": "prod"})
    );

    c.call(
        "UntagResources",
        &[
            ("ResourceType", "securitygroup"),
            ("ResourceId.1", &a),
            ("TagKey.1", "env"),
        ],
    )
    .await;
    c.call(
        "UntagResources",
        &[
            ("ResourceType", "securitygroup"),
            ("ResourceId.1", &b),
            ("All", "true"),
        ],
    )
    .await;
    let listed = c
        .call(
            "ListTagResources",
            &[
                ("ResourceType", "securitygroup"),
                ("ResourceId.1", &a),
                ("ResourceId.2", &b),
            ],
        )
        .await
        .json();
    assert_eq!(
        listed["TagResources"]["TagResource"],
        serde_json::json!([{"ResourceId": a, "ResourceType": "securitygroup", "TagKey": "team", "TagValue": ""}])
    );
    // At most 20 tags per resource.
    let keys: Vec<(String, String)> = (1..=20)
        .map(|i| (format!("Tag.{i}.Key"), format!("k{i}")))
        .collect();
    let mut params: Vec<(&str, &str)> =
        vec![("ResourceType", "securitygroup"), ("ResourceId.1", &a)];
    params.extend(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let r = c.call("TagResources", &params).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "OperationDenied.QuotaExceed")
    );
}

#[tokio::test]
async fn quota_of_groups_per_region() {
    let mut settings = secgroup::Settings::default();
    settings.products.limits.security_groups_per_region = 2;
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    create_group(&c, &[]).await;
    create_group(&c, &[]).await;
    let vpc = c.default_vpc().await;
    let r = c.call("CreateSecurityGroup", &[("VpcId", &vpc)]).await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (403, "QuotaExceed.SecurityGroup")
    );
    let shanghai = create_vpc(&c, &[("RegionId", "cn-shanghai")]).await;
    let other_region = c
        .call(
            "CreateSecurityGroup",
            &[("VpcId", &shanghai), ("RegionId", "cn-shanghai")],
        )
        .await;
    assert_eq!(other_region.status, 200);
}

#[tokio::test]
async fn describe_regions_speaks_three_languages() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    for (lang, name) in [
        ("zh-CN", "华东1（杭州）"),
        ("en-US", "China (Hangzhou)"),
        ("ja", "中国 (杭州)"),
    ] {
        let r = c
            .call("DescribeRegions", &[("AcceptLanguage", lang)])
            .await
            .json();
        let hz = r["Regions"]["Region"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["RegionId"] == "cn-hangzhou")
            .cloned();
        let hz = hz.expect("cn-hangzhou listed");
        assert_eq!(hz["LocalName"], name);
        assert_eq!(hz["RegionEndpoint"], "ecs.cn-hangzhou.aliyuncs.com");
        assert_eq!(hz["Status"], "available");
    }
}

#[tokio::test]
async fn an_expired_client_token_is_a_new_request_and_old_tokens_are_purged() {
    let mut settings = secgroup::Settings::default();
    settings.products.client_token_retention = chrono::Duration::milliseconds(1500);
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    let tokens = || {
        let store = server.store.clone();
        async move {
            use secgroup_domain::Store;
            store
                .read(|tx| tx.count_client_tokens())
                .await
                .expect("count")
        }
    };
    let first = create_group(
        &c,
        &[("ClientToken", "t-1"), ("SecurityGroupName", "first")],
    )
    .await;
    let replay = create_group(
        &c,
        &[("ClientToken", "t-1"), ("SecurityGroupName", "first")],
    )
    .await;
    assert_eq!(first, replay, "within the retention: the first result");
    create_group(
        &c,
        &[("ClientToken", "t-2"), ("SecurityGroupName", "second")],
    )
    .await;
    assert_eq!(tokens().await, 2);

    tokio::time::sleep(std::time::Duration::from_millis(2600)).await;
    // Past the retention the same token (even with other parameters) is a new request...
    let later = create_group(
        &c,
        &[("ClientToken", "t-1"), ("SecurityGroupName", "third")],
    )
    .await;
    assert_ne!(later, first, "a new group");
    let listed = c.call("DescribeSecurityGroups", &[]).await.json();
    assert_eq!(listed["TotalCount"], 3);
    // ...and that write purged the expired "t-2": only the new "t-1" is remembered.
    assert_eq!(tokens().await, 1, "expired tokens purged");
    let replay = create_group(
        &c,
        &[("ClientToken", "t-1"), ("SecurityGroupName", "third")],
    )
    .await;
    assert_eq!(replay, later, "the new record answers replays");
}
