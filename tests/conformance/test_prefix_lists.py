"""ECS prefix lists (docs/ecs.md §6) through every client variant: the six operations, their
parsed results, the raw JSON/XML shapes and their error codes and statuses.

Each test deletes the lists it created (the per-region quota is 100) and the groups it used.
"""

import re

import pytest

from clients import VARIANTS
from helpers import UTC_SECONDS, expect_error, expect_missing, is_submap, ok, rand

PL_ID = re.compile(r"^pl-[0-9a-z]{20}$")
UNKNOWN_PL = "pl-" + "0" * 20
JSON_CT = "application/json;charset=utf-8"
XML_CT = "text/xml;charset=utf-8"


class PrefixLists:
    """Lists created by a test, deleted after it."""

    def __init__(self):
        self.created: list = []

    def create(self, client, **params) -> str:
        p = {"RegionId": client.region, "AddressFamily": "IPv4", "MaxEntries": 10, "PrefixListName": "pl-" + rand()}
        p.update(params)
        body = ok(client.call("CreatePrefixList", {k: v for k, v in p.items() if v is not None}))
        pl_id = body.get("PrefixListId")
        assert isinstance(pl_id, str) and PL_ID.match(pl_id), body
        self.track(client, pl_id)
        return pl_id

    def track(self, client, pl_id: str) -> None:
        self.created.append((client, client.region, pl_id))

    def cleanup(self) -> None:
        for client, region, pl_id in reversed(self.created):
            try:
                client.call("DeletePrefixList", {"RegionId": region, "PrefixListId": pl_id})
            except Exception:  # noqa: BLE001 - cleanup is best effort
                pass


@pytest.fixture
def prefix_lists():
    """Request it before `groups`, so that groups (and their rules) are deleted first."""
    p = PrefixLists()
    yield p
    p.cleanup()


def attributes(client, pl_id: str) -> dict:
    return ok(client.call("DescribePrefixListAttributes", {"RegionId": client.region, "PrefixListId": pl_id}))


def entries_of(body: dict) -> list[tuple[str, str]]:
    e = body.get("Entries")
    assert isinstance(e, dict) and isinstance(e.get("Entry"), list), f"expected Entries.Entry[]: {body}"
    return [(x.get("Cidr"), x.get("Description", "")) for x in e["Entry"]]


def lists_of(body: dict) -> list[dict]:
    pls = body.get("PrefixLists")
    assert isinstance(pls, dict) and isinstance(pls.get("PrefixList"), list), f"expected PrefixLists.PrefixList[]: {body}"
    return pls["PrefixList"]


def describe(client, **params) -> dict:
    return ok(client.call("DescribePrefixLists", {"RegionId": client.region, **params}))


def modify(client, pl_id: str, **params):
    return client.call("ModifyPrefixList", {"RegionId": client.region, "PrefixListId": pl_id, **params})


# ---------------------------------------------------------------------------------------------
# the operations, per variant
# ---------------------------------------------------------------------------------------------


def test_create_describe_modify_delete(client, prefix_lists):
    name = "office-" + rand()
    pl = prefix_lists.create(
        client,
        PrefixListName=name,
        Description="the office",
        MaxEntries=5,
        Entry=[{"Cidr": "192.168.1.7", "Description": "printer"}, {"Cidr": "10.0.0.0/8"}],
        Tag=[{"Key": "env", "Value": "prod"}],
    )
    a = attributes(client, pl)
    assert (a["PrefixListId"], a["PrefixListName"], a["Description"]) == (pl, name, "the office"), a
    assert (a["AddressFamily"], a["MaxEntries"]) == ("IPv4", 5), a
    assert UTC_SECONDS.match(a["CreationTime"]), a
    assert entries_of(a) == [("192.168.1.7/32", "printer"), ("10.0.0.0/8", "")]

    body = describe(client, PrefixListId=[pl])
    assert body.get("NextToken", "") == "", body
    [summary] = lists_of(body)
    assert summary["PrefixListId"] == pl and summary["PrefixListName"] == name, summary
    assert summary["MaxEntries"] == 5 and summary["AssociationCount"] == 0, summary
    assert summary["CreationTime"] == a["CreationTime"] and summary["AddressFamily"] == "IPv4"
    assert summary["Tags"] == {"Tag": [{"TagKey": "env", "TagValue": "prod"}]}, summary

    # Terraform's description change: the same block removed and added in one call.
    r = modify(client, pl, RemoveEntry=[{"Cidr": "10.0.0.0/8"}], AddEntry=[{"Cidr": "10.0.0.0/8", "Description": "ten"}])
    assert set(ok(r)) == {"RequestId"}, r.describe()
    ok(modify(client, pl, PrefixListName=name + "-b", AddEntry=[{"Cidr": "192.168.1.7/32", "Description": "upsert"}]))
    a = attributes(client, pl)
    assert a["PrefixListName"] == name + "-b"
    assert sorted(entries_of(a)) == [("10.0.0.0/8", "ten"), ("192.168.1.7/32", "upsert")]

    assert set(ok(client.call("DeletePrefixList", {"RegionId": client.region, "PrefixListId": pl}))) == {"RequestId"}
    r = client.call("DescribePrefixListAttributes", {"RegionId": client.region, "PrefixListId": pl})
    expect_error(r, "InvalidPrefixListId.NotFound", 404)
    assert lists_of(describe(client, PrefixListId=[pl])) == []


def test_ipv6_blocks_are_normalised(client, prefix_lists):
    pl = prefix_lists.create(client, AddressFamily="IPv6", Entry=[{"Cidr": "2001:0DB8:0000:0000:0000:0000:0000:0000/32"}])
    assert entries_of(attributes(client, pl)) == [("2001:db8::/32", "")]
    r = modify(client, pl, AddEntry=[{"Cidr": "2001:DB8:0:0:0:0:0:0/32"}, {"Cidr": "2001:db8::/32"}])
    expect_error(r, "InvalidParameter.CidrDuplicated", 400)


def test_describe_filters_and_next_token(client, prefix_lists):
    tag = "t-" + rand()
    made = [prefix_lists.create(client, Tag=[{"Key": tag, "Value": str(i)}]) for i in range(3)]
    v6 = prefix_lists.create(client, AddressFamily="IPv6")
    seen, token = [], None
    while True:
        params = {"MaxResults": 2, "Tag": [{"Key": tag}]}
        if token:
            params["NextToken"] = token
        body = describe(client, **params)
        page = lists_of(body)
        assert len(page) <= 2, body
        seen += [pl["PrefixListId"] for pl in page]
        token = body.get("NextToken")
        if not token:
            break
    assert seen == made
    only = lists_of(describe(client, PrefixListId=made + [v6, UNKNOWN_PL], AddressFamily="IPv6"))
    assert [pl["PrefixListId"] for pl in only] == [v6]
    by_value = lists_of(describe(client, Tag=[{"Key": tag, "Value": "1"}]))
    assert [pl["PrefixListId"] for pl in by_value] == [made[1]]


def test_client_token_replays_create(client, prefix_lists):
    token = "pl-token-" + rand(16)
    name = "once-" + rand()
    first = prefix_lists.create(client, ClientToken=token, PrefixListName=name)
    again = prefix_lists.create(client, ClientToken=token, PrefixListName=name)
    assert first == again
    r = client.call(
        "CreatePrefixList",
        {"RegionId": client.region, "AddressFamily": "IPv4", "MaxEntries": 10, "PrefixListName": name + "x", "ClientToken": token},
    )
    expect_error(r, "IdempotentParameterMismatch", 400)


def test_associations_and_delete_refusal(client, prefix_lists, groups):
    pl = prefix_lists.create(client, Entry=[{"Cidr": "10.0.0.0/8"}])
    body = ok(client.call("DescribePrefixListAssociations", {"RegionId": client.region, "PrefixListId": pl}))
    assert body["PrefixListAssociations"] == {"PrefixListAssociation": []}, body
    sgs = []
    for _ in range(2):
        sg = groups.create(client)
        for port in ("22/22", "80/80"):  # two rules, one association
            perm = {"IpProtocol": "tcp", "PortRange": port, "SourcePrefixListId": pl}
            ok(client.call("AuthorizeSecurityGroup", {"RegionId": client.region, "SecurityGroupId": sg, "Permissions": [perm]}))
        sgs.append(sg)
    body = ok(client.call("DescribePrefixListAssociations", {"RegionId": client.region, "PrefixListId": pl}))
    assoc = body["PrefixListAssociations"]["PrefixListAssociation"]
    assert sorted(a["ResourceId"] for a in assoc) == sorted(sgs), body
    assert {a["ResourceType"] for a in assoc} == {"securitygroup"}
    assert lists_of(describe(client, PrefixListId=[pl]))[0]["AssociationCount"] == 2
    page = ok(client.call("DescribePrefixListAssociations", {"RegionId": client.region, "PrefixListId": pl, "MaxResults": 1}))
    assert len(page["PrefixListAssociations"]["PrefixListAssociation"]) == 1 and page["NextToken"], page

    r = client.call("DeletePrefixList", {"RegionId": client.region, "PrefixListId": pl})
    expect_error(r, "NotAllowed.AssociationExist", 400)
    for sg in sgs:
        ok(client.call("DeleteSecurityGroup", {"RegionId": client.region, "SecurityGroupId": sg}))
    ok(client.call("DeletePrefixList", {"RegionId": client.region, "PrefixListId": pl}))


# ---------------------------------------------------------------------------------------------
# errors, per variant
# ---------------------------------------------------------------------------------------------

BASE = {"AddressFamily": "IPv4", "MaxEntries": 2, "PrefixListName": "ok-name"}
BLOCKS_201 = [{"Cidr": f"10.0.{i}.0/24"} for i in range(201)]

# action, parameters ("{pl}" = an IPv4 list with MaxEntries 2 holding 10.0.0.0/8), code, status
ERRORS = {
    "create-family": ("CreatePrefixList", {**BASE, "AddressFamily": "ipv4"}, "InvalidParameter.AddressFamily", 400),
    "create-max-entries-0": ("CreatePrefixList", {**BASE, "MaxEntries": 0}, "InvalidParameter", 400),
    "create-max-entries-201": ("CreatePrefixList", {**BASE, "MaxEntries": 201}, "InvalidParameter", 400),
    "create-name": ("CreatePrefixList", {**BASE, "PrefixListName": "com.aliyun.pl"}, "InvalidParameter.PrefixListName", 400),
    "create-description": ("CreatePrefixList", {**BASE, "Description": "http://x"}, "InvalidDescription.Malformed", 400),
    "create-entry-description": ("CreatePrefixList", {**BASE, "Entry": [{"Cidr": "10.0.0.0/8", "Description": "x"}]}, "InvalidDescription.Malformed", 400),
    "create-client-token": ("CreatePrefixList", {**BASE, "ClientToken": "t" * 65}, "InvalidClientToken.ValueNotSupported", 400),
    "create-host-bits": ("CreatePrefixList", {**BASE, "Entry": [{"Cidr": "10.0.0.1/8"}]}, "InvalidParameter.CidrMalformed", 400),
    "create-family-mismatch": ("CreatePrefixList", {**BASE, "Entry": [{"Cidr": "2001:db8::/32"}]}, "InvalidParameter.CidrMalformed", 400),
    "create-duplicate": ("CreatePrefixList", {**BASE, "Entry": [{"Cidr": "10.0.0.1"}, {"Cidr": "10.0.0.1/32"}]}, "InvalidParameter.CidrDuplicated", 400),
    "create-too-many-entries": ("CreatePrefixList", {**BASE, "MaxEntries": 200, "Entry": BLOCKS_201}, "LimitExceed.Entry", 400),
    "create-over-max-entries": ("CreatePrefixList", {**BASE, "MaxEntries": 1, "Entry": BLOCKS_201[:2]}, "LimitExceed.MaxEntries", 400),
    "describe-max-results": ("DescribePrefixLists", {"MaxResults": 101}, "InvalidParameter", 400),
    "describe-next-token": ("DescribePrefixLists", {"NextToken": "not-a-token"}, "InvalidParameter", 400),
    "describe-101-ids": ("DescribePrefixLists", {"PrefixListId": [UNKNOWN_PL] * 101}, "LimitExceed.PrefixListId", 400),
    "attributes-unknown": ("DescribePrefixListAttributes", {"PrefixListId": UNKNOWN_PL}, "InvalidPrefixListId.NotFound", 404),
    "modify-unknown": ("ModifyPrefixList", {"PrefixListId": UNKNOWN_PL, "PrefixListName": "new-name"}, "InvalidPrefixListId.NotFound", 404),
    "modify-name": ("ModifyPrefixList", {"PrefixListId": "{pl}", "PrefixListName": "_bad"}, "InvalidParameter.PrefixListName", 400),
    "modify-description": ("ModifyPrefixList", {"PrefixListId": "{pl}", "Description": "h"}, "InvalidDescription.Malformed", 400),
    "modify-duplicate-add": ("ModifyPrefixList", {"PrefixListId": "{pl}", "AddEntry": [{"Cidr": "11.0.0.1"}, {"Cidr": "11.0.0.1/32"}]}, "InvalidParameter.CidrDuplicated", 400),
    "modify-duplicate-remove": ("ModifyPrefixList", {"PrefixListId": "{pl}", "RemoveEntry": [{"Cidr": "10.0.0.0/8"}, {"Cidr": "10.0.0.0/8"}]}, "InvalidParameter.CidrDuplicated", 400),
    "modify-malformed": ("ModifyPrefixList", {"PrefixListId": "{pl}", "AddEntry": [{"Cidr": "11.0.0.0/33"}]}, "InvalidParameter.CidrMalformed", 400),
    "modify-over-max-entries": ("ModifyPrefixList", {"PrefixListId": "{pl}", "AddEntry": [{"Cidr": "11.0.0.0/8"}, {"Cidr": "12.0.0.0/8"}]}, "LimitExceed.MaxEntries", 400),
    "modify-too-many-entries": ("ModifyPrefixList", {"PrefixListId": "{pl}", "AddEntry": BLOCKS_201}, "LimitExceed.Entry", 400),
    "delete-unknown": ("DeletePrefixList", {"PrefixListId": UNKNOWN_PL}, "InvalidPrefixListId.NotFound", 404),
    "associations-unknown": ("DescribePrefixListAssociations", {"PrefixListId": UNKNOWN_PL}, "InvalidPrefixListId.NotFound", 404),
    "associations-max-results": ("DescribePrefixListAssociations", {"PrefixListId": "{pl}", "MaxResults": 0}, "InvalidParameter", 400),
}


@pytest.fixture
def small_list(client, prefix_lists):
    return prefix_lists.create(client, MaxEntries=2, Entry=[{"Cidr": "10.0.0.0/8"}])


@pytest.mark.parametrize("action,params,code,status", ERRORS.values(), ids=ERRORS.keys())
def test_errors(client, small_list, prefix_lists, action, params, code, status):
    params = {k: (small_list if v == "{pl}" else v) for k, v in params.items()}
    r = client.call(action, {"RegionId": client.region, **params})
    if r.ok and action == "CreatePrefixList":
        prefix_lists.track(client, r.body["PrefixListId"])
    expect_error(r, code, status)
    assert entries_of(attributes(client, small_list)) == [("10.0.0.0/8", "")], "a refused request changed the list"


@pytest.mark.parametrize(
    "action,params,name",
    [
        ("CreatePrefixList", {"MaxEntries": 5, "PrefixListName": "ok-name"}, "AddressFamily"),
        ("CreatePrefixList", {"AddressFamily": "IPv4", "PrefixListName": "ok-name"}, "MaxEntries"),
        ("CreatePrefixList", {"AddressFamily": "IPv4", "MaxEntries": 5}, "PrefixListName"),
        ("DescribePrefixListAttributes", {}, "PrefixListId"),
        ("ModifyPrefixList", {"PrefixListName": "new-name"}, "PrefixListId"),
        ("DeletePrefixList", {}, "PrefixListId"),
        ("DescribePrefixListAssociations", {}, "PrefixListId"),
    ],
)
def test_missing_required(client, action, params, name):
    expect_missing(client.call(action, {"RegionId": client.region, **params}), name)


def test_entry_without_cidr(client, small_list):
    r = modify(client, small_list, AddEntry=[{"Description": "no block"}])
    expect_error(r, "MissingParameter", 400, message_contains="AddEntry.1.Cidr")


def test_unknown_region(client):
    for action, params in [("DescribePrefixLists", {}), ("DescribePrefixListAttributes", {"PrefixListId": UNKNOWN_PL})]:
        expect_error(client.call(action, {"RegionId": "xx-nowhere-1", **params}), "InvalidRegionId.NotFound", 404)


def test_other_account_sees_nothing(client, other_client, small_list):
    r = other_client.call("DescribePrefixListAttributes", {"RegionId": client.region, "PrefixListId": small_list})
    expect_error(r, "InvalidPrefixListId.NotFound", 404)
    r = other_client.call("DeletePrefixList", {"RegionId": client.region, "PrefixListId": small_list})
    expect_error(r, "InvalidPrefixListId.NotFound", 404)
    assert small_list not in [p["PrefixListId"] for p in lists_of(describe(other_client))]


# ---------------------------------------------------------------------------------------------
# raw shapes: legacy raw JSON, XML, and model-mapped output vs the raw body
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def legacy(pool):
    return pool.get("legacy")


def shaped_list(legacy, prefix_lists) -> str:
    return prefix_lists.create(legacy, Description="x & <y>", Entry=[{"Cidr": "10.0.0.0/8", "Description": "a<b"}], Tag=[{"Key": "k", "Value": "v"}])


def calls(client, pl: str) -> list[tuple[str, dict]]:
    region = client.region
    return [
        ("DescribePrefixLists", {"RegionId": region, "PrefixListId": [pl]}),
        ("DescribePrefixListAttributes", {"RegionId": region, "PrefixListId": pl}),
        ("DescribePrefixListAssociations", {"RegionId": region, "PrefixListId": pl}),
    ]


def test_legacy_raw_json(legacy, prefix_lists):
    r = legacy.call("CreatePrefixList", {"RegionId": legacy.region, **BASE, "PrefixListName": "raw-" + rand()})
    body = ok(r)
    prefix_lists.track(legacy, body["PrefixListId"])
    assert set(body) == {"RequestId", "PrefixListId"}, r.raw
    assert (r.headers or {}).get("content-type", "").replace(" ", "").lower() == JSON_CT
    pl = shaped_list(legacy, prefix_lists)
    shapes = {
        "DescribePrefixLists": {"RequestId", "NextToken", "PrefixLists"},
        "DescribePrefixListAttributes": {"RequestId", "PrefixListId", "PrefixListName", "Description", "AddressFamily", "MaxEntries", "CreationTime", "Entries"},
        "DescribePrefixListAssociations": {"RequestId", "NextToken", "PrefixListAssociations"},
    }
    for action, params in calls(legacy, pl):
        body = ok(legacy.call(action, params))
        assert set(body) == shapes[action], (action, body)
    [summary] = lists_of(ok(legacy.call(*calls(legacy, pl)[0])))
    want = {"PrefixListId", "PrefixListName", "Description", "AddressFamily", "MaxEntries", "AssociationCount", "CreationTime", "ResourceGroupId", "Tags"}
    assert set(summary) == want, summary
    assert type(summary["MaxEntries"]) is int and type(summary["AssociationCount"]) is int, summary
    assert summary["ResourceGroupId"] == "" and summary["Description"] == "x & <y>"
    a = ok(legacy.call(*calls(legacy, pl)[1]))
    assert a["Entries"] == {"Entry": [{"Cidr": "10.0.0.0/8", "Description": "a<b"}]}, a
    for action in ("ModifyPrefixList", "DeletePrefixList"):
        r = legacy.call(action, {"RegionId": legacy.region, "PrefixListId": pl})
        assert set(ok(r)) == {"RequestId"}, r.raw


def compare_json_xml(value, elem, path):
    """Walks the JSON value and the XML element together (docs/protocol.md §5.2 mapping rules)."""
    if isinstance(value, dict):
        for k, v in value.items():
            child = elem.find(k)
            assert child is not None, f"{path}/{k} missing in XML"
            if isinstance(v, dict) and len(v) == 1 and isinstance(next(iter(v.values())), list):
                singular, items = next(iter(v.items()))
                assert [x.tag for x in child] == [singular] * len(items), f"{path}/{k}: {[x.tag for x in child]}"
                for i, (jv, xv) in enumerate(zip(items, child)):
                    compare_json_xml(jv, xv, f"{path}/{k}/{singular}[{i}]")
            else:
                compare_json_xml(v, child, f"{path}/{k}")
    else:
        expected = ("true" if value else "false") if isinstance(value, bool) else str(value)
        assert (elem.text or "") == expected, f"{path}: XML {elem.text!r} != JSON {value!r}"


def test_xml_bodies_match_json(raw, legacy, prefix_lists):
    pl = shaped_list(legacy, prefix_lists)
    for action, params in calls(legacy, pl):
        rx = raw.request(action, params, fmt="XML")
        rj = raw.request(action, params, fmt="JSON")
        assert rx.status == 200 and rj.status == 200, (rx.describe(), rj.describe())
        assert rx.content_type.replace(" ", "").lower() == XML_CT, rx.headers
        root = rx.xml()
        assert root.tag == f"{action}Response", rx.text
        json_body = rj.json()
        json_body.pop("RequestId")
        compare_json_xml(json_body, root, root.tag)
    rx = raw.request("DescribePrefixListAttributes", {"RegionId": legacy.region, "PrefixListId": UNKNOWN_PL}, fmt="XML")
    assert rx.status == 404 and rx.xml().tag == "Error" and rx.xml().findtext("Code") == "InvalidPrefixListId.NotFound", rx.describe()


@pytest.fixture(params=[v for v in VARIANTS if v != "legacy"])
def model_client(request, pool):
    return pool.get(request.param)


def test_models_match_raw(model_client, pool, prefix_lists):
    c = model_client
    twin = pool.get("legacy", c.ak, c.region)
    pl = shaped_list(twin, prefix_lists)
    for action, params in calls(c, pl):
        model = ok(c.call(action, params))
        raw_body = ok(twin.call(action, params))
        model.pop("RequestId"), raw_body.pop("RequestId")
        problems = is_submap(model, raw_body)
        assert not problems, f"{c.variant} {action}: model output differs from the raw body: {problems}"
        for key in raw_body:
            assert key in model, f"{c.variant} {action}: the SDK model dropped {key} (shape bug?): {model}"
    [summary] = lists_of(ok(c.call(*calls(c, pl)[0])))
    assert summary["Tags"]["Tag"] == [{"TagKey": "k", "TagValue": "v"}] and summary["MaxEntries"] == 10, summary
    attrs = ok(c.call(*calls(c, pl)[1]))
    assert entries_of(attrs) == [("10.0.0.0/8", "a<b")], attrs
