"""The five SDK client variants (plus a raw wire client) behind one small interface.

    client.call(action, params) -> Result(ok, body, code, message, status, request_id, ...)

Parameter dicts use the wire names in their *structured* form, which is also exactly the map
form of the SDK request models (`Model().from_map(m)` in Python Tea, `$dara.cast(m, new
XxxRequest({}))` in Node):

    {"RegionId": "cn-hangzhou",
     "Tag": [{"Key": "env", "Value": "prod"}],        # list of objects
     "ResourceId": ["sg-a", "sg-b"],                    # list of strings
     "SecurityGroupIds": '["sg-a","sg-b"]',             # JSON-array *string* parameter
     "PageSize": 2, "DryRun": True}

Mapping per variant:
  * legacy (aliyun-python-sdk-core CommonRequest) and raw: flattened with 1-based indexes,
    `Tag.1.Key=env`, `Tag.1.Value=prod`, `ResourceId.1=sg-a`; booleans as `true`/`false`,
    numbers as decimal strings (see `flatten`).
  * tea / tea-v1 (alibabacloud_ecs20140526 + alibabacloud_tea_openapi):
    `<Action>Request().from_map(params)`; the model knows the same PascalCase keys and builds
    the `Tag.N.Key` query itself. Keys the model does not know are silently dropped, as the SDK
    would.
  * node / node-v1 (npm @alicloud/ecs20140526): the same map is sent to node/driver.js, which
    calls `$dara.cast(params, new $Ecs.<Action>Request({}))` and `client.<action>(model)`.

On success `body` is the response body as a dict: the raw JSON for legacy (so list wrapping
can be asserted), `response.body.to_map()` / `toMap()` for tea and node (model-mapped).
On failure `code`, `status`, `message` (the server's `Message`) and `request_id` come from
the SDK's own exception object, so asserting them also asserts that the SDK parsed the error.
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import queue
import re
import subprocess
import threading
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

import signing

VERSION = "2014-05-26"
VARIANTS = ("legacy", "tea", "tea-v1", "node", "node-v1")
# The VPC API (2016-04-28) is driven by the Python variants: the legacy core's CommonRequest
# and alibabacloud-vpc20160428 (Tea, V3 and V1 signing). Same regions as VARIANT_REGIONS.
VPC_VERSION = "2016-04-28"
VPC_VARIANTS = ("legacy", "tea", "tea-v1")
# The NIS API (2021-12-16) likewise: CommonRequest, and alibabacloud-nis20211216 (V3 and V1).
NIS_VERSION = "2021-12-16"
ACTIONTRAIL_VERSION = "2020-07-06"
EXT_VERSION = "x-secgroup-2026-11-01"  # secgroup's extension (docs/protocol.md)
NIS_VARIANTS = ("legacy", "tea", "tea-v1")

# Each variant works in its own region, so that the groups one variant creates never show up
# in another variant's listings and no variant approaches the per-region group quota.
VARIANT_REGIONS = {
    "legacy": "cn-hangzhou",
    "tea": "cn-shanghai",
    "tea-v1": "cn-beijing",
    "node": "cn-shenzhen",
    "node-v1": "cn-qingdao",
}
RAW_REGION = "cn-zhangjiakou"


@dataclass
class Result:
    variant: str
    action: str
    ok: bool
    status: int | None = None
    body: dict | None = None
    code: str | None = None
    message: str | None = None
    request_id: str | None = None
    error_body: dict | None = None  # the error dict as the SDK exposes it (tea/node `.data`)
    raw: str | None = None  # raw response text (legacy only)
    headers: dict | None = None
    sdk_message: str | None = None  # the SDK's own exception message
    client_side: bool = False  # the SDK refused the call before anything was sent
    transport_error: bool = False  # no HTTP answer at all (connection refused, bad body...)
    exc: Any = field(default=None, repr=False)

    def describe(self) -> str:
        if self.ok:
            return f"[{self.variant}] {self.action} -> OK {self.status} body={json.dumps(self.body, ensure_ascii=False)[:1500]}"
        return (
            f"[{self.variant}] {self.action} -> ERROR status={self.status} code={self.code!r} "
            f"message={self.message!r} request_id={self.request_id!r} client_side={self.client_side} "
            f"transport_error={self.transport_error} sdk_message={str(self.sdk_message)[:500]!r}"
        )


def flatten(params: Mapping[str, Any]) -> dict[str, str]:
    """Structured wire params -> flat RPC params (`Tag.1.Key`, `ResourceId.1`, ...)."""
    out: dict[str, str] = {}

    def scalar(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v)

    def walk(prefix: str, v: Any) -> None:
        if v is None:
            return
        if isinstance(v, Mapping):
            for k, sub in v.items():
                walk(f"{prefix}.{k}", sub)
        elif isinstance(v, (list, tuple)):
            for i, sub in enumerate(v, start=1):
                walk(f"{prefix}.{i}", sub)
        else:
            out[prefix] = scalar(v)

    for k, v in params.items():
        walk(k, v)
    return out


def snake(action: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", action).lower()


# --------------------------------------------------------------------------------------------
# legacy: aliyun-python-sdk-core 2.16.1 CommonRequest
# --------------------------------------------------------------------------------------------


class LegacyClient:
    variant = "legacy"
    version = VERSION

    def __init__(self, host: str, port: int, ak: str, sk: str, region: str):
        from aliyunsdkcore.client import AcsClient

        self.host, self.port, self.region = host, port, region
        self.ak = ak
        self.client = AcsClient(ak, sk, region, port=port, auto_retry=False, timeout=20, connect_timeout=5)

    def call(self, action: str, params: Mapping[str, Any] | None = None, fmt: str = "JSON") -> Result:
        from aliyunsdkcore.request import CommonRequest

        req = CommonRequest()
        req.set_domain(self.host)
        req.set_version(self.version)
        req.set_action_name(action)
        req.set_method("POST")
        req.set_protocol_type("http")
        req.set_accept_format(fmt)  # the legacy core sends it as the `Format` parameter
        for k, v in flatten(params or {}).items():
            req.add_query_param(k, v)
        return self.send_request(req, action, fmt)

    def send_request(self, req: Any, action: str, fmt: str = "JSON") -> Result:
        """Sends any legacy AcsRequest (a CommonRequest, or a generated aliyunsdkecs request
        class pointed at this endpoint)."""
        from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException

        # _implementation_of_do_action is what do_action_with_exception uses, minus its
        # forcing of Format=JSON; it hands back status, headers, body and the parsed exception.
        status, headers, body, exc = self.client._implementation_of_do_action(req)
        text = body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else body
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        if exc is None:
            parsed = None
            if fmt.upper() == "JSON":
                try:
                    parsed = json.loads(text)
                except ValueError:
                    parsed = None
            return Result(self.variant, action, True, status=status, body=parsed, raw=text, headers=hdrs)
        if isinstance(exc, ServerException):
            err = None
            try:
                err = json.loads(text)
            except (ValueError, TypeError):
                pass
            return Result(
                self.variant,
                action,
                False,
                status=exc.get_http_status(),
                code=exc.get_error_code(),
                message=exc.get_error_msg(),
                request_id=exc.get_request_id(),
                error_body=err,
                raw=text,
                headers=hdrs,
                sdk_message=str(exc),
                exc=exc,
            )
        assert isinstance(exc, ClientException), exc
        return Result(
            self.variant,
            action,
            False,
            status=status,
            code=exc.get_error_code(),
            message=exc.get_error_msg(),
            raw=text,
            sdk_message=str(exc),
            transport_error=status is None,
            exc=exc,
        )

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------------------------
# tea / tea-v1: alibabacloud-ecs20140526 7.11.8 + alibabacloud-tea-openapi 0.4.6
# --------------------------------------------------------------------------------------------


class TeaClient:
    # The generated SDK package of the product (`<package>.client`, `<package>.models`).
    package = "alibabacloud_ecs20140526"

    def __init__(self, variant: str, host: str, port: int, ak: str, sk: str, region: str):
        from alibabacloud_tea_openapi.models import Config

        Client = importlib.import_module(f"{self.package}.client").Client

        self.variant, self.region, self.ak = variant, region, ak
        kwargs = dict(
            access_key_id=ak,
            access_key_secret=sk,
            endpoint=f"{host}:{port}",
            protocol="http",
            region_id=region,
            read_timeout=20000,
            connect_timeout=5000,
        )
        if variant == "tea-v1":
            kwargs["signature_algorithm"] = "v2"
        self.client = Client(Config(**kwargs))

    def call(self, action: str, params: Mapping[str, Any] | None = None) -> Result:
        from Tea.exceptions import TeaException

        ecs_models = importlib.import_module(f"{self.package}.models")

        model_cls = getattr(ecs_models, f"{action}Request", None)
        method = getattr(self.client, self.method_name(action), None)
        if model_cls is None or method is None:
            return Result(self.variant, action, False, client_side=True, sdk_message=f"no SDK operation {action}")
        request = model_cls().from_map(dict(params or {}))
        try:
            resp = method(request)
        except TeaException as e:  # ClientException / ServerException / ThrottlingException
            data = e.data if isinstance(e.data, dict) else None
            status = getattr(e, "status_code", None) or getattr(e, "statusCode", None)
            if status is None and data is not None:
                status = data.get("statusCode")
            message = None
            if data is not None:
                message = data.get("Message") or data.get("message")
            request_id = getattr(e, "request_id", None)
            if data is not None and (data.get("RequestId") or data.get("requestId")):
                request_id = data.get("RequestId") or data.get("requestId")
            no_http = status is None and data is None
            return Result(
                self.variant,
                action,
                False,
                status=status,
                code=e.code,
                message=message,
                request_id=request_id,
                error_body=data,
                sdk_message=e.message,
                transport_error=no_http,
                exc=e,
            )
        except Exception as e:  # noqa: BLE001 - a non-JSON body or a validation error
            return Result(self.variant, action, False, sdk_message=repr(e), transport_error=True, exc=e)
        body = resp.body.to_map() if resp.body is not None else None
        return Result(self.variant, action, True, status=resp.status_code, body=body, headers=dict(resp.headers or {}))

    def method_name(self, action: str) -> str:
        return snake(action)

    def close(self) -> None:
        pass


class VpcLegacyClient(LegacyClient):
    """The legacy core's CommonRequest against the VPC API."""

    version = VPC_VERSION


class VpcTeaClient(TeaClient):
    """alibabacloud-vpc20160428 (+ tea-openapi 0.4.6); `tea-v1` signs with HMAC-SHA1."""

    package = "alibabacloud_vpc20160428"

    def method_name(self, action: str) -> str:
        # The generator spells `VSwitch` as one word: `create_vswitch`, `describe_vswitches`.
        return snake(action.replace("VSwitch", "Vswitch"))


class ExtLegacyClient(LegacyClient):
    """The legacy core's CommonRequest against secgroup's own API (`CheckReachability`,
    `DescribeReachabilityMatrix`)."""

    version = EXT_VERSION


class NisLegacyClient(LegacyClient):
    """The legacy core's CommonRequest against the NIS API."""

    version = NIS_VERSION


class NisTeaClient(TeaClient):
    """alibabacloud-nis20211216 2.5.0 (darabonba generation, on tea-openapi 0.4.6); `tea-v1`
    signs with HMAC-SHA1. Id lists go as Python lists: the SDK sends them as one JSON string."""

    package = "alibabacloud_nis20211216"


class ActiontrailTeaClient(TeaClient):
    """alibabacloud-actiontrail20200706 2.6.0 (darabonba generation, on tea-openapi 0.4.6);
    `tea-v1` signs with HMAC-SHA1. `Events` comes back as a list of free-form dicts."""

    package = "alibabacloud_actiontrail20200706"


# --------------------------------------------------------------------------------------------
# node / node-v1: npm @alicloud/ecs20140526 7.11.6, driven through node/driver.js
# --------------------------------------------------------------------------------------------


class NodeDriver:
    """One long-lived `node driver.js` process; answers strictly in request order."""

    def __init__(self, driver_path: str, endpoint: str, v1: bool, stderr_path: str):
        args = ["node", driver_path, "--endpoint", endpoint]
        if v1:
            args += ["--signature-algorithm", "v2"]
        self._stderr = open(stderr_path, "ab")
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
            bufsize=1,
            cwd=os.path.dirname(driver_path),
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._lock = threading.Lock()
        self._next_id = 0
        hello = self._get(timeout=30)
        if not hello or not json.loads(hello).get("ready"):
            raise RuntimeError(f"node driver did not start (see {stderr_path}): {hello!r}")
        self.sdk_version = json.loads(hello).get("sdk")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _get(self, timeout: float) -> str | None:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def request(self, payload: dict, timeout: float = 60) -> dict:
        with self._lock:
            self._next_id += 1
            payload = dict(payload, id=self._next_id)
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(payload) + "\n")
            self.proc.stdin.flush()
            line = self._get(timeout)
            if line is None:
                raise RuntimeError(f"node driver gave no answer to {payload['action']} (exit code {self.proc.poll()})")
            answer = json.loads(line)
            if answer.get("id") != payload["id"]:
                raise RuntimeError(f"node driver answered out of order: {answer}")
            return answer

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()


class NodeClient:
    def __init__(self, variant: str, driver: NodeDriver, ak: str, sk: str, region: str):
        self.variant, self.driver, self.ak, self.sk, self.region = variant, driver, ak, sk, region

    def call(self, action: str, params: Mapping[str, Any] | None = None) -> Result:
        a = self.driver.request(
            {
                "action": action,
                "params": dict(params or {}),
                "accessKeyId": self.ak,
                "accessKeySecret": self.sk,
                "regionId": self.region,
            }
        )
        if a.get("driverError"):
            return Result(self.variant, action, False, client_side=True, sdk_message=a["driverError"])
        if a["ok"]:
            return Result(self.variant, action, True, status=a.get("statusCode"), body=a.get("body"))
        data = a.get("data") if isinstance(a.get("data"), dict) else None
        message = None
        request_id = a.get("requestId")
        if data is not None:
            message = data.get("Message") or data.get("message")
            request_id = data.get("RequestId") or data.get("requestId") or request_id
        status = a.get("statusCode")
        client_side = a.get("code") == "SDK.ValidateError"
        return Result(
            self.variant,
            action,
            False,
            status=status,
            code=a.get("code"),
            message=message,
            request_id=request_id,
            error_body=data,
            sdk_message=a.get("message"),
            client_side=client_side,
            transport_error=status is None and not client_side,
            exc=a,
        )

    def close(self) -> None:
        pass


# --------------------------------------------------------------------------------------------
# raw: hand-signed V1 requests with exact control over the bytes
# --------------------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict
    body: bytes
    string_to_sign: str | None = None  # what we signed (V1), for SignatureDoesNotMatch checks

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> dict:
        return json.loads(self.text)

    def xml(self) -> ET.Element:
        return ET.fromstring(self.body)

    def error(self) -> dict:
        """The error fields, whichever format the body is in."""
        text = self.text.lstrip()
        if text.startswith("<"):
            root = self.xml()
            return {child.tag: (child.text or "") for child in root} | {"_root": root.tag}
        return self.json()

    def describe(self) -> str:
        return f"HTTP {self.status} {self.content_type!r} {self.text[:1500]}"


def utc_timestamp(dt: datetime | None = None) -> str:
    return (dt or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")


class RawClient:
    """V1 (HMAC-SHA1) requests signed here, sent with http.client."""

    def __init__(self, host: str, port: int, ak: str, sk: str):
        self.host, self.port, self.ak, self.sk = host, port, ak, sk
        self.region = RAW_REGION

    def common(self, action: str | None, fmt: str | None = "JSON", version: str | None = VERSION) -> dict[str, str]:
        p = {
            "AccessKeyId": self.ak,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": utc_timestamp(),
        }
        if action is not None:
            p["Action"] = action
        if version is not None:
            p["Version"] = version
        if fmt is not None:
            p["Format"] = fmt
        return p

    def request(
        self,
        action: str | None,
        params: Mapping[str, Any] | None = None,
        *,
        method: str = "POST",
        placement: str = "query",  # "query" | "form" (everything in the body) | "split" (common in query, API params in body)
        fmt: str | None = "JSON",
        version: str | None = VERSION,
        overrides: Mapping[str, str | None] | None = None,  # replace/remove (None) common params before signing
        secret: str | None = None,
        sign: bool = True,
        signature: str | None = None,  # send this signature instead of the right one
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,  # send this body verbatim (placement is then ignored for the body)
        path: str = "/",
    ) -> RawResponse:
        common = self.common(action, fmt, version)
        api = flatten(params or {})
        for k, v in (overrides or {}).items():
            if v is None:
                common.pop(k, None)
                api.pop(k, None)
            else:
                common[k] = v
        all_params = {**common, **api}
        sts = None
        if sign:
            sts = signing.v1_string_to_sign(method, all_params)
            sig = signature or signing.v1_signature(method, all_params, self.sk if secret is None else secret)
            common["Signature"] = sig
            all_params["Signature"] = sig
        if placement == "query":
            query, form = all_params, {}
        elif placement == "form":
            query, form = {}, all_params
        elif placement == "split":
            query, form = common, api
        else:
            raise ValueError(placement)
        url = path + ("?" + urllib.parse.urlencode(query) if query else "")
        hdrs = {"Host": f"{self.host}:{self.port}"}
        payload = body
        if payload is None and form:
            payload = urllib.parse.urlencode(form).encode("utf-8")
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        hdrs.update(headers or {})
        return send(self.host, self.port, method, url, hdrs, payload, sts)


def send(host: str, port: int, method: str, url: str, headers: Mapping[str, str], body: bytes | None, sts: str | None = None) -> RawResponse:
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.putrequest(method, url, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            try:
                conn.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer and close before reading an oversized body
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, sts)
    finally:
        conn.close()
