#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/seed-*.

Requests are shaped as the official SDKs send them (docs/clients.md §3) and signed with
testid/testsecret at a fixed time (so the http target sees them as expired: an input
starting with `!` is re-signed by the harness to reach the products). Run from fuzz/.
"""
import base64, hashlib, hmac, os, urllib.parse

def enc(s):
    return urllib.parse.quote(s, safe="-_.~")

def v1(method, params, secret="testsecret"):
    q = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()))
    sts = f"{method}&%2F&{enc(q)}"
    sig = base64.b64encode(hmac.new((secret + "&").encode(), sts.encode(), hashlib.sha1).digest()).decode()
    return dict(params, Signature=sig)

def common(action, version, fmt="JSON", nonce="0123456789abcdef0123456789abcdef"):
    return {"Action": action, "Version": version, "Format": fmt, "AccessKeyId": "testid",
            "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureType": "",
            "SignatureNonce": nonce, "Timestamp": "2026-12-02T04:00:00Z"}

def query(params):
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in params.items())

def legacy(action, version, biz, method="POST", fmt="JSON"):
    p = v1(method, dict(common(action, version, fmt), **biz))
    return (f"{method} /?{query(p)} HTTP/1.1\r\nHost: ecs.cn-hangzhou.aliyuncs.com\r\n"
            f"Accept: */*\r\nAccept-Encoding: identity\r\nx-acs-action: {action}\r\n"
            f"x-acs-version: {version}\r\nx-sdk-client: python/2.0.0\r\nx-sdk-invoke-type: normal\r\n"
            f"User-Agent: AlibabaCloud (Linux; x86_64) Python/3.11 Core/2.16.1 python-requests/2.31\r\n"
            f"Content-Length: 0\r\n\r\n").encode()

def v3(action, version, biz, node=False, body=b""):
    date = "2026-12-02T04:00:00Z"
    nonce = "0123456789abcdef" * (4 if node else 2)
    h = {"host": "ecs.cn-hangzhou.aliyuncs.com", "x-acs-action": action, "x-acs-version": version,
         "x-acs-date": date, "x-acs-signature-nonce": nonce,
         "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
         "x-acs-credentials-provider": "static_ak"}
    if not node:
        h["accept"] = "application/json"
        h["user-agent"] = "AlibabaCloud (Linux; x86_64) Python/3.11 TeaDSL/1"
    names = sorted(h)
    cq = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(biz.items()))
    cr = "\n".join(["POST", "/", cq, "".join(f"{n}:{h[n].strip()}\n" for n in names),
                    ";".join(names), hashlib.sha256(body).hexdigest()])
    sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(cr.encode()).hexdigest()
    sig = hmac.new(b"testsecret", sts.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = f"ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={';'.join(names)},Signature={sig}"
    q = "&".join(f"{k}={urllib.parse.quote_plus(v) if not node else enc(v)}" for k, v in biz.items())
    head = f"POST /{'?' + q if q else ''} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items())
    return (head + f"content-length: {len(body)}\r\n\r\n").encode() + body

def resign(method, action, version, biz, fmt="JSON"):
    p = {"Action": action, "Version": version, "Format": fmt, **biz}
    return b"!" + f"{method} /?{query(p)} HTTP/1.1\r\nHost: ecs.aliyuncs.com\r\nContent-Length: 0\r\n\r\n".encode()

ECS, VPC, NIS, EXT = "2014-05-26", "2016-04-28", "2021-12-16", "x-secgroup-2026-11-01"
rule = {"RegionId": "cn-hangzhou", "SecurityGroupId": "sg-bp67acfmxazb4p000000",
        "Permissions.1.IpProtocol": "TCP", "Permissions.1.PortRange": "22/22",
        "Permissions.1.SourceCidrIp": "10.0.0.0/8", "Permissions.1.Description": "a b+c*~/é"}
form = query(v1("POST", dict(common("AuthorizeSecurityGroup", ECS), **rule))).encode()

seeds = {
    "http": {
        "legacy-describe-security-groups": legacy("DescribeSecurityGroups", ECS, {"RegionId": "cn-hangzhou"}),
        "legacy-xml-describe-regions": legacy("DescribeRegions", ECS, {}, method="GET", fmt="XML"),
        "tea-v1-authorize": legacy("AuthorizeSecurityGroup", ECS, rule, fmt="json"),
        "v3-python-modify-policy": v3("ModifySecurityGroupPolicy", ECS, {"RegionId": "cn-hangzhou", "SecurityGroupId": "sg-bp67acfmxazb4p000000", "InnerAccessPolicy": "Drop"}),
        "v3-node-describe-vpcs": v3("DescribeVpcs", VPC, {"RegionId": "cn-hangzhou"}, node=True),
        "v1-form-body-authorize": (b"POST / HTTP/1.1\r\nHost: ecs.aliyuncs.com\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                                   + f"Content-Length: {len(form)}\r\n\r\n".encode() + form),
        "chunked-body": (b"POST /?Format=JSON HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n6\r\nA=1&B=\r\n1\r\n2\r\n0\r\n\r\n"),
        "expect-continue": b"POST /?Format=XML HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nA=1",
        "pipelined": b"GET /?Action=DescribeRegions HTTP/1.1\r\nHost: x\r\n\r\nGET /?Format=JSON HTTP/1.1\r\nHost: y\r\n\r\n",
        "malformed-header": b"GET /?Format=JSON HTTP/1.1\r\nBad Header\r\n\r\n",
        "http10-keep-alive": b"GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "resign-create-security-group": resign("POST", "CreateSecurityGroup", ECS, {"RegionId": "cn-hangzhou", "SecurityGroupName": "web", "Description": "a\r\nb"}),
        "resign-describe-security-groups-xml": resign("GET", "DescribeSecurityGroups", ECS, {"RegionId": "cn-hangzhou", "PageSize": "50"}, fmt="XML"),
        "resign-authorize": resign("POST", "AuthorizeSecurityGroup", ECS, rule),
        "resign-create-vpc": resign("POST", "CreateVpc", VPC, {"RegionId": "cn-hangzhou", "CidrBlock": "192.168.0.0/16", "VpcName": "v"}),
        "resign-nis-create-path": resign("GET", "CreateNetworkPath", NIS, {"RegionId": "cn-hangzhou", "SourceId": "i-1", "SourceType": "ecs", "TargetId": "i-2", "TargetType": "ecs", "Protocol": "tcp", "TargetPort": "22"}),
        "resign-ext-check-reachability": resign("POST", "CheckReachability", EXT, {"RegionId": "cn-hangzhou", "SourceInstanceId": "i-1", "TargetInstanceId": "i-2", "Protocol": "TCP", "Port": "22"}),
        "resign-create-network-interface": resign("POST", "CreateNetworkInterface", ECS, {"RegionId": "cn-hangzhou", "VSwitchId": "vsw-1", "SecurityGroupIds.1": "sg-1", "PrivateIpAddress.1": "10.0.0.9", "SecondaryPrivateIpAddressCount": "2", "Tag.1.Key": "k"}),
        "resign-assign-private-ips": resign("POST", "AssignPrivateIpAddresses", ECS, {"RegionId": "cn-hangzhou", "NetworkInterfaceId": "eni-1", "PrivateIpAddress.1": "10.0.0.9", "PrivateIpAddress.2": "10.0.0.300"}),
        "resign-describe-network-interfaces": resign("GET", "DescribeNetworkInterfaces", ECS, {"RegionId": "cn-hangzhou", "NetworkInterfaceId.1": "eni-1", "Type": "Secondary", "MaxResults": "10"}, fmt="XML"),
        "resign-delete-network-paths": resign("POST", "DeleteNetworkPath", NIS, {"RegionId": "cn-hangzhou", **{f"NetworkPathIds.{i}": f"np-{i:020x}" for i in range(1, 6)}}),
    },
    "params": {
        "lists": b"Permissions.1.IpProtocol=TCP&Permissions.1.PortRange=22%2F22&Permissions.2.IpProtocol=UDP&Tag.1.Key=a&SecurityGroupIds.1=sg-1&SecurityGroupIds.3=sg-3\0Tag.1.Value=b+c&RegionId=cn-hangzhou",
        "duplicate": b"A=1&B=2\0A=1",
        "index-past-u32": b"Permissions.4294967296.IpProtocol=UDP&Permissions.1.IpProtocol=TCP",
        "encodings": b"Description=a%20b+c%2A~%2F%C3%A9&X=%zz&%FF=1&=empty&novalue",
        "protocol-params": b"Action=DescribeRegions&Version=2014-05-26&Signature=x&OwnerId=1&Format=JSON",
    },
    "signatures": {
        "sdk-python-description": "testsecret\0\x01\0RegionId=cn-hangzhou&Description=a b+c*~/é\0accept: application/json\nuser-agent: AlibabaCloud Python\nx-acs-credentials-provider: static_ak\0\0\x01".encode(),
        "node-get": b"testsecret\0\x00\0RegionId=cn-hangzhou&PageSize=50\0x-acs-credentials-provider: static_ak\0\0\x02",
        "form-body-and-repeated-header": b"s3cr3t&\0\x01\0Permissions.1.PortRange=22/22\0x-acs-extra: a\nx-acs-extra: b\nx-other:  spaced  \0A=1&B=2\0\x00",
        "authorization-shapes": b"\0\0\0\0\0\0ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host; x-acs-action,Signature=0\0ACS3-HMAC-SHA256 Credential=,SignedHeaders=,Signature=",
    },
    "render": {
        "strings-with-controls": b"\x00a<b>&\"'\r\n\t\x01\x1b\xef\xbf\xbe\xef\xbf\xbf]]>\x00\x03\x02\x00x\x00\x01\x01\x02\x03\x04\x05\x06\x07\x08\x00RID\x00msg \x07 \r\x00host\x00",
        "nested-lists": b"\x04\x03\x03\x02\x00one\x00two\x00\x0b\x02\x01\xff\xff\xff\xff\xff\xff\xff\x7f\x82\x00\x00id\x00m\x00h\x00",
        "unicode": "\x00日本語 é 😀 \ufffd\x00\x00\x00\x00\x00".encode(),
    },
    "rules": {
        "tcp-ingress": b"\x00tcp\n22/22\n10.0.0.0/8\n\n\n\naccept\n1\n\nweb",
        "egress-icmp": b"\x01icmp\n-1/-1\n\n192.168.1.5/32\n\n\ndrop\n100",
        "ipv6": b"\x00all\n-1/-1\n\n\n2001:DB8::/32\n::1\nAccept\n5\n1/65535",
        "quintuple": b"\x00udp\n53/53\n10.0.0.0/8\n172.16.0.0/12\n\n\naccept\n1\n1024/65535",
        "refused": b"\x00udp\n+22/+22\n010.000.000.000/8\n 10.0.0.0/8\n10.0.0.0/08\n-0/-0\n 1\n1\n",
        "group-peer": b"\x00tcp\n80/80\n\n\n\n\n\n\n\n\n\nsg-bp67acfmxazb4p000000\n\n\n\n123",
    },
}

for target, files in seeds.items():
    os.makedirs(f"corpus/{target}", exist_ok=True)
    for name, data in files.items():
        with open(f"corpus/{target}/seed-{name}", "wb") as f:
            f.write(data)
