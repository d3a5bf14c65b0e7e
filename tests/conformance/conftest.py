"""Harness of the black-box SDK conformance suite.

Starts the real server (`$SECGROUP_BIN serve`, default `target/debug/secgroup`) on a free
loopback port with a fresh SQLite database, creates a second account with
`$SECGROUP_BIN account create`, and hands the tests one client per variant:

    legacy   aliyun-python-sdk-core 2.16.1 CommonRequest            V1 HMAC-SHA1
    tea      alibabacloud-ecs20140526 7.11.8 + tea-openapi 0.4.6    V3 ACS3-HMAC-SHA256
    tea-v1   the same with signature_algorithm='v2'                 V1 HMAC-SHA1
    node     npm @alicloud/ecs20140526 7.11.6 (node/driver.js)      V3 ACS3-HMAC-SHA256
    node-v1  the same with signatureAlgorithm 'v2'                  V1 HMAC-SHA1

Server output goes to .test-work/conformance/server.log (Node driver stderr beside it).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from clients import (  # noqa: E402
    VARIANT_REGIONS,
    VARIANTS,
    NIS_VARIANTS,
    VPC_VARIANTS,
    LegacyClient,
    NisLegacyClient,
    NisTeaClient,
    ActiontrailTeaClient,
    NodeClient,
    NodeDriver,
    RawClient,
    TeaClient,
    VpcLegacyClient,
    VpcTeaClient,
)
import helpers  # noqa: E402

REPO = HERE.parents[1]
WORK = REPO / ".test-work" / "conformance"
HOST = "127.0.0.1"
MAIN_AK, MAIN_SK = "testid", "testsecret"


def _server_bin() -> Path:
    p = Path(os.environ.get("SECGROUP_BIN", "target/debug/secgroup"))
    return p if p.is_absolute() else REPO / p


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _server_env() -> dict:
    env = dict(os.environ)
    env["SECGROUP_ACCESS_KEY_ID"] = MAIN_AK
    env["SECGROUP_ACCESS_KEY_SECRET"] = MAIN_SK
    env.setdefault("NO_PROXY", "127.0.0.1,localhost")
    env.setdefault("NO_COLOR", "1")  # plain server.log
    return env


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (graceful shutdown), SIGKILL after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # leftovers of a wrapper, if any
    except ProcessLookupError:
        pass


class Server:
    def __init__(self, binary: Path, port: int, db_url: str, log: Path, proc: subprocess.Popen):
        self.binary, self.port, self.db_url, self.log, self.proc = binary, port, db_url, log, proc
        self.host = HOST


def start_server(name: str, extra_args: list[str] | None = None, db_url: str | None = None):
    """Starts `$SECGROUP_BIN serve` on a free port with a fresh SQLite database, or on `db_url`
    (log in .test-work/conformance/<name>.log); returns the Server and a function that stops it."""
    binary = _server_bin()
    if not binary.exists():
        pytest.fail(f"server binary {binary} not found: build it first (cargo build -p secgroup) or set SECGROUP_BIN", pytrace=False)
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="secgroup-conformance-"))
    db_url = db_url or f"sqlite://{tmp}/db.sqlite"
    log = WORK / f"{name}.log"
    port = _free_port()
    logf = open(log, "wb")
    proc = subprocess.Popen(
        [str(binary), "serve", "--listen", f"{HOST}:{port}", "--database", db_url, *(extra_args or [])],
        stdout=logf,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=_server_env(),
        cwd=str(tmp),
        start_new_session=True,  # its own process group: a wrapper script and its children die together
    )
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            logf.close()
            _stop_group(proc)
            pytest.fail(f"server exited with {proc.returncode} before listening; log {log}:\n{_tail(log)}", pytrace=False)
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                _stop_group(proc)
                logf.close()
                pytest.fail(f"server did not listen on {HOST}:{port} within 30 s; log {log}:\n{_tail(log)}", pytrace=False)
            time.sleep(0.1)

    def stop():
        _stop_group(proc)
        logf.close()
        shutil.rmtree(tmp, ignore_errors=True)

    return Server(binary, port, db_url, log, proc), stop


@pytest.fixture(scope="session")
def server():
    srv, stop = start_server("server")
    try:
        yield srv
    finally:
        stop()


def create_account(binary: Path, db_url: str) -> dict:
    """`secgroup account create --database DB_URL`: the new account's AccountId, AccessKeyId
    and AccessKeySecret."""
    proc = subprocess.run(
        [str(binary), "account", "create", "--database", db_url],
        capture_output=True,
        text=True,
        timeout=30,
        env=_server_env(),
    )
    assert proc.returncode == 0, f"account create failed ({proc.returncode}): {proc.stdout}\n{proc.stderr}"
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            acct = json.loads(line)
        except ValueError:
            continue
        if isinstance(acct, dict):
            break
    else:
        pytest.fail(f"account create printed no JSON object: {proc.stdout!r}", pytrace=False)
    for k in ("AccountId", "AccessKeyId", "AccessKeySecret"):
        assert acct.get(k), f"account create output lacks {k}: {acct}"
    assert acct["AccessKeyId"] != MAIN_AK
    return acct


@pytest.fixture(scope="session")
def other_account(server) -> dict:
    """A second account created with `secgroup account create` against the same database."""
    return create_account(server.binary, server.db_url)


class ClientPool:
    """Caches one client per (variant, access key, region) and one Node process per variant."""

    def __init__(self, server: Server):
        self.server = server
        self.secrets = {MAIN_AK: MAIN_SK}
        self._clients: dict = {}
        self._drivers: dict = {}

    def driver(self, variant: str) -> NodeDriver:
        if variant not in self._drivers:
            node_dir = HERE / "node"
            if not (node_dir / "node_modules" / "@alicloud" / "ecs20140526").exists():
                pytest.fail("tests/conformance/node/node_modules is missing: run scripts/conformance.sh", pytrace=False)
            self._drivers[variant] = NodeDriver(
                str(node_dir / "driver.js"),
                f"{HOST}:{self.server.port}",
                v1=variant == "node-v1",
                stderr_path=str(WORK / f"{variant}-driver.log"),
            )
        return self._drivers[variant]

    def get(self, variant: str, ak: str = MAIN_AK, region: str | None = None):
        region = region or VARIANT_REGIONS[variant]
        key = (variant, ak, region)
        if key not in self._clients:
            sk = self.secrets[ak]
            port = self.server.port
            if variant == "legacy":
                c = LegacyClient(HOST, port, ak, sk, region)
            elif variant in ("tea", "tea-v1"):
                c = TeaClient(variant, HOST, port, ak, sk, region)
            elif variant in ("node", "node-v1"):
                c = NodeClient(variant, self.driver(variant), ak, sk, region)
            else:
                raise ValueError(variant)
            self._clients[key] = c
        return self._clients[key]

    def get_vpc(self, variant: str, ak: str = MAIN_AK, region: str | None = None):
        """A client of the VPC API (2016-04-28) for one of `VPC_VARIANTS`."""
        region = region or VARIANT_REGIONS[variant]
        key = ("vpc", variant, ak, region)
        if key not in self._clients:
            sk, port = self.secrets[ak], self.server.port
            if variant == "legacy":
                self._clients[key] = VpcLegacyClient(HOST, port, ak, sk, region)
            elif variant in ("tea", "tea-v1"):
                self._clients[key] = VpcTeaClient(variant, HOST, port, ak, sk, region)
            else:
                raise ValueError(variant)
        return self._clients[key]

    def get_nis(self, variant: str, ak: str = MAIN_AK, region: str | None = None):
        """A client of the NIS API (2021-12-16) for one of `NIS_VARIANTS`."""
        region = region or VARIANT_REGIONS[variant]
        key = ("nis", variant, ak, region)
        if key not in self._clients:
            sk, port = self.secrets[ak], self.server.port
            if variant == "legacy":
                self._clients[key] = NisLegacyClient(HOST, port, ak, sk, region)
            elif variant in ("tea", "tea-v1"):
                self._clients[key] = NisTeaClient(variant, HOST, port, ak, sk, region)
            else:
                raise ValueError(variant)
        return self._clients[key]

    def get_actiontrail(self, variant: str, ak: str = MAIN_AK, region: str | None = None):
        """A client of the ActionTrail API (2020-07-06) through its official SDK, for
        `tea` (V3) or `tea-v1` (V1)."""
        region = region or VARIANT_REGIONS[variant]
        key = ("actiontrail", variant, ak, region)
        if key not in self._clients:
            sk, port = self.secrets[ak], self.server.port
            self._clients[key] = ActiontrailTeaClient(variant, HOST, port, ak, sk, region)
        return self._clients[key]

    def with_secret(self, variant: str, ak: str, sk: str, region: str | None = None):
        """An uncached client with arbitrary credentials (wrong secret, unknown key...)."""
        region = region or VARIANT_REGIONS[variant]
        port = self.server.port
        if variant == "legacy":
            return LegacyClient(HOST, port, ak, sk, region)
        if variant in ("tea", "tea-v1"):
            return TeaClient(variant, HOST, port, ak, sk, region)
        return NodeClient(variant, self.driver(variant), ak, sk, region)

    def raw(self, ak: str = MAIN_AK) -> RawClient:
        return RawClient(HOST, self.server.port, ak, self.secrets[ak])

    def close(self) -> None:
        for d in self._drivers.values():
            d.close()


@pytest.fixture(scope="session")
def pool(server):
    p = ClientPool(server)
    yield p
    p.close()


@pytest.fixture(params=VARIANTS)
def variant(request) -> str:
    return request.param


@pytest.fixture
def client(pool, variant):
    return pool.get(variant)


@pytest.fixture(params=VPC_VARIANTS)
def vpc_variant(request) -> str:
    return request.param


@pytest.fixture
def vpc_client(pool, vpc_variant):
    """A VPC API client; its ECS twin is `pool.get(vpc_client.variant)` (same region)."""
    return pool.get_vpc(vpc_variant)


@pytest.fixture(params=NIS_VARIANTS)
def nis_variant(request) -> str:
    return request.param


@pytest.fixture
def nis_client(pool, nis_variant):
    """A NIS API client; its ECS twin is `pool.get(nis_client.variant)` (same region)."""
    return pool.get_nis(nis_variant)


@pytest.fixture
def other_client(pool, variant, other_account):
    pool.secrets[other_account["AccessKeyId"]] = other_account["AccessKeySecret"]
    return pool.get(variant, other_account["AccessKeyId"])


@pytest.fixture
def legacy_twin(pool, client):
    """The legacy (raw JSON) client of the same account and region as `client`."""
    return pool.get("legacy", client.ak, client.region)


@pytest.fixture
def raw(pool) -> RawClient:
    return pool.raw()


# ---------------------------------------------------------------------------------------------
# VPCs and security groups created by a test, removed after it
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vpc_mode(pool) -> str:
    """`real` when the server implements Vpc 2016-04-28 CreateVpc (then groups get real VPCs),
    else `synthetic` (any well-formed `vpc-` id, stored as given)."""
    raw = pool.raw()
    r = raw.request("CreateVpc", {"RegionId": raw.region, "CidrBlock": "10.0.0.0/8"}, version="2016-04-28")
    if r.status == 200:
        try:
            vpc_id = r.json().get("VpcId")
        except ValueError:
            vpc_id = None
        if vpc_id:
            raw.request("DeleteVpc", {"RegionId": raw.region, "VpcId": vpc_id}, version="2016-04-28")
            return "real"
    return "synthetic"


class Vpcs:
    def __init__(self, pool: ClientPool, mode: str):
        self.pool, self.mode = pool, mode
        self.created: list = []

    def new(self, client) -> str:
        if self.mode == "synthetic":
            return "vpc-" + helpers.rand(21)
        raw = self.pool.raw(client.ak)
        r = raw.request(
            "CreateVpc", {"RegionId": client.region, "CidrBlock": "172.16.0.0/12"}, version="2016-04-28"
        )
        assert r.status == 200, f"CreateVpc: {r.describe()}"
        vpc_id = r.json()["VpcId"]
        self.created.append((raw, client.region, vpc_id))
        return vpc_id

    def cleanup(self) -> None:
        for raw, region, vpc_id in reversed(self.created):
            for _ in range(20):  # VPCs may be briefly Pending after creation
                r = raw.request("DeleteVpc", {"RegionId": region, "VpcId": vpc_id}, version="2016-04-28")
                if r.status in (200, 404):
                    break
                time.sleep(0.2)


class Groups:
    def __init__(self, vpcs: Vpcs):
        self.vpcs = vpcs
        self.created: list = []

    def create(self, client, **params) -> str:
        """CreateSecurityGroup with RegionId and a fresh VpcId unless given (None = omit)."""
        p = {"RegionId": client.region}
        if "VpcId" not in params:
            p["VpcId"] = self.vpcs.new(client)
        p.update(params)
        p = {k: v for k, v in p.items() if v is not None}
        r = client.call("CreateSecurityGroup", p)
        body = helpers.ok(r)
        sg_id = body.get("SecurityGroupId")
        assert isinstance(sg_id, str) and sg_id, r.describe()
        self.created.append((client, p.get("RegionId"), sg_id))
        return sg_id

    def track(self, client, region: str, sg_id: str) -> None:
        self.created.append((client, region, sg_id))

    def cleanup(self) -> None:
        for client, region, sg_id in reversed(self.created):
            try:
                client.call("DeleteSecurityGroup", {"RegionId": region, "SecurityGroupId": sg_id})
            except Exception:  # noqa: BLE001 - cleanup is best effort
                pass


@pytest.fixture(scope="session")
def raw_vpc(pool):
    """A real VPC of the raw client's account and region, for hand-signed requests."""
    raw = pool.raw()
    r = raw.request("CreateVpc", {"RegionId": raw.region, "CidrBlock": "192.168.0.0/16"}, version="2016-04-28")
    assert r.status == 200, f"CreateVpc: {r.describe()}"
    return r.json()["VpcId"]


@pytest.fixture
def vpcs(pool, vpc_mode):
    v = Vpcs(pool, vpc_mode)
    yield v
    v.cleanup()


@pytest.fixture
def groups(vpcs):
    g = Groups(vpcs)
    yield g
    g.cleanup()
