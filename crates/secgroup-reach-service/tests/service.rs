//! The service over a real store: a network is compiled once and answers until a write
//! bumps the revision; concurrent misses compile once; a write the caller vouches for keeps
//! it; the cache's bounds hold.

use std::sync::Arc;

use chrono::Utc;
use secgroup_domain::ids::{AccountId, SecurityGroupId};
use secgroup_domain::ops::accounts;
use secgroup_domain::ops::instances::launch::{self, NewInstances};
use secgroup_domain::ops::instances::InstanceTimings;
use secgroup_domain::ops::security_groups::{self, NewSecurityGroup};
use secgroup_domain::ops::vpcs::vswitches::{self, BlockRequest, NewVSwitch};
use secgroup_domain::ops::vpcs::{self, NewVpc};
use secgroup_domain::ops::Limits;
use secgroup_domain::rules::IpProtocol;
use secgroup_domain::{DomainError, InnerAccessPolicy, SecurityGroupType, Store};
use secgroup_reach_service::{
    CacheLimits, EndpointQuery, FlowQuery, Reachability, ReachabilityError,
};
use secgroup_store_sqlite::SqliteStore;

const REGION: &str = "cn-hangzhou";

/// One account with a VPC, a basic group whose InnerAccessPolicy is Drop, and two running
/// instances in it.
struct Net {
    store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
    account: AccountId,
    group: SecurityGroupId,
    a: String,
    b: String,
}

async fn net() -> Net {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("db.sqlite")).expect("store"));
    let (account, group, ids) = store
        .write(|tx| {
            let now = Utc::now();
            let limits = Limits::default();
            let account = AccountId::from(accounts::create_account(tx, false, now)?.account_id);
            let vpc = vpcs::create(
                tx,
                &account,
                &NewVpc {
                    region_id: REGION.into(),
                    cidr_block: Some("10.0.0.0/8".into()),
                    ..NewVpc::default()
                },
                &limits,
                now,
            )?
            .vpc_id;
            let vswitch = vswitches::create(
                tx,
                &account,
                &NewVSwitch {
                    region_id: None,
                    vpc_id: vpc.clone().into(),
                    zone_id: "cn-hangzhou-b".into(),
                    block: BlockRequest::Cidr("10.0.0.0/24".into()),
                    name: String::new(),
                    description: String::new(),
                    tags: Vec::new(),
                },
                &limits,
                now,
            )?
            .vswitch_id;
            let group = security_groups::create(
                tx,
                &account,
                &NewSecurityGroup {
                    region_id: REGION.into(),
                    name: String::new(),
                    description: String::new(),
                    group_type: SecurityGroupType::Normal,
                    vpc_id: vpc.into(),
                    resource_group_id: String::new(),
                    tags: Vec::new(),
                },
                &limits,
                now,
            )?
            .security_group_id;
            let group = SecurityGroupId::from(group);
            security_groups::modify_inner_access_policy(
                tx,
                &account,
                REGION,
                &group,
                InnerAccessPolicy::Drop,
            )?;
            let launched = launch::launch(
                tx,
                &account,
                &NewInstances {
                    region_id: REGION.into(),
                    vswitch_id: vswitch.into(),
                    security_group_ids: vec![group.clone()],
                    amount: 2,
                    instance_type: "ecs.g5.large".into(),
                    image_id: "aliyun_3_x64_20G_alibase_20240819.vhd".into(),
                    auto_start: true,
                    ..NewInstances::default()
                },
                &limits,
                now,
            )?;
            Ok::<_, DomainError>((account, group, launched.instance_ids))
        })
        .await
        .expect("network");
    Net {
        store,
        _dir: dir,
        account,
        group,
        a: ids[0].clone(),
        b: ids[1].clone(),
    }
}

impl Net {
    fn service(&self, limits: CacheLimits) -> Arc<Reachability<SqliteStore>> {
        Arc::new(Reachability::with_limits(
            self.store.clone(),
            InstanceTimings::default(),
            limits,
        ))
    }

    /// Whether a reaches b on tcp/22, asked of `service`.
    async fn reachable(&self, service: &Reachability<SqliteStore>, region: &str) -> bool {
        let query = FlowQuery {
            source: EndpointQuery::Instance(self.a.clone()),
            destination: EndpointQuery::Instance(self.b.clone()),
            protocol: IpProtocol::Tcp,
            port: Some(22),
            source_port: None,
        };
        let answer: Result<bool, ReachabilityError> = service
            .ask(&self.account, region, move |network, now| {
                network.check(&query, now).map(|c| c.reachable())
            })
            .await
            .and_then(|answered| answered);
        match answer {
            Ok(reachable) => reachable,
            // Another region holds neither instance: that is an answer too.
            Err(ReachabilityError::Domain(DomainError::InstanceNotFound(_))) => false,
            Err(e) => panic!("{e}"),
        }
    }

    async fn set_policy(&self, policy: InnerAccessPolicy) {
        let (account, group) = (self.account.clone(), self.group.clone());
        self.store
            .write(move |tx| {
                security_groups::modify_inner_access_policy(tx, &account, REGION, &group, policy)
            })
            .await
            .expect("modify");
    }
}

#[tokio::test]
async fn a_network_is_compiled_once_until_a_write() {
    let n = net().await;
    let service = n.service(CacheLimits::default());
    assert!(!n.reachable(&service, REGION).await);
    assert!(!n.reachable(&service, REGION).await);
    assert_eq!((service.stats().compiled, service.stats().answered), (1, 2));

    n.set_policy(InnerAccessPolicy::Accept).await;
    assert!(n.reachable(&service, REGION).await, "the write is seen");
    assert!(n.reachable(&service, REGION).await);
    assert_eq!(service.stats().compiled, 2);
}

#[tokio::test]
async fn misses_at_once_compile_once() {
    let n = Arc::new(net().await);
    let service = n.service(CacheLimits::default());
    let asks: Vec<_> = (0..8)
        .map(|_| {
            let (n, service) = (n.clone(), service.clone());
            tokio::spawn(async move { n.reachable(&service, REGION).await })
        })
        .collect();
    for ask in asks {
        assert!(!ask.await.expect("ask"));
    }
    assert_eq!(service.stats().compiled, 1);
}

#[tokio::test]
async fn a_write_vouched_for_keeps_the_network() {
    let n = net().await;
    let service = n.service(CacheLimits::default());
    assert!(!n.reachable(&service, REGION).await);
    // A write that touches nothing of the network (as an analysis record is).
    let before = n
        .store
        .write(|tx| tx.revision())
        .await
        .expect("empty write");
    assert!(
        n.store.revision().await.expect("revision") > before,
        "it bumped the revision"
    );
    service.unchanged_by_write(&n.account, REGION, before);
    assert!(!n.reachable(&service, REGION).await);
    assert_eq!(service.stats().compiled, 1);

    // Vouching for a write that is not the last one keeps nothing.
    let stale = n.store.write(|tx| tx.revision()).await.expect("write");
    n.set_policy(InnerAccessPolicy::Accept).await;
    service.unchanged_by_write(&n.account, REGION, stale);
    assert!(n.reachable(&service, REGION).await);
    assert_eq!(service.stats().compiled, 2);
}

#[tokio::test]
async fn past_its_bound_the_cache_compiles_again() {
    let n = net().await;
    let service = n.service(CacheLimits {
        max_entries: 1,
        max_weight: 1_000,
    });
    for _ in 0..2 {
        n.reachable(&service, REGION).await;
        n.reachable(&service, "cn-beijing").await;
    }
    assert_eq!(
        service.stats().compiled,
        4,
        "one entry: each region evicts the other"
    );
    let roomy = n.service(CacheLimits::default());
    for _ in 0..2 {
        n.reachable(&roomy, REGION).await;
        n.reachable(&roomy, "cn-beijing").await;
    }
    assert_eq!(roomy.stats().compiled, 2);
}
