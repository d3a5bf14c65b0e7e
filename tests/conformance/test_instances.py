"""ECS instances and their security-group membership (docs/ecs.md §7, §3.2)
through every client variant: RunInstances, CreateInstance, DescribeInstances (filters,
both paging styles, the full Instance object), DescribeInstanceAttribute, Start/Stop/Reboot,
DeleteInstance(s), ModifyInstanceAttribute, JoinSecurityGroup, LeaveSecurityGroup, plus the
DeleteSecurityGroup and EcsCount couplings — parsed results, raw JSON/XML shapes and error
codes with their statuses.

Each test makes its own VPC (through the VPC API, 2016-04-28), vSwitch and groups, and removes
instances, vSwitch, groups and VPC afterwards (in that order). Without the VPC API the tests skip.
"""

import json
import re

import pytest

from helpers import expect_error, expect_missing, ok, rand

I_ID = re.compile(r"^i-[0-9a-z]{20}$")
ENI_ID = re.compile(r"^eni-[0-9a-z]{20}$")
MAC = re.compile(r"^00:16:3e(:[0-9a-f]{2}){3}$")
UTC_MINUTES = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$")
UNKNOWN_I = "i-" + "0" * 20
VPC_VERSION = "2016-04-28"
IMAGE = "aliyun_3_x64_20G_alibase_20240819.vhd"


class Net:
    """A VPC with one vSwitch (`172.16.1.0/24`, zone `<region>-b`) and one basic group; the
    instances launched into it, deleted (with the vSwitch) after the test."""

    def __init__(self, pool, vpcs, groups, client):
        self.client, self.groups = client, groups
        self.raw = pool.raw(client.ak)
        self.vpc = vpcs.new(client)
        self.zone = client.region + "-b"
        self.vswitches: list = []
        self.instances: list = []
        self.vsw = self.vswitch("172.16.1.0/24")
        self.sg = groups.create(client, VpcId=self.vpc)

    def vswitch(self, cidr: str) -> str:
        r = self.raw.request(
            "CreateVSwitch",
            {"RegionId": self.client.region, "VpcId": self.vpc, "ZoneId": self.zone, "CidrBlock": cidr},
            version=VPC_VERSION,
        )
        assert r.status == 200, f"CreateVSwitch: {r.describe()}"
        vsw = r.json()["VSwitchId"]
        self.vswitches.append(vsw)
        return vsw

    def group(self, **params) -> str:
        return self.groups.create(self.client, VpcId=self.vpc, **params)

    def run(self, **params) -> list:
        p = {"RegionId": self.client.region, "ImageId": IMAGE, "InstanceType": "ecs.g5.large", "VSwitchId": self.vsw}
        if not any(k.startswith("SecurityGroupId") or k == "NetworkInterface" for k in params):
            p["SecurityGroupId"] = self.sg
        p.update(params)
        body = ok(self.client.call("RunInstances", p))
        ids = body["InstanceIdSets"]["InstanceIdSet"]
        assert all(I_ID.match(i) for i in ids), body
        self.instances += ids
        return ids

    def create(self, **params) -> str:
        p = {"RegionId": self.client.region, "InstanceType": "ecs.g5.large", "VSwitchId": self.vsw, "SecurityGroupId": self.sg}
        p.update(params)
        body = ok(self.client.call("CreateInstance", p))
        assert I_ID.match(body["InstanceId"]), body
        self.instances.append(body["InstanceId"])
        return body["InstanceId"]

    def cleanup(self) -> None:
        region = self.client.region
        for i in range(0, len(self.instances), 100):
            ids = self.instances[i:i + 100]
            try:
                self.client.call("DeleteInstances", {"RegionId": region, "InstanceId": ids, "Force": True})
            except Exception:  # noqa: BLE001 - cleanup is best effort
                pass
        for vsw in self.vswitches:
            self.raw.request("DeleteVSwitch", {"RegionId": region, "VSwitchId": vsw}, version=VPC_VERSION)


@pytest.fixture
def net(pool, vpcs, groups, client, vpc_mode):
    if vpc_mode != "real":
        pytest.skip("the server has no VPC API: instances need real vSwitches")
    n = Net(pool, vpcs, groups, client)
    yield n
    n.cleanup()


def instances_of(body: dict) -> list:
    wrapper = body.get("Instances")
    assert isinstance(wrapper, dict) and isinstance(wrapper.get("Instance"), list), f"expected Instances.Instance[]: {body}"
    return wrapper["Instance"]


def describe(client, **params) -> dict:
    return ok(client.call("DescribeInstances", {"RegionId": client.region, **params}))


def describe_ids(client, ids: list, **params) -> list:
    return instances_of(describe(client, InstanceIds=json.dumps(ids), **params))


def one(client, instance_id: str) -> dict:
    [found] = describe_ids(client, [instance_id])
    return found


def groups_of(instance: dict) -> list:
    return instance["SecurityGroupIds"]["SecurityGroupId"]


# ---------------------------------------------------------------------------------------------
# the operations, per variant
# ---------------------------------------------------------------------------------------------


def test_run_describe_and_delete(client, net):
    ids = net.run(Amount=2, InstanceName="web-[1,2]", Tag=[{"Key": "env", "Value": "prod"}], ZoneId=net.zone)
    assert len(ids) == 2
    found = describe_ids(client, ids + [UNKNOWN_I])
    assert [i["InstanceId"] for i in found] == ids
    for n, i in enumerate(found, start=1):
        assert i["InstanceName"] == f"web-{n:02}", i
        assert (i["Status"], i["RegionId"], i["ZoneId"], i["InstanceNetworkType"]) == ("Running", client.region, net.zone, "vpc"), i
        assert (i["InstanceType"], i["InstanceTypeFamily"], i["Cpu"], i["Memory"]) == ("ecs.g5.large", "ecs.g5", 2, 8192), i
        assert groups_of(i) == [net.sg], i
        vpc = i["VpcAttributes"]
        assert (vpc["VpcId"], vpc["VSwitchId"], vpc["PrivateIpAddress"]["IpAddress"]) == (net.vpc, net.vsw, [f"172.16.1.{n}"]), i
        [eni] = i["NetworkInterfaces"]["NetworkInterface"]
        assert ENI_ID.match(eni["NetworkInterfaceId"]) and MAC.match(eni["MacAddress"]), eni
        assert (eni["Type"], eni["PrimaryIpAddress"]) == ("Primary", f"172.16.1.{n}"), eni
        assert eni["PrivateIpSets"]["PrivateIpSet"][0]["Primary"] is True, eni
        assert UTC_MINUTES.match(i["CreationTime"]) and UTC_MINUTES.match(i["StartTime"]), i
        assert i["Tags"]["Tag"] == [{"TagKey": "env", "TagValue": "prod"}], i
        assert i["OperationLocks"]["LockReason"] == [] and i["InnerIpAddress"]["IpAddress"] == [], i
        assert i["DeletionProtection"] is False and i["IoOptimized"] is True, i

    attr = ok(client.call("DescribeInstanceAttribute", {"InstanceId": ids[0]}))
    assert (attr["InstanceId"], attr["Status"], attr["InstanceName"]) == (ids[0], "Running", "web-01"), attr
    assert attr["SecurityGroupIds"]["SecurityGroupId"] == [net.sg], attr
    assert attr["VpcAttributes"]["PrivateIpAddress"]["IpAddress"] == ["172.16.1.1"], attr
    assert "Tags" not in attr and "NetworkInterfaces" not in attr, attr

    assert set(ok(client.call("DeleteInstances", {"RegionId": client.region, "InstanceId": ids, "Force": True}))) == {"RequestId"}
    assert describe_ids(client, ids) == []
    expect_error(client.call("DescribeInstanceAttribute", {"InstanceId": ids[0]}), "InvalidInstanceId.NotFound", 404)


def test_create_start_stop_reboot_delete(client, net):
    iid = net.create(InstanceName="db-1", Description="the database", HostName="db-1")
    i = one(client, iid)
    assert (i["Status"], i["InstanceName"], i["Description"], i["HostName"]) == ("Stopped", "db-1", "the database", "db-1"), i
    expect_error(client.call("StopInstance", {"InstanceId": iid}), "IncorrectInstanceStatus", 403)
    assert set(ok(client.call("StartInstance", {"InstanceId": iid}))) == {"RequestId"}
    assert one(client, iid)["Status"] == "Running"
    expect_error(client.call("StartInstance", {"InstanceId": iid}), "IncorrectInstanceStatus", 403,
                 message="The current status of the resource does not support this operation.")
    expect_error(client.call("DeleteInstance", {"InstanceId": iid}), "IncorrectInstanceStatus", 403)
    ok(client.call("RebootInstance", {"InstanceId": iid}))
    assert one(client, iid)["Status"] == "Running"
    expect_error(client.call("StartInstance", {"InstanceId": iid, "DryRun": True}), "IncorrectInstanceStatus", 403)
    expect_error(client.call("StopInstance", {"InstanceId": iid, "DryRun": True}), "DryRunOperation", 400)
    ok(client.call("StopInstance", {"InstanceId": iid, "StoppedMode": "StopCharging"}))
    i = one(client, iid)
    assert (i["Status"], i["StoppedMode"]) == ("Stopped", "StopCharging"), i
    ok(client.call("ModifyInstanceAttribute", {"InstanceId": iid, "InstanceName": "db-2", "DeletionProtection": True}))
    expect_error(client.call("DeleteInstance", {"InstanceId": iid}), "InvalidOperation.DeletionProtection", 403)
    ok(client.call("ModifyInstanceAttribute", {"InstanceId": iid, "DeletionProtection": False}))
    assert one(client, iid)["InstanceName"] == "db-2"
    assert set(ok(client.call("DeleteInstance", {"InstanceId": iid}))) == {"RequestId"}
    expect_error(client.call("DeleteInstance", {"InstanceId": iid, "Force": True}), "InvalidInstanceId.NotFound", 404)


def test_membership_join_leave_modify(client, net):
    sg2, sg3 = net.group(), net.group()
    [iid] = net.run()
    ok(client.call("JoinSecurityGroup", {"RegionId": client.region, "InstanceId": iid, "SecurityGroupId": sg2}))
    assert groups_of(one(client, iid)) == [net.sg, sg2]
    expect_error(client.call("JoinSecurityGroup", {"RegionId": client.region, "InstanceId": iid, "SecurityGroupId": sg2}),
                 "InvalidInstanceId.AlreadyExists", 403)
    ok(client.call("LeaveSecurityGroup", {"RegionId": client.region, "InstanceId": iid, "SecurityGroupId": net.sg}))
    expect_error(client.call("LeaveSecurityGroup", {"RegionId": client.region, "InstanceId": iid, "SecurityGroupId": sg2}),
                 "InstanceLastSecurityGroup", 403)
    ok(client.call("ModifyInstanceAttribute", {"InstanceId": iid, "SecurityGroupIds": [sg3, net.sg]}))
    assert groups_of(one(client, iid)) == [sg3, net.sg]
    assert [i["InstanceId"] for i in instances_of(describe(client, SecurityGroupId=sg3))] == [iid]
    assert instances_of(describe(client, SecurityGroupId=sg2)) == []

    body = ok(client.call("DescribeSecurityGroups", {"RegionId": client.region, "SecurityGroupId": sg3, "IsQueryEcsCount": True}))
    [g] = body["SecurityGroups"]["SecurityGroup"]
    assert (g["EcsCount"], g["AvailableInstanceAmount"]) == (1, 5999), g
    expect_error(client.call("DeleteSecurityGroup", {"RegionId": client.region, "SecurityGroupId": sg3}), "DependencyViolation", 403,
                 message="There is still instance(s) in the specified security group.")
    esg = net.group(SecurityGroupType="enterprise")
    expect_error(client.call("ModifyInstanceAttribute", {"InstanceId": iid, "SecurityGroupIds": [sg3, esg]}),
                 "EnterpriseGroupLimited.MutliGroupType", 403)
    expect_error(client.call("JoinSecurityGroup", {"RegionId": client.region, "InstanceId": iid, "SecurityGroupId": esg}),
                 "InvalidOperation.MultiGroupType", 400)
    ok(client.call("ModifyInstanceAttribute", {"InstanceId": iid, "SecurityGroupIds": [esg]}))
    assert groups_of(one(client, iid)) == [esg]
    ok(client.call("DeleteSecurityGroup", {"RegionId": client.region, "SecurityGroupId": sg3}))


def test_filters_and_both_paging_styles(client, net):
    ids = net.run(Amount=3, InstanceName="pg-[1,1]")
    stopped = net.create(InstanceName="pg-stopped")
    every = ids + [stopped]
    assert [i["InstanceId"] for i in instances_of(describe(client, VpcId=net.vpc, PageSize=100))] == every
    assert [i["InstanceId"] for i in instances_of(describe(client, VpcId=net.vpc, Status="Stopped"))] == [stopped]
    assert [i["InstanceId"] for i in instances_of(describe(client, VSwitchId=net.vsw, InstanceName="pg-*", PageSize=100))] == every
    assert [i["InstanceId"] for i in instances_of(describe(client, VpcId=net.vpc, PrivateIpAddresses=json.dumps(["172.16.1.2"])))] == [ids[1]]
    assert instances_of(describe(client, InstanceIds="[]")) == []

    body = describe(client, VpcId=net.vpc, PageNumber=2, PageSize=3)
    assert (body["TotalCount"], body["PageNumber"], body["PageSize"]) == (4, 2, 3), body
    assert [i["InstanceId"] for i in instances_of(body)] == [stopped]
    for _ in range(8):
        net.run()
    seen, token = [], None
    while True:
        params = {"VpcId": net.vpc, "MaxResults": 10}
        if token:
            params["NextToken"] = token
        body = describe(client, **params)
        page = instances_of(body)
        assert len(page) <= 10, body
        seen += [i["InstanceId"] for i in page]
        token = body.get("NextToken")
        if not token:
            break
    assert seen == net.instances


def test_client_token_and_dry_runs(client, net):
    token = "run-" + rand(16)
    first = net.run(ClientToken=token, Amount=2)
    again = net.run(ClientToken=token, Amount=2)
    assert first == again
    r = client.call("RunInstances", {"RegionId": client.region, "ImageId": IMAGE, "InstanceType": "ecs.g5.large",
                                     "VSwitchId": net.vsw, "SecurityGroupId": net.sg, "ClientToken": token})
    expect_error(r, "IdempotentParameterMismatch", 400)
    r = client.call("RunInstances", {"RegionId": client.region, "ImageId": IMAGE, "InstanceType": "ecs.g5.large",
                                     "VSwitchId": net.vsw, "SecurityGroupId": net.sg, "DryRun": True})
    expect_error(r, "DryRunOperation", 400, message="Request validation has been passed with DryRun flag set.")
    r = client.call("DeleteInstances", {"RegionId": client.region, "InstanceId": first, "Force": True, "DryRun": True})
    expect_error(r, "DRYRUN.SUCCESS", 400, message="This request is a dryrun request with successful result.")
    expect_error(client.call("DescribeInstances", {"RegionId": client.region, "DryRun": True}), "DryRunOperation", 400)
    assert len(describe_ids(client, first)) == 2


# ---------------------------------------------------------------------------------------------
# errors, per variant
# ---------------------------------------------------------------------------------------------

# RunInstances parameters beyond the defaults ("-" removes one), code, status
RUN_ERRORS = {
    "no-vswitch": ({"VSwitchId": "-"}, "MissingParameter", 400),
    "unknown-vswitch": ({"VSwitchId": "vsw-doesnotexist000000000"}, "InvalidVSwitchId.NotFound", 404),
    "unknown-group": ({"SecurityGroupId": "sg-doesnotexist000000"}, "InvalidSecurityGroupId.NotFound", 404),
    "both-group-forms": ({"SecurityGroupIds": ["{sg}"]}, "InvalidParameter.Combination", 403),
    "amount": ({"Amount": 101}, "InvalidParam.Amount", 403),
    "zone": ({"ZoneId": "{other_zone}"}, "InvalidParameter.Mismatch", 400),
    "ip-outside": ({"PrivateIpAddress": "172.16.2.5"}, "InvalidPrivateIpAddress", 400),
    "ip-reserved": ({"PrivateIpAddress": "172.16.1.255"}, "InvalidPrivateIpAddress", 400),
    "ip-malformed": ({"PrivateIpAddress": "172.16.1.300"}, "InvalidPrivateIpAddress.Malformed", 400),
    "name": ({"InstanceName": "1bad"}, "InvalidInstanceName.Malformed", 400),
}


@pytest.mark.parametrize("case", sorted(RUN_ERRORS))
def test_run_instances_errors(client, net, case):
    extra, code, status = RUN_ERRORS[case]
    p = {"RegionId": client.region, "ImageId": IMAGE, "InstanceType": "ecs.g5.large", "VSwitchId": net.vsw, "SecurityGroupId": net.sg}
    fill = {"{sg}": net.sg, "{other_zone}": client.region + "-c"}
    for k, v in extra.items():
        if v == "-":
            p.pop(k, None)
        elif isinstance(v, list):
            p[k] = [fill.get(x, x) for x in v]
        else:
            p[k] = fill.get(v, v)
    r = client.call("RunInstances", p)
    if case == "no-vswitch":
        expect_missing(r, "VSwitchId", code, status)
    else:
        expect_error(r, code, status)
    assert instances_of(describe(client, VpcId=net.vpc)) == []


def test_address_in_use_and_other_errors(client, net):
    [iid] = net.run(PrivateIpAddress="172.16.1.10")
    r = client.call("CreateInstance", {"RegionId": client.region, "InstanceType": "ecs.g5.large", "VSwitchId": net.vsw,
                                       "SecurityGroupId": net.sg, "PrivateIpAddress": "172.16.1.10"})
    expect_error(r, "InvalidPrivateIpAddress.Duplicated", 400)
    other_vpc_group = net.groups.create(client)  # a group in another (new) VPC
    expect_error(client.call("JoinSecurityGroup", {"RegionId": client.region, "InstanceId": iid, "SecurityGroupId": other_vpc_group}),
                 "InvalidInstanceId.Mismatch", 400)
    expect_error(client.call("ModifyInstanceAttribute", {"InstanceId": iid, "SecurityGroupIds": [other_vpc_group]}),
                 "InvalidSecurityGroupVpc.NotBelongToOneVpc", 404)
    expect_error(client.call("DescribeInstances", {"RegionId": client.region, "Status": "Flying"}), "InvalidStatus.NotFound", 404)
    expect_error(client.call("DescribeInstanceAttribute", {"InstanceId": UNKNOWN_I}), "InvalidInstanceId.NotFound", 404)
    expect_error(client.call("StartInstance", {"InstanceId": UNKNOWN_I}), "InvalidInstanceId.NotFound", 404)
    expect_error(client.call("DeleteInstances", {"RegionId": client.region, "InstanceId": [iid, UNKNOWN_I], "Force": True}),
                 "InvalidInstanceId.NotFound", 404)
    assert one(client, iid)["Status"] == "Running"


# ---------------------------------------------------------------------------------------------
# raw shapes (legacy JSON is the raw body; XML through the raw client)
# ---------------------------------------------------------------------------------------------


def test_raw_json_and_xml_shapes(pool, client, net):
    if client.variant != "legacy":
        pytest.skip("raw shapes are checked once, with the legacy client's raw JSON")
    [iid] = net.run()
    r = client.call("DescribeInstances", {"RegionId": client.region, "InstanceIds": json.dumps([iid])})
    body = json.loads(r.raw)
    [i] = body["Instances"]["Instance"]
    assert isinstance(i["Cpu"], int) and isinstance(i["DeletionProtection"], bool), i
    assert i["EipAddress"] == {"AllocationId": "", "IpAddress": "", "Bandwidth": 0, "InternetChargeType": "", "IsSupportUnassociate": False}
    owner = pool.raw(client.ak)
    x = owner.request("DescribeInstances", {"RegionId": client.region, "InstanceIds": json.dumps([iid])}, fmt="XML")
    assert x.status == 200, x.describe()
    root = x.xml()
    assert root.tag == "DescribeInstancesResponse", x.text
    inst = root.find("Instances/Instance")
    assert inst is not None and inst.findtext("InstanceId") == iid, x.text
    assert [e.text for e in inst.findall("SecurityGroupIds/SecurityGroupId")] == [net.sg], x.text
    assert inst.findtext("VpcAttributes/PrivateIpAddress/IpAddress") == "172.16.1.1", x.text
    assert inst.findtext("NetworkInterfaces/NetworkInterface/Type") == "Primary", x.text
    run = owner.request("RunInstances", {"RegionId": client.region, "ImageId": IMAGE, "InstanceType": "ecs.g5.large",
                                         "VSwitchId": net.vsw, "SecurityGroupId": net.sg}, fmt="XML")
    assert run.status == 200, run.describe()
    made = [e.text for e in run.xml().findall("InstanceIdSets/InstanceIdSet")]
    assert len(made) == 1 and I_ID.match(made[0]), run.text
    net.instances += made
