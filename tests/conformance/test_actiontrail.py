"""ActionTrail (product Actiontrail, version 2020-07-06; docs/actiontrail.md) through its
official Python SDK, alibabacloud-actiontrail20200706 2.6.0, with V3 (`tea`) and V1
(`tea-v1`) signing: a change made through the VPC SDK is found by LookupEvents, shaped as
ActionTrail's events; another account never sees it; malformed lookups are refused by name.
"""

import pytest

from helpers import expect_error, ok

VARIANTS = ["tea", "tea-v1"]


@pytest.fixture(params=VARIANTS)
def trail_variant(request) -> str:
    return request.param


def by_resource(resource_id: str, **extra) -> dict:
    params = {"LookupAttribute": [{"Key": "ResourceName", "Value": resource_id}]}
    params.update(extra)
    return params


def test_a_change_is_found_with_the_real_event_shape(pool, trail_variant):
    vpc_client = pool.get_vpc(trail_variant)
    trail = pool.get_actiontrail(trail_variant)
    vpc_id = ok(vpc_client.call("CreateVpc", {"RegionId": vpc_client.region, "CidrBlock": "10.0.0.0/8"}))["VpcId"]
    try:
        body = ok(trail.call("LookupEvents", by_resource(vpc_id)))
        events = body["Events"]
        assert isinstance(events, list) and len(events) == 1, body
        event = events[0]
        assert event["eventName"] == "CreateVpc"
        assert event["eventRW"] == "Write"
        assert event["eventType"] == "ApiCall"
        assert event["serviceName"] == "Vpc"
        assert event["eventSource"] == "vpc.aliyuncs.com"
        assert event["apiVersion"] == "2016-04-28"
        assert event["acsRegion"] == vpc_client.region
        assert event["userIdentity"]["accessKeyId"] == trail.ak
        assert event["sourceIpAddress"] == "127.0.0.1"
        assert event["requestParameters"]["CidrBlock"] == "10.0.0.0/8"
        assert "Signature" not in event["requestParameters"]
        assert vpc_id in event["resourceName"].split(";")
        assert event["referencedResources"]["ACS::VPC::VPC"] == [vpc_id]
        assert "errorCode" not in event
        assert body["NextToken"] == ""
        assert body["StartTime"].endswith("Z") and body["EndTime"].endswith("Z")

        # By name and write/read.
        named = ok(
            trail.call(
                "LookupEvents",
                {
                    "LookupAttribute": [
                        {"Key": "EventName", "Value": "CreateVpc"},
                        {"Key": "ResourceName", "Value": vpc_id},
                    ]
                },
            )
        )
        assert [e["eventId"] for e in named["Events"]] == [event["eventId"]]
        reads = ok(trail.call("LookupEvents", by_resource(vpc_id, LookupAttribute=[{"Key": "EventRW", "Value": "Read"}])))
        assert reads["Events"] == []
    finally:
        ok(vpc_client.call("DeleteVpc", {"RegionId": vpc_client.region, "VpcId": vpc_id}))
    deleted = ok(trail.call("LookupEvents", by_resource(vpc_id, MaxResults="1")))
    assert [e["eventName"] for e in deleted["Events"]] == ["DeleteVpc"], "newest first"
    assert deleted["NextToken"], "one more page"
    older = ok(trail.call("LookupEvents", by_resource(vpc_id, MaxResults="1", NextToken=deleted["NextToken"])))
    assert [e["eventName"] for e in older["Events"]] == ["CreateVpc"]


def test_another_account_never_sees_the_events(pool, trail_variant, other_account):
    vpc_client = pool.get_vpc(trail_variant)
    vpc_id = ok(vpc_client.call("CreateVpc", {"RegionId": vpc_client.region, "CidrBlock": "10.0.0.0/8"}))["VpcId"]
    try:
        pool.secrets[other_account["AccessKeyId"]] = other_account["AccessKeySecret"]
        stranger = pool.get_actiontrail(trail_variant, other_account["AccessKeyId"])
        assert ok(stranger.call("LookupEvents", by_resource(vpc_id)))["Events"] == []
        mine = ok(pool.get_actiontrail(trail_variant).call("LookupEvents", by_resource(vpc_id)))
        assert len(mine["Events"]) == 1
    finally:
        ok(vpc_client.call("DeleteVpc", {"RegionId": vpc_client.region, "VpcId": vpc_id}))


@pytest.mark.parametrize(
    "params, named",
    [
        ({"MaxResults": "51"}, "MaxResults"),
        ({"StartTime": "yesterday"}, "StartTime"),
        ({"StartTime": "2021-01-02T00:00:00Z", "EndTime": "2021-01-01T00:00:00Z"}, "StartTime"),
        ({"NextToken": "nope"}, "NextToken"),
        ({"LookupAttribute": [{"Key": "Colour", "Value": "red"}]}, "LookupAttribute.1.Key"),
    ],
)
def test_malformed_lookups_are_refused_by_name(pool, trail_variant, params, named):
    r = pool.get_actiontrail(trail_variant).call("LookupEvents", params)
    expect_error(r, "InvalidParameter", 400, message_contains=named)
