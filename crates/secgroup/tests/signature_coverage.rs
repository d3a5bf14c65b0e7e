//! What a signature covers is exactly what runs: an unsigned header never chooses the
//! action or version, a V3 signature must cover every header that decides the call, and a
//! parameter that arrives twice is refused. Each case is the exact request an attacker
//! would send, followed by a check that nothing changed.

mod common;

use chrono::Utc;
use common::{create_group, encode_pairs, Reply, TestClient, TestServer};
use secgroup_rpc::signature::{v1, v3};

// ---- helpers ----

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A V1-signed call of `action` (parameters signed as given) sent with extra headers.
async fn v1_with_headers(
    c: &TestClient,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Reply {
    let path = c.signed_path(
        "POST",
        action,
        pairs(params),
        &[("Format", "JSON"), ("Version", version)],
    );
    c.send("POST", &path, headers, Vec::new()).await
}

/// The parts of one V3 request, and which of its headers the signature names.
struct V3Request<'a> {
    query: Vec<(String, String)>,
    /// Headers sent (besides `host` and `authorization`), in order.
    headers: Vec<(&'a str, String)>,
    /// The `SignedHeaders` list as sent.
    signed: Vec<&'a str>,
    body: Vec<u8>,
}

impl<'a> V3Request<'a> {
    /// A request the official Tea SDKs would send for `action` (every header signed).
    fn official(action: &str, nonce: &str, query: &[(&str, &str)]) -> Self {
        let payload = v3::hex_sha256(b"");
        let headers = vec![
            ("x-acs-action", action.to_string()),
            ("x-acs-version", "2014-05-26".to_string()),
            (
                "x-acs-date",
                Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
            ("x-acs-signature-nonce", nonce.to_string()),
            ("x-acs-content-sha256", payload),
            ("accept", "application/json".to_string()),
        ];
        V3Request {
            query: pairs(query),
            headers,
            signed: vec![
                "host",
                "x-acs-action",
                "x-acs-version",
                "x-acs-date",
                "x-acs-signature-nonce",
                "x-acs-content-sha256",
            ],
            body: Vec::new(),
        }
    }

    /// Signs over exactly `self.signed` (with the real secret) and sends it.
    async fn send(&self, c: &TestClient) -> Reply {
        let host = c.addr().to_string();
        let value_of = |name: &str| -> Option<String> {
            if name == "host" {
                return Some(host.clone());
            }
            self.headers
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        };
        let signed: Vec<String> = self.signed.iter().map(|s| s.to_string()).collect();
        let canonical = v3::canonical_request(
            "POST",
            self.query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            value_of,
            &signed,
            &v3::hex_sha256(&self.body),
        );
        let signature = v3::sign(c.secret(), &v3::string_to_sign(&canonical));
        let authorization = format!(
            "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={signature}",
            c.key_id,
            self.signed.join(";")
        );
        let mut headers: Vec<(&str, &str)> =
            self.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        headers.push(("authorization", &authorization));
        let path = if self.query.is_empty() {
            "/".to_string()
        } else {
            format!("/?{}", encode_pairs(&self.query))
        };
        c.send("POST", &path, &headers, self.body.clone()).await
    }
}

fn outcome(reply: &Reply) -> (u16, String) {
    (reply.status, reply.code())
}

async fn group_exists(c: &TestClient, sg: &str) -> bool {
    let r = c
        .call("DescribeSecurityGroupAttribute", &[("SecurityGroupId", sg)])
        .await;
    match r.status {
        200 => true,
        404 => false,
        other => panic!(
            "DescribeSecurityGroupAttribute answered {other}: {}",
            r.body
        ),
    }
}

/// A nonce no other request of the test run uses.
fn nonce(tag: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!(
        "{tag}-{}-{n}",
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    )
}

// ---- V1: the signed Action and Version are the ones that run ----

#[tokio::test]
async fn v1_unsigned_action_header_never_overrides_the_signed_action() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    // A signed read with a header naming a delete.
    let r = v1_with_headers(
        &c,
        "2014-05-26",
        "DescribeSecurityGroupAttribute",
        &[("RegionId", "cn-hangzhou"), ("SecurityGroupId", &sg)],
        &[("x-acs-action", "DeleteSecurityGroup")],
    )
    .await;
    assert_eq!(outcome(&r), (400, "InvalidParameter".into()), "{}", r.body);
    assert!(r.json()["Message"]
        .as_str()
        .is_some_and(|m| m.contains("Action or Version")));
    assert!(r.json()["RequestId"]
        .as_str()
        .is_some_and(|id| !id.is_empty()));
    assert!(group_exists(&c, &sg).await, "the group must survive");

    // The legacy SDK sends the header equal to the parameter: that runs.
    let r = v1_with_headers(
        &c,
        "2014-05-26",
        "DescribeSecurityGroupAttribute",
        &[("RegionId", "cn-hangzhou"), ("SecurityGroupId", &sg)],
        &[
            ("x-acs-action", "DescribeSecurityGroupAttribute"),
            ("x-acs-version", "2014-05-26"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["SecurityGroupId"], sg.as_str());
}

#[tokio::test]
async fn v1_unsigned_header_cannot_turn_vpc_and_instance_reads_into_deletes() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let vpc = common::create_vpc(&c, &[("CidrBlock", "10.0.0.0/8")]).await;
    let r = v1_with_headers(
        &c,
        "2016-04-28",
        "DescribeVpcAttribute",
        &[("RegionId", "cn-hangzhou"), ("VpcId", &vpc)],
        &[("x-acs-action", "DeleteVpc")],
    )
    .await;
    assert_eq!(outcome(&r), (400, "InvalidParameter".into()), "{}", r.body);
    let still = c.call_vpc("DescribeVpcAttribute", &[("VpcId", &vpc)]).await;
    assert_eq!(still.status, 200, "the VPC must survive: {}", still.body);

    let vsw = c
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", &vpc),
                ("ZoneId", "cn-hangzhou-b"),
                ("CidrBlock", "10.1.0.0/24"),
            ],
        )
        .await
        .json()["VSwitchId"]
        .as_str()
        .expect("VSwitchId")
        .to_string();
    let sg = create_group(&c, &[("VpcId", &vpc)]).await;
    let run = c
        .call(
            "RunInstances",
            &[
                ("ImageId", "aliyun_3_x64_20G_alibase_20240819.vhd"),
                ("InstanceType", "ecs.g5.large"),
                ("VSwitchId", &vsw),
                ("SecurityGroupId", &sg),
            ],
        )
        .await;
    assert_eq!(run.status, 200, "{}", run.body);
    let instance = run.json()["InstanceIdSets"]["InstanceIdSet"][0]
        .as_str()
        .expect("id")
        .to_string();
    let r = v1_with_headers(
        &c,
        "2014-05-26",
        "DescribeInstanceAttribute",
        &[("RegionId", "cn-hangzhou"), ("InstanceId", &instance)],
        &[("x-acs-action", "DeleteInstance")],
    )
    .await;
    assert_eq!(outcome(&r), (400, "InvalidParameter".into()), "{}", r.body);
    let still = c
        .call("DescribeInstanceAttribute", &[("InstanceId", &instance)])
        .await;
    assert_eq!(
        still.status, 200,
        "the instance must survive: {}",
        still.body
    );
}

#[tokio::test]
async fn v1_version_header_and_header_only_actions_are_refused() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    // A version header that names another product than the signed Version.
    let r = v1_with_headers(
        &c,
        "2014-05-26",
        "DescribeSecurityGroupAttribute",
        &[("RegionId", "cn-hangzhou"), ("SecurityGroupId", &sg)],
        &[("x-acs-version", "2016-04-28")],
    )
    .await;
    assert_eq!(outcome(&r), (400, "InvalidParameter".into()), "{}", r.body);

    // No signed Action at all, only the unsigned header: nothing runs.
    let mut params = vec![
        ("Version", "2014-05-26".to_string()),
        ("AccessKeyId", c.key_id.clone()),
        ("SignatureMethod", "HMAC-SHA1".to_string()),
        ("SignatureVersion", "1.0".to_string()),
        ("SignatureNonce", nonce("no-action")),
        (
            "Timestamp",
            Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ),
        ("Format", "JSON".to_string()),
        ("RegionId", "cn-hangzhou".to_string()),
        ("SecurityGroupId", sg.clone()),
    ];
    let sts = v1::string_to_sign("POST", params.iter().map(|(k, v)| (*k, v.as_str())));
    params.push(("Signature", v1::sign(c.secret(), &sts)));
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let r = c
        .send(
            "POST",
            &format!("/?{}", encode_pairs(&owned)),
            &[("x-acs-action", "DeleteSecurityGroup")],
            Vec::new(),
        )
        .await;
    assert_eq!(outcome(&r), (400, "MissingParameter".into()), "{}", r.body);
    assert!(group_exists(&c, &sg).await);

    // A repeated action header is not one value a signature could cover.
    let path = c.signed_path(
        "POST",
        "DescribeSecurityGroupAttribute",
        pairs(&[("RegionId", "cn-hangzhou"), ("SecurityGroupId", &sg)]),
        &[("Format", "JSON")],
    );
    let r = c
        .send(
            "POST",
            &path,
            &[
                ("x-acs-action", "DescribeSecurityGroupAttribute"),
                ("x-acs-action", "DeleteSecurityGroup"),
            ],
            Vec::new(),
        )
        .await;
    assert_eq!(outcome(&r), (400, "InvalidParameter".into()), "{}", r.body);
    assert!(group_exists(&c, &sg).await);
}

// ---- V3: SignedHeaders must cover what decides the call ----

#[tokio::test]
async fn v3_official_request_verifies() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let req = V3Request::official("DescribeRegions", &nonce("v3-ok"), &[]);
    let r = req.send(&c).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // What the Python Tea SDK signs: accept and user-agent too, and its credentials provider.
    let mut req = V3Request::official("DescribeRegions", &nonce("v3-py"), &[]);
    req.headers
        .push(("x-acs-credentials-provider", "static_ak".into()));
    req.headers
        .push(("user-agent", "AlibabaCloud Python".into()));
    req.signed = vec![
        "accept",
        "host",
        "user-agent",
        "x-acs-action",
        "x-acs-content-sha256",
        "x-acs-credentials-provider",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-version",
    ];
    let r = req.send(&c).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn v3_signed_headers_missing_a_required_header_are_incomplete() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    let query = [
        ("RegionId", "cn-hangzhou"),
        ("SecurityGroupId", sg.as_str()),
    ];
    // `host` alone (one signature replayable forever with fresh unsigned nonces), an empty
    // list, and each required header left out in turn.
    let mut lists: Vec<Vec<&str>> = vec![vec!["host"], vec![]];
    let full = V3Request::official("DeleteSecurityGroup", "x", &query).signed;
    for left_out in &full {
        lists.push(full.iter().copied().filter(|h| h != left_out).collect());
    }
    for list in lists {
        let mut req = V3Request::official("DeleteSecurityGroup", &nonce("v3-inc"), &query);
        req.signed = list.clone();
        let r = req.send(&c).await;
        assert_eq!(
            outcome(&r),
            (400, "IncompleteSignature".into()),
            "SignedHeaders={list:?}: {}",
            r.body
        );
        assert!(group_exists(&c, &sg).await, "SignedHeaders={list:?}");
    }
    // The same request, fully signed, does run.
    let r = V3Request::official("DeleteSecurityGroup", &nonce("v3-del"), &query)
        .send(&c)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!group_exists(&c, &sg).await);
}

/// `SignedHeaders` entries are bare header names: one with whitespace around it is no
/// header name (the signature over it used to verify, naming a header that cannot exist),
/// and one the SDK would write bare is not trimmed into place (docs/protocol.md §3.3).
#[tokio::test]
async fn v3_signed_headers_with_whitespace_are_incomplete() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    let query = [
        ("RegionId", "cn-hangzhou"),
        ("SecurityGroupId", sg.as_str()),
    ];
    let full = V3Request::official("DeleteSecurityGroup", "x", &query).signed;
    // Inside the list (whitespace around the whole value is the header's own).
    let mut lists: Vec<Vec<&str>> = vec![
        full.iter().copied().chain([" accept", "z"]).collect(),
        full.iter().copied().chain(["accept ", "z"]).collect(),
    ];
    for spaced in [" x-acs-date", "x-acs-date\t", " x-acs-action "] {
        let bare = spaced.trim();
        lists.push(
            full.iter()
                .map(|h| if *h == bare { spaced } else { h })
                .collect(),
        );
    }
    for list in lists {
        let mut req = V3Request::official("DeleteSecurityGroup", &nonce("v3-ws"), &query);
        req.signed = list.clone();
        let r = req.send(&c).await;
        assert_eq!(
            outcome(&r),
            (400, "IncompleteSignature".into()),
            "SignedHeaders={list:?}: {}",
            r.body
        );
        assert!(group_exists(&c, &sg).await, "SignedHeaders={list:?}");
    }
}

#[tokio::test]
async fn v3_replay_with_a_fresh_unsigned_nonce_is_refused() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    // Signed over host only, then sent again with another nonce and date.
    let mut first = V3Request::official("DescribeRegions", &nonce("replay-1"), &[]);
    first.signed = vec!["host"];
    let r = first.send(&c).await;
    assert_eq!(
        outcome(&r),
        (400, "IncompleteSignature".into()),
        "{}",
        r.body
    );
    first.headers[3].1 = nonce("replay-2");
    let r = first.send(&c).await;
    assert_eq!(
        outcome(&r),
        (400, "IncompleteSignature".into()),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn v3_every_acs_header_and_a_form_content_type_must_be_signed() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    // An extra x-acs-* header left unsigned.
    let mut req = V3Request::official("DescribeRegions", &nonce("v3-extra"), &[]);
    req.headers
        .push(("x-acs-credentials-provider", "static_ak".into()));
    let r = req.send(&c).await;
    assert_eq!(
        outcome(&r),
        (400, "IncompleteSignature".into()),
        "{}",
        r.body
    );

    // A form body whose Content-Type (which makes its parameters count) is not signed.
    let form = format!("RegionId=cn-hangzhou&SecurityGroupId={sg}");
    let mut req = V3Request::official("DeleteSecurityGroup", &nonce("v3-form"), &[]);
    req.body = form.clone().into_bytes();
    req.headers[4].1 = v3::hex_sha256(form.as_bytes());
    req.headers.push((
        "content-type",
        "application/x-www-form-urlencoded".to_string(),
    ));
    let r = req.send(&c).await;
    assert_eq!(
        outcome(&r),
        (400, "IncompleteSignature".into()),
        "{}",
        r.body
    );
    assert!(group_exists(&c, &sg).await);
    // Signed, the same body is used.
    let mut req = V3Request::official("DeleteSecurityGroup", &nonce("v3-form2"), &[]);
    req.body = form.clone().into_bytes();
    req.headers[4].1 = v3::hex_sha256(form.as_bytes());
    req.headers.push((
        "content-type",
        "application/x-www-form-urlencoded".to_string(),
    ));
    req.signed.push("content-type");
    let r = req.send(&c).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(!group_exists(&c, &sg).await);
}

#[tokio::test]
async fn v3_query_action_must_agree_with_the_signed_header() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    let query = [
        ("Action", "DeleteSecurityGroup"),
        ("RegionId", "cn-hangzhou"),
        ("SecurityGroupId", sg.as_str()),
    ];
    let r = V3Request::official("DescribeSecurityGroupAttribute", &nonce("v3-q"), &query)
        .send(&c)
        .await;
    assert_eq!(outcome(&r), (400, "InvalidParameter".into()), "{}", r.body);
    assert!(group_exists(&c, &sg).await);
}

// ---- duplicate parameters ----

#[tokio::test]
async fn a_parameter_appended_after_signing_is_refused() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    let path = c.signed_path(
        "POST",
        "ModifySecurityGroupPolicy",
        pairs(&[
            ("RegionId", "cn-hangzhou"),
            ("SecurityGroupId", &sg),
            ("InnerAccessPolicy", "Drop"),
        ]),
        &[("Format", "JSON")],
    );
    let tampered = format!("{path}&InnerAccessPolicy=Accept");
    let r = c.raw("POST", &tampered, Vec::new(), None).await;
    assert_eq!(outcome(&r), (400, "InvalidParameter".into()), "{}", r.body);
    assert!(r.json()["Message"]
        .as_str()
        .is_some_and(|m| m.contains("InnerAccessPolicy")));
    let attr = c
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &sg)],
        )
        .await;
    assert_eq!(attr.json()["InnerAccessPolicy"], "Accept", "unchanged");
}

#[tokio::test]
async fn a_parameter_signed_twice_or_in_query_and_body_is_refused() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    // Both occurrences signed: still refused, so no reader has to guess which one runs.
    let mut all = pairs(&[
        ("Action", "DeleteSecurityGroup"),
        ("Version", "2014-05-26"),
        ("AccessKeyId", &c.key_id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", &nonce("dup")),
        (
            "Timestamp",
            &Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ),
        ("Format", "JSON"),
        ("RegionId", "cn-hangzhou"),
        ("SecurityGroupId", "sg-does-not-exist"),
        ("SecurityGroupId", &sg),
    ]);
    let sts = v1::string_to_sign("POST", all.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    all.push(("Signature".into(), v1::sign(c.secret(), &sts)));
    let r = c
        .raw(
            "POST",
            &format!("/?{}", encode_pairs(&all)),
            Vec::new(),
            None,
        )
        .await;
    assert_eq!(outcome(&r), (400, "InvalidParameter".into()), "{}", r.body);
    assert!(group_exists(&c, &sg).await);

    // RegionId in the signed query, and again in a form body.
    let path = c.signed_path(
        "POST",
        "DeleteSecurityGroup",
        pairs(&[("RegionId", "cn-hangzhou"), ("SecurityGroupId", &sg)]),
        &[("Format", "JSON")],
    );
    let r = c
        .raw(
            "POST",
            &path,
            format!("SecurityGroupId={sg}").into_bytes(),
            Some("application/x-www-form-urlencoded"),
        )
        .await;
    assert_eq!(outcome(&r), (400, "InvalidParameter".into()), "{}", r.body);
    assert!(group_exists(&c, &sg).await);
}
