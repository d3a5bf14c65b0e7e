//! Two nodes on one PostgreSQL database: two independent stores (each with its own pool)
//! racing on the guarantees the database must enforce across nodes. Skipped, with a
//! message, unless `SECGROUP_TEST_POSTGRES_URL` names a server.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use secgroup_domain::contract::{at, group, instance, vpc, vswitch};
use secgroup_domain::error::DomainError;
use secgroup_domain::ids::{AccountId, SecurityGroupId, VSwitchId};
use secgroup_domain::ops::idempotency::{once, ClientToken, DEFAULT_RETENTION};
use secgroup_domain::rules::{Rule, RuleRow};
use secgroup_domain::{AccessKeyRecord, Store, StoreError};
use secgroup_store_postgres::PostgresStore;

const ACCOUNT: &str = "acct-1";
const REGION: &str = "cn-hangzhou";

struct Nodes {
    _dbs: common::Databases,
    a: Arc<PostgresStore>,
    b: Arc<PostgresStore>,
}

impl Nodes {
    /// Both nodes, or `None` when the tests are skipped.
    async fn start(test: &str) -> Option<Nodes> {
        let dbs = common::Databases::new(common::server_url(test)?);
        let url = dbs.create();
        let a = Arc::new(PostgresStore::connect(&url).expect("node a"));
        let b = Arc::new(PostgresStore::connect(&url).expect("node b"));
        a.write(|tx| {
            tx.insert_account(&AccountId::from(ACCOUNT), true, at(0, 0))?;
            tx.insert_access_key(&AccessKeyRecord {
                access_key_id: "LTAI1".to_owned(),
                secret: "s".to_owned(),
                account_id: ACCOUNT.to_owned(),
                created_at: at(0, 0),
            })?;
            tx.insert_vpc(&vpc(ACCOUNT, REGION, "vpc-1", 0))?;
            let mut vsw = vswitch(ACCOUNT, REGION, "vpc-1", "vsw-1", 0);
            // 8 addresses, of which 4 are usable (as the domain reserves the first 3 and
            // the last); the test only needs a handful.
            vsw.cidr_block = "172.16.0.0/29".to_owned();
            tx.insert_vswitch(&vsw)?;
            tx.insert_security_group(&group(ACCOUNT, REGION, "sg-1", 0))
        })
        .await
        .expect("seed");
        Some(Nodes { _dbs: dbs, a, b })
    }

    fn node(&self, n: usize) -> Arc<PostgresStore> {
        Arc::clone(if n & 1 == 0 { &self.a } else { &self.b })
    }
}

fn rule(id: &str, port: usize) -> Rule {
    Rule::from_row(RuleRow {
        id: id.to_owned(),
        security_group_id: "sg-1".to_owned(),
        direction: "ingress".to_owned(),
        ip_protocol: "TCP".to_owned(),
        port_range: format!("{port}/{port}"),
        source_port_range: String::new(),
        policy: "Accept".to_owned(),
        priority: 1,
        peer_kind: "cidr".to_owned(),
        peer_value: "10.0.0.0/8".to_owned(),
        peer_owner_account: String::new(),
        local_cidr: String::new(),
        description: String::new(),
        create_time: at(0, 0),
    })
    .expect("valid rule")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nonce_claimed_on_one_node_is_refused_on_the_other() {
    let Some(nodes) = Nodes::start("a_nonce_claimed_on_one_node_is_refused_on_the_other").await
    else {
        return;
    };
    let (exp, now) = (at(900, 0), at(0, 0));
    assert!(nodes
        .a
        .claim_nonce("LTAI1", "n-1", exp, now)
        .await
        .expect("a"));
    assert!(!nodes
        .b
        .claim_nonce("LTAI1", "n-1", exp, now)
        .await
        .expect("b"));
    // Racing claims of one nonce: exactly one wins.
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let store = nodes.node(n);
            tokio::spawn(async move { store.claim_nonce("LTAI1", "n-2", exp, now).await })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        won += usize::from(t.await.expect("task").expect("claim"));
    }
    assert_eq!(won, 1, "one claim of a racing nonce succeeds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_client_token_on_both_nodes_has_one_effect() {
    let Some(nodes) = Nodes::start("one_client_token_on_both_nodes_has_one_effect").await else {
        return;
    };
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let store = nodes.node(n);
            tokio::spawn(async move {
                store
                    .write(move |tx| {
                        let token = ClientToken::new("tok-1", [("Action", "CreateSecurityGroup")])?;
                        once(
                            tx,
                            &AccountId::from(ACCOUNT),
                            Some(&token),
                            at(0, 0),
                            DEFAULT_RETENTION,
                            |tx| {
                                let id = format!("sg-new-{n}");
                                tx.insert_security_group(&group(ACCOUNT, REGION, &id, 1))?;
                                Ok::<_, DomainError>(id)
                            },
                        )
                    })
                    .await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for t in tasks {
        ids.insert(t.await.expect("task").expect("same answer"));
    }
    assert_eq!(
        ids.len(),
        1,
        "every request got the first one's answer: {ids:?}"
    );
    let count = nodes
        .a
        .read(|tx| tx.count_security_groups(&AccountId::from(ACCOUNT), REGION))
        .await
        .expect("count");
    assert_eq!(count, 2, "one group created (besides sg-1)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_writers_never_exceed_a_quota() {
    let Some(nodes) = Nodes::start("racing_writers_never_exceed_a_quota").await else {
        return;
    };
    const QUOTA: usize = 5;
    // 2 x 8 writers, each adding a rule only if the group is under its quota.
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let store = nodes.node(n);
            tokio::spawn(async move {
                store
                    .write(move |tx| {
                        if tx
                            .rules(&AccountId::from(ACCOUNT), &SecurityGroupId::from("sg-1"))?
                            .len()
                            >= QUOTA
                        {
                            return Ok(false);
                        }
                        tx.insert_rule(
                            &AccountId::from(ACCOUNT),
                            &rule(&format!("sgr-{n}"), 1000 + n),
                        )?;
                        Ok::<_, StoreError>(true)
                    })
                    .await
            })
        })
        .collect();
    let mut added = 0;
    for t in tasks {
        added += usize::from(t.await.expect("task").expect("write"));
    }
    let rules = nodes
        .b
        .read(|tx| tx.rules(&AccountId::from(ACCOUNT), &SecurityGroupId::from("sg-1")))
        .await
        .expect("rules");
    assert_eq!((added, rules.len()), (QUOTA, QUOTA), "exactly the quota");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_launches_never_share_an_address() {
    let Some(nodes) = Nodes::start("racing_launches_never_share_an_address").await else {
        return;
    };
    let usable = ["172.16.0.3", "172.16.0.4", "172.16.0.5", "172.16.0.6"];
    // 2 x 6 launches for 4 addresses: each picks the lowest free one.
    let tasks: Vec<_> = (0..12)
        .map(|n| {
            let store = nodes.node(n);
            tokio::spawn(async move {
                store
                    .write(move |tx| {
                        let used: HashSet<String> = tx
                            .used_private_ips(&VSwitchId::from("vsw-1"))?
                            .into_iter()
                            .collect();
                        let Some(ip) = usable.iter().find(|ip| !used.contains(**ip)) else {
                            return Ok(None);
                        };
                        tx.insert_instance(&instance(
                            ACCOUNT,
                            REGION,
                            &format!("i-{n}"),
                            "vsw-1",
                            ip,
                            &["sg-1"],
                        ))?;
                        Ok::<_, StoreError>(Some(ip.to_string()))
                    })
                    .await
            })
        })
        .collect();
    let mut handed_out = Vec::new();
    for t in tasks {
        match t.await.expect("task") {
            Ok(Some(ip)) => handed_out.push(ip),
            Ok(None) => {}
            // The schema's uniqueness may surface as a duplicate rather than a conflict.
            Err(StoreError::Duplicate(_)) => {}
            Err(e) => panic!("launch failed: {e:?}"),
        }
    }
    let distinct: HashSet<&String> = handed_out.iter().collect();
    assert_eq!(
        distinct.len(),
        handed_out.len(),
        "an address twice: {handed_out:?}"
    );
    assert_eq!(
        handed_out.len(),
        usable.len(),
        "every address handed out once"
    );
    let used = nodes
        .a
        .read(|tx| tx.used_private_ips(&VSwitchId::from("vsw-1")))
        .await
        .expect("used");
    assert_eq!(used.len(), usable.len());
}

/// The revision is one counter in the database: a write on either node bumps it once, and
/// the other node reads the bump as soon as the write has returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn both_nodes_share_one_revision() {
    let Some(nodes) = Nodes::start("both_nodes_share_one_revision").await else {
        return;
    };
    let r0 = nodes.a.revision().await.expect("revision");
    assert_eq!(nodes.b.revision().await, Ok(r0));
    for i in 0..4 {
        let (writer, other) = (nodes.node(i), nodes.node(i + 1));
        let g = group(ACCOUNT, REGION, &format!("sg-r{i}"), 0);
        writer
            .write(move |tx| tx.insert_security_group(&g))
            .await
            .expect("write");
        let expected = r0 + i as u64 + 1;
        assert_eq!(
            other.revision().await,
            Ok(expected),
            "write {i} seen across"
        );
    }
    // Racing writers on both nodes: one bump each, none lost.
    let tasks: Vec<_> = (0..16)
        .map(|n| {
            let store = nodes.node(n);
            tokio::spawn(async move {
                let g = group(ACCOUNT, REGION, &format!("sg-race-{n}"), 0);
                store.write(move |tx| tx.insert_security_group(&g)).await
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("write");
    }
    assert_eq!(nodes.a.revision().await, Ok(r0 + 20));
    assert_eq!(nodes.b.revision().await, Ok(r0 + 20));
}
