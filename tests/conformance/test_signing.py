"""Unit tests of the suite's own signer against the published vectors (docs/protocol.md §3.4).
No server needed: if these fail, every raw-wire test is suspect."""

import hashlib

import signing


def test_v1_vector_of_section_3_6():
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeSecurityGroupAttribute",
        "Description": "a b",
        "Format": "JSON",
        "RegionId": "cn-hangzhou",
        "SecurityGroupId": "sg-bp67acfmxazb4p****",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "0123456789abcdef0123456789abcdef",
        "SignatureVersion": "1.0",
        "Timestamp": "2024-01-01T00:00:00Z",
        "Version": "2014-05-26",
    }
    sts = signing.v1_string_to_sign("POST", params)
    assert sts.startswith(
        "POST&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeSecurityGroupAttribute%26Description%3Da%2520b%26Format%3DJSON"
    )
    assert signing.v1_signature("POST", params, "testsecret") == "tEsqEFePKEBDnjWUBlKST4XxcQY="
    # Signature itself never takes part in the string to sign.
    assert signing.v1_signature("POST", {**params, "Signature": "x"}, "testsecret") == "tEsqEFePKEBDnjWUBlKST4XxcQY="


def test_v1_official_documentation_vector():
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert signing.v1_string_to_sign("GET", params).startswith(
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
    )
    assert signing.v1_signature("GET", params, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_v3_vector_of_section_3_6():
    query = {"Description": "a b", "RegionId": "cn-hangzhou", "SecurityGroupId": "sg-bp67acfmxazb4p****"}
    headers = {
        "host": "ecs.cn-hangzhou.aliyuncs.com",
        "x-acs-action": "DescribeSecurityGroupAttribute",
        "x-acs-version": "2014-05-26",
        "x-acs-date": "2024-01-01T00:00:00Z",
        "x-acs-signature-nonce": "0123456789abcdef0123456789abcdef",
        "x-acs-content-sha256": hashlib.sha256(b"").hexdigest(),
    }
    assert signing.canonical_query(query) == (
        "Description=a%20b&RegionId=cn-hangzhou&SecurityGroupId=sg-bp67acfmxazb4p%2A%2A%2A%2A"
    )
    creq_hash, sig = signing.v3_signature("POST", query, headers, headers.keys(), "testsecret")
    assert creq_hash == "7a1e8657d9ae86c27dc0cd5be2dd6159e9d4dd34e2779aaa95be3e397271d28f"
    assert sig == "e5f7769433fcaf96a50636fb89c1368a2aedeca2e21a26454691d7b95744e8f6"


def test_percent_encoding_rules():
    assert signing.percent_encode("a b") == "a%20b"
    assert signing.percent_encode("*") == "%2A"
    assert signing.percent_encode("~-_.") == "~-_."
    assert signing.percent_encode("+/=") == "%2B%2F%3D"
    assert signing.percent_encode("é") == "%C3%A9"
    assert signing.percent_encode("[\"sg-a\"]") == "%5B%22sg-a%22%5D"
