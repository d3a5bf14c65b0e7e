//! VPC lifecycle across products and protocol features: modify, delete dependencies
//! (vSwitches, security groups created through ECS), the VPC quota, ClientToken, DryRun, XML.

use secgroup::Settings;
use serde_json::json;

use super::{body, create_vpc, create_vsw, listed, outcome};
use crate::common::{TestClient, TestServer};

#[tokio::test]
async fn delete_vpc_waits_for_vswitches_and_security_groups() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let id = create_vpc(&c, &[]).await;
    let vsw = create_vsw(&c, &id, "10.0.1.0/24").await;
    let r = c.call_vpc("DeleteVpc", &[("VpcId", &id)]).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "DependencyViolation.VSwitch".into()),
        "{}",
        r.body
    );
    assert_eq!(
        r.json()["Message"],
        "Specified object has dependent resources"
    );
    body(&c, "DeleteVSwitch", &[("VSwitchId", &vsw)]).await;

    // A security group created through ECS in this VPC.
    let sg = c.call("CreateSecurityGroup", &[("VpcId", &id)]).await;
    assert_eq!(sg.status, 200, "{}", sg.body);
    let sg = sg.json()["SecurityGroupId"]
        .as_str()
        .expect("sg")
        .to_string();
    let r = c.call_vpc("DeleteVpc", &[("VpcId", &id)]).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "DependencyViolation.SecurityGroup".into()),
        "{}",
        r.body
    );
    assert_eq!(
        r.json()["Message"],
        "Specified object has dependent resources SecurityGroup."
    );
    let r = c
        .call("DeleteSecurityGroup", &[("SecurityGroupId", &sg)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    body(&c, "DeleteVpc", &[("RegionId", ""), ("VpcId", &id)]).await;
    let r = c.call_vpc("DescribeVpcAttribute", &[("VpcId", &id)]).await;
    assert_eq!((r.status, r.code()), (404, "InvalidVpcId.NotFound".into()));
    assert_eq!(
        outcome(&c, "DeleteVpc", &[("VpcId", &id)]).await,
        (404, "InvalidVpcId.NotFound".into())
    );
    assert!(listed(&c, &[]).await.is_empty());
}

#[tokio::test]
async fn vpc_quota_is_per_account_and_region() {
    let mut settings = Settings::default();
    settings.products.limits.vpcs_per_region = 2;
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    let first = create_vpc(&c, &[]).await;
    create_vpc(&c, &[]).await;
    let r = c.call_vpc("CreateVpc", &[]).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "QuotaExceeded.Vpc".into()),
        "{}",
        r.body
    );
    assert_eq!(r.json()["Message"], "VPC quota exceeded.");
    create_vpc(&c, &[("RegionId", "cn-beijing")]).await;
    create_vpc(&server.new_account().await, &[]).await;
    body(&c, "DeleteVpc", &[("VpcId", &first)]).await;
    create_vpc(&c, &[]).await;
}

#[tokio::test]
async fn client_token_replays_create_and_delete() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let params = [("CidrBlock", "10.0.0.0/8"), ("ClientToken", "vpc-token-1")];
    let first = body(&c, "CreateVpc", &params).await;
    let again = body(&c, "CreateVpc", &params).await;
    assert_eq!(first, again, "same ids");
    assert_eq!(listed(&c, &[]).await.len(), 1);
    let changed = [("CidrBlock", "10.0.0.0/16"), ("ClientToken", "vpc-token-1")];
    assert_eq!(
        outcome(&c, "CreateVpc", &changed).await,
        (400, "IdempotentParameterMismatch".into())
    );

    let id = first["VpcId"].as_str().expect("id");
    let del = [("VpcId", id), ("ClientToken", "vpc-del-1")];
    body(&c, "DeleteVpc", &del).await;
    body(&c, "DeleteVpc", &del).await;
    assert!(listed(&c, &[]).await.is_empty());
}

#[tokio::test]
async fn dry_run_validates_and_changes_nothing() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let dry = |code: &str| (400u16, code.to_string());
    assert_eq!(
        outcome(&c, "CreateVpc", &[("DryRun", "true")]).await,
        dry("DryRunOperation")
    );
    assert_eq!(
        outcome(
            &c,
            "CreateVpc",
            &[("DryRun", "true"), ("CidrBlock", "10.0.0.0/30")]
        )
        .await,
        dry("InvalidParameter"),
        "a failed check answers its own error"
    );
    assert!(listed(&c, &[]).await.is_empty());
    // The token of a dry run is not spent.
    let token = [("DryRun", "true"), ("ClientToken", "dry-1")];
    assert_eq!(
        outcome(&c, "CreateVpc", &token).await,
        dry("DryRunOperation")
    );
    assert_eq!(
        outcome(&c, "CreateVpc", &token).await,
        dry("DryRunOperation")
    );

    let id = create_vpc(&c, &[]).await;
    for (action, params) in [
        ("DescribeVpcs", vec![("DryRun", "true")]),
        (
            "DescribeVpcAttribute",
            vec![("VpcId", id.as_str()), ("DryRun", "true")],
        ),
        (
            "DeleteVpc",
            vec![("VpcId", id.as_str()), ("DryRun", "true")],
        ),
    ] {
        assert_eq!(
            outcome(&c, action, &params).await,
            dry("DryRunOperation"),
            "{action}"
        );
    }
    assert_eq!(listed(&c, &[]).await, [id.as_str()], "still there");
    let vsw = create_vsw(&c, &id, "10.0.0.0/24").await;
    assert_eq!(
        outcome(&c, "DeleteVpc", &[("VpcId", &id), ("DryRun", "true")]).await,
        dry("DependencyViolation.VSwitch")
    );
    for (action, params) in [
        ("DescribeVSwitches", vec![("DryRun", "true")]),
        (
            "DescribeVSwitchAttributes",
            vec![("VSwitchId", vsw.as_str()), ("DryRun", "true")],
        ),
        (
            "DeleteVSwitch",
            vec![("VSwitchId", vsw.as_str()), ("DryRun", "true")],
        ),
    ] {
        assert_eq!(
            outcome(&c, action, &params).await,
            dry("DryRunOperation"),
            "{action}"
        );
    }
    body(&c, "DescribeVSwitchAttributes", &[("VSwitchId", &vsw)]).await;
}

#[tokio::test]
async fn xml_uses_the_self_named_wrappers() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let id = create_vpc(&c, &[("Tag.1.Key", "k"), ("Tag.1.Value", "v")]).await;
    let r = c
        .signed(
            "POST",
            "DescribeVpcs",
            vec![("RegionId".into(), "cn-hangzhou".into())],
            &[("Format", "XML"), ("Version", "2016-04-28")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("<DescribeVpcsResponse>"), "{}", r.body);
    assert!(
        r.body.contains(&format!("<Vpcs><Vpc><VpcId>{id}</VpcId>")),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("<RouterTableIds><RouterTableIds>vtb-"),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains("<Tags><Tag><Key>k</Key><Value>v</Value></Tag></Tags>"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn modify_vpc_attribute() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let id = create_vpc(&c, &[("VpcName", "old"), ("Description", "old words")]).await;
    let attr = |c: TestClient, id: String| async move {
        body(&c, "DescribeVpcAttribute", &[("VpcId", &id)]).await
    };

    // No RegionId needed; absent fields stay.
    body(
        &c,
        "ModifyVpcAttribute",
        &[("RegionId", ""), ("VpcId", &id), ("VpcName", "new")],
    )
    .await;
    let a = attr(c.clone(), id.clone()).await;
    assert_eq!(
        (a["VpcName"].clone(), a["Description"].clone()),
        (json!("new"), json!("old words"))
    );
    body(
        &c,
        "ModifyVpcAttribute",
        &[("VpcId", &id), ("Description", "")],
    )
    .await;
    assert_eq!(
        attr(c.clone(), id.clone()).await["Description"],
        "",
        "cleared"
    );

    body(
        &c,
        "ModifyVpcAttribute",
        &[("VpcId", &id), ("EnableDnsHostname", "true")],
    )
    .await;
    assert_eq!(
        attr(c.clone(), id.clone()).await["DnsHostnameStatus"],
        "ENABLED"
    );
    body(
        &c,
        "ModifyVpcAttribute",
        &[("VpcId", &id), ("EnableIPv6", "true")],
    )
    .await;
    let a = attr(c.clone(), id.clone()).await;
    assert_eq!(a["EnabledIpv6"], true);
    assert!(
        a["Ipv6CidrBlock"]
            .as_str()
            .is_some_and(|b| b.ends_with("/56")),
        "{a}"
    );

    // The primary block grows or shrinks around its vSwitches, never elsewhere.
    create_vsw(&c, &id, "10.0.5.0/24").await;
    body(
        &c,
        "ModifyVpcAttribute",
        &[("VpcId", &id), ("CidrBlock", "10.0.0.0/8")],
    )
    .await;
    assert_eq!(attr(c.clone(), id.clone()).await["CidrBlock"], "10.0.0.0/8");
    body(
        &c,
        "ModifyVpcAttribute",
        &[("VpcId", &id), ("CidrBlock", "10.0.0.0/21")],
    )
    .await;
    assert_eq!(
        attr(c.clone(), id.clone()).await["CidrBlock"],
        "10.0.0.0/21"
    );
    for bad in ["10.0.0.0/24", "192.168.0.0/16"] {
        assert_eq!(
            outcome(
                &c,
                "ModifyVpcAttribute",
                &[("VpcId", &id), ("CidrBlock", bad)]
            )
            .await,
            (400, "InvalidParameter".into()),
            "{bad}"
        );
    }
    assert_eq!(
        attr(c.clone(), id.clone()).await["CidrBlock"],
        "10.0.0.0/21"
    );

    // A known region that is not the VPC's own.
    assert_eq!(
        outcome(
            &c,
            "ModifyVpcAttribute",
            &[("RegionId", "cn-beijing"), ("VpcId", &id), ("VpcName", "x")]
        )
        .await,
        (404, "InvalidVpcId.NotFound".into())
    );
}
