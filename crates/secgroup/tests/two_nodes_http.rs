//! Two real `secgroup serve` processes on one PostgreSQL database, driven at once over
//! signed HTTP: rule writes, the rule quota, ClientToken, signature nonces and private
//! addresses (of instances and of network interfaces) hold across nodes (README "Running several nodes"). Every scenario checks the
//! state it leaves by reading it back. Skipped, with a message, unless
//! `SECGROUP_TEST_POSTGRES_URL` names a server (`scripts/test` starts one); each test makes
//! a fresh database there.

mod common;
mod pg;

use std::collections::{BTreeMap, HashSet};

use common::{create_vpc, Reply, TestClient};
use pg::{Databases, Node};
use serde_json::Value;

/// Two nodes on one fresh database (dropped after the nodes).
struct Cluster {
    a: Node,
    b: Node,
    _dbs: Databases,
}

impl Cluster {
    async fn start(test: &str, args: &[&str]) -> Option<Cluster> {
        let dbs = Databases::new(pg::server_url(test)?);
        let url = dbs.create();
        // Started together: both apply the migrations, one waits on the other's lock.
        let (a, b) = tokio::join!(Node::start(&url, args), Node::start(&url, args));
        Some(Cluster { a, b, _dbs: dbs })
    }

    /// Client `n`'s node: even on A, odd on B.
    fn client(&self, n: usize) -> TestClient {
        if n.is_multiple_of(2) {
            self.a.client()
        } else {
            self.b.client()
        }
    }

    fn assert_running(&mut self) {
        self.a.assert_running();
        self.b.assert_running();
    }
}

/// Runs `calls` at once (each on its own task) and returns their replies in order.
async fn all_at_once<F, Fut>(n: usize, call: F) -> Vec<Reply>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Reply> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(call(i))).collect();
    let mut replies = Vec::with_capacity(n);
    for task in tasks {
        replies.push(task.await.expect("request task"));
    }
    replies
}

fn ok(reply: &Reply, what: &str) -> Value {
    assert_eq!(reply.status, 200, "{what}: {}", reply.body);
    reply.json()
}

async fn new_group(c: &TestClient, vpc: &str) -> String {
    let r = c.call("CreateSecurityGroup", &[("VpcId", vpc)]).await;
    ok(&r, "CreateSecurityGroup")["SecurityGroupId"]
        .as_str()
        .expect("SecurityGroupId")
        .to_owned()
}

/// The group's rules, as port range → (rule id, description), read on `c`'s node; fails
/// on a port range listed twice.
async fn rules_by_port(c: &TestClient, sg: &str) -> BTreeMap<String, (String, String)> {
    let r = c
        .call("DescribeSecurityGroupAttribute", &[("SecurityGroupId", sg)])
        .await;
    let body = ok(&r, "DescribeSecurityGroupAttribute");
    let mut out = BTreeMap::new();
    for rule in body["Permissions"]["Permission"]
        .as_array()
        .expect("Permissions.Permission")
    {
        let port = rule["PortRange"].as_str().expect("PortRange").to_owned();
        let id = rule["SecurityGroupRuleId"].as_str().expect("id").to_owned();
        let description = rule["Description"].as_str().unwrap_or("").to_owned();
        assert!(
            out.insert(port.clone(), (id, description)).is_none(),
            "rule {port} listed twice: {body}"
        );
    }
    out
}

fn authorize(port: usize) -> Vec<(&'static str, String)> {
    vec![
        ("IpProtocol", "tcp".to_owned()),
        ("PortRange", format!("{port}/{port}")),
        ("SourceCidrIp", "10.0.0.0/8".to_owned()),
    ]
}

/// A VPC with a `/28` vSwitch (12 usable addresses, `.1` to `.12`) and a group in it.
async fn small_vswitch(c: &TestClient) -> (String, String) {
    let vpc = create_vpc(c, &[("CidrBlock", "10.0.0.0/8")]).await;
    let r = c
        .call_vpc(
            "CreateVSwitch",
            &[
                ("VpcId", &vpc),
                ("ZoneId", "cn-hangzhou-b"),
                ("CidrBlock", "10.9.0.0/28"),
            ],
        )
        .await;
    let vsw = ok(&r, "CreateVSwitch")["VSwitchId"]
        .as_str()
        .expect("VSwitchId")
        .to_owned();
    (vsw, new_group(c, &vpc).await)
}

async fn call_owned(c: &TestClient, action: &str, params: &[(&str, String)]) -> Reply {
    let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    c.call(action, &borrowed).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rule_writes_on_both_nodes_at_once_are_neither_lost_nor_duplicated() {
    let Some(mut cluster) = Cluster::start(
        "rule_writes_on_both_nodes_at_once_are_neither_lost_nor_duplicated",
        &[],
    )
    .await
    else {
        return;
    };
    let vpc = create_vpc(&cluster.a.client(), &[]).await;
    let sg = new_group(&cluster.a.client(), &vpc).await;

    // 16 rules, each authorized twice at once: once on each node.
    let replies = all_at_once(32, |i| {
        let (c, sg) = (cluster.client(i), sg.clone());
        async move {
            let mut params = authorize(1000 + i / 2);
            params.push(("SecurityGroupId", sg));
            call_owned(&c, "AuthorizeSecurityGroup", &params).await
        }
    })
    .await;
    for r in &replies {
        ok(r, "AuthorizeSecurityGroup");
    }
    let rules = rules_by_port(&cluster.b.client(), &sg).await;
    let expected: Vec<String> = (1000..1016).map(|p| format!("{p}/{p}")).collect();
    assert_eq!(
        rules.keys().cloned().collect::<Vec<_>>(),
        expected,
        "each rule once"
    );

    // At once: revoke 1000–1007 by id, modify 1008–1015 by id, authorize 2000–2007; each
    // write on the node the rule was not read from.
    let ids: Vec<String> = (1000..1016)
        .map(|p| rules[&format!("{p}/{p}")].0.clone())
        .collect();
    let replies = all_at_once(24, |i| {
        let (c, sg, ids) = (cluster.client(i + 1), sg.clone(), ids.clone());
        async move {
            let mut params = vec![("SecurityGroupId", sg)];
            let action = match i {
                0..=7 => {
                    params.push(("SecurityGroupRuleId.1", ids[i].clone()));
                    "RevokeSecurityGroup"
                }
                8..=15 => {
                    params.push(("SecurityGroupRuleId", ids[i].clone()));
                    params.push(("Description", format!("modified-{i}")));
                    "ModifySecurityGroupRule"
                }
                _ => {
                    params.extend(authorize(2000 + i - 16));
                    "AuthorizeSecurityGroup"
                }
            };
            call_owned(&c, action, &params).await
        }
    })
    .await;
    for (i, r) in replies.iter().enumerate() {
        ok(r, &format!("write {i}"));
    }
    for reader in [cluster.a.client(), cluster.b.client()] {
        let rules = rules_by_port(&reader, &sg).await;
        let mut expected = BTreeMap::new();
        for (i, port) in (1008..1016).enumerate() {
            expected.insert(
                format!("{port}/{port}"),
                (ids[8 + i].clone(), format!("modified-{}", 8 + i)),
            );
        }
        for port in 2000..2008 {
            let id = rules
                .get(&format!("{port}/{port}"))
                .map(|r| r.0.clone())
                .unwrap_or_default();
            expected.insert(format!("{port}/{port}"), (id, String::new()));
        }
        assert_eq!(rules, expected, "revoked gone, modified kept, new added");
    }
    cluster.assert_running();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_for_the_last_rules_never_exceeds_the_quota() {
    const QUOTA: usize = 10;
    let quota = QUOTA.to_string();
    let Some(mut cluster) = Cluster::start(
        "racing_for_the_last_rules_never_exceeds_the_quota",
        &["--max-rules-per-group", &quota],
    )
    .await
    else {
        return;
    };
    let c = cluster.a.client();
    let vpc = create_vpc(&c, &[]).await;
    let sg = new_group(&c, &vpc).await;
    for port in 0..6 {
        let mut params = authorize(100 + port);
        params.push(("SecurityGroupId", sg.clone()));
        ok(
            &call_owned(&c, "AuthorizeSecurityGroup", &params).await,
            "prefill",
        );
    }
    // 2 x 8 clients race for the last 4 places, each with a rule of its own.
    let replies = all_at_once(16, |i| {
        let (c, sg) = (cluster.client(i), sg.clone());
        async move {
            let mut params = authorize(5000 + i);
            params.push(("SecurityGroupId", sg));
            call_owned(&c, "AuthorizeSecurityGroup", &params).await
        }
    })
    .await;
    let mut won = HashSet::new();
    for (i, r) in replies.iter().enumerate() {
        match r.status {
            200 => {
                won.insert(format!("{p}/{p}", p = 5000 + i));
            }
            _ => assert_eq!(
                (r.status, r.code().as_str()),
                (403, "AuthorizationLimitExceed"),
                "{}",
                r.body
            ),
        }
    }
    assert_eq!(won.len(), QUOTA - 6, "exactly the free places were taken");
    let rules = rules_by_port(&cluster.b.client(), &sg).await;
    assert_eq!(rules.len(), QUOTA, "{rules:?}");
    for port in &won {
        assert!(rules.contains_key(port), "acknowledged rule {port} missing");
    }
    cluster.assert_running();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_client_token_on_both_nodes_at_once_has_one_effect() {
    let Some(mut cluster) =
        Cluster::start("one_client_token_on_both_nodes_at_once_has_one_effect", &[]).await
    else {
        return;
    };
    let vpc = create_vpc(&cluster.a.client(), &[]).await;
    const ROUNDS: usize = 4;
    for round in 0..ROUNDS {
        let token = format!("token-{round}");
        // 2 x 3 copies of one request, on both nodes at once.
        let replies = all_at_once(6, |i| {
            let (c, vpc, token) = (cluster.client(i), vpc.clone(), token.clone());
            async move {
                let params = [
                    ("VpcId", vpc.as_str()),
                    ("SecurityGroupName", "once"),
                    ("ClientToken", token.as_str()),
                ];
                c.call("CreateSecurityGroup", &params).await
            }
        })
        .await;
        let mut ids = HashSet::new();
        for r in &replies {
            match r.status {
                200 => {
                    ids.insert(r.json()["SecurityGroupId"].as_str().map(str::to_owned));
                }
                // A node that sees the first request still running may say so (docs/ecs.md
                // §2.8); nothing else is an acceptable answer.
                _ => assert!(
                    r.status == 403
                        && ["IdempotentProcessing", "LastTokenProcessing"]
                            .contains(&r.code().as_str()),
                    "{}: {}",
                    r.status,
                    r.body
                ),
            }
        }
        assert_eq!(ids.len(), 1, "one answer for one token: {ids:?}");
        // Sent again later, to either node: the same answer.
        for n in 0..2 {
            let params = [
                ("VpcId", vpc.as_str()),
                ("SecurityGroupName", "once"),
                ("ClientToken", token.as_str()),
            ];
            let r = cluster.client(n).call("CreateSecurityGroup", &params).await;
            let id = ok(&r, "replay")["SecurityGroupId"]
                .as_str()
                .map(str::to_owned);
            assert!(ids.contains(&id), "replay on node {n}: {id:?} not {ids:?}");
        }
    }
    let r = cluster
        .b
        .client()
        .call("DescribeSecurityGroups", &[("PageSize", "50")])
        .await;
    assert_eq!(
        ok(&r, "DescribeSecurityGroups")["TotalCount"],
        ROUNDS,
        "one group per token"
    );
    cluster.assert_running();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nonce_used_on_one_node_is_refused_on_the_other() {
    let Some(mut cluster) =
        Cluster::start("a_nonce_used_on_one_node_is_refused_on_the_other", &[]).await
    else {
        return;
    };
    let (a, b) = (cluster.a.client(), cluster.b.client());
    let region = vec![("RegionId".to_owned(), "cn-hangzhou".to_owned())];
    let path = a.signed_path(
        "POST",
        "DescribeRegions",
        region.clone(),
        &[("Format", "JSON"), ("SignatureNonce", "nonce-once-1")],
    );
    let first = a.raw("POST", &path, Vec::new(), None).await;
    ok(&first, "first use");
    for (node, c) in [("B", &b), ("A", &a)] {
        let again = c.raw("POST", &path, Vec::new(), None).await;
        assert_eq!(
            (again.status, again.code().as_str()),
            (400, "SignatureNonceUsed"),
            "the same signed request again on node {node}: {}",
            again.body
        );
    }

    // One signed request sent to both nodes at once, 2 x 4 times: exactly one is served.
    let path = a.signed_path(
        "POST",
        "DescribeRegions",
        region,
        &[("Format", "JSON"), ("SignatureNonce", "nonce-race-1")],
    );
    let replies = all_at_once(8, |i| {
        let (c, path) = (cluster.client(i), path.clone());
        async move { c.raw("POST", &path, Vec::new(), None).await }
    })
    .await;
    let served = replies.iter().filter(|r| r.status == 200).count();
    for r in replies.iter().filter(|r| r.status != 200) {
        assert_eq!((r.status, r.code().as_str()), (400, "SignatureNonceUsed"));
    }
    assert_eq!(served, 1, "one of the racing copies is served");
    cluster.assert_running();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_launches_on_both_nodes_never_share_an_address() {
    let Some(mut cluster) =
        Cluster::start("racing_launches_on_both_nodes_never_share_an_address", &[]).await
    else {
        return;
    };
    let c = cluster.a.client();
    let (vsw, sg) = small_vswitch(&c).await;
    // A /28 has 12 usable addresses (.1 to .12); 2 x 10 launches ask for up to 28.
    let replies = all_at_once(20, |i| {
        let (c, vsw, sg) = (cluster.client(i), vsw.clone(), sg.clone());
        async move {
            let amount = if i % 3 == 0 { "2" } else { "1" };
            let params = [
                ("ImageId", "img"),
                ("InstanceType", "ecs.g5.large"),
                ("VSwitchId", vsw.as_str()),
                ("SecurityGroupId", sg.as_str()),
                ("Amount", amount),
            ];
            c.call("RunInstances", &params).await
        }
    })
    .await;
    let mut launched = 0;
    for r in &replies {
        match r.status {
            200 => {
                launched += r.json()["InstanceIdSets"]["InstanceIdSet"]
                    .as_array()
                    .map_or(0, Vec::len)
            }
            _ => assert_eq!(
                (r.status, r.code().as_str()),
                (400, "QuotaExceeded.PrivateIpAddress"),
                "{}",
                r.body
            ),
        }
    }
    let filter = [("VSwitchId", vsw.as_str()), ("PageSize", "100")];
    let r = cluster.b.client().call("DescribeInstances", &filter).await;
    let listed = ok(&r, "DescribeInstances")["Instances"]["Instance"]
        .as_array()
        .expect("Instances.Instance")
        .clone();
    let ips: HashSet<&str> = listed
        .iter()
        .map(|i| {
            i["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
                .as_str()
                .expect("ip")
        })
        .collect();
    assert_eq!(ips.len(), listed.len(), "an address twice: {listed:?}");
    assert_eq!(
        listed.len(),
        launched,
        "every acknowledged launch, no other"
    );
    assert!(
        (11..=12).contains(&launched),
        "the vSwitch was filled: {launched}"
    );
    for ip in ips {
        let last: u8 = ip
            .rsplit('.')
            .next()
            .and_then(|o| o.parse().ok())
            .expect("octet");
        assert!((1..=12).contains(&last), "reserved address {ip} handed out");
    }
    cluster.assert_running();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_interface_addresses_on_both_nodes_never_share_an_address() {
    let Some(mut cluster) = Cluster::start(
        "racing_interface_addresses_on_both_nodes_never_share_an_address",
        &[],
    )
    .await
    else {
        return;
    };
    let c = cluster.a.client();
    let (vsw, sg) = small_vswitch(&c).await;
    let eni = ok(
        &c.call(
            "CreateNetworkInterface",
            &[
                ("VSwitchId", vsw.as_str()),
                ("SecurityGroupId", sg.as_str()),
            ],
        )
        .await,
        "CreateNetworkInterface",
    )["NetworkInterfaceId"]
        .as_str()
        .expect("id")
        .to_owned();
    // 11 addresses left; each node adds secondary addresses to the one interface and
    // creates interfaces at once, asking for up to 20.
    let replies = all_at_once(16, |i| {
        let (c, vsw, sg, eni) = (cluster.client(i), vsw.clone(), sg.clone(), eni.clone());
        async move {
            if i % 2 == 0 {
                let params = [
                    ("NetworkInterfaceId", eni.as_str()),
                    ("SecondaryPrivateIpAddressCount", "1"),
                ];
                c.call("AssignPrivateIpAddresses", &params).await
            } else {
                let params = [
                    ("VSwitchId", vsw.as_str()),
                    ("SecurityGroupId", sg.as_str()),
                ];
                c.call("CreateNetworkInterface", &params).await
            }
        }
    })
    .await;
    for r in &replies {
        if r.status != 200 {
            assert!(
                matches!(
                    (r.status, r.code().as_str()),
                    (400, "QuotaExceeded.PrivateIpAddress")
                        | (403, "InvalidOperation.Ipv4CountExceeded")
                ),
                "{}",
                r.body
            );
        }
    }
    let filter = [("VSwitchId", vsw.as_str()), ("PageSize", "100")];
    let r = cluster
        .b
        .client()
        .call("DescribeNetworkInterfaces", &filter)
        .await;
    let listed = ok(&r, "DescribeNetworkInterfaces")["NetworkInterfaceSets"]["NetworkInterfaceSet"]
        .as_array()
        .expect("NetworkInterfaceSets")
        .clone();
    let ips: Vec<&str> = listed
        .iter()
        .flat_map(|e| {
            e["PrivateIpSets"]["PrivateIpSet"]
                .as_array()
                .expect("PrivateIpSet")
                .iter()
                .map(|p| p["PrivateIpAddress"].as_str().expect("ip"))
        })
        .collect();
    let distinct: HashSet<&str> = ips.iter().copied().collect();
    assert_eq!(distinct.len(), ips.len(), "an address twice: {listed:?}");
    assert!(
        ips.len() <= 12,
        "more addresses than the vSwitch has: {ips:?}"
    );
    cluster.assert_running();
}

/// Launches racing on both nodes each place their instance on one of the two live hosts
/// (README "Data plane"): the choice is made inside the write, so the hosts end up evenly
/// loaded (two nodes choosing from the same stale counts would pile onto one host), and
/// every instance has exactly one host, shown alike by both nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_launches_on_both_nodes_spread_over_the_live_hosts() {
    let test = "racing_launches_on_both_nodes_spread_over_the_live_hosts";
    let Some(server) = pg::server_url(test) else {
        return;
    };
    let dbs = Databases::new(server);
    let url = dbs.create();
    let (a, b) = tokio::join!(Node::start(&url, &[]), Node::start(&url, &[]));
    let mut cluster = Cluster { a, b, _dbs: dbs };
    let store = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || secgroup_store_postgres::PostgresStore::connect(&url))
            .await
            .expect("task")
            .expect("connect")
    };
    for host in ["host-a", "host-b"] {
        let status = secgroup_domain::AgentStatus {
            agent_id: format!("agent-{host}"),
            host: host.to_owned(),
            underlay_address: String::new(),
            applied_revision: 0,
            last_applied_time: None,
            instance_counts: BTreeMap::new(),
            last_error: String::new(),
            updated_at: chrono::Utc::now() + chrono::TimeDelta::seconds(60),
        };
        secgroup_domain::Store::record_agent_status(
            &store,
            secgroup_domain::AgentReport::Status(status),
        )
        .await
        .expect("record");
    }
    let c = cluster.a.client();
    let (vsw, sg) = small_vswitch(&c).await;
    let replies = all_at_once(10, |i| {
        let (c, vsw, sg) = (cluster.client(i), vsw.clone(), sg.clone());
        async move {
            let params = [
                ("ImageId", "img"),
                ("InstanceType", "ecs.g5.large"),
                ("VSwitchId", vsw.as_str()),
                ("SecurityGroupId", sg.as_str()),
            ];
            c.call("RunInstances", &params).await
        }
    })
    .await;
    for r in &replies {
        ok(r, "RunInstances");
    }
    let filter = [("VSwitchId", vsw.as_str()), ("PageSize", "100")];
    let shown = |r: &Reply| -> BTreeMap<String, String> {
        ok(r, "DescribeInstances")["Instances"]["Instance"]
            .as_array()
            .expect("Instances.Instance")
            .iter()
            .map(|i| {
                (
                    i["InstanceId"].as_str().expect("id").to_owned(),
                    i["AdditionalInfo"]["ManagedHostId"]
                        .as_str()
                        .expect("host")
                        .to_owned(),
                )
            })
            .collect()
    };
    let on_a = shown(&cluster.a.client().call("DescribeInstances", &filter).await);
    let on_b = shown(&cluster.b.client().call("DescribeInstances", &filter).await);
    assert_eq!(on_a, on_b, "both nodes show one placement");
    assert_eq!(on_a.len(), 10);
    let mut loads: BTreeMap<&str, usize> = BTreeMap::new();
    for host in on_a.values() {
        *loads.entry(host.as_str()).or_insert(0) += 1;
    }
    assert_eq!(
        loads,
        BTreeMap::from([("host-a", 5), ("host-b", 5)]),
        "{on_a:?}"
    );
    cluster.assert_running();
}
