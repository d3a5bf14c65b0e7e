//! The audit trail: events round-trip, lookups filter and page newest first, accounts are
//! kept apart, purges go by age, and a record written through `write_unrevised` leaves
//! the change revision alone.

use super::{at, read, write};
use crate::audit::{AuditEvent, AuditQuery, AuditResource};
use crate::ids::AccountId;
use crate::store::{Store, StoreError};

fn event(account: &str, n: i64, action: &str, resources: &[&str]) -> AuditEvent {
    AuditEvent {
        seq: 0,
        event_id: format!("ev-{account}-{n}"),
        account_id: AccountId::from(account),
        time: at(n, 250),
        access_key_id: format!("LTAI{account}"),
        source_ip: "192.0.2.7".to_owned(),
        product: "Ecs".to_owned(),
        version: "2014-05-26".to_owned(),
        action: action.to_owned(),
        region_id: "cn-hangzhou".to_owned(),
        request_id: format!("REQ-{n}"),
        parameters: r#"{"SecurityGroupId":"sg-1"}"#.to_owned(),
        resources: resources
            .iter()
            .map(|id| AuditResource {
                id: (*id).to_owned(),
                resource_type: crate::audit::resource_type_of(id)
                    .unwrap_or("ACS::ECS::Unknown")
                    .to_owned(),
            })
            .collect(),
        error_code: (action == "DeleteSecurityGroup").then(|| "DependencyViolation".to_owned()),
        error_message: (action == "DeleteSecurityGroup").then(|| "in use".to_owned()),
    }
}

async fn lookup<S: Store>(store: &S, account: &str, q: AuditQuery) -> Vec<String> {
    let account = AccountId::from(account);
    read(store, move |tx| tx.audit_events(&account, &q))
        .await
        .into_iter()
        .map(|e| e.event_id)
        .collect()
}

pub async fn audit_events<S: Store>(store: S) {
    let events = [
        event("a", 1, "CreateSecurityGroup", &["sg-1", "vpc-1"]),
        event("a", 2, "AuthorizeSecurityGroup", &["sg-1"]),
        event("b", 3, "CreateSecurityGroup", &["sg-1"]),
        event("a", 4, "DeleteSecurityGroup", &["sg-2"]),
    ];
    for e in events.clone() {
        write(&store, move |tx| tx.insert_audit_event(&e)).await;
    }
    let all = |limit| AuditQuery {
        limit,
        ..AuditQuery::default()
    };
    assert_eq!(
        lookup(&store, "a", all(10)).await,
        ["ev-a-4", "ev-a-2", "ev-a-1"],
        "newest first"
    );
    assert_eq!(
        lookup(&store, "b", all(10)).await,
        ["ev-b-3"],
        "accounts apart"
    );
    assert!(lookup(&store, "c", all(10)).await.is_empty());

    // Round trip, every field.
    let account = AccountId::from("a");
    let got = read(&store, move |tx| tx.audit_events(&account, &all(1))).await;
    assert_eq!(got.len(), 1);
    let mut want = events[3].clone();
    want.seq = got[0].seq;
    assert_eq!(got[0], want);

    // Paging: before the last one seen.
    let account = AccountId::from("a");
    let first = read(&store, move |tx| tx.audit_events(&account, &all(2))).await;
    assert_eq!(first.len(), 2);
    let next = AuditQuery {
        before_seq: Some(first[1].seq),
        ..all(2)
    };
    assert_eq!(lookup(&store, "a", next).await, ["ev-a-1"]);

    // Filters.
    let q = |f: fn(&mut AuditQuery)| {
        let mut q = all(10);
        f(&mut q);
        q
    };
    assert_eq!(
        lookup(
            &store,
            "a",
            q(|q| q.event_name = Some("CreateSecurityGroup".into()))
        )
        .await,
        ["ev-a-1"]
    );
    assert_eq!(
        lookup(&store, "a", q(|q| q.resource_id = Some("sg-1".into()))).await,
        ["ev-a-2", "ev-a-1"]
    );
    assert_eq!(
        lookup(
            &store,
            "a",
            q(|q| q.resource_type = Some("ACS::VPC::VPC".into()))
        )
        .await,
        ["ev-a-1"]
    );
    assert_eq!(
        lookup(&store, "a", q(|q| q.access_key_id = Some("LTAIb".into()))).await,
        Vec::<String>::new(),
        "another account's key finds nothing here"
    );
    assert_eq!(
        lookup(
            &store,
            "a",
            q(|q| {
                q.start = Some(at(2, 250));
                q.end = Some(at(4, 249));
            })
        )
        .await,
        ["ev-a-2"],
        "the range includes its ends, to the microsecond"
    );

    // Purge by age, of every account.
    assert_eq!(read(&store, |tx| tx.count_audit_events()).await, 4);
    let purged = write(&store, |tx| tx.purge_audit_events(at(3, 250))).await;
    assert_eq!(purged, 2);
    assert_eq!(lookup(&store, "a", all(10)).await, ["ev-a-4"]);
    assert_eq!(lookup(&store, "b", all(10)).await, ["ev-b-3"]);
    assert!(
        lookup(&store, "a", q(|q| q.resource_id = Some("sg-1".into())))
            .await
            .is_empty(),
        "the purged events' resources went with them"
    );
}

pub async fn audit_records_leave_the_revision<S: Store>(store: S) {
    let before = store.revision().await.expect("revision");
    let e = event("a", 1, "DeleteSecurityGroup", &["sg-9"]);
    store
        .write_unrevised(move |tx| tx.insert_audit_event(&e))
        .await
        .map_err(|e: StoreError| e)
        .expect("recorded");
    assert_eq!(store.revision().await.expect("revision"), before);
    assert_eq!(
        lookup(
            &store,
            "a",
            AuditQuery {
                limit: 5,
                ..AuditQuery::default()
            }
        )
        .await,
        ["ev-a-1"],
        "recorded durably all the same"
    );
    // A failed record leaves nothing.
    let e = event("a", 2, "DeleteSecurityGroup", &[]);
    let failed: Result<(), StoreError> = store
        .write_unrevised(move |tx| {
            tx.insert_audit_event(&e)?;
            Err(StoreError::Other("refused".into()))
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(read(&store, |tx| tx.count_audit_events()).await, 1);
    assert_eq!(store.revision().await.expect("revision"), before);
}
