"""ModifySecurityGroupPolicy (docs/ecs.md §3.6, §2.2, §2.8)."""

import uuid

import pytest

from helpers import attribute, expect_error, expect_missing, ok, skip_legacy_region, unknown_sg_id

MSG_POLICY = "The Policy is invalid. Only 'Accept' and 'Drop' are supported. Ignore case."
MSG_MALFORMED_ID = (
    "The SecurityGroupId is invalid. Only letters, numbers and underscores are supported. "
    "Maximum length is 100 characters."
)
MSG_ENTERPRISE = "The InnerAccessPolicy attribute of enterprise level security group can't be modified."
MSG_NOT_FOUND = "The specified SecurityGroupId does not exist."


def policy(client, sg, value, **extra):
    params = {"RegionId": client.region, "SecurityGroupId": sg, "InnerAccessPolicy": value, **extra}
    return client.call("ModifySecurityGroupPolicy", params)


# Each step changes the stored value, so every step is observable.
SEQUENCE = [
    ("drop", "Drop"),
    ("accept", "Accept"),
    ("DROP", "Drop"),
    ("ACCEPT", "Accept"),
    ("Drop", "Drop"),
    ("Accept", "Accept"),
    ("dRoP", "Drop"),
    ("aCCEPT", "Accept"),
]


def test_policy_values_are_case_insensitive_and_stored_capitalised(client, groups):
    sg = groups.create(client)
    assert attribute(client, sg)["InnerAccessPolicy"] == "Accept"
    for sent, stored in SEQUENCE:
        body = ok(policy(client, sg, sent))
        assert set(body) <= {"RequestId"}, f"ModifySecurityGroupPolicy returns only RequestId: {body}"
        assert attribute(client, sg)["InnerAccessPolicy"] == stored, f"after {sent!r}"


def test_setting_the_same_value_again(client, groups):
    sg = groups.create(client)
    ok(policy(client, sg, "Accept"))
    assert attribute(client, sg)["InnerAccessPolicy"] == "Accept"
    ok(policy(client, sg, "Drop"))
    ok(policy(client, sg, "drop"))
    assert attribute(client, sg)["InnerAccessPolicy"] == "Drop"


@pytest.mark.parametrize("value", ["allow", "deny", "Drop1", "accepted", "ACCEPT;", "0"])
def test_malformed_policy(client, groups, value):
    sg = groups.create(client)
    expect_error(policy(client, sg, value), "InvalidPolicy.Malformed", 400, message=MSG_POLICY)
    assert attribute(client, sg)["InnerAccessPolicy"] == "Accept", "a rejected call must not change the group"


@pytest.mark.parametrize(
    "bad", ["sg-bad!id", "x" * 101, "sg-a/b", "sg-a b"], ids=["bang", "101chars", "slash", "space"]
)
def test_malformed_group_id(client, bad):
    expect_error(policy(client, bad, "Drop"), "InvalidSecurityGroupId.Malformed", 400, message=MSG_MALFORMED_ID)


@pytest.mark.parametrize("sg", [unknown_sg_id(), "sg-" + "a" * 97], ids=["sg-20", "100chars"])
def test_unknown_group(client, sg):
    expect_error(policy(client, sg, "Drop"), "InvalidSecurityGroupId.NotFound", 404, message=MSG_NOT_FOUND)


@pytest.mark.parametrize("value", ["Accept", "Drop", "drop", "ACCEPT"])
def test_enterprise_group_refuses_any_value(client, groups, value):
    sg = groups.create(client, SecurityGroupType="enterprise")
    r = policy(client, sg, value)
    expect_error(r, "InvalidParameter.InnerAccessPolicy", 404, message=MSG_ENTERPRISE)
    assert attribute(client, sg)["InnerAccessPolicy"] == "Drop"


def test_missing_policy(client, groups):
    sg = groups.create(client)
    r = client.call("ModifySecurityGroupPolicy", {"RegionId": client.region, "SecurityGroupId": sg})
    expect_missing(r, "InnerAccessPolicy")


def test_missing_group_id(client):
    r = client.call("ModifySecurityGroupPolicy", {"RegionId": client.region, "InnerAccessPolicy": "Drop"})
    expect_missing(r, "SecurityGroupId")


def test_missing_region(client, groups):
    skip_legacy_region(client)
    sg = groups.create(client)
    r = client.call("ModifySecurityGroupPolicy", {"SecurityGroupId": sg, "InnerAccessPolicy": "Drop"})
    # The op's table documents the misspelt code.
    expect_missing(r, "RegionId", "MissingParamter.RegionId", 400)
    assert attribute(client, sg)["InnerAccessPolicy"] == "Accept"


def test_client_token(client, groups):
    sg = groups.create(client)
    token = "pol-" + uuid.uuid4().hex
    ok(policy(client, sg, "Drop", ClientToken=token))
    ok(policy(client, sg, "Drop", ClientToken=token))
    assert attribute(client, sg)["InnerAccessPolicy"] == "Drop"
    expect_error(policy(client, sg, "Accept", ClientToken=token), "IdempotentParameterMismatch", 400)
    assert attribute(client, sg)["InnerAccessPolicy"] == "Drop"


def test_replayed_token_does_not_undo_a_later_change(client, groups):
    """Same token + same parameters replays the first *result*; state is not changed again."""
    sg = groups.create(client)
    token = "pol-" + uuid.uuid4().hex
    ok(policy(client, sg, "Drop", ClientToken=token))
    ok(policy(client, sg, "Accept"))
    ok(policy(client, sg, "Drop", ClientToken=token))
    assert attribute(client, sg)["InnerAccessPolicy"] == "Accept"
