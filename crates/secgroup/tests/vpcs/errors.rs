//! Every producible error row of docs/vpc.md, table-driven, through the real HTTP
//! server; and proof that a refused request changed nothing.

use serde_json::Value;

use super::{body, create_vpc, create_vsw};
use crate::common::TestServer;

/// Action, parameters, status, code. In parameters `{vpc}` is a VPC `10.0.0.0/16` in
/// cn-hangzhou holding `{vsw}`, a vSwitch `10.0.1.0/24`.
type Row = (&'static str, Vec<(&'static str, String)>, u16, &'static str);

fn p(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    let long = |n: usize| "n".repeat(n);
    let tags21: Vec<(&'static str, String)> = (1..=21)
        .flat_map(|i| {
            let key: &'static str = Box::leak(format!("Tag.{i}.Key").into_boxed_str());
            [(key, format!("k{i}"))]
        })
        .collect();
    let vsw = |extra: &[(&'static str, &str)]| {
        let mut all = p(&[("VpcId", "{vpc}"), ("ZoneId", "cn-hangzhou-b")]);
        all.extend(p(extra));
        all
    };
    vec![
        // ---- CreateVpc ----
        ("CreateVpc", p(&[("RegionId", "")]), 400, "MissingRegionId"),
        ("CreateVpc", p(&[("RegionId", "xx-nowhere-1")]), 404, "InvalidRegionId.NotFound"),
        ("CreateVpc", p(&[("CidrBlock", "10.0.0.0/7")]), 400, "InvalidParameter"),
        ("CreateVpc", p(&[("CidrBlock", "10.0.0.0/29")]), 400, "InvalidParameter"),
        ("CreateVpc", p(&[("CidrBlock", "100.64.0.0/16")]), 400, "InvalidParameter"),
        ("CreateVpc", p(&[("CidrBlock", "127.0.0.0/8")]), 400, "InvalidParameter"),
        ("CreateVpc", p(&[("CidrBlock", "169.254.0.0/16")]), 400, "InvalidParameter"),
        ("CreateVpc", p(&[("CidrBlock", "224.0.0.0/8")]), 400, "InvalidParameter"),
        ("CreateVpc", p(&[("CidrBlock", "10.0.0.1/16")]), 400, "InvalidCidrBlock.Malformed"),
        ("CreateVpc", p(&[("CidrBlock", "10.0.0.0")]), 400, "InvalidCidrBlock.Malformed"),
        ("CreateVpc", p(&[("CidrBlock", "banana")]), 400, "InvalidCidrBlock.Malformed"),
        ("CreateVpc", p(&[("VpcName", "http://x")]), 400, "InvalidVpcName.Malformed"),
        ("CreateVpc", p(&[("VpcName", &long(129))]), 400, "InvalidVpcName.Malformed"),
        ("CreateVpc", p(&[("Description", "https://x")]), 400, "InvalidVpcDiscription.Malformed"),
        ("CreateVpc", p(&[("Description", &long(257))]), 400, "InvalidVpcDiscription.Malformed"),
        ("CreateVpc", p(&[("UserCidr", "10.0.0.0/16,10.1.0.0/16,10.2.0.0/16,10.3.0.0/16")]), 400, "InvalidUserCidr.Quota"),
        ("CreateVpc", p(&[("UserCidr", "10.0.0/16")]), 400, "InvalidParameter"),
        ("CreateVpc", p(&[("UserCidr", "10.0.0.0/30")]), 400, "InvalidParameter"),
        ("CreateVpc", p(&[("UserCidr", "100.64.0.0/16")]), 400, "InvalidUserCidr.Malformed"),
        ("CreateVpc", p(&[("Tag.1.Key", "aliyun-x")]), 400, "InvalidTagKey.Malformed"),
        ("CreateVpc", p(&[("Tag.1.Value", "no key")]), 400, "InvalidTagKey.Malformed"),
        ("CreateVpc", p(&[("Tag.1.Key", "k"), ("Tag.2.Key", "k")]), 400, "Duplicate.TagKey"),
        ("CreateVpc", tags21, 400, "NumberExceed.Tags"),
        ("CreateVpc", p(&[("ClientToken", "tökén")]), 400, "InvalidClientToken.ValueNotSupported"),
        ("CreateVpc", p(&[("EnableIpv6", "maybe")]), 400, "InvalidParameter"),
        ("CreateVpc", p(&[("DryRun", "true")]), 400, "DryRunOperation"),
        // ---- DescribeVpcs ----
        ("DescribeVpcs", p(&[("RegionId", "")]), 400, "MissingRegionId"),
        ("DescribeVpcs", p(&[("RegionId", "xx-nowhere-1")]), 404, "InvalidRegionId.NotFound"),
        ("DescribeVpcs", p(&[("VpcId", &vec!["vpc-a"; 21].join(","))]), 400, "InvalidParameter"),
        ("DescribeVpcs", p(&[("PageSize", "51")]), 400, "InvalidParameter"),
        ("DescribeVpcs", p(&[("PageSize", "0")]), 400, "InvalidParameter"),
        ("DescribeVpcs", p(&[("PageNumber", "0")]), 400, "InvalidParameter"),
        ("DescribeVpcs", p(&[("PageNumber", "x")]), 400, "InvalidParameter"),
        ("DescribeVpcs", p(&[("IsDefault", "maybe")]), 400, "InvalidParameter"),
        ("DescribeVpcs", p(&[("DryRun", "true")]), 400, "DryRunOperation"),
        // ---- DescribeVpcAttribute ----
        ("DescribeVpcAttribute", p(&[]), 400, "MissingVpcId"),
        ("DescribeVpcAttribute", p(&[("RegionId", ""), ("VpcId", "{vpc}")]), 400, "MissingRegionId"),
        ("DescribeVpcAttribute", p(&[("VpcId", "vpc-none")]), 404, "InvalidVpcId.NotFound"),
        ("DescribeVpcAttribute", p(&[("RegionId", "cn-beijing"), ("VpcId", "{vpc}")]), 404, "InvalidVpcId.NotFound"),
        ("DescribeVpcAttribute", p(&[("VpcId", "{vpc}"), ("DryRun", "true")]), 400, "DryRunOperation"),
        // ---- ModifyVpcAttribute ----
        ("ModifyVpcAttribute", p(&[("VpcName", "x")]), 400, "MissingVpcId"),
        ("ModifyVpcAttribute", p(&[("VpcId", "vpc-none"), ("VpcName", "x")]), 404, "InvalidVpcId.NotFound"),
        ("ModifyVpcAttribute", p(&[("RegionId", "xx-nowhere-1"), ("VpcId", "{vpc}")]), 404, "InvalidRegionId.NotFound"),
        ("ModifyVpcAttribute", p(&[("VpcId", "{vpc}"), ("VpcName", "https://x")]), 400, "InvalidVpcName.Malformed"),
        ("ModifyVpcAttribute", p(&[("VpcId", "{vpc}"), ("Description", "http://x")]), 400, "InvalidVpcDiscription.Malformed"),
        ("ModifyVpcAttribute", p(&[("VpcId", "{vpc}"), ("CidrBlock", "10.0.0.1/16")]), 400, "InvalidCidrBlock.Malformed"),
        ("ModifyVpcAttribute", p(&[("VpcId", "{vpc}"), ("CidrBlock", "192.168.0.0/16")]), 400, "InvalidParameter"),
        ("ModifyVpcAttribute", p(&[("VpcId", "{vpc}"), ("CidrBlock", "10.0.0.0/24")]), 400, "InvalidParameter"),
        ("ModifyVpcAttribute", p(&[("VpcId", "{vpc}"), ("EnableDnsHostname", "yes")]), 400, "InvalidParameter"),
        // ---- DeleteVpc ----
        ("DeleteVpc", p(&[]), 400, "MissingVpcId"),
        ("DeleteVpc", p(&[("VpcId", "vpc-none")]), 404, "InvalidVpcId.NotFound"),
        ("DeleteVpc", p(&[("RegionId", "xx-nowhere-1"), ("VpcId", "{vpc}")]), 404, "InvalidRegionId.NotFound"),
        ("DeleteVpc", p(&[("VpcId", "{vpc}")]), 400, "DependencyViolation.VSwitch"),
        ("DeleteVpc", p(&[("VpcId", "{vpc}"), ("DryRun", "true")]), 400, "DependencyViolation.VSwitch"),
        ("DeleteVpc", p(&[("VpcId", "{vpc}"), ("ClientToken", "tökén")]), 400, "InvalidClientToken.ValueNotSupported"),
        // ---- CreateVSwitch ----
        ("CreateVSwitch", p(&[("ZoneId", "cn-hangzhou-b"), ("CidrMask", "24")]), 400, "MissingVpcId"),
        ("CreateVSwitch", p(&[("VpcId", "{vpc}"), ("CidrMask", "24")]), 400, "MissingZoneId"),
        ("CreateVSwitch", vsw(&[]), 400, "MissingParameter"),
        ("CreateVSwitch", p(&[ ("VpcId", "vpc-none"), ("ZoneId", "cn-hangzhou-b"), ("CidrMask", "24"), ]), 404, "InvalidVpcId.NotFound"),
        ("CreateVSwitch", vsw(&[("RegionId", "cn-beijing"), ("CidrMask", "24")]), 404, "InvalidVpcId.NotFound"),
        ("CreateVSwitch", vsw(&[("RegionId", "xx-nowhere-1"), ("CidrMask", "24")]), 404, "InvalidRegionId.NotFound"),
        ("CreateVSwitch", p(&[ ("VpcId", "{vpc}"), ("ZoneId", "cn-beijing-a"), ("CidrMask", "24"), ]), 404, "InvalidZoneId.NotFound"),
        ("CreateVSwitch", p(&[ ("VpcId", "{vpc}"), ("ZoneId", "cn-hangzhou"), ("CidrMask", "24"), ]), 404, "InvalidZoneId.NotFound"),
        ("CreateVSwitch", vsw(&[("CidrBlock", "10.0.2.1/24")]), 400, "InvalidCidrBlock.Malformed"),
        ("CreateVSwitch", vsw(&[("CidrBlock", "10.0.2.0/30")]), 400, "InvalidCirdrBlock.MaskLength"),
        ("CreateVSwitch", vsw(&[("CidrMask", "15")]), 400, "InvalidCirdrBlock.MaskLength"),
        ("CreateVSwitch", vsw(&[("CidrMask", "30")]), 400, "InvalidCirdrBlock.MaskLength"),
        ("CreateVSwitch", vsw(&[("CidrMask", "x")]), 400, "InvalidParameter"),
        ("CreateVSwitch", vsw(&[("CidrBlock", "10.1.0.0/24")]), 400, "InvalidParameter"),
        ("CreateVSwitch", vsw(&[("CidrBlock", "10.0.1.0/25")]), 400, "InvalidCidrBlock.Overlapped"),
        ("CreateVSwitch", vsw(&[("CidrBlock", "10.0.0.0/16")]), 403, "OperationDenied"),
        ("CreateVSwitch", vsw(&[("CidrMask", "24"), ("VSwitchName", "https://x")]), 400, "InvalidVSwitchName.Malformed"),
        ("CreateVSwitch", vsw(&[("CidrMask", "24"), ("Description", &long(257))]), 400, "InvalidVSwitchDiscription.Malformed"),
        ("CreateVSwitch", vsw(&[("CidrMask", "24"), ("Tag.1.Key", "acs:x")]), 400, "InvalidTagKey.Malformed"),
        ("CreateVSwitch", vsw(&[("CidrMask", "24"), ("ClientToken", &long(65))]), 400, "InvalidClientToken.ValueNotSupported"),
        // ---- DescribeVSwitches ----
        ("DescribeVSwitches", p(&[("RegionId", "")]), 400, "MissingParameter"),
        ("DescribeVSwitches", p(&[("RegionId", "xx-nowhere-1")]), 404, "InvalidRegionId.NotFound"),
        ("DescribeVSwitches", p(&[("PageSize", "100")]), 400, "InvalidParameter"),
        ("DescribeVSwitches", p(&[("DryRun", "true")]), 400, "DryRunOperation"),
        // ---- DescribeVSwitchAttributes ----
        ("DescribeVSwitchAttributes", p(&[]), 400, "MissingVSwitchId"),
        ("DescribeVSwitchAttributes", p(&[("VSwitchId", "vsw-none")]), 404, "InvalidVSwitchId.NotFound"),
        ("DescribeVSwitchAttributes", p(&[("RegionId", "cn-beijing"), ("VSwitchId", "{vsw}")]), 404, "InvalidVSwitchId.NotFound"),
        ("DescribeVSwitchAttributes", p(&[("VSwitchId", "{vsw}"), ("DryRun", "true")]), 400, "DryRunOperation"),
        // ---- ModifyVSwitchAttribute ----
        ("ModifyVSwitchAttribute", p(&[("VSwitchName", "x")]), 400, "MissingVSwitchId"),
        ("ModifyVSwitchAttribute", p(&[("VSwitchId", "vsw-none")]), 404, "InvalidVSwitchId.NotFound"),
        ("ModifyVSwitchAttribute", p(&[("VSwitchId", "{vsw}"), ("VSwitchName", "http://x")]), 400, "InvalidVSwitchName.Malformed"),
        ("ModifyVSwitchAttribute", p(&[("VSwitchId", "{vsw}"), ("Description", "https://x")]), 400, "InvalidVSwitchDiscription.Malformed"),
        // ---- DeleteVSwitch ----
        ("DeleteVSwitch", p(&[]), 400, "MissingVSwitchId"),
        ("DeleteVSwitch", p(&[("VSwitchId", "vsw-none")]), 404, "InvalidVSwitchId.NotFound"),
        ("DeleteVSwitch", p(&[("VSwitchId", "{vsw}"), ("DryRun", "true")]), 400, "DryRunOperation"),
        // ---- actions of the other product ----
        ("CreateSecurityGroup", p(&[]), 404, "InvalidAction.NotFound"),
    ]
}

#[tokio::test]
async fn every_error_row() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let vpc = create_vpc(&c, &[("VpcName", "kept")]).await;
    let vsw = create_vsw(&c, &vpc, "10.0.1.0/24").await;
    let before = (
        body(&c, "DescribeVpcs", &[]).await,
        body(&c, "DescribeVSwitches", &[]).await,
    );
    let mut failures = Vec::new();
    for (action, params, status, code) in rows() {
        let params: Vec<(&str, String)> = params
            .into_iter()
            .map(|(k, v)| (k, v.replace("{vpc}", &vpc).replace("{vsw}", &vsw)))
            .collect();
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = c.call_vpc(action, &pairs).await;
        let v: Value = r.json();
        let message_ok = v["Message"].as_str().is_some_and(|m| !m.is_empty());
        if r.status != status || r.code() != code || !message_ok || !v["RequestId"].is_string() {
            failures.push(format!(
                "{action} {pairs:?}: want {status} {code}, got {} {}",
                r.status, r.body
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let after = (
        body(&c, "DescribeVpcs", &[]).await,
        body(&c, "DescribeVSwitches", &[]).await,
    );
    assert_eq!(before, after, "no refused request changed anything");
}

#[tokio::test]
async fn messages_of_the_vpc_backend() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let message = |r: &crate::common::Reply| r.json()["Message"].as_str().unwrap_or("").to_string();
    let r = c
        .call_vpc("CreateVpc", &[("RegionId", "xx-nowhere-1")])
        .await;
    assert_eq!(
        message(&r),
        "Specified value of \"regionId\" is not supported."
    );
    assert!(
        r.json()["Recommend"]
            .as_str()
            .is_some_and(|u| u.contains("product=Vpc")),
        "{}",
        r.body
    );
    let r = c.call_vpc("DescribeVSwitches", &[("RegionId", "")]).await;
    assert_eq!(message(&r), "Miss mandatory parameter.");
    let r = c.call_vpc("DescribeVpcAttribute", &[]).await;
    assert_eq!(message(&r), "VpcId is mandatory for this action.");
    let r = c
        .call_vpc("CreateVpc", &[("CidrBlock", "10.0.0.0/30")])
        .await;
    assert_eq!(message(&r), "Specified CIDR block is not valid");
    let r = c
        .call_vpc("CreateVpc", &[("CidrBlock", "10.0.0.1/8")])
        .await;
    assert_eq!(message(&r), "Specified CIDR block is not valid.");
    let r = c.call_vpc("CreateVpc", &[("DryRun", "true")]).await;
    assert_eq!(
        message(&r),
        "Request validation has been passed with DryRun flag set."
    );
    // A VPC action under the ECS version is unknown there.
    let r = c.call("DescribeVpcs", &[]).await;
    assert_eq!((r.status, r.code()), (404, "InvalidAction.NotFound".into()));
}
