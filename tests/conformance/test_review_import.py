"""`secgroup import` of an export made with the official SDKs themselves (docs/review.md §1).

An account is built through the SDKs on the suite's server: two regions, VPCs, vSwitches,
basic and enterprise groups with ingress and egress rules (group peers, a prefix list, an
empty prefix list, another account's group, a quintuple rule), tags, instances in several
groups and stopped ones. Its Describe responses are then fetched page by page (small page
sizes, so every listing takes several pages) and saved as the SDKs give them:

  * legacy: the raw JSON body of aliyun-python-sdk-core's CommonRequest, as the aliyun CLI
    prints it;
  * tea: `response.body.to_map()` of alibabacloud-ecs20140526 / -vpc20160428 (and, for
    DescribeInstances, the whole `response.to_map()`: headers, statusCode, body).

Each export is imported with the real `secgroup import DIR --account ID --database
sqlite://FRESH` into an account made there with `secgroup account create`, a second real
`secgroup serve` is started on that database, and both servers must give the same Describe
answers (less RequestId) and the same DescribeReachabilityMatrix answers. An export that lost
one rule file imports too, and the comparison must then find differences.

The account is a fresh one (`secgroup account create` on the suite's database), so its
listings hold only what this module builds and no other test sees it.
"""

from __future__ import annotations

import importlib
import json
import subprocess
from pathlib import Path

import pytest

from clients import ExtLegacyClient, LegacyClient, TeaClient, VpcLegacyClient, VpcTeaClient
from conftest import HOST, _server_env, create_account, start_server
from helpers import ok

pytestmark = pytest.mark.raw  # one account, built once: not parametrized over the variants

REGIONS = ("cn-hangzhou", "cn-shanghai")
IMAGE = "aliyun_3_x64_20G_alibase_20240819.vhd"

# Page sizes small enough that every listing of this account takes several pages.
PAGE_SIZE = {"DescribeVpcs": 1, "DescribeVSwitches": 2, "DescribeSecurityGroups": 2, "DescribeInstances": 2}
TOKEN_PAGE = {"DescribePrefixLists": 1, "DescribeSecurityGroupAttribute": 10}  # MaxResults (10 is its least)
VPC_ACTIONS = ("DescribeVpcs", "DescribeVSwitches")


class Sdks:
    """The legacy and Tea clients of one account on one server, per region."""

    def __init__(self, port: int, account_id: str, ak: str, sk: str):
        self.port, self.account_id, self.ak, self.sk = port, account_id, ak, sk
        self._c: dict = {}

    def get(self, kind: str, region: str):
        key = (kind, region)
        if key not in self._c:
            cls = {"legacy": LegacyClient, "vpc-legacy": VpcLegacyClient, "ext": ExtLegacyClient}.get(kind)
            if cls is not None:
                self._c[key] = cls(HOST, self.port, self.ak, self.sk, region)
            else:
                tea = {"tea": TeaClient, "vpc-tea": VpcTeaClient}[kind]
                self._c[key] = tea("tea", HOST, self.port, self.ak, self.sk, region)
        return self._c[key]

    def call(self, sdk: str, region: str, action: str, params: dict):
        """One call through `sdk` (`legacy` or `tea`), the VPC API's client for VPC actions."""
        kind = ("vpc-" + sdk) if action in VPC_ACTIONS else sdk
        return self.get(kind, region).call(action, {"RegionId": region, **params})


def created(r, key: str) -> str:
    value = ok(r)[key]
    assert isinstance(value, str) and value, r.describe()
    return value


# ---------------------------------------------------------------------------------------------
# the account
# ---------------------------------------------------------------------------------------------


def build(sdks: Sdks, foreign: dict) -> str:
    """Builds the account; returns the group whose rule names `foreign` (a permission)."""
    c = lambda region: sdks.get("legacy", region)  # noqa: E731
    v = lambda region: sdks.get("vpc-legacy", region)  # noqa: E731
    hz, sh = REGIONS

    def vpc(region: str, cidr: str, name: str) -> str:
        return created(v(region).call("CreateVpc", {"RegionId": region, "CidrBlock": cidr, "VpcName": name}), "VpcId")

    def vswitch(region: str, vpc_id: str, zone: str, cidr: str, name: str) -> str:
        p = {"RegionId": region, "VpcId": vpc_id, "ZoneId": zone, "CidrBlock": cidr, "VSwitchName": name}
        return created(v(region).call("CreateVSwitch", p), "VSwitchId")

    def group(region: str, vpc_id: str, **params) -> str:
        return created(c(region).call("CreateSecurityGroup", {"RegionId": region, "VpcId": vpc_id, **params}), "SecurityGroupId")

    def allow(region: str, sg: str, *permissions: dict, egress: bool = False) -> None:
        action = "AuthorizeSecurityGroupEgress" if egress else "AuthorizeSecurityGroup"
        ok(c(region).call(action, {"RegionId": region, "SecurityGroupId": sg, "Permissions": list(permissions)}))

    def run(region: str, vsw: str, groups: list, name: str, amount: int = 1) -> list:
        p = {"RegionId": region, "ImageId": IMAGE, "InstanceType": "ecs.g5.large", "VSwitchId": vsw,
             "InstanceName": name, "SecurityGroupIds": groups, "Amount": amount}
        return ok(c(region).call("RunInstances", p))["InstanceIdSets"]["InstanceIdSet"]

    prod = vpc(hz, "10.0.0.0/8", "prod")
    lab = vpc(hz, "172.16.0.0/12", "lab")
    vsw_a = vswitch(hz, prod, hz + "-b", "10.1.0.0/16", "a")
    vsw_b = vswitch(hz, prod, hz + "-h", "10.2.0.0/16", "b")
    vsw_lab = vswitch(hz, lab, hz + "-b", "172.16.1.0/24", "lab")
    office = created(c(hz).call("CreatePrefixList", {
        "RegionId": hz, "PrefixListName": "office", "AddressFamily": "IPv4", "MaxEntries": 5,
        "Entry": [{"Cidr": "192.0.2.0/24", "Description": "hq"}, {"Cidr": "198.51.100.7/32"}]}), "PrefixListId")
    created(c(hz).call("CreatePrefixList", {
        "RegionId": hz, "PrefixListName": "empty", "AddressFamily": "IPv6", "MaxEntries": 3}), "PrefixListId")
    web = group(hz, prod, SecurityGroupName="web", Description="front")
    db = group(hz, prod, SecurityGroupName="db")
    adv = group(hz, prod, SecurityGroupName="adv", SecurityGroupType="enterprise")
    ops = group(hz, lab, SecurityGroupName="ops")
    ok(c(hz).call("ModifySecurityGroupPolicy", {"RegionId": hz, "SecurityGroupId": db, "InnerAccessPolicy": "Drop"}))
    ok(c(hz).call("TagResources", {"RegionId": hz, "ResourceType": "securitygroup", "ResourceId": [web],
                                      "Tag": [{"Key": "team", "Value": "edge"}]}))

    allow(hz, web,
          {"IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "0.0.0.0/0", "Priority": 5, "Description": "ssh"},
          {"IpProtocol": "TCP", "PortRange": "80/443", "SourceCidrIp": "0.0.0.0/0"},
          {"IpProtocol": "TCP", "PortRange": "443/443", "Ipv6SourceCidrIp": "::/0", "Policy": "drop", "Priority": 2},
          {"IpProtocol": "TCP", "PortRange": "8080/8080", "SourcePrefixListId": office},
          {"IpProtocol": "TCP", "PortRange": "8443/8443", "SourceGroupId": web},
          {"IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/8", "Priority": 10, "Description": "shadowed"})
    # More than one page (10) of ingress rules on one group.
    allow(hz, web, *({"IpProtocol": "UDP", "PortRange": f"{5000 + n}/{5000 + n}", "SourceCidrIp": f"10.{n}.0.0/16",
                      "Priority": 1 + n % 7} for n in range(9)))
    allow(hz, web, {"IpProtocol": "TCP", "PortRange": "3306/3306", "DestGroupId": db, "Priority": 3}, egress=True)
    allow(hz, db,
          {"IpProtocol": "TCP", "PortRange": "3306/3306", "SourceGroupId": web},
          foreign,
          {"IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "10.0.0.0/8", "DestCidrIp": "10.1.0.0/24",
           "SourcePortRange": "1024/65535"})
    allow(hz, db, {"IpProtocol": "ALL", "PortRange": "-1/-1", "DestCidrIp": "0.0.0.0/0", "Policy": "drop", "Priority": 100},
          {"IpProtocol": "TCP", "PortRange": "443/443", "DestPrefixListId": office, "Priority": 1}, egress=True)
    allow(hz, adv, {"IpProtocol": "ICMP", "PortRange": "-1/-1", "SourceCidrIp": "10.0.0.0/8"})
    allow(hz, ops, {"IpProtocol": "TCP", "PortRange": "22/22", "SourceCidrIp": "172.16.0.0/12"})

    run(hz, vsw_a, [web], "web-[1,3]", amount=3)
    run(hz, vsw_a, [web, db], "both")
    stopped = run(hz, vsw_b, [db], "db-[1,2]", amount=2)
    run(hz, vsw_b, [adv], "adv")
    run(hz, vsw_lab, [ops], "ops")
    for i in stopped:
        ok(c(hz).call("StopInstance", {"RegionId": hz, "InstanceId": i}))

    # The second region.
    sh_vpc = vpc(sh, "192.168.0.0/16", "sh")
    sh_vsw = vswitch(sh, sh_vpc, sh + "-b", "192.168.1.0/24", "sh")
    rdp = group(sh, sh_vpc, SecurityGroupName="rdp")
    idle = group(sh, sh_vpc, SecurityGroupName="idle")
    allow(sh, rdp, {"IpProtocol": "TCP", "PortRange": "3389/3389", "SourceCidrIp": "0.0.0.0/0"},
          {"IpProtocol": "TCP", "PortRange": "1/65535", "SourceGroupId": idle, "Policy": "drop", "Priority": 50})
    run(sh, sh_vsw, [rdp], "win")
    return db


# ---------------------------------------------------------------------------------------------
# the export, through the SDKs
# ---------------------------------------------------------------------------------------------


def items(action: str, b: dict) -> list:
    path = {
        "DescribeVpcs": ("Vpcs", "Vpc"),
        "DescribeVSwitches": ("VSwitches", "VSwitch"),
        "DescribeSecurityGroups": ("SecurityGroups", "SecurityGroup"),
        "DescribeInstances": ("Instances", "Instance"),
        "DescribePrefixLists": ("PrefixLists", "PrefixList"),
        "DescribeSecurityGroupAttribute": ("Permissions", "Permission"),
        "DescribePrefixListAttributes": ("Entries", "Entry"),
    }[action]
    got = (b.get(path[0]) or {}).get(path[1]) or []
    assert isinstance(got, list), b
    return got


def pages(sdks: Sdks, sdk: str, region: str, action: str, params: dict | None = None):
    """Every page of one listing: yields (params, Result)."""
    params = dict(params or {})
    if action in PAGE_SIZE:
        size, number, seen = PAGE_SIZE[action], 1, 0
        while True:
            p = {**params, "PageSize": size, "PageNumber": number}
            r = sdks.call(sdk, region, action, p)
            b = ok(r)
            yield p, r
            seen += len(items(action, b))
            if seen >= int(b["TotalCount"]) or not items(action, b):
                return
            number += 1
    elif action in TOKEN_PAGE:
        token = None
        while True:
            p = {**params, "MaxResults": TOKEN_PAGE[action]}
            if token:
                p["NextToken"] = token
            r = sdks.call(sdk, region, action, p)
            token = ok(r).get("NextToken")
            yield p, r
            if not token:
                return
    else:
        yield params, sdks.call(sdk, region, action, params)


def tea_whole_response(sdks: Sdks, region: str, action: str, params: dict) -> dict:
    """`response.to_map()` of the Tea SDK: `{"headers", "statusCode", "body"}`."""
    client = sdks.get("tea", region)
    models = importlib.import_module(f"{client.package}.models")
    request = getattr(models, f"{action}Request")().from_map({"RegionId": region, **params})
    return getattr(client.client, client.method_name(action))(request).to_map()


def export(sdks: Sdks, sdk: str, root: Path) -> tuple[list, dict]:
    """Saves the account's Describe responses through `sdk` under root/REGION/; returns the
    calls made, as (region, action, params), and the number of pages per action."""
    calls, page_counts = [], {}
    for region in REGIONS:
        out = root / region
        out.mkdir(parents=True)
        n = 0

        def save(action: str, params: dict, r) -> None:
            nonlocal n
            n += 1
            calls.append((region, action, params))
            page_counts[action] = page_counts.get(action, 0) + 1
            if sdk == "legacy":
                text = r.raw  # the body as the server sent it, as the aliyun CLI prints it
            elif action == "DescribeInstances":
                text = json.dumps(tea_whole_response(sdks, region, action, params), indent=2)
            else:
                text = json.dumps(r.body, indent=2)
            (out / f"{n:03d}-{action}.json").write_text(text)

        listed = {}
        for action in ("DescribeVpcs", "DescribeVSwitches", "DescribeSecurityGroups", "DescribeInstances", "DescribePrefixLists"):
            listed[action] = []
            for p, r in pages(sdks, sdk, region, action):
                save(action, p, r)
                listed[action] += items(action, r.body)
        for g in listed["DescribeSecurityGroups"]:
            for direction in ("ingress", "egress"):
                for p, r in pages(sdks, sdk, region, "DescribeSecurityGroupAttribute",
                                  {"SecurityGroupId": g["SecurityGroupId"], "Direction": direction}):
                    save("DescribeSecurityGroupAttribute", p, r)
        for pl in listed["DescribePrefixLists"]:
            for p, r in pages(sdks, sdk, region, "DescribePrefixListAttributes", {"PrefixListId": pl["PrefixListId"]}):
                save("DescribePrefixListAttributes", p, r)
    return calls, page_counts


# ---------------------------------------------------------------------------------------------
# comparing two servers
# ---------------------------------------------------------------------------------------------


def answer(sdks: Sdks, region: str, action: str, params: dict) -> dict:
    kind = "vpc-legacy" if action in VPC_ACTIONS else "legacy"
    r = sdks.get(kind, region).call(action, {"RegionId": region, **params})
    return comparable(sdks, ok(r))


def comparable(sdks: Sdks, b: dict) -> dict:
    """The answer less its RequestId, and with `OwnerId` (the VPC API's: the caller's own
    account, which is another one after import) checked and replaced by a mark."""

    def walk(v):
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                if k == "OwnerId":
                    assert str(x) == sdks.account_id, f"OwnerId {x} of account {sdks.account_id}: {b}"
                    x = "<the caller's account>"
                out[k] = walk(x)
            return out
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    b = dict(b)
    b.pop("RequestId")
    return walk(b)


def questions(sdks: Sdks, exported_calls: list) -> list:
    """The Describe calls to compare: the export's own pages, the same listings in one page,
    each group's rules of both directions at once; then DescribeReachabilityMatrix over
    every VPC and over each group, for several ports."""
    qs = list(exported_calls)
    for region in REGIONS:
        for action in ("DescribeVpcs", "DescribeVSwitches", "DescribeSecurityGroups", "DescribeInstances"):
            qs.append((region, action, {"PageSize": 50}))
        qs.append((region, "DescribePrefixLists", {}))
        groups = items("DescribeSecurityGroups", answer(sdks, region, "DescribeSecurityGroups", {"PageSize": 50}))
        for g in groups:
            qs.append((region, "DescribeSecurityGroupAttribute", {"SecurityGroupId": g["SecurityGroupId"]}))
        vpcs = items("DescribeVpcs", answer(sdks, region, "DescribeVpcs", {"PageSize": 50}))
        for protocol, port in (("tcp", 22), ("tcp", 80), ("tcp", 3306), ("tcp", 5432), ("tcp", 8443), ("udp", 5003), ("icmp", None)):
            scopes = [{"VpcId": v["VpcId"]} for v in vpcs]
            scopes += [{"SecurityGroupIds": json.dumps([g["SecurityGroupId"]])} for g in groups]
            for scope in scopes:
                p = {**scope, "Protocol": protocol}
                if port is not None:
                    p["Port"] = port
                qs.append((region, "DescribeReachabilityMatrix", p))
    return qs


def ask(sdks: Sdks, q: tuple) -> dict:
    region, action, params = q
    if action == "DescribeReachabilityMatrix":
        return comparable(sdks, ok(sdks.get("ext", region).call(action, {"RegionId": region, **params})))
    return answer(sdks, region, action, params)


def differences(a: Sdks, b: Sdks, qs: list) -> list:
    """The questions whose answers differ between the two servers, with both answers."""
    out = []
    for q in qs:
        x, y = ask(a, q), ask(b, q)
        if x != y:
            out.append((q, x, y))
    return out


def run_cli(binary: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=120, env=_server_env())


@pytest.fixture(scope="module")
def account(server, other_account):
    """A fresh account of the suite's server, built through the SDKs."""
    acct = create_account(server.binary, server.db_url)
    other = LegacyClient(HOST, server.port, other_account["AccessKeyId"], other_account["AccessKeySecret"], REGIONS[0])
    other_vpcs = VpcLegacyClient(HOST, server.port, other_account["AccessKeyId"], other_account["AccessKeySecret"], REGIONS[0])
    other_vpc = created(other_vpcs.call("CreateVpc", {"RegionId": REGIONS[0], "CidrBlock": "10.0.0.0/8"}), "VpcId")
    foreign = created(other.call("CreateSecurityGroup", {"RegionId": REGIONS[0], "VpcId": other_vpc}), "SecurityGroupId")
    sdks = Sdks(server.port, acct["AccountId"], acct["AccessKeyId"], acct["AccessKeySecret"])
    permission = {"IpProtocol": "TCP", "PortRange": "5432/5432", "SourceGroupId": foreign,
                  "SourceGroupOwnerAccount": other_account["AccountId"]}
    db = build(sdks, permission)
    yield sdks
    # The account is this module's alone; the other account's group is removed (once no
    # rule names it).
    ok(sdks.get("legacy", REGIONS[0]).call("RevokeSecurityGroup", {
        "RegionId": REGIONS[0], "SecurityGroupId": db, "Permissions": [permission]}))
    ok(other.call("DeleteSecurityGroup", {"RegionId": REGIONS[0], "SecurityGroupId": foreign}))
    ok(other_vpcs.call("DeleteVpc", {"RegionId": REGIONS[0], "VpcId": other_vpc}))


def imported_server(binary: Path, export_dir: Path, db: Path):
    """`secgroup account create` and `secgroup import` into the fresh SQLite file `db`, then
    `secgroup serve` on it: the new server's clients of that account, and its stop."""
    url = f"sqlite://{db}"
    acct = create_account(binary, url)
    out = run_cli(binary, "import", str(export_dir), "--account", acct["AccountId"], "--database", url)
    assert out.returncode == 0, f"import: {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert " 0 updated" in out.stdout and " inserted" in out.stdout, out.stdout
    srv, stop = start_server(f"imported-{db.stem}", db_url=url)
    return Sdks(srv.port, acct["AccountId"], acct["AccessKeyId"], acct["AccessKeySecret"]), stop


@pytest.mark.parametrize("sdk", ["legacy", "tea"])
def test_an_sdk_export_imports_into_another_database_alike(server, account, sdk, tmp_path):
    export_dir = tmp_path / "export"
    calls, page_counts = export(account, sdk, export_dir)
    # Every listing was fetched in several pages.
    for action in ("DescribeVpcs", "DescribeVSwitches", "DescribeSecurityGroups", "DescribeInstances", "DescribePrefixLists"):
        assert page_counts[action] >= 2 * len(REGIONS) - 1, page_counts
    assert page_counts["DescribeSecurityGroupAttribute"] > 2 * 6, page_counts  # web's ingress takes two pages

    imported, stop = imported_server(server.binary, export_dir, tmp_path / "fresh.db")
    try:
        qs = questions(account, calls)
        assert sum(1 for q in qs if q[1] == "DescribeReachabilityMatrix") >= 40
        # Reachability is not trivially empty: someone reaches someone.
        assert any(ask(account, q)["AllowedCount"] > 0 for q in qs if q[1] == "DescribeReachabilityMatrix")
        diff = differences(account, imported, qs)
        assert not diff, "\n\n".join(f"{q}:\n  suite's server: {x}\n  imported:       {y}" for q, x, y in diff[:5])
    finally:
        stop()


def test_an_export_missing_a_rule_file_is_noticed(server, account, tmp_path):
    """The comparison above can fail: db's egress (its drop-all rule) left out of the export
    imports fine — nothing tells the importer it is missing — and then both Describe and the
    reachability matrix differ."""
    export_dir = tmp_path / "export"
    calls, _ = export(account, "legacy", export_dir)
    db_egress = [
        f for f in export_dir.rglob("*-DescribeSecurityGroupAttribute.json")
        if (b := json.loads(f.read_text()))["SecurityGroupName"] == "db" and b["Permissions"]["Permission"]
        and all(p["Direction"] == "egress" for p in b["Permissions"]["Permission"])
    ]
    assert len(db_egress) == 1, db_egress
    db_egress[0].unlink()

    imported, stop = imported_server(server.binary, export_dir, tmp_path / "lacking.db")
    try:
        diff = differences(account, imported, questions(account, calls))
        actions = {q[1] for q, _, _ in diff}
        assert {"DescribeSecurityGroupAttribute", "DescribeReachabilityMatrix"} <= actions, actions
    finally:
        stop()
