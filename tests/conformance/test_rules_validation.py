"""Rule field validation (docs/ecs.md §2.3, §3.7, §3.8 error tables): one table, every row
through the five variants.

Each row is (direction, the Permissions.1 entry, expected Code); all are HTTP 400. The rows run
against one group per variant and module; a row that the server wrongly accepts has its rules
revoked again so that the rows stay independent.
"""

import pytest

from clients import VARIANTS
from conftest import Groups, Vpcs
from helpers import authorize, delete_groups, expect_error, list_rules, revoke_all

IN = {"IpProtocol": "tcp", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/8"}
OUT = {"IpProtocol": "tcp", "PortRange": "22/22", "DestCidrIp": "10.0.0.0/8"}
BASE = {"ingress": IN, "egress": OUT}
V6 = "2001:db8::/64"


def row(rid, direction, code, drop=(), **fields):
    perm = {k: v for k, v in BASE[direction].items() if k not in drop}
    perm.update(fields)
    return pytest.param(direction, perm, code, id=f"{direction}-{rid}")


def both(rid, code, drop=(), **fields):
    return [row(rid, d, code, drop, **fields) for d in ("ingress", "egress")]


ROWS = [
    # protocol
    *both("protocol-unknown", "InvalidIpProtocol.ValueNotSupported", IpProtocol="foo"),
    *both("protocol-sctp", "InvalidIpProtocol.ValueNotSupported", IpProtocol="sctp"),
    # port range syntax and bounds
    *both("port-0-10", "InvalidParam.PortRange", PortRange="0/10"),
    *both("port-single", "InvalidParam.PortRange", PortRange="22"),
    *both("port-reversed", "InvalidParam.PortRange", PortRange="30/20"),
    *both("port-65536", "InvalidParam.PortRange", PortRange="1/65536"),
    *both("port-letters", "InvalidParam.PortRange", PortRange="a/b"),
    # protocol and port range do not fit
    *both("tcp-minus1", "OperationDenied", PortRange="-1/-1"),
    *both("udp-minus1", "OperationDenied", IpProtocol="udp", PortRange="-1/-1"),
    *both("icmp-22", "OperationDenied", IpProtocol="icmp", PortRange="22/22"),
    *both("all-1-65535", "OperationDenied", IpProtocol="all", PortRange="1/65535"),
    *both("gre-22", "OperationDenied", IpProtocol="gre", PortRange="22/22"),
    *both("no-port-range", "InvalidPortRange.Malformed", drop=("PortRange",)),
    # policy, priority, nic type
    *both("policy-allow", "InvalidPolicy.Malformed", Policy="allow"),
    *both("priority-abc", "InvalidPriority.Malformed", Priority="abc"),
    *both("priority-0", "InvalidPriority.ValueNotSupported", Priority="0"),
    *both("priority-101", "InvalidPriority.ValueNotSupported", Priority="101"),
    *both("nictype-foo", "InvalidNicType.ValueNotSupported", NicType="foo"),
    # CIDRs: the peer and the quintuple side
    row("peer-cidr-bad", "ingress", "InvalidSourceCidrIp.Malformed", SourceCidrIp="10.0.0.0/33"),
    row("peer-cidr-text", "ingress", "InvalidSourceCidrIp.Malformed", SourceCidrIp="not-an-ip"),
    row("peer-cidr-bad", "egress", "InvalidDestCidrIp.Malformed", DestCidrIp="300.1.1.1"),
    row("peer-cidr-text", "egress", "InvalidDestCidrIp.Malformed", DestCidrIp="10.0.0/8"),
    row("quintuple-dest-bad", "ingress", "InvalidDestCidrIp.Malformed", DestCidrIp="10.0.0.256/32"),
    row("quintuple-source-bad", "egress", "InvalidSourceCidrIp.Malformed", SourceCidrIp="1.2.3.4/40"),
    row("ipv6-bad", "ingress", "InvalidParam.Ipv6SourceCidrIp", drop=("SourceCidrIp",), Ipv6SourceCidrIp="2001:zz8::/64"),
    row("ipv6-prefix-129", "ingress", "InvalidParam.Ipv6SourceCidrIp", drop=("SourceCidrIp",), Ipv6SourceCidrIp="2001:db8::/129"),
    row("ipv6-bad", "egress", "InvalidParam.Ipv6DestCidrIp", drop=("DestCidrIp",), Ipv6DestCidrIp="2001:zz8::/64"),
    row("ipv4-and-ipv6-peer", "ingress", "InvalidParam.SourceIp", Ipv6SourceCidrIp=V6),
    row("ipv4-and-ipv6-peer", "egress", "InvalidParam.DestIp", Ipv6DestCidrIp=V6),
    row("no-peer", "ingress", "MissingParameter.Source", drop=("SourceCidrIp",)),
    row("no-peer", "egress", "MissingParameter.Dest", drop=("DestCidrIp",)),
    row("no-peer-quintuple-only", "ingress", "MissingParameter.Source", drop=("SourceCidrIp",), DestCidrIp="10.0.0.0/8"),
    # address family against protocol, and between the two sides
    row("icmp-ipv6-peer", "ingress", "InvalidParam.Ipv4ProtocolConflictWithIpv6Address",
        drop=("SourceCidrIp",), IpProtocol="icmp", PortRange="-1/-1", Ipv6SourceCidrIp=V6),
    row("icmp-ipv6-peer", "egress", "InvalidParam.Ipv4ProtocolConflictWithIpv6Address",
        drop=("DestCidrIp",), IpProtocol="icmp", PortRange="-1/-1", Ipv6DestCidrIp=V6),
    *both("icmpv6-ipv4-peer", "InvalidParam.Ipv6ProtocolConflictWithIpv4Address", IpProtocol="icmpv6", PortRange="-1/-1"),
    row("ipv4-peer-ipv6-quintuple", "ingress", "InvalidParameter.Conflict", Ipv6DestCidrIp=V6),
    row("ipv4-peer-ipv6-quintuple", "egress", "InvalidParameter.Conflict", Ipv6SourceCidrIp=V6),
    # description, source port range
    *both("description-513", "InvalidSecurityGroupDiscription.Malformed", Description="d" * 513),
    *both("source-port-range-letters", "InvalidSourcePortRange.Malformed", SourcePortRange="a/b"),
    *both("source-port-range-single", "InvalidSourcePortRange.Malformed", SourcePortRange="22"),
]


@pytest.fixture(scope="module")
def target_groups(pool, vpc_mode):
    """One empty group per variant for the whole table."""
    vpcs = Vpcs(pool, vpc_mode)
    groups = Groups(vpcs)
    made = {v: groups.create(pool.get(v)) for v in VARIANTS}
    yield made
    delete_groups(groups.created)
    vpcs.cleanup()


@pytest.mark.parametrize("direction,perm,code", ROWS)
def test_invalid_rule(client, target_groups, direction, perm, code):
    sg = target_groups[client.variant]
    r = authorize(client, sg, perm, direction=direction)
    if r.ok:
        revoke_all(client, sg)
    expect_error(r, code, 400)


@pytest.mark.parametrize("direction,perm,code", [
    row("priority-0", "ingress", "InvalidPriority.ValueNotSupported", Priority="0"),
    row("port-reversed", "egress", "InvalidParam.PortRange", PortRange="30/20"),
    row("protocol-unknown", "ingress", "InvalidIpProtocol.ValueNotSupported", IpProtocol="foo"),
])
def test_invalid_rule_flat_form(client, target_groups, direction, perm, code):
    """The deprecated flat parameters go through the same checks."""
    sg = target_groups[client.variant]
    r = client.call({"ingress": "AuthorizeSecurityGroup", "egress": "AuthorizeSecurityGroupEgress"}[direction],
                    {"RegionId": client.region, "SecurityGroupId": sg, **perm})
    if r.ok:
        revoke_all(client, sg)
    expect_error(r, code, 400)


def test_one_bad_permission_rejects_the_request(client, target_groups):
    sg = target_groups[client.variant]
    r = authorize(client, sg, dict(IN, PortRange="80/80"), dict(IN, Priority="0"))
    if r.ok:
        revoke_all(client, sg)
    expect_error(r, "InvalidPriority.ValueNotSupported", 400)
    assert list_rules(client, sg) == [], "nothing of a rejected request is kept"
