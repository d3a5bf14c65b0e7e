"""Independent re-implementation of the two ECS signature schemes (docs/protocol.md §3.2, §3.3).

Pure standard library, so that the raw-wire tests can build exact requests and so that the
signers themselves are checked against the published test vectors (test_signing.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from typing import Iterable, Mapping

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value: str) -> str:
    """RFC 3986 encoding of docs/protocol.md §3.1: unreserved `A-Z a-z 0-9 - _ . ~` stay literal,
    everything else (UTF-8) becomes `%XY` with upper-case hex; space is `%20`, `*` is `%2A`."""
    return urllib.parse.quote(str(value), safe="-_.~", encoding="utf-8")


def canonical_query(params: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    items = params.items() if isinstance(params, Mapping) else params
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in items)
    return "&".join(f"{k}={v}" for k, v in encoded)


def v1_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """`METHOD&%2F&enc(CanonicalizedQueryString)`, `Signature` itself excluded."""
    signed = {k: v for k, v in params.items() if k != "Signature"}
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(signed))}"


def v1_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    sts = v1_string_to_sign(method, params)
    digest = hmac.new((secret + "&").encode("utf-8"), sts.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def v3_canonical_request(
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    hashed_payload: str,
    path: str = "/",
) -> str:
    names = sorted(h.lower() for h in signed_headers)
    lower = {k.lower(): str(v) for k, v in headers.items()}
    canonical_headers = "".join(f"{n}:{lower[n].strip()}\n" for n in names)
    return "\n".join(
        [method.upper(), path, canonical_query(query), canonical_headers, ";".join(names), hashed_payload]
    )


def v3_signature(
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    signed_headers: Iterable[str],
    secret: str,
    hashed_payload: str = EMPTY_SHA256,
) -> tuple[str, str]:
    """Returns (hex SHA-256 of the canonical request, hex signature)."""
    creq = v3_canonical_request(method, query, headers, signed_headers, hashed_payload)
    creq_hash = hashlib.sha256(creq.encode("utf-8")).hexdigest()
    sts = "ACS3-HMAC-SHA256\n" + creq_hash
    sig = hmac.new(secret.encode("utf-8"), sts.encode("utf-8"), hashlib.sha256).hexdigest()
    return creq_hash, sig
