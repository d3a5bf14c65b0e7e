//! The web console (docs/console.md) over HTTP, on the API's own listener: sign-in and its
//! cookies, the origin and token checks of its forms, sign-out, the pages of one account
//! and never another's, escaping, a rule change seen on reload, a denied pair explained,
//! the security headers, and the API unchanged beside it.

mod common;
#[path = "reachability/topology.rs"]
mod topology;

use chrono::Utc;
use common::{Reply, TestClient, TestServer};
use secgroup_domain::{InnerAccessPolicy, SecurityGroup, SecurityGroupType, Store, StoreError};
use topology::{rule_id, Topology};

/// A browser of one person: the cookie it holds after signing in.
struct Browser {
    client: TestClient,
    origin: String,
    cookie: String,
}

impl Browser {
    async fn get(&self, path: &str) -> Reply {
        self.client
            .send("GET", path, &[("cookie", &self.cookie)], Vec::new())
            .await
    }
}

/// The account of `c`'s key.
async fn account_of(server: &TestServer, c: &TestClient) -> String {
    let id = c.key_id.clone();
    let key: Result<_, StoreError> = server.store.read(move |tx| tx.access_key(&id)).await;
    key.ok().flatten().expect("key").account_id
}

fn set_cookies(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

/// The value of the hidden `csrf` field of a page.
fn csrf_field(body: &str) -> String {
    let (_, rest) = body
        .split_once("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no csrf field in {body}"));
    rest.split('"').next().unwrap_or("").to_string()
}

/// The sign-in form's token and its cookie, as a browser gets them.
async fn sign_in_form(c: &TestClient) -> (String, String) {
    let form = c.raw("GET", "/console/signin", Vec::new(), None).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let token = csrf_field(&form.body);
    let cookie = set_cookies(&form)
        .into_iter()
        .find(|c| c.starts_with("secgroup_console_signin="))
        .expect("the form's cookie");
    let pair = cookie.split(';').next().unwrap_or("").to_string();
    (token, pair)
}

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    form_body(pairs).into_bytes()
}

fn form_body(pairs: &[(&str, &str)]) -> String {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    common::encode_pairs(&owned)
}

async fn post_sign_in(c: &TestClient, id: &str, secret: &str, origin: Option<&str>) -> Reply {
    let (token, cookie) = sign_in_form(c).await;
    let mut headers = vec![
        ("cookie", cookie.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    if let Some(origin) = origin {
        headers.push(("origin", origin));
    }
    let body = form(&[
        ("csrf", &token),
        ("access_key_id", id),
        ("access_key_secret", secret),
    ]);
    c.send("POST", "/console/signin", &headers, body).await
}

/// Signs `c`'s key in, as a browser on the console's own page does.
async fn sign_in(c: &TestClient) -> Browser {
    let origin = format!("http://{}", c.addr());
    let reply = post_sign_in(c, &c.key_id, c.secret(), Some(&origin)).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let session = set_cookies(&reply)
        .into_iter()
        .find(|c| c.starts_with("secgroup_console="))
        .expect("a session cookie");
    Browser {
        client: c.clone(),
        origin,
        cookie: session.split(';').next().unwrap_or("").to_string(),
    }
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_session_cookie_and_a_wrong_secret_none() {
    let server = TestServer::start().await;
    let a = server.new_account().await;
    let origin = format!("http://{}", a.addr());

    let refused = post_sign_in(&a, &a.key_id, "not-the-secret", Some(&origin)).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused
        .body
        .contains("The AccessKey ID or secret is not right."));
    assert!(set_cookies(&refused)
        .iter()
        .all(|c| !c.starts_with("secgroup_console=")));
    let unknown = post_sign_in(&a, "LTAInobody", a.secret(), Some(&origin)).await;
    assert_eq!(unknown.status, 401);
    let empty = post_sign_in(&a, &a.key_id, "", Some(&origin)).await;
    assert_eq!(empty.status, 401);

    let ok = post_sign_in(&a, &a.key_id, a.secret(), Some(&origin)).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.headers["location"], "/console/");
    let cookies = set_cookies(&ok);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("secgroup_console="))
        .expect("session cookie");
    let token = session
        .trim_start_matches("secgroup_console=")
        .split(';')
        .next()
        .unwrap_or("");
    assert_eq!(token.len(), 64, "{session}");
    for attribute in ["Path=/console/", "HttpOnly", "SameSite=Strict", "Max-Age="] {
        assert!(session.contains(attribute), "{attribute} in {session}");
    }
    assert!(!session.contains("Secure"), "plain HTTP: {session}");
    // The form's own cookie is spent.
    assert!(cookies
        .iter()
        .any(|c| c.starts_with("secgroup_console_signin=;") && c.contains("Max-Age=0")));

    // Behind an HTTPS proxy the cookie is Secure.
    let (token, form_cookie) = sign_in_form(&a).await;
    let behind_tls = a
        .send(
            "POST",
            "/console/signin",
            &[
                ("cookie", &form_cookie),
                ("origin", &origin),
                ("x-forwarded-proto", "https"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            form(&[
                ("csrf", &token),
                ("access_key_id", &a.key_id),
                ("access_key_secret", a.secret()),
            ]),
        )
        .await;
    assert!(set_cookies(&behind_tls)
        .iter()
        .any(|c| c.starts_with("secgroup_console=") && c.ends_with("; Secure")));
}

#[tokio::test]
async fn sign_in_refuses_a_form_from_another_site_or_without_its_token() {
    let server = TestServer::start().await;
    let a = server.new_account().await;
    let origin = format!("http://{}", a.addr());
    for foreign in [None, Some("http://evil.example"), Some("null")] {
        let reply = post_sign_in(&a, &a.key_id, a.secret(), foreign).await;
        assert_eq!(reply.status, 403, "{foreign:?}: {}", reply.body);
        assert!(set_cookies(&reply)
            .iter()
            .all(|c| !c.starts_with("secgroup_console=")));
    }
    // The right origin, but a token of another form (or none).
    let (_, cookie) = sign_in_form(&a).await;
    for token in ["", "0000"] {
        let reply = a
            .send(
                "POST",
                "/console/signin",
                &[
                    ("cookie", &cookie),
                    ("origin", &origin),
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
                form(&[
                    ("csrf", token),
                    ("access_key_id", &a.key_id),
                    ("access_key_secret", a.secret()),
                ]),
            )
            .await;
        assert_eq!(reply.status, 403, "{}", reply.body);
    }
}

#[tokio::test]
async fn pages_need_a_session_and_sign_out_ends_it() {
    let server = TestServer::start().await;
    let a = server.new_account().await;
    let anonymous = a
        .raw("GET", "/console/regions/cn-hangzhou", Vec::new(), None)
        .await;
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.headers["location"], "/console/signin");
    let bare = a.raw("GET", "/console", Vec::new(), None).await;
    assert_eq!(bare.status, 308);
    assert_eq!(bare.headers["location"], "/console/");

    let browser = sign_in(&a).await;
    let home = browser.get("/console/").await;
    assert_eq!(home.status, 200, "{}", home.body);
    let account = account_of(&server, &a).await;
    assert!(home.body.contains(&account), "the account is named");

    // Sign-out needs the page's token and origin too.
    let csrf = csrf_field(&home.body);
    let cross = a
        .send(
            "POST",
            "/console/signout",
            &[
                ("cookie", &browser.cookie),
                ("origin", "http://evil.example"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(cross.status, 403);
    assert_eq!(
        browser.get("/console/").await.status,
        200,
        "still signed in"
    );
    let out = a
        .send(
            "POST",
            "/console/signout",
            &[
                ("cookie", &browser.cookie),
                ("origin", &browser.origin),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            form(&[("csrf", &csrf)]),
        )
        .await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert!(set_cookies(&out)
        .iter()
        .any(|c| c.starts_with("secgroup_console=;") && c.contains("Max-Age=0")));
    let after = browser.get("/console/").await;
    assert_eq!(after.status, 303, "the old cookie is no session any more");
}

#[tokio::test]
async fn every_page_reads_the_sessions_account_only() {
    let server = TestServer::start().await;
    let a = server.new_account().await;
    let b = server.new_account().await;
    let t = Topology::build(&a).await;
    let mine = Topology::build(&b).await;
    let browser = sign_in(&b).await;

    // A's ids are "not found", as the API says it.
    let not_found = |path: String, code: &'static str| {
        let browser = &browser;
        async move {
            let page = browser.get(&path).await;
            assert_eq!(page.status, 404, "{path}: {}", page.body);
            assert!(page.body.contains(code), "{path}: {code} in {}", page.body);
            page
        }
    };
    let group = not_found(
        format!("/console/regions/cn-hangzhou/security-groups/{}", t.sg_db),
        "InvalidSecurityGroupId.NotFound",
    )
    .await;
    assert!(!group.body.contains(&t.sg_web));
    let api = b
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &t.sg_db)],
        )
        .await;
    assert_eq!(api.status, 404);
    assert_eq!(api.code(), "InvalidSecurityGroupId.NotFound");
    not_found(
        format!("/console/regions/cn-hangzhou/vpcs/{}/matrix", t.vpc),
        "InvalidVpcId.NotFound",
    )
    .await;
    not_found(
        format!(
            "/console/regions/cn-hangzhou/reachability?source={}&destination={}&protocol=tcp&port=22",
            t.web, mine.db
        ),
        "InvalidInstanceId.NotFound",
    )
    .await;

    // B's own pages list B's resources and none of A's.
    for path in [
        "/console/".to_string(),
        "/console/regions/cn-hangzhou".to_string(),
        "/console/regions/cn-hangzhou/security-groups".to_string(),
        "/console/regions/cn-hangzhou/instances".to_string(),
        "/console/regions/cn-hangzhou/reachability".to_string(),
        format!(
            "/console/regions/cn-hangzhou/security-groups/{}",
            mine.sg_db
        ),
        format!("/console/regions/cn-hangzhou/vpcs/{}/matrix", mine.vpc),
        format!("/console/audit?resource={}", t.sg_db),
        format!("/console/audit?resource={}", mine.sg_db),
        "/console/dataplane".to_string(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        // (Addresses may repeat: both accounts built the same blocks.)
        for theirs in [&t.vpc, &t.sg_web, &t.sg_db, &t.web, &t.app, &t.db, &t.batch] {
            // The audit page names the id it was asked about, and shows none of its events.
            let asked = path.ends_with(theirs.as_str());
            assert!(
                asked || !page.body.contains(theirs.as_str()),
                "{path} shows {theirs} of account A"
            );
        }
    }
    let listed = browser
        .get("/console/regions/cn-hangzhou/instances")
        .await
        .body;
    for id in mine.all() {
        assert!(listed.contains(&id), "{id} listed");
    }
    let audit = browser
        .get(&format!("/console/audit?resource={}", t.sg_db))
        .await;
    assert!(audit.body.contains("No events."), "A's events stay A's");
    let own = browser
        .get(&format!("/console/audit?resource={}", mine.sg_db))
        .await;
    assert!(
        own.body.contains("AuthorizeSecurityGroupEgress"),
        "{}",
        own.body
    );
    assert!(own.body.contains(&b.key_id));
}

#[tokio::test]
async fn names_descriptions_and_tags_are_escaped() {
    let server = TestServer::start().await;
    let a = server.new_account().await;
    let browser = sign_in(&a).await;
    let vpc = a.default_vpc().await;
    let account = account_of(&server, &a).await;
    // The API refuses such a name; an imported account (or an older server) may hold one.
    let group = SecurityGroup {
        id: "sg-scriptname".into(),
        account_id: account,
        region_id: "cn-hangzhou".into(),
        name: "<script>alert(1)</script>".into(),
        description: "\"quoted\" & 'single' <b>bold</b>".into(),
        group_type: SecurityGroupType::Normal,
        inner_access_policy: InnerAccessPolicy::Accept,
        vpc_id: vpc.clone(),
        resource_group_id: String::new(),
        creation_time: Utc::now(),
    };
    let stored: Result<(), StoreError> = server
        .store
        .write(move |tx| tx.insert_security_group(&group))
        .await;
    stored.expect("stored");
    let tagged = common::create_group(&a, &[("Description", "<img src=x onerror=alert(2)>")]).await;
    let r = a
        .call(
            "TagResources",
            &[
                ("ResourceType", "securitygroup"),
                ("ResourceId.1", &tagged),
                ("Tag.1.Key", "<svg onload=alert(3)>"),
                ("Tag.1.Value", "</dd><script>"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    for path in [
        "/console/regions/cn-hangzhou/security-groups".to_string(),
        "/console/regions/cn-hangzhou/security-groups/sg-scriptname".to_string(),
        format!("/console/regions/cn-hangzhou/security-groups/{tagged}"),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        for raw in ["<script", "<img", "<svg onload", "<b>", "</dd><script>"] {
            assert!(!page.body.contains(raw), "{path} has {raw} unescaped");
        }
    }
    let named = browser
        .get("/console/regions/cn-hangzhou/security-groups/sg-scriptname")
        .await
        .body;
    assert!(named.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(named.contains("&quot;quoted&quot; &amp; &apos;single&apos; &lt;b&gt;bold&lt;/b&gt;"));
    let tags = browser
        .get(&format!(
            "/console/regions/cn-hangzhou/security-groups/{tagged}"
        ))
        .await
        .body;
    assert!(tags.contains("&lt;svg onload=alert(3)&gt;: &lt;/dd&gt;&lt;script&gt;"));
    assert!(tags.contains("&lt;img src=x onerror=alert(2)&gt;"));
}

#[tokio::test]
async fn a_rule_change_shows_on_reload_and_a_denied_pair_is_explained() {
    let server = TestServer::start().await;
    let a = server.new_account().await;
    let t = Topology::build(&a).await;
    let browser = sign_in(&a).await;
    let path = format!("/console/regions/cn-hangzhou/security-groups/{}", t.sg_db);
    let before = browser.get(&path).await;
    assert_eq!(before.status, 200, "{}", before.body);
    for column in [
        "Policy",
        "Priority",
        "Protocol",
        "Port range",
        "Source",
        "Destination",
        "Description",
        "Created",
    ] {
        assert!(
            before
                .body
                .contains(&format!("<th scope=\"col\">{column}</th>")),
            "{column}"
        );
    }
    assert!(before.body.contains("Inbound rules (1)"));
    assert!(before.body.contains("Outbound rules (1)"));
    for id in [&t.db, &t.batch] {
        assert!(before.body.contains(id.as_str()), "member {id}");
    }
    assert!(before.body.contains(&t.db_ip), "the member's address");

    let r = a
        .call(
            "AuthorizeSecurityGroup",
            &[
                ("SecurityGroupId", &t.sg_db),
                ("IpProtocol", "tcp"),
                ("PortRange", "5432/5432"),
                ("SourceCidrIp", "10.1.0.0/24"),
                ("Description", "postgres from the subnet"),
                ("Priority", "5"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = browser.get(&path).await;
    assert!(after.body.contains("Inbound rules (2)"), "{}", after.body);
    assert!(after.body.contains("postgres from the subnet"));
    assert!(after.body.contains("5432/5432"));

    // db -> web on 3306: db's egress drop rule decides.
    let drop_rule = rule_id(&a, &t.sg_db, "3306/3306").await;
    let reach = browser
        .get(&format!(
            "/console/regions/cn-hangzhou/reachability?source={}&destination={}&protocol=tcp&port=3306",
            t.db, t.web
        ))
        .await;
    assert_eq!(reach.status, 200, "{}", reach.body);
    assert!(
        reach.body.contains("<h2 id=\"result\">Denied</h2>"),
        "{}",
        reach.body
    );
    assert!(reach
        .body
        .contains(&format!("egress rule {drop_rule} of {}", t.sg_db)));
    assert!(reach
        .body
        .contains(&format!("security-groups/{}#{drop_rule}", t.sg_db)));
    // web -> db on 22: allowed by db's ingress rule naming sg_web.
    let allowed = browser
        .get(&format!(
            "/console/regions/cn-hangzhou/reachability?source={}&destination={}&protocol=tcp&port=22",
            t.web, t.db
        ))
        .await;
    assert!(
        allowed.body.contains("<h2 id=\"result\">Allowed</h2>"),
        "{}",
        allowed.body
    );
    // A bad port is said, not guessed.
    let bad = browser
        .get(&format!(
            "/console/regions/cn-hangzhou/reachability?source={}&destination={}&protocol=tcp&port=70000",
            t.web, t.db
        ))
        .await;
    assert_eq!(bad.status, 400);

    let matrix = browser
        .get(&format!(
            "/console/regions/cn-hangzhou/vpcs/{}/matrix?protocol=tcp&port=22",
            t.vpc
        ))
        .await;
    assert_eq!(matrix.status, 200, "{}", matrix.body);
    assert!(matrix
        .body
        .contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(matrix.body.contains("role=\"img\""));
    assert!(!matrix.body.contains("<?xml"));
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_the_api_is_unchanged_beside_them() {
    let server = TestServer::start().await;
    let a = server.new_account().await;
    let browser = sign_in(&a).await;
    for path in [
        "/console/",
        "/console/signin",
        "/console/assets/console.css",
        "/console/nowhere",
    ] {
        let page = browser.get(path).await;
        let csp = page.headers["content-security-policy"]
            .to_str()
            .unwrap_or("");
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(page.headers["x-content-type-options"], "nosniff", "{path}");
    }
    let css = browser.get("/console/assets/console.css").await;
    assert_eq!(css.status, 200);
    assert!(css.content_type.starts_with("text/css"));
    assert!(css.body.contains("@media"), "responsive rules");
    assert_eq!(browser.get("/console/nowhere").await.status, 404);
    let put = browser
        .client
        .send(
            "PUT",
            "/console/",
            &[("cookie", &browser.cookie)],
            Vec::new(),
        )
        .await;
    assert_eq!(put.status, 405);

    // Any other path is the API's, as before: an unknown path has the envelope.
    for path in ["/consolex", "/x/console/", "/Console/"] {
        let reply = a.raw("GET", path, Vec::new(), None).await;
        assert!(
            reply.content_type.contains("xml"),
            "{path}: {}",
            reply.content_type
        );
        assert!(reply.body.contains("<Code>"), "{path}: {}", reply.body);
    }
    let regions = a.call("DescribeRegions", &[]).await;
    assert_eq!(regions.status, 200, "{}", regions.body);
}

#[tokio::test]
async fn the_data_plane_page_shows_each_agent_with_this_accounts_share_only() {
    use secgroup_domain::{AgentReport, AgentStatus};
    let server = TestServer::start().await;
    let a = server.new_account().await;
    let browser = sign_in(&a).await;
    let empty = browser.get("/console/dataplane").await;
    assert!(
        empty.body.contains("no agent has reported"),
        "{}",
        empty.body
    );

    common::create_group(&a, &[]).await;
    let revision = server.store.revision().await.expect("revision");
    let mut counts = std::collections::BTreeMap::new();
    counts.insert(account_of(&server, &a).await, 3u64);
    counts.insert("another-account".to_string(), 4242u64);
    let status = AgentStatus {
        agent_id: "agent-<1>".into(),
        host: "host-1".into(),
        underlay_address: "192.0.2.1".into(),
        applied_revision: revision - 1,
        last_applied_time: Some(Utc::now()),
        instance_counts: counts,
        last_error: "nft failed".into(),
        updated_at: Utc::now(),
    };
    server
        .store
        .record_agent_status(AgentReport::Status(status))
        .await
        .expect("recorded");
    let page = browser.get("/console/dataplane").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    assert!(body.contains(&format!("<dd>{revision}</dd>")), "{body}");
    assert!(body.contains("agent-&lt;1&gt;"));
    assert!(body.contains("1 behind"));
    assert!(body.contains("<td>3</td>"), "the account's own share");
    assert!(!body.contains("4242"), "never another account's count");
    assert!(body.contains("nft failed"));
    assert!(body.contains("<td>192.0.2.1</td>"), "the underlay address");
}

#[tokio::test]
async fn regions_not_offered_and_groups_of_another_region_are_not_found() {
    let server = TestServer::start().await;
    let a = server.new_account().await;
    let browser = sign_in(&a).await;
    let group = common::create_group(&a, &[]).await;
    let elsewhere = browser
        .get(&format!(
            "/console/regions/cn-beijing/security-groups/{group}"
        ))
        .await;
    assert_eq!(elsewhere.status, 404, "{}", elsewhere.body);
    assert!(elsewhere.body.contains("InvalidSecurityGroupId.NotFound"));
    let nowhere = browser.get("/console/regions/xx-nowhere-1").await;
    assert_eq!(nowhere.status, 404);
    assert!(nowhere.body.contains("InvalidRegionId.NotFound"));
    let at_home = browser
        .get(&format!(
            "/console/regions/cn-hangzhou/security-groups/{group}"
        ))
        .await;
    assert_eq!(at_home.status, 200, "{}", at_home.body);
}
