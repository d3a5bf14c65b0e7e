"""TagResources / UntagResources / ListTagResources with ResourceType=securitygroup
(docs/ecs.md §4)."""

import pytest

from helpers import (
    describe_one,
    expect_error,
    expect_missing,
    ok,
    rand,
    skip_legacy_region,
    tag_resources_of,
    tags_of,
    unknown_sg_id,
)

RT = "securitygroup"


def tag(client, ids, tags, **extra):
    return client.call(
        "TagResources", {"RegionId": client.region, "ResourceType": RT, "ResourceId": list(ids), "Tag": tags, **extra}
    )


def untag(client, ids, keys=None, **extra):
    p = {"RegionId": client.region, "ResourceType": RT, "ResourceId": list(ids), **extra}
    if keys is not None:
        p["TagKey"] = list(keys)
    return client.call("UntagResources", p)


def listed(client, **params):
    body = ok(client.call("ListTagResources", {"RegionId": client.region, "ResourceType": RT, **params}))
    return tag_resources_of(body)


def pairs(entries):
    return {(e["ResourceId"], e["TagKey"], e["TagValue"]) for e in entries}


def test_tag_list_untag_cycle(client, groups):
    sg = groups.create(client)
    body = ok(tag(client, [sg], [{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": ""}]))
    assert set(body) <= {"RequestId"}, body

    entries = listed(client, ResourceId=[sg])
    assert pairs(entries) == {(sg, "k1", "v1"), (sg, "k2", "")}
    assert {e["ResourceType"] for e in entries} == {RT}
    assert tags_of(describe_one(client, sg)) == {"k1": "v1", "k2": ""}

    # An existing key is overwritten.
    ok(tag(client, [sg], [{"Key": "k1", "Value": "v1b"}]))
    assert tags_of(describe_one(client, sg)) == {"k1": "v1b", "k2": ""}

    ok(untag(client, [sg], ["k1"]))
    assert pairs(listed(client, ResourceId=[sg])) == {(sg, "k2", "")}
    assert tags_of(describe_one(client, sg)) == {"k2": ""}

    # Removing a key that is not there is not an error.
    ok(untag(client, [sg], ["never-set"]))

    ok(tag(client, [sg], [{"Key": "k3", "Value": "x"}, {"Key": "k4", "Value": "y"}]))
    ok(untag(client, [sg], All=True))
    assert listed(client, ResourceId=[sg]) == []
    assert tags_of(describe_one(client, sg)) == {}


def test_several_resources_and_tag_filter(client, groups):
    a, b, c = groups.create(client), groups.create(client), groups.create(client)
    key, value = "team-" + rand(), "v-" + rand()
    ok(tag(client, [a, b], [{"Key": key, "Value": value}]))
    ok(tag(client, [c], [{"Key": key, "Value": "other"}]))
    assert pairs(listed(client, ResourceId=[a, b, c])) == {(a, key, value), (b, key, value), (c, key, "other")}
    by_tag = listed(client, Tag=[{"Key": key, "Value": value}])
    assert {e["ResourceId"] for e in by_tag} == {a, b}
    assert all(e["ResourceType"] == RT for e in by_tag)


def test_tags_are_removed_with_the_group(client, groups):
    sg = groups.create(client)
    key = "gone-" + rand()
    ok(tag(client, [sg], [{"Key": key, "Value": "soon"}]))
    assert {e["ResourceId"] for e in listed(client, Tag=[{"Key": key, "Value": "soon"}])} == {sg}
    ok(client.call("DeleteSecurityGroup", {"RegionId": client.region, "SecurityGroupId": sg}))
    assert listed(client, Tag=[{"Key": key, "Value": "soon"}]) == []


def test_tag_unknown_resource(client, groups):
    sg = groups.create(client)
    r = tag(client, [sg, unknown_sg_id()], [{"Key": "k", "Value": "v"}])
    expect_error(r, "InvalidResourceId.NotFound", 404)
    assert tags_of(describe_one(client, sg)) == {}, "a failed TagResources must not tag anything"


def test_untag_unknown_resource(client):
    expect_error(untag(client, [unknown_sg_id()], ["k"]), "InvalidResourceId.NotFound", 404)


def test_unknown_resource_type(client, groups):
    sg = groups.create(client)
    expect_error(tag(client, [sg], [{"Key": "k", "Value": "v"}], ResourceType="bogustype"), "InvalidResourceType.NotFound", 404)


INVALID = {
    "aliyun-key": ([{"Key": "aliyun-k", "Value": "v"}], "InvalidTagKey.Malformed"),
    "acs-key": ([{"Key": "acs:k", "Value": "v"}], "InvalidTagKey.Malformed"),
    "empty-key": ([{"Key": "", "Value": "v"}], "InvalidTagKey.Malformed"),
    "key-129": ([{"Key": "k" * 129, "Value": "v"}], "InvalidTagKey.Malformed"),
    "value-129": ([{"Key": "k", "Value": "v" * 129}], "InvalidTagValue.Malformed"),
    "duplicate": ([{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}], "Duplicate.TagKey"),
    "21-tags": ([{"Key": f"k{i}", "Value": "v"} for i in range(21)], "NumberExceed.Tags"),
}


@pytest.mark.parametrize("tags,code", INVALID.values(), ids=INVALID.keys())
def test_invalid_tags(client, groups, tags, code):
    sg = groups.create(client)
    expect_error(tag(client, [sg], tags), code, 400)
    assert tags_of(describe_one(client, sg)) == {}


def test_too_many_resource_ids(client, groups):
    sg = groups.create(client)
    ids = [sg] + [unknown_sg_id() for _ in range(50)]
    expect_error(tag(client, ids, [{"Key": "k", "Value": "v"}]), "NumberExceed.ResourceIds", 400)


# docs/ecs.md §4: MissingParameter.<X> with HTTP 404 for the tag APIs.
def test_tag_missing_resource_type(client, groups):
    sg = groups.create(client)
    r = client.call("TagResources", {"RegionId": client.region, "ResourceId": [sg], "Tag": [{"Key": "k", "Value": "v"}]})
    expect_error(r, "MissingParameter.ResourceType", 404)


def test_tag_missing_resource_ids(client):
    r = client.call("TagResources", {"RegionId": client.region, "ResourceType": RT, "Tag": [{"Key": "k", "Value": "v"}]})
    expect_error(r, "MissingParameter.ResourceIds", 404)


def test_tag_missing_tags(client, groups):
    sg = groups.create(client)
    r = client.call("TagResources", {"RegionId": client.region, "ResourceType": RT, "ResourceId": [sg]})
    expect_error(r, "MissingParameter.Tags", 404)


def test_tag_missing_region(client, groups):
    skip_legacy_region(client)
    sg = groups.create(client)
    r = client.call("TagResources", {"ResourceType": RT, "ResourceId": [sg], "Tag": [{"Key": "k", "Value": "v"}]})
    expect_missing(r, "RegionId", "MissingParameter.RegionId", 404)


def test_list_missing_resource_type(client, groups):
    sg = groups.create(client)
    r = client.call("ListTagResources", {"RegionId": client.region, "ResourceId": [sg]})
    expect_error(r, "MissingParameter.ResourceType", 404)
