"""DeleteSecurityGroup (docs/ecs.md §3.2)."""

from helpers import expect_error, expect_missing, groups_of, ok, skip_legacy_region, unknown_sg_id

# docs/ecs.md §3.2: the current doc says InvalidSecurityGroup.NotFound, every other op and the
# common table say InvalidSecurityGroupId.NotFound; either, with 404.
DELETE_NOT_FOUND = ({"InvalidSecurityGroupId.NotFound", "InvalidSecurityGroup.NotFound"}, 404)


def delete(client, sg):
    return client.call("DeleteSecurityGroup", {"RegionId": client.region, "SecurityGroupId": sg})


def test_delete_then_gone(client, groups):
    sg = groups.create(client, Tag=[{"Key": "doomed", "Value": "yes"}])
    body = ok(delete(client, sg))
    assert set(body) <= {"RequestId"}, body
    r = client.call("DescribeSecurityGroupAttribute", {"RegionId": client.region, "SecurityGroupId": sg})
    expect_error(r, "InvalidSecurityGroupId.NotFound", 404)
    listed = ok(client.call("DescribeSecurityGroups", {"RegionId": client.region, "SecurityGroupId": sg}))
    assert groups_of(listed) == []
    r = client.call("ModifySecurityGroupPolicy", {"RegionId": client.region, "SecurityGroupId": sg, "InnerAccessPolicy": "Drop"})
    expect_error(r, "InvalidSecurityGroupId.NotFound", 404)
    expect_error(delete(client, sg), *DELETE_NOT_FOUND)


def test_delete_enterprise(client, groups):
    sg = groups.create(client, SecurityGroupType="enterprise")
    ok(delete(client, sg))
    expect_error(delete(client, sg), *DELETE_NOT_FOUND)


def test_delete_unknown(client):
    expect_error(delete(client, unknown_sg_id()), *DELETE_NOT_FOUND)


def test_delete_missing_id(client):
    expect_missing(client.call("DeleteSecurityGroup", {"RegionId": client.region}), "SecurityGroupId")


def test_delete_missing_region(client, groups):
    skip_legacy_region(client)
    sg = groups.create(client)
    r = client.call("DeleteSecurityGroup", {"SecurityGroupId": sg})
    expect_missing(r, "RegionId", "MissingParameter.RegionId", 400)
    ok(client.call("DescribeSecurityGroupAttribute", {"RegionId": client.region, "SecurityGroupId": sg}))
