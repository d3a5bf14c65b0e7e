"""Wire-level behaviour (docs/protocol.md §3, §4): hand-signed V1 requests with exact bytes, plus
the authentication errors as each SDK sees them."""

import json
import urllib.parse
from datetime import datetime, timedelta, timezone

import pytest

import signing
from clients import send, utc_timestamp
from helpers import UUID_UPPER, attribute, expect_error, groups_of, ok, rand, unknown_sg_id

pytestmark = pytest.mark.raw

JSON_CT = "application/json;charset=utf-8"
XML_CT = "text/xml;charset=utf-8"


def ct(r) -> str:
    return r.content_type.replace(" ", "").lower()


def error_of(r, code, status):
    """Asserts a well-formed error envelope (docs/protocol.md §4.1) and returns it."""
    assert r.status == status, r.describe()
    err = r.error()
    assert err.get("Code") == code, r.describe()
    assert (err.get("Message") or "").strip(), r.describe()
    assert UUID_UPPER.match(err.get("RequestId") or ""), r.describe()
    assert "HostId" in err and "Recommend" in err, r.describe()
    return err


def regions_ok(r):
    assert r.status == 200, r.describe()
    body = r.json()
    assert UUID_UPPER.match(body.get("RequestId", "")), body
    assert body["Regions"]["Region"], body
    return body


# ---------------------------------------------------------------------------------------------
# transport: methods, placement, formats
# ---------------------------------------------------------------------------------------------


def test_get_and_post(raw):
    regions_ok(raw.request("DescribeRegions", method="GET"))
    regions_ok(raw.request("DescribeRegions", method="POST"))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_absolute_form_target_is_its_path_and_query(raw, method):
    """What a client sends through an HTTP proxy (RFC 9112, section 3.2.2), as aliyun-python-sdk-core
    does with HTTP_PROXY set: Ansible's footmark reaches the server only this way
    (docs/protocol.md §1.1, test_ansible.py)."""
    regions_ok(raw.request("DescribeRegions", method=method, path="http://ecs.cn-zhangjiakou.aliyuncs.com/"))
    error_of(raw.request("DescribeRegions", path="http://ecs.cn-zhangjiakou.aliyuncs.com/other"), "InvalidAction.NotFound", 404)


@pytest.mark.parametrize("placement", ["form", "split"])
def test_form_body(raw, placement):
    regions_ok(raw.request("DescribeRegions", {"AcceptLanguage": "en-US"}, placement=placement))


def test_form_body_create_and_read_back(raw, raw_vpc):
    """Terraform's tea-rpc style: common params in the query, API params in a form body."""
    desc = "a b+c*~/é&=%20"
    vpc = raw_vpc
    r = raw.request(
        "CreateSecurityGroup",
        {"RegionId": raw.region, "VpcId": vpc, "Description": desc, "SecurityGroupName": "form-" + rand(), "Tag": [{"Key": "k", "Value": "v w"}]},
        placement="split",
    )
    assert r.status == 200, r.describe()
    sg = r.json()["SecurityGroupId"]
    try:
        g = raw.request("DescribeSecurityGroups", {"RegionId": raw.region, "SecurityGroupId": sg}, method="GET").json()
        found = groups_of(g)
        assert len(found) == 1 and found[0]["Description"] == desc and found[0]["VpcId"] == vpc, g
        assert found[0]["Tags"]["Tag"] == [{"TagKey": "k", "TagValue": "v w"}], g
    finally:
        raw.request("DeleteSecurityGroup", {"RegionId": raw.region, "SecurityGroupId": sg})


def test_query_and_form_are_merged(raw):
    """RegionId in the query, the rest in the body: one parameter map."""
    common = raw.common("DescribeSecurityGroupAttribute")
    query = {**common, "RegionId": raw.region}
    form = {"SecurityGroupId": unknown_sg_id()}
    sig = signing.v1_signature("POST", {**query, **form}, raw.sk)
    url = "/?" + urllib.parse.urlencode({**query, "Signature": sig})
    r = send(raw.host, raw.port, "POST", url,
             {"Host": f"{raw.host}:{raw.port}", "Content-Type": "application/x-www-form-urlencoded"},
             urllib.parse.urlencode(form).encode())
    error_of(r, "InvalidSecurityGroupId.NotFound", 404)


def test_plus_is_a_space_and_percent_2b_is_a_plus(raw, raw_vpc):
    sg = None
    try:
        common = raw.common("CreateSecurityGroup")
        api = {"RegionId": raw.region, "VpcId": raw_vpc, "Description": "one two+three"}
        sig = signing.v1_signature("POST", {**common, **api}, raw.sk)
        query = "&".join(f"{k}={urllib.parse.quote_plus(v)}" for k, v in {**common, **api, "Signature": sig}.items())
        assert "one+two%2Bthree" in query
        r = send(raw.host, raw.port, "POST", "/?" + query, {"Host": f"{raw.host}:{raw.port}"}, None)
        assert r.status == 200, r.describe()
        sg = r.json()["SecurityGroupId"]
        a = raw.request("DescribeSecurityGroupAttribute", {"RegionId": raw.region, "SecurityGroupId": sg}).json()
        assert a["Description"] == "one two+three", a
    finally:
        if sg:
            raw.request("DeleteSecurityGroup", {"RegionId": raw.region, "SecurityGroupId": sg})


@pytest.mark.parametrize("fmt,expected", [("JSON", "json"), ("json", "json"), ("XML", "xml"), ("xml", "xml"), (None, "xml")])
def test_format_selection(raw, fmt, expected):
    r = raw.request("DescribeRegions", fmt=fmt)
    assert r.status == 200, r.describe()
    if expected == "json":
        assert ct(r) == JSON_CT, r.describe()
        assert r.json()["Regions"]
    else:
        assert ct(r) == XML_CT, r.describe()
        assert r.xml().tag == "DescribeRegionsResponse"


def test_accept_json_without_format(raw):
    """docs/protocol.md §5.1: no Format, but Accept: application/json -> JSON."""
    r = raw.request("DescribeRegions", fmt=None, headers={"Accept": "application/json"})
    assert r.status == 200 and ct(r) == JSON_CT, r.describe()


def test_error_in_requested_format(raw):
    r = raw.request("DescribeSecurityGroupAttribute", {"RegionId": raw.region, "SecurityGroupId": unknown_sg_id()}, fmt=None)
    assert ct(r) == XML_CT and r.xml().tag == "Error", r.describe()
    err = error_of(r, "InvalidSecurityGroupId.NotFound", 404)
    assert "InvalidSecurityGroupId.NotFound" in err["Recommend"]


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_unsupported_methods(raw, method):
    r = raw.request("DescribeRegions", method=method)
    error_of(r, "UnsupportedHTTPMethod", 403)


def test_oversized_body(raw):
    """Not specified by Alibaba; the server must refuse it with a well-formed error, not hang or crash."""
    body = b"Junk=" + b"x" * (2 * 1024 * 1024)
    r = raw.request("DescribeRegions", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=body)
    assert r.status in (400, 413), r.describe()
    assert r.error().get("Code"), r.describe()
    regions_ok(raw.request("DescribeRegions"))  # and it is still serving


def test_unknown_action(raw):
    error_of(raw.request("DescribeNothingAtAll"), "InvalidAction.NotFound", 404)


def test_unknown_version(raw):
    error_of(raw.request("DescribeRegions", version="2099-01-01"), "InvalidVersion", 400)


def test_missing_action(raw):
    err = error_of(raw.request(None), "MissingParameter", 400)
    assert "Action" in err["Message"]


def test_missing_version(raw):
    err = error_of(raw.request("DescribeRegions", version=None), "MissingParameter", 400)
    assert "Version" in err["Message"]


def test_missing_signature(raw):
    r = raw.request("DescribeRegions", sign=False)
    assert r.status == 400, r.describe()
    assert r.error()["Code"] in ("MissingParameter", "IncompleteSignature"), r.describe()


def test_missing_access_key_id(raw):
    r = raw.request("DescribeRegions", overrides={"AccessKeyId": None})
    assert r.status == 400, r.describe()
    assert r.error()["Code"] in ("MissingParameter", "IncompleteSignature"), r.describe()


def test_bad_signature_echoes_string_to_sign(raw):
    r = raw.request("DescribeRegions", secret="not-the-secret")
    err = error_of(r, "SignatureDoesNotMatch", 400)
    # The legacy SDK does Message.split(':')[1] and compares it with its own StringToSign.
    assert ":" in err["Message"], err
    assert err["Message"].split(":")[1] == r.string_to_sign, (err["Message"], r.string_to_sign)


def test_signature_over_the_wrong_method(raw):
    """Signed as GET but sent as POST."""
    common = raw.common("DescribeRegions")
    sig = signing.v1_signature("GET", common, raw.sk)
    r = send(raw.host, raw.port, "POST", "/?" + urllib.parse.urlencode({**common, "Signature": sig}), {"Host": f"{raw.host}:{raw.port}"}, None)
    error_of(r, "SignatureDoesNotMatch", 400)


def test_tampered_parameter(raw):
    common = raw.common("DescribeRegions")
    api = {"AcceptLanguage": "en-US"}
    sig = signing.v1_signature("POST", {**common, **api}, raw.sk)
    url = "/?" + urllib.parse.urlencode({**common, "AcceptLanguage": "ja", "Signature": sig})
    error_of(send(raw.host, raw.port, "POST", url, {"Host": f"{raw.host}:{raw.port}"}, None), "SignatureDoesNotMatch", 400)


def test_unknown_access_key(raw):
    r = raw.request("DescribeRegions", overrides={"AccessKeyId": "no-such-key-" + rand()})
    error_of(r, "InvalidAccessKeyId.NotFound", 404)


def test_bad_signature_method(raw):
    error_of(raw.request("DescribeRegions", overrides={"SignatureMethod": "HMAC-MD5"}), "InvalidParamater", 400)


@pytest.mark.parametrize("minutes", [-20, 20, -60 * 24])
def test_expired_timestamp(raw, minutes):
    ts = utc_timestamp(datetime.now(timezone.utc) + timedelta(minutes=minutes))
    error_of(raw.request("DescribeRegions", overrides={"Timestamp": ts}), "InvalidTimeStamp.Expired", 400)


@pytest.mark.parametrize("minutes", [-10, 10])
def test_timestamp_within_window(raw, minutes):
    ts = utc_timestamp(datetime.now(timezone.utc) + timedelta(minutes=minutes))
    regions_ok(raw.request("DescribeRegions", overrides={"Timestamp": ts}))


@pytest.mark.parametrize("ts", ["yesterday", "2024-13-45T99:00:00Z"])
def test_malformed_timestamp(raw, ts):
    error_of(raw.request("DescribeRegions", overrides={"Timestamp": ts}), "InvalidTimeStamp.Format", 400)


def test_replayed_nonce(raw):
    nonce = "nonce-" + rand(24)
    regions_ok(raw.request("DescribeRegions", overrides={"SignatureNonce": nonce}))
    error_of(raw.request("DescribeRegions", overrides={"SignatureNonce": nonce}), "SignatureNonceUsed", 400)


@pytest.mark.parametrize("value", ["true", "True", "TRUE"])
def test_booleans_are_case_insensitive(raw, value):
    r = raw.request("DescribeSecurityGroups", {"RegionId": raw.region, "DryRun": value})
    error_of(r, "DryRunOperation", 400)


def test_dry_run_false_runs(raw):
    r = raw.request("DescribeSecurityGroups", {"RegionId": raw.region, "DryRun": "false"})
    assert r.status == 200, r.describe()


def test_deprecated_lowercase_tag_aliases(raw, raw_vpc):
    """docs/protocol.md §2.4: Tag.N.key / Tag.N.value are documented deprecated aliases on
    CreateSecurityGroup."""
    r = raw.request("CreateSecurityGroup", {"RegionId": raw.region, "VpcId": raw_vpc, "Tag.1.key": "old", "Tag.1.value": "style"})
    assert r.status == 200, r.describe()
    sg = r.json()["SecurityGroupId"]
    try:
        g = groups_of(raw.request("DescribeSecurityGroups", {"RegionId": raw.region, "SecurityGroupId": sg}).json())[0]
        assert g["Tags"]["Tag"] == [{"TagKey": "old", "TagValue": "style"}], g
    finally:
        raw.request("DeleteSecurityGroup", {"RegionId": raw.region, "SecurityGroupId": sg})


def test_index_gaps_are_tolerated(raw, raw_vpc):
    r = raw.request("CreateSecurityGroup", {
        "RegionId": raw.region, "VpcId": raw_vpc,
        "Tag.3.Key": "c", "Tag.3.Value": "3", "Tag.1.Key": "a", "Tag.1.Value": "1", "Tag.10.Key": "j", "Tag.10.Value": "10",
    })
    assert r.status == 200, r.describe()
    sg = r.json()["SecurityGroupId"]
    try:
        g = groups_of(raw.request("DescribeSecurityGroups", {"RegionId": raw.region, "SecurityGroupId": sg}).json())[0]
        assert {t["TagKey"]: t["TagValue"] for t in g["Tags"]["Tag"]} == {"a": "1", "c": "3", "j": "10"}, g
    finally:
        raw.request("DeleteSecurityGroup", {"RegionId": raw.region, "SecurityGroupId": sg})


def test_owner_parameters_are_ignored(raw):
    r = raw.request("DescribeSecurityGroups", {"RegionId": raw.region, "OwnerId": "123", "OwnerAccount": "x",
                                               "ResourceOwnerId": "456", "ResourceOwnerAccount": "y"})
    assert r.status == 200, r.describe()


def test_unknown_region(raw):
    r = raw.request("DescribeSecurityGroups", {"RegionId": "xx-nowhere-9"})
    error_of(r, "InvalidRegionId.NotFound", 404)


def test_request_ids_are_unique_uppercase_uuids(raw):
    r = raw.request("DescribeRegions")
    assert UUID_UPPER.match(r.json()["RequestId"])
    r2 = raw.request("DescribeRegions")
    assert r2.json()["RequestId"] != r.json()["RequestId"], "RequestIds must be unique"


# ---------------------------------------------------------------------------------------------
# authentication errors as each SDK sees them (parametrized over the five variants)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant_name", ["legacy", "tea", "tea-v1", "node", "node-v1"])
def test_wrong_secret(pool, variant_name):
    c = pool.with_secret(variant_name, "testid", "wrong-secret")
    # The legacy CommonRequest keeps its StringToSign on an inner request, so its SDK never
    # recognises the mismatch: a plain SignatureDoesNotMatch (and no IndexError) is expected.
    expect_error(c.call("DescribeRegions", {}), "SignatureDoesNotMatch", 400)


def test_wrong_secret_legacy_generated_request(pool):
    """With a generated aliyunsdkecs request class the legacy SDK compares the text after the
    first ':' of Message with its own StringToSign and, when equal, reports
    InvalidAccessKeySecret (docs/clients.md §4.2): this only happens if
    the server echoes exactly the StringToSign it computed."""
    from aliyunsdkecs.request.v20140526.DescribeRegionsRequest import DescribeRegionsRequest

    c = pool.with_secret("legacy", "testid", "wrong-secret")
    req = DescribeRegionsRequest()
    req.set_endpoint(c.host)
    req.set_protocol_type("http")
    req.set_accept_format("JSON")
    r = c.send_request(req, "DescribeRegions")
    expect_error(r, "InvalidAccessKeySecret", 400)

    good = pool.get("legacy")
    req = DescribeRegionsRequest()
    req.set_endpoint(good.host)
    req.set_protocol_type("http")
    req.set_accept_format("JSON")
    req.set_AcceptLanguage("en-US")
    r = good.send_request(req, "DescribeRegions")
    assert r.ok and r.body["Regions"]["Region"], r.describe()


@pytest.mark.parametrize("variant_name", ["legacy", "tea", "tea-v1", "node", "node-v1"])
def test_unknown_access_key_via_sdk(pool, variant_name):
    c = pool.with_secret(variant_name, "unknown-" + rand(), "whatever")
    expect_error(c.call("DescribeRegions", {}), "InvalidAccessKeyId.NotFound", 404)


@pytest.mark.parametrize("variant_name", ["tea", "node"])
def test_v3_answers_json_without_format(pool, variant_name, groups):
    """V3 requests carry no Format: the answer must be JSON (else the SDK could not parse it)."""
    c = pool.get(variant_name)
    sg = groups.create(c)
    assert attribute(c, sg)["SecurityGroupId"] == sg
    assert json.dumps(ok(c.call("DescribeRegions", {})))
