//! Every producible error row of the instance operations (docs/ecs.md §7.2–§7.11,
//! §3.2), table-driven through the real HTTP server; and proof
//! that a refused request changed nothing.

use super::{
    create_vpc, create_vswitch, describe_one, error_row_failure, groups_of, ip_of, listed, net, ok,
    run,
};
use crate::common::{create_group, TestServer};

/// Action, parameters, status, code. Placeholders: `{vsw}` the vSwitch (`10.1.0.0/24`,
/// `cn-hangzhou-b`); `{sg}`, `{sg2}` basic groups of its VPC, `{esg}` an advanced one,
/// `{osg}` a group of another VPC, `{csg}` a classic group; `{i}` a Running instance in
/// `{sg}` only, `{ip}` its address, `{eni}` its interface; `{stopped}` a Stopped instance;
/// `{prot}` a Stopped instance with deletion protection. For `RunInstances` and
/// `CreateInstance` the launch defaults fill every parameter the row does not name; `-`
/// leaves one out.
type Row = (
    &'static str,
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
);

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ---- RunInstances ----
    ("RunInstances", &[("ImageId", "-")], 400, "MissingImageId"),
    ("RunInstances", &[("InstanceType", "-")], 400, "MissingInstanceType"),
    ("RunInstances", &[("VSwitchId", "-")], 400, "MissingParameter"),
    ("RunInstances", &[("SecurityGroupId", "-")], 400, "MissingParameter"),
    ("RunInstances", &[("RegionId", "")], 400, "MissingRegionId"),
    ("RunInstances", &[("RegionId", "xx-nowhere-1")], 404, "InvalidRegionId.NotFound"),
    ("RunInstances", &[("SecurityGroupIds.1", "{sg}")], 403, "InvalidParameter.Combination"),
    ("RunInstances", &[("Amount", "0")], 403, "InvalidParam.Amount"),
    ("RunInstances", &[("Amount", "101")], 403, "InvalidParam.Amount"),
    ("RunInstances", &[("Amount", "two")], 403, "InvalidParam.Amount"),
    ("RunInstances", &[("MinAmount", "0")], 400, "InvalidMinAmount.Malformed"),
    ("RunInstances", &[("Amount", "2"), ("MinAmount", "3")], 400, "InvalidMinAmount.Malformed"),
    ("RunInstances", &[("InstanceName", "1bad")], 400, "InvalidInstanceName.Malformed"),
    ("RunInstances", &[("InstanceName", "http://x")], 400, "InvalidInstanceName.Malformed"),
    ("RunInstances", &[("HostName", "-bad")], 400, "InvalidHostName.Malformed"),
    ("RunInstances", &[("Description", "h")], 400, "InvalidDescription.Malformed"),
    ("RunInstances", &[("Tag.1.Key", "aliyun-x")], 400, "InvalidTagKey.Malformed"),
    ("RunInstances", &[("Tag.1.Key", "k"), ("Tag.2.Key", "k")], 400, "Duplicate.TagKey"),
    ("RunInstances", &[("ClientToken", "tökén")], 400, "InvalidClientToken.ValueNotSupported"),
    ("RunInstances", &[("VSwitchId", "vsw-doesnotexist000000000")], 404, "InvalidVSwitchId.NotFound"),
    ("RunInstances", &[("SecurityGroupId", "sg-doesnotexist000000")], 404, "InvalidSecurityGroupId.NotFound"),
    ("RunInstances", &[("SecurityGroupId", "{osg}")], 400, "InvalidParameter.Mismatch"),
    ("RunInstances", &[("ZoneId", "cn-hangzhou-c")], 400, "InvalidParameter.Mismatch"),
    ("RunInstances", &[("ZoneId", "nowhere")], 404, "InvalidZoneId.NotFound"),
    ("RunInstances", &[("PrivateIpAddress", "10.1.0.300")], 400, "InvalidPrivateIpAddress.Malformed"),
    ("RunInstances", &[("PrivateIpAddress", "10.2.0.5")], 400, "InvalidPrivateIpAddress"),
    ("RunInstances", &[("PrivateIpAddress", "10.1.0.0")], 400, "InvalidPrivateIpAddress"),
    ("RunInstances", &[("PrivateIpAddress", "10.1.0.253")], 400, "InvalidPrivateIpAddress"),
    ("RunInstances", &[("PrivateIpAddress", "10.1.0.252"), ("Amount", "2")], 400, "InvalidPrivateIpAddress"),
    ("RunInstances", &[("PrivateIpAddress", "{ip}")], 400, "InvalidPrivateIpAddress.Duplicated"),
    ("RunInstances", &[("SecurityGroupId", "-"), ("SecurityGroupIds.1", "sg-a1"), ("SecurityGroupIds.2", "sg-a2"), ("SecurityGroupIds.3", "sg-a3"), ("SecurityGroupIds.4", "sg-a4"), ("SecurityGroupIds.5", "sg-a5"), ("SecurityGroupIds.6", "sg-a6")], 400, "InstanceSecurityGroupLimitExceeded"),
    ("RunInstances", &[("SecurityGroupId", "-"), ("SecurityGroupIds.1", "{sg}"), ("SecurityGroupIds.2", "{sg}")], 404, "InvalidParameter.SecurityGroupIdRepeated"),
    ("RunInstances", &[("SecurityGroupId", "-"), ("SecurityGroupIds.1", "{sg}"), ("SecurityGroupIds.2", "{esg}")], 403, "EnterpriseGroupLimited.MutliGroupType"),
    ("RunInstances", &[("SecurityGroupId", "-"), ("NetworkInterface.1.InstanceType", "Secondary"), ("NetworkInterface.1.VSwitchId", "{vsw}"), ("NetworkInterface.1.SecurityGroupId", "{sg}")], 403, "InvalidParameter.NetworkInterface"),
    ("RunInstances", &[("NetworkInterface.1.InstanceType", "Primary"), ("NetworkInterface.1.SecurityGroupId", "{sg}")], 403, "InvalidParameter.Combination"),
    ("RunInstances", &[("DryRun", "true")], 400, "DryRunOperation"),
    // ---- CreateInstance ----
    ("CreateInstance", &[("InstanceType", "-")], 400, "MissingInstanceType"),
    ("CreateInstance", &[("VSwitchId", "-")], 400, "MissingParameter"),
    ("CreateInstance", &[("VSwitchId", "vsw-doesnotexist000000000")], 404, "InvalidVSwitchId.NotFound"),
    ("CreateInstance", &[("SecurityGroupId", "{osg}")], 400, "InvalidParameter.Mismatch"),
    ("CreateInstance", &[("PrivateIpAddress", "{ip}")], 400, "InvalidPrivateIpAddress.Duplicated"),
    ("CreateInstance", &[("DryRun", "true")], 400, "DryRunOperation"),
    // ---- DescribeInstances ----
    ("DescribeInstances", &[("RegionId", "")], 400, "MissingRegionId"),
    ("DescribeInstances", &[("RegionId", "xx-nowhere-1")], 404, "InvalidRegionId.NotFound"),
    ("DescribeInstances", &[("InstanceIds", "i-notjson")], 400, "InvalidInstanceIds.Malformed"),
    ("DescribeInstances", &[("Status", "Flying")], 404, "InvalidStatus.NotFound"),
    ("DescribeInstances", &[("InstanceNetworkType", "x")], 404, "InvalidNetworkType.NotFound"),
    ("DescribeInstances", &[("InstanceChargeType", "x")], 404, "InvalidInstanceChargeType.NotFound"),
    ("DescribeInstances", &[("InternetChargeType", "x")], 404, "InvalidInternetChargeType.ValueNotSupported"),
    ("DescribeInstances", &[("LockReason", "x")], 404, "InvalidLockReason.NotFound"),
    ("DescribeInstances", &[("Filter.1.Key", "Bogus"), ("Filter.1.Value", "2020-01-01T00:00Z")], 404, "InvalidFilterKey.NotFound"),
    ("DescribeInstances", &[("Tag.1.Value", "v")], 400, "InvalidTag.Mismatch"),
    ("DescribeInstances", &[("PageSize", "101")], 400, "InvalidParameter"),
    ("DescribeInstances", &[("NextToken", "bad")], 400, "InvalidParameter"),
    ("DescribeInstances", &[("DryRun", "true")], 400, "DryRunOperation"),
    // ---- DescribeInstanceAttribute ----
    ("DescribeInstanceAttribute", &[], 400, "MissingInstanceId"),
    ("DescribeInstanceAttribute", &[("InstanceId", "i-doesnotexist00000000")], 404, "InvalidInstanceId.NotFound"),
    // ---- Start / Stop / Reboot ----
    ("StartInstance", &[], 400, "MissingInstanceId"),
    ("StartInstance", &[("InstanceId", "{i}")], 403, "IncorrectInstanceStatus"),
    ("StartInstance", &[("InstanceId", "i-doesnotexist00000000")], 404, "InvalidInstanceId.NotFound"),
    ("StartInstance", &[("InstanceId", "{stopped}"), ("DryRun", "true")], 400, "DryRunOperation"),
    ("StopInstance", &[("InstanceId", "{stopped}")], 403, "IncorrectInstanceStatus"),
    ("StopInstance", &[("InstanceId", "{i}"), ("StoppedMode", "Sometimes")], 400, "InvalidParameter"),
    ("StopInstance", &[("InstanceId", "{i}"), ("DryRun", "true")], 400, "DryRunOperation"),
    ("RebootInstance", &[("InstanceId", "{stopped}")], 403, "IncorrectInstanceStatus"),
    ("RebootInstance", &[("InstanceId", "{i}"), ("DryRun", "true")], 400, "DryRunOperation"),
    // ---- DeleteInstance(s) ----
    ("DeleteInstance", &[("InstanceId", "{i}")], 403, "IncorrectInstanceStatus"),
    ("DeleteInstance", &[("InstanceId", "{prot}"), ("Force", "true")], 403, "InvalidOperation.DeletionProtection"),
    ("DeleteInstance", &[("InstanceId", "{stopped}"), ("DryRun", "true")], 400, "DryRunOperation"),
    ("DeleteInstance", &[("InstanceId", "i-doesnotexist00000000")], 404, "InvalidInstanceId.NotFound"),
    ("DeleteInstances", &[], 400, "MissingInstanceId"),
    ("DeleteInstances", &[("InstanceId.1", "{stopped}"), ("InstanceId.2", "{i}")], 403, "IncorrectInstanceStatus"),
    ("DeleteInstances", &[("InstanceId.1", "{stopped}"), ("InstanceId.2", "i-doesnotexist00000000")], 404, "InvalidInstanceId.NotFound"),
    ("DeleteInstances", &[("InstanceId.1", "{i}"), ("Force", "true"), ("DryRun", "true")], 400, "DRYRUN.SUCCESS"),
    ("DeleteInstances", &[("RegionId", "cn-shanghai"), ("InstanceId.1", "{stopped}")], 400, "InvalidParameter.CrossRegionNotSupport"),
    // ---- ModifyInstanceAttribute ----
    ("ModifyInstanceAttribute", &[("InstanceId", "{i}"), ("InstanceName", "1x")], 400, "InvalidInstanceName.Malformed"),
    ("ModifyInstanceAttribute", &[("InstanceId", "{i}"), ("Description", "h")], 400, "InvalidDescription.Malformed"),
    ("ModifyInstanceAttribute", &[("InstanceId", "{i}"), ("HostName", "a..b")], 400, "InvalidHostName.Malformed"),
    ("ModifyInstanceAttribute", &[("InstanceId", "{i}"), ("SecurityGroupIds.1", "{sg}"), ("SecurityGroupIds.2", "{sg}")], 404, "InvalidParameter.SecurityGroupIdRepeated"),
    ("ModifyInstanceAttribute", &[("InstanceId", "{i}"), ("SecurityGroupIds.1", "sg-a1"), ("SecurityGroupIds.2", "sg-a2"), ("SecurityGroupIds.3", "sg-a3"), ("SecurityGroupIds.4", "sg-a4"), ("SecurityGroupIds.5", "sg-a5"), ("SecurityGroupIds.6", "sg-a6")], 400, "JoinedGroupLimitExceed"),
    ("ModifyInstanceAttribute", &[("InstanceId", "{i}"), ("SecurityGroupIds.1", "{osg}")], 404, "InvalidSecurityGroupVpc.NotBelongToOneVpc"),
    ("ModifyInstanceAttribute", &[("InstanceId", "{i}"), ("SecurityGroupIds.1", "{csg}")], 404, "InvalidSecurityGroupType.NotSupportClassic"),
    ("ModifyInstanceAttribute", &[("InstanceId", "{i}"), ("SecurityGroupIds.1", "{sg}"), ("SecurityGroupIds.2", "{esg}")], 403, "EnterpriseGroupLimited.MutliGroupType"),
    ("ModifyInstanceAttribute", &[("InstanceId", "{i}"), ("SecurityGroupIds.1", "sg-doesnotexist000000")], 404, "InvalidSecurityGroupId.NotFound"),
    ("ModifyInstanceAttribute", &[("InstanceId", "i-doesnotexist00000000"), ("InstanceName", "ok-name")], 404, "InvalidInstanceId.NotFound"),
    ("ModifyInstanceAttribute", &[("InstanceName", "ok-name")], 400, "MissingInstanceId"),
    // ---- JoinSecurityGroup / LeaveSecurityGroup ----
    ("JoinSecurityGroup", &[("InstanceId", "{i}"), ("SecurityGroupId", "{sg}")], 403, "InvalidInstanceId.AlreadyExists"),
    ("JoinSecurityGroup", &[("InstanceId", "{i}"), ("SecurityGroupId", "{osg}")], 400, "InvalidInstanceId.Mismatch"),
    ("JoinSecurityGroup", &[("InstanceId", "{i}"), ("SecurityGroupId", "{csg}")], 400, "InvalidInstanceId.Mismatch"),
    ("JoinSecurityGroup", &[("InstanceId", "{i}"), ("SecurityGroupId", "{esg}")], 400, "InvalidOperation.MultiGroupType"),
    ("JoinSecurityGroup", &[("InstanceId", "{i}"), ("SecurityGroupId", "sg-doesnotexist000000")], 404, "InvalidSecurityGroupId.NotFound"),
    ("JoinSecurityGroup", &[("InstanceId", "i-doesnotexist00000000"), ("SecurityGroupId", "{sg2}")], 404, "InvalidInstanceId.NotFound"),
    ("JoinSecurityGroup", &[("InstanceId", "bad id!"), ("SecurityGroupId", "{sg2}")], 400, "InvalidInstanceId.Malformed"),
    ("JoinSecurityGroup", &[("InstanceId", "{i}")], 400, "MissingSecurityGroupId"),
    ("JoinSecurityGroup", &[("SecurityGroupId", "{sg2}")], 400, "MissingInstanceId"),
    ("JoinSecurityGroup", &[("InstanceId", "{i}"), ("NetworkInterfaceId", "{eni}"), ("SecurityGroupId", "{sg2}")], 403, "InvalidParam.EniIdAndInstanceId.Conflict"),
    ("JoinSecurityGroup", &[("RegionId", ""), ("NetworkInterfaceId", "{eni}"), ("SecurityGroupId", "{sg2}")], 400, "MissingParameter.RegionId"),
    ("JoinSecurityGroup", &[("NetworkInterfaceId", "eni-doesnotexist0000000"), ("SecurityGroupId", "{sg2}")], 404, "InvalidEniId.NotFound"),
    ("JoinSecurityGroup", &[("RegionId", "xx-nowhere-1"), ("InstanceId", "{i}"), ("SecurityGroupId", "{sg2}")], 404, "InvalidRegionId.NotFound"),
    ("LeaveSecurityGroup", &[("InstanceId", "{i}"), ("SecurityGroupId", "{sg}")], 403, "InstanceLastSecurityGroup"),
    ("LeaveSecurityGroup", &[("InstanceId", "{i}"), ("SecurityGroupId", "{sg2}")], 400, "InvalidSecurityGroupAssociation.NotFound"),
    ("LeaveSecurityGroup", &[("InstanceId", "i-doesnotexist00000000"), ("SecurityGroupId", "{sg}")], 404, "InvalidInstanceId.NotFound"),
    // ---- DeleteSecurityGroup ----
    ("DeleteSecurityGroup", &[("SecurityGroupId", "{sg}")], 403, "DependencyViolation"),
];

/// Defaults of the launch actions, overridden (or, with `-`, removed) by a row.
fn launch_defaults(action: &str) -> &'static [(&'static str, &'static str)] {
    match action {
        "RunInstances" => &[
            ("ImageId", "img"),
            ("InstanceType", "ecs.g5.large"),
            ("VSwitchId", "{vsw}"),
            ("SecurityGroupId", "{sg}"),
        ],
        "CreateInstance" => &[
            ("InstanceType", "ecs.g5.large"),
            ("VSwitchId", "{vsw}"),
            ("SecurityGroupId", "{sg}"),
        ],
        _ => &[],
    }
}

#[tokio::test]
async fn every_error_row() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let sg2 = create_group(&c, &[("VpcId", &n.vpc)]).await;
    let esg = create_group(
        &c,
        &[("VpcId", &n.vpc), ("SecurityGroupType", "enterprise")],
    )
    .await;
    let other_vpc = create_vpc(&c, "192.168.0.0/16").await;
    create_vswitch(&c, &other_vpc, "cn-hangzhou-b", "192.168.1.0/24").await;
    let osg = create_group(&c, &[("VpcId", &other_vpc)]).await;
    let classic = c.call("CreateSecurityGroup", &[]).await;
    let csg = classic.json()["SecurityGroupId"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let i = run(&c, &n.vsw, &n.sg, &[]).await.remove(0);
    let instance = describe_one(&c, &i).await;
    let ip = ip_of(&instance);
    let eni = instance["NetworkInterfaces"]["NetworkInterface"][0]["NetworkInterfaceId"]
        .as_str()
        .expect("eni")
        .to_string();
    let create = [
        ("InstanceType", "ecs.g5.large"),
        ("VSwitchId", n.vsw.as_str()),
        ("SecurityGroupId", n.sg.as_str()),
    ];
    let stopped = ok(&c, "CreateInstance", &create).await["InstanceId"]
        .as_str()
        .expect("id")
        .to_string();
    let prot = ok(&c, "CreateInstance", &create).await["InstanceId"]
        .as_str()
        .expect("id")
        .to_string();
    ok(
        &c,
        "ModifyInstanceAttribute",
        &[("InstanceId", &prot), ("DeletionProtection", "true")],
    )
    .await;
    let before = listed(&c, &[]).await;

    let fill = |v: &str| {
        [
            ("{vsw}", &n.vsw),
            ("{sg2}", &sg2),
            ("{sg}", &n.sg),
            ("{esg}", &esg),
            ("{osg}", &osg),
            ("{csg}", &csg),
            ("{ip}", &ip),
            ("{eni}", &eni),
            ("{stopped}", &stopped),
            ("{prot}", &prot),
            ("{i}", &i),
        ]
        .iter()
        .fold(v.to_string(), |acc, (k, val)| acc.replace(k, val))
    };
    let mut failures = Vec::new();
    for (action, row, status, code) in ROWS {
        if row.iter().any(|(_, v)| *v == "{csg}") && csg.is_empty() {
            continue; // this server refuses classic groups: nothing to test
        }
        let mut params: Vec<(String, String)> = launch_defaults(action)
            .iter()
            .filter(|(k, _)| !row.iter().any(|(rk, _)| rk == k))
            .map(|(k, v)| (k.to_string(), fill(v)))
            .collect();
        params.extend(
            row.iter()
                .filter(|(_, v)| *v != "-")
                .map(|(k, v)| (k.to_string(), fill(v))),
        );
        failures.extend(error_row_failure(&c, action, &params, (*status, code)).await);
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Nothing was created, deleted or changed by a refused request.
    let after = listed(&c, &[]).await;
    assert_eq!(after.len(), before.len());
    for (a, b) in after.iter().zip(&before) {
        assert_eq!(
            (&a["InstanceId"], &a["Status"], groups_of(a)),
            (&b["InstanceId"], &b["Status"], groups_of(b))
        );
        assert_eq!(
            (&a["InstanceName"], &a["HostName"]),
            (&b["InstanceName"], &b["HostName"])
        );
    }
}

#[tokio::test]
async fn a_hundred_and_one_instance_ids_are_refused() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let params: Vec<(String, String)> = (1..=101)
        .map(|k| (format!("InstanceId.{k}"), format!("i-{k:020}")))
        .collect();
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let r = c.call("DeleteInstances", &pairs).await;
    assert_eq!(
        (r.status, r.code()),
        (403, "InvalidParameter.TooManyInstanceIds".to_string())
    );
    let mut tags: Vec<(String, String)> = (1..=21)
        .map(|k| (format!("Tag.{k}.Key"), format!("k{k}")))
        .collect();
    let n = net(&c, "10.1.0.0/24").await;
    tags.extend(
        [
            ("ImageId", "img"),
            ("InstanceType", "t"),
            ("VSwitchId", n.vsw.as_str()),
            ("SecurityGroupId", n.sg.as_str()),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let pairs: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = c.call("RunInstances", &pairs).await;
    assert_eq!((r.status, r.code()), (400, "NumberExceed.Tags".to_string()));
}
