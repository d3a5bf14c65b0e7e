"""DescribeRegions (docs/ecs.md §5)."""

import pytest

from helpers import expect_error, ok

LANGS = ("zh-CN", "en-US", "ja")


def regions(client, lang=None):
    params = {} if lang is None else {"AcceptLanguage": lang}
    body = ok(client.call("DescribeRegions", params))
    wrapper = body.get("Regions")
    assert isinstance(wrapper, dict) and isinstance(wrapper.get("Region"), list), f"expected Regions.Region[]: {body}"
    assert wrapper["Region"], "no regions at all"
    return wrapper["Region"]


def test_region_fields(client):
    for r in regions(client, "en-US"):
        for field in ("RegionId", "LocalName", "RegionEndpoint", "Status"):
            assert isinstance(r.get(field), str) and r[field], f"{field} missing in {r}"
        assert r["Status"] in ("available", "soldOut"), r
        assert r["RegionEndpoint"] == f"ecs.{r['RegionId']}.aliyuncs.com", r


def test_local_name_follows_accept_language(client):
    by_lang = {lang: {r["RegionId"]: r["LocalName"] for r in regions(client, lang)} for lang in LANGS}
    ids = set(by_lang["zh-CN"])
    assert set(by_lang["en-US"]) == ids and set(by_lang["ja"]) == ids, "the region set depends on the language"
    # Regions this suite works in must all be offered.
    assert {"cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "cn-qingdao", "cn-zhangjiakou"} <= ids
    assert by_lang["en-US"]["cn-hangzhou"] == "China (Hangzhou)"
    assert by_lang["zh-CN"]["cn-hangzhou"] != by_lang["en-US"]["cn-hangzhou"]
    assert by_lang["ja"]["cn-hangzhou"] != by_lang["en-US"]["cn-hangzhou"]
    assert "杭州" in by_lang["zh-CN"]["cn-hangzhou"], by_lang["zh-CN"]["cn-hangzhou"]
    # zh-CN is the default language.
    assert {r["RegionId"]: r["LocalName"] for r in regions(client)} == by_lang["zh-CN"]


def test_unknown_accept_language(client):
    # 2021 error table of DescribeRegions.
    expect_error(client.call("DescribeRegions", {"AcceptLanguage": "xx-YY"}), "InvalidAcceptLanguage.NotFound", 404)


@pytest.mark.raw
def test_describe_regions_xml(raw):
    r = raw.request("DescribeRegions", {"AcceptLanguage": "en-US"}, fmt="XML")
    assert r.status == 200, r.describe()
    assert r.content_type.replace(" ", "").lower() == "text/xml;charset=utf-8", r.describe()
    root = r.xml()
    assert root.tag == "DescribeRegionsResponse", r.describe()
    assert root.findtext("RequestId")
    regions_el = root.find("Regions")
    assert regions_el is not None, r.describe()
    items = regions_el.findall("Region")
    assert items and len(items) == len(list(regions_el)), "Regions must hold only <Region> children"
    hz = [x for x in items if x.findtext("RegionId") == "cn-hangzhou"]
    assert hz and hz[0].findtext("LocalName") == "China (Hangzhou)"
    assert hz[0].findtext("RegionEndpoint") == "ecs.cn-hangzhou.aliyuncs.com"
    assert hz[0].findtext("Status") in ("available", "soldOut")
