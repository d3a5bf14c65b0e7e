"""`alicloud_security_group_rule` as Terraform drives it (docs/ecs.md §8.2, §3.7–§3.12), replayed
byte for byte with the raw V1 client:

* create: `DescribeSecurityGroupAttribute` (legacy Go SDK: GET, all in the query,
  `Format=JSON`) to learn the VpcId, then `AuthorizeSecurityGroup(Egress)` through tea-rpc: POST,
  common parameters in the query (`Format=json`), `RegionId`, `SecurityGroupId` and
  `Permissions.1.*` (lower-case protocol and policy, priority as a decimal string) in an
  `application/x-www-form-urlencoded` body, no ClientToken;
* read: GET `DescribeSecurityGroupAttribute` with `Direction` and `NicType=intranet`, the rule
  found by lower(IpProtocol), PortRange, the peer, lower(Policy) and Priority == "<n>";
* update (description): GET `ModifySecurityGroupRule` / `ModifySecurityGroupEgressRule` with the
  flat parameters, sent twice in a row;
* delete: GET `RevokeSecurityGroup(Egress)` with the flat parameters and `Description` always
  present (empty), then a read that must no longer find the rule.
"""

import ipaddress

import pytest

from helpers import UUID_UPPER, rand

pytestmark = pytest.mark.raw

def compress(value: str) -> str:
    """Terraform compares IPv6 peers after compressing them."""
    return str(ipaddress.ip_network(value, strict=False)) if "/" in value else str(ipaddress.ip_address(value))


class Terraform:
    """The calls of one `alicloud_security_group_rule` resource."""

    def __init__(self, raw, sg, direction, protocol, port_range, peer_kind, peer, policy="accept", priority=1,
                 description="", vpc=None):
        self.raw, self.sg, self.direction, self.vpc = raw, sg, direction, vpc
        self.protocol, self.port_range, self.policy, self.priority = protocol, port_range, policy, priority
        self.description = description
        side = "Source" if direction == "ingress" else "Dest"
        # cidr_ip / ipv6_cidr_ip / source_security_group_id (DestGroupId for egress)
        self.peer_key = {"cidr": f"{side}CidrIp", "ipv6": f"Ipv6{side}CidrIp", "group": f"{side}GroupId"}[peer_kind]
        self.peer_kind, self.peer = peer_kind, peer
        self.suffix = "" if direction == "ingress" else "Egress"

    def _ok(self, r, action):
        assert r.status == 200, f"{action}: {r.describe()}"
        body = r.json()
        assert UUID_UPPER.match(body.get("RequestId", "")), body
        return body

    def create(self):
        # legacy Go SDK read of the group first
        r = self.raw.request("DescribeSecurityGroupAttribute", {"RegionId": self.raw.region, "SecurityGroupId": self.sg},
                             method="GET", fmt="JSON")
        assert self._ok(r, "DescribeSecurityGroupAttribute")["VpcId"] == self.vpc
        perm = {"IpProtocol": self.protocol, "Policy": self.policy, "Priority": str(self.priority),
                self.peer_key: self.peer, "PortRange": self.port_range, "NicType": "intranet"}
        if self.description:
            perm["Description"] = self.description
        action = f"AuthorizeSecurityGroup{self.suffix}"
        r = self.raw.request(action, {"RegionId": self.raw.region, "SecurityGroupId": self.sg, "Permissions": [perm]},
                             method="POST", placement="split", fmt="json")
        assert r.content_type.replace(" ", "").lower() == "application/json;charset=utf-8", r.describe()
        assert set(self._ok(r, action)) == {"RequestId"}

    def read(self):
        """The matching Permission, or None (Terraform: removed from state)."""
        r = self.raw.request("DescribeSecurityGroupAttribute",
                             {"RegionId": self.raw.region, "SecurityGroupId": self.sg, "Direction": self.direction,
                              "NicType": "intranet"}, method="GET", fmt="JSON")
        body = self._ok(r, "DescribeSecurityGroupAttribute")
        perms = body["Permissions"]["Permission"]
        assert all(p["Direction"] == self.direction for p in perms), f"Direction filter ignored: {perms}"
        want = compress(self.peer) if self.peer_kind == "ipv6" else self.peer
        found = [
            p for p in perms
            if p["IpProtocol"].lower() == self.protocol and p["PortRange"] == self.port_range
            and p[self.peer_key] == want and p["Policy"].lower() == self.policy
            and p["Priority"] == str(self.priority)
        ]
        assert len(found) <= 1, f"more than one rule matches {self.__dict__}: {found}"
        if found:
            rule = found[0]
            assert rule["NicType"] == "intranet", rule
            return rule
        return None

    def flat(self, description):
        return {"RegionId": self.raw.region, "SecurityGroupId": self.sg, "IpProtocol": self.protocol,
                "PortRange": self.port_range, "Policy": self.policy, "Priority": str(self.priority),
                self.peer_key: self.peer, "NicType": "intranet", "Description": description}

    def update_description(self, description):
        action = f"ModifySecurityGroup{self.suffix}Rule"
        for attempt in (1, 2):  # the provider sends it twice
            r = self.raw.request(action, self.flat(description), method="GET", fmt="JSON")
            assert set(self._ok(r, f"{action} #{attempt}")) == {"RequestId"}
        self.description = description

    def delete(self):
        action = f"RevokeSecurityGroup{self.suffix}"
        r = self.raw.request(action, self.flat(""), method="GET", fmt="JSON")
        self._ok(r, action)


@pytest.fixture
def raw_groups(raw, raw_vpc):
    created = []

    def make(**params):
        r = raw.request("CreateSecurityGroup", {"RegionId": raw.region, "VpcId": raw_vpc, **params}, placement="split", fmt="json")
        assert r.status == 200, r.describe()
        sg = r.json()["SecurityGroupId"]
        created.append(sg)
        return sg

    yield make
    pending = list(reversed(created))
    for _ in range(3):
        pending = [sg for sg in pending
                   if raw.request("DeleteSecurityGroup", {"RegionId": raw.region, "SecurityGroupId": sg}).status not in (200, 404)]


CASES = [
    # direction, protocol, port range, peer kind, policy, priority
    ("ingress", "tcp", "22/22", "cidr", "accept", 1),
    ("egress", "udp", "53/53", "cidr", "drop", 10),
    ("ingress", "tcp", "80/80", "group", "accept", 1),
    ("egress", "all", "-1/-1", "group", "accept", 1),
    ("ingress", "icmpv6", "-1/-1", "ipv6", "accept", 1),
    ("egress", "tcp", "443/443", "ipv6", "drop", 100),
    ("ingress", "icmp", "-1/-1", "cidr", "drop", 5),
    ("egress", "gre", "-1/-1", "cidr", "accept", 1),
]


@pytest.mark.parametrize("direction,protocol,port_range,peer_kind,policy,priority", CASES,
                         ids=[f"{c[0]}-{c[3]}-{c[1]}" for c in CASES])
def test_terraform_rule_lifecycle(raw, raw_groups, raw_vpc, direction, protocol, port_range, peer_kind, policy, priority):
    peer_group = raw_groups(SecurityGroupName="tfpeer-" + rand()) if peer_kind == "group" else None
    sg = raw_groups(SecurityGroupName="tf-" + rand())
    peer = {"cidr": "10.20.0.0/16", "ipv6": "2001:DB8:0:0::/64" if direction == "ingress" else "2001:DB8:ABCD:0:0:0:0:0/48",
            "group": peer_group}[peer_kind]

    rule = Terraform(raw, sg, direction, protocol, port_range, peer_kind, peer, policy, priority, description="created by tf",
                     vpc=raw_vpc)
    # a second resource that differs only in priority: a distinct rule for Terraform
    sibling = Terraform(raw, sg, direction, protocol, port_range, peer_kind, peer, policy, priority % 100 + 1, vpc=raw_vpc)

    assert rule.read() is None
    rule.create()
    sibling.create()
    got = rule.read()
    assert got is not None, "the created rule is not found by Terraform's read"
    assert got["Description"] == "created by tf"
    if peer_kind == "ipv6":
        assert got[rule.peer_key] == compress(peer), got
    else:
        assert got[rule.peer_key] == peer, "peers are echoed as sent"
    sib = sibling.read()
    assert sib is not None and sib["SecurityGroupRuleId"] != got["SecurityGroupRuleId"]

    # apply again without changes: the provider's create is not repeated, but an accidental
    # re-create of an existing rule must not duplicate it
    rule.create()
    assert rule.read()["SecurityGroupRuleId"] == got["SecurityGroupRuleId"]

    rule.update_description("changed by tf")
    again = rule.read()
    assert again["Description"] == "changed by tf" and again["SecurityGroupRuleId"] == got["SecurityGroupRuleId"], again
    assert sibling.read()["Description"] == "", "the update touched another rule"

    rule.update_description("")  # description removed from the configuration
    assert rule.read() is not None

    rule.delete()
    assert rule.read() is None, "the revoked rule is still there"
    assert sibling.read() is not None, "the revoke removed the sibling rule (Priority is part of the identity)"
    rule.delete()  # Terraform's delete retry: revoking what is gone is fine
    sibling.delete()
    assert sibling.read() is None


def test_terraform_read_of_a_deleted_group(raw, raw_groups, raw_vpc):
    """Read after the group disappeared: 404 InvalidSecurityGroupId.NotFound, which the provider
    maps to "gone"; the delete likewise (NotFound ⇒ done)."""
    sg = raw_groups()
    assert raw.request("DeleteSecurityGroup", {"RegionId": raw.region, "SecurityGroupId": sg}).status == 200
    rule = Terraform(raw, sg, "ingress", "tcp", "22/22", "cidr", "10.0.0.0/8", vpc=raw_vpc)
    for action, params in (
        ("DescribeSecurityGroupAttribute", {"RegionId": raw.region, "SecurityGroupId": sg, "Direction": "ingress", "NicType": "intranet"}),
        ("RevokeSecurityGroup", rule.flat("")),
    ):
        r = raw.request(action, params, method="GET", fmt="JSON")
        assert r.status == 404 and r.json()["Code"] == "InvalidSecurityGroupId.NotFound", f"{action}: {r.describe()}"
