"""Account isolation: a second account (created with `secgroup account create`) cannot see,
modify, tag or delete the first account's groups, and gets exactly the answer it would get for
an id that does not exist."""

from helpers import attribute, describe_one, groups_of, ids_of, ok, rand, tag_resources_of, tags_of, unknown_sg_id


def same_error(mine, theirs_unknown):
    """`mine` (another account's group) must fail exactly like `theirs_unknown` (no such id)."""
    assert not mine.ok, f"another account's group was reachable: {mine.describe()}"
    assert not theirs_unknown.ok, theirs_unknown.describe()
    assert (mine.code, mine.status) == (theirs_unknown.code, theirs_unknown.status), (
        f"other account's group: {mine.describe()}\nnonexistent id: {theirs_unknown.describe()}"
    )
    assert mine.status == 404, mine.describe()


def test_other_account_sees_nothing(client, other_client, groups, vpcs):
    assert client.region == other_client.region
    region = client.region
    vpc = vpcs.new(client)
    name = "private-" + rand()
    sg = groups.create(client, VpcId=vpc, SecurityGroupName=name, Description="mine", Tag=[{"Key": "owner", "Value": "a"}])
    ghost = unknown_sg_id()

    def both(action, **params):
        a = other_client.call(action, {"RegionId": region, "SecurityGroupId": sg, **params})
        b = other_client.call(action, {"RegionId": region, "SecurityGroupId": ghost, **params})
        return a, b

    # Reads.
    same_error(*both("DescribeSecurityGroupAttribute"))
    for params in ({"SecurityGroupId": sg}, {"VpcId": vpc}, {"SecurityGroupName": name}, {"SecurityGroupIds": f'["{sg}"]'}):
        body = ok(other_client.call("DescribeSecurityGroups", {"RegionId": region, **params}))
        assert groups_of(body) == [], f"{params}: {body}"
    body = ok(other_client.call("DescribeSecurityGroups", {"RegionId": region, "PageSize": 50}))
    assert sg not in ids_of(body)

    # Writes.
    same_error(*both("ModifySecurityGroupAttribute", SecurityGroupName="stolen-" + rand()))
    same_error(*both("ModifySecurityGroupPolicy", InnerAccessPolicy="Drop"))
    same_error(*both("DeleteSecurityGroup"))

    # Tags.
    def tag_call(target):
        return other_client.call(
            "TagResources",
            {"RegionId": region, "ResourceType": "securitygroup", "ResourceId": [target], "Tag": [{"Key": "owner", "Value": "b"}]},
        )

    same_error(tag_call(sg), tag_call(ghost))

    def untag_call(target):
        return other_client.call(
            "UntagResources", {"RegionId": region, "ResourceType": "securitygroup", "ResourceId": [target], "TagKey": ["owner"]}
        )

    same_error(untag_call(sg), untag_call(ghost))
    listed = other_client.call("ListTagResources", {"RegionId": region, "ResourceType": "securitygroup", "ResourceId": [sg]})
    listed_ghost = other_client.call(
        "ListTagResources", {"RegionId": region, "ResourceType": "securitygroup", "ResourceId": [ghost]}
    )
    assert listed.ok == listed_ghost.ok and listed.code == listed_ghost.code, (listed.describe(), listed_ghost.describe())
    if listed.ok:
        assert tag_resources_of(listed.body) == []
    by_tag = ok(
        other_client.call(
            "ListTagResources",
            {"RegionId": region, "ResourceType": "securitygroup", "Tag": [{"Key": "owner", "Value": "a"}]},
        )
    )
    assert all(e["ResourceId"] != sg for e in tag_resources_of(by_tag))

    # The owner's group is untouched.
    a = attribute(client, sg)
    assert (a["SecurityGroupName"], a["Description"], a["InnerAccessPolicy"]) == (name, "mine", "Accept")
    assert tags_of(describe_one(client, sg)) == {"owner": "a"}


def test_groups_of_the_other_account_are_invisible_to_the_first(client, other_client, groups, vpcs):
    region = client.region
    theirs = groups.create(other_client, SecurityGroupName="theirs-" + rand())
    r = client.call("DescribeSecurityGroupAttribute", {"RegionId": region, "SecurityGroupId": theirs})
    assert not r.ok and (r.code, r.status) == ("InvalidSecurityGroupId.NotFound", 404), r.describe()
    assert attribute(other_client, theirs)["SecurityGroupId"] == theirs
