"""Throttling as Alibaba does it (docs/protocol.md, gateway errors): each account may call
each action in each region so many times a minute; past that the call is refused with
`Throttling.User` (400, no Retry-After) — and every official SDK sees it as a throttling
error where it has one, so users can test their retry logic against secgroup.

A server of its own, started with `--throttle-action DescribeSecurityGroups=2`: nothing else
is throttled, and the suite's main server is not throttled at all (off by default). Each
variant calls in its own region (RegionId is required there, so every SDK sends it), so
their counters are separate."""

import pytest

from conftest import ClientPool, start_server
from clients import VARIANT_REGIONS, VARIANTS


@pytest.fixture(scope="module")
def throttled_pool():
    srv, stop = start_server("throttled", ["--throttle-action", "DescribeSecurityGroups=2"])
    pool = ClientPool(srv)
    try:
        yield pool
    finally:
        pool.close()
        stop()


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_third_call_in_a_minute_is_throttled(throttled_pool, variant):
    client = throttled_pool.get(variant)
    region = {"RegionId": VARIANT_REGIONS[variant]}
    for _ in range(2):
        r = client.call("DescribeSecurityGroups", region)
        assert r.ok, r.describe()
    r = client.call("DescribeSecurityGroups", region)
    assert not r.ok, r.describe()
    assert (r.status, r.code) == (400, "Throttling.User"), r.describe()
    assert r.message == "Request was denied due to user flow control.", r.describe()
    assert r.request_id, r.describe()
    if variant.startswith("node"):
        # The Node Tea SDK raises its ThrottlingError whenever the code says Throttling.
        assert r.exc.get("errorName") == "ThrottlingError", r.exc
    # Another action of the same account and region is not throttled.
    other = client.call("DescribeRegions", region)
    assert other.ok, other.describe()


def test_no_retry_after_header(throttled_pool):
    raw = throttled_pool.raw()
    statuses = []
    for _ in range(3):
        r = raw.request("DescribeSecurityGroups", {"RegionId": "cn-hongkong"})
        statuses.append(r.status)
        assert not any(k.lower() in ("retry-after", "x-acs-retry-after") for k in r.headers), r.headers
    assert statuses == [200, 200, 400], statuses
