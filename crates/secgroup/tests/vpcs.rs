//! The VPC API (2016-04-28) end to end (docs/vpc.md): VPC shapes, filters, paging,
//! isolation. Modify, delete dependencies, quotas, ClientToken, DryRun and XML are in
//! `vpcs/lifecycle.rs`, vSwitches in `vpcs/vswitches.rs`, the error rows in `vpcs/errors.rs`.

mod common;
#[path = "vpcs/errors.rs"]
mod errors;
#[path = "vpcs/lifecycle.rs"]
mod lifecycle;
#[path = "vpcs/vswitches.rs"]
mod vswitches;

use common::{TestClient, TestServer};
use serde_json::{json, Value};

/// Creates a VPC (`10.0.0.0/16` unless `extra` names a block) and returns its id.
async fn create_vpc(c: &TestClient, extra: &[(&str, &str)]) -> String {
    let mut params = vec![("CidrBlock", "10.0.0.0/16")];
    params.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    params.extend_from_slice(extra);
    common::create_vpc(c, &params).await
}

/// Creates a vSwitch of `vpc` in zone `cn-hangzhou-b` and returns its id.
async fn create_vsw(c: &TestClient, vpc: &str, cidr: &str) -> String {
    let r = c
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", vpc),
                ("ZoneId", "cn-hangzhou-b"),
                ("CidrBlock", cidr),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["VSwitchId"]
        .as_str()
        .expect("VSwitchId")
        .to_string()
}

/// A successful VPC call's body without its `RequestId`.
async fn body(c: &TestClient, action: &str, params: &[(&str, &str)]) -> Value {
    let r = c.call_vpc(action, params).await;
    assert_eq!(r.status, 200, "{action} {params:?}: {}", r.body);
    let mut v = r.json();
    assert!(v["RequestId"].is_string(), "{v}");
    v.as_object_mut().map(|o| o.remove("RequestId"));
    v
}

/// (status, Code) of a VPC call.
async fn outcome(c: &TestClient, action: &str, params: &[(&str, &str)]) -> (u16, String) {
    let r = c.call_vpc(action, params).await;
    (r.status, r.code())
}

/// The ids `DescribeVpcs` lists with these parameters.
async fn listed(c: &TestClient, params: &[(&str, &str)]) -> Vec<String> {
    let b = body(c, "DescribeVpcs", params).await;
    b["Vpcs"]["Vpc"]
        .as_array()
        .expect("Vpcs.Vpc")
        .iter()
        .map(|v| v["VpcId"].as_str().expect("id").to_string())
        .collect()
}

fn is_id(v: &Value, prefix: &str) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == prefix.len() + 21
            && s.starts_with(prefix)
            && s[prefix.len()..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

fn is_utc_seconds(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%SZ").is_ok())
}

#[tokio::test]
async fn create_vpc_answers_ids_and_describe_shows_every_field() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let created = body(
        &c,
        "CreateVpc",
        &[
            ("CidrBlock", "192.168.0.0/16"),
            ("VpcName", "main"),
            ("Description", "the main one"),
            ("ResourceGroupId", "rg-acfmxazb4ph6aiy"),
            ("UserCidr", "10.0.0.0/16,172.16.0.0/16"),
            ("EnableDnsHostname", "true"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
            ("Tag.2.Key", "team"),
        ],
    )
    .await;
    assert!(is_id(&created["VpcId"], "vpc-"), "{created}");
    assert!(is_id(&created["VRouterId"], "vrt-"), "{created}");
    assert!(is_id(&created["RouteTableId"], "vtb-"), "{created}");
    assert_eq!(created["ResourceGroupId"], "rg-acfmxazb4ph6aiy");
    let id = created["VpcId"].as_str().expect("id");

    let mut attr = body(&c, "DescribeVpcAttribute", &[("VpcId", id)]).await;
    assert!(is_utc_seconds(&attr["CreationTime"]), "{attr}");
    assert!(attr["OwnerId"].as_i64().is_some_and(|o| o > 0), "{attr}");
    for volatile in ["CreationTime", "OwnerId"] {
        attr.as_object_mut().map(|o| o.remove(volatile));
    }
    let tags = json!({"Tag": [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": ""}]});
    assert_eq!(
        attr,
        json!({
            "VpcId": id, "VpcName": "main", "Description": "the main one",
            "RegionId": "cn-hangzhou", "Status": "Available", "IsDefault": false,
            "CidrBlock": "192.168.0.0/16", "Ipv6CidrBlock": "",
            "Ipv6CidrBlocks": {"Ipv6CidrBlock": []}, "EnabledIpv6": false,
            "VRouterId": created["VRouterId"], "ResourceGroupId": "rg-acfmxazb4ph6aiy",
            "VSwitchIds": {"VSwitchId": []},
            "UserCidrs": {"UserCidr": ["10.0.0.0/16", "172.16.0.0/16"]},
            "SecondaryCidrBlocks": {"SecondaryCidrBlock": []},
            "ClassicLinkEnabled": false,
            "AssociatedCens": {"AssociatedCen": []},
            "AssociatedPropagationSources": {"AssociatedPropagationSources": []},
            "CloudResources": {"CloudResourceSetType": [
                {"ResourceType": "VSwitch", "ResourceCount": 0},
                {"ResourceType": "VRouter", "ResourceCount": 1},
                {"ResourceType": "RouteTable", "ResourceCount": 1}]},
            "DhcpOptionsSetId": "", "DhcpOptionsSetStatus": "", "DnsHostnameStatus": "ENABLED",
            "Ipv4GatewayId": "", "SupportIpv4Gateway": false,
            "Tags": tags,
        })
    );

    let list = body(&c, "DescribeVpcs", &[]).await;
    assert_eq!(list["TotalCount"], 1);
    assert_eq!(list["PageNumber"], 1);
    assert_eq!(list["PageSize"], 10);
    let vpc = &list["Vpcs"]["Vpc"][0];
    assert_eq!(vpc["VpcId"], id);
    assert_eq!(
        vpc["RouterTableIds"],
        json!({"RouterTableIds": [created["RouteTableId"]]})
    );
    assert_eq!(vpc["NatGatewayIds"], json!({"NatGatewayIds": []}));
    assert_eq!(vpc["Tags"], tags);
    assert_eq!(vpc["CenStatus"], "");
    assert_eq!(vpc["DnsHostnameStatus"], "ENABLED");
    assert_eq!(vpc["UserCidrs"]["UserCidr"][1], "172.16.0.0/16");
}

#[tokio::test]
async fn defaults_and_ipv6() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let r = c.call_vpc("CreateVpc", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["VpcId"].as_str().expect("id").to_string();
    assert_eq!(r.json()["ResourceGroupId"], "");
    let attr = body(&c, "DescribeVpcAttribute", &[("VpcId", &id)]).await;
    assert_eq!(attr["CidrBlock"], "172.16.0.0/12", "default block");
    assert_eq!(
        (attr["VpcName"].clone(), attr["Description"].clone()),
        (json!(""), json!(""))
    );
    assert_eq!(attr["DnsHostnameStatus"], "DISABLED");

    let v6 = create_vpc(&c, &[("EnableIpv6", "True")]).await;
    let attr = body(&c, "DescribeVpcAttribute", &[("VpcId", &v6)]).await;
    assert_eq!(attr["EnabledIpv6"], true);
    let block = attr["Ipv6CidrBlock"].as_str().expect("block");
    assert!(block.ends_with("/56") && block.contains(':'), "{block}");
    assert_eq!(
        attr["Ipv6CidrBlocks"],
        json!({"Ipv6CidrBlock": [{"Ipv6CidrBlock": block, "Ipv6Isp": "BGP"}]})
    );
}

#[tokio::test]
async fn describe_vpcs_filters_and_pages() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let a = create_vpc(
        &c,
        &[
            ("VpcName", "alpha"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
        ],
    )
    .await;
    let b = create_vpc(
        &c,
        &[
            ("VpcName", "beta"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "dev"),
        ],
    )
    .await;
    let d = create_vpc(&c, &[("VpcName", "delta"), ("ResourceGroupId", "rg-1")]).await;
    let other_region = create_vpc(&c, &[("RegionId", "cn-beijing")]).await;

    assert_eq!(
        listed(&c, &[]).await,
        [a.as_str(), b.as_str(), d.as_str()],
        "oldest first, region only"
    );
    assert_eq!(
        listed(&c, &[("RegionId", "cn-beijing")]).await,
        [other_region.as_str()]
    );
    let ids = format!("{d}, {a},vpc-unknown000000000000");
    assert_eq!(
        listed(&c, &[("VpcId", &ids)]).await,
        [a.as_str(), d.as_str()]
    );
    assert_eq!(listed(&c, &[("VpcName", "beta")]).await, [b.as_str()]);
    assert_eq!(
        listed(&c, &[("VpcName", "bet")]).await,
        Vec::<String>::new(),
        "exact name"
    );
    assert_eq!(
        listed(&c, &[("Tag.1.Key", "env")]).await,
        [a.as_str(), b.as_str()]
    );
    assert_eq!(
        listed(&c, &[("Tag.1.Key", "env"), ("Tag.1.Value", "dev")]).await,
        [b.as_str()]
    );
    assert_eq!(
        listed(&c, &[("ResourceGroupId", "rg-1")]).await,
        [d.as_str()]
    );
    assert_eq!(listed(&c, &[("IsDefault", "false")]).await.len(), 3);
    assert!(
        listed(&c, &[("IsDefault", "true")]).await.is_empty(),
        "no default VPC"
    );
    assert!(listed(&c, &[("EnableIpv6", "true")]).await.is_empty());
    assert!(listed(&c, &[("DhcpOptionsSetId", "dopt-1")])
        .await
        .is_empty());
    assert!(listed(&c, &[("VpcOwnerId", "1")]).await.is_empty());

    let page = body(
        &c,
        "DescribeVpcs",
        &[("PageSize", "2"), ("PageNumber", "2")],
    )
    .await;
    assert_eq!(
        (
            page["TotalCount"].clone(),
            page["PageNumber"].clone(),
            page["PageSize"].clone()
        ),
        (json!(3), json!(2), json!(2))
    );
    assert_eq!(page["Vpcs"]["Vpc"].as_array().map(Vec::len), Some(1));
    assert_eq!(page["Vpcs"]["Vpc"][0]["VpcId"], d.as_str());
    let past = body(
        &c,
        "DescribeVpcs",
        &[("PageSize", "2"), ("PageNumber", "9")],
    )
    .await;
    assert_eq!(past["Vpcs"], json!({"Vpc": []}));
    assert_eq!(past["TotalCount"], 3);

    // Another account sees none of them.
    let other = server.new_account().await;
    assert!(listed(&other, &[]).await.is_empty());
    assert_eq!(
        outcome(&other, "DescribeVpcAttribute", &[("VpcId", &a)]).await,
        (404, "InvalidVpcId.NotFound".into())
    );
    assert_eq!(
        outcome(&other, "DeleteVpc", &[("VpcId", &a)]).await,
        (404, "InvalidVpcId.NotFound".into())
    );
    assert_eq!(
        outcome(
            &other,
            "ModifyVpcAttribute",
            &[("VpcId", &a), ("VpcName", "x")]
        )
        .await,
        (404, "InvalidVpcId.NotFound".into())
    );
    let r = other
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", &a),
                ("ZoneId", "cn-hangzhou-b"),
                ("CidrMask", "24"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (404, "InvalidVpcId.NotFound".into()),
        "{}",
        r.body
    );
    assert_eq!(r.json()["Message"], "Specified VPC does not exist.");
}
