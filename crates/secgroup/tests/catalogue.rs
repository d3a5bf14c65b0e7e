//! The catalogue end to end (docs/ecs.md §9): zones, instance type families and types,
//! images, instance statuses; an operator's catalogue merged over the built-in one;
//! `--strict-catalogue` launches; the table of refusals.

mod common;

use std::sync::Arc;

use common::{create_group, create_vpc, TestClient, TestServer};
use secgroup::Settings;
use secgroup_domain::catalogue::Catalogue;
use serde_json::Value;

const ALINUX: &str = "aliyun_3_x64_20G_alibase_20240819.vhd";

async fn ok(c: &TestClient, action: &str, params: &[(&str, &str)]) -> Value {
    let r = c.call(action, params).await;
    assert_eq!(r.status, 200, "{action} {params:?}: {}", r.body);
    r.json()
}

fn list<'a>(v: &'a Value, outer: &str, inner: &str) -> &'a Vec<Value> {
    v[outer][inner]
        .as_array()
        .unwrap_or_else(|| panic!("{outer}.{inner}: {v}"))
}

fn ids(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[key].as_str().expect(key).to_string())
        .collect()
}

/// A vSwitch in `cn-hangzhou-b` and a group, for launches.
async fn net(c: &TestClient) -> (String, String) {
    let vpc = create_vpc(c, &[("CidrBlock", "10.0.0.0/8")]).await;
    let r = c
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", &vpc),
                ("ZoneId", "cn-hangzhou-b"),
                ("CidrBlock", "10.1.0.0/24"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let vsw = r.json()["VSwitchId"].as_str().expect("vsw").to_string();
    let sg = create_group(c, &[("VpcId", &vpc)]).await;
    (vsw, sg)
}

#[tokio::test]
async fn zones_families_types_and_images_come_from_the_builtin_catalogue() {
    let server = TestServer::start().await;
    let c = server.new_account().await;

    let zones = ok(&c, "DescribeZones", &[("AcceptLanguage", "en-US")]).await;
    let zones = list(&zones, "Zones", "Zone");
    let zone_ids = ids(zones, "ZoneId");
    assert!(
        zone_ids.contains(&"cn-hangzhou-b".to_string()),
        "{zone_ids:?}"
    );
    assert!(zone_ids.iter().all(|z| z.starts_with("cn-hangzhou-")));
    assert_eq!(zones[0]["LocalName"], "Hangzhou Zone B");
    assert_eq!(zones[0]["ZoneType"], "AvailabilityZone");
    let types = &zones[0]["AvailableInstanceTypes"]["InstanceTypes"];
    assert!(types
        .as_array()
        .expect("types")
        .contains(&Value::from("ecs.g7.large")));
    assert!(
        zones[0]["AvailableResources"]["ResourcesInfo"][0]["NetworkTypes"]
            ["supportedNetworkCategory"]
            .as_array()
            .is_some_and(|n| n == &[Value::from("vpc")])
    );
    let terse = ok(&c, "DescribeZones", &[("Verbose", "false")]).await;
    let first = &list(&terse, "Zones", "Zone")[0];
    assert_eq!(first["LocalName"], "杭州 可用区 B");
    assert!(first.get("AvailableInstanceTypes").is_none(), "{first}");
    let beijing = ok(&c, "DescribeZones", &[("RegionId", "cn-beijing")]).await;
    assert!(ids(list(&beijing, "Zones", "Zone"), "ZoneId")
        .iter()
        .all(|z| z.starts_with("cn-beijing-")));

    let families = ok(&c, "DescribeInstanceTypeFamilies", &[]).await;
    let families = list(&families, "InstanceTypeFamilies", "InstanceTypeFamily");
    assert!(ids(families, "InstanceTypeFamilyId").contains(&"ecs.g7".to_string()));
    let gen5 = ok(
        &c,
        "DescribeInstanceTypeFamilies",
        &[("Generation", "ecs-5")],
    )
    .await;
    let gen5 = list(&gen5, "InstanceTypeFamilies", "InstanceTypeFamily");
    assert!(!gen5.is_empty() && gen5.iter().all(|f| f["Generation"] == "ecs-5"));

    let g7 = ok(
        &c,
        "DescribeInstanceTypes",
        &[
            ("InstanceTypes.1", "ecs.g7.large"),
            ("InstanceTypes.2", "ecs.c7.xlarge"),
        ],
    )
    .await;
    let g7 = list(&g7, "InstanceTypes", "InstanceType");
    // In catalogue order.
    assert_eq!(ids(g7, "InstanceTypeId"), ["ecs.g7.large", "ecs.c7.xlarge"]);
    let large = &g7[0];
    assert_eq!(large["CpuCoreCount"], 2);
    assert_eq!(large["MemorySize"].as_f64(), Some(8.0));
    assert_eq!(large["InstanceTypeFamily"], "ecs.g7");
    assert_eq!(large["EniQuantity"], 3);
    assert_eq!(large["EniPrivateIpAddressQuantity"], 6);
    let filtered = ok(
        &c,
        "DescribeInstanceTypes",
        &[
            ("InstanceTypeFamily", "ecs.r7"),
            ("MinimumCpuCoreCount", "8"),
            ("MaximumMemorySize", "64"),
        ],
    )
    .await;
    assert_eq!(
        ids(
            list(&filtered, "InstanceTypes", "InstanceType"),
            "InstanceTypeId"
        ),
        ["ecs.r7.2xlarge"]
    );
    // Token paging walks every type once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut params = vec![("MaxResults", "40")];
        if !token.is_empty() {
            params.push(("NextToken", &token));
        }
        let page = ok(&c, "DescribeInstanceTypes", &params).await;
        seen.extend(ids(
            list(&page, "InstanceTypes", "InstanceType"),
            "InstanceTypeId",
        ));
        token = page["NextToken"].as_str().unwrap_or("").to_string();
        if token.is_empty() {
            break;
        }
    }
    let all = Catalogue::builtin();
    assert_eq!(seen.len(), all.instance_types().len());

    let images = ok(&c, "DescribeImages", &[("PageSize", "100")]).await;
    assert_eq!(images["TotalCount"], all.images().len());
    let listed = ids(list(&images, "Images", "Image"), "ImageId");
    assert!(listed.contains(&ALINUX.to_string()));
    let windows = ok(&c, "DescribeImages", &[("OSType", "windows")]).await;
    let windows = list(&windows, "Images", "Image");
    assert!(!windows.is_empty() && windows.iter().all(|i| i["OSType"] == "windows"));
    let one = ok(
        &c,
        "DescribeImages",
        &[("ImageId", &format!("{ALINUX},nope"))],
    )
    .await;
    let one = list(&one, "Images", "Image");
    assert_eq!(ids(one, "ImageId"), [ALINUX]);
    assert_eq!(one[0]["OSType"], "linux");
    assert_eq!(one[0]["ImageOwnerAlias"], "system");
    let named = ok(&c, "DescribeImages", &[("ImageName", "ubuntu_*")]).await;
    assert!(ids(list(&named, "Images", "Image"), "ImageName")
        .iter()
        .all(|n| n.starts_with("ubuntu_")));
    let own = ok(&c, "DescribeImages", &[("ImageOwnerAlias", "self")]).await;
    assert_eq!(own["TotalCount"], 0);

    // An instance of a catalogue type shows the catalogue's shape and OS.
    let (vsw, sg) = net(&c).await;
    let run = ok(
        &c,
        "RunInstances",
        &[
            (
                "ImageId",
                "win2022_21H2_x64_dtc_en-us_40G_alibase_20241211.vhd",
            ),
            ("InstanceType", "ecs.t6-c4m1.large"),
            ("VSwitchId", &vsw),
            ("SecurityGroupId", &sg),
        ],
    )
    .await;
    let id = run["InstanceIdSets"]["InstanceIdSet"][0]
        .as_str()
        .expect("id")
        .to_string();
    let d = ok(&c, "DescribeInstances", &[]).await;
    let i = &list(&d, "Instances", "Instance")[0];
    assert_eq!(
        (i["Cpu"].as_i64(), i["Memory"].as_i64()),
        (Some(2), Some(512))
    );
    assert_eq!(i["InstanceTypeFamily"], "ecs.t6");
    assert_eq!(i["OSType"], "windows");
    assert!(i["OSNameEn"].as_str().is_some_and(|n| n.contains("2022")));

    let status = ok(&c, "DescribeInstanceStatus", &[]).await;
    assert_eq!(status["TotalCount"], 1);
    let statuses = list(&status, "InstanceStatuses", "InstanceStatus");
    assert_eq!(statuses[0]["InstanceId"], id.as_str());
    assert_eq!(statuses[0]["Status"], "Running");
    let other_zone = ok(&c, "DescribeInstanceStatus", &[("ZoneId", "cn-hangzhou-k")]).await;
    assert_eq!(other_zone["TotalCount"], 0);
    let by_id = ok(&c, "DescribeInstanceStatus", &[("InstanceId.1", "i-nope")]).await;
    assert_eq!(by_id["TotalCount"], 0);
    // XML keeps the singular element names.
    let r = c
        .signed(
            "POST",
            "DescribeInstanceTypes",
            vec![("InstanceTypes.1".into(), "ecs.t6-c4m1.large".into())],
            &[("Format", "XML")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body.contains(
            "<InstanceTypes><InstanceType><InstanceTypeId>ecs.t6-c4m1.large</InstanceTypeId>"
        ),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("<MemorySize>0.5</MemorySize>"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn an_operator_catalogue_extends_the_builtin_one_and_strict_launches_use_it() {
    let file = Catalogue::parse(
        r#"{"zones": {"cn-hangzhou": ["cn-hangzhou-b", "cn-hangzhou-z"]},
            "instance_type_families": [{"id": "ecs.lab1", "generation": "ecs-9",
                                        "category": "General-purpose"}],
            "instance_types": [{"id": "ecs.lab1.large", "family": "ecs.lab1", "cpu": 2,
                                "memory_gib": 3, "eni_quantity": 2, "eni_private_ips": 4}],
            "images": [{"id": "m-lab", "name": "lab", "os_name": "Lab", "os_name_en": "Lab",
                        "platform": "Ubuntu", "os_type": "linux", "architecture": "x86_64",
                        "size_gib": 20, "creation_time": "2025-01-01T00:00:00Z"}]}"#,
    )
    .expect("parses");
    let mut settings = Settings::default();
    settings.products.catalogue = Arc::new(Catalogue::builtin().merged(file).expect("valid"));
    settings.products.strict_catalogue = true;
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;

    let zones = ok(&c, "DescribeZones", &[]).await;
    assert_eq!(
        ids(list(&zones, "Zones", "Zone"), "ZoneId"),
        ["cn-hangzhou-b", "cn-hangzhou-z"]
    );
    let lab = ok(
        &c,
        "DescribeInstanceTypes",
        &[("InstanceTypeFamily", "ecs.lab1")],
    )
    .await;
    assert_eq!(
        ids(
            list(&lab, "InstanceTypes", "InstanceType"),
            "InstanceTypeId"
        ),
        ["ecs.lab1.large"]
    );
    let image = ok(&c, "DescribeImages", &[("ImageId", "m-lab")]).await;
    assert_eq!(image["TotalCount"], 1);

    let (vsw, sg) = net(&c).await;
    let launch = |image: &'static str, itype: &'static str| {
        let (c, vsw, sg) = (c.clone(), vsw.clone(), sg.clone());
        async move {
            let r = c
                .call(
                    "RunInstances",
                    &[
                        ("ImageId", image),
                        ("InstanceType", itype),
                        ("VSwitchId", &vsw),
                        ("SecurityGroupId", &sg),
                    ],
                )
                .await;
            (r.status, r.code(), r.json()["Message"].clone())
        }
    };
    assert_eq!(launch("m-lab", "ecs.lab1.large").await.0, 200);
    assert_eq!(launch(ALINUX, "ecs.g7.large").await.0, 200);
    assert_eq!(
        launch("img", "ecs.g7.large").await,
        (
            404,
            "InvalidImageId.NotFound".into(),
            "The specified ImageId does not exist.".into()
        )
    );
    assert_eq!(
        launch(ALINUX, "ecs.nope.large").await,
        (
            403,
            "InvalidInstanceType.ValueNotSupported".into(),
            "The specified InstanceType does not exist or beyond the permitted range.".into()
        )
    );
    // CreateInstance too; nothing was made by the refusals.
    let r = c
        .call(
            "CreateInstance",
            &[
                ("InstanceType", "ecs.nope"),
                ("VSwitchId", &vsw),
                ("SecurityGroupId", &sg),
            ],
        )
        .await;
    assert_eq!(r.code(), "InvalidInstanceType.ValueNotSupported");
    let all = ok(&c, "DescribeInstances", &[]).await;
    assert_eq!(all["TotalCount"], 2);
}

#[tokio::test]
async fn without_strict_catalogue_unknown_images_and_types_stay_accepted() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let (vsw, sg) = net(&c).await;
    ok(
        &c,
        "RunInstances",
        &[
            ("ImageId", "img"),
            ("InstanceType", "ecs.zz9.large"),
            ("VSwitchId", &vsw),
            ("SecurityGroupId", &sg),
        ],
    )
    .await;
}

/// Action, parameters, status, code, and what the message names.
type Row<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16, &'a str, &'a str);

#[rustfmt::skip]
#[tokio::test]
async fn every_catalogue_error_row() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let eleven: Vec<(String, String)> = (1..=11)
        .map(|n| (format!("InstanceTypes.{n}"), format!("ecs.g7.t{n}")))
        .collect();
    let eleven: Vec<(&str, &str)> = eleven.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let many_images = vec!["m-x"; 101].join(",");
    let rows: Vec<Row> = vec![
        ("DescribeZones", vec![("RegionId", "")], 400, "MissingRegionId", "RegionId"),
        ("DescribeZones", vec![("RegionId", "xx-nowhere-1")], 404, "InvalidRegionId.NotFound", ""),
        ("DescribeZones", vec![("AcceptLanguage", "xx")], 400, "InvalidParameter", "AcceptLanguage"),
        ("DescribeZones", vec![("Verbose", "maybe")], 400, "InvalidParameter", "Verbose"),
        ("DescribeZones", vec![("InstanceChargeType", "Free")], 400, "InvalidParameter", "InstanceChargeType"),
        ("DescribeZones", vec![("SpotStrategy", "Cheap")], 400, "InvalidParameter", "SpotStrategy"),
        ("DescribeInstanceTypeFamilies", vec![("RegionId", "")], 400, "MissingRegionId", "RegionId"),
        ("DescribeInstanceTypes", eleven, 400, "InvalidParameter", "InstanceTypes"),
        ("DescribeInstanceTypes", vec![("MaxResults", "0")], 400, "InvalidParameter", "MaxResults"),
        ("DescribeInstanceTypes", vec![("MaxResults", "1601")], 400, "InvalidParameter", "MaxResults"),
        ("DescribeInstanceTypes", vec![("NextToken", "bad")], 400, "InvalidParameter", "NextToken"),
        ("DescribeInstanceTypes", vec![("MinimumMemorySize", "-1")], 400, "InvalidParameter", "MinimumMemorySize"),
        ("DescribeInstanceTypes", vec![("MinimumCpuCoreCount", "two")], 400, "InvalidParameter", "MinimumCpuCoreCount"),
        ("DescribeImages", vec![("RegionId", "")], 400, "MissingRegionId", "RegionId"),
        ("DescribeImages", vec![("ImageId", &many_images)], 400, "InvalidParameter", "ImageId"),
        ("DescribeImages", vec![("OSType", "beos")], 400, "InvalidParameter", "OSType"),
        ("DescribeImages", vec![("Architecture", "sparc")], 400, "InvalidParameter", "Architecture"),
        ("DescribeImages", vec![("ImageOwnerAlias", "me")], 400, "InvalidParameter", "ImageOwnerAlias"),
        ("DescribeImages", vec![("Status", "Gone")], 400, "InvalidParameter", "Status"),
        ("DescribeImages", vec![("PageSize", "101")], 400, "InvalidParameter", "PageSize"),
        ("DescribeImages", vec![("DryRun", "true")], 400, "DryRunOperation", ""),
        ("DescribeInstanceStatus", vec![("RegionId", "")], 400, "MissingRegionId", "RegionId"),
        ("DescribeInstanceStatus", vec![("PageSize", "51")], 400, "InvalidParameter", "PageSize"),
        ("DescribeInstanceStatus", vec![("PageNumber", "0")], 400, "InvalidParameter", "PageNumber"),
    ];
    for (action, params, status, code, names) in rows {
        let r = c.call(action, &params).await;
        assert_eq!((r.status, r.code().as_str()), (status, code), "{action} {params:?}: {}", r.body);
        let message = r.json()["Message"].as_str().unwrap_or("").to_string();
        assert!(message.contains(names), "{action} {params:?}: {message}");
    }
}

const PUBLIC_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f me@host";
const FINGERPRINT: &str = "0f:a2:0a:d7:38:3e:65:45:08:6b:63:84:1c:ff:dc:ba";
const USER_DATA: &str = "IyEvYmluL3NoCmVjaG8gaGkK";

#[tokio::test]
async fn key_pairs_disks_and_user_data_follow_their_instances() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let other = server.new_account().await;

    let imported = ok(
        &c,
        "ImportKeyPair",
        &[("KeyPairName", "deploy"), ("PublicKeyBody", PUBLIC_KEY)],
    )
    .await;
    assert_eq!(imported["KeyPairName"], "deploy");
    assert_eq!(imported["KeyPairFingerPrint"], FINGERPRINT);
    ok(
        &c,
        "ImportKeyPair",
        &[("KeyPairName", "spare"), ("PublicKeyBody", PUBLIC_KEY)],
    )
    .await;
    let listed = ok(&c, "DescribeKeyPairs", &[("IncludePublicKey", "true")]).await;
    assert_eq!(listed["TotalCount"], 2);
    let pairs = list(&listed, "KeyPairs", "KeyPair");
    assert_eq!(ids(pairs, "KeyPairName"), ["deploy", "spare"]);
    assert_eq!(pairs[0]["PublicKey"], PUBLIC_KEY);
    let by_name = ok(&c, "DescribeKeyPairs", &[("KeyPairName", "dep*")]).await;
    assert_eq!(by_name["TotalCount"], 1);
    assert!(list(&by_name, "KeyPairs", "KeyPair")[0]
        .get("PublicKey")
        .is_none());
    assert_eq!(ok(&other, "DescribeKeyPairs", &[]).await["TotalCount"], 0);

    let (vsw, sg) = net(&c).await;
    let launch = [
        ("ImageId", ALINUX),
        ("InstanceType", "ecs.g7.large"),
        ("VSwitchId", vsw.as_str()),
        ("SecurityGroupId", sg.as_str()),
        ("KeyPairName", "deploy"),
        ("UserData", USER_DATA),
        ("SystemDisk.Size", "60"),
        ("DataDisk.1.Size", "100"),
        ("DataDisk.1.Category", "cloud_essd"),
        ("DataDisk.1.DiskName", "logs"),
        ("DataDisk.2.Size", "200"),
        ("DataDisk.2.DeleteWithInstance", "False"),
    ];
    let run = ok(&c, "RunInstances", &launch).await;
    let id = run["InstanceIdSets"]["InstanceIdSet"][0]
        .as_str()
        .expect("id")
        .to_string();
    let i = &list(
        &ok(&c, "DescribeInstances", &[]).await,
        "Instances",
        "Instance",
    )[0]
    .clone();
    assert_eq!(i["KeyPairName"], "deploy");

    let data = ok(&c, "DescribeUserData", &[("InstanceId", &id)]).await;
    assert_eq!(data["UserData"], USER_DATA);
    assert_eq!(data["InstanceId"], id.as_str());
    assert_eq!(data["RegionId"], "cn-hangzhou");
    let r = other.call("DescribeUserData", &[("InstanceId", &id)]).await;
    assert_eq!(r.code(), "InvalidInstanceId.NotFound");

    let disks = ok(&c, "DescribeDisks", &[("InstanceId", &id)]).await;
    assert_eq!(disks["TotalCount"], 3);
    let d = list(&disks, "Disks", "Disk");
    let kinds: Vec<(&str, i64, &str)> = d
        .iter()
        .map(|d| {
            (
                d["Type"].as_str().unwrap_or(""),
                d["Size"].as_i64().unwrap_or(0),
                d["Device"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("system", 60, "/dev/xvda"),
            ("data", 100, "/dev/xvdb"),
            ("data", 200, "/dev/xvdc")
        ]
    );
    assert!(d
        .iter()
        .all(|d| d["Status"] == "In_use" && d["ZoneId"] == "cn-hangzhou-b"));
    assert_eq!(d[1]["DiskName"], "logs");
    assert_eq!(d[1]["Category"], "cloud_essd");
    assert_eq!(d[2]["DeleteWithInstance"], false);
    let system = ok(&c, "DescribeDisks", &[("DiskType", "system")]).await;
    assert_eq!(system["TotalCount"], 1);
    let by_id = ok(
        &c,
        "DescribeDisks",
        &[(
            "DiskIds",
            &format!("[\"{}\"]", d[1]["DiskId"].as_str().unwrap_or("")),
        )],
    )
    .await;
    assert_eq!(by_id["TotalCount"], 1);
    assert_eq!(ok(&other, "DescribeDisks", &[]).await["TotalCount"], 0);

    // Deleting the instance releases its disks: the kept data disk stays, detached.
    ok(
        &c,
        "DeleteInstance",
        &[("InstanceId", &id), ("Force", "true")],
    )
    .await;
    let left = ok(&c, "DescribeDisks", &[]).await;
    let left = list(&left, "Disks", "Disk");
    assert_eq!(left.len(), 1);
    assert_eq!(
        (left[0]["Size"].as_i64(), left[0]["Status"].as_str()),
        (Some(200), Some("Available"))
    );
    assert_eq!(left[0]["InstanceId"], "");

    ok(
        &c,
        "DeleteKeyPairs",
        &[("KeyPairNames", "[\"deploy\",\"spare\"]")],
    )
    .await;
    assert_eq!(ok(&c, "DescribeKeyPairs", &[]).await["TotalCount"], 0);
    // A launch naming a key pair that is gone is refused, nothing made.
    let r = c.call("RunInstances", &launch).await;
    assert_eq!(
        (r.status, r.code()),
        (404, "InvalidKeyPairName.NotFound".to_string()),
        "{}",
        r.body
    );
    assert_eq!(ok(&c, "DescribeInstances", &[]).await["TotalCount"], 0);
}

#[rustfmt::skip]
#[tokio::test]
async fn every_key_pair_disk_and_user_data_error_row() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let (vsw, sg) = net(&c).await;
    ok(&c, "ImportKeyPair", &[("KeyPairName", "taken"), ("PublicKeyBody", PUBLIC_KEY)]).await;
    let big = "A".repeat(44_000);
    let seventeen: Vec<(String, String)> = (1..=17).map(|n| (format!("DataDisk.{n}.Size"), "20".to_string())).collect();
    let mut too_many: Vec<(&str, &str)> = seventeen.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let base = [("ImageId", ALINUX), ("InstanceType", "ecs.g7.large"), ("VSwitchId", vsw.as_str()), ("SecurityGroupId", sg.as_str())];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut p: Vec<(&str, &str)> = base.to_vec();
        p.extend_from_slice(extra);
        p
    };
    too_many.extend_from_slice(&base);
    let big_user_data = { let mut p = base.to_vec(); p.push(("UserData", big.as_str())); p };
    let rows: Vec<Row> = vec![
        ("ImportKeyPair", vec![("PublicKeyBody", PUBLIC_KEY)], 400, "MissingKeyPairName", "KeyPairName"),
        ("ImportKeyPair", vec![("KeyPairName", "k1")], 400, "MissingPublicKeyBody", "PublicKeyBody"),
        ("ImportKeyPair", vec![("KeyPairName", "k1"), ("PublicKeyBody", "ssh-rsa nope")], 400, "InvalidPublicKeyBody.Malformed", "PublicKeyBody"),
        ("ImportKeyPair", vec![("KeyPairName", "1bad"), ("PublicKeyBody", PUBLIC_KEY)], 400, "InvalidKeyPairName.Malformed", "Key Pair name"),
        ("ImportKeyPair", vec![("KeyPairName", "taken"), ("PublicKeyBody", PUBLIC_KEY)], 400, "KeyPair.AlreadyExist", "already exist"),
        ("DescribeKeyPairs", vec![("PageSize", "51")], 400, "InvalidParameter", "PageSize"),
        ("DescribeKeyPairs", vec![("RegionId", "")], 400, "MissingRegionId", "RegionId"),
        ("DeleteKeyPairs", vec![], 400, "MissingKeyPairNames", "KeyPairNames"),
        ("DeleteKeyPairs", vec![("KeyPairNames", "taken")], 400, "InvalidParameter", "KeyPairNames"),
        ("DeleteKeyPairs", vec![("KeyPairNames", "[]")], 400, "InvalidParameter", "KeyPairNames"),
        ("DeleteKeyPairs", vec![("KeyPairNames", "[\"taken\",\"nope\"]")], 404, "InvalidKeyPairName.NotFound", "KeyPairName"),
        ("DescribeUserData", vec![], 400, "MissingInstanceId", "InstanceId"),
        ("DescribeUserData", vec![("InstanceId", "i-nope")], 404, "InvalidInstanceId.NotFound", "InstanceId"),
        ("DescribeDisks", vec![("DiskIds", "d-1")], 400, "InvalidDiskIds.Malformed", "disk Ids"),
        ("DescribeDisks", vec![("DiskType", "swap")], 400, "InvalidParameter", "DiskType"),
        ("DescribeDisks", vec![("Category", "floppy")], 400, "InvalidParameter", "Category"),
        ("DescribeDisks", vec![("Status", "Broken")], 400, "InvalidParameter", "Status"),
        ("DescribeDisks", vec![("PageSize", "101")], 400, "InvalidParameter", "PageSize"),
        ("DescribeDisks", vec![("MaxResults", "501")], 400, "InvalidParameter", "MaxResults"),
        ("DescribeDisks", vec![("DryRun", "true")], 400, "DryRunOperation", ""),
        ("RunInstances", with(&[("UserData", "not base64!")]), 400, "InvalidUserData.Base64FormatInvalid", "Base64"),
        ("RunInstances", big_user_data, 400, "InvalidUserData.SizeExceeded", "UserData"),
        ("RunInstances", with(&[("DataDisk.1.Size", "10")]), 400, "InvalidDataDiskSize.ValueNotSupported", "DataDisk.n.Size"),
        ("RunInstances", with(&[("DataDisk.1.Category", "cloud_essd")]), 400, "InvalidDataDiskSize.ValueNotSupported", "DataDisk.n.Size"),
        ("RunInstances", with(&[("DataDisk.1.Size", "20"), ("DataDisk.1.Category", "floppy")]), 400, "InvalidDataDiskCategory.ValueNotSupported", "DataDisk.n.Category"),
        ("RunInstances", with(&[("DataDisk.1.Size", "20"), ("DataDisk.1.DeleteWithInstance", "maybe")]), 400, "InvalidParameter", "DeleteWithInstance"),
        ("RunInstances", too_many, 400, "InvalidParameter", "DataDisk"),
        ("RunInstances", with(&[("SystemDisk.Size", "10")]), 400, "InvalidSystemDiskSize.ValueNotSupported", "SystemDisk.Size"),
        ("RunInstances", with(&[("SystemDisk.Category", "floppy")]), 400, "InvalidSystemDiskCategory.ValueNotSupported", "SystemDisk.Category"),
        ("RunInstances", with(&[("KeyPairName", "nope")]), 404, "InvalidKeyPairName.NotFound", "KeyPairName"),
    ];
    for (action, params, status, code, names) in rows {
        let r = c.call(action, &params).await;
        assert_eq!((r.status, r.code().as_str()), (status, code), "{action} {params:?}: {}", r.body);
        let message = r.json()["Message"].as_str().unwrap_or("").to_string();
        assert!(message.contains(names), "{action}: {message}");
    }
    // Nothing was made or removed by the refusals.
    assert_eq!(ok(&c, "DescribeInstances", &[]).await["TotalCount"], 0);
    assert_eq!(ok(&c, "DescribeDisks", &[]).await["TotalCount"], 0);
    assert_eq!(ok(&c, "DescribeKeyPairs", &[]).await["TotalCount"], 1);
}
