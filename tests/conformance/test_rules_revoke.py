"""RevokeSecurityGroup / RevokeSecurityGroupEgress (docs/ecs.md §2.5, §3.9, §3.10): by
parameters (Permissions.N.* or the deprecated flat form) and by SecurityGroupRuleId.N."""

import pytest

from helpers import (
    SGR_ID,
    authorize,
    expect_error,
    list_rules,
    matching,
    ok,
    rand,
    revoke,
    rule_groups,  # noqa: F401 - fixture
    unknown_sg_id,
)

DIRECTIONS = ["ingress", "egress"]
PEER = {"ingress": "Source", "egress": "Dest"}
UNKNOWN_ID = {
    "ingress": ("InvalidSecurityGroupRuleId.NotFound", 404),
    "egress": ("InvalidSecurityGroupRule.RuleNotExist", 400),
}


def perm(direction, port, cidr="10.0.0.0/8", **kw):
    p = {"IpProtocol": "tcp", "PortRange": f"{port}/{port}", f"{PEER[direction]}CidrIp": cidr}
    p.update(kw)
    return p


def unknown_rule_id():
    return "sgr-" + rand(20)


def ports_of(rules):
    return sorted(r["PortRange"] for r in rules)


@pytest.fixture
def three_rules(client, rule_groups, request):
    """A group with rules on ports 1, 2 and 3 in the direction of the test."""
    direction = request.node.callspec.params["direction"]
    sg = rule_groups.create(client)
    ok(authorize(client, sg, perm(direction, 1, Description="one"), perm(direction, 2), perm(direction, 3, Priority="7"),
                 direction=direction))
    rules = list_rules(client, sg)
    assert ports_of(rules) == ["1/1", "2/2", "3/3"], rules
    return sg, {r["PortRange"]: r["SecurityGroupRuleId"] for r in rules}


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_by_parameters(client, three_rules, direction):
    sg, _ = three_rules
    # matching ignores Description and the case of protocol / policy; defaults apply
    body = ok(revoke(client, sg, {"IpProtocol": "TCP", "PortRange": "1/1", f"{PEER[direction]}CidrIp": "10.0.0.0/8",
                                  "Policy": "ACCEPT", "Description": "something else"}, direction=direction))
    assert set(body) == {"RequestId"}, body
    assert ports_of(list_rules(client, sg)) == ["2/2", "3/3"]
    # Priority is part of the identity: priority 1 does not match the priority-7 rule
    ok(revoke(client, sg, perm(direction, 3), direction=direction))
    assert ports_of(list_rules(client, sg)) == ["2/2", "3/3"]
    ok(revoke(client, sg, perm(direction, 3, Priority="7"), perm(direction, 2), direction=direction))
    assert list_rules(client, sg) == []


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_by_parameters_without_match(client, three_rules, direction):
    sg, _ = three_rules
    ok(revoke(client, sg, perm(direction, 4), direction=direction))
    ok(revoke(client, sg, perm(direction, 1, cidr="10.0.0.0/16"), direction=direction))
    ok(revoke(client, sg, perm(direction, 1, Policy="drop"), direction=direction))
    assert ports_of(list_rules(client, sg)) == ["1/1", "2/2", "3/3"], "nothing matched, nothing removed"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_flat_form(client, three_rules, direction):
    sg, _ = three_rules
    params = {"IpProtocol": "tcp", "PortRange": "2/2", f"{PEER[direction]}CidrIp": "10.0.0.0/8", "Policy": "accept",
              "Priority": "1", "NicType": "intranet", "Description": ""}
    ok(revoke(client, sg, direction=direction, **params))
    assert ports_of(list_rules(client, sg)) == ["1/1", "3/3"]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_by_id(client, three_rules, direction):
    sg, ids = three_rules
    assert all(SGR_ID.match(i) for i in ids.values()), ids
    ok(revoke(client, sg, direction=direction, SecurityGroupRuleId=[ids["1/1"]]))
    assert ports_of(list_rules(client, sg)) == ["2/2", "3/3"]
    ok(revoke(client, sg, direction=direction, SecurityGroupRuleId=[ids["2/2"], ids["3/3"]]))
    assert list_rules(client, sg) == []


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_unknown_id(client, three_rules, direction):
    sg, ids = three_rules
    expect_error(revoke(client, sg, direction=direction, SecurityGroupRuleId=[unknown_rule_id()]), *UNKNOWN_ID[direction])
    # a revoked id is unknown too
    ok(revoke(client, sg, direction=direction, SecurityGroupRuleId=[ids["1/1"]]))
    expect_error(revoke(client, sg, direction=direction, SecurityGroupRuleId=[ids["1/1"]]), *UNKNOWN_ID[direction])
    # one unknown id among known ones: the request fails as a whole
    r = revoke(client, sg, direction=direction, SecurityGroupRuleId=[ids["2/2"], unknown_rule_id()])
    expect_error(r, *UNKNOWN_ID[direction])
    assert ports_of(list_rules(client, sg)) == ["2/2", "3/3"], "a failed revoke removes nothing"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_id_of_the_other_direction(client, rule_groups, direction):
    """A rule id names a rule of one direction; the other direction's Revoke does not know it."""
    sg = rule_groups.create(client)
    other = "egress" if direction == "ingress" else "ingress"
    ok(authorize(client, sg, perm(other, 5), direction=other))
    [rule] = list_rules(client, sg)
    expect_error(revoke(client, sg, direction=direction, SecurityGroupRuleId=[rule["SecurityGroupRuleId"]]), *UNKNOWN_ID[direction])
    assert len(list_rules(client, sg)) == 1


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_repeated_id(client, three_rules, direction):
    sg, ids = three_rules
    r = revoke(client, sg, direction=direction, SecurityGroupRuleId=[ids["1/1"], ids["1/1"]])
    expect_error(r, "InvalidParam.SecurityGroupRuleIdRepeated", 400)
    assert len(list_rules(client, sg)) == 3


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_ids_and_permissions(client, three_rules, direction):
    sg, ids = three_rules
    r = revoke(client, sg, perm(direction, 2), direction=direction, SecurityGroupRuleId=[ids["1/1"]])
    expect_error(r, "InvalidParam.Permissions", 400)
    assert len(list_rules(client, sg)) == 3


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_permissions_and_flat_fields(client, three_rules, direction):
    sg, _ = three_rules
    r = revoke(client, sg, perm(direction, 1), direction=direction, IpProtocol="tcp", PortRange="2/2",
               **{f"{PEER[direction]}CidrIp": "10.0.0.0/8"})
    expect_error(r, "InvalidParam.Permissions", 400)
    assert len(list_rules(client, sg)) == 3


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_duplicate_permissions(client, three_rules, direction):
    sg, _ = three_rules
    expect_error(revoke(client, sg, perm(direction, 1), perm(direction, 1), direction=direction),
                 "InvalidParam.DuplicatePermissions", 400)
    assert len(list_rules(client, sg)) == 3


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_group_and_ipv6_peers(client, rule_groups, vpcs, direction):
    vpc = vpcs.new(client)
    peer = rule_groups.create(client, VpcId=vpc)
    sg = rule_groups.create(client, VpcId=vpc)
    side = PEER[direction]
    group_rule = {"IpProtocol": "udp", "PortRange": "53/53", f"{side}GroupId": peer}
    v6_rule = {"IpProtocol": "tcp", "PortRange": "443/443", f"Ipv6{side}CidrIp": "2001:db8::/64"}
    ok(authorize(client, sg, group_rule, v6_rule, direction=direction))
    # the IPv6 peer matches in any spelling of the same network
    ok(revoke(client, sg, dict(v6_rule, **{f"Ipv6{side}CidrIp": "2001:DB8:0:0:0::/64"}), direction=direction))
    rules = list_rules(client, sg)
    assert [r["IpProtocol"] for r in rules] == ["UDP"], rules
    ok(revoke(client, sg, group_rule, direction=direction))
    assert list_rules(client, sg) == []


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_revoke_on_unknown_group(client, direction):
    expect_error(revoke(client, unknown_sg_id(), perm(direction, 1), direction=direction), "InvalidSecurityGroupId.NotFound", 404)


def test_revoke_keeps_other_groups_rules(client, rule_groups):
    a = rule_groups.create(client)
    b = rule_groups.create(client)
    for sg in (a, b):
        ok(authorize(client, sg, perm("ingress", 22)))
    ok(revoke(client, a, perm("ingress", 22)))
    assert list_rules(client, a) == []
    assert len(matching(list_rules(client, b), PortRange="22/22")) == 1
