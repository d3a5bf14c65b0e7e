//! Elastic network interfaces through the real HTTP server (docs/ecs.md §10): the whole
//! lifecycle, membership per interface, the instance type's limits, secondary interfaces
//! and addresses in `DescribeInstances`, isolation across accounts, and every error row
//! table-driven, with proof that a refused request changed nothing.

use serde_json::Value;

use super::{create_vpc, create_vswitch, describe_one, error_row_failure, net, ok, outcome, run};
use crate::common::{create_group, TestClient, TestServer};

/// `CreateNetworkInterface` in `vsw` with `sg` and `extra`; the new interface's body.
async fn create(c: &TestClient, vsw: &str, sg: &str, extra: &[(&str, &str)]) -> Value {
    let mut params = vec![("VSwitchId", vsw), ("SecurityGroupId", sg)];
    params.extend_from_slice(extra);
    ok(c, "CreateNetworkInterface", &params).await
}

fn id_of(body: &Value) -> String {
    body["NetworkInterfaceId"].as_str().expect("id").to_string()
}

/// Every interface the account has in the region, by `DescribeNetworkInterfaces`.
async fn interfaces(c: &TestClient, filters: &[(&str, &str)]) -> Vec<Value> {
    let mut params = filters.to_vec();
    params.push(("PageSize", "100"));
    let body = ok(c, "DescribeNetworkInterfaces", &params).await;
    body["NetworkInterfaceSets"]["NetworkInterfaceSet"]
        .as_array()
        .expect("NetworkInterfaceSets.NetworkInterfaceSet")
        .clone()
}

async fn one(c: &TestClient, id: &str) -> Value {
    let found = interfaces(c, &[("NetworkInterfaceId.1", id)]).await;
    assert_eq!(found.len(), 1, "{id}: {found:?}");
    found[0].clone()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

fn addresses(set: &Value) -> Vec<(String, bool)> {
    set["PrivateIpSets"]["PrivateIpSet"]
        .as_array()
        .expect("PrivateIpSets")
        .iter()
        .map(|p| {
            (
                p["PrivateIpAddress"].as_str().expect("ip").to_string(),
                p["Primary"].as_bool().expect("Primary"),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_interface_is_created_attached_readdressed_regrouped_detached_and_deleted() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let sg2 = create_group(&c, &[("VpcId", &n.vpc)]).await;
    let i = run(&c, &n.vsw, &n.sg, &[]).await.remove(0);
    let primary_ip = describe_one(&c, &i).await["VpcAttributes"]["PrivateIpAddress"]["IpAddress"]
        [0]
    .as_str()
    .expect("ip")
    .to_string();

    let created = create(
        &c,
        &n.vsw,
        &sg2,
        &[
            ("NetworkInterfaceName", "eth1-data"),
            ("Description", "data plane"),
            ("PrimaryIpAddress", "10.1.0.50"),
            ("SecondaryPrivateIpAddressCount", "1"),
            ("Tag.1.Key", "role"),
            ("Tag.1.Value", "data"),
        ],
    )
    .await;
    let eni = id_of(&created);
    assert!(eni.starts_with("eni-") && eni.len() == 24, "{eni}");
    assert_eq!(created["Status"], "Available");
    assert_eq!(created["Type"], "Secondary");
    assert_eq!(created["VpcId"], n.vpc.as_str());
    assert_eq!(created["ZoneId"], "cn-hangzhou-b");
    assert_eq!(created["PrivateIpAddress"], "10.1.0.50");
    assert_eq!(
        strings(&created["SecurityGroupIds"]["SecurityGroupId"]),
        [sg2.as_str()]
    );
    let secondary = addresses(&created);
    assert_eq!(secondary.len(), 2, "{created}");
    assert_eq!(secondary[0], ("10.1.0.50".to_string(), true));
    assert_ne!(
        secondary[1].0, primary_ip,
        "addresses are unique in the vSwitch"
    );

    // Both kinds are listed; the primary interface is the instance's.
    let all = interfaces(&c, &[]).await;
    assert_eq!(all.len(), 2);
    let primary = interfaces(&c, &[("Type", "Primary")]).await;
    assert_eq!(primary.len(), 1);
    assert_eq!(primary[0]["InstanceId"], i.as_str());
    assert_eq!(primary[0]["Status"], "InUse");
    assert_eq!(primary[0]["Attachment"]["DeviceIndex"], 0);
    assert_eq!(addresses(&primary[0]), [(primary_ip.clone(), true)]);
    let shown = one(&c, &eni).await;
    assert_eq!(shown["NetworkInterfaceName"], "eth1-data");
    assert_eq!(shown["Description"], "data plane");
    assert_eq!(shown["Tags"]["Tag"][0]["TagKey"], "role");
    assert!(shown.get("Attachment").is_none(), "{shown}");
    // The interface is a member of sg2: it takes room there, though EcsCount counts instances.
    let listed = ok(
        &c,
        "DescribeSecurityGroups",
        &[("SecurityGroupId", &sg2), ("IsQueryEcsCount", "true")],
    )
    .await;
    let group = &listed["SecurityGroups"]["SecurityGroup"][0];
    assert_eq!(
        (&group["EcsCount"], &group["AvailableInstanceAmount"]),
        (&Value::from(0), &Value::from(5999)),
        "{group}"
    );
    assert_eq!(interfaces(&c, &[("Status", "Available")]).await.len(), 1);
    assert_eq!(interfaces(&c, &[("SecurityGroupId", &sg2)]).await.len(), 1);
    assert_eq!(
        interfaces(&c, &[("PrivateIpAddress.1", &secondary[1].0)])
            .await
            .len(),
        1
    );
    assert_eq!(interfaces(&c, &[("Tag.1.Key", "role")]).await.len(), 1);

    // Attached: InUse at device index 1, and listed by the instance.
    ok(
        &c,
        "AttachNetworkInterface",
        &[("NetworkInterfaceId", &eni), ("InstanceId", &i)],
    )
    .await;
    let shown = one(&c, &eni).await;
    assert_eq!(shown["Status"], "InUse");
    assert_eq!(shown["InstanceId"], i.as_str());
    assert_eq!(shown["Attachment"]["InstanceId"], i.as_str());
    assert_eq!(shown["Attachment"]["DeviceIndex"], 1);
    let instance = describe_one(&c, &i).await;
    let nics = instance["NetworkInterfaces"]["NetworkInterface"]
        .as_array()
        .expect("NetworkInterfaces")
        .clone();
    assert_eq!(nics.len(), 2, "{instance}");
    assert_eq!(nics[0]["Type"], "Primary");
    assert_eq!(nics[1]["Type"], "Secondary");
    assert_eq!(nics[1]["NetworkInterfaceId"], eni.as_str());
    assert_eq!(nics[1]["PrimaryIpAddress"], "10.1.0.50");
    let filter = format!("[\"{i}\"]");
    let xml = c
        .signed(
            "POST",
            "DescribeInstances",
            vec![
                ("RegionId".into(), "cn-hangzhou".into()),
                ("InstanceIds".into(), filter),
            ],
            &[("Format", "XML")],
        )
        .await;
    assert_eq!(xml.status, 200, "{}", xml.body);
    let secondary = format!(
        "<NetworkInterface><Type>Secondary</Type><PrimaryIpAddress>10.1.0.50</PrimaryIpAddress>\
         <NetworkInterfaceId>{eni}</NetworkInterfaceId>"
    );
    assert!(xml.body.contains(&secondary), "{}", xml.body);
    assert_eq!(
        xml.body.matches("<NetworkInterface>").count(),
        2,
        "{}",
        xml.body
    );
    assert_eq!(addresses(&nics[1]).len(), 2);
    // The instance's own groups are its primary interface's; the secondary keeps its own.
    assert_eq!(
        strings(&instance["SecurityGroupIds"]["SecurityGroupId"]),
        [n.sg.as_str()]
    );

    // Addresses on the primary interface show in DescribeInstances too.
    let primary_eni = nics[0]["NetworkInterfaceId"]
        .as_str()
        .expect("eni")
        .to_string();
    let assigned = ok(
        &c,
        "AssignPrivateIpAddresses",
        &[
            ("NetworkInterfaceId", &primary_eni),
            ("PrivateIpAddress.1", "10.1.0.77"),
        ],
    )
    .await;
    assert_eq!(
        assigned["AssignedPrivateIpAddressesSet"]["PrivateIpSet"]["PrivateIpAddress"][0],
        "10.1.0.77"
    );
    assert_eq!(
        assigned["AssignedPrivateIpAddressesSet"]["NetworkInterfaceId"],
        primary_eni.as_str()
    );
    let nics = describe_one(&c, &i).await["NetworkInterfaces"]["NetworkInterface"].clone();
    assert_eq!(
        addresses(&nics[0]),
        [(primary_ip.clone(), true), ("10.1.0.77".to_string(), false)]
    );
    // The address is taken: neither a launch nor another interface can have it.
    assert_eq!(
        outcome(
            &c,
            "AssignPrivateIpAddresses",
            &[
                ("NetworkInterfaceId", &eni),
                ("PrivateIpAddress.1", "10.1.0.77")
            ]
        )
        .await,
        (400, "InvalidPrivateIpAddress.Duplicated".into())
    );
    ok(
        &c,
        "UnassignPrivateIpAddresses",
        &[
            ("NetworkInterfaceId", &primary_eni),
            ("PrivateIpAddress.1", "10.1.0.77"),
        ],
    )
    .await;
    assert_eq!(
        addresses(&one(&c, &primary_eni).await),
        [(primary_ip.clone(), true)]
    );

    // Groups per interface: Modify replaces, Join/Leave by NetworkInterfaceId add and remove.
    ok(
        &c,
        "ModifyNetworkInterfaceAttribute",
        &[
            ("NetworkInterfaceId", &eni),
            ("SecurityGroupId.1", &n.sg),
            ("SecurityGroupId.2", &sg2),
            ("NetworkInterfaceName", "renamed"),
        ],
    )
    .await;
    let shown = one(&c, &eni).await;
    assert_eq!(
        strings(&shown["SecurityGroupIds"]["SecurityGroupId"]),
        [n.sg.clone(), sg2.clone()]
    );
    assert_eq!(shown["NetworkInterfaceName"], "renamed");
    ok(
        &c,
        "LeaveSecurityGroup",
        &[("NetworkInterfaceId", &eni), ("SecurityGroupId", &n.sg)],
    )
    .await;
    ok(
        &c,
        "JoinSecurityGroup",
        &[("NetworkInterfaceId", &eni), ("SecurityGroupId", &n.sg)],
    )
    .await;
    assert_eq!(
        strings(&one(&c, &eni).await["SecurityGroupIds"]["SecurityGroupId"]),
        [sg2.clone(), n.sg.clone()]
    );
    assert_eq!(
        strings(&describe_one(&c, &i).await["SecurityGroupIds"]["SecurityGroupId"]),
        [n.sg.as_str()],
        "the instance's groups did not move"
    );
    // ModifyNetworkInterfaceAttribute on the primary interface is the instance's membership.
    ok(
        &c,
        "ModifyNetworkInterfaceAttribute",
        &[
            ("NetworkInterfaceId", &primary_eni),
            ("SecurityGroupId.1", &sg2),
        ],
    )
    .await;
    assert_eq!(
        strings(&describe_one(&c, &i).await["SecurityGroupIds"]["SecurityGroupId"]),
        [sg2.as_str()]
    );

    // A member interface keeps its group alive.
    ok(
        &c,
        "LeaveSecurityGroup",
        &[("NetworkInterfaceId", &eni), ("SecurityGroupId", &n.sg)],
    )
    .await;
    ok(
        &c,
        "ModifyNetworkInterfaceAttribute",
        &[
            ("NetworkInterfaceId", &primary_eni),
            ("SecurityGroupId.1", &n.sg),
        ],
    )
    .await;
    assert_eq!(
        outcome(&c, "DeleteSecurityGroup", &[("SecurityGroupId", &sg2)]).await,
        (403, "DependencyViolation".into())
    );

    // Detached, then deleted; the vSwitch is free of it afterwards.
    assert_eq!(
        outcome(
            &c,
            "DeleteNetworkInterface",
            &[("NetworkInterfaceId", &eni)]
        )
        .await,
        (403, "InvalidOperation.InvalidEniState".into())
    );
    ok(
        &c,
        "DetachNetworkInterface",
        &[("NetworkInterfaceId", &eni), ("InstanceId", &i)],
    )
    .await;
    assert_eq!(one(&c, &eni).await["Status"], "Available");
    assert_eq!(
        describe_one(&c, &i).await["NetworkInterfaces"]["NetworkInterface"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    ok(
        &c,
        "DeleteNetworkInterface",
        &[("NetworkInterfaceId", &eni)],
    )
    .await;
    assert!(interfaces(&c, &[("NetworkInterfaceId.1", &eni)])
        .await
        .is_empty());
    ok(&c, "DeleteSecurityGroup", &[("SecurityGroupId", &sg2)]).await;
    // Its addresses are free again.
    create(&c, &n.vsw, &n.sg, &[("PrimaryIpAddress", "10.1.0.50")]).await;
}

#[tokio::test]
async fn instance_types_limit_interfaces_and_addresses() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    // ecs.g5.large: 2 interfaces (the primary one included), 6 addresses each.
    let i = run(&c, &n.vsw, &n.sg, &[]).await.remove(0);
    let first = id_of(&create(&c, &n.vsw, &n.sg, &[]).await);
    let second = id_of(&create(&c, &n.vsw, &n.sg, &[]).await);
    ok(
        &c,
        "AttachNetworkInterface",
        &[("NetworkInterfaceId", &first), ("InstanceId", &i)],
    )
    .await;
    assert_eq!(
        outcome(
            &c,
            "AttachNetworkInterface",
            &[("NetworkInterfaceId", &second), ("InstanceId", &i)]
        )
        .await,
        (403, "InvalidOperation.EniCountExceeded".into())
    );
    ok(
        &c,
        "AssignPrivateIpAddresses",
        &[
            ("NetworkInterfaceId", &first),
            ("SecondaryPrivateIpAddressCount", "5"),
        ],
    )
    .await;
    assert_eq!(addresses(&one(&c, &first).await).len(), 6);
    assert_eq!(
        outcome(
            &c,
            "AssignPrivateIpAddresses",
            &[
                ("NetworkInterfaceId", &first),
                ("SecondaryPrivateIpAddressCount", "1")
            ]
        )
        .await,
        (403, "InvalidOperation.Ipv4CountExceeded".into())
    );
    // An interface with more addresses than the type takes cannot be attached.
    let crowded = id_of(
        &create(
            &c,
            &n.vsw,
            &n.sg,
            &[("SecondaryPrivateIpAddressCount", "6")],
        )
        .await,
    );
    let j = run(&c, &n.vsw, &n.sg, &[]).await.remove(0);
    assert_eq!(
        outcome(
            &c,
            "AttachNetworkInterface",
            &[("NetworkInterfaceId", &crowded), ("InstanceId", &j)]
        )
        .await,
        (403, "InvalidOperation.Ipv4CountExceeded".into())
    );
    // ecs.g7.large takes 3.
    let launched = ok(
        &c,
        "RunInstances",
        &[
            ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
            ("InstanceType", "ecs.g7.large"),
            ("VSwitchId", &n.vsw),
            ("SecurityGroupId", &n.sg),
        ],
    )
    .await;
    let k = launched["InstanceIdSets"]["InstanceIdSet"][0]
        .as_str()
        .expect("id")
        .to_string();
    ok(
        &c,
        "AttachNetworkInterface",
        &[("NetworkInterfaceId", &second), ("InstanceId", &k)],
    )
    .await;
    let third = id_of(&create(&c, &n.vsw, &n.sg, &[]).await);
    ok(
        &c,
        "AttachNetworkInterface",
        &[("NetworkInterfaceId", &third), ("InstanceId", &k)],
    )
    .await;
    let devices: Vec<i64> = interfaces(&c, &[("InstanceId", &k)])
        .await
        .iter()
        .map(|e| e["Attachment"]["DeviceIndex"].as_i64().expect("index"))
        .collect();
    assert_eq!(devices, [0, 1, 2]);

    // Releasing an instance detaches its secondary interfaces; they stay.
    ok(
        &c,
        "DeleteInstance",
        &[("InstanceId", &k), ("Force", "true")],
    )
    .await;
    for id in [&second, &third] {
        let shown = one(&c, id).await;
        assert_eq!(shown["Status"], "Available", "{shown}");
    }
    // A vSwitch with interfaces in it cannot go.
    assert_eq!(
        c.call_vpc("DeleteVSwitch", &[("VSwitchId", &n.vsw)])
            .await
            .code(),
        "DependencyViolation"
    );
}

#[tokio::test]
async fn another_account_never_sees_or_changes_an_interface() {
    let server = TestServer::start().await;
    let owner = server.new_account().await;
    let other = server.new_account().await;
    let n = net(&owner, "10.1.0.0/24").await;
    let eni = id_of(&create(&owner, &n.vsw, &n.sg, &[]).await);
    let before = one(&owner, &eni).await;
    let theirs = net(&other, "10.1.0.0/24").await;
    let i = run(&other, &theirs.vsw, &theirs.sg, &[]).await.remove(0);
    assert!(interfaces(&other, &[("NetworkInterfaceId.1", &eni)])
        .await
        .is_empty());
    for (action, params) in [
        (
            "DeleteNetworkInterface",
            vec![("NetworkInterfaceId", eni.as_str())],
        ),
        (
            "AttachNetworkInterface",
            vec![("NetworkInterfaceId", &eni), ("InstanceId", &i)],
        ),
        (
            "ModifyNetworkInterfaceAttribute",
            vec![
                ("NetworkInterfaceId", &eni),
                ("NetworkInterfaceName", "mine"),
            ],
        ),
        (
            "AssignPrivateIpAddresses",
            vec![
                ("NetworkInterfaceId", &eni),
                ("SecondaryPrivateIpAddressCount", "1"),
            ],
        ),
        (
            "UnassignPrivateIpAddresses",
            vec![
                ("NetworkInterfaceId", &eni),
                ("PrivateIpAddress.1", "10.1.0.9"),
            ],
        ),
        (
            "JoinSecurityGroup",
            vec![
                ("NetworkInterfaceId", &eni),
                ("SecurityGroupId", &theirs.sg),
            ],
        ),
    ] {
        assert_eq!(
            outcome(&other, action, &params).await,
            (404, "InvalidEniId.NotFound".into()),
            "{action}"
        );
    }
    let tag = other
        .call(
            "TagResources",
            &[
                ("ResourceType", "eni"),
                ("ResourceId.1", &eni),
                ("Tag.1.Key", "k"),
                ("Tag.1.Value", "v"),
            ],
        )
        .await;
    assert_eq!(tag.code(), "InvalidResourceId.NotFound", "{}", tag.body);
    assert_eq!(one(&owner, &eni).await, before);
    // The owner tags it through the tag APIs like any resource.
    ok(
        &owner,
        "TagResources",
        &[
            ("ResourceType", "eni"),
            ("ResourceId.1", &eni),
            ("Tag.1.Key", "k"),
            ("Tag.1.Value", "v"),
        ],
    )
    .await;
    let listed = ok(
        &owner,
        "ListTagResources",
        &[("ResourceType", "eni"), ("ResourceId.1", &eni)],
    )
    .await;
    assert_eq!(
        listed["TagResources"]["TagResource"][0]["ResourceType"], "eni",
        "{listed}"
    );
}

#[tokio::test]
async fn describe_network_interfaces_in_xml() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let eni = id_of(
        &create(
            &c,
            &n.vsw,
            &n.sg,
            &[("SecondaryPrivateIpAddressCount", "1")],
        )
        .await,
    );
    let r = c
        .signed(
            "POST",
            "DescribeNetworkInterfaces",
            vec![
                ("RegionId".into(), "cn-hangzhou".into()),
                ("NetworkInterfaceId.1".into(), eni.clone()),
            ],
            &[("Format", "XML")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.content_type.contains("xml"), "{}", r.content_type);
    for part in [
        "<DescribeNetworkInterfacesResponse>",
        "<TotalCount>1</TotalCount>",
        "<NetworkInterfaceSets><NetworkInterfaceSet><NetworkInterfaceId>",
        "<SecurityGroupIds><SecurityGroupId>",
        "<PrivateIpSets><PrivateIpSet><PrivateIpAddress>",
        "<Primary>true</Primary>",
        "<Primary>false</Primary>",
    ] {
        assert!(r.body.contains(part), "{part} in {}", r.body);
    }
}

/// Action, parameters, status, code. Placeholders: `{vsw}` the vSwitch (`10.1.0.0/24`,
/// `cn-hangzhou-b`), `{vsw_c}` one in `cn-hangzhou-c`, `{sg}`, `{sg2}` basic groups of the
/// VPC, `{esg}` an advanced one, `{osg}` a group of another VPC; `{i}` a Running instance,
/// `{i2}` another, `{pending}` none; `{eni}` an Available interface with secondary address
/// `10.1.0.60`, `{used}` one attached to `{i}`, `{far}` one in `{vsw_c}`, `{peni}` the
/// primary interface of `{i}` with address `{ip}`.
type Row = (
    &'static str,
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
);

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // ---- CreateNetworkInterface ----
    ("CreateNetworkInterface", &[("RegionId", ""), ("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}")], 400, "MissingRegionId"),
    ("CreateNetworkInterface", &[("SecurityGroupId", "{sg}")], 400, "MissingVSwitchId"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}")], 400, "MissingSecurityGroupId"),
    ("CreateNetworkInterface", &[("VSwitchId", "vsw-doesnotexist000000000"), ("SecurityGroupId", "{sg}")], 404, "InvalidVSwitchId.NotFound"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "sg-doesnotexist000000")], 404, "InvalidSecurityGroupId.NotFound"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{osg}")], 400, "InvalidParameter.Mismatch"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupIds.1", "{sg}"), ("SecurityGroupIds.2", "{esg}")], 403, "EnterpriseGroupLimited.MutliGroupType"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupIds.1", "{sg}"), ("SecurityGroupIds.2", "{sg}")], 404, "InvalidParameter.SecurityGroupIdRepeated"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}"), ("PrimaryIpAddress", "{ip}")], 400, "InvalidPrivateIpAddress.Duplicated"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}"), ("PrimaryIpAddress", "10.2.0.5")], 400, "InvalidPrivateIpAddress"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}"), ("PrimaryIpAddress", "10.1.0.300")], 400, "InvalidPrivateIpAddress.Malformed"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}"), ("PrivateIpAddress.1", "10.1.0.60")], 400, "InvalidPrivateIpAddress.Duplicated"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}"), ("PrivateIpAddress.1", "10.1.0.90"), ("SecondaryPrivateIpAddressCount", "1")], 400, "InvalidParam.IpAssign"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}"), ("SecondaryPrivateIpAddressCount", "10")], 403, "InvalidOperation.Ipv4CountExceeded"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}"), ("SecondaryPrivateIpAddressCount", "x")], 400, "InvalidParameter"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}"), ("NetworkInterfaceName", "1bad")], 400, "InvalidNetworkInterfaceName.Malformed"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}"), ("Description", "h")], 400, "InvalidDescription.Malformed"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}"), ("Tag.1.Key", "aliyun-x")], 400, "InvalidTagKey.Malformed"),
    ("CreateNetworkInterface", &[("VSwitchId", "{vsw}"), ("SecurityGroupId", "{sg}"), ("InstanceType", "Trunk")], 400, "InvalidParameter"),
    // ---- DeleteNetworkInterface ----
    ("DeleteNetworkInterface", &[], 400, "MissingNetworkInterfaceId"),
    ("DeleteNetworkInterface", &[("RegionId", ""), ("NetworkInterfaceId", "{eni}")], 400, "MissingRegionId"),
    ("DeleteNetworkInterface", &[("NetworkInterfaceId", "eni-doesnotexist00000000")], 404, "InvalidEniId.NotFound"),
    ("DeleteNetworkInterface", &[("NetworkInterfaceId", "{used}")], 403, "InvalidOperation.InvalidEniState"),
    ("DeleteNetworkInterface", &[("NetworkInterfaceId", "{peni}")], 403, "InvalidOperation.InvalidEniType"),
    // ---- AttachNetworkInterface ----
    ("AttachNetworkInterface", &[("NetworkInterfaceId", "{eni}")], 400, "MissingInstanceId"),
    ("AttachNetworkInterface", &[("InstanceId", "{i}")], 400, "MissingNetworkInterfaceId"),
    ("AttachNetworkInterface", &[("NetworkInterfaceId", "eni-doesnotexist00000000"), ("InstanceId", "{i}")], 404, "InvalidEniId.NotFound"),
    ("AttachNetworkInterface", &[("NetworkInterfaceId", "{eni}"), ("InstanceId", "i-doesnotexist00000000")], 404, "InvalidInstanceId.NotFound"),
    ("AttachNetworkInterface", &[("NetworkInterfaceId", "{used}"), ("InstanceId", "{i2}")], 403, "InvalidOperation.InvalidEniState"),
    ("AttachNetworkInterface", &[("NetworkInterfaceId", "{peni}"), ("InstanceId", "{i2}")], 403, "InvalidOperation.InvalidEniState"),
    ("AttachNetworkInterface", &[("NetworkInterfaceId", "{far}"), ("InstanceId", "{i2}")], 403, "InvalidOperation.InvalidEniInstanceMismatch"),
    ("AttachNetworkInterface", &[("NetworkInterfaceId", "{eni}"), ("InstanceId", "{i}")], 403, "InvalidOperation.EniCountExceeded"),
    ("AttachNetworkInterface", &[("NetworkInterfaceId", "{eni}"), ("InstanceId", "{i2}"), ("NetworkCardIndex", "1")], 400, "InvalidParameter"),
    ("AttachNetworkInterface", &[("NetworkInterfaceId", "{eni}"), ("InstanceId", "{i2}"), ("TrunkNetworkInstanceId", "eni-trunk")], 400, "InvalidParameter"),
    // ---- DetachNetworkInterface ----
    ("DetachNetworkInterface", &[("NetworkInterfaceId", "{eni}"), ("InstanceId", "{i}")], 403, "InvalidOperation.InvalidEniState"),
    ("DetachNetworkInterface", &[("NetworkInterfaceId", "{used}"), ("InstanceId", "{i2}")], 403, "InvalidOperation.InvalidEniState"),
    ("DetachNetworkInterface", &[("NetworkInterfaceId", "{peni}"), ("InstanceId", "{i}")], 403, "InvalidOperation.DetachPrimaryEniNotAllowed"),
    ("DetachNetworkInterface", &[("NetworkInterfaceId", "{used}"), ("InstanceId", "i-doesnotexist00000000")], 404, "InvalidInstanceId.NotFound"),
    // ---- ModifyNetworkInterfaceAttribute ----
    ("ModifyNetworkInterfaceAttribute", &[("NetworkInterfaceId", "eni-doesnotexist00000000"), ("NetworkInterfaceName", "ok")], 404, "InvalidEniId.NotFound"),
    ("ModifyNetworkInterfaceAttribute", &[("NetworkInterfaceId", "{eni}"), ("SecurityGroupId.1", "{osg}")], 400, "InvalidParameter.Mismatch"),
    ("ModifyNetworkInterfaceAttribute", &[("NetworkInterfaceId", "{eni}"), ("SecurityGroupId.1", "{sg}"), ("SecurityGroupId.2", "{esg}")], 400, "InvalidOperation.MultiGroupType"),
    ("ModifyNetworkInterfaceAttribute", &[("NetworkInterfaceId", "{eni}"), ("SecurityGroupId.1", "sg-doesnotexist000000")], 404, "InvalidSecurityGroupId.NotFound"),
    ("ModifyNetworkInterfaceAttribute", &[("NetworkInterfaceId", "{eni}"), ("NetworkInterfaceName", "http://x")], 400, "InvalidNetworkInterfaceName.Malformed"),
    ("ModifyNetworkInterfaceAttribute", &[("NetworkInterfaceId", "{eni}"), ("Description", "h")], 400, "InvalidDescription.Malformed"),
    // ---- AssignPrivateIpAddresses ----
    ("AssignPrivateIpAddresses", &[("NetworkInterfaceId", "{eni}")], 400, "InvalidParam.IpAssign"),
    ("AssignPrivateIpAddresses", &[("NetworkInterfaceId", "{eni}"), ("PrivateIpAddress.1", "10.1.0.91"), ("SecondaryPrivateIpAddressCount", "1")], 400, "InvalidParam.IpAssign"),
    ("AssignPrivateIpAddresses", &[("NetworkInterfaceId", "{eni}"), ("PrivateIpAddress.1", "{ip}")], 400, "InvalidPrivateIpAddress.Duplicated"),
    ("AssignPrivateIpAddresses", &[("NetworkInterfaceId", "{eni}"), ("PrivateIpAddress.1", "10.2.0.9")], 400, "InvalidPrivateIpAddress"),
    ("AssignPrivateIpAddresses", &[("NetworkInterfaceId", "{eni}"), ("SecondaryPrivateIpAddressCount", "9")], 403, "InvalidOperation.Ipv4CountExceeded"),
    ("AssignPrivateIpAddresses", &[("NetworkInterfaceId", "{peni}"), ("SecondaryPrivateIpAddressCount", "6")], 403, "InvalidOperation.Ipv4CountExceeded"),
    ("AssignPrivateIpAddresses", &[("NetworkInterfaceId", "{eni}"), ("Ipv4PrefixCount", "1")], 400, "InvalidParameter"),
    ("AssignPrivateIpAddresses", &[("NetworkInterfaceId", "eni-doesnotexist00000000"), ("SecondaryPrivateIpAddressCount", "1")], 404, "InvalidEniId.NotFound"),
    // ---- UnassignPrivateIpAddresses ----
    ("UnassignPrivateIpAddresses", &[("NetworkInterfaceId", "{eni}")], 400, "MissingPrivateIpAddress"),
    ("UnassignPrivateIpAddresses", &[("NetworkInterfaceId", "{eni}"), ("PrivateIpAddress.1", "10.1.0.99")], 403, "InvalidIp.IpUnassigned"),
    ("UnassignPrivateIpAddresses", &[("NetworkInterfaceId", "{peni}"), ("PrivateIpAddress.1", "{ip}")], 403, "InvalidIp.IpUnassigned"),
    ("UnassignPrivateIpAddresses", &[("NetworkInterfaceId", "{eni}"), ("PrivateIpAddress.1", "10.1.0.60"), ("PrivateIpAddress.2", "10.1.0.60")], 403, "InvalidIp.IpUnassigned"),
    // ---- DescribeNetworkInterfaces ----
    ("DescribeNetworkInterfaces", &[("RegionId", "")], 400, "MissingRegionId"),
    ("DescribeNetworkInterfaces", &[("Type", "Trunk")], 400, "InvalidParameter"),
    ("DescribeNetworkInterfaces", &[("Status", "Broken")], 400, "InvalidParameter"),
    ("DescribeNetworkInterfaces", &[("PageSize", "0")], 400, "InvalidParameter"),
    ("DescribeNetworkInterfaces", &[("NextToken", "nonsense")], 400, "InvalidParameter"),
    // ---- Join/Leave by interface ----
    ("JoinSecurityGroup", &[("NetworkInterfaceId", "{eni}"), ("SecurityGroupId", "{sg}")], 403, "InvalidInstanceId.AlreadyExists"),
    ("JoinSecurityGroup", &[("NetworkInterfaceId", "{eni}"), ("SecurityGroupId", "{esg}")], 400, "InvalidOperation.MultiGroupType"),
    ("JoinSecurityGroup", &[("NetworkInterfaceId", "{eni}"), ("SecurityGroupId", "{osg}")], 400, "InvalidInstanceId.Mismatch"),
    ("LeaveSecurityGroup", &[("NetworkInterfaceId", "{eni}"), ("SecurityGroupId", "{sg}")], 403, "InstanceLastSecurityGroup"),
    ("LeaveSecurityGroup", &[("NetworkInterfaceId", "{eni}"), ("SecurityGroupId", "{sg2}")], 400, "InvalidSecurityGroupAssociation.NotFound"),
];

#[tokio::test]
async fn every_error_row_of_the_interface_operations() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let vsw_c = create_vswitch(&c, &n.vpc, "cn-hangzhou-c", "10.2.0.0/24").await;
    let sg2 = create_group(&c, &[("VpcId", &n.vpc)]).await;
    let esg = create_group(
        &c,
        &[("VpcId", &n.vpc), ("SecurityGroupType", "enterprise")],
    )
    .await;
    let other_vpc = create_vpc(&c, "192.168.0.0/16").await;
    let osg = create_group(&c, &[("VpcId", &other_vpc)]).await;
    let i = run(&c, &n.vsw, &n.sg, &[]).await.remove(0);
    let i2 = run(&c, &n.vsw, &n.sg, &[]).await.remove(0);
    let instance = describe_one(&c, &i).await;
    let peni = instance["NetworkInterfaces"]["NetworkInterface"][0]["NetworkInterfaceId"]
        .as_str()
        .expect("eni")
        .to_string();
    let ip = instance["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
        .as_str()
        .expect("ip")
        .to_string();
    let eni = id_of(&create(&c, &n.vsw, &n.sg, &[("PrivateIpAddress.1", "10.1.0.60")]).await);
    let used = id_of(&create(&c, &n.vsw, &n.sg, &[]).await);
    ok(
        &c,
        "AttachNetworkInterface",
        &[("NetworkInterfaceId", &used), ("InstanceId", &i)],
    )
    .await;
    let far = id_of(&create(&c, &vsw_c, &n.sg, &[]).await);
    let before = (
        interfaces(&c, &[]).await,
        describe_one(&c, &i).await,
        describe_one(&c, &i2).await,
    );

    let fill = |v: &str| {
        [
            ("{vsw_c}", &vsw_c),
            ("{vsw}", &n.vsw),
            ("{sg2}", &sg2),
            ("{sg}", &n.sg),
            ("{esg}", &esg),
            ("{osg}", &osg),
            ("{peni}", &peni),
            ("{eni}", &eni),
            ("{used}", &used),
            ("{far}", &far),
            ("{ip}", &ip),
            ("{i2}", &i2),
            ("{i}", &i),
        ]
        .iter()
        .fold(v.to_string(), |acc, (k, val)| acc.replace(k, val))
    };
    let mut failures = Vec::new();
    for (action, row, status, code) in ROWS {
        let params: Vec<(String, String)> =
            row.iter().map(|(k, v)| (k.to_string(), fill(v))).collect();
        failures.extend(error_row_failure(&c, action, &params, (*status, code)).await);
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let after = (
        interfaces(&c, &[]).await,
        describe_one(&c, &i).await,
        describe_one(&c, &i2).await,
    );
    assert_eq!(after, before, "a refused request changed something");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_interfaces_and_launches_never_share_an_address() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    // A /28 has 12 usable addresses (.1 to .12): interfaces with a secondary address each
    // and instances race for them.
    let small = create_vswitch(&c, &n.vpc, "cn-hangzhou-b", "10.9.0.0/28").await;
    let mut tasks = Vec::new();
    for k in 0..16 {
        let (c, vsw, sg) = (c.clone(), small.clone(), n.sg.clone());
        tasks.push(tokio::spawn(async move {
            if k % 2 == 0 {
                let r = c
                    .call(
                        "CreateNetworkInterface",
                        &[
                            ("VSwitchId", &vsw),
                            ("SecurityGroupId", &sg),
                            ("SecondaryPrivateIpAddressCount", "1"),
                        ],
                    )
                    .await;
                (r.status, r.code())
            } else {
                let params = super::run_params(&vsw, &sg, &[]);
                let r = c.call("RunInstances", &params).await;
                (r.status, r.code())
            }
        }));
    }
    for task in tasks {
        let (status, code) = task.await.expect("task");
        assert!(
            status == 200 || (status, code.as_str()) == (400, "QuotaExceeded.PrivateIpAddress"),
            "{status} {code}"
        );
    }
    let mut taken: Vec<String> = interfaces(&c, &[("VSwitchId", &small)])
        .await
        .iter()
        .flat_map(|e| addresses(e).into_iter().map(|(ip, _)| ip))
        .collect();
    let all = taken.len();
    taken.sort();
    taken.dedup();
    assert_eq!(taken.len(), all, "an address handed out twice: {taken:?}");
    assert!(all >= 11, "only {all} of 12 addresses used");
}
