//! The audit trail through the real server: a change is recorded with it, a refused change
//! after its rollback (leaving the revision), a read not at all.

mod common;

use common::{TestClient, TestServer};
use secgroup_domain::audit::{AuditEvent, AuditQuery};
use secgroup_domain::ids::AccountId;
use secgroup_domain::{DomainError, Store};
use serde_json::Value;

async fn events(server: &TestServer, c: &TestClient) -> Vec<AuditEvent> {
    let key = c.key_id.clone();
    let account = server
        .store
        .read(move |tx| Ok::<_, DomainError>(tx.access_key(&key)?))
        .await
        .expect("read")
        .expect("key")
        .account_id;
    let account = AccountId::new(account);
    server
        .store
        .read(move |tx| {
            Ok::<_, DomainError>(tx.audit_events(
                &account,
                &AuditQuery {
                    limit: 100,
                    ..AuditQuery::default()
                },
            )?)
        })
        .await
        .expect("events")
}

#[tokio::test]
async fn changes_and_refusals_are_recorded_reads_are_not() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let other = server.new_account().await;

    let vpc = c
        .call_vpc("CreateVpc", &[("CidrBlock", "10.0.0.0/8")])
        .await;
    assert_eq!(vpc.status, 200, "{}", vpc.body);
    let vpc_id = vpc.json()["VpcId"].as_str().expect("VpcId").to_string();
    let request_id = vpc.json()["RequestId"]
        .as_str()
        .expect("RequestId")
        .to_string();
    let sg = c
        .call(
            "CreateSecurityGroup",
            &[("VpcId", &vpc_id), ("SecurityGroupName", "web")],
        )
        .await;
    assert_eq!(sg.status, 200, "{}", sg.body);
    let sg_id = sg.json()["SecurityGroupId"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(c.call("DescribeSecurityGroups", &[]).await.status, 200);
    let revision = server.store.revision().await.expect("revision");
    let refused = c.call_vpc("DeleteVpc", &[("VpcId", &vpc_id)]).await;
    assert_ne!(
        refused.status, 200,
        "a VPC with a group cannot go: {}",
        refused.body
    );
    let bad = c
        .call(
            "AuthorizeSecurityGroup",
            &[("SecurityGroupId", &sg_id), ("IpProtocol", "nonsense")],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(
        server.store.revision().await.expect("revision"),
        revision,
        "recording refusals is no change of state"
    );

    let got = events(&server, &c).await;
    let actions: Vec<&str> = got.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "AuthorizeSecurityGroup",
            "DeleteVpc",
            "CreateSecurityGroup",
            "CreateVpc"
        ],
        "newest first; no read"
    );
    let create = &got[3];
    assert_eq!(create.event_id, request_id);
    assert_eq!(create.request_id, request_id);
    assert_eq!(create.product, "Vpc");
    assert_eq!(create.version, "2016-04-28");
    assert_eq!(create.access_key_id, c.key_id);
    assert_eq!(create.source_ip, "127.0.0.1");
    assert_eq!(create.region_id, "cn-hangzhou");
    assert_eq!(create.error_code, None);
    assert_eq!(create.resources[0].id, vpc_id, "what it made");
    assert_eq!(create.resources[0].resource_type, "ACS::VPC::VPC");
    let params: Value = serde_json::from_str(&create.parameters).expect("json");
    assert_eq!(params["CidrBlock"], "10.0.0.0/8");
    for secret in ["Signature", "SignatureNonce", "AccessKeyId", "Timestamp"] {
        assert!(params.get(secret).is_none(), "{secret} recorded: {params}");
    }
    let group = &got[2];
    let ids: Vec<&str> = group.resources.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [vpc_id.as_str(), sg_id.as_str()]);
    assert_eq!(got[1].error_code.as_deref(), Some(refused.code().as_str()));
    assert_eq!(got[0].error_code.as_deref(), Some(bad.code().as_str()));
    assert!(got[1].error_message.is_some());

    assert!(events(&server, &other).await.is_empty(), "accounts apart");
}

/// `serve --audit-retention-days 0`: no audit trail at all, neither of changes nor of
/// refusals, and the writes themselves work as ever.
#[tokio::test]
async fn retention_zero_writes_no_trail() {
    let mut settings = secgroup::Settings::default();
    settings.products.audit_retention = None;
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    let sg_id = common::create_group(&c, &[]).await;
    let policy = c
        .call(
            "ModifySecurityGroupPolicy",
            &[("SecurityGroupId", &sg_id), ("InnerAccessPolicy", "Drop")],
        )
        .await;
    assert_eq!(policy.status, 200, "{}", policy.body);
    let bad = c
        .call(
            "AuthorizeSecurityGroup",
            &[("SecurityGroupId", &sg_id), ("IpProtocol", "nonsense")],
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(events(&server, &c).await.is_empty());
    assert_eq!(
        server
            .store
            .read(|tx| Ok::<_, DomainError>(tx.count_audit_events()?))
            .await
            .expect("count"),
        0
    );
}
