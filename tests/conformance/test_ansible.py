"""Ansible's alicloud modules against the server: `ansible-playbook` (ansible-core 2.19.14,
ansible-alicloud 1.20.0 and its library footmark 1.26.0, which sends every call through
aliyun-python-sdk-core 2.16.1) runs `ansible/instance.yml` — ali_vpc, ali_vswitch,
ali_security_group, then ali_instance create, each module again (which must change nothing),
a move to a second group, ali_instance_info, stop, start and delete, each checked inside the
playbook — then `ansible/eni.yml` (ali_eni create, again by id, modify, attach, ali_eni_info,
detach, delete) — and `ansible/teardown.yml` after each; the test checks the registered results again and the
server's state through the SDK (ActionTrail included) after each playbook.

How Ansible reaches the server (README "Ansible", docs/clients.md §2): footmark gives no
endpoint option (its
`AcsClient` is built from the region alone, and the SDK resolves `ecs.<region>.aliyuncs.com`
from its bundled table), but the SDK sends every request through `HTTP_PROXY` when it is set,
as `POST http://ecs.<region>.aliyuncs.com/?…` to the proxy; the server answers such
absolute-form requests itself. So the playbook runs with `HTTP_PROXY` (and `HTTPS_PROXY`)
naming the server on loopback and `NO_PROXY` empty: nothing leaves loopback.

The venv comes from scripts/conformance.sh (tests/conformance/ansible/requirements.txt,
every package pinned); without it the test skips and says why.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from helpers import ok, rand

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PLAYBOOKS = HERE / "ansible"
# A region no other test of the suite works in (clients.VARIANT_REGIONS, RAW_REGION).
REGION = "cn-chengdu"
ZONE = "cn-chengdu-b"
# From the built-in catalogue (docs/ecs.md §9).
IMAGE = "ubuntu_22_04_x64_20G_alibase_20240926.vhd"
INSTANCE_TYPE = "ecs.g7.large"
PINS = {
    "ansible-core": "2.19.14",
    "ansible_alicloud": "1.20.0",
    "footmark": "1.26.0",
    "aliyun-python-sdk-core": "2.16.1",
}
I_ID = re.compile(r"^i-[0-9a-z]{20}$")
TIMEOUT = 120  # seconds per playbook; footmark itself waits 10 s after RunInstances


@pytest.fixture(scope="module")
def ansible_venv() -> Path:
    venv = Path(os.environ.get("SECGROUP_ANSIBLE_VENV", REPO / ".test-work" / "venv-ansible"))
    if not (venv / "bin" / "ansible-playbook").exists():
        pytest.skip(
            f"no Ansible venv at {venv}: scripts/conformance.sh installs it from "
            "tests/conformance/ansible/requirements.txt (its output says why pip could not)"
        )
    check = "import importlib.metadata as md, json; print(json.dumps({n: md.version(n) for n in %r}))" % list(PINS)
    out = subprocess.run([str(venv / "bin" / "python"), "-c", check], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got == PINS, f"the Ansible venv is not the pinned one: {got}"
    return venv


def _module_dir(venv: Path) -> str:
    """Where ansible-alicloud put its modules: inside ansible-core's package, which
    ansible-core does not search by itself (hence ANSIBLE_LIBRARY)."""
    code = "import ansible.modules.cloud.alicloud as m, os; print(os.path.dirname(m.__file__))"
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _env(venv: Path, server, work: Path) -> dict:
    """A clean environment (nothing inherited that could route around the proxy)."""
    proxy = f"http://{server.host}:{server.port}"
    home = work / "home"
    home.mkdir(exist_ok=True)
    return {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        # aliyun-python-sdk-core sends every request through these (http_response.py);
        # NO_PROXY empty so that no endpoint host bypasses them.
        "HTTP_PROXY": proxy,
        "http_proxy": proxy,
        "HTTPS_PROXY": proxy,
        "https_proxy": proxy,
        "NO_PROXY": "",
        "no_proxy": "",
        "ALICLOUD_ACCESS_KEY": "testid",
        "ALICLOUD_SECRET_KEY": "testsecret",
        "ANSIBLE_LIBRARY": _module_dir(venv),
        "ANSIBLE_PYTHON_INTERPRETER": str(venv / "bin" / "python"),
        "ANSIBLE_HOME": str(work / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(work / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
    }


def _play(venv: Path, env: dict, work: Path, playbook: str, **extra) -> dict:
    """Runs one playbook; returns what its last task wrote (every registered result)."""
    results = work / f"{playbook}.json"
    extra["results_file"] = str(results)
    proc = subprocess.Popen(
        [str(venv / "bin" / "ansible-playbook"), "-i", "localhost,", str(PLAYBOOKS / playbook),
         "-e", json.dumps(extra)],
        env=env,
        cwd=str(work),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        # Its own process group: on a timeout the module processes it forked (footmark retries
        # an unreachable endpoint for 200 s) go with it.
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"ansible-playbook {playbook} ran past {TIMEOUT} s:\n{_tail(out)}", pytrace=False)
    assert proc.returncode == 0, f"ansible-playbook {playbook} exited {proc.returncode}:\n{_tail(out)}"
    return json.loads(results.read_text())


def _tail(out: str, n: int = 60) -> str:
    return "\n".join(out.splitlines()[-n:])


def _cleanup(ecs, vpc, name: str) -> None:
    """What a failed playbook may have left, found by its run name."""
    for i in ok(ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceName": name}))["Instances"]["Instance"]:
        ecs.call("DeleteInstance", {"InstanceId": i["InstanceId"], "Force": "true"})
    for group_name in (name, name + "-b"):
        found = ok(ecs.call("DescribeSecurityGroups", {"RegionId": REGION, "SecurityGroupName": group_name}))
        for g in found["SecurityGroups"]["SecurityGroup"]:
            ecs.call("DeleteSecurityGroup", {"RegionId": REGION, "SecurityGroupId": g["SecurityGroupId"]})
    for v in ok(vpc.call("DescribeVpcs", {"RegionId": REGION, "VpcName": name}))["Vpcs"]["Vpc"]:
        for s in ok(vpc.call("DescribeVSwitches", {"RegionId": REGION, "VpcId": v["VpcId"]}))["VSwitches"]["VSwitch"]:
            vpc.call("DeleteVSwitch", {"RegionId": REGION, "VSwitchId": s["VSwitchId"]})
        vpc.call("DeleteVpc", {"RegionId": REGION, "VpcId": v["VpcId"]})


def test_ali_instance_lifecycle(pool, server, ansible_venv, tmp_path):
    name = "ansible-" + rand(8)
    env = _env(ansible_venv, server, tmp_path)
    ecs = pool.get("legacy", region=REGION)
    vpc = pool.get_vpc("legacy", region=REGION)
    trail = pool.get_actiontrail("tea", region=REGION)
    try:
        res = _play(
            ansible_venv, env, tmp_path, "instance.yml",
            region=REGION, zone=ZONE, image=IMAGE, instance_type=INSTANCE_TYPE, run_name=name,
        )
        vpc_id, vsw_id, sg_id = res["vpc"]["vpc"]["id"], res["vswitch"]["vswitch"]["id"], res["group"]["group"]["id"]

        # The modules' results, as a playbook author reads them.
        assert all(res[k]["changed"] for k in ("vpc", "vswitch", "group", "created", "stopped", "started", "deleted"))
        [inst] = res["created"]["instances"]
        iid = inst["id"]
        assert I_ID.match(iid), inst
        assert (inst["status"], inst["availability_zone"]) == ("running", ZONE)
        assert (inst["vpc_id"], inst["vswitch_id"]) == (vpc_id, vsw_id)
        assert (inst["image_id"], inst["instance_type"], inst["instance_name"]) == (IMAGE, INSTANCE_TYPE, name)
        assert inst["tags"] == {"app": name, "env": "test"}
        assert inst["cpu"] == 2 and inst["memory"] == 8192, "ecs.g7.large from the catalogue"
        [disk] = inst["block_device_mappings"]  # DescribeDisks InstanceId
        assert disk["volume_id"].startswith("d-"), disk
        assert (disk["status"], disk["delete_on_termination"]) == ("in_use", True)
        assert inst["user_data"] == "#!/bin/sh\necho hello"  # DescribeUserData, base64 decoded by footmark
        # The second run of each module found what the first made and changed nothing.
        assert not any(res[k]["changed"] for k in ("vpc_again", "vswitch_again", "group_again", "created_again"))
        assert res["vpc_again"]["vpc"]["id"] == vpc_id
        assert res["vswitch_again"]["vswitch"]["id"] == vsw_id
        assert res["group_again"]["group"]["id"] == sg_id
        assert [i["id"] for i in res["created_again"]["instances"]] == [iid]
        sg2_id = res["group2"]["group"]["id"]
        [moved] = res["moved"]["instances"]
        assert (moved["id"], moved["description"]) == (iid, "web server, moved")
        assert moved["tags"] == {"app": name, "env": "test", "tier": "web"}
        assert res["info_running"]["ids"] == [iid]
        assert [i["status"] for i in res["info_stopped"]["instances"]] == ["stopped"]
        assert [i["status"] for i in res["info_started"]["instances"]] == ["running"]
        assert res["deleted"]["ids"] == [iid]
        assert res["info_deleted"]["instances"] == []

        # The server's state through the SDK: the network as the modules made it...
        [v] = ok(vpc.call("DescribeVpcs", {"RegionId": REGION, "VpcId": vpc_id}))["Vpcs"]["Vpc"]
        assert (v["VpcName"], v["CidrBlock"]) == (name, "172.16.0.0/16")
        assert v["Description"] == "created by ansible-playbook"
        [s] = ok(vpc.call("DescribeVSwitches", {"RegionId": REGION, "VSwitchId": vsw_id}))["VSwitches"]["VSwitch"]
        assert (s["VSwitchName"], s["VpcId"], s["ZoneId"], s["CidrBlock"]) == (name, vpc_id, ZONE, "172.16.1.0/24")
        g = ok(ecs.call("DescribeSecurityGroupAttribute", {"RegionId": REGION, "SecurityGroupId": sg_id}))
        assert (g["SecurityGroupName"], g["VpcId"], g["Description"]) == (name, vpc_id, "ssh in")
        ingress = [p for p in g["Permissions"]["Permission"] if p["Direction"] == "ingress"]
        assert [(p["IpProtocol"], p["PortRange"], p["SourceCidrIp"], p["Priority"], p["Policy"]) for p in ingress] == [
            ("TCP", "22/22", "10.0.0.0/8", "1", "Accept")
        ], ingress
        # ...the instance and its system disk gone...
        gone = ok(ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceIds": json.dumps([iid])}))
        assert gone["TotalCount"] == 0, gone
        disks = ok(ecs.call("DescribeDisks", {"RegionId": REGION, "DiskIds": json.dumps([disk["volume_id"]])}))
        assert disks["TotalCount"] == 0, disks
        # ...after exactly the writes the playbook asked for, recorded as this account's.
        events = ok(trail.call("LookupEvents", {"LookupAttribute": [{"Key": "ResourceName", "Value": iid}]}))["Events"]
        assert [e["eventName"] for e in events] == [
            "DeleteInstance", "StartInstance", "StopInstance",
            "TagResources", "ModifyInstanceAttribute", "LeaveSecurityGroup", "JoinSecurityGroup",
            "RunInstances",
        ], [e["eventName"] for e in events]
        # The move: the second group joined in one run, the first left in the next.
        join = next(e for e in events if e["eventName"] == "JoinSecurityGroup")
        leave = next(e for e in events if e["eventName"] == "LeaveSecurityGroup")
        assert join["requestParameters"]["SecurityGroupId"] == sg2_id
        assert leave["requestParameters"]["SecurityGroupId"] == sg_id
        assert {e["userIdentity"]["accessKeyId"] for e in events} == {"testid"}

        down = _play(
            ansible_venv, env, tmp_path, "teardown.yml",
            region=REGION, run_name=name, vpc_id=vpc_id, vswitch_id=vsw_id,
            group_id=sg_id, group2_id=sg2_id,
        )
        assert all(down[k]["changed"] for k in ("group", "group2", "vswitch", "vpc")), down
        assert ok(vpc.call("DescribeVpcs", {"RegionId": REGION, "VpcId": vpc_id}))["Vpcs"]["Vpc"] == []
        assert ok(vpc.call("DescribeVSwitches", {"RegionId": REGION, "VpcId": vpc_id}))["VSwitches"]["VSwitch"] == []
        for group_name in (name, name + "-b"):
            found = ok(ecs.call("DescribeSecurityGroups", {"RegionId": REGION, "SecurityGroupName": group_name}))
            assert found["SecurityGroups"]["SecurityGroup"] == [], found
    finally:
        _cleanup(ecs, vpc, name)



def test_ali_eni_lifecycle(pool, server, ansible_venv, tmp_path):
    """ansible/eni.yml: ali_eni create (twice: the second run changes nothing), modify,
    attach, ali_eni_info, detach, delete; then the server's record of it."""
    name = "ansible-eni-" + rand(8)
    env = _env(ansible_venv, server, tmp_path)
    ecs = pool.get("legacy", region=REGION)
    vpc = pool.get_vpc("legacy", region=REGION)
    trail = pool.get_actiontrail("tea", region=REGION)
    try:
        res = _play(
            ansible_venv, env, tmp_path, "eni.yml",
            region=REGION, zone=ZONE, image=IMAGE, instance_type=INSTANCE_TYPE, run_name=name,
        )
        eni = res["created"]["interface"]["id"]
        iid = res["instance"]["instances"][0]["id"]
        sg_id, sg2_id = res["group"]["group"]["id"], res["group2"]["group"]["id"]
        assert res["created"]["interface"]["private_ip_addresses"] == [
            {"private_ip_address": "172.16.1.20", "primary_address": True}
        ], res["created"]["interface"]
        assert res["modified"]["interface"]["security_groups"] == [sg_id, sg2_id]
        assert res["info_attached"]["interfaces"][0]["state"] == "inuse"
        # The server's state: the interface is gone, its address free again.
        gone = ok(ecs.call("DescribeNetworkInterfaces", {"RegionId": REGION, "NetworkInterfaceId": [eni]}))
        assert gone["NetworkInterfaceSets"]["NetworkInterfaceSet"] == [], gone
        # Exactly the writes the playbook asked for, the second create run writing nothing.
        events = ok(trail.call("LookupEvents", {"LookupAttribute": [{"Key": "ResourceName", "Value": eni}]}))["Events"]
        assert [e["eventName"] for e in events] == [
            "DeleteNetworkInterface", "DetachNetworkInterface", "AttachNetworkInterface",
            "ModifyNetworkInterfaceAttribute", "CreateNetworkInterface",
        ], [e["eventName"] for e in events]
        attach = next(e for e in events if e["eventName"] == "AttachNetworkInterface")
        assert attach["requestParameters"]["InstanceId"] == iid

        down = _play(
            ansible_venv, env, tmp_path, "teardown.yml",
            region=REGION, run_name=name, vpc_id=res["vpc"]["vpc"]["id"], vswitch_id=res["vswitch"]["vswitch"]["id"],
            group_id=sg_id, group2_id=sg2_id,
        )
        assert all(down[k]["changed"] for k in ("group", "group2", "vswitch", "vpc")), down
    finally:
        for found in ok(ecs.call("DescribeNetworkInterfaces", {"RegionId": REGION, "NetworkInterfaceName": name}))[
                "NetworkInterfaceSets"]["NetworkInterfaceSet"]:
            if found.get("InstanceId"):
                ecs.call("DetachNetworkInterface", {"RegionId": REGION, "NetworkInterfaceId": found["NetworkInterfaceId"],
                                                    "InstanceId": found["InstanceId"]})
            ecs.call("DeleteNetworkInterface", {"RegionId": REGION, "NetworkInterfaceId": found["NetworkInterfaceId"]})
        _cleanup(ecs, vpc, name)
