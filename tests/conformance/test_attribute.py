"""DescribeSecurityGroupAttribute (docs/ecs.md §3.4) and ModifySecurityGroupAttribute (docs/ecs.md
§3.5)."""

import pytest

from helpers import (
    attribute,
    describe_one,
    expect_error,
    expect_missing,
    ok,
    rand,
    skip_legacy_region,
    unknown_sg_id,
)

NOT_FOUND = ("InvalidSecurityGroupId.NotFound", 404)


def test_attribute_shape(client, groups, vpcs):
    vpc = vpcs.new(client)
    name = "attr-" + rand()
    sg = groups.create(client, VpcId=vpc, SecurityGroupName=name, Description="shape check")
    a = attribute(client, sg)
    assert a["RegionId"] == client.region
    assert a["SecurityGroupId"] == sg
    assert a["SecurityGroupName"] == name
    assert a["Description"] == "shape check"
    assert a["VpcId"] == vpc
    assert a["InnerAccessPolicy"] == "Accept"
    assert a.get("Permissions") == {"Permission": []}, f"a new group has no rules: {a}"


def test_attribute_unknown_id(client):
    r = client.call("DescribeSecurityGroupAttribute", {"RegionId": client.region, "SecurityGroupId": unknown_sg_id()})
    expect_error(r, *NOT_FOUND)


@pytest.mark.parametrize("bad", ["sg-bad!id", "x" * 101, "sg-a/b"], ids=["bang", "101chars", "slash"])
def test_attribute_malformed_id(client, bad):
    r = client.call("DescribeSecurityGroupAttribute", {"RegionId": client.region, "SecurityGroupId": bad})
    expect_error(r, "InvalidSecurityGroupId.Malformed", 400)


def test_attribute_wrong_region(client, groups):
    """A group lives in one region: asked for in another it does not exist."""
    sg = groups.create(client)
    other = "ap-southeast-1"
    r = client.call("DescribeSecurityGroupAttribute", {"RegionId": other, "SecurityGroupId": sg})
    expect_error(r, *NOT_FOUND)


def test_attribute_missing_params(client):
    r = client.call("DescribeSecurityGroupAttribute", {"RegionId": client.region})
    expect_missing(r, "SecurityGroupId")


def test_attribute_missing_region(client):
    skip_legacy_region(client)
    r = client.call("DescribeSecurityGroupAttribute", {"SecurityGroupId": unknown_sg_id()})
    expect_missing(r, "RegionId", "MissingParameter.RegionId", 400)


def modify(client, sg, **params):
    return client.call("ModifySecurityGroupAttribute", {"RegionId": client.region, "SecurityGroupId": sg, **params})


def test_modify_name_and_description(client, groups):
    sg = groups.create(client, SecurityGroupName="before-" + rand(), Description="before")
    new_name = "after-" + rand()
    ok(modify(client, sg, SecurityGroupName=new_name))
    a = attribute(client, sg)
    assert (a["SecurityGroupName"], a["Description"]) == (new_name, "before"), "an absent Description must stay unchanged"

    ok(modify(client, sg, Description="after a b+c*~/é"))
    a = attribute(client, sg)
    assert (a["SecurityGroupName"], a["Description"]) == (new_name, "after a b+c*~/é"), "an absent name must stay unchanged"

    ok(modify(client, sg, SecurityGroupName="both-" + rand(), Description="both changed"))
    g = describe_one(client, sg)
    assert g["SecurityGroupName"].startswith("both-") and g["Description"] == "both changed"


def test_modify_nothing(client, groups):
    sg = groups.create(client, SecurityGroupName="same-" + rand(), Description="same")
    before = attribute(client, sg)
    ok(modify(client, sg))
    after = attribute(client, sg)
    assert (after["SecurityGroupName"], after["Description"]) == (before["SecurityGroupName"], before["Description"])


def test_modify_empty_description_is_not_an_error(client, groups):
    """A Decision of docs/ecs.md §3.5: an explicit empty Description clears it (the test also
    allows ignoring it), it is not rejected (Terraform sends it when the attribute is removed)."""
    sg = groups.create(client, Description="to be cleared")
    ok(modify(client, sg, Description=""))
    assert attribute(client, sg)["Description"] in ("", "to be cleared")


@pytest.mark.parametrize("name", ["a", "1abc", "http://x", "a" * 129], ids=["1char", "digit-first", "http", "129chars"])
def test_modify_invalid_name(client, groups, name):
    sg = groups.create(client, SecurityGroupName="keep-" + rand())
    expect_error(modify(client, sg, SecurityGroupName=name), "InvalidSecurityGroupName.Malformed", 400)
    assert attribute(client, sg)["SecurityGroupName"].startswith("keep-")


@pytest.mark.parametrize("desc", ["x", "d" * 257, "https://x.example"], ids=["1char", "257chars", "https"])
def test_modify_invalid_description(client, groups, desc):
    sg = groups.create(client, Description="kept")
    expect_error(modify(client, sg, Description=desc), "InvalidSecurityGroupDiscription.Malformed", 400)
    assert attribute(client, sg)["Description"] == "kept"


def test_modify_unknown_id(client):
    expect_error(modify(client, unknown_sg_id(), SecurityGroupName="x" + rand()), *NOT_FOUND)


def test_modify_missing_id(client):
    r = client.call("ModifySecurityGroupAttribute", {"RegionId": client.region, "SecurityGroupName": "n" + rand()})
    expect_missing(r, "SecurityGroupId")


def test_modify_missing_region(client):
    skip_legacy_region(client)
    r = client.call("ModifySecurityGroupAttribute", {"SecurityGroupId": unknown_sg_id(), "SecurityGroupName": "n" + rand()})
    expect_missing(r, "RegionId")
