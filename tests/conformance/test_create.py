"""CreateSecurityGroup (docs/ecs.md §3.1, §2.1, §2.8, §2.9)."""

import uuid

import pytest

from helpers import (
    SG_ID,
    UTC_SECONDS,
    attribute,
    describe_one,
    expect_error,
    expect_missing,
    groups_of,
    ok,
    rand,
    skip_legacy_region,
    tags_of,
)

NAME_CODE = ("InvalidSecurityGroupName.Malformed", 400)
# CreateSecurityGroup's current table lists both description codes; either is accepted here.
DESCRIPTION_CODES = ("InvalidDescription.Malformed", "InvalidSecurityGroupDiscription.Malformed")


def test_create_normal_defaults(client, groups, vpcs):
    vpc = vpcs.new(client)
    sg = groups.create(client, VpcId=vpc, SecurityGroupName="web-" + rand(), Description="first group")
    assert SG_ID.match(sg), sg
    g = describe_one(client, sg)
    assert g["SecurityGroupType"] == "normal"
    assert g["VpcId"] == vpc, "VpcId must be stored as given"
    assert g["Description"] == "first group"
    assert g["ResourceGroupId"] == "", "unset string fields are returned as empty strings"
    assert UTC_SECONDS.match(g.get("CreationTime", "")), g
    a = attribute(client, sg)
    assert a["InnerAccessPolicy"] == "Accept"
    assert a["VpcId"] == vpc


def test_create_enterprise(client, groups):
    sg = groups.create(client, SecurityGroupType="enterprise", SecurityGroupName="ent-" + rand())
    assert describe_one(client, sg)["SecurityGroupType"] == "enterprise"
    assert attribute(client, sg)["InnerAccessPolicy"] == "Drop"


def test_create_explicit_normal(client, groups):
    sg = groups.create(client, SecurityGroupType="normal")
    assert describe_one(client, sg)["SecurityGroupType"] == "normal"
    assert attribute(client, sg)["InnerAccessPolicy"] == "Accept"


def test_create_without_name_or_description(client, groups):
    sg = groups.create(client)
    a = attribute(client, sg)
    assert a["SecurityGroupName"] == "" and a["Description"] == ""


def test_invalid_group_type(client, vpcs):
    r = client.call(
        "CreateSecurityGroup", {"RegionId": client.region, "VpcId": vpcs.new(client), "SecurityGroupType": "premium"}
    )
    expect_error(r, "InvalidParams.GroupType", 400)


VALID_NAMES = [
    "ab",
    "web:tier_1.a-b",
    "安全组",
    "a安全组-1",
    "Z" + "x" * 127,  # 128 characters
]


@pytest.mark.parametrize("name", VALID_NAMES, ids=["2chars", "punct", "cjk", "mixed", "128chars"])
def test_valid_names(client, groups, name):
    sg = groups.create(client, SecurityGroupName=name)
    assert attribute(client, sg)["SecurityGroupName"] == name


INVALID_NAMES = {
    "1char": "a",
    "digit-first": "1abc",
    "underscore-first": "_abc",
    "http": "http://abc",
    "https": "https://abc",
    "space": "a b",
    "129chars": "a" * 129,
    "slash": "ab/cd",
}


@pytest.mark.parametrize("name", INVALID_NAMES.values(), ids=INVALID_NAMES.keys())
def test_invalid_names(client, vpcs, name):
    r = client.call("CreateSecurityGroup", {"RegionId": client.region, "VpcId": vpcs.new(client), "SecurityGroupName": name})
    expect_error(r, *NAME_CODE)


VALID_DESCRIPTIONS = {
    "2chars": "ok",
    "256chars": "d" * 256,
    "encoding": "a b+c*~/é&=%20",
    "cjk": "描述 说明",
}


@pytest.mark.parametrize("desc", VALID_DESCRIPTIONS.values(), ids=VALID_DESCRIPTIONS.keys())
def test_valid_descriptions(client, groups, desc):
    sg = groups.create(client, Description=desc)
    assert attribute(client, sg)["Description"] == desc
    assert describe_one(client, sg)["Description"] == desc


INVALID_DESCRIPTIONS = {"1char": "x", "257chars": "d" * 257, "http": "http://x.example", "https": "https://x.example"}


@pytest.mark.parametrize("desc", INVALID_DESCRIPTIONS.values(), ids=INVALID_DESCRIPTIONS.keys())
def test_invalid_descriptions(client, vpcs, desc):
    r = client.call("CreateSecurityGroup", {"RegionId": client.region, "VpcId": vpcs.new(client), "Description": desc})
    expect_error(r, DESCRIPTION_CODES, 400)


def test_create_with_tags(client, groups):
    sg = groups.create(client, Tag=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": ""}])
    assert tags_of(describe_one(client, sg)) == {"env": "prod", "team": ""}


INVALID_TAGS = {
    "aliyun-prefix": ([{"Key": "aliyun-x", "Value": "v"}], "InvalidTagKey.Malformed"),
    "acs-prefix": ([{"Key": "acs:x", "Value": "v"}], "InvalidTagKey.Malformed"),
    "http-key": ([{"Key": "http://k", "Value": "v"}], "InvalidTagKey.Malformed"),
    "key-129": ([{"Key": "k" * 129, "Value": "v"}], "InvalidTagKey.Malformed"),
    "value-129": ([{"Key": "k", "Value": "v" * 129}], "InvalidTagValue.Malformed"),
    "duplicate-key": ([{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}], "Duplicate.TagKey"),
}


@pytest.mark.parametrize("tags,code", INVALID_TAGS.values(), ids=INVALID_TAGS.keys())
def test_invalid_tags(client, vpcs, tags, code):
    r = client.call("CreateSecurityGroup", {"RegionId": client.region, "VpcId": vpcs.new(client), "Tag": tags})
    expect_error(r, code, 400)


def test_resource_group_id(client, groups):
    rg = "rg-" + rand(17)
    sg = groups.create(client, ResourceGroupId=rg)
    assert describe_one(client, sg)["ResourceGroupId"] == rg


def test_client_token_replay(client, groups, vpcs):
    token = "tok-" + uuid.uuid4().hex
    vpc = vpcs.new(client)
    params = {"RegionId": client.region, "VpcId": vpc, "SecurityGroupName": "idem-" + rand(), "ClientToken": token}
    first = ok(client.call("CreateSecurityGroup", params))
    groups.track(client, client.region, first["SecurityGroupId"])
    second = ok(client.call("CreateSecurityGroup", params))
    assert second["SecurityGroupId"] == first["SecurityGroupId"], "a replayed ClientToken must return the same group"
    listed = ok(client.call("DescribeSecurityGroups", {"RegionId": client.region, "VpcId": vpc}))
    assert [g["SecurityGroupId"] for g in groups_of(listed)] == [first["SecurityGroupId"]], "the replay created a group"

    changed = dict(params, SecurityGroupName="other-" + rand())
    expect_error(client.call("CreateSecurityGroup", changed), "IdempotentParameterMismatch", 400)


@pytest.mark.parametrize("token", ["t" * 65, "tökén-ü"], ids=["65chars", "non-ascii"])
def test_invalid_client_token(client, vpcs, token):
    r = client.call("CreateSecurityGroup", {"RegionId": client.region, "VpcId": vpcs.new(client), "ClientToken": token})
    # Not in CreateSecurityGroup's own table; the ECS-wide code (docs/ecs.md §2.8)
    # for a malformed token.
    expect_error(r, "InvalidClientToken.ValueNotSupported", 400)


def test_client_token_of_64_chars_is_fine(client, groups):
    groups.create(client, ClientToken=uuid.uuid4().hex + uuid.uuid4().hex)


def test_missing_region(client, vpcs):
    skip_legacy_region(client)
    r = client.call("CreateSecurityGroup", {"VpcId": vpcs.new(client), "SecurityGroupName": "x" + rand()})
    expect_missing(r, "RegionId")
