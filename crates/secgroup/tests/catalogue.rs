//! The catalogue end to end (docs/ecs.md §9): zones, instance type families and types,
//! images, instance statuses, available resources; an operator's catalogue merged over the
//! built-in one; `--strict-catalogue` launches; key pairs made by the server; the tables of
//! refusals.

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

/// The OpenSSH `ssh-rsa` line of the public half of a PKCS#1 PEM private key.
fn public_line_of(pem: &str) -> String {
    use base64::Engine;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem).expect("a PKCS#1 RSA private key");
    assert_eq!(key.size(), 256, "2048 bits");
    let mut blob = Vec::new();
    let mut put = |bytes: &[u8]| {
        blob.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        blob.extend_from_slice(bytes);
    };
    put(b"ssh-rsa");
    for n in [key.e().to_bytes_be(), key.n().to_bytes_be()] {
        // mpint: a leading zero keeps a number with its top bit set positive.
        if n[0] & 0x80 != 0 {
            put(&[&[0u8][..], &n].concat());
        } else {
            put(&n);
        }
    }
    format!(
        "ssh-rsa {}",
        base64::engine::general_purpose::STANDARD.encode(blob)
    )
}

#[tokio::test]
async fn created_key_pairs_return_their_private_half_once_and_keep_the_public_one() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let other = server.new_account().await;

    let started = std::time::Instant::now();
    let r = c
        .call(
            "CreateKeyPair",
            &[
                ("KeyPairName", "made"),
                ("ResourceGroupId", "rg-1"),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", "test"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let made = r.json();
    // The real service's fields, in its order (docs/ecs.md §9.8).
    let keys: Vec<&str> = made
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "RequestId",
            "PrivateKeyBody",
            "KeyPairName",
            "KeyPairId",
            "KeyPairFingerPrint"
        ]
    );
    let pem = made["PrivateKeyBody"].as_str().expect("pem").to_string();
    assert!(
        pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
        "{pem}"
    );
    assert!(pem.trim_end().ends_with("-----END RSA PRIVATE KEY-----"));
    assert_eq!(made["KeyPairName"], "made");
    let id = made["KeyPairId"].as_str().expect("id");
    assert!(id.starts_with("ssh-") && id.len() == 24, "{id}");
    // Generation stays quick in a debug build (rsa is optimised in dev, Cargo.toml).
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    let listed = ok(&c, "DescribeKeyPairs", &[("IncludePublicKey", "true")]).await;
    let [k] = &list(&listed, "KeyPairs", "KeyPair")[..] else {
        panic!("one pair: {listed}")
    };
    assert_eq!(k["KeyPairName"], "made");
    assert_eq!(k["ResourceGroupId"], "rg-1");
    assert_eq!(k["KeyPairFingerPrint"], made["KeyPairFingerPrint"]);
    let public = k["PublicKey"].as_str().expect("public key");
    // The stored public half is the returned private key's, fingerprinted as ImportKeyPair.
    assert_eq!(public, public_line_of(&pem));
    assert_eq!(
        secgroup_domain::ops::compute::fingerprint(public).as_deref(),
        made["KeyPairFingerPrint"].as_str()
    );
    // The fingerprint names it, and another account does not see it.
    let fp = made["KeyPairFingerPrint"].as_str().expect("fp");
    let by_fp = ok(&c, "DescribeKeyPairs", &[("KeyPairFingerPrint", fp)]).await;
    assert_eq!(by_fp["TotalCount"], 1);
    assert_eq!(ok(&other, "DescribeKeyPairs", &[]).await["TotalCount"], 0);

    // Each call makes another key.
    let second = ok(&c, "CreateKeyPair", &[("KeyPairName", "second")]).await;
    assert_ne!(second["KeyPairFingerPrint"], made["KeyPairFingerPrint"]);
    assert_ne!(second["PrivateKeyBody"], made["PrivateKeyBody"]);
    assert_ne!(second["KeyPairId"], made["KeyPairId"]);
    // The same name in another region is another pair.
    ok(
        &c,
        "CreateKeyPair",
        &[("KeyPairName", "made"), ("RegionId", "cn-beijing")],
    )
    .await;

    // A launch takes it.
    let (vsw, sg) = net(&c).await;
    ok(
        &c,
        "RunInstances",
        &[
            ("ImageId", ALINUX),
            ("InstanceType", "ecs.g7.large"),
            ("VSwitchId", &vsw),
            ("SecurityGroupId", &sg),
            ("KeyPairName", "made"),
        ],
    )
    .await;

    // The private half is nowhere in what the server keeps: not in the audit trail.
    let body = pem.lines().nth(1).expect("a base64 line").to_string();
    let events = c
        .call_version("2020-07-06", "LookupEvents", &[("MaxResults", "50")])
        .await;
    assert_eq!(events.status, 200, "{}", events.body);
    assert!(events.body.contains("CreateKeyPair"), "{}", events.body);
    assert!(!events.body.contains(&body) && !events.body.contains("PRIVATE KEY"));

    // XML carries the same PEM, lines and all.
    let r = c
        .signed(
            "POST",
            "CreateKeyPair",
            vec![
                ("KeyPairName".into(), "xml".into()),
                ("RegionId".into(), "cn-hangzhou".into()),
            ],
            &[("Format", "XML")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let start = r.body.find("<PrivateKeyBody>").expect("PrivateKeyBody");
    let order = [
        "<RequestId>",
        "<PrivateKeyBody>-----BEGIN RSA PRIVATE KEY-----\n",
        "<KeyPairName>xml</KeyPairName>",
        "<KeyPairId>ssh-",
        "<KeyPairFingerPrint>",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|s| r.body.find(s).unwrap_or_else(|| panic!("{s}: {}", r.body)))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{}", r.body);
    assert!(start > 0);
}

#[rustfmt::skip]
#[tokio::test]
async fn every_create_key_pair_error_row() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    ok(&c, "ImportKeyPair", &[("KeyPairName", "taken"), ("PublicKeyBody", PUBLIC_KEY)]).await;
    let long = format!("k{}", "x".repeat(128));
    let rows: Vec<Row> = vec![
        ("CreateKeyPair", vec![], 400, "MissingKeyPairName", "KeyPairName"),
        ("CreateKeyPair", vec![("KeyPairName", "k1"), ("RegionId", "")], 400, "MissingRegionId", "RegionId"),
        ("CreateKeyPair", vec![("KeyPairName", "k1"), ("RegionId", "xx-nowhere-1")], 404, "InvalidRegionId.NotFound", ""),
        ("CreateKeyPair", vec![("KeyPairName", "1bad")], 400, "InvalidKeyPairName.Malformed", "Key Pair name"),
        ("CreateKeyPair", vec![("KeyPairName", "a")], 400, "InvalidKeyPairName.Malformed", "Key Pair name"),
        ("CreateKeyPair", vec![("KeyPairName", &long)], 400, "InvalidKeyPairName.Malformed", "Key Pair name"),
        ("CreateKeyPair", vec![("KeyPairName", "https://x")], 400, "InvalidKeyPairName.Malformed", "Key Pair name"),
        ("CreateKeyPair", vec![("KeyPairName", "with space")], 400, "InvalidKeyPairName.Malformed", "Key Pair name"),
        ("CreateKeyPair", vec![("KeyPairName", "taken")], 400, "KeyPair.AlreadyExist", "already exist"),
        ("CreateKeyPair", vec![("KeyPairName", "k1"), ("Tag.1.Value", "v")], 400, "InvalidTagKey.Malformed", "Tag"),
    ];
    for (action, params, status, code, names) in rows {
        let r = c.call(action, &params).await;
        assert_eq!((r.status, r.code().as_str()), (status, code), "{action} {params:?}: {}", r.body);
        let message = r.json()["Message"].as_str().unwrap_or("").to_string();
        assert!(message.contains(names), "{action} {params:?}: {message}");
    }
    // Nothing was made by the refusals; the taken pair keeps its public key.
    let left = ok(&c, "DescribeKeyPairs", &[("IncludePublicKey", "true")]).await;
    assert_eq!(left["TotalCount"], 1);
    assert_eq!(list(&left, "KeyPairs", "KeyPair")[0]["PublicKey"], PUBLIC_KEY);
}

/// `(Type, [Value])`: one `AvailableResource`.
type Resource = (String, Vec<String>);

/// `(ZoneId, [(Type, [Value])])` of a `DescribeAvailableResource` answer.
fn available(v: &Value) -> Vec<(String, Vec<Resource>)> {
    list(v, "AvailableZones", "AvailableZone")
        .iter()
        .map(|z| {
            let resources = list(z, "AvailableResources", "AvailableResource")
                .iter()
                .map(|r| {
                    let values = ids(list(r, "SupportedResources", "SupportedResource"), "Value");
                    (r["Type"].as_str().expect("Type").to_string(), values)
                })
                .collect();
            (z["ZoneId"].as_str().expect("ZoneId").to_string(), resources)
        })
        .collect()
}

#[tokio::test]
async fn available_resources_come_from_the_catalogue() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let catalogue = Catalogue::builtin();
    let zones = catalogue.zones("cn-hangzhou").to_vec();
    assert!(zones.len() > 1);

    // Zones, as the Terraform provider's alicloud_zones asks.
    let r = c
        .call(
            "DescribeAvailableResource",
            &[
                ("DestinationResource", "Zone"),
                ("IoOptimized", "optimized"),
                ("InstanceChargeType", "PostPaid"),
                ("SpotStrategy", "NoSpot"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let got = available(&v);
    assert_eq!(
        got,
        zones
            .iter()
            .map(|z| (z.clone(), vec![("Zone".to_string(), vec![z.clone()])]))
            .collect::<Vec<_>>()
    );
    // Each zone and each resource in the real service's field order.
    let zone = &list(&v, "AvailableZones", "AvailableZone")[0];
    let keys: Vec<&String> = zone.as_object().expect("zone").keys().collect();
    assert_eq!(
        keys,
        [
            "Status",
            "RegionId",
            "AvailableResources",
            "ZoneId",
            "StatusCategory"
        ]
    );
    assert_eq!(
        (&zone["Status"], &zone["RegionId"], &zone["StatusCategory"]),
        (
            &Value::from("Available"),
            &Value::from("cn-hangzhou"),
            &Value::from("WithStock")
        )
    );
    let res = &list(
        &list(zone, "AvailableResources", "AvailableResource")[0],
        "SupportedResources",
        "SupportedResource",
    )[0];
    let keys: Vec<&String> = res.as_object().expect("resource").keys().collect();
    assert_eq!(keys, ["Status", "Value", "StatusCategory"]);

    // Instance types by vCPUs and memory, as alicloud_instance_types asks.
    let want: Vec<String> = catalogue
        .instance_types()
        .iter()
        .filter(|t| t.cpu == 2 && t.memory_gib == 8.0)
        .map(|t| t.id.clone())
        .collect();
    assert!(want.contains(&"ecs.g7.large".to_string()), "{want:?}");
    let by_shape = ok(
        &c,
        "DescribeAvailableResource",
        &[
            ("DestinationResource", "InstanceType"),
            ("IoOptimized", "optimized"),
            ("Cores", "2"),
            ("Memory", "8.0"),
            ("ZoneId", &zones[1]),
        ],
    )
    .await;
    assert_eq!(
        available(&by_shape),
        [(zones[1].clone(), vec![("InstanceType".to_string(), want)])]
    );
    let all_types = ok(
        &c,
        "DescribeAvailableResource",
        &[("DestinationResource", "InstanceType")],
    )
    .await;
    let all_types = available(&all_types);
    assert_eq!(all_types.len(), zones.len());
    assert_eq!(all_types[0].1[0].1.len(), catalogue.instance_types().len());

    // The zones of one type; a type the catalogue lacks is nowhere.
    let g7 = ok(
        &c,
        "DescribeAvailableResource",
        &[
            ("DestinationResource", "Zone"),
            ("InstanceType", "ecs.g7.large"),
        ],
    )
    .await;
    assert_eq!(available(&g7).len(), zones.len());
    for params in [
        vec![
            ("DestinationResource", "Zone"),
            ("InstanceType", "ecs.nope.large"),
        ],
        vec![("DestinationResource", "Zone"), ("IoOptimized", "none")],
        vec![
            ("DestinationResource", "InstanceType"),
            ("NetworkCategory", "classic"),
        ],
        vec![("DestinationResource", "InstanceType"), ("Cores", "3")],
        vec![
            ("DestinationResource", "Zone"),
            ("ZoneId", "cn-hangzhou-zz"),
        ],
        vec![
            ("DestinationResource", "Zone"),
            ("SystemDiskCategory", "ephemeral_ssd"),
        ],
        vec![("DestinationResource", "ddh")],
    ] {
        let none = ok(&c, "DescribeAvailableResource", &params).await;
        assert_eq!(available(&none), [], "{params:?}");
    }

    // Other destinations.
    let io = ok(
        &c,
        "DescribeAvailableResource",
        &[
            ("DestinationResource", "IoOptimized"),
            ("ZoneId", &zones[0]),
        ],
    )
    .await;
    assert_eq!(
        available(&io),
        [(
            zones[0].clone(),
            vec![("IoOptimized".to_string(), vec!["optimized".to_string()])]
        )]
    );
    let network = ok(
        &c,
        "DescribeAvailableResource",
        &[
            ("DestinationResource", "Network"),
            ("ZoneId", &zones[0]),
            ("InstanceType", "ecs.g7.large"),
        ],
    )
    .await;
    assert_eq!(
        available(&network)[0].1,
        [("Network".to_string(), vec!["vpc".to_string()])]
    );
    let system = ok(
        &c,
        "DescribeAvailableResource",
        &[
            ("DestinationResource", "SystemDisk"),
            ("InstanceType", "ecs.g7.large"),
            ("ZoneId", &zones[0]),
        ],
    )
    .await;
    let disks = &list(
        &list(
            &list(&system, "AvailableZones", "AvailableZone")[0],
            "AvailableResources",
            "AvailableResource",
        )[0],
        "SupportedResources",
        "SupportedResource",
    )
    .clone();
    let categories = ids(disks, "Value");
    assert!(
        categories.contains(&"cloud_essd".to_string()),
        "{categories:?}"
    );
    let essd = &disks[categories
        .iter()
        .position(|c| c == "cloud_essd")
        .unwrap_or(0)];
    assert_eq!(
        (&essd["Min"], &essd["Max"], &essd["Unit"]),
        (&Value::from(20), &Value::from(2048), &Value::from("GiB"))
    );
    let keys: Vec<&String> = essd.as_object().expect("disk").keys().collect();
    assert_eq!(
        keys,
        ["Status", "Value", "StatusCategory", "Min", "Max", "Unit"]
    );
    let data = ok(
        &c,
        "DescribeAvailableResource",
        &[
            ("DestinationResource", "DataDisk"),
            ("InstanceType", "ecs.g7.large"),
            ("SystemDiskCategory", "cloud_essd"),
            ("DataDiskCategory", "cloud_auto"),
        ],
    )
    .await;
    let data = list(&data, "AvailableZones", "AvailableZone");
    assert_eq!(data.len(), zones.len());
    let one = &list(
        &list(&data[0], "AvailableResources", "AvailableResource")[0],
        "SupportedResources",
        "SupportedResource",
    )[0];
    assert_eq!(
        (&one["Value"], &one["Max"]),
        (&Value::from("cloud_auto"), &Value::from(32768))
    );

    // XML: the same elements, singular names inside the lists.
    let r = c
        .signed(
            "POST",
            "DescribeAvailableResource",
            vec![
                ("RegionId".into(), "cn-hangzhou".into()),
                ("DestinationResource".into(), "InstanceType".into()),
                ("InstanceType".into(), "ecs.g7.large".into()),
                ("ZoneId".into(), zones[0].clone()),
            ],
            &[("Format", "XML")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let want = format!(
        "<AvailableZones><AvailableZone><Status>Available</Status><RegionId>cn-hangzhou</RegionId>\
         <AvailableResources><AvailableResource><Type>InstanceType</Type><SupportedResources>\
         <SupportedResource><Status>Available</Status><Value>ecs.g7.large</Value>\
         <StatusCategory>WithStock</StatusCategory></SupportedResource></SupportedResources>\
         </AvailableResource></AvailableResources><ZoneId>{}</ZoneId>\
         <StatusCategory>WithStock</StatusCategory></AvailableZone></AvailableZones>",
        zones[0]
    );
    assert!(r.body.contains(&want), "{}", r.body);
}

#[rustfmt::skip]
#[tokio::test]
async fn every_available_resource_error_row() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let d = ("DestinationResource", "InstanceType");
    let rows: Vec<Row> = vec![
        ("DescribeAvailableResource", vec![d, ("RegionId", "")], 400, "MissingRegionId", "RegionId"),
        ("DescribeAvailableResource", vec![d, ("RegionId", "xx-nowhere-1")], 404, "InvalidRegionId.NotFound", ""),
        ("DescribeAvailableResource", vec![], 400, "MissingDestinationResource", "DestinationResource"),
        ("DescribeAvailableResource", vec![("DestinationResource", "Disk")], 404, "Invalid.DestinationResource", "DestinationResource"),
        ("DescribeAvailableResource", vec![("DestinationResource", "zone")], 404, "Invalid.DestinationResource", "DestinationResource"),
        ("DescribeAvailableResource", vec![d, ("InstanceChargeType", "Free")], 400, "Invalid.InstanceChargeType", "InstanceChargeType"),
        ("DescribeAvailableResource", vec![d, ("SpotStrategy", "Cheap")], 404, "Invalid.SpotStrategy", "SpotStrategy"),
        ("DescribeAvailableResource", vec![d, ("IoOptimized", "yes")], 404, "Invalid.IoOptimized", "IoOptimized"),
        ("DescribeAvailableResource", vec![d, ("NetworkCategory", "lan")], 404, "Invalid.NetworkCategory", "NetworkCategory"),
        ("DescribeAvailableResource", vec![d, ("ResourceType", "vm")], 404, "Invalid.ResourceType", "ResourceType"),
        ("DescribeAvailableResource", vec![d, ("InstanceType", "ecs.g7.large"), ("Cores", "2")], 403, "InvalidParam.TypeAndCpuMem.Conflict", "'InstanceType'"),
        ("DescribeAvailableResource", vec![d, ("InstanceType", "ecs.g7.large"), ("Memory", "8")], 403, "InvalidParam.TypeAndCpuMem.Conflict", "'Memory'"),
        ("DescribeAvailableResource", vec![("DestinationResource", "Zone"), ("Cores", "2")], 403, "InvalidParam.Cores", "'Cores'"),
        ("DescribeAvailableResource", vec![("DestinationResource", "Zone"), ("Memory", "8")], 403, "InvalidParam.Memory", "'Memory'"),
        ("DescribeAvailableResource", vec![d, ("Cores", "two")], 400, "InvalidParameter", "Cores"),
        ("DescribeAvailableResource", vec![d, ("Cores", "0")], 400, "InvalidParameter", "Cores"),
        ("DescribeAvailableResource", vec![d, ("Memory", "-1")], 400, "InvalidParameter", "Memory"),
        ("DescribeAvailableResource", vec![("DestinationResource", "SystemDisk")], 400, "MissingInstanceType", "InstanceType"),
        ("DescribeAvailableResource", vec![("DestinationResource", "DataDisk"), ("SystemDiskCategory", "cloud_essd")], 400, "MissingInstanceType", "InstanceType"),
        ("DescribeAvailableResource", vec![d, ("SystemDiskCategory", "floppy")], 400, "InvalidParameter", "SystemDiskCategory"),
        ("DescribeAvailableResource", vec![d, ("DataDiskCategory", "floppy")], 400, "InvalidParameter", "DataDiskCategory"),
        ("DescribeAvailableResource", vec![d, ("Scope", "Planet")], 400, "InvalidParameter", "Scope"),
        ("DescribeAvailableResource", vec![d, ("DedicatedHostId", "dh-1")], 403, "InvalidDedicatedHostId.NotFound", "DedicatedHostId"),
    ];
    for (action, params, status, code, names) in rows {
        let r = c.call(action, &params).await;
        assert_eq!((r.status, r.code().as_str()), (status, code), "{action} {params:?}: {}", r.body);
        let message = r.json()["Message"].as_str().unwrap_or("").to_string();
        assert!(message.contains(names), "{action} {params:?}: {message}");
    }
    // The reference's own spelling of ResourceType is taken.
    ok(&c, "DescribeAvailableResource", &[d, ("ResourceType", "Instance")]).await;
}
