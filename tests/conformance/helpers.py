"""Assertion helpers shared by the conformance tests."""

from __future__ import annotations

import random
import re
import string
from typing import Any, Iterable

import pytest

from clients import Result

UUID_UPPER = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
SG_ID = re.compile(r"^sg-[0-9a-z]{20}$")
UTC_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# A missing required parameter that the operation's error table does not document more
# precisely. docs/protocol.md §4.2 lists two gateway forms, both HTTP 400:
#   `MissingParameter`  "The input parameter "<Name>" that is mandatory ... is not supplied."
#   `Missing<Name>`     "<Name> is mandatory for this action."   (docs/protocol.md §4.3)
# The brief of this suite named the first; docs/protocol.md §4.3 decides for the second, and
# only it is accepted. Change it here, in one place.
def gateway_missing_codes(name: str) -> set[str]:
    # docs/protocol.md §4.3: the gateway form Missing<Name> for a required parameter whose
    # operation documents no more specific code.
    return {f"Missing{name}"}


GATEWAY_MISSING_STATUS = 400

_ALNUM = string.ascii_lowercase + string.digits


def rand(n: int = 8) -> str:
    return "".join(random.choice(_ALNUM) for _ in range(n))


def unknown_sg_id() -> str:
    """A well-formed id that no server ever handed out."""
    return "sg-" + rand(20)


def ok(r: Result) -> dict:
    """Asserts success and a well-formed body; returns the body."""
    assert r.ok, r.describe()
    if r.status is not None:
        assert r.status == 200, r.describe()
    assert isinstance(r.body, dict), f"no body (a shape the SDK could not map?): {r.describe()}"
    rid = r.body.get("RequestId")
    assert isinstance(rid, str) and UUID_UPPER.match(rid), f"RequestId is not an upper-case UUID: {r.describe()}"
    return r.body


def expect_error(
    r: Result,
    code: str | Iterable[str],
    status: int | Iterable[int],
    *,
    message: str | None = None,
    message_contains: str | None = None,
) -> None:
    """Asserts an error answer with the given Code and HTTP status, a non-empty Message and an
    upper-case UUID RequestId, all as parsed by the SDK of the variant."""
    codes = {code} if isinstance(code, str) else set(code)
    statuses = {status} if isinstance(status, int) else set(status)
    if r.client_side:
        pytest.skip(f"{r.variant} refuses to send this request client-side: {r.sdk_message}")
    assert not r.ok, f"expected {sorted(codes)}/{sorted(statuses)}, got success: {r.describe()}"
    assert not r.transport_error, f"expected {sorted(codes)}/{sorted(statuses)}, the SDK got no usable error: {r.describe()}"
    if r.variant == "legacy":
        assert r.code != "SDK.UnknownServerError", f"the legacy SDK could not parse the error body: {r.describe()}"
    assert r.code in codes and r.status in statuses, f"expected {sorted(codes)}/{sorted(statuses)}: {r.describe()}"
    assert isinstance(r.message, str) and r.message.strip(), f"empty Message: {r.describe()}"
    assert isinstance(r.request_id, str) and UUID_UPPER.match(r.request_id), f"RequestId is not an upper-case UUID: {r.describe()}"
    if message is not None:
        assert r.message == message, r.describe()
    if message_contains is not None:
        assert message_contains in r.message, r.describe()


def expect_missing(r: Result, name: str, code: str | None = None, status: int | None = None) -> None:
    """A missing required parameter: the op's documented code, else the gateway form."""
    if code is None:
        expect_error(r, gateway_missing_codes(name), GATEWAY_MISSING_STATUS, message_contains=name)
    else:
        expect_error(r, code, status, message_contains=name)


def skip_legacy_region(client: Any) -> None:
    if client.variant == "legacy":
        pytest.skip("the legacy core always adds the client's RegionId to every request")


def groups_of(body: dict) -> list[dict]:
    sgs = body.get("SecurityGroups")
    assert isinstance(sgs, dict) and isinstance(sgs.get("SecurityGroup"), list), (
        f"expected SecurityGroups.SecurityGroup[]: {body}"
    )
    return sgs["SecurityGroup"]


def ids_of(body: dict) -> list[str]:
    return [g["SecurityGroupId"] for g in groups_of(body)]


def tags_of(group: dict) -> dict[str, str]:
    tags = group.get("Tags")
    assert isinstance(tags, dict) and isinstance(tags.get("Tag"), list), f"expected Tags.Tag[]: {group}"
    return {t["TagKey"]: t["TagValue"] for t in tags["Tag"]}


def tag_resources_of(body: dict) -> list[dict]:
    tr = body.get("TagResources")
    assert isinstance(tr, dict) and isinstance(tr.get("TagResource"), list), f"expected TagResources.TagResource[]: {body}"
    return tr["TagResource"]


def describe_one(client: Any, sg_id: str) -> dict:
    """The group's DescribeSecurityGroups entry (asserting there is exactly one)."""
    body = ok(client.call("DescribeSecurityGroups", {"RegionId": client.region, "SecurityGroupId": sg_id}))
    found = groups_of(body)
    assert [g.get("SecurityGroupId") for g in found] == [sg_id], body
    return found[0]


def attribute(client: Any, sg_id: str) -> dict:
    return ok(client.call("DescribeSecurityGroupAttribute", {"RegionId": client.region, "SecurityGroupId": sg_id}))


def is_submap(model: Any, raw: Any, path: str = "$") -> list[str]:
    """Differences where the model-mapped output is not a faithful subset of the raw output."""
    problems: list[str] = []
    if isinstance(model, dict):
        if not isinstance(raw, dict):
            return [f"{path}: model has an object, raw has {type(raw).__name__}"]
        for k, v in model.items():
            if k not in raw:
                problems.append(f"{path}.{k}: in the model output but not in the raw body")
            else:
                problems += is_submap(v, raw[k], f"{path}.{k}")
    elif isinstance(model, list):
        if not isinstance(raw, list) or len(raw) != len(model):
            return [f"{path}: list length/shape differs (model {len(model)}, raw {raw!r:.200})"]
        for i, (m, r) in enumerate(zip(model, raw)):
            problems += is_submap(m, r, f"{path}[{i}]")
    elif model != raw:
        problems.append(f"{path}: model {model!r} != raw {raw!r}")
    return problems


# ---------------------------------------------------------------------------------------------
# security-group rules (test_rules_*.py)
# ---------------------------------------------------------------------------------------------

SGR_ID = re.compile(r"^sgr-[0-9a-z]{20}$")

# Every string field of a DescribeSecurityGroupAttribute `Permission` (docs/ecs.md §3.4);
# unset ones are "".
RULE_STRING_FIELDS = (
    "SecurityGroupRuleId", "Direction", "Policy", "Priority", "IpProtocol", "PortRange",
    "SourcePortRange", "NicType", "SourceCidrIp", "Ipv6SourceCidrIp", "DestCidrIp", "Ipv6DestCidrIp",
    "SourceGroupId", "SourceGroupName", "SourceGroupOwnerAccount", "DestGroupId", "DestGroupName",
    "DestGroupOwnerAccount", "SourcePrefixListId", "SourcePrefixListName", "DestPrefixListId",
    "DestPrefixListName", "PortRangeListId", "PortRangeListName", "Description", "CreateTime",
)

AUTHORIZE = {"ingress": "AuthorizeSecurityGroup", "egress": "AuthorizeSecurityGroupEgress"}
REVOKE = {"ingress": "RevokeSecurityGroup", "egress": "RevokeSecurityGroupEgress"}
MODIFY_RULE = {"ingress": "ModifySecurityGroupRule", "egress": "ModifySecurityGroupEgressRule"}


def rules_of(body: dict) -> list[dict]:
    """`Permissions.Permission[]` of a DescribeSecurityGroupAttribute body."""
    perms = body.get("Permissions")
    assert isinstance(perms, dict) and isinstance(perms.get("Permission"), list), (
        f"expected Permissions.Permission[]: {body}"
    )
    return perms["Permission"]


def list_rules(client: Any, sg_id: str, **filters: Any) -> list[dict]:
    """The group's rules (DescribeSecurityGroupAttribute, all pages when MaxResults is given)."""
    params = {"RegionId": client.region, "SecurityGroupId": sg_id, **filters}
    out: list[dict] = []
    for _ in range(100):
        body = ok(client.call("DescribeSecurityGroupAttribute", params))
        out += rules_of(body)
        token = body.get("NextToken")
        if not token or "MaxResults" not in filters:
            return out
        params = dict(params, NextToken=token)
    raise AssertionError("DescribeSecurityGroupAttribute paging did not end after 100 pages")


def authorize(client: Any, sg_id: str, *perms: dict, direction: str = "ingress", **extra: Any) -> Result:
    """Authorize(Egress) with `Permissions.N.*` (no Permissions when `perms` is empty)."""
    params: dict = {"RegionId": client.region, "SecurityGroupId": sg_id, **extra}
    if perms:
        params["Permissions"] = list(perms)
    return client.call(AUTHORIZE[direction], params)


def revoke(client: Any, sg_id: str, *perms: dict, direction: str = "ingress", **extra: Any) -> Result:
    params: dict = {"RegionId": client.region, "SecurityGroupId": sg_id, **extra}
    if perms:
        params["Permissions"] = list(perms)
    return client.call(REVOKE[direction], params)


def modify_rule(client: Any, sg_id: str, direction: str = "ingress", **params: Any) -> Result:
    return client.call(MODIFY_RULE[direction], {"RegionId": client.region, "SecurityGroupId": sg_id, **params})


def matching(rules: list[dict], **fields: str) -> list[dict]:
    """The rules whose fields equal all of `fields`."""
    return [r for r in rules if all(r.get(k) == v for k, v in fields.items())]


def one_rule(rules: list[dict], **fields: str) -> dict:
    found = matching(rules, **fields)
    assert len(found) == 1, f"expected exactly one rule with {fields}, found {len(found)} in {rules}"
    return found[0]


def revoke_all(client: Any, sg_id: str) -> None:
    """Best-effort: revokes every rule of the group by id (test cleanup)."""
    try:
        r = client.call("DescribeSecurityGroupAttribute", {"RegionId": client.region, "SecurityGroupId": sg_id})
        if not r.ok or not isinstance(r.body, dict):
            return
        perms = (r.body.get("Permissions") or {}).get("Permission") or []
        for direction in ("ingress", "egress"):
            ids = [p["SecurityGroupRuleId"] for p in perms if p.get("Direction") == direction and p.get("SecurityGroupRuleId")]
            for i in range(0, len(ids), 100):
                revoke(client, sg_id, direction=direction, SecurityGroupRuleId=ids[i:i + 100])
    except Exception:  # noqa: BLE001 - cleanup is best effort
        pass


def delete_groups(created: list) -> None:
    """Deletes (client, region, sg_id) triples in several passes, so that a group referenced by
    another group's rule (DependencyViolation) goes once the referencing group is gone."""
    pending = list(reversed(created))
    for _ in range(4):
        left = []
        for client, region, sg_id in pending:
            try:
                r = client.call("DeleteSecurityGroup", {"RegionId": region, "SecurityGroupId": sg_id})
            except Exception:  # noqa: BLE001 - cleanup is best effort
                continue
            if not r.ok and r.status not in (404,):
                left.append((client, region, sg_id))
        if not left:
            return
        pending = left
    for client, _, sg_id in pending:  # rules holding them (server without DependencyViolation order)
        revoke_all(client, sg_id)
    for client, region, sg_id in pending:
        try:
            client.call("DeleteSecurityGroup", {"RegionId": region, "SecurityGroupId": sg_id})
        except Exception:  # noqa: BLE001
            pass


@pytest.fixture
def rule_groups(groups):
    """`groups`, torn down in dependency order (referencing groups first); import it into a
    test module to use it."""
    yield groups
    delete_groups(groups.created)
