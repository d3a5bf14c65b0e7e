"""Elastic network interfaces (docs/ecs.md §10) through every client variant:
CreateNetworkInterface, DescribeNetworkInterfaces, AttachNetworkInterface,
DetachNetworkInterface, ModifyNetworkInterfaceAttribute, AssignPrivateIpAddresses,
UnassignPrivateIpAddresses, DeleteNetworkInterface, and JoinSecurityGroup/LeaveSecurityGroup by
NetworkInterfaceId; secondary interfaces in DescribeInstances; the instance type's limits;
isolation; parsed results, raw JSON/XML shapes, error codes with their statuses.

Each test makes its own VPC, vSwitch, groups and instances (test_instances.Net) and deletes its
interfaces before the vSwitch goes. Without the VPC API the tests skip.
"""

import json
import re

import pytest

from helpers import expect_error, is_submap, ok
from test_instances import ENI_ID, MAC, Net, one

UNKNOWN_ENI = "eni-" + "0" * 20


class EniNet(Net):
    """A Net that also deletes the interfaces it created (detaching them first)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.enis: list = []

    def eni(self, **params) -> dict:
        p = {"RegionId": self.client.region, "VSwitchId": self.vsw, "SecurityGroupIds": [self.sg]}
        p.update(params)
        body = ok(self.client.call("CreateNetworkInterface", p))
        assert ENI_ID.match(body["NetworkInterfaceId"]), body
        self.enis.append(body["NetworkInterfaceId"])
        return body

    def cleanup(self) -> None:
        region = self.client.region
        for eni in self.enis:
            for found in sets(self.client, NetworkInterfaceId=[eni]):
                if found.get("InstanceId"):
                    self.client.call("DetachNetworkInterface", {"RegionId": region, "NetworkInterfaceId": eni,
                                                                "InstanceId": found["InstanceId"]})
            self.client.call("DeleteNetworkInterface", {"RegionId": region, "NetworkInterfaceId": eni})
        super().cleanup()


@pytest.fixture
def net(pool, vpcs, groups, client, vpc_mode):
    if vpc_mode != "real":
        pytest.skip("the server has no VPC API: interfaces need real vSwitches")
    n = EniNet(pool, vpcs, groups, client)
    yield n
    n.cleanup()


def sets(client, **params) -> list:
    body = ok(client.call("DescribeNetworkInterfaces", {"RegionId": client.region, "PageSize": 100, **params}))
    wrapper = body.get("NetworkInterfaceSets")
    assert isinstance(wrapper, dict) and isinstance(wrapper.get("NetworkInterfaceSet"), list), body
    return wrapper["NetworkInterfaceSet"]


def eni_of(client, eni: str) -> dict:
    [found] = sets(client, NetworkInterfaceId=[eni])
    return found


def ips_of(item: dict) -> list:
    return [(p["PrivateIpAddress"], p["Primary"]) for p in item["PrivateIpSets"]["PrivateIpSet"]]


def call(client, action: str, **params):
    return client.call(action, {"RegionId": client.region, **params})


# ---------------------------------------------------------------------------------------------
# the operations, per variant
# ---------------------------------------------------------------------------------------------


def test_create_attach_readdress_regroup_detach_delete(client, net):
    sg2 = net.group()
    [iid] = net.run()
    created = net.eni(SecurityGroupIds=[sg2], NetworkInterfaceName="eth1-data", Description="data plane",
                      PrimaryIpAddress="172.16.1.50", PrivateIpAddress=["172.16.1.51"],
                      Tag=[{"Key": "role", "Value": "data"}])
    eni = created["NetworkInterfaceId"]
    assert (created["Status"], created["Type"], created["VpcId"], created["VSwitchId"], created["ZoneId"]) == (
        "Available", "Secondary", net.vpc, net.vsw, net.zone), created
    assert created["PrivateIpAddress"] == "172.16.1.50" and MAC.match(created["MacAddress"]), created
    assert created["SecurityGroupIds"]["SecurityGroupId"] == [sg2], created
    assert ips_of(created) == [("172.16.1.50", True), ("172.16.1.51", False)], created

    item = eni_of(client, eni)
    assert (item["NetworkInterfaceName"], item["Description"], item["Status"]) == ("eth1-data", "data plane", "Available"), item
    assert item["Tags"]["Tag"] == [{"TagKey": "role", "TagValue": "data"}], item
    [primary] = sets(client, InstanceId=iid)
    assert (primary["Type"], primary["Status"], primary["PrivateIpAddress"]) == ("Primary", "InUse", "172.16.1.1"), primary
    assert [s["NetworkInterfaceId"] for s in sets(client, VSwitchId=net.vsw, Type="Secondary")] == [eni]
    assert [s["NetworkInterfaceId"] for s in sets(client, PrivateIpAddress=["172.16.1.51"])] == [eni]

    assert set(ok(call(client, "AttachNetworkInterface", NetworkInterfaceId=eni, InstanceId=iid)))  == {"RequestId"}
    item = eni_of(client, eni)
    assert (item["Status"], item["InstanceId"]) == ("InUse", iid), item
    assert (item["Attachment"]["InstanceId"], item["Attachment"]["DeviceIndex"]) == (iid, 1), item
    nics = one(client, iid)["NetworkInterfaces"]["NetworkInterface"]
    assert [(n["Type"], n["PrimaryIpAddress"]) for n in nics] == [("Primary", "172.16.1.1"), ("Secondary", "172.16.1.50")], nics
    assert one(client, iid)["SecurityGroupIds"]["SecurityGroupId"] == [net.sg]

    body = ok(call(client, "AssignPrivateIpAddresses", NetworkInterfaceId=eni, SecondaryPrivateIpAddressCount=1))
    assigned = body["AssignedPrivateIpAddressesSet"]
    assert assigned["NetworkInterfaceId"] == eni and len(assigned["PrivateIpSet"]["PrivateIpAddress"]) == 1, body
    new_ip = assigned["PrivateIpSet"]["PrivateIpAddress"][0]
    assert ips_of(eni_of(client, eni)) == [("172.16.1.50", True), ("172.16.1.51", False), (new_ip, False)]
    ok(call(client, "UnassignPrivateIpAddresses", NetworkInterfaceId=eni, PrivateIpAddress=["172.16.1.51"]))
    assert ips_of(eni_of(client, eni)) == [("172.16.1.50", True), (new_ip, False)]

    ok(call(client, "ModifyNetworkInterfaceAttribute", NetworkInterfaceId=eni, SecurityGroupId=[net.sg, sg2],
            NetworkInterfaceName="renamed"))
    item = eni_of(client, eni)
    assert (item["SecurityGroupIds"]["SecurityGroupId"], item["NetworkInterfaceName"]) == ([net.sg, sg2], "renamed"), item
    ok(call(client, "LeaveSecurityGroup", NetworkInterfaceId=eni, SecurityGroupId=net.sg))
    expect_error(call(client, "LeaveSecurityGroup", NetworkInterfaceId=eni, SecurityGroupId=sg2), "InstanceLastSecurityGroup", 403)
    ok(call(client, "JoinSecurityGroup", NetworkInterfaceId=eni, SecurityGroupId=net.sg))
    assert eni_of(client, eni)["SecurityGroupIds"]["SecurityGroupId"] == [sg2, net.sg]
    expect_error(call(client, "DeleteSecurityGroup", SecurityGroupId=sg2), "DependencyViolation", 403)

    expect_error(call(client, "DeleteNetworkInterface", NetworkInterfaceId=eni), "InvalidOperation.InvalidEniState", 403)
    ok(call(client, "DetachNetworkInterface", NetworkInterfaceId=eni, InstanceId=iid))
    assert eni_of(client, eni)["Status"] == "Available"
    assert len(one(client, iid)["NetworkInterfaces"]["NetworkInterface"]) == 1
    assert set(ok(call(client, "DeleteNetworkInterface", NetworkInterfaceId=eni))) == {"RequestId"}
    assert sets(client, NetworkInterfaceId=[eni]) == []
    ok(call(client, "DeleteSecurityGroup", SecurityGroupId=sg2))


def test_primary_interface_addresses_and_groups(client, net):
    sg2 = net.group()
    [iid] = net.run()
    [primary] = sets(client, InstanceId=iid)
    peni = primary["NetworkInterfaceId"]
    assert ENI_ID.match(peni) and primary["Attachment"]["DeviceIndex"] == 0, primary
    ok(call(client, "AssignPrivateIpAddresses", NetworkInterfaceId=peni, PrivateIpAddress=["172.16.1.77"]))
    [nic] = one(client, iid)["NetworkInterfaces"]["NetworkInterface"]
    assert [(p["PrivateIpAddress"], p["Primary"]) for p in nic["PrivateIpSets"]["PrivateIpSet"]] == [
        ("172.16.1.1", True), ("172.16.1.77", False)], nic
    r = client.call("CreateInstance", {"RegionId": client.region, "InstanceType": "ecs.g5.large", "VSwitchId": net.vsw,
                                       "SecurityGroupId": net.sg, "PrivateIpAddress": "172.16.1.77"})
    expect_error(r, "InvalidPrivateIpAddress.Duplicated", 400)
    ok(call(client, "ModifyNetworkInterfaceAttribute", NetworkInterfaceId=peni, SecurityGroupId=[sg2]))
    assert one(client, iid)["SecurityGroupIds"]["SecurityGroupId"] == [sg2]
    ok(call(client, "JoinSecurityGroup", NetworkInterfaceId=peni, SecurityGroupId=net.sg))
    assert one(client, iid)["SecurityGroupIds"]["SecurityGroupId"] == [sg2, net.sg]
    expect_error(call(client, "DetachNetworkInterface", NetworkInterfaceId=peni, InstanceId=iid),
                 "InvalidOperation.DetachPrimaryEniNotAllowed", 403)
    expect_error(call(client, "DeleteNetworkInterface", NetworkInterfaceId=peni), "InvalidOperation.InvalidEniType", 403)


def test_instance_type_limits_and_release(client, net):
    [small] = net.run()  # ecs.g5.large: 2 interfaces, 6 addresses each
    [large] = net.run(InstanceType="ecs.g7.large")  # 3 interfaces
    a, b, c = (net.eni()["NetworkInterfaceId"] for _ in range(3))
    ok(call(client, "AttachNetworkInterface", NetworkInterfaceId=a, InstanceId=small))
    expect_error(call(client, "AttachNetworkInterface", NetworkInterfaceId=b, InstanceId=small), "InvalidOperation.EniCountExceeded", 403)
    ok(call(client, "AssignPrivateIpAddresses", NetworkInterfaceId=a, SecondaryPrivateIpAddressCount=5))
    expect_error(call(client, "AssignPrivateIpAddresses", NetworkInterfaceId=a, SecondaryPrivateIpAddressCount=1),
                 "InvalidOperation.Ipv4CountExceeded", 403)
    ok(call(client, "AttachNetworkInterface", NetworkInterfaceId=b, InstanceId=large))
    ok(call(client, "AttachNetworkInterface", NetworkInterfaceId=c, InstanceId=large))
    assert [s["Attachment"]["DeviceIndex"] for s in sets(client, InstanceId=large)] == [0, 1, 2]
    ok(client.call("DeleteInstance", {"InstanceId": large, "Force": True}))
    net.instances.remove(large)
    assert [eni_of(client, e)["Status"] for e in (b, c)] == ["Available", "Available"]


# code, status, parameters ("{x}" filled in)
ERRORS = {
    "create-unknown-vswitch": ("CreateNetworkInterface", {"VSwitchId": "vsw-doesnotexist000000000", "SecurityGroupIds": ["{sg}"]},
                               "InvalidVSwitchId.NotFound", 404),
    "create-unknown-group": ("CreateNetworkInterface", {"VSwitchId": "{vsw}", "SecurityGroupIds": ["sg-doesnotexist000000"]},
                             "InvalidSecurityGroupId.NotFound", 404),
    "create-address-taken": ("CreateNetworkInterface", {"VSwitchId": "{vsw}", "SecurityGroupIds": ["{sg}"], "PrimaryIpAddress": "172.16.1.1"},
                             "InvalidPrivateIpAddress.Duplicated", 400),
    "create-address-outside": ("CreateNetworkInterface", {"VSwitchId": "{vsw}", "SecurityGroupIds": ["{sg}"], "PrimaryIpAddress": "172.16.9.9"},
                               "InvalidPrivateIpAddress", 400),
    "create-name": ("CreateNetworkInterface", {"VSwitchId": "{vsw}", "SecurityGroupIds": ["{sg}"], "NetworkInterfaceName": "1bad"},
                    "InvalidNetworkInterfaceName.Malformed", 400),
    "delete-unknown": ("DeleteNetworkInterface", {"NetworkInterfaceId": UNKNOWN_ENI}, "InvalidEniId.NotFound", 404),
    "attach-unknown-instance": ("AttachNetworkInterface", {"NetworkInterfaceId": "{eni}", "InstanceId": "i-" + "0" * 20},
                                "InvalidInstanceId.NotFound", 404),
    "detach-not-attached": ("DetachNetworkInterface", {"NetworkInterfaceId": "{eni}", "InstanceId": "{i}"},
                            "InvalidOperation.InvalidEniState", 403),
    "modify-other-vpc": ("ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "{eni}", "SecurityGroupId": ["{osg}"]},
                         "InvalidParameter.Mismatch", 400),
    "assign-both": ("AssignPrivateIpAddresses", {"NetworkInterfaceId": "{eni}", "PrivateIpAddress": ["172.16.1.90"],
                                                 "SecondaryPrivateIpAddressCount": 1}, "InvalidParam.IpAssign", 400),
    "unassign-not-assigned": ("UnassignPrivateIpAddresses", {"NetworkInterfaceId": "{eni}", "PrivateIpAddress": ["172.16.1.99"]},
                              "InvalidIp.IpUnassigned", 403),
    "join-unknown-eni": ("JoinSecurityGroup", {"NetworkInterfaceId": UNKNOWN_ENI, "SecurityGroupId": "{sg}"}, "InvalidEniId.NotFound", 404),
    "describe-type": ("DescribeNetworkInterfaces", {"Type": "Trunk"}, "InvalidParameter", 400),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
def test_errors(client, net, case):
    action, params, code, status = ERRORS[case]
    [iid] = net.run()
    eni = net.eni()["NetworkInterfaceId"]
    osg = net.groups.create(client)  # a group of another (new) VPC
    fill = {"{sg}": net.sg, "{vsw}": net.vsw, "{eni}": eni, "{i}": iid, "{osg}": osg}
    p = {k: ([fill.get(x, x) for x in v] if isinstance(v, list) else fill.get(v, v)) for k, v in params.items()}
    before = sets(client)
    expect_error(call(client, action, **p), code, status)
    assert sets(client) == before, "a refused request changed an interface"


def test_isolation(client, other_client, net):
    eni = net.eni()["NetworkInterfaceId"]
    before = eni_of(client, eni)
    assert sets(other_client, NetworkInterfaceId=[eni]) == []
    for action, params in [
        ("DeleteNetworkInterface", {"NetworkInterfaceId": eni}),
        ("ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": eni, "NetworkInterfaceName": "mine"}),
        ("AssignPrivateIpAddresses", {"NetworkInterfaceId": eni, "SecondaryPrivateIpAddressCount": 1}),
    ]:
        expect_error(call(other_client, action, **params), "InvalidEniId.NotFound", 404)
    assert eni_of(client, eni) == before


# ---------------------------------------------------------------------------------------------
# raw shapes (legacy JSON is the raw body; XML through the raw client)
# ---------------------------------------------------------------------------------------------


def test_raw_json_and_xml_shapes(pool, client, legacy_twin, net):
    eni = net.eni(PrivateIpAddress=["172.16.1.60"])["NetworkInterfaceId"]
    raw = json.loads(legacy_twin.call("DescribeNetworkInterfaces", {"RegionId": client.region, "NetworkInterfaceId.1": eni}).raw)
    [item] = raw["NetworkInterfaceSets"]["NetworkInterfaceSet"]
    assert list(item)[:4] == ["NetworkInterfaceId", "Status", "Type", "VpcId"], item
    assert isinstance(item["QueueNumber"], int) and isinstance(item["ServiceManaged"], bool), item
    assert (raw["TotalCount"], raw["PageNumber"], raw["PageSize"]) == (1, 1, 10), raw
    # The variant's parsed model is a faithful part of the raw answer.
    parsed = ok(call(client, "DescribeNetworkInterfaces", NetworkInterfaceId=[eni]))
    parsed.pop("RequestId", None)
    assert is_submap(parsed, {k: v for k, v in raw.items() if k != "RequestId"}) == [], is_submap(parsed, raw)
    if client.variant != "legacy":
        return
    owner = pool.raw(client.ak)
    x = owner.request("DescribeNetworkInterfaces", {"RegionId": client.region, "NetworkInterfaceId.1": eni}, fmt="XML")
    assert x.status == 200, x.describe()
    root = x.xml()
    assert root.tag == "DescribeNetworkInterfacesResponse", x.text
    found = root.find("NetworkInterfaceSets/NetworkInterfaceSet")
    assert found is not None and found.findtext("NetworkInterfaceId") == eni, x.text
    assert [e.text for e in found.findall("SecurityGroupIds/SecurityGroupId")] == [net.sg], x.text
    assert [(p.findtext("PrivateIpAddress"), p.findtext("Primary")) for p in found.findall("PrivateIpSets/PrivateIpSet")] == [
        (found.findtext("PrivateIpAddress"), "true"), ("172.16.1.60", "false")], x.text
    made = owner.request("CreateNetworkInterface", {"RegionId": client.region, "VSwitchId": net.vsw,
                                                    "SecurityGroupId": net.sg}, fmt="XML")
    assert made.status == 200, made.describe()
    new = made.xml().findtext("NetworkInterfaceId")
    assert new and ENI_ID.match(new), made.text
    net.enis.append(new)
    assigned = owner.request("AssignPrivateIpAddresses", {"RegionId": client.region, "NetworkInterfaceId": new,
                                                          "SecondaryPrivateIpAddressCount": "2"}, fmt="XML")
    assert assigned.status == 200, assigned.describe()
    ips = [e.text for e in assigned.xml().findall("AssignedPrivateIpAddressesSet/PrivateIpSet/PrivateIpAddress")]
    assert len(ips) == 2 and all(re.match(r"^172\.16\.1\.\d+$", ip) for ip in ips), assigned.text
    # The actions that answer only a RequestId, in XML, then one refusal in XML.
    [iid] = net.run()
    region = client.region
    for action, params in [
        ("UnassignPrivateIpAddresses", {"NetworkInterfaceId": new, "PrivateIpAddress.1": ips[0]}),
        ("ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": new, "NetworkInterfaceName": "xml-eni"}),
        ("AttachNetworkInterface", {"NetworkInterfaceId": new, "InstanceId": iid}),
        ("JoinSecurityGroup", {"NetworkInterfaceId": new, "SecurityGroupId": net.group()}),
        ("DetachNetworkInterface", {"NetworkInterfaceId": new, "InstanceId": iid}),
        ("DeleteNetworkInterface", {"NetworkInterfaceId": new}),
    ]:
        r = owner.request(action, {"RegionId": region, **params}, fmt="XML")
        assert r.status == 200, r.describe()
        root = r.xml()
        assert root.tag == f"{action}Response" and [c.tag for c in root] == ["RequestId"], r.text
    net.enis.remove(new)
    refused = owner.request("DeleteNetworkInterface", {"RegionId": region, "NetworkInterfaceId": UNKNOWN_ENI}, fmt="XML")
    assert refused.status == 404 and refused.xml().findtext("Code") == "InvalidEniId.NotFound", refused.text
