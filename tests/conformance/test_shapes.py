"""Response shapes (docs/protocol.md §5.1, §5.2, §4.1; docs/clients.md §4.4).

* the legacy SDK hands back the raw JSON, so list wrapping is asserted on it directly;
* the same calls in XML (raw client and legacy SDK with Format=XML) are parsed with
  xml.etree and compared element by element with the JSON;
* the model-mapped output of tea / tea-v1 / node / node-v1 must be a faithful subset of the
  legacy raw output for the same call (a wrong nesting makes the SDKs drop whole subtrees).
"""

import json
import xml.etree.ElementTree as ET

import pytest

from clients import VARIANTS
from helpers import UUID_UPPER, expect_error, is_submap, ok, rand, unknown_sg_id

MODEL_VARIANTS = [v for v in VARIANTS if v != "legacy"]
JSON_CT = "application/json;charset=utf-8"
XML_CT = "text/xml;charset=utf-8"


def ct(headers) -> str:
    return (headers or {}).get("content-type", "").replace(" ", "").lower()


@pytest.fixture
def legacy(pool):
    return pool.get("legacy")


# ---------------------------------------------------------------------------------------------
# raw JSON (legacy)
# ---------------------------------------------------------------------------------------------


def test_legacy_raw_json_list_wrapping(legacy, groups):
    tagged = groups.create(legacy, SecurityGroupName="shape-" + rand(), Tag=[{"Key": "env", "Value": "prod"}])
    bare = groups.create(legacy)

    r = legacy.call("DescribeSecurityGroups", {"RegionId": legacy.region, "SecurityGroupId": tagged})
    body = ok(r)
    assert ct(r.headers) == JSON_CT, r.headers
    assert isinstance(body["SecurityGroups"], dict) and list(body["SecurityGroups"]) == ["SecurityGroup"], body
    assert isinstance(body["SecurityGroups"]["SecurityGroup"], list)
    g = body["SecurityGroups"]["SecurityGroup"][0]
    assert g["Tags"] == {"Tag": [{"TagKey": "env", "TagValue": "prod"}]}, g
    for k in ("TotalCount", "PageNumber", "PageSize"):
        assert type(body[k]) is int, f"{k} must be a JSON number: {body}"
    assert body["RegionId"] == legacy.region
    for k in ("SecurityGroupId", "SecurityGroupName", "Description", "SecurityGroupType", "VpcId", "CreationTime", "ResourceGroupId"):
        assert isinstance(g.get(k), str), f"{k} must be a string: {g}"

    body = ok(legacy.call("DescribeSecurityGroups", {"RegionId": legacy.region, "SecurityGroupId": bare}))
    assert body["SecurityGroups"]["SecurityGroup"][0]["Tags"] == {"Tag": []}, "an empty tag list is {\"Tag\": []}"

    body = ok(legacy.call("DescribeSecurityGroups", {"RegionId": legacy.region, "SecurityGroupId": unknown_sg_id()}))
    assert body["SecurityGroups"] == {"SecurityGroup": []}, body

    body = ok(legacy.call("DescribeSecurityGroupAttribute", {"RegionId": legacy.region, "SecurityGroupId": bare}))
    assert body["Permissions"] == {"Permission": []}, body

    body = ok(legacy.call("DescribeRegions", {}))
    assert list(body["Regions"]) == ["Region"] and isinstance(body["Regions"]["Region"], list), body

    ok(legacy.call("TagResources", {"RegionId": legacy.region, "ResourceType": "securitygroup", "ResourceId": [bare], "Tag": [{"Key": "a", "Value": "b"}]}))
    body = ok(legacy.call("ListTagResources", {"RegionId": legacy.region, "ResourceType": "securitygroup", "ResourceId": [bare]}))
    assert body["TagResources"] == {"TagResource": [{"ResourceId": bare, "ResourceType": "securitygroup", "TagKey": "a", "TagValue": "b"}]}, body


def test_legacy_raw_create_and_modify_bodies(legacy, groups, vpcs):
    r = legacy.call("CreateSecurityGroup", {"RegionId": legacy.region, "VpcId": vpcs.new(legacy)})
    body = ok(r)
    groups.track(legacy, legacy.region, body["SecurityGroupId"])
    assert set(body) == {"RequestId", "SecurityGroupId"}, body
    r = legacy.call("ModifySecurityGroupPolicy", {"RegionId": legacy.region, "SecurityGroupId": body["SecurityGroupId"], "InnerAccessPolicy": "Drop"})
    assert set(ok(r)) == {"RequestId"}, r.raw
    assert r.raw.lstrip().startswith("{"), "no action wrapper around JSON bodies"


def test_legacy_raw_error_envelope(legacy):
    r = legacy.call("DescribeSecurityGroupAttribute", {"RegionId": legacy.region, "SecurityGroupId": unknown_sg_id()})
    expect_error(r, "InvalidSecurityGroupId.NotFound", 404)
    err = json.loads(r.raw)
    assert {"RequestId", "HostId", "Code", "Message", "Recommend"} <= set(err), err
    assert err["Code"] == r.code and err["Message"] == r.message and err["RequestId"] == r.request_id
    assert UUID_UPPER.match(err["RequestId"])
    assert "InvalidSecurityGroupId.NotFound" in err["Recommend"], err
    assert ct(r.headers) == JSON_CT, r.headers


# ---------------------------------------------------------------------------------------------
# XML
# ---------------------------------------------------------------------------------------------


def compare_json_xml(value, elem, path):
    """Walks the JSON value and the XML element together (docs/protocol.md §5.2 mapping rules)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "RequestId":
                assert elem.find(k) is not None, f"{path}/{k} missing in XML"
                continue
            child = elem.find(k)
            assert child is not None, f"{path}/{k} missing in XML"
            if isinstance(v, dict) and len(v) == 1 and isinstance(next(iter(v.values())), list):
                singular, items = next(iter(v.items()))
                xml_items = list(child)
                assert all(x.tag == singular for x in xml_items), f"{path}/{k}: children {[x.tag for x in xml_items]} != {singular}"
                assert len(xml_items) == len(items), f"{path}/{k}: {len(xml_items)} XML items, {len(items)} JSON items"
                for i, (jv, xv) in enumerate(zip(items, xml_items)):
                    compare_json_xml(jv, xv, f"{path}/{k}/{singular}[{i}]")
            else:
                compare_json_xml(v, child, f"{path}/{k}")
    else:
        expected = ("true" if value else "false") if isinstance(value, bool) else ("" if value is None else str(value))
        assert (elem.text or "") == expected, f"{path}: XML {elem.text!r} != JSON {value!r}"


@pytest.fixture
def xml_fixture(legacy, groups):
    tagged = groups.create(legacy, SecurityGroupName="xml-" + rand(), Description="x & <y>", Tag=[{"Key": "env", "Value": "a<b"}])
    bare = groups.create(legacy)
    return legacy, tagged, bare


def test_describe_security_groups_xml(raw, xml_fixture):
    legacy, tagged, _ = xml_fixture
    params = {"RegionId": legacy.region, "SecurityGroupId": tagged}
    rx = raw.request("DescribeSecurityGroups", params, fmt="XML")
    assert rx.status == 200, rx.describe()
    assert ct(rx.headers) == XML_CT, rx.headers
    assert rx.text.startswith("<?xml"), rx.text[:100]
    root = rx.xml()
    assert root.tag == "DescribeSecurityGroupsResponse"
    assert UUID_UPPER.match(root.findtext("RequestId") or "")
    assert root.findtext("TotalCount") == "1"
    sgs = root.find("SecurityGroups")
    assert sgs is not None and [c.tag for c in sgs] == ["SecurityGroup"], rx.text
    g = sgs.find("SecurityGroup")
    assert g.findtext("SecurityGroupId") == tagged
    assert g.findtext("Description") == "x & <y>"
    tags = g.find("Tags")
    assert tags is not None and [c.tag for c in tags] == ["Tag"], rx.text
    assert tags.find("Tag").findtext("TagKey") == "env" and tags.find("Tag").findtext("TagValue") == "a<b"

    rj = raw.request("DescribeSecurityGroups", params, fmt="JSON")
    assert rj.status == 200, rj.describe()
    compare_json_xml(rj.json(), root, "DescribeSecurityGroupsResponse")


def test_empty_lists_in_xml(raw, xml_fixture):
    """docs/protocol.md §5.2 (a Decision): empty lists keep their wrapper element."""
    legacy, _, bare = xml_fixture
    rx = raw.request("DescribeSecurityGroups", {"RegionId": legacy.region, "SecurityGroupId": bare}, fmt="XML")
    g = rx.xml().find("SecurityGroups/SecurityGroup")
    assert g is not None, rx.describe()
    tags = g.find("Tags")
    assert tags is not None and len(tags) == 0, rx.text
    rx = raw.request("DescribeSecurityGroupAttribute", {"RegionId": legacy.region, "SecurityGroupId": bare}, fmt="XML")
    root = rx.xml()
    assert root.tag == "DescribeSecurityGroupAttributeResponse"
    perms = root.find("Permissions")
    assert perms is not None and len(perms) == 0, rx.text
    rj = raw.request("DescribeSecurityGroupAttribute", {"RegionId": legacy.region, "SecurityGroupId": bare})
    compare_json_xml(rj.json(), root, root.tag)


@pytest.mark.parametrize(
    "action,params",
    [
        ("DescribeSecurityGroupAttribute", None),
        ("ListTagResources", None),
        ("DescribeRegions", {"AcceptLanguage": "ja"}),
    ],
)
def test_other_xml_bodies_match_json(raw, xml_fixture, action, params):
    legacy, tagged, _ = xml_fixture
    if params is None:
        params = {"RegionId": legacy.region}
        if action == "ListTagResources":
            params.update(ResourceType="securitygroup", ResourceId=[tagged])
        else:
            params["SecurityGroupId"] = tagged
    rx = raw.request(action, params, fmt="XML")
    rj = raw.request(action, params, fmt="JSON")
    assert rx.status == 200 and rj.status == 200, (rx.describe(), rj.describe())
    root = rx.xml()
    assert root.tag == f"{action}Response"
    compare_json_xml(rj.json(), root, root.tag)


def test_legacy_sdk_xml(xml_fixture):
    legacy, tagged, _ = xml_fixture
    r = legacy.call("DescribeSecurityGroups", {"RegionId": legacy.region, "SecurityGroupId": tagged}, fmt="XML")
    assert r.ok, r.describe()
    assert ct(r.headers) == XML_CT, r.headers
    root = ET.fromstring(r.raw.encode("utf-8"))
    assert root.tag == "DescribeSecurityGroupsResponse"
    assert root.findtext("SecurityGroups/SecurityGroup/SecurityGroupId") == tagged
    assert root.findtext("SecurityGroups/SecurityGroup/Tags/Tag/TagKey") == "env"


def test_xml_error_envelope(raw):
    r = raw.request("DescribeSecurityGroupAttribute", {"RegionId": raw.region, "SecurityGroupId": unknown_sg_id()}, fmt="XML")
    assert r.status == 404, r.describe()
    assert ct(r.headers) == XML_CT, r.headers
    root = r.xml()
    assert root.tag == "Error", r.text
    assert root.findtext("Code") == "InvalidSecurityGroupId.NotFound"
    assert (root.findtext("Message") or "").strip()
    assert UUID_UPPER.match(root.findtext("RequestId") or "")
    assert root.find("HostId") is not None and root.find("Recommend") is not None, r.text


# ---------------------------------------------------------------------------------------------
# legacy raw vs model-mapped output
# ---------------------------------------------------------------------------------------------


@pytest.fixture(params=MODEL_VARIANTS)
def model_client(request, pool):
    return pool.get(request.param)


def strip(body):
    return {k: v for k, v in body.items() if k != "RequestId"}


def compare_with_legacy(model_client, twin, action, params, must_have):
    m = ok(model_client.call(action, params))
    r = ok(twin.call(action, params))
    problems = is_submap(strip(m), strip(r))
    assert not problems, "model output differs from the raw body:\n" + "\n".join(problems)
    for path in must_have:
        cur = m
        for part in path.split("."):
            if part.isdigit():
                assert isinstance(cur, list) and len(cur) > int(part), f"{path}: model output lacks it: {m}"
                cur = cur[int(part)]
            else:
                assert isinstance(cur, dict) and part in cur, f"{path}: the SDK model dropped it (shape bug?): {m}\nraw: {r}"
                cur = cur[part]
    return m, r


def test_models_match_raw(model_client, pool, groups, vpcs):
    c = model_client
    twin = pool.get("legacy", c.ak, c.region)
    vpc = vpcs.new(c)
    sg = groups.create(c, VpcId=vpc, SecurityGroupName="cmp-" + rand(), Description="compare me",
                       Tag=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": ""}])
    compare_with_legacy(
        c, twin, "DescribeSecurityGroups", {"RegionId": c.region, "VpcId": vpc},
        ["SecurityGroups.SecurityGroup.0.SecurityGroupId", "SecurityGroups.SecurityGroup.0.Tags.Tag.1.TagKey",
         "SecurityGroups.SecurityGroup.0.CreationTime", "SecurityGroups.SecurityGroup.0.VpcId", "TotalCount"],
    )
    compare_with_legacy(
        c, twin, "DescribeSecurityGroupAttribute", {"RegionId": c.region, "SecurityGroupId": sg},
        ["SecurityGroupId", "InnerAccessPolicy", "Permissions.Permission", "VpcId", "Description"],
    )
    compare_with_legacy(
        c, twin, "ListTagResources", {"RegionId": c.region, "ResourceType": "securitygroup", "ResourceId": [sg]},
        ["TagResources.TagResource.1.TagValue"],
    )
    compare_with_legacy(c, twin, "DescribeRegions", {"AcceptLanguage": "en-US"}, ["Regions.Region.0.LocalName"])


def test_error_data_matches_raw(model_client, pool):
    c = model_client
    twin = pool.get("legacy", c.ak, c.region)
    params = {"RegionId": c.region, "SecurityGroupId": unknown_sg_id(), "InnerAccessPolicy": "Drop"}
    m = c.call("ModifySecurityGroupPolicy", params)
    r = twin.call("ModifySecurityGroupPolicy", params)
    expect_error(m, "InvalidSecurityGroupId.NotFound", 404)
    expect_error(r, "InvalidSecurityGroupId.NotFound", 404)
    raw_err = json.loads(r.raw)
    data = {k: v for k, v in (m.error_body or {}).items() if k != "statusCode"}
    assert set(data) == set(raw_err), (data, raw_err)
    for k in ("Code", "Message"):
        assert data[k] == raw_err[k], (k, data, raw_err)
    # The Tea SDKs wrap Message as "code: 404, <Message> request id: <RequestId>".
    assert m.sdk_message and raw_err["Message"] in m.sdk_message and m.request_id in m.sdk_message, m.sdk_message
