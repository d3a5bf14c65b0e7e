//! Launching: RunInstances and CreateInstance, the documented response shape, addresses,
//! names, amounts, ClientToken and DryRun.

use serde_json::Value;

use super::{
    create_vswitch, describe_one, groups_of, ids_of, ip_of, is_minute_time, listed, net, ok,
    outcome, run, run_params,
};
use crate::common::TestServer;

#[tokio::test]
async fn run_instances_shows_the_documented_shape() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let ids = run(
        &c,
        &n.vsw,
        &n.sg,
        &[
            ("Amount", "3"),
            ("InstanceName", "web-[1,3]"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
            ("ZoneId", "cn-hangzhou-b"),
            ("InternetMaxBandwidthOut", "5"),
        ],
    )
    .await;
    assert_eq!(ids.len(), 3);
    let found = listed(&c, &[("SecurityGroupId", &n.sg)]).await;
    assert_eq!(ids_of(&found), ids, "oldest first");
    for (k, (i, id)) in found.iter().zip(&ids).enumerate() {
        assert!(id.starts_with("i-") && id.len() == 22, "{id}");
        assert_eq!(i["InstanceName"], format!("web-{:03}", k + 1));
        assert_eq!(i["Status"], "Running");
        assert_eq!(i["RegionId"], "cn-hangzhou");
        assert_eq!(i["ZoneId"], "cn-hangzhou-b");
        assert_eq!(i["InstanceNetworkType"], "vpc");
        assert_eq!(i["InstanceType"], "ecs.g5.large");
        assert_eq!(i["InstanceTypeFamily"], "ecs.g5");
        assert_eq!(
            (i["Cpu"].as_i64(), i["Memory"].as_i64()),
            (Some(2), Some(8192))
        );
        assert_eq!(groups_of(i), std::slice::from_ref(&n.sg));
        assert_eq!(i["VpcAttributes"]["VpcId"], n.vpc);
        assert_eq!(i["VpcAttributes"]["VSwitchId"], n.vsw);
        assert_eq!(
            ip_of(i),
            format!("10.1.0.{}", k + 1),
            "lowest free addresses"
        );
        let eni = &i["NetworkInterfaces"]["NetworkInterface"][0];
        assert_eq!(eni["Type"], "Primary");
        assert_eq!(eni["PrimaryIpAddress"], ip_of(i));
        let eni_id = eni["NetworkInterfaceId"].as_str().expect("eni");
        assert!(eni_id.starts_with("eni-") && eni_id.len() == 24, "{eni_id}");
        let mac = eni["MacAddress"].as_str().expect("mac");
        assert!(mac.starts_with("00:16:3e:") && mac.len() == 17, "{mac}");
        assert_eq!(
            eni["PrivateIpSets"]["PrivateIpSet"][0]["Primary"],
            Value::Bool(true)
        );
        assert!(
            is_minute_time(i["CreationTime"].as_str().expect("time")),
            "{i}"
        );
        assert!(
            is_minute_time(i["StartTime"].as_str().expect("time")),
            "{i}"
        );
        assert_eq!(i["Tags"]["Tag"][0]["TagKey"], "env");
        assert_eq!(i["Tags"]["Tag"][0]["TagValue"], "prod");
        assert_eq!(
            i["PublicIpAddress"]["IpAddress"].as_array().map(Vec::len),
            Some(1)
        );
        assert_eq!(i["InnerIpAddress"]["IpAddress"], serde_json::json!([]));
        assert_eq!(i["OperationLocks"]["LockReason"], serde_json::json!([]));
        assert_eq!(i["EipAddress"]["IpAddress"], "");
        assert_eq!(i["DeletionProtection"], Value::Bool(false));
    }
    let public = found[1]["PublicIpAddress"]["IpAddress"][0]
        .as_str()
        .expect("public ip");
    let by_public = listed(&c, &[("PublicIpAddresses", &format!("[\"{public}\"]"))]).await;
    assert!(ids_of(&by_public).contains(&ids[1]), "{public}");
    let attr = ok(&c, "DescribeInstanceAttribute", &[("InstanceId", &ids[0])]).await;
    assert_eq!(attr["InstanceId"], ids[0].as_str());
    assert_eq!(attr["Status"], "Running");
    assert_eq!(attr["IoOptimized"], "optimized");
    assert_eq!(
        attr["SecurityGroupIds"]["SecurityGroupId"][0],
        n.sg.as_str()
    );
    assert_eq!(
        attr["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0],
        "10.1.0.1"
    );
    assert!(attr.get("Tags").is_none() && attr.get("NetworkInterfaces").is_none());

    // XML keeps the singular element names.
    let r = c
        .signed(
            "POST",
            "DescribeInstances",
            vec![("RegionId".into(), "cn-hangzhou".into())],
            &[("Format", "XML")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for element in [
        "<Instances><Instance>",
        "<SecurityGroupIds><SecurityGroupId>",
        "<PrivateIpAddress><IpAddress>10.1.0.1</IpAddress></PrivateIpAddress>",
        "<NetworkInterfaces><NetworkInterface>",
    ] {
        assert!(r.body.contains(element), "{element}: {}", r.body);
    }
}

#[tokio::test]
async fn addresses_names_and_amounts() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let ids = run(
        &c,
        &n.vsw,
        &n.sg,
        &[("Amount", "3"), ("PrivateIpAddress", "10.1.0.100")],
    )
    .await;
    let mut ips = Vec::new();
    for id in &ids {
        ips.push(ip_of(&describe_one(&c, id).await));
    }
    assert_eq!(
        ips,
        ["10.1.0.100", "10.1.0.101", "10.1.0.102"],
        "consecutive"
    );

    // The instance id is the default name; UniqueSuffix numbers a plain name and host name.
    let plain = run(&c, &n.vsw, &n.sg, &[]).await;
    let i = describe_one(&c, &plain[0]).await;
    assert_eq!(i["InstanceName"], plain[0].as_str());
    assert!(
        i["HostName"].as_str().is_some_and(|h| h.starts_with("iZ")),
        "{i}"
    );
    let suffixed = run(
        &c,
        &n.vsw,
        &n.sg,
        &[
            ("Amount", "2"),
            ("InstanceName", "db"),
            ("HostName", "db"),
            ("UniqueSuffix", "true"),
        ],
    )
    .await;
    for (k, id) in suffixed.iter().enumerate() {
        let i = describe_one(&c, id).await;
        assert_eq!(i["InstanceName"], format!("db{:03}", k + 1));
        assert_eq!(i["HostName"], format!("db{:03}", k + 1));
    }

    // A freed address is handed out again, lowest first.
    let first = describe_one(&c, &plain[0]).await;
    let freed = ip_of(&first);
    ok(
        &c,
        "DeleteInstance",
        &[("InstanceId", &plain[0]), ("Force", "true")],
    )
    .await;
    let again = run(&c, &n.vsw, &n.sg, &[]).await;
    assert_eq!(ip_of(&describe_one(&c, &again[0]).await), freed);

    // A /29 has four usable addresses: MinAmount takes what fits, without it nothing is made.
    let small = create_vswitch(&c, &n.vpc, "cn-hangzhou-b", "10.2.0.0/29").await;
    assert_eq!(
        outcome(
            &c,
            "RunInstances",
            &run_params(&small, &n.sg, &[("Amount", "5")])
        )
        .await,
        (400, "QuotaExceeded.PrivateIpAddress".into())
    );
    assert!(listed(&c, &[("VSwitchId", &small)]).await.is_empty());
    let some = run(&c, &small, &n.sg, &[("Amount", "5"), ("MinAmount", "3")]).await;
    assert_eq!(some.len(), 4);
    let ips: Vec<String> = listed(&c, &[("VSwitchId", &small)])
        .await
        .iter()
        .map(ip_of)
        .collect();
    assert_eq!(ips, ["10.2.0.1", "10.2.0.2", "10.2.0.3", "10.2.0.4"]);
}

#[tokio::test]
async fn client_tokens_replay_launches_and_deletes() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let token = [("Amount", "2"), ("ClientToken", "launch-1")];
    let first = run(&c, &n.vsw, &n.sg, &token).await;
    let again = run(&c, &n.vsw, &n.sg, &token).await;
    assert_eq!(first, again, "same token, same instances");
    assert_eq!(listed(&c, &[]).await.len(), 2, "nothing launched twice");
    assert_eq!(
        outcome(
            &c,
            "RunInstances",
            &run_params(&n.vsw, &n.sg, &[("ClientToken", "launch-1")])
        )
        .await,
        (400, "IdempotentParameterMismatch".into())
    );
    let dry = run_params(
        &n.vsw,
        &n.sg,
        &[("ClientToken", "launch-2"), ("DryRun", "true")],
    );
    assert_eq!(
        outcome(&c, "RunInstances", &dry).await,
        (400, "DryRunOperation".into())
    );
    assert_eq!(listed(&c, &[]).await.len(), 2, "a dry run makes nothing");

    let created = ok(
        &c,
        "CreateInstance",
        &[
            ("InstanceType", "ecs.c6.large"),
            ("VSwitchId", &n.vsw),
            ("SecurityGroupId", &n.sg),
            ("ClientToken", "create-1"),
        ],
    )
    .await;
    let id = created["InstanceId"]
        .as_str()
        .expect("InstanceId")
        .to_string();
    assert_eq!(describe_one(&c, &id).await["Status"], "Stopped");

    let delete = [
        ("InstanceId.1", first[0].as_str()),
        ("InstanceId.2", first[1].as_str()),
        ("Force", "true"),
        ("ClientToken", "delete-1"),
    ];
    ok(&c, "DeleteInstances", &delete).await;
    ok(&c, "DeleteInstances", &delete).await;
    assert_eq!(ids_of(&listed(&c, &[]).await), [id]);
}

#[tokio::test]
async fn a_primary_network_interface_places_the_instance() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let sg2 = crate::common::create_group(&c, &[("VpcId", &n.vpc)]).await;
    let body = ok(
        &c,
        "RunInstances",
        &[
            ("ImageId", "img"),
            ("InstanceType", "ecs.g5.large"),
            ("NetworkInterface.1.InstanceType", "Primary"),
            ("NetworkInterface.1.VSwitchId", &n.vsw),
            ("NetworkInterface.1.SecurityGroupIds.1", &sg2),
            ("NetworkInterface.1.SecurityGroupIds.2", &n.sg),
            ("NetworkInterface.1.PrimaryIpAddress", "10.1.0.77"),
        ],
    )
    .await;
    let id = body["InstanceIdSets"]["InstanceIdSet"][0]
        .as_str()
        .expect("id")
        .to_string();
    let i = describe_one(&c, &id).await;
    assert_eq!(groups_of(&i), [sg2, n.sg.clone()]);
    assert_eq!(ip_of(&i), "10.1.0.77");
    assert_eq!(i["VpcAttributes"]["VSwitchId"], n.vsw.as_str());
}

/// The instance fields in the order the service emits them (docs/ecs.md §7.5), as the
/// reference's example response lists them.
const INSTANCE_ORDER: &[&str] = &[
    "ResourceGroupId",
    "Memory",
    "InstanceChargeType",
    "Cpu",
    "OSName",
    "InstanceNetworkType",
    "InnerIpAddress",
    "ExpiredTime",
    "ImageId",
    "EipAddress",
    "ImageOptions",
    "VlanId",
    "HostName",
    "Tags",
    "Status",
    "HibernationOptions",
    "AdditionalInfo",
    "MetadataOptions",
    "InstanceId",
    "StoppedMode",
    "CpuOptions",
    "StartTime",
    "DeletionProtection",
    "SecurityGroupIds",
    "VpcAttributes",
    "InternetChargeType",
    "InstanceName",
    "DeploymentSetId",
    "InternetMaxBandwidthOut",
    "SerialNumber",
    "OSType",
    "CreationTime",
    "AutoReleaseTime",
    "Description",
    "InstanceTypeFamily",
    "DedicatedInstanceAttribute",
    "PublicIpAddress",
    "GPUSpec",
    "NetworkInterfaces",
    "SpotPriceLimit",
    "DeviceAvailable",
    "SaleCycle",
    "InstanceType",
    "OSNameEn",
    "SpotStrategy",
    "IoOptimized",
    "ZoneId",
    "ClusterId",
    "EcsCapacityReservationAttr",
    "DedicatedHostAttribute",
    "GPUAmount",
    "OperationLocks",
    "InternetMaxBandwidthIn",
    "Recyclable",
    "RegionId",
    "CreditSpecification",
];

/// The keys of the first JSON object that follows `"{marker}":` (for a list, its first
/// element), in the order the raw text has them.
fn json_keys_after(body: &str, marker: &str) -> Vec<String> {
    let start = body
        .find(&format!("\"{marker}\":"))
        .unwrap_or_else(|| panic!("{marker}: {body}"));
    let rest = &body[start..];
    let open = rest.find('{').expect("object");
    let (mut depth, mut keys, mut in_str, mut escaped) = (0usize, Vec::new(), false, false);
    let mut current = String::new();
    let bytes: Vec<char> = rest[open..].chars().collect();
    for (n, ch) in bytes.iter().enumerate() {
        if in_str {
            if escaped {
                escaped = false;
            } else if *ch == '\\' {
                escaped = true;
            } else if *ch == '"' {
                in_str = false;
                let next = bytes[n + 1..].iter().find(|c| !c.is_whitespace());
                if depth == 1 && next == Some(&':') {
                    keys.push(std::mem::take(&mut current));
                }
                current.clear();
            } else {
                current.push(*ch);
            }
            continue;
        }
        match ch {
            '"' => in_str = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    keys
}

/// The child element names of the first `<{element}>`, in document order.
fn xml_children(body: &str, element: &str) -> Vec<String> {
    let start = body
        .find(&format!("<{element}>"))
        .unwrap_or_else(|| panic!("{element}: {body}"));
    let mut depth = 0usize;
    let mut children = Vec::new();
    let mut rest = &body[start..];
    while let Some(lt) = rest.find('<') {
        let gt = rest[lt..].find('>').expect("tag end") + lt;
        let tag = &rest[lt + 1..gt];
        if let Some(_closing) = tag.strip_prefix('/') {
            depth -= 1;
            if depth == 0 {
                break;
            }
        } else if let Some(empty) = tag.strip_suffix('/') {
            if depth == 1 {
                children.push(empty.to_string());
            }
        } else {
            if depth == 1 {
                children.push(tag.to_string());
            }
            depth += 1;
        }
        rest = &rest[gt + 1..];
    }
    children
}

/// Whether `order` lists `keys`' members of `order` in order, and every member of `order`.
fn assert_in_order(keys: &[String], what: &str) {
    let known: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| INSTANCE_ORDER.contains(k))
        .collect();
    assert_eq!(known, INSTANCE_ORDER, "{what}: {keys:?}");
    let at = |k: &str| keys.iter().position(|x| x == k).expect(k);
    assert!(at("InnerIpAddress") < at("EipAddress") && at("EipAddress") < at("PublicIpAddress"));
}

#[tokio::test]
async fn instance_fields_come_in_the_service_order_in_json_and_xml() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let n = net(&c, "10.1.0.0/24").await;
    let ids = run(&c, &n.vsw, &n.sg, &[("Tag.1.Key", "k")]).await;
    for format in ["JSON", "XML"] {
        let r = c
            .signed(
                "POST",
                "DescribeInstances",
                vec![("RegionId".into(), "cn-hangzhou".into())],
                &[("Format", format)],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let keys = if format == "JSON" {
            json_keys_after(&r.body, "Instance")
        } else {
            xml_children(&r.body, "Instance")
        };
        assert_in_order(&keys, format);
        // The nested objects too: the address list first in VpcAttributes, the type first
        // in a network interface.
        let vpc = if format == "JSON" {
            json_keys_after(&r.body, "VpcAttributes")
        } else {
            xml_children(&r.body, "VpcAttributes")
        };
        assert_eq!(
            vpc,
            ["PrivateIpAddress", "VpcId", "VSwitchId", "NatIpAddress"]
        );
        let eni = if format == "JSON" {
            json_keys_after(&r.body, "NetworkInterface")
        } else {
            xml_children(&r.body, "NetworkInterface")
        };
        assert_eq!(
            &eni[..4],
            [
                "Type",
                "PrimaryIpAddress",
                "NetworkInterfaceId",
                "MacAddress"
            ]
        );

        // DescribeInstanceAttribute: the same relative order.
        let r = c
            .signed(
                "POST",
                "DescribeInstanceAttribute",
                vec![("InstanceId".into(), ids[0].clone())],
                &[("Format", format)],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let keys = if format == "JSON" {
            let body = format!("{{\"Attr\":{}}}", r.body);
            json_keys_after(&body, "Attr")
        } else {
            xml_children(&r.body, "DescribeInstanceAttributeResponse")
        };
        let known: Vec<&str> = INSTANCE_ORDER
            .iter()
            .copied()
            .filter(|k| keys.iter().any(|x| x == k))
            .collect();
        let seen: Vec<&str> = keys
            .iter()
            .map(String::as_str)
            .filter(|k| INSTANCE_ORDER.contains(k))
            .collect();
        assert_eq!(seen, known, "{format}: {keys:?}");
        let at = |k: &str| keys.iter().position(|x| x == k).expect(k);
        assert!(
            at("InnerIpAddress") < at("EipAddress") && at("EipAddress") < at("PublicIpAddress")
        );
    }
}
