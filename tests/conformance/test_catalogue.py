"""The catalogue (docs/ecs.md §9) through every client variant: DescribeZones,
DescribeInstanceTypeFamilies, DescribeInstanceTypes, DescribeImages, DescribeInstanceStatus,
CreateKeyPair / ImportKeyPair / DescribeKeyPairs / DeleteKeyPairs, DescribeAvailableResource,
DescribeDisks and DescribeUserData (with
the launch parameters that feed them), the instance field order real clients read — parsed
results, raw JSON/XML shapes and error codes with their statuses.
"""

import base64
import hashlib
import json
import struct

import pytest

from helpers import expect_error, expect_missing, ok, rand
from test_instances import IMAGE, Net, net  # noqa: F401 - the fixture is used by name

WINDOWS = "win2022_21H2_x64_dtc_en-us_40G_alibase_20241211.vhd"


def ed25519_key(seed: int) -> tuple[str, str]:
    """An OpenSSH ed25519 public key line and its MD5 fingerprint."""
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + bytes((seed + i) % 256 for i in range(32))
    line = "ssh-ed25519 " + base64.b64encode(blob).decode() + " conformance@test"
    return line, ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest())


def items(body: dict, outer: str, inner: str) -> list:
    wrapper = body.get(outer)
    assert isinstance(wrapper, dict) and isinstance(wrapper.get(inner), list), f"expected {outer}.{inner}[]: {body}"
    return wrapper[inner]


def test_zones(client):
    body = ok(client.call("DescribeZones", {"RegionId": client.region, "AcceptLanguage": "en-US"}))
    zones = items(body, "Zones", "Zone")
    assert zones, body
    for z in zones:
        assert z["ZoneId"].startswith(client.region + "-"), z
        assert z["ZoneType"] == "AvailabilityZone", z
        assert " Zone " in z["LocalName"], z
        assert "ecs.g7.large" in z["AvailableInstanceTypes"]["InstanceTypes"], z
        [info] = z["AvailableResources"]["ResourcesInfo"]
        assert info["NetworkTypes"]["supportedNetworkCategory"] == ["vpc"], info
        assert info["IoOptimized"] is True, info
    terse = ok(client.call("DescribeZones", {"RegionId": client.region, "Verbose": False}))
    assert [z["ZoneId"] for z in items(terse, "Zones", "Zone")] == [z["ZoneId"] for z in zones]


def test_instance_type_families_and_types(client):
    fams = ok(client.call("DescribeInstanceTypeFamilies", {"RegionId": client.region, "Generation": "ecs-5"}))
    families = items(fams, "InstanceTypeFamilies", "InstanceTypeFamily")
    assert {"ecs.g7", "ecs.c7", "ecs.r7"} <= {f["InstanceTypeFamilyId"] for f in families}, fams
    assert all(f["Generation"] == "ecs-5" for f in families), fams

    body = ok(client.call("DescribeInstanceTypes", {"RegionId": client.region, "InstanceTypes": ["ecs.g7.large", "ecs.t6-c4m1.large"]}))
    types = {t["InstanceTypeId"]: t for t in items(body, "InstanceTypes", "InstanceType")}
    assert set(types) == {"ecs.g7.large", "ecs.t6-c4m1.large"}, body
    g7 = types["ecs.g7.large"]
    assert (g7["CpuCoreCount"], g7["MemorySize"], g7["InstanceTypeFamily"]) == (2, 8, "ecs.g7"), g7
    assert (g7["EniQuantity"], g7["EniPrivateIpAddressQuantity"]) == (3, 6), g7
    assert types["ecs.t6-c4m1.large"]["MemorySize"] == 0.5, types
    filtered = ok(client.call("DescribeInstanceTypes", {"InstanceTypeFamily": "ecs.r7", "MinimumCpuCoreCount": 8, "MaximumMemorySize": 64}))
    assert [t["InstanceTypeId"] for t in items(filtered, "InstanceTypes", "InstanceType")] == ["ecs.r7.2xlarge"], filtered
    page = ok(client.call("DescribeInstanceTypes", {"MaxResults": 10}))
    assert len(items(page, "InstanceTypes", "InstanceType")) == 10 and page["NextToken"], page
    following = ok(client.call("DescribeInstanceTypes", {"MaxResults": 10, "NextToken": page["NextToken"]}))
    first = {t["InstanceTypeId"] for t in items(page, "InstanceTypes", "InstanceType")}
    assert first.isdisjoint(t["InstanceTypeId"] for t in items(following, "InstanceTypes", "InstanceType"))


def test_images(client):
    body = ok(client.call("DescribeImages", {"RegionId": client.region, "ImageId": IMAGE}))
    [image] = items(body, "Images", "Image")
    assert (body["TotalCount"], body["PageNumber"], body["RegionId"]) == (1, 1, client.region), body
    assert (image["ImageId"], image["OSType"], image["ImageOwnerAlias"], image["Status"]) == (IMAGE, "linux", "system", "Available"), image
    assert image["Size"] == 20 and image["Architecture"] == "x86_64", image
    windows = ok(client.call("DescribeImages", {"RegionId": client.region, "OSType": "windows", "PageSize": 50}))
    assert WINDOWS in [i["ImageId"] for i in items(windows, "Images", "Image")], windows
    assert all(i["OSType"] == "windows" for i in items(windows, "Images", "Image")), windows
    own = ok(client.call("DescribeImages", {"RegionId": client.region, "ImageOwnerAlias": "self"}))
    assert own["TotalCount"] == 0, own


def test_key_pairs(client):
    name = "conf-" + rand()
    line, fingerprint = ed25519_key(len(client.variant))
    made = ok(client.call("ImportKeyPair", {"RegionId": client.region, "KeyPairName": name, "PublicKeyBody": line}))
    try:
        assert (made["KeyPairName"], made["KeyPairFingerPrint"]) == (name, fingerprint), made
        expect_error(client.call("ImportKeyPair", {"RegionId": client.region, "KeyPairName": name, "PublicKeyBody": line}),
                     "KeyPair.AlreadyExist", 400)
        listed = ok(client.call("DescribeKeyPairs", {"RegionId": client.region, "KeyPairName": name, "IncludePublicKey": True}))
        [k] = items(listed, "KeyPairs", "KeyPair")
        assert (k["KeyPairName"], k["KeyPairFingerPrint"], k["PublicKey"]) == (name, fingerprint, line.strip()), k
        assert listed["TotalCount"] == 1, listed
    finally:
        ok(client.call("DeleteKeyPairs", {"RegionId": client.region, "KeyPairNames": json.dumps([name])}))
    gone = ok(client.call("DescribeKeyPairs", {"RegionId": client.region, "KeyPairName": name}))
    assert gone["TotalCount"] == 0, gone


def test_key_pair_errors(client):
    expect_error(client.call("ImportKeyPair", {"RegionId": client.region, "KeyPairName": "k-" + rand(), "PublicKeyBody": "ssh-rsa nope"}),
                 "InvalidPublicKeyBody.Malformed", 400)
    line, _ = ed25519_key(1)
    expect_error(client.call("ImportKeyPair", {"RegionId": client.region, "KeyPairName": "1bad", "PublicKeyBody": line}),
                 "InvalidKeyPairName.Malformed", 400)
    expect_missing(client.call("ImportKeyPair", {"RegionId": client.region, "KeyPairName": "k-" + rand()}), "PublicKeyBody")
    expect_error(client.call("DeleteKeyPairs", {"RegionId": client.region, "KeyPairNames": json.dumps(["nope-" + rand()])}),
                 "InvalidKeyPairName.NotFound", 404)
    expect_error(client.call("DescribeKeyPairs", {"RegionId": client.region, "PageSize": 51}), "InvalidParameter", 400)


def test_catalogue_errors(client):
    expect_error(client.call("DescribeZones", {"RegionId": client.region, "AcceptLanguage": "xx"}), "InvalidParameter", 400)
    expect_error(client.call("DescribeInstanceTypes", {"MaxResults": 1601}), "InvalidParameter", 400)
    expect_error(client.call("DescribeImages", {"RegionId": client.region, "OSType": "beos"}), "InvalidParameter", 400)
    expect_error(client.call("DescribeImages", {"RegionId": "xx-nowhere-1"}), "InvalidRegionId.NotFound", 404)
    expect_error(client.call("DescribeInstanceStatus", {"RegionId": client.region, "PageSize": 51}), "InvalidParameter", 400)
    expect_error(client.call("DescribeUserData", {"RegionId": client.region, "InstanceId": "i-" + "0" * 20}),
                 "InvalidInstanceId.NotFound", 404)
    expect_error(client.call("DescribeDisks", {"RegionId": client.region, "DiskIds": "d-1"}), "InvalidDiskIds.Malformed", 400)


def test_disks_user_data_and_status(client, net):
    name = "conf-" + rand()
    line, _ = ed25519_key(7)
    ok(client.call("ImportKeyPair", {"RegionId": client.region, "KeyPairName": name, "PublicKeyBody": line}))
    user_data = base64.b64encode(b"#!/bin/sh\necho conformance\n").decode()
    try:
        [iid] = net.run(
            InstanceType="ecs.t6-c4m1.large",
            ImageId=WINDOWS,
            KeyPairName=name,
            UserData=user_data,
            SystemDisk={"Size": 60, "Category": "cloud_essd"},
            DataDisk=[{"Size": 100, "Category": "cloud_essd", "DiskName": "logs"}, {"Size": 200, "DeleteWithInstance": False}],
        )
        [i] = items(ok(client.call("DescribeInstances", {"RegionId": client.region, "InstanceIds": json.dumps([iid])})), "Instances", "Instance")
        assert (i["Cpu"], i["Memory"], i["OSType"], i["KeyPairName"]) == (2, 512, "windows", name), i

        data = ok(client.call("DescribeUserData", {"RegionId": client.region, "InstanceId": iid}))
        assert (data["InstanceId"], data["RegionId"], data["UserData"]) == (iid, client.region, user_data), data

        disks = items(ok(client.call("DescribeDisks", {"RegionId": client.region, "InstanceId": iid})), "Disks", "Disk")
        assert [(d["Type"], d["Size"], d["Device"], d["Status"]) for d in disks] == [
            ("system", 60, "/dev/xvda", "In_use"), ("data", 100, "/dev/xvdb", "In_use"), ("data", 200, "/dev/xvdc", "In_use")], disks
        assert disks[1]["DiskName"] == "logs" and disks[2]["DeleteWithInstance"] is False, disks
        kept = disks[2]["DiskId"]

        status = ok(client.call("DescribeInstanceStatus", {"RegionId": client.region, "InstanceId": [iid]}))
        assert items(status, "InstanceStatuses", "InstanceStatus") == [{"InstanceId": iid, "Status": "Running"}], status

        ok(client.call("DeleteInstance", {"InstanceId": iid, "Force": True}))
        net.instances.remove(iid)
        left = items(ok(client.call("DescribeDisks", {"RegionId": client.region, "DiskIds": json.dumps([d["DiskId"] for d in disks])})), "Disks", "Disk")
        assert [(d["DiskId"], d["Status"], d["InstanceId"]) for d in left] == [(kept, "Available", "")], left
        expect_error(client.call("RunInstances", {"RegionId": client.region, "ImageId": IMAGE, "InstanceType": "ecs.g7.large",
                                                  "VSwitchId": net.vsw, "SecurityGroupId": net.sg, "KeyPairName": "nope-" + rand()}),
                     "InvalidKeyPairName.NotFound", 404)
        expect_error(client.call("RunInstances", {"RegionId": client.region, "ImageId": IMAGE, "InstanceType": "ecs.g7.large",
                                                  "VSwitchId": net.vsw, "SecurityGroupId": net.sg, "DataDisk": [{"Size": 10}]}),
                     "InvalidDataDiskSize.ValueNotSupported", 400)
    finally:
        ok(client.call("DeleteKeyPairs", {"RegionId": client.region, "KeyPairNames": json.dumps([name])}))


def test_instance_fields_come_in_the_service_order(pool, client, net):
    if client.variant != "legacy":
        pytest.skip("the raw order is checked once, with the legacy client's raw JSON and the raw XML")
    [iid] = net.run()
    r = client.call("DescribeInstances", {"RegionId": client.region, "InstanceIds": json.dumps([iid])})
    [i] = json.loads(r.raw)["Instances"]["Instance"]
    keys = list(i)
    assert keys.index("InnerIpAddress") < keys.index("EipAddress") < keys.index("PublicIpAddress"), keys
    assert keys[:10] == ["ResourceGroupId", "Memory", "InstanceChargeType", "Cpu", "OSName", "InstanceNetworkType",
                         "InnerIpAddress", "ExpiredTime", "ImageId", "EipAddress"], keys
    x = pool.raw(client.ak).request("DescribeInstances", {"RegionId": client.region, "InstanceIds": json.dumps([iid])}, fmt="XML")
    assert x.status == 200, x.describe()
    inst = x.xml().find("Instances/Instance")
    assert [e.tag for e in inst] == keys, x.text


@pytest.mark.raw
def test_catalogue_xml_shapes(raw):
    region = "cn-zhangjiakou"
    zones = raw.request("DescribeZones", {"RegionId": region}, fmt="XML")
    assert zones.status == 200, zones.describe()
    root = zones.xml()
    assert root.tag == "DescribeZonesResponse" and root.findtext("RequestId"), zones.text
    first = root.find("Zones/Zone")
    assert first is not None and first.findtext("ZoneId").startswith(region + "-"), zones.text
    assert "ecs.g7.large" in [e.text for e in first.findall("AvailableInstanceTypes/InstanceTypes")], zones.text
    assert first.findtext("AvailableResources/ResourcesInfo/NetworkTypes/supportedNetworkCategory") == "vpc", zones.text

    types = raw.request("DescribeInstanceTypes", {"InstanceTypes": ["ecs.g7.large"]}, fmt="XML")
    assert types.status == 200, types.describe()
    t = types.xml().find("InstanceTypes/InstanceType")
    assert (t.findtext("InstanceTypeId"), t.findtext("MemorySize"), t.findtext("EniQuantity")) == ("ecs.g7.large", "8", "3"), types.text

    fams = raw.request("DescribeInstanceTypeFamilies", {"RegionId": region}, fmt="XML")
    assert fams.status == 200 and fams.xml().find("InstanceTypeFamilies/InstanceTypeFamily/InstanceTypeFamilyId") is not None, fams.text

    images = raw.request("DescribeImages", {"RegionId": region, "ImageId": IMAGE}, fmt="XML")
    assert images.status == 200, images.describe()
    img = images.xml().find("Images/Image")
    assert img.findtext("ImageId") == IMAGE and img.findtext("DiskDeviceMappings/DiskDeviceMapping/Type") == "system", images.text

    for action, params, wrapper in [
        ("DescribeKeyPairs", {"RegionId": region}, "KeyPairs"),
        ("DescribeDisks", {"RegionId": region}, "Disks"),
        ("DescribeInstanceStatus", {"RegionId": region}, "InstanceStatuses"),
    ]:
        r = raw.request(action, params, fmt="XML")
        assert r.status == 200, r.describe()
        root = r.xml()
        assert root.tag == action + "Response" and root.find(wrapper) is not None and root.findtext("TotalCount") is not None, r.text

    line, fingerprint = ed25519_key(42)
    name = "xml-" + rand()
    made = raw.request("ImportKeyPair", {"RegionId": region, "KeyPairName": name, "PublicKeyBody": line}, fmt="XML")
    assert made.status == 200 and made.xml().findtext("KeyPairFingerPrint") == fingerprint, made.text
    listed = raw.request("DescribeKeyPairs", {"RegionId": region, "KeyPairName": name}, fmt="XML")
    assert listed.xml().findtext("KeyPairs/KeyPair/KeyPairName") == name, listed.text
    gone = raw.request("DeleteKeyPairs", {"RegionId": region, "KeyPairNames": json.dumps([name])}, fmt="XML")
    assert gone.status == 200 and gone.xml().tag == "DeleteKeyPairsResponse", gone.text
    missing = raw.request("DescribeUserData", {"RegionId": region, "InstanceId": "i-" + "0" * 20}, fmt="XML")
    assert missing.status == 404 and missing.xml().findtext("Code") == "InvalidInstanceId.NotFound", missing.text


def openssh_public_of(pem: str) -> str:
    """The `ssh-rsa` line of a PEM private key's public half, as `ssh-keygen -y` prints it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048, key
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


CREATE_KEY_PAIR_FIELDS = ["RequestId", "PrivateKeyBody", "KeyPairName", "KeyPairId", "KeyPairFingerPrint"]


def test_create_key_pair(client):
    name = "made-" + rand()
    r = client.call("CreateKeyPair", {"RegionId": client.region, "KeyPairName": name, "Tag": [{"Key": "env", "Value": "conf"}]})
    made = ok(r)
    try:
        pem = made["PrivateKeyBody"]
        assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----\n") and pem.rstrip().endswith("-----END RSA PRIVATE KEY-----"), made
        assert made["KeyPairName"] == name and made["KeyPairId"].startswith("ssh-"), made
        if client.variant == "legacy":
            assert list(json.loads(r.raw)) == CREATE_KEY_PAIR_FIELDS, r.raw
        else:
            assert set(made) == set(CREATE_KEY_PAIR_FIELDS), made

        listed = ok(client.call("DescribeKeyPairs", {"RegionId": client.region, "KeyPairName": name, "IncludePublicKey": True}))
        [k] = items(listed, "KeyPairs", "KeyPair")
        # The private key really is the stored public key's.
        assert k["PublicKey"] == openssh_public_of(pem), (k, pem)
        blob = base64.b64decode(k["PublicKey"].split()[1])
        fingerprint = ":".join(f"{b:02x}" for b in hashlib.md5(blob).digest())
        assert made["KeyPairFingerPrint"] == k["KeyPairFingerPrint"] == fingerprint, (made, k)

        expect_error(client.call("CreateKeyPair", {"RegionId": client.region, "KeyPairName": name}), "KeyPair.AlreadyExist", 400)
    finally:
        ok(client.call("DeleteKeyPairs", {"RegionId": client.region, "KeyPairNames": json.dumps([name])}))
    expect_error(client.call("CreateKeyPair", {"RegionId": client.region, "KeyPairName": "1bad"}), "InvalidKeyPairName.Malformed", 400)
    expect_missing(client.call("CreateKeyPair", {"RegionId": client.region}), "KeyPairName")


def supported_values(zone: dict, kind: str) -> list[dict]:
    [resource] = items(zone, "AvailableResources", "AvailableResource")
    assert resource["Type"] == kind, zone
    return items(resource, "SupportedResources", "SupportedResource")


def test_available_resource(client):
    zone_ids = [z["ZoneId"] for z in items(ok(client.call("DescribeZones", {"RegionId": client.region, "Verbose": False})), "Zones", "Zone")]
    # What Terraform's alicloud_zones asks.
    r = client.call("DescribeAvailableResource", {"RegionId": client.region, "DestinationResource": "Zone", "IoOptimized": "optimized",
                                                  "InstanceChargeType": "PostPaid", "SpotStrategy": "NoSpot"})
    zones = items(ok(r), "AvailableZones", "AvailableZone")
    assert [z["ZoneId"] for z in zones] == zone_ids, zones
    for z in zones:
        assert (z["RegionId"], z["Status"], z["StatusCategory"]) == (client.region, "Available", "WithStock"), z
        assert supported_values(z, "Zone") == [{"Status": "Available", "Value": z["ZoneId"], "StatusCategory": "WithStock"}], z
    if client.variant == "legacy":
        raw_zone = json.loads(r.raw)["AvailableZones"]["AvailableZone"][0]
        assert list(raw_zone) == ["Status", "RegionId", "AvailableResources", "ZoneId", "StatusCategory"], raw_zone
        assert list(raw_zone["AvailableResources"]["AvailableResource"][0]) == ["Type", "SupportedResources"], raw_zone

    # What alicloud_instance_types asks: types by vCPUs and memory.
    shaped = ok(client.call("DescribeAvailableResource", {"RegionId": client.region, "DestinationResource": "InstanceType",
                                                          "IoOptimized": "optimized", "Cores": 2, "Memory": 8.0, "ZoneId": zone_ids[0]}))
    [z] = items(shaped, "AvailableZones", "AvailableZone")
    values = [v["Value"] for v in supported_values(z, "InstanceType")]
    assert z["ZoneId"] == zone_ids[0] and "ecs.g7.large" in values and "ecs.g7.xlarge" not in values, values
    types = items(ok(client.call("DescribeInstanceTypes", {"InstanceTypes": values[:10]})), "InstanceTypes", "InstanceType")
    assert {(t["CpuCoreCount"], t["MemorySize"]) for t in types} == {(2, 8)}, types

    disks = ok(client.call("DescribeAvailableResource", {"RegionId": client.region, "DestinationResource": "SystemDisk",
                                                         "InstanceType": "ecs.g7.large", "ZoneId": zone_ids[0]}))
    [z] = items(disks, "AvailableZones", "AvailableZone")
    essd = [d for d in supported_values(z, "SystemDisk") if d["Value"] == "cloud_essd"]
    assert [(d["Min"], d["Max"], d["Unit"]) for d in essd] == [(20, 2048, "GiB")], z
    none = ok(client.call("DescribeAvailableResource", {"RegionId": client.region, "DestinationResource": "InstanceType",
                                                        "InstanceType": "ecs.nope.large"}))
    assert items(none, "AvailableZones", "AvailableZone") == [], none


def test_available_resource_errors(client):
    expect_missing(client.call("DescribeAvailableResource", {"RegionId": client.region}), "DestinationResource")
    expect_error(client.call("DescribeAvailableResource", {"RegionId": client.region, "DestinationResource": "Disk"}),
                 "Invalid.DestinationResource", 404)
    expect_error(client.call("DescribeAvailableResource", {"RegionId": client.region, "DestinationResource": "InstanceType",
                                                           "InstanceType": "ecs.g7.large", "Cores": 2}),
                 "InvalidParam.TypeAndCpuMem.Conflict", 403)
    expect_error(client.call("DescribeAvailableResource", {"RegionId": client.region, "DestinationResource": "Zone", "IoOptimized": "yes"}),
                 "Invalid.IoOptimized", 404)
    expect_error(client.call("DescribeAvailableResource", {"RegionId": client.region, "DestinationResource": "SystemDisk"}),
                 "MissingInstanceType", 400)


@pytest.mark.raw
def test_create_key_pair_and_available_resource_raw_shapes(raw):
    region = "cn-zhangjiakou"
    name = "raw-" + rand()
    j = raw.request("CreateKeyPair", {"RegionId": region, "KeyPairName": name})
    assert j.status == 200, j.describe()
    assert list(j.json()) == CREATE_KEY_PAIR_FIELDS, j.text
    x = raw.request("CreateKeyPair", {"RegionId": region, "KeyPairName": name + "-xml"}, fmt="XML")
    assert x.status == 200, x.describe()
    root = x.xml()
    assert root.tag == "CreateKeyPairResponse" and [e.tag for e in root] == CREATE_KEY_PAIR_FIELDS, x.text
    pem = root.findtext("PrivateKeyBody")
    listed = raw.request("DescribeKeyPairs", {"RegionId": region, "KeyPairName": name + "-xml", "IncludePublicKey": True}, fmt="XML")
    assert listed.xml().findtext("KeyPairs/KeyPair/PublicKey") == openssh_public_of(pem), listed.text
    ok_delete = raw.request("DeleteKeyPairs", {"RegionId": region, "KeyPairNames": json.dumps([name, name + "-xml"])})
    assert ok_delete.status == 200, ok_delete.describe()

    a = raw.request("DescribeAvailableResource", {"RegionId": region, "DestinationResource": "DataDisk", "InstanceType": "ecs.g7.large",
                                                  "SystemDiskCategory": "cloud_essd", "DataDiskCategory": "cloud_essd"}, fmt="XML")
    assert a.status == 200, a.describe()
    zones = a.xml().findall("AvailableZones/AvailableZone")
    assert zones and [e.tag for e in zones[0]] == ["Status", "RegionId", "AvailableResources", "ZoneId", "StatusCategory"], a.text
    [d] = zones[0].findall("AvailableResources/AvailableResource/SupportedResources/SupportedResource")
    assert [(e.tag, e.text) for e in d] == [("Status", "Available"), ("Value", "cloud_essd"), ("StatusCategory", "WithStock"),
                                           ("Min", "20"), ("Max", "32768"), ("Unit", "GiB")], a.text
    bad = raw.request("DescribeAvailableResource", {"RegionId": region, "DestinationResource": "Nowhere"}, fmt="XML")
    assert bad.status == 404 and bad.xml().findtext("Code") == "Invalid.DestinationResource", bad.text
