"""The NIS API (product nis, version 2021-12-16; docs/nis.md) through the Python clients:
the legacy core's CommonRequest, and alibabacloud-nis20211216 2.5.0 with V3 (`tea`) and V1
(`tea-v1`) signing. Every operation: parsed results, the raw JSON shape (the result and the
path parameters are JSON documents inside strings; `Reachable` is a boolean; ports of
CreateAndAnalyzeNetworkPath are strings), error codes and statuses.

The network under analysis is built with the raw client (ECS and VPC APIs) in the variant's
region and removed after each test.
"""

import json
import re

import pytest

from clients import NIS_VERSION
from helpers import expect_error, ok

PATH_ID = re.compile(r"^np-[0-9a-f]{20}$")
NRA_ID = re.compile(r"^nra-[0-9a-f]{20}$")
VPC_VERSION = "2016-04-28"


class Network:
    """A VPC with one vSwitch, one basic group and two running instances in it, in one region;
    removed (instances, group, vSwitch, VPC) afterwards."""

    def __init__(self, raw, region: str):
        self.raw, self.region = raw, region
        self.vpc = self._ok("CreateVpc", {"CidrBlock": "10.0.0.0/8"}, VPC_VERSION)["VpcId"]
        self.vsw = self._ok(
            "CreateVSwitch",
            {"VpcId": self.vpc, "ZoneId": f"{region}-b", "CidrBlock": "10.0.0.0/24"},
            VPC_VERSION,
        )["VSwitchId"]
        self.sg = self._ok("CreateSecurityGroup", {"VpcId": self.vpc})["SecurityGroupId"]
        # Members are isolated, so that rules decide.
        self._ok("ModifySecurityGroupPolicy", {"SecurityGroupId": self.sg, "InnerAccessPolicy": "Drop"})
        ids = self._ok(
            "RunInstances",
            {
                "ImageId": "aliyun_3_x64_20G_alibase_20240819.vhd",
                "InstanceType": "ecs.g5.large",
                "VSwitchId": self.vsw,
                "SecurityGroupId": self.sg,
                "Amount": "2",
            },
        )["InstanceIdSets"]["InstanceIdSet"]
        self.a, self.b = ids

    def _ok(self, action: str, params: dict, version: str | None = None) -> dict:
        params = {"RegionId": self.region, **params}
        r = self.raw.request(action, params) if version is None else self.raw.request(action, params, version=version)
        assert r.status == 200, f"{action}: {r.status} {r.text}"
        return r.json()

    def allow_ssh_between_members(self) -> None:
        self._ok(
            "AuthorizeSecurityGroup",
            {
                "SecurityGroupId": self.sg,
                "Permissions": [{"IpProtocol": "tcp", "PortRange": "22/22", "SourceGroupId": self.sg}],
            },
        )

    def remove(self) -> None:
        self._ok("DeleteInstances", {"InstanceId": [self.a, self.b], "Force": "true"})
        self._ok("DeleteSecurityGroup", {"SecurityGroupId": self.sg})
        self._ok("DeleteVSwitch", {"VSwitchId": self.vsw}, VPC_VERSION)
        self._ok("DeleteVpc", {"VpcId": self.vpc}, VPC_VERSION)


@pytest.fixture
def net(pool, nis_client):
    n = Network(pool.raw(nis_client.ak), nis_client.region)
    yield n
    n.remove()


def ids_param(client, ids: list[str]):
    """The SDK takes a list and sends one JSON string; CommonRequest sends what it is given."""
    return json.dumps(ids) if client.variant == "legacy" else ids


def path_params(net: Network, port: int = 22, **extra) -> dict:
    return {
        "RegionId": net.region,
        "SourceId": net.a,
        "SourceType": "ecs",
        "TargetId": net.b,
        "TargetType": "ecs",
        "Protocol": "tcp",
        "TargetPort": port,
        **extra,
    }


def analyse(client, path_id: str) -> dict:
    body = ok(client.call("CreateNetworkReachableAnalysis", {"NetworkPathId": path_id, "RegionId": client.region}))
    assert NRA_ID.match(body["NetworkReachableAnalysisId"]), body
    return ok(
        client.call(
            "GetNetworkReachableAnalysis",
            {"NetworkReachableAnalysisId": body["NetworkReachableAnalysisId"], "RegionId": client.region},
        )
    )


def test_path_analysis_get_and_delete(pool, nis_client, net):
    created = ok(
        nis_client.call(
            "CreateNetworkPath",
            {**path_params(net), "NetworkPathName": "ssh a to b", "NetworkPathDescription": "conformance"},
        )
    )
    path_id = created["NetworkPathId"]
    assert PATH_ID.match(path_id), created

    denied = analyse(nis_client, path_id)
    assert denied["NetworkReachableAnalysisStatus"] == "finish"
    assert denied["Reachable"] is False
    assert denied["NetworkPathId"] == path_id
    result = json.loads(denied["NetworkReachableAnalysisResult"])
    assert result["errorCode"] == "SECURITY_GROUP_DENY"
    assert result["securityGroupData"]["policy"] == "drop"
    assert result["nraId"] == denied["NetworkReachableAnalysisId"]
    parameter = json.loads(denied["NetworkPathParameter"])
    assert parameter["sourceId"] == net.a and parameter["targetId"] == net.b
    assert parameter["sourceType"] == "ecs" and parameter["protocol"] == "tcp"
    assert isinstance(denied["AliUid"], int)

    net.allow_ssh_between_members()
    allowed = analyse(nis_client, path_id)
    assert allowed["Reachable"] is True
    items = json.loads(allowed["NetworkReachableAnalysisResult"])["securityGroupData"]["securityGroupItems"]
    matched = [i["matchedRule"] for i in items if i["description"] == "user_acl_accept_rule"]
    assert matched and matched[0]["sourceGroupId"] == net.sg and matched[0]["portRange"] == "22/22", items
    # The earlier record still says what was true when it ran.
    again = ok(
        nis_client.call(
            "GetNetworkReachableAnalysis",
            {"NetworkReachableAnalysisId": denied["NetworkReachableAnalysisId"], "RegionId": nis_client.region},
        )
    )
    assert again["Reachable"] is False

    # The raw shape (same account): documents inside strings, a JSON boolean, an integer
    # account id.
    r = pool.raw(nis_client.ak).request(
        "GetNetworkReachableAnalysis",
        {"NetworkReachableAnalysisId": allowed["NetworkReachableAnalysisId"], "RegionId": nis_client.region},
        version=NIS_VERSION,
    )
    assert r.status == 200, r.text
    body = r.json()
    assert isinstance(body["NetworkReachableAnalysisResult"], str)
    assert isinstance(body["NetworkPathParameter"], str)
    assert body["Reachable"] is True
    assert isinstance(body["AliUid"], int)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", body["CreateTime"])

    deleted = ok(
        nis_client.call(
            "DeleteNetworkReachableAnalysis",
            {
                "NetworkReachableAnalysisIds": ids_param(nis_client, [denied["NetworkReachableAnalysisId"]]),
                "RegionId": nis_client.region,
            },
        )
    )
    assert deleted["Data"] is True
    expect_error(
        nis_client.call(
            "GetNetworkReachableAnalysis",
            {"NetworkReachableAnalysisId": denied["NetworkReachableAnalysisId"], "RegionId": nis_client.region},
        ),
        "ResourceNotFound.NetworkReachableAnalysisId",
        404,
    )
    deleted = ok(
        nis_client.call("DeleteNetworkPath", {"NetworkPathIds": ids_param(nis_client, [path_id]), "RegionId": nis_client.region})
    )
    assert deleted["Data"] is True
    expect_error(
        nis_client.call("CreateNetworkReachableAnalysis", {"NetworkPathId": path_id, "RegionId": nis_client.region}),
        "ResourceNotFound.NetworkPath",
        404,
        message=f"The specified resource of {path_id} is not found.",
    )
    # Records outlive their path.
    ok(
        nis_client.call(
            "GetNetworkReachableAnalysis",
            {"NetworkReachableAnalysisId": allowed["NetworkReachableAnalysisId"], "RegionId": nis_client.region},
        )
    )
    ok(
        nis_client.call(
            "DeleteNetworkReachableAnalysis",
            {
                "NetworkReachableAnalysisIds": ids_param(nis_client, [allowed["NetworkReachableAnalysisId"]]),
                "RegionId": nis_client.region,
            },
        )
    )


def test_create_and_analyze_network_path(nis_client, net):
    net.allow_ssh_between_members()
    body = ok(nis_client.call("CreateAndAnalyzeNetworkPath", path_params(net)))
    assert NRA_ID.match(body["NetworkReachableAnalysisId"]), body
    assert body["SourceId"] == net.a and body["TargetId"] == net.b
    assert body["SourceType"] == "ecs" and body["TargetType"] == "ecs"
    assert body["TargetPort"] == "22" and body["SourcePort"] == "0", "ports are strings"
    assert body["Protocol"] == "tcp"
    got = ok(
        nis_client.call(
            "GetNetworkReachableAnalysis",
            {"NetworkReachableAnalysisId": body["NetworkReachableAnalysisId"], "RegionId": nis_client.region},
        )
    )
    assert got["Reachable"] is True and got["NetworkPathId"] == ""
    closed = ok(nis_client.call("CreateAndAnalyzeNetworkPath", path_params(net, port=3389)))
    got = ok(
        nis_client.call(
            "GetNetworkReachableAnalysis",
            {"NetworkReachableAnalysisId": closed["NetworkReachableAnalysisId"], "RegionId": nis_client.region},
        )
    )
    assert got["Reachable"] is False
    ok(
        nis_client.call(
            "DeleteNetworkReachableAnalysis",
            {
                "NetworkReachableAnalysisIds": ids_param(
                    nis_client, [body["NetworkReachableAnalysisId"], closed["NetworkReachableAnalysisId"]]
                ),
                "RegionId": nis_client.region,
            },
        )
    )


@pytest.mark.parametrize(
    "change, code",
    [
        ({"SourceId": "i-00000000000000000000"}, "IllegalParam.SourceId"),
        ({"TargetId": "i-00000000000000000000"}, "IllegalParam.TargetId"),
        ({"SourceType": "host"}, "IllegalParam.SourceType"),
        ({"Protocol": "sctp"}, "IllegalParam.Protocol"),
        ({"TargetPort": 0}, "IllegalParam.TargetPort"),
        ({"TargetId": "10.1.1.1", "TargetType": "internetIp"}, "IllegalParam.InternetIP"),
        ({"TargetId": "SAME"}, "IllegalParam.SourceEqualTarget"),
    ],
)
def test_path_errors(nis_client, net, change, code):
    params = {**path_params(net), **change, "NetworkPathName": "bad"}
    if params["TargetId"] == "SAME":
        params["TargetId"] = net.a
    expect_error(nis_client.call("CreateNetworkPath", params), code, 400)
    params.pop("NetworkPathName")
    expect_error(nis_client.call("CreateAndAnalyzeNetworkPath", params), code, 400)


def test_duplicate_path_and_unknown_ids(nis_client, net):
    first = ok(nis_client.call("CreateNetworkPath", {**path_params(net), "NetworkPathName": "one"}))
    path_id = first["NetworkPathId"]
    expect_error(
        nis_client.call("CreateNetworkPath", {**path_params(net), "NetworkPathName": "two"}),
        "ResourceAlreadyExist.NetworkPath",
        400,
        message=f"The specified resource of {path_id} already exists.",
    )
    expect_error(
        nis_client.call(
            "DeleteNetworkPath",
            {"NetworkPathIds": ids_param(nis_client, [path_id, "np-00000000000000000000"]), "RegionId": nis_client.region},
        ),
        "ResourceNotFound.NetworkPath",
        404,
    )
    expect_error(
        nis_client.call(
            "GetNetworkReachableAnalysis",
            {"NetworkReachableAnalysisId": "nra-00000000000000000000", "RegionId": nis_client.region},
        ),
        "ResourceNotFound.NetworkReachableAnalysisId",
        404,
        message="The instance resource (nra-00000000000000000000) does not exist.",
    )
    # The partly unknown list deleted nothing.
    ok(nis_client.call("DeleteNetworkPath", {"NetworkPathIds": ids_param(nis_client, [path_id]), "RegionId": nis_client.region}))


def test_empty_id_lists(nis_client):
    expect_error(
        nis_client.call("DeleteNetworkPath", {"NetworkPathIds": ids_param(nis_client, []), "RegionId": nis_client.region}),
        "IllegalParam.NetworkPathId",
        400,
    )
    expect_error(
        nis_client.call(
            "DeleteNetworkReachableAnalysis",
            {"NetworkReachableAnalysisIds": ids_param(nis_client, []), "RegionId": nis_client.region},
        ),
        "IllegalParam.NetworkReachableAnalysisId",
        400,
    )
