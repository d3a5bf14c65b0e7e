"""AuthorizeSecurityGroup / AuthorizeSecurityGroupEgress (docs/ecs.md §2.1, §2.3, §2.5, §2.7,
§2.8, §3.7, §3.8; docs/semantics.md §3.6), read back through DescribeSecurityGroupAttribute
(docs/ecs.md §3.4).

Every test runs through the five client variants. Rules are always read back with the same
variant; `test_*_models_match_raw` compares the model-mapped output with the legacy raw JSON.
"""

import json
import uuid

import pytest

from helpers import (
    RULE_STRING_FIELDS,
    SGR_ID,
    UTC_SECONDS,
    authorize,
    expect_error,
    is_submap,
    list_rules,
    matching,
    ok,
    one_rule,
    rand,
    revoke,
    rule_groups,  # noqa: F401 - fixture
    unknown_sg_id,
)

DIRECTIONS = ["ingress", "egress"]
PEER = {"ingress": "Source", "egress": "Dest"}


def cidr_perm(direction, cidr="10.0.0.0/8", **kw):
    p = {"IpProtocol": "tcp", "PortRange": "22/22", f"{PEER[direction]}CidrIp": cidr}
    p.update(kw)
    return p


def group_perm(direction, group, **kw):
    p = {"IpProtocol": "tcp", "PortRange": "22/22", f"{PEER[direction]}GroupId": group}
    p.update(kw)
    return p


def check_common_fields(rule, direction):
    """The conventions every rule in a DescribeSecurityGroupAttribute answer follows."""
    for k in RULE_STRING_FIELDS:
        assert k in rule, f"{k} missing from the rule: {rule}"
        assert isinstance(rule[k], str), f"{k} must be a string (Priority included): {rule}"
    assert SGR_ID.match(rule["SecurityGroupRuleId"]), rule
    assert UTC_SECONDS.match(rule["CreateTime"]), rule
    assert rule["Direction"] == direction, rule
    assert rule["NicType"] == "intranet", rule
    assert rule["Policy"] in ("Accept", "Drop"), rule
    assert rule["IpProtocol"] in ("TCP", "UDP", "ICMP", "ICMPv6", "GRE", "ALL"), rule
    assert rule["Priority"].isdigit() and 1 <= int(rule["Priority"]) <= 100, rule


EMPTY_UNLESS_SET = [
    "SourcePortRange", "SourceCidrIp", "Ipv6SourceCidrIp", "DestCidrIp", "Ipv6DestCidrIp",
    "SourceGroupId", "SourceGroupName", "DestGroupId", "DestGroupName",
    "SourcePrefixListId", "SourcePrefixListName", "DestPrefixListId", "DestPrefixListName",
    "PortRangeListId", "PortRangeListName", "Description",
]


def check_unset_empty(rule, *set_fields):
    for k in EMPTY_UNLESS_SET:
        if k not in set_fields:
            assert rule[k] == "", f"unset {k} must be \"\": {rule}"


# ---------------------------------------------------------------------------------------------
# output conventions
# ---------------------------------------------------------------------------------------------


def test_ingress_rules_read_back(client, rule_groups, vpcs):
    vpc = vpcs.new(client)
    peer_name = "peer-" + rand()
    peer = rule_groups.create(client, VpcId=vpc, SecurityGroupName=peer_name)
    sg = rule_groups.create(client, VpcId=vpc)
    body = ok(authorize(
        client, sg,
        {"IpProtocol": "tcp", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/8", "Description": "ssh in"},
        {"IpProtocol": "icmp", "PortRange": "-1/-1", "SourceCidrIp": "192.168.1.7", "Policy": "drop", "Priority": "5"},
        {"IpProtocol": "all", "PortRange": "-1/-1", "Ipv6SourceCidrIp": "2001:DB8:0:0::/64", "Priority": "100"},
        {"IpProtocol": "icmpv6", "PortRange": "-1/-1", "Ipv6SourceCidrIp": "2001:DB8:0000:0001:0:0:0:0/64"},
        {"IpProtocol": "UDP", "PortRange": "53/54", "SourceGroupId": peer, "Policy": "Accept", "NicType": "intranet"},
        {"IpProtocol": "Tcp", "PortRange": "1/65535", "SourceCidrIp": "172.16.0.0/12", "SourcePortRange": "1000/2000",
         "DestCidrIp": "10.1.0.0/16"},
    ))
    assert set(body) == {"RequestId"}, body

    rules = list_rules(client, sg)
    assert len(rules) == 6, rules
    for r in rules:
        check_common_fields(r, "ingress")
    assert len({r["SecurityGroupRuleId"] for r in rules}) == 6, "rule ids must be distinct"

    tcp = one_rule(rules, IpProtocol="TCP", PortRange="22/22")
    assert (tcp["SourceCidrIp"], tcp["Policy"], tcp["Priority"], tcp["Description"]) == ("10.0.0.0/8", "Accept", "1", "ssh in"), tcp
    check_unset_empty(tcp, "SourceCidrIp", "Description")

    icmp = one_rule(rules, IpProtocol="ICMP")
    assert (icmp["PortRange"], icmp["SourceCidrIp"], icmp["Policy"], icmp["Priority"]) == ("-1/-1", "192.168.1.7", "Drop", "5"), (
        "ICMP keeps -1/-1, a plain IPv4 address is echoed as sent"
    )
    check_unset_empty(icmp, "SourceCidrIp")

    all_ = one_rule(rules, IpProtocol="ALL")
    assert (all_["PortRange"], all_["Ipv6SourceCidrIp"], all_["Priority"]) == ("-1/-1", "2001:db8::/64", "100"), (
        "IPv6 comes back compressed and lower case"
    )
    check_unset_empty(all_, "Ipv6SourceCidrIp")

    icmp6 = one_rule(rules, IpProtocol="ICMPv6")
    assert (icmp6["PortRange"], icmp6["Ipv6SourceCidrIp"]) == ("-1/-1", "2001:db8:0:1::/64"), icmp6

    udp = one_rule(rules, IpProtocol="UDP")
    assert (udp["PortRange"], udp["SourceGroupId"], udp["SourceGroupName"]) == ("53/54", peer, peer_name), udp
    check_unset_empty(udp, "SourceGroupId", "SourceGroupName")

    quint = one_rule(rules, IpProtocol="TCP", PortRange="1/65535")
    assert (quint["SourceCidrIp"], quint["SourcePortRange"], quint["DestCidrIp"]) == ("172.16.0.0/12", "1000/2000", "10.1.0.0/16"), quint
    check_unset_empty(quint, "SourceCidrIp", "SourcePortRange", "DestCidrIp")


def test_egress_rules_read_back(client, rule_groups, vpcs):
    vpc = vpcs.new(client)
    peer_name = "dest-" + rand()
    peer = rule_groups.create(client, VpcId=vpc, SecurityGroupName=peer_name)
    sg = rule_groups.create(client, VpcId=vpc)
    ok(authorize(
        client, sg,
        {"IpProtocol": "tcp", "PortRange": "443/443", "DestCidrIp": "0.0.0.0/0", "Description": "https out"},
        {"IpProtocol": "gre", "PortRange": "-1/-1", "DestCidrIp": "10.10.10.10", "Policy": "Drop", "Priority": "7"},
        {"IpProtocol": "udp", "PortRange": "123/123", "Ipv6DestCidrIp": "2001:DB8:0:0:0:0:0:1"},
        {"IpProtocol": "all", "PortRange": "-1/-1", "DestGroupId": peer},
        {"IpProtocol": "tcp", "PortRange": "80/80", "DestCidrIp": "10.2.0.0/16", "SourceCidrIp": "10.3.0.0/16", "SourcePortRange": "22/22"},
        direction="egress",
    ))
    rules = list_rules(client, sg)
    assert len(rules) == 5, rules
    for r in rules:
        check_common_fields(r, "egress")

    https = one_rule(rules, IpProtocol="TCP", PortRange="443/443")
    assert (https["DestCidrIp"], https["Policy"], https["Priority"], https["Description"]) == ("0.0.0.0/0", "Accept", "1", "https out"), https
    check_unset_empty(https, "DestCidrIp", "Description")

    gre = one_rule(rules, IpProtocol="GRE")
    assert (gre["PortRange"], gre["DestCidrIp"], gre["Policy"], gre["Priority"]) == ("-1/-1", "10.10.10.10", "Drop", "7"), gre

    udp = one_rule(rules, IpProtocol="UDP")
    assert udp["Ipv6DestCidrIp"] == "2001:db8::1", udp
    check_unset_empty(udp, "Ipv6DestCidrIp")

    grp = one_rule(rules, IpProtocol="ALL")
    assert (grp["DestGroupId"], grp["DestGroupName"]) == (peer, peer_name), grp
    check_unset_empty(grp, "DestGroupId", "DestGroupName")

    quint = one_rule(rules, IpProtocol="TCP", PortRange="80/80")
    assert (quint["DestCidrIp"], quint["SourceCidrIp"], quint["SourcePortRange"]) == ("10.2.0.0/16", "10.3.0.0/16", "22/22"), quint


def test_defaults(client, rule_groups):
    """Policy defaults to accept, Priority to 1, NicType to intranet (docs/ecs.md §2.3)."""
    sg = rule_groups.create(client)
    ok(authorize(client, sg, {"IpProtocol": "tcp", "PortRange": "8080/8080", "SourceCidrIp": "10.0.0.0/8"}))
    ok(authorize(client, sg, {"IpProtocol": "tcp", "PortRange": "8080/8080", "DestCidrIp": "10.0.0.0/8"}, direction="egress"))
    rules = list_rules(client, sg)
    assert len(rules) == 2, rules
    for r in rules:
        assert (r["Policy"], r["Priority"], r["NicType"]) == ("Accept", "1", "intranet"), r


def test_internet_nic_type_on_a_vpc_group(client, rule_groups):
    """A Decision of docs/ecs.md §2.3: `internet` on a VPC group is coerced to intranet."""
    sg = rule_groups.create(client)
    ok(authorize(client, sg, cidr_perm("ingress", NicType="internet")))
    assert [r["NicType"] for r in list_rules(client, sg)] == ["intranet"]


def test_legacy_raw_json(pool, rule_groups, vpcs):
    legacy = pool.get("legacy")
    sg = rule_groups.create(legacy)
    ok(authorize(legacy, sg, cidr_perm("ingress", Priority="3", Description="raw")))
    ok(authorize(legacy, sg, cidr_perm("egress"), direction="egress"))
    r = legacy.call("DescribeSecurityGroupAttribute", {"RegionId": legacy.region, "SecurityGroupId": sg})
    ok(r)
    raw = json.loads(r.raw)
    assert list(raw["Permissions"]) == ["Permission"] and isinstance(raw["Permissions"]["Permission"], list), raw
    perms = raw["Permissions"]["Permission"]
    assert len(perms) == 2, raw
    for p in perms:
        assert set(RULE_STRING_FIELDS) <= set(p), f"fields missing: {set(RULE_STRING_FIELDS) - set(p)}"
        assert all(type(p[k]) is str for k in RULE_STRING_FIELDS), p
    assert one_rule(perms, Direction="ingress")["Priority"] == "3", 'Priority is the JSON string "3"'
    assert '"Priority":"3"' in r.raw.replace(" ", ""), r.raw


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_models_match_raw(client, legacy_twin, rule_groups, vpcs, direction):
    if client.variant == "legacy":
        pytest.skip("compares the model-mapped variants with legacy")
    vpc = vpcs.new(client)
    peer = rule_groups.create(client, VpcId=vpc, SecurityGroupName="peer-" + rand())
    sg = rule_groups.create(client, VpcId=vpc)
    ok(authorize(
        client, sg,
        cidr_perm(direction, Description="d1"),
        group_perm(direction, peer, PortRange="80/80", Policy="drop", Priority="9"),
        {"IpProtocol": "icmpv6", "PortRange": "-1/-1", f"Ipv6{PEER[direction]}CidrIp": "2001:db8::/32"},
        direction=direction,
    ))
    params = {"RegionId": client.region, "SecurityGroupId": sg}
    m = ok(client.call("DescribeSecurityGroupAttribute", params))
    r = ok(legacy_twin.call("DescribeSecurityGroupAttribute", params))
    m.pop("RequestId"), r.pop("RequestId")
    problems = is_submap(m, r)
    assert not problems, "model output differs from the raw body:\n" + "\n".join(problems)
    assert len(m["Permissions"]["Permission"]) == 3, m
    for rule in m["Permissions"]["Permission"]:
        assert set(RULE_STRING_FIELDS) <= set(rule), f"the SDK model dropped {set(RULE_STRING_FIELDS) - set(rule)}"


# ---------------------------------------------------------------------------------------------
# identity, duplicates, flat form
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_authorize_existing_rule_is_a_noop(client, rule_groups, direction):
    sg = rule_groups.create(client)
    peer = PEER[direction]
    ok(authorize(client, sg, cidr_perm(direction, PortRange="80/80", Description="first"), direction=direction))
    before = list_rules(client, sg)
    assert len(before) == 1, before

    # same rule: other case, explicit defaults, another Description
    same = {"IpProtocol": "TCP", "PortRange": "80/80", f"{peer}CidrIp": "10.0.0.0/8", "Policy": "ACCEPT",
            "Priority": "1", "NicType": "intranet", "Description": "second"}
    ok(authorize(client, sg, same, direction=direction))
    after = list_rules(client, sg)
    assert [r["SecurityGroupRuleId"] for r in after] == [before[0]["SecurityGroupRuleId"]], (
        f"authorizing an existing rule must add nothing: {after}"
    )

    # Priority is part of the identity (docs/ecs.md §2.5), and so is Policy
    ok(authorize(client, sg, dict(same, Priority="2"), direction=direction))
    ok(authorize(client, sg, dict(same, Policy="drop"), direction=direction))
    rules = list_rules(client, sg)
    assert sorted((r["Priority"], r["Policy"]) for r in rules) == [("1", "Accept"), ("1", "Drop"), ("2", "Accept")], rules


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_duplicate_permissions_in_one_request(client, rule_groups, direction):
    sg = rule_groups.create(client)
    p = cidr_perm(direction, PortRange="25/25")
    r = authorize(client, sg, cidr_perm(direction, PortRange="26/26"), p, dict(p), direction=direction)
    expect_error(r, "InvalidParam.DuplicatePermissions", 400)
    assert list_rules(client, sg) == [], "a rejected request adds no rule at all"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_permissions_with_flat_fields(client, rule_groups, direction):
    sg = rule_groups.create(client)
    r = authorize(client, sg, cidr_perm(direction), direction=direction, IpProtocol="udp", PortRange="53/53",
                  **{f"{PEER[direction]}CidrIp": "10.0.0.0/8"})
    expect_error(r, "InvalidParam.Permissions", 400)
    assert list_rules(client, sg) == []


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_flat_form(client, rule_groups, direction):
    """The deprecated flat parameters describe one rule."""
    sg = rule_groups.create(client)
    peer = PEER[direction]
    ok(authorize(client, sg, direction=direction, IpProtocol="udp", PortRange="53/53", Policy="drop", Priority="4",
                 Description="flat", **{f"{peer}CidrIp": "10.9.0.0/16"}))
    [rule] = list_rules(client, sg)
    assert (rule["IpProtocol"], rule["PortRange"], rule[f"{peer}CidrIp"], rule["Policy"], rule["Priority"], rule["Description"]) == (
        "UDP", "53/53", "10.9.0.0/16", "Drop", "4", "flat"), rule


def test_description_of_512_chars(client, rule_groups):
    sg = rule_groups.create(client)
    desc = "d" * 512
    ok(authorize(client, sg, cidr_perm("ingress", Description=desc)))
    assert list_rules(client, sg)[0]["Description"] == desc


def test_direction_is_kept_apart(client, rule_groups):
    """The same tuple as ingress and as egress are two rules."""
    sg = rule_groups.create(client)
    ok(authorize(client, sg, {"IpProtocol": "tcp", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/8"}))
    ok(authorize(client, sg, {"IpProtocol": "tcp", "PortRange": "22/22", "DestCidrIp": "10.0.0.0/8"}, direction="egress"))
    rules = list_rules(client, sg)
    assert sorted(r["Direction"] for r in rules) == ["egress", "ingress"], rules


def test_unknown_group(client):
    for direction in DIRECTIONS:
        expect_error(authorize(client, unknown_sg_id(), cidr_perm(direction), direction=direction),
                     "InvalidSecurityGroupId.NotFound", 404)


# ---------------------------------------------------------------------------------------------
# ClientToken (docs/ecs.md §2.8)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_client_token_replay(client, rule_groups, direction):
    sg = rule_groups.create(client)
    token = "conf-" + uuid.uuid4().hex
    perm = cidr_perm(direction, PortRange="3306/3306")
    ok(authorize(client, sg, perm, direction=direction, ClientToken=token))
    [rule] = list_rules(client, sg)
    ok(revoke(client, sg, direction=direction, SecurityGroupRuleId=[rule["SecurityGroupRuleId"]]))
    assert list_rules(client, sg) == []

    # same token, same parameters: the original answer, no second effect
    ok(authorize(client, sg, perm, direction=direction, ClientToken=token))
    assert list_rules(client, sg) == [], "a replayed ClientToken must not authorize the rule again"

    # same token, other parameters
    r = authorize(client, sg, cidr_perm(direction, PortRange="3307/3307"), direction=direction, ClientToken=token)
    expect_error(r, "IdempotentParameterMismatch", 400)
    assert list_rules(client, sg) == []

    # a fresh token works normally
    ok(authorize(client, sg, perm, direction=direction, ClientToken="conf-" + uuid.uuid4().hex))
    assert len(list_rules(client, sg)) == 1


# ---------------------------------------------------------------------------------------------
# group peers (docs/ecs.md §2.1, §2.3, §2.9; docs/semantics.md §3.6)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_group_peer_self_reference_is_accepted(client, rule_groups, direction):
    name = "self-" + rand()
    sg = rule_groups.create(client, SecurityGroupName=name)
    ok(authorize(client, sg, group_perm(direction, sg), direction=direction))
    [rule] = list_rules(client, sg)
    peer = PEER[direction]
    assert (rule[f"{peer}GroupId"], rule[f"{peer}GroupName"]) == (sg, name), rule


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_unknown_group_peer(client, rule_groups, direction):
    sg = rule_groups.create(client)
    code = {"ingress": "InvalidSourceGroupId.NotFound", "egress": "InvalidDestGroupId.NotFound"}[direction]
    expect_error(authorize(client, sg, group_perm(direction, unknown_sg_id()), direction=direction), code, 404)
    assert list_rules(client, sg) == []


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_group_peer_in_another_vpc(client, rule_groups, vpcs, direction):
    other = rule_groups.create(client, VpcId=vpcs.new(client))
    sg = rule_groups.create(client, VpcId=vpcs.new(client))
    code = {"ingress": "InvalidSourceGroupId.Mismatch", "egress": "InvalidDestGroupId.Mismatch"}[direction]
    expect_error(authorize(client, sg, group_perm(direction, other), direction=direction), code, 400)
    assert list_rules(client, sg) == []


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_group_peer_of_another_account_is_not_found(client, other_client, rule_groups, vpcs, direction):
    """Without an owner account, a group id is looked up in the caller's own account."""
    foreign = rule_groups.create(other_client)
    sg = rule_groups.create(client)
    code = {"ingress": "InvalidSourceGroupId.NotFound", "egress": "InvalidDestGroupId.NotFound"}[direction]
    expect_error(authorize(client, sg, group_perm(direction, foreign), direction=direction), code, 404)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_basic_group_naming_an_enterprise_group(client, rule_groups, vpcs, direction):
    vpc = vpcs.new(client)
    ent = rule_groups.create(client, VpcId=vpc, SecurityGroupType="enterprise")
    sg = rule_groups.create(client, VpcId=vpc)
    expect_error(authorize(client, sg, group_perm(direction, ent), direction=direction),
                 "InvalidGroupAuthParameter.OperationDenied", 400)
    assert list_rules(client, sg) == []


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_enterprise_group_rules(client, rule_groups, vpcs, direction):
    vpc = vpcs.new(client)
    peer = rule_groups.create(client, VpcId=vpc)
    ent = rule_groups.create(client, VpcId=vpc, SecurityGroupType="enterprise")
    denied = "InvalidGroupParameter.OperationDenied"
    expect_error(authorize(client, ent, group_perm(direction, peer), direction=direction), denied, 400)
    expect_error(authorize(client, ent, group_perm(direction, ent), direction=direction), denied, 400)
    expect_error(authorize(client, ent, cidr_perm(direction, Policy="drop"), direction=direction), denied, 400)
    expect_error(authorize(client, ent, cidr_perm(direction, Policy="Drop", PortRange="23/23"),
                           cidr_perm(direction, PortRange="24/24"), direction=direction), denied, 400)
    assert list_rules(client, ent) == [], "nothing of a rejected request is kept"
    ok(authorize(client, ent, cidr_perm(direction, Policy="accept", Priority="50"), direction=direction))
    [rule] = list_rules(client, ent)
    assert (rule["Policy"], rule["Priority"]) == ("Accept", "50"), rule


# ---------------------------------------------------------------------------------------------
# limits (docs/ecs.md §2.7)
# ---------------------------------------------------------------------------------------------


def ports(start, n, direction, **kw):
    return [cidr_perm(direction, PortRange=f"{p}/{p}", **kw) for p in range(start, start + n)]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_group_rule_limit(client, rule_groups, vpcs, direction):
    vpc = vpcs.new(client)
    peer = rule_groups.create(client, VpcId=vpc)
    sg = rule_groups.create(client, VpcId=vpc)
    ok(authorize(client, sg, *[group_perm(direction, peer, PortRange=f"{p}/{p}") for p in range(1000, 1020)], direction=direction))
    assert len(list_rules(client, sg)) == 20
    r = authorize(client, sg, group_perm(direction, peer, PortRange="2000/2000"), direction=direction)
    expect_error(r, "AuthorizedGroupRule.LimitExceed", 400)
    # CIDR rules do not count
    ok(authorize(client, sg, cidr_perm(direction, PortRange="2000/2000"), direction=direction))
    assert len(list_rules(client, sg)) == 21


def test_group_rule_limit_within_one_request(client, rule_groups, vpcs):
    vpc = vpcs.new(client)
    peer = rule_groups.create(client, VpcId=vpc)
    sg = rule_groups.create(client, VpcId=vpc)
    r = authorize(client, sg, *[group_perm("ingress", peer, PortRange=f"{p}/{p}") for p in range(1000, 1021)])
    expect_error(r, "AuthorizedGroupRule.LimitExceed", 400)
    assert list_rules(client, sg) == []


def test_rule_quota(client, rule_groups):
    """The server's default quota: 200 rules per group, ingress and egress together."""
    sg = rule_groups.create(client)
    ok(authorize(client, sg, *ports(1, 100, "ingress")))
    ok(authorize(client, sg, *ports(1, 99, "egress"), direction="egress"))
    r = authorize(client, sg, *ports(101, 2, "ingress"))
    expect_error(r, "AuthorizationLimitExceed", 403)
    assert len(list_rules(client, sg)) == 199, "a request that would pass the quota adds nothing"
    # an existing rule is not a new one
    ok(authorize(client, sg, cidr_perm("ingress", PortRange="1/1")))
    ok(authorize(client, sg, cidr_perm("egress", PortRange="500/500"), direction="egress"))
    assert len(list_rules(client, sg)) == 200
    expect_error(authorize(client, sg, cidr_perm("ingress", PortRange="501/501")), "AuthorizationLimitExceed", 403)
    expect_error(authorize(client, sg, cidr_perm("egress", PortRange="501/501"), direction="egress"), "AuthorizationLimitExceed", 403)
    # revoking makes room again
    rules = list_rules(client, sg)
    victim = matching(rules, Direction="ingress", PortRange="1/1")[0]
    ok(revoke(client, sg, SecurityGroupRuleId=[victim["SecurityGroupRuleId"]]))
    ok(authorize(client, sg, cidr_perm("ingress", PortRange="501/501")))
    assert len(list_rules(client, sg)) == 200
