"""ModifySecurityGroupRule / ModifySecurityGroupEgressRule (docs/ecs.md §2.5, §3.11, §3.12):
by SecurityGroupRuleId (new values) and by parameters (Description only, Terraform's form)."""

import pytest

from helpers import (
    authorize,
    expect_error,
    list_rules,
    modify_rule,
    ok,
    one_rule,
    rand,
    rule_groups,  # noqa: F401 - fixture
    unknown_sg_id,
)

DIRECTIONS = ["ingress", "egress"]
PEER = {"ingress": "Source", "egress": "Dest"}


def perm(direction, port, cidr="10.0.0.0/8", **kw):
    p = {"IpProtocol": "tcp", "PortRange": f"{port}/{port}", f"{PEER[direction]}CidrIp": cidr}
    p.update(kw)
    return p


def by_id(rules, rule_id):
    return one_rule(rules, SecurityGroupRuleId=rule_id)


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_modify_by_id(client, rule_groups, direction):
    sg = rule_groups.create(client)
    side = PEER[direction]
    ok(authorize(client, sg, perm(direction, 22, Description="before"), direction=direction))
    [rule] = list_rules(client, sg)
    rid = rule["SecurityGroupRuleId"]

    body = ok(modify_rule(client, sg, direction, SecurityGroupRuleId=rid, IpProtocol="udp", PortRange="1000/2000",
                          Policy="drop", Priority="42", Description="after", **{f"{side}CidrIp": "192.168.0.0/16"}))
    assert set(body) == {"RequestId"}, body
    [after] = list_rules(client, sg)
    assert after["SecurityGroupRuleId"] == rid, "modifying by id keeps the id"
    assert (after["IpProtocol"], after["PortRange"], after["Policy"], after["Priority"], after[f"{side}CidrIp"], after["Description"]) == (
        "UDP", "1000/2000", "Drop", "42", "192.168.0.0/16", "after"), after
    assert after["Direction"] == direction and after["NicType"] == "intranet"

    # absent parameters keep their values
    ok(modify_rule(client, sg, direction, SecurityGroupRuleId=rid, Description="only this"))
    [after2] = list_rules(client, sg)
    assert {k: v for k, v in after2.items() if k != "Description"} == {k: v for k, v in after.items() if k != "Description"}
    assert after2["Description"] == "only this"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_modify_by_id_ipv6_and_group_peers(client, rule_groups, vpcs, direction):
    vpc = vpcs.new(client)
    side = PEER[direction]
    p1 = rule_groups.create(client, VpcId=vpc, SecurityGroupName="p1-" + rand())
    p2_name = "p2-" + rand()
    p2 = rule_groups.create(client, VpcId=vpc, SecurityGroupName=p2_name)
    sg = rule_groups.create(client, VpcId=vpc)
    ok(authorize(client, sg, {"IpProtocol": "tcp", "PortRange": "80/80", f"Ipv6{side}CidrIp": "2001:db8::/64"},
                 {"IpProtocol": "tcp", "PortRange": "81/81", f"{side}GroupId": p1}, direction=direction))
    rules = list_rules(client, sg)
    v6 = one_rule(rules, PortRange="80/80")["SecurityGroupRuleId"]
    grp = one_rule(rules, PortRange="81/81")["SecurityGroupRuleId"]
    ok(modify_rule(client, sg, direction, SecurityGroupRuleId=v6, **{f"Ipv6{side}CidrIp": "2001:DB8:1:0::/64"}))
    ok(modify_rule(client, sg, direction, SecurityGroupRuleId=grp, **{f"{side}GroupId": p2}))
    rules = list_rules(client, sg)
    assert by_id(rules, v6)[f"Ipv6{side}CidrIp"] == "2001:db8:1::/64"
    g = by_id(rules, grp)
    assert (g[f"{side}GroupId"], g[f"{side}GroupName"]) == (p2, p2_name), g


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("change", ["ipv6", "group"])
def test_modify_by_id_cannot_change_peer_type(client, rule_groups, vpcs, direction, change):
    vpc = vpcs.new(client)
    side = PEER[direction]
    peer = rule_groups.create(client, VpcId=vpc)
    sg = rule_groups.create(client, VpcId=vpc)
    ok(authorize(client, sg, perm(direction, 22), direction=direction))
    [rule] = list_rules(client, sg)
    new = {f"Ipv6{side}CidrIp": "2001:db8::/64"} if change == "ipv6" else {f"{side}GroupId": peer}
    r = modify_rule(client, sg, direction, SecurityGroupRuleId=rule["SecurityGroupRuleId"], **new)
    expect_error(r, "InvalidOperation.ModifySgRuleEntityType", 400)
    assert list_rules(client, sg) == [rule], "a rejected modification changes nothing"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_modify_by_id_into_a_duplicate(client, rule_groups, direction):
    sg = rule_groups.create(client)
    ok(authorize(client, sg, perm(direction, 22), perm(direction, 23), direction=direction))
    before = list_rules(client, sg)
    rid = one_rule(before, PortRange="23/23")["SecurityGroupRuleId"]
    r = modify_rule(client, sg, direction, SecurityGroupRuleId=rid, PortRange="22/22")
    expect_error(r, "InvalidOperation.RuleDuplicate", 400)
    assert sorted(r["PortRange"] for r in list_rules(client, sg)) == ["22/22", "23/23"]
    # a different Priority is a different rule (docs/ecs.md §2.5)
    ok(modify_rule(client, sg, direction, SecurityGroupRuleId=rid, PortRange="22/22", Priority="2"))


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_modify_by_id_unknown(client, rule_groups, direction):
    sg = rule_groups.create(client)
    r = modify_rule(client, sg, direction, SecurityGroupRuleId="sgr-" + rand(20), Description="x")
    code = {"ingress": ("InvalidSecurityGroupRuleId.NotFound", 404),
            # docs/ecs.md §3.12: by-ID codes assumed symmetric; the egress Revoke code is also
            # accepted
            "egress": ({"InvalidSecurityGroupRuleId.NotFound", "InvalidSecurityGroupRule.RuleNotExist"}, {404, 400})}[direction]
    expect_error(r, *code)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("field,value,code", [
    ("Priority", "0", "InvalidPriority.ValueNotSupported"),
    ("Policy", "allow", "InvalidPolicy.Malformed"),
    ("PortRange", "30/20", "InvalidParam.PortRange"),
    ("Description", "d" * 513, "InvalidSecurityGroupDiscription.Malformed"),
], ids=["priority-0", "policy-allow", "port-reversed", "description-513"])
def test_modify_by_id_validates(client, rule_groups, direction, field, value, code):
    sg = rule_groups.create(client)
    ok(authorize(client, sg, perm(direction, 22), direction=direction))
    [rule] = list_rules(client, sg)
    expect_error(modify_rule(client, sg, direction, SecurityGroupRuleId=rule["SecurityGroupRuleId"], **{field: value}), code, 400)
    assert list_rules(client, sg) == [rule]


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_modify_by_id_enterprise(client, rule_groups, vpcs, direction):
    vpc = vpcs.new(client)
    peer = rule_groups.create(client, VpcId=vpc)
    ent = rule_groups.create(client, VpcId=vpc, SecurityGroupType="enterprise")
    ok(authorize(client, ent, perm(direction, 22), direction=direction))
    [rule] = list_rules(client, ent)
    rid = rule["SecurityGroupRuleId"]
    denied = "InvalidGroupParameter.OperationDenied"
    expect_error(modify_rule(client, ent, direction, SecurityGroupRuleId=rid, Policy="drop"), denied, 400)
    # An enterprise group holds CIDR rules only, so naming a group is also a peer-type change;
    # which of the two codes wins is not documented: either.
    expect_error(modify_rule(client, ent, direction, SecurityGroupRuleId=rid, **{f"{PEER[direction]}GroupId": peer}),
                 {denied, "InvalidOperation.ModifySgRuleEntityType"}, 400)
    assert list_rules(client, ent) == [rule]
    ok(modify_rule(client, ent, direction, SecurityGroupRuleId=rid, Priority="3", Description="ok"))


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_modify_by_parameters_changes_the_description_only(client, rule_groups, direction):
    sg = rule_groups.create(client)
    ok(authorize(client, sg, perm(direction, 22, Priority="5", Description="before"), perm(direction, 23), direction=direction))
    before = list_rules(client, sg)
    params = dict(perm(direction, 22), Policy="accept", Priority="5", NicType="intranet", Description="after")
    # sent twice in a row, as Terraform does: both succeed
    ok(modify_rule(client, sg, direction, **params))
    ok(modify_rule(client, sg, direction, **params))
    after = list_rules(client, sg)
    assert len(after) == 2
    changed = one_rule(after, PortRange="22/22")
    old = one_rule(before, PortRange="22/22")
    assert changed["Description"] == "after"
    assert {k: v for k, v in changed.items() if k != "Description"} == {k: v for k, v in old.items() if k != "Description"}
    assert one_rule(after, PortRange="23/23") == one_rule(before, PortRange="23/23")
    # matching is case-insensitive for protocol and policy
    ok(modify_rule(client, sg, direction, **dict(params, IpProtocol="TCP", Policy="Accept", Description="again")))
    assert one_rule(list_rules(client, sg), PortRange="22/22")["Description"] == "again"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_modify_by_parameters_ipv6_and_group_peers(client, rule_groups, vpcs, direction):
    vpc = vpcs.new(client)
    side = PEER[direction]
    peer = rule_groups.create(client, VpcId=vpc)
    sg = rule_groups.create(client, VpcId=vpc)
    v6 = {"IpProtocol": "tcp", "PortRange": "80/80", f"Ipv6{side}CidrIp": "2001:db8::/64"}
    grp = {"IpProtocol": "all", "PortRange": "-1/-1", f"{side}GroupId": peer}
    ok(authorize(client, sg, v6, grp, direction=direction))
    ok(modify_rule(client, sg, direction, **dict(v6, **{f"Ipv6{side}CidrIp": "2001:DB8:0::/64"}), Description="v6"))
    ok(modify_rule(client, sg, direction, **grp, Description="grp"))
    rules = list_rules(client, sg)
    assert one_rule(rules, PortRange="80/80")["Description"] == "v6"
    assert one_rule(rules, IpProtocol="ALL")["Description"] == "grp"


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("miss", ["port", "cidr", "priority", "policy"])
def test_modify_by_parameters_without_match(client, rule_groups, direction, miss):
    sg = rule_groups.create(client)
    ok(authorize(client, sg, perm(direction, 22, Description="kept"), direction=direction))
    params = perm(direction, 22)
    params.update({"port": {"PortRange": "23/23"}, "cidr": {f"{PEER[direction]}CidrIp": "10.0.0.0/16"},
                   "priority": {"Priority": "2"}, "policy": {"Policy": "drop"}}[miss])
    r = modify_rule(client, sg, direction, **params, Description="changed")
    expect_error(r, "SecurityGroupRule.NotFound", 404)
    assert list_rules(client, sg)[0]["Description"] == "kept"


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_modify_on_unknown_group(client, direction):
    r = modify_rule(client, unknown_sg_id(), direction, **perm(direction, 22), Description="x")
    expect_error(r, "InvalidSecurityGroupId.NotFound", 404)
