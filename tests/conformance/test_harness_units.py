"""Unit tests of the harness itself (no server)."""

from clients import flatten, snake
from helpers import is_submap


def test_flatten_structured_params():
    assert flatten(
        {
            "RegionId": "cn-hangzhou",
            "Tag": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": ""}],
            "ResourceId": ["sg-1", "sg-2"],
            "SecurityGroupIds": '["sg-1"]',
            "TagFilter": [{"TagKey": "k", "TagValues": ["x", "y"]}],
            "DryRun": True,
            "PageSize": 2,
            "Skipped": None,
        }
    ) == {
        "RegionId": "cn-hangzhou",
        "Tag.1.Key": "a",
        "Tag.1.Value": "1",
        "Tag.2.Key": "b",
        "Tag.2.Value": "",
        "ResourceId.1": "sg-1",
        "ResourceId.2": "sg-2",
        "SecurityGroupIds": '["sg-1"]',
        "TagFilter.1.TagKey": "k",
        "TagFilter.1.TagValues.1": "x",
        "TagFilter.1.TagValues.2": "y",
        "DryRun": "true",
        "PageSize": "2",
    }


def test_snake_case_method_names():
    assert snake("DescribeSecurityGroupAttribute") == "describe_security_group_attribute"
    assert snake("ListTagResources") == "list_tag_resources"


def test_is_submap_reports_dropped_or_changed_values():
    raw = {"A": {"B": [{"C": 1, "D": "x"}]}, "E": ""}
    assert is_submap({"A": {"B": [{"C": 1}]}}, raw) == []
    assert is_submap({"A": {"B": [{"C": 2}]}}, raw)
    assert is_submap({"A": {"B": []}}, raw)
    assert is_submap({"Z": 1}, raw)
