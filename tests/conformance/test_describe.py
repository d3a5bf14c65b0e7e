"""DescribeSecurityGroups filters and paging (docs/ecs.md §3.3)."""

import json

import pytest

from helpers import expect_error, expect_missing, groups_of, ids_of, ok, rand, skip_legacy_region, unknown_sg_id


@pytest.fixture
def fleet(client, groups, vpcs):
    """Three groups in one fresh VPC and one in another."""
    vpc, other_vpc = vpcs.new(client), vpcs.new(client)
    rg = "rg-" + rand(17)
    tag_value = "prod-" + rand()
    f = {
        "vpc": vpc,
        "other_vpc": other_vpc,
        "rg": rg,
        "tag_value": tag_value,
        "alpha_name": "alpha-" + rand(),
        "gamma_env": "dev-" + rand(),
    }
    f["alpha"] = groups.create(client, VpcId=vpc, SecurityGroupName=f["alpha_name"])
    f["beta"] = groups.create(
        client, VpcId=vpc, SecurityGroupName="beta-" + rand(), SecurityGroupType="enterprise",
        Tag=[{"Key": "env", "Value": tag_value}],
    )
    f["gamma"] = groups.create(
        client, VpcId=vpc, SecurityGroupName="gamma-" + rand(), ResourceGroupId=rg,
        Tag=[{"Key": "env", "Value": f["gamma_env"]}, {"Key": "tier", "Value": "web"}],
    )
    f["delta"] = groups.create(client, VpcId=other_vpc, SecurityGroupName="delta-" + rand())
    return f


def describe(client, **params):
    return ok(client.call("DescribeSecurityGroups", {"RegionId": client.region, **params}))


def test_filters(client, fleet):
    f = fleet
    assert set(ids_of(describe(client, VpcId=f["vpc"]))) == {f["alpha"], f["beta"], f["gamma"]}
    assert ids_of(describe(client, SecurityGroupId=f["alpha"])) == [f["alpha"]]
    assert set(ids_of(describe(client, SecurityGroupIds=json.dumps([f["alpha"], f["gamma"]])))) == {f["alpha"], f["gamma"]}
    assert ids_of(describe(client, SecurityGroupName=f["alpha_name"])) == [f["alpha"]]
    assert ids_of(describe(client, VpcId=f["vpc"], SecurityGroupType="enterprise")) == [f["beta"]]
    assert set(ids_of(describe(client, VpcId=f["vpc"], SecurityGroupType="normal"))) == {f["alpha"], f["gamma"]}
    assert ids_of(describe(client, ResourceGroupId=f["rg"])) == [f["gamma"]]
    assert ids_of(describe(client, Tag=[{"Key": "env", "Value": f["tag_value"]}])) == [f["beta"]]
    # Several tags are ANDed.
    gamma_env = f["gamma_env"]
    both = [{"Key": "env", "Value": gamma_env}, {"Key": "tier", "Value": "web"}]
    assert ids_of(describe(client, Tag=both)) == [f["gamma"]]
    assert ids_of(describe(client, Tag=[{"Key": "env", "Value": gamma_env}, {"Key": "tier", "Value": "db"}])) == []
    # Filters combine.
    assert ids_of(describe(client, VpcId=f["other_vpc"], SecurityGroupId=f["alpha"])) == []
    assert ids_of(describe(client, VpcId=f["other_vpc"])) == [f["delta"]]


def test_listed_group_fields(client, fleet):
    g = groups_of(describe(client, SecurityGroupId=fleet["gamma"]))[0]
    assert g["SecurityGroupId"] == fleet["gamma"]
    assert g["SecurityGroupType"] == "normal"
    assert g["VpcId"] == fleet["vpc"]
    assert g["ResourceGroupId"] == fleet["rg"]
    assert g["SecurityGroupName"].startswith("gamma-")
    assert {t["TagKey"] for t in g["Tags"]["Tag"]} == {"env", "tier"}


def test_unknown_id_gives_empty_list(client):
    body = describe(client, SecurityGroupId=unknown_sg_id())
    assert groups_of(body) == []
    assert body.get("TotalCount") == 0


def test_unknown_ids_in_json_array(client, fleet):
    body = describe(client, SecurityGroupIds=json.dumps([unknown_sg_id(), fleet["alpha"]]))
    assert ids_of(body) == [fleet["alpha"]]


def test_invalid_group_type_filter(client):
    expect_error(
        client.call("DescribeSecurityGroups", {"RegionId": client.region, "SecurityGroupType": "premium"}),
        "InvalidParameter.SecurityGroupType",
        400,
    )


def test_dry_run(client):
    r = client.call("DescribeSecurityGroups", {"RegionId": client.region, "DryRun": True})
    expect_error(r, "DryRunOperation", 400)


def test_missing_region(client):
    skip_legacy_region(client)
    expect_missing(client.call("DescribeSecurityGroups", {}), "RegionId", "MissingParameter.RegionId", 400)


@pytest.fixture
def five(client, groups, vpcs):
    vpc = vpcs.new(client)
    ids = {groups.create(client, VpcId=vpc, SecurityGroupName=f"page{i}-{rand()}") for i in range(5)}
    return vpc, ids


def test_page_number_paging(client, five):
    vpc, ids = five
    seen = []
    for page, expected in ((1, 2), (2, 2), (3, 1), (4, 0)):
        body = describe(client, VpcId=vpc, PageNumber=page, PageSize=2)
        assert body.get("TotalCount") == 5, body
        assert body.get("PageNumber") == page, body
        assert body.get("PageSize") == 2, body
        got = ids_of(body)
        assert len(got) == expected, body
        seen += got
    assert len(seen) == len(set(seen)) and set(seen) == ids


def test_default_page(client, five):
    vpc, ids = five
    body = describe(client, VpcId=vpc)
    assert body.get("PageNumber") == 1 and body.get("PageSize") == 10 and body.get("TotalCount") == 5, body
    assert set(ids_of(body)) == ids


def test_next_token_paging(client, five):
    vpc, ids = five
    seen, token, pages = [], None, 0
    while True:
        params = {"VpcId": vpc, "MaxResults": 2}
        if token:
            params["NextToken"] = token
        body = describe(client, **params)
        got = ids_of(body)
        assert len(got) <= 2, body
        seen += got
        pages += 1
        token = body.get("NextToken")
        if not token:
            break
        assert pages < 10, "NextToken paging does not end"
    assert len(seen) == len(set(seen)) and set(seen) == ids
    assert pages == 3, f"5 groups by 2 should take 3 pages, took {pages}"


def test_invalid_next_token(client):
    r = client.call(
        "DescribeSecurityGroups", {"RegionId": client.region, "MaxResults": 2, "NextToken": "not-a-token!" + rand()}
    )
    expect_error(r, "InValidParameter.NextToken", 400)
