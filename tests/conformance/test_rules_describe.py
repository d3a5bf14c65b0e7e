"""The rule side of the read operations and of DeleteSecurityGroup:
DescribeSecurityGroupAttribute filters and paging (docs/ecs.md §3.4), DescribeSecurityGroups
RuleCount / GroupToGroupRuleCount (docs/ecs.md §3.3), DescribeSecurityGroupReferences
(docs/ecs.md §3.13), DeleteSecurityGroup's DependencyViolation (docs/ecs.md §3.2), and the XML
form of rule lists (docs/protocol.md §5.2)."""

import json
import re

import pytest

from helpers import (
    UUID_UPPER,
    authorize,
    describe_one,
    expect_error,
    is_submap,
    list_rules,
    ok,
    rand,
    revoke,
    rules_of,
    rule_groups,  # noqa: F401 - fixture
    unknown_sg_id,
)

ALI_UID = re.compile(r"^\d+$")


def cidr(direction, port, **kw):
    side = "Source" if direction == "ingress" else "Dest"
    return {"IpProtocol": "tcp", "PortRange": f"{port}/{port}", f"{side}CidrIp": "10.0.0.0/8", **kw}


def attr(client, sg, **params):
    return client.call("DescribeSecurityGroupAttribute", {"RegionId": client.region, "SecurityGroupId": sg, **params})


# ---------------------------------------------------------------------------------------------
# DescribeSecurityGroupAttribute: Direction, NicType, MaxResults / NextToken
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def mixed_group(client, rule_groups):
    """3 ingress and 2 egress rules."""
    sg = rule_groups.create(client)
    ok(authorize(client, sg, cidr("ingress", 1), cidr("ingress", 2), cidr("ingress", 3)))
    ok(authorize(client, sg, cidr("egress", 4), cidr("egress", 5), direction="egress"))
    return sg


def directions(body):
    return sorted(r["Direction"] for r in rules_of(body))


def test_direction_filter(client, mixed_group):
    sg = mixed_group
    assert directions(ok(attr(client, sg))) == ["egress"] * 2 + ["ingress"] * 3, "default: all"
    assert directions(ok(attr(client, sg, Direction="all"))) == ["egress"] * 2 + ["ingress"] * 3
    assert directions(ok(attr(client, sg, Direction="ingress"))) == ["ingress"] * 3
    assert directions(ok(attr(client, sg, Direction="egress"))) == ["egress"] * 2


def test_nic_type_filter(client, mixed_group):
    sg = mixed_group
    assert len(rules_of(ok(attr(client, sg, NicType="intranet")))) == 5
    # docs/ecs.md §3.4: on a VPC group `internet` is coerced to intranet
    assert len(rules_of(ok(attr(client, sg, NicType="internet")))) == 5
    assert directions(ok(attr(client, sg, Direction="ingress", NicType="intranet"))) == ["ingress"] * 3
    expect_error(attr(client, sg, NicType="foo"), "InvalidNicType.ValueNotSupported", 400)


def test_paging_over_rules(client, rule_groups):
    sg = rule_groups.create(client)
    ok(authorize(client, sg, *[cidr("ingress", p) for p in range(1, 16)]))
    ok(authorize(client, sg, *[cidr("egress", p) for p in range(1, 11)], direction="egress"))
    everything = rules_of(ok(attr(client, sg)))
    assert len(everything) == 25

    seen, pages, token = [], [], None
    for _ in range(10):
        params = {"MaxResults": 10}
        if token:
            params["NextToken"] = token
        body = ok(attr(client, sg, **params))
        page = rules_of(body)
        pages.append(len(page))
        seen += [r["SecurityGroupRuleId"] for r in page]
        token = body.get("NextToken")
        assert token is None or isinstance(token, str), body
        if not token:
            break
    assert pages == [10, 10, 5], f"page sizes {pages}"
    assert sorted(seen) == sorted(r["SecurityGroupRuleId"] for r in everything), "pages must cover every rule once"

    ingress = list_rules(client, sg, Direction="ingress", MaxResults=10)
    assert len(ingress) == 15 and {r["Direction"] for r in ingress} == {"ingress"}


def test_no_next_token_without_more_rules(client, mixed_group):
    body = ok(attr(client, mixed_group, MaxResults=10))
    assert len(rules_of(body)) == 5
    assert not body.get("NextToken"), body


def test_unknown_group_rules(client):
    expect_error(attr(client, unknown_sg_id(), Direction="ingress"), "InvalidSecurityGroupId.NotFound", 404)


# ---------------------------------------------------------------------------------------------
# DescribeSecurityGroups: RuleCount, GroupToGroupRuleCount
# ---------------------------------------------------------------------------------------------


def counts(client, sg):
    g = describe_one(client, sg)
    assert type(g.get("RuleCount")) is int and type(g.get("GroupToGroupRuleCount")) is int, (
        f"RuleCount / GroupToGroupRuleCount must be numbers: {g}"
    )
    return g["RuleCount"], g["GroupToGroupRuleCount"]


def test_rule_counts(client, rule_groups, vpcs):
    vpc = vpcs.new(client)
    peer = rule_groups.create(client, VpcId=vpc)
    sg = rule_groups.create(client, VpcId=vpc)
    assert counts(client, sg) == (0, 0)
    ok(authorize(client, sg, cidr("ingress", 1), cidr("ingress", 2),
                 {"IpProtocol": "tcp", "PortRange": "3/3", "SourceGroupId": peer},
                 {"IpProtocol": "all", "PortRange": "-1/-1", "SourceGroupId": sg}))
    ok(authorize(client, sg, cidr("egress", 1), {"IpProtocol": "udp", "PortRange": "53/53", "DestGroupId": peer},
                 direction="egress"))
    assert counts(client, sg) == (6, 3)
    assert counts(client, peer) == (0, 0), "being referenced does not count"
    ok(revoke(client, sg, {"IpProtocol": "tcp", "PortRange": "3/3", "SourceGroupId": peer}))
    ok(revoke(client, sg, cidr("egress", 1), direction="egress"))
    assert counts(client, sg) == (4, 2)


# ---------------------------------------------------------------------------------------------
# DescribeSecurityGroupReferences
# ---------------------------------------------------------------------------------------------


def references(client, *ids):
    return client.call("DescribeSecurityGroupReferences", {"RegionId": client.region, "SecurityGroupId": list(ids)})


def referrers_of(body):
    """{target: sorted referencing group ids}, checking the shape on the way."""
    refs = body.get("SecurityGroupReferences")
    assert isinstance(refs, dict) and isinstance(refs.get("SecurityGroupReference"), list), (
        f"expected SecurityGroupReferences.SecurityGroupReference[]: {body}"
    )
    out = {}
    for ref in refs["SecurityGroupReference"]:
        inner = ref.get("ReferencingSecurityGroups")
        assert isinstance(inner, dict) and isinstance(inner.get("ReferencingSecurityGroup"), list), (
            f"expected ReferencingSecurityGroups.ReferencingSecurityGroup[] (an empty list when none): {ref}"
        )
        for g in inner["ReferencingSecurityGroup"]:
            assert isinstance(g.get("AliUid"), str) and ALI_UID.match(g["AliUid"]), f"AliUid: {g}"
        out[ref["SecurityGroupId"]] = sorted(g["SecurityGroupId"] for g in inner["ReferencingSecurityGroup"])
    return out


@pytest.fixture
def referenced(client, rule_groups, vpcs):
    """target is named by b's ingress rule and c's egress rule, and by a rule of its own;
    lonely is named by nobody."""
    vpc = vpcs.new(client)
    target = rule_groups.create(client, VpcId=vpc, SecurityGroupName="target-" + rand())
    lonely = rule_groups.create(client, VpcId=vpc)
    b = rule_groups.create(client, VpcId=vpc)
    c = rule_groups.create(client, VpcId=vpc)
    ok(authorize(client, b, {"IpProtocol": "tcp", "PortRange": "22/22", "SourceGroupId": target}))
    ok(authorize(client, b, {"IpProtocol": "tcp", "PortRange": "23/23", "SourceGroupId": target}))
    ok(authorize(client, c, {"IpProtocol": "all", "PortRange": "-1/-1", "DestGroupId": target}, direction="egress"))
    ok(authorize(client, target, {"IpProtocol": "all", "PortRange": "-1/-1", "SourceGroupId": target}))
    return target, lonely, b, c


def test_references(client, referenced):
    target, lonely, b, c = referenced
    body = ok(references(client, target, lonely))
    assert referrers_of(body) == {target: sorted([b, c]), lonely: []}, (
        "each referencing group once, the group's own self-reference not counted, a group without "
        f"referrers listed with an empty list: {body}"
    )
    ok(revoke(client, b, {"IpProtocol": "tcp", "PortRange": "22/22", "SourceGroupId": target}))
    assert referrers_of(ok(references(client, target)))[target] == sorted([b, c]), "b still has its 23/23 rule"
    ok(revoke(client, b, {"IpProtocol": "tcp", "PortRange": "23/23", "SourceGroupId": target}))
    assert referrers_of(ok(references(client, target))) == {target: [c]}


def test_references_raw_and_models(client, legacy_twin, referenced):
    target, lonely, b, c = referenced
    params = {"RegionId": client.region, "SecurityGroupId": [target, lonely]}
    r = legacy_twin.call("DescribeSecurityGroupReferences", params)
    ok(r)
    raw = json.loads(r.raw)
    assert set(raw) == {"RequestId", "SecurityGroupReferences"}, raw
    assert list(raw["SecurityGroupReferences"]) == ["SecurityGroupReference"], raw
    for ref in raw["SecurityGroupReferences"]["SecurityGroupReference"]:
        assert set(ref) == {"SecurityGroupId", "ReferencingSecurityGroups"}, ref
        assert list(ref["ReferencingSecurityGroups"]) == ["ReferencingSecurityGroup"], ref
        for g in ref["ReferencingSecurityGroups"]["ReferencingSecurityGroup"]:
            assert set(g) == {"SecurityGroupId", "AliUid"}, g
    if client.variant != "legacy":
        m = ok(client.call("DescribeSecurityGroupReferences", params))
        problems = is_submap({k: v for k, v in m.items() if k != "RequestId"}, {k: v for k, v in raw.items() if k != "RequestId"})
        assert not problems, "model output differs from the raw body:\n" + "\n".join(problems)
        assert referrers_of(m) == referrers_of(raw)


def test_references_of_more_than_10_groups(client):
    r = references(client, *[unknown_sg_id() for _ in range(11)])
    expect_error(r, "InvalidSecurityGroupId.Malformed", 400)


def test_references_of_an_unknown_group(client, rule_groups):
    sg = rule_groups.create(client)
    expect_error(references(client, sg, unknown_sg_id()), "InvalidSecurityGroupId.NotFound", 404)


def test_references_of_10_groups(client, rule_groups):
    ids = [rule_groups.create(client) for _ in range(10)]
    assert referrers_of(ok(references(client, *ids))) == {i: [] for i in ids}


# ---------------------------------------------------------------------------------------------
# DeleteSecurityGroup and references
# ---------------------------------------------------------------------------------------------


def delete(client, sg):
    return client.call("DeleteSecurityGroup", {"RegionId": client.region, "SecurityGroupId": sg})


@pytest.mark.parametrize("direction", ["ingress", "egress"])
def test_delete_referenced_group(client, rule_groups, vpcs, direction):
    vpc = vpcs.new(client)
    target = rule_groups.create(client, VpcId=vpc)
    holder = rule_groups.create(client, VpcId=vpc)
    side = "Source" if direction == "ingress" else "Dest"
    rule = {"IpProtocol": "tcp", "PortRange": "22/22", f"{side}GroupId": target}
    ok(authorize(client, holder, rule, direction=direction))
    expect_error(delete(client, target), "DependencyViolation", 403)
    ok(attr(client, target))  # still there
    ok(revoke(client, holder, rule, direction=direction))
    ok(delete(client, target))


def test_delete_group_holding_group_rules(client, rule_groups, vpcs):
    """A group whose own rules name other groups (or itself) can be deleted, rules and all."""
    vpc = vpcs.new(client)
    target = rule_groups.create(client, VpcId=vpc)
    holder = rule_groups.create(client, VpcId=vpc)
    ok(authorize(client, holder, {"IpProtocol": "tcp", "PortRange": "22/22", "SourceGroupId": target},
                 {"IpProtocol": "tcp", "PortRange": "23/23", "SourceGroupId": holder}))
    ok(delete(client, holder))
    assert referrers_of(ok(references(client, target))) == {target: []}, "the deleted group's rules are gone"
    ok(delete(client, target))


# ---------------------------------------------------------------------------------------------
# XML (raw client)
# ---------------------------------------------------------------------------------------------


def compare_json_xml(value, elem, path):
    if isinstance(value, dict):
        for k, v in value.items():
            child = elem.find(k)
            assert child is not None, f"{path}/{k} missing in XML"
            if isinstance(v, dict) and len(v) == 1 and isinstance(next(iter(v.values())), list):
                singular, items = next(iter(v.items()))
                xml_items = list(child)
                assert all(x.tag == singular for x in xml_items), f"{path}/{k}: children {[x.tag for x in xml_items]} != {singular}"
                assert len(xml_items) == len(items), f"{path}/{k}: {len(xml_items)} XML items, {len(items)} JSON items"
                for i, (jv, xv) in enumerate(zip(items, xml_items)):
                    compare_json_xml(jv, xv, f"{path}/{k}/{singular}[{i}]")
            elif k != "RequestId":
                compare_json_xml(v, child, f"{path}/{k}")
    else:
        expected = ("true" if value else "false") if isinstance(value, bool) else ("" if value is None else str(value))
        assert (elem.text or "") == expected, f"{path}: XML {elem.text!r} != JSON {value!r}"


def raw_group(raw, created, vpc, **params):
    r = raw.request("CreateSecurityGroup", {"RegionId": raw.region, "VpcId": vpc, **params})
    assert r.status == 200, r.describe()
    sg = r.json()["SecurityGroupId"]
    created.append(sg)
    return sg


@pytest.fixture
def raw_groups(raw):
    created = []
    yield created
    for _ in range(3):
        created = [sg for sg in reversed(created)
                   if raw.request("DeleteSecurityGroup", {"RegionId": raw.region, "SecurityGroupId": sg}).status not in (200, 404)]


@pytest.mark.raw
def test_rules_in_xml(raw, raw_groups, raw_vpc):
    vpc = raw_vpc
    peer = raw_group(raw, raw_groups, vpc, SecurityGroupName="xmlpeer-" + rand())
    sg = raw_group(raw, raw_groups, vpc)
    r = raw.request("AuthorizeSecurityGroup", {"RegionId": raw.region, "SecurityGroupId": sg, "Permissions": [
        {"IpProtocol": "tcp", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/8", "Description": "a<b & c"},
        {"IpProtocol": "udp", "PortRange": "53/53", "SourceGroupId": peer, "Priority": "3"},
    ]}, fmt="XML")
    assert r.status == 200 and r.xml().tag == "AuthorizeSecurityGroupResponse", r.describe()
    assert UUID_UPPER.match(r.xml().findtext("RequestId") or ""), r.describe()
    r = raw.request("AuthorizeSecurityGroupEgress", {"RegionId": raw.region, "SecurityGroupId": sg, "Permissions": [
        {"IpProtocol": "icmp", "PortRange": "-1/-1", "DestCidrIp": "0.0.0.0/0", "Policy": "drop"}]})
    assert r.status == 200, r.describe()

    params = {"RegionId": raw.region, "SecurityGroupId": sg}
    rx = raw.request("DescribeSecurityGroupAttribute", params, fmt="XML")
    assert rx.status == 200, rx.describe()
    root = rx.xml()
    assert root.tag == "DescribeSecurityGroupAttributeResponse"
    perms = root.find("Permissions")
    assert perms is not None and [c.tag for c in perms] == ["Permission"] * 3, rx.text
    tcp = [p for p in perms if p.findtext("IpProtocol") == "TCP"][0]
    assert tcp.findtext("Description") == "a<b & c" and tcp.findtext("Priority") == "1", rx.text
    assert tcp.find("SourceGroupId") is not None and (tcp.findtext("SourceGroupId") or "") == "", "unset fields are empty elements"
    rj = raw.request("DescribeSecurityGroupAttribute", params)
    compare_json_xml(rj.json(), root, root.tag)

    # the references, too
    params = {"RegionId": raw.region, "SecurityGroupId": [peer, sg]}
    rx = raw.request("DescribeSecurityGroupReferences", params, fmt="XML")
    assert rx.status == 200, rx.describe()
    root = rx.xml()
    assert root.tag == "DescribeSecurityGroupReferencesResponse", rx.text
    compare_json_xml(raw.request("DescribeSecurityGroupReferences", params).json(), root, root.tag)
    refs = {x.findtext("SecurityGroupId"): x for x in root.findall("SecurityGroupReferences/SecurityGroupReference")}
    assert [g.findtext("SecurityGroupId") for g in refs[peer].findall("ReferencingSecurityGroups/ReferencingSecurityGroup")] == [sg]
    empty = refs[sg].find("ReferencingSecurityGroups")
    assert empty is not None and len(empty) == 0, rx.text

    # revoke in XML
    r = raw.request("RevokeSecurityGroup", {"RegionId": raw.region, "SecurityGroupId": sg,
                                            "Permissions": [{"IpProtocol": "udp", "PortRange": "53/53", "SourceGroupId": peer, "Priority": "3"}]},
                    fmt="XML")
    assert r.status == 200 and r.xml().tag == "RevokeSecurityGroupResponse", r.describe()
