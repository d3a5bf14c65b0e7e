"""The VPC API (product Vpc, version 2016-04-28; docs/vpc.md) through the Python clients:
the legacy core's CommonRequest, and alibabacloud-vpc20160428 with V3 (`tea`) and V1 (`tea-v1`)
signing. Every operation: parsed results, raw JSON/XML shapes, error codes and statuses.

Each test deletes what it created (vSwitches first, then VPCs; the quota is 10 VPCs a region).
"""

import re
import time

import pytest

from clients import VPC_VERSION, VPC_VARIANTS
from helpers import UTC_SECONDS, expect_error, is_submap, ok, rand, skip_legacy_region

VPC_ID = re.compile(r"^vpc-[0-9a-z]{21}$")
VSW_ID = re.compile(r"^vsw-[0-9a-z]{21}$")
VRT_ID = re.compile(r"^vrt-[0-9a-z]{21}$")
VTB_ID = re.compile(r"^vtb-[0-9a-z]{21}$")
UNKNOWN_VPC = "vpc-" + "0" * 21
UNKNOWN_VSW = "vsw-" + "0" * 21
XML_CT = "text/xml;charset=utf-8"


class Network:
    """VPCs and vSwitches created by a test, deleted after it (vSwitches first)."""

    def __init__(self):
        self.vpcs: list = []
        self.vswitches: list = []

    def vpc(self, client, **params) -> str:
        p = {"RegionId": client.region, "CidrBlock": "10.0.0.0/16"}
        p.update(params)
        body = ok(client.call("CreateVpc", p))
        assert VPC_ID.match(body.get("VpcId", "")), body
        self.vpcs.append((client, body["VpcId"]))
        return body["VpcId"]

    def vswitch(self, client, vpc: str, **params) -> str:
        p = {"RegionId": client.region, "VpcId": vpc, "ZoneId": client.region + "-b"}
        p.update(params)
        body = ok(client.call("CreateVSwitch", p))
        assert VSW_ID.match(body.get("VSwitchId", "")), body
        self.vswitches.append((client, body["VSwitchId"]))
        return body["VSwitchId"]

    def cleanup(self) -> None:
        for client, vsw in reversed(self.vswitches):
            client.call("DeleteVSwitch", {"RegionId": client.region, "VSwitchId": vsw})
        for client, vpc in reversed(self.vpcs):
            for _ in range(10):  # a security group of the test may still be going
                r = client.call("DeleteVpc", {"RegionId": client.region, "VpcId": vpc})
                if r.ok or r.status == 404:
                    break
                time.sleep(0.2)


@pytest.fixture
def net():
    n = Network()
    yield n
    n.cleanup()


def attribute(client, vpc: str) -> dict:
    return ok(client.call("DescribeVpcAttribute", {"RegionId": client.region, "VpcId": vpc}))


def vsw_attributes(client, vsw: str) -> dict:
    return ok(client.call("DescribeVSwitchAttributes", {"RegionId": client.region, "VSwitchId": vsw}))


def listed(body: dict, plural: str, singular: str, key: str) -> list[str]:
    wrapper = body.get(plural)
    assert isinstance(wrapper, dict) and isinstance(wrapper.get(singular), list), f"expected {plural}.{singular}[]: {body}"
    return [item[key] for item in wrapper[singular]]


# ---------------------------------------------------------------------------------------------
# the ten operations
# ---------------------------------------------------------------------------------------------


def test_create_vpc_and_describe_attribute(vpc_client, net):
    c = vpc_client
    r = c.call("CreateVpc", {"RegionId": c.region, "CidrBlock": "192.168.0.0/16", "VpcName": "main-" + rand(),
                             "Description": "conformance", "EnableDnsHostname": True, "Tag": [{"Key": "env", "Value": "test"}]})
    body = ok(r)
    assert set(body) == {"RequestId", "VpcId", "VRouterId", "RouteTableId", "ResourceGroupId"}, body
    assert VPC_ID.match(body["VpcId"]) and VRT_ID.match(body["VRouterId"]) and VTB_ID.match(body["RouteTableId"]), body
    net.vpcs.append((c, body["VpcId"]))
    a = attribute(c, body["VpcId"])
    assert a["VpcId"] == body["VpcId"] and a["VRouterId"] == body["VRouterId"], a
    assert (a["CidrBlock"], a["Status"], a["RegionId"], a["Description"]) == ("192.168.0.0/16", "Available", c.region, "conformance")
    assert a["IsDefault"] is False and a["EnabledIpv6"] is False and a["DnsHostnameStatus"] == "ENABLED", a
    assert UTC_SECONDS.match(a["CreationTime"]) and isinstance(a["OwnerId"], int), a
    assert a["Tags"] == {"Tag": [{"Key": "env", "Value": "test"}]}, a
    assert a["VSwitchIds"] == {"VSwitchId": []} and a["UserCidrs"] == {"UserCidr": []}, a
    kinds = {x["ResourceType"]: x["ResourceCount"] for x in a["CloudResources"]["CloudResourceSetType"]}
    assert kinds == {"VSwitch": 0, "VRouter": 1, "RouteTable": 1}, a


def test_describe_vpcs(vpc_client, net):
    c = vpc_client
    first = net.vpc(c, VpcName="first-" + rand(), Tag=[{"Key": "k", "Value": "v"}])
    second = net.vpc(c)
    body = ok(c.call("DescribeVpcs", {"RegionId": c.region, "VpcId": f"{second},{first}"}))
    assert listed(body, "Vpcs", "Vpc", "VpcId") == [first, second], body
    assert (body["TotalCount"], body["PageNumber"], body["PageSize"]) == (2, 1, 10), body
    vpc = body["Vpcs"]["Vpc"][0]
    assert VTB_ID.match(vpc["RouterTableIds"]["RouterTableIds"][0]), vpc
    assert vpc["Tags"] == {"Tag": [{"Key": "k", "Value": "v"}]} and vpc["Status"] == "Available", vpc
    page = ok(c.call("DescribeVpcs", {"RegionId": c.region, "VpcId": f"{first},{second}", "PageSize": 1, "PageNumber": 2}))
    assert listed(page, "Vpcs", "Vpc", "VpcId") == [second] and page["TotalCount"] == 2, page
    tagged = ok(c.call("DescribeVpcs", {"RegionId": c.region, "Tag": [{"Key": "k", "Value": "v"}]}))
    assert first in listed(tagged, "Vpcs", "Vpc", "VpcId") and second not in listed(tagged, "Vpcs", "Vpc", "VpcId")


def test_modify_vpc_attribute(vpc_client, net):
    c = vpc_client
    vpc = net.vpc(c)
    body = ok(c.call("ModifyVpcAttribute", {"RegionId": c.region, "VpcId": vpc, "VpcName": "renamed",
                                            "Description": "new words", "CidrBlock": "10.0.0.0/8", "EnableDnsHostname": True}))
    assert set(body) == {"RequestId"}, body
    a = attribute(c, vpc)
    assert (a["VpcName"], a["Description"], a["CidrBlock"], a["DnsHostnameStatus"]) == ("renamed", "new words", "10.0.0.0/8", "ENABLED"), a


def test_delete_vpc(vpc_client, net):
    c = vpc_client
    vpc = net.vpc(c)
    assert set(ok(c.call("DeleteVpc", {"RegionId": c.region, "VpcId": vpc, "ClientToken": rand(20)}))) == {"RequestId"}
    r = c.call("DescribeVpcAttribute", {"RegionId": c.region, "VpcId": vpc})
    expect_error(r, "InvalidVpcId.NotFound", 404, message="Specified VPC does not exist.")


def test_vswitch_lifecycle(vpc_client, net):
    c = vpc_client
    vpc = net.vpc(c)
    named = net.vswitch(c, vpc, CidrBlock="10.0.1.0/24", VSwitchName="web", Description="tier", Tag=[{"Key": "t", "Value": "w"}])
    allocated = net.vswitch(c, vpc, CidrMask=26)
    a = vsw_attributes(c, named)
    assert (a["VpcId"], a["ZoneId"], a["CidrBlock"], a["Status"]) == (vpc, c.region + "-b", "10.0.1.0/24", "Available"), a
    assert (a["VSwitchName"], a["Description"], a["AvailableIpAddressCount"]) == ("web", "tier", 252), a
    assert a["RouteTable"]["RouteTableType"] == "System" and VTB_ID.match(a["RouteTable"]["RouteTableId"]), a
    assert a["Tags"] == {"Tag": [{"Key": "t", "Value": "w"}]} and UTC_SECONDS.match(a["CreationTime"]), a
    assert vsw_attributes(c, allocated)["CidrBlock"] == "10.0.0.0/26", "lowest free aligned block"

    body = ok(c.call("DescribeVSwitches", {"RegionId": c.region, "VpcId": vpc}))
    assert listed(body, "VSwitches", "VSwitch", "VSwitchId") == [named, allocated], body
    assert body["TotalCount"] == 2 and body["VSwitches"]["VSwitch"][1]["AvailableIpAddressCount"] == 60, body
    assert attribute(c, vpc)["VSwitchIds"] == {"VSwitchId": [named, allocated]}

    assert set(ok(c.call("ModifyVSwitchAttribute", {"RegionId": c.region, "VSwitchId": named, "VSwitchName": "app"}))) == {"RequestId"}
    assert vsw_attributes(c, named)["VSwitchName"] == "app"
    assert set(ok(c.call("DeleteVSwitch", {"RegionId": c.region, "VSwitchId": allocated}))) == {"RequestId"}
    r = c.call("DescribeVSwitchAttributes", {"RegionId": c.region, "VSwitchId": allocated})
    expect_error(r, "InvalidVSwitchId.NotFound", 404)


def test_delete_vpc_dependencies(vpc_client, pool, net):
    """vSwitches and security groups (created through ECS) keep a VPC alive."""
    c = vpc_client
    vpc = net.vpc(c)
    vsw = net.vswitch(c, vpc, CidrBlock="10.0.3.0/24")
    expect_error(c.call("DeleteVpc", {"RegionId": c.region, "VpcId": vpc}), "DependencyViolation.VSwitch", 400)
    ok(c.call("DeleteVSwitch", {"RegionId": c.region, "VSwitchId": vsw}))
    ecs = pool.get(c.variant, c.ak, c.region)
    sg = ok(ecs.call("CreateSecurityGroup", {"RegionId": c.region, "VpcId": vpc}))["SecurityGroupId"]
    try:
        r = c.call("DeleteVpc", {"RegionId": c.region, "VpcId": vpc})
        expect_error(r, "DependencyViolation.SecurityGroup", 400, message="Specified object has dependent resources SecurityGroup.")
    finally:
        ecs.call("DeleteSecurityGroup", {"RegionId": c.region, "SecurityGroupId": sg})
    ok(c.call("DeleteVpc", {"RegionId": c.region, "VpcId": vpc}))


def test_client_token_and_dry_run(vpc_client, net):
    c = vpc_client
    token = rand(32)
    params = {"RegionId": c.region, "CidrBlock": "10.0.0.0/8", "ClientToken": token}
    first = ok(c.call("CreateVpc", params))
    net.vpcs.append((c, first["VpcId"]))
    again = ok(c.call("CreateVpc", params))
    assert again["VpcId"] == first["VpcId"] and again["RouteTableId"] == first["RouteTableId"]
    expect_error(c.call("CreateVpc", {**params, "CidrBlock": "10.0.0.0/16"}), "IdempotentParameterMismatch", 400)
    dry = "Request validation has been passed with DryRun flag set."
    expect_error(c.call("CreateVpc", {"RegionId": c.region, "DryRun": True}), "DryRunOperation", 400, message=dry)
    expect_error(c.call("DeleteVpc", {"RegionId": c.region, "VpcId": first["VpcId"], "DryRun": True}), "DryRunOperation", 400)
    assert attribute(c, first["VpcId"])["Status"] == "Available"


# ---------------------------------------------------------------------------------------------
# error rows: {vpc} is a VPC 10.0.0.0/16 holding {vsw}, a vSwitch 10.0.1.0/24
# ---------------------------------------------------------------------------------------------

ERRORS = [
    ("CreateVpc", {"CidrBlock": "10.0.0.0/30"}, "InvalidParameter", 400),
    ("CreateVpc", {"CidrBlock": "100.64.0.0/16"}, "InvalidParameter", 400),
    ("CreateVpc", {"CidrBlock": "10.0.0.1/8"}, "InvalidCidrBlock.Malformed", 400),
    ("CreateVpc", {"VpcName": "http://x"}, "InvalidVpcName.Malformed", 400),
    ("CreateVpc", {"Description": "https://x"}, "InvalidVpcDiscription.Malformed", 400),
    ("CreateVpc", {"UserCidr": "10.0.0.0/16,10.1.0.0/16,10.2.0.0/16,10.3.0.0/16"}, "InvalidUserCidr.Quota", 400),
    ("CreateVpc", {"UserCidr": "100.64.0.0/16"}, "InvalidUserCidr.Malformed", 400),
    ("CreateVpc", {"RegionId": "xx-nowhere-1"}, "InvalidRegionId.NotFound", 404),
    ("DescribeVpcs", {"PageSize": 51}, "InvalidParameter", 400),
    ("DescribeVpcs", {"DryRun": True}, "DryRunOperation", 400),
    ("DescribeVpcAttribute", {"VpcId": UNKNOWN_VPC}, "InvalidVpcId.NotFound", 404),
    ("DescribeVpcAttribute", {}, "MissingVpcId", 400),
    ("ModifyVpcAttribute", {"VpcId": UNKNOWN_VPC, "VpcName": "x"}, "InvalidVpcId.NotFound", 404),
    ("ModifyVpcAttribute", {"VpcId": "{vpc}", "CidrBlock": "192.168.0.0/16"}, "InvalidParameter", 400),
    ("DeleteVpc", {"VpcId": UNKNOWN_VPC}, "InvalidVpcId.NotFound", 404),
    ("DeleteVpc", {"VpcId": "{vpc}"}, "DependencyViolation.VSwitch", 400),
    ("CreateVSwitch", {"VpcId": UNKNOWN_VPC, "ZoneId": "{zone}", "CidrMask": 24}, "InvalidVpcId.NotFound", 404),
    ("CreateVSwitch", {"VpcId": "{vpc}", "ZoneId": "xx-nowhere-1-a", "CidrMask": 24}, "InvalidZoneId.NotFound", 404),
    ("CreateVSwitch", {"VpcId": "{vpc}", "ZoneId": "{zone}"}, "MissingParameter", 400),
    ("CreateVSwitch", {"VpcId": "{vpc}", "ZoneId": "{zone}", "CidrBlock": "10.0.1.0/25"}, "InvalidCidrBlock.Overlapped", 400),
    ("CreateVSwitch", {"VpcId": "{vpc}", "ZoneId": "{zone}", "CidrBlock": "10.9.0.0/24"}, "InvalidParameter", 400),
    ("CreateVSwitch", {"VpcId": "{vpc}", "ZoneId": "{zone}", "CidrBlock": "10.0.2.0/30"}, "InvalidCirdrBlock.MaskLength", 400),
    ("CreateVSwitch", {"VpcId": "{vpc}", "ZoneId": "{zone}", "CidrBlock": "10.0.0.0/16"}, "OperationDenied", 403),
    ("DescribeVSwitches", {"VpcId": "{vpc}", "DryRun": True}, "DryRunOperation", 400),
    ("DescribeVSwitches", {"VpcId": "{vpc}", "PageNumber": 0}, "InvalidParameter", 400),
    ("DescribeVSwitchAttributes", {"VSwitchId": UNKNOWN_VSW}, "InvalidVSwitchId.NotFound", 404),
    ("ModifyVSwitchAttribute", {"VSwitchId": UNKNOWN_VSW, "VSwitchName": "x"}, "InvalidVSwitchId.NotFound", 404),
    ("ModifyVSwitchAttribute", {"VSwitchId": "{vsw}", "VSwitchName": "http://x"}, "InvalidVSwitchName.Malformed", 400),
    ("DeleteVSwitch", {"VSwitchId": UNKNOWN_VSW}, "InvalidVSwitchId.NotFound", 404),
    ("DeleteVSwitch", {"VSwitchId": "{vsw}", "DryRun": True}, "DryRunOperation", 400),
]


@pytest.fixture(scope="module")
def targets(pool):
    """One VPC with one vSwitch per variant, for the whole table."""
    made, network = {}, Network()
    for v in VPC_VARIANTS:
        c = pool.get_vpc(v)
        vpc = network.vpc(c)
        made[v] = {"{vpc}": vpc, "{vsw}": network.vswitch(c, vpc, CidrBlock="10.0.1.0/24"), "{zone}": c.region + "-b"}
    yield made
    network.cleanup()


@pytest.mark.parametrize("action,params,code,status", ERRORS, ids=[f"{a}-{c}-{i}" for i, (a, _, c, _) in enumerate(ERRORS)])
def test_error(vpc_client, targets, action, params, code, status):
    c = vpc_client
    if "RegionId" in params:
        skip_legacy_region(c)
    p = {"RegionId": c.region}
    p.update({k: targets[c.variant].get(v, v) if isinstance(v, str) else v for k, v in params.items()})
    r = c.call(action, p)
    if r.ok and action.startswith("Create"):  # keep the table's VPC quota intact
        pytest.fail(f"expected {code}: {r.describe()}")
    expect_error(r, code, status)


# ---------------------------------------------------------------------------------------------
# raw shapes: legacy raw JSON, XML, and model-mapped output vs the raw body
# ---------------------------------------------------------------------------------------------


def shaped(legacy, net) -> tuple[str, str]:
    vpc = net.vpc(legacy, VpcName="shape", Description="x & <y>", UserCidr="192.168.0.0/16", Tag=[{"Key": "k", "Value": "v"}])
    return vpc, net.vswitch(legacy, vpc, CidrBlock="10.0.4.0/24", Tag=[{"Key": "k", "Value": "v"}])


def describes(region: str, vpc: str, vsw: str) -> list[tuple[str, dict]]:
    return [
        ("DescribeVpcs", {"RegionId": region, "VpcId": vpc}),
        ("DescribeVpcAttribute", {"RegionId": region, "VpcId": vpc}),
        ("DescribeVSwitches", {"RegionId": region, "VpcId": vpc}),
        ("DescribeVSwitchAttributes", {"RegionId": region, "VSwitchId": vsw}),
    ]


VPC_FIELDS = {"VpcId", "VpcName", "Description", "RegionId", "Status", "IsDefault", "CidrBlock", "Ipv6CidrBlock", "Ipv6CidrBlocks",
              "EnabledIpv6", "CreationTime", "VRouterId", "ResourceGroupId", "OwnerId", "VSwitchIds", "UserCidrs",
              "SecondaryCidrBlocks", "DhcpOptionsSetId", "DhcpOptionsSetStatus", "DnsHostnameStatus", "Tags"}
VSW_FIELDS = {"VSwitchId", "VSwitchName", "Description", "VpcId", "ZoneId", "CidrBlock", "Status", "IsDefault", "AvailableIpAddressCount",
              "CreationTime", "Ipv6CidrBlock", "EnabledIpv6", "ResourceGroupId", "NetworkAclId", "OwnerId", "ShareType", "RouteTable", "Tags"}


def test_legacy_raw_json(pool, net):
    legacy = pool.get_vpc("legacy")
    vpc, vsw = shaped(legacy, net)
    want = {
        "DescribeVpcs": {"RequestId", "TotalCount", "PageNumber", "PageSize", "Vpcs"},
        "DescribeVpcAttribute": VPC_FIELDS | {"RequestId", "ClassicLinkEnabled", "AssociatedCens", "AssociatedPropagationSources",
                                              "CloudResources", "Ipv4GatewayId", "SupportIpv4Gateway"},
        "DescribeVSwitches": {"RequestId", "TotalCount", "PageNumber", "PageSize", "VSwitches"},
        "DescribeVSwitchAttributes": VSW_FIELDS | {"RequestId"},
    }
    for action, params in describes(legacy.region, vpc, vsw):
        r = legacy.call(action, params)
        assert set(ok(r)) == want[action], (action, r.raw)
    [summary] = ok(legacy.call(*describes(legacy.region, vpc, vsw)[0]))["Vpcs"]["Vpc"]
    assert set(summary) == VPC_FIELDS | {"NatGatewayIds", "RouterTableIds", "CenStatus"}, summary
    assert summary["NatGatewayIds"] == {"NatGatewayIds": []} and summary["UserCidrs"] == {"UserCidr": ["192.168.0.0/16"]}, summary
    [switch] = ok(legacy.call(*describes(legacy.region, vpc, vsw)[2]))["VSwitches"]["VSwitch"]
    assert set(switch) == VSW_FIELDS and type(switch["AvailableIpAddressCount"]) is int, switch


def compare_json_xml(value, elem, path):
    """Walks the JSON value and the XML element together (docs/protocol.md §5.2 mapping rules)."""
    if isinstance(value, dict):
        for k, v in value.items():
            child = elem.find(k)
            assert child is not None, f"{path}/{k} missing in XML"
            if isinstance(v, dict) and len(v) == 1 and isinstance(next(iter(v.values())), list):
                singular, items = next(iter(v.items()))
                assert [x.tag for x in child] == [singular] * len(items), f"{path}/{k}: {[x.tag for x in child]}"
                for i, (jv, xv) in enumerate(zip(items, child)):
                    compare_json_xml(jv, xv, f"{path}/{k}/{singular}[{i}]")
            else:
                compare_json_xml(v, child, f"{path}/{k}")
    else:
        expected = ("true" if value else "false") if isinstance(value, bool) else str(value)
        assert (elem.text or "") == expected, f"{path}: XML {elem.text!r} != JSON {value!r}"


def test_xml_bodies_match_json(raw, pool, net):
    legacy = pool.get_vpc("legacy")
    vpc, vsw = shaped(legacy, net)
    for action, params in describes(legacy.region, vpc, vsw):
        rx = raw.request(action, params, fmt="XML", version=VPC_VERSION)
        rj = raw.request(action, params, fmt="JSON", version=VPC_VERSION)
        assert rx.status == 200 and rj.status == 200, (rx.describe(), rj.describe())
        assert rx.content_type.replace(" ", "").lower() == XML_CT, rx.headers
        root = rx.xml()
        assert root.tag == f"{action}Response", rx.text
        json_body = rj.json()
        json_body.pop("RequestId")
        compare_json_xml(json_body, root, root.tag)
    rx = raw.request("DescribeVpcAttribute", {"RegionId": legacy.region, "VpcId": UNKNOWN_VPC}, fmt="XML", version=VPC_VERSION)
    assert rx.status == 404 and rx.xml().tag == "Error" and rx.xml().findtext("Code") == "InvalidVpcId.NotFound", rx.describe()
    assert "product=Vpc" in (rx.xml().findtext("Recommend") or ""), rx.text


@pytest.mark.parametrize("variant", [v for v in VPC_VARIANTS if v != "legacy"])
def test_models_match_raw(variant, pool, net):
    c = pool.get_vpc(variant)
    twin = pool.get_vpc("legacy", c.ak, c.region)
    vpc, vsw = shaped(twin, net)
    for action, params in describes(c.region, vpc, vsw):
        model = ok(c.call(action, params))
        raw_body = ok(twin.call(action, params))
        model.pop("RequestId"), raw_body.pop("RequestId")
        problems = is_submap(model, raw_body)
        assert not problems, f"{variant} {action}: model output differs from the raw body: {problems}"
        for key in raw_body:
            assert key in model, f"{variant} {action}: the SDK model dropped {key} (shape bug?): {model}"
