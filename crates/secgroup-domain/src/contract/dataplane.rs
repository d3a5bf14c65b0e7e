//! The data plane's reads across accounts, and agents' reports: recorded and replaced
//! without increasing the revision, read back exactly, forgotten when an agent stops.

use std::collections::BTreeMap;

use super::instances::instance;
use super::{at, read, write};
use crate::ids::AccountId;
use crate::model::{AgentReport, AgentStatus};
use crate::store::Store;

fn status(agent: &str, revision: u64, counts: &[(&str, u64)], error: &str) -> AgentStatus {
    AgentStatus {
        agent_id: agent.to_owned(),
        host: format!("host-{agent}"),
        underlay_address: if revision.is_multiple_of(2) {
            String::new()
        } else {
            format!("192.0.2.{revision}")
        },
        applied_revision: revision,
        last_applied_time: (revision > 0).then(|| at(revision as i64, 250_000)),
        instance_counts: counts
            .iter()
            .map(|(a, n)| ((*a).to_owned(), *n))
            .collect::<BTreeMap<_, _>>(),
        last_error: error.to_owned(),
        updated_at: at(100 + revision as i64, 1),
    }
}

/// A report is kept exactly, replaced by the agent's next one, listed by agent id, and
/// forgotten when the agent stops; none of it moves the revision. In a write closure,
/// `put_agent_status` is an ordinary write (it bumps as every write does).
pub async fn agent_statuses_round_trip<S: Store>(store: S) {
    let r0 = store.revision().await.expect("revision");
    assert!(read(&store, |tx| tx.agent_statuses()).await.is_empty());

    let first = status("b-agent", 0, &[], "");
    store
        .record_agent_status(AgentReport::Status(first.clone()))
        .await
        .expect("record");
    let second = status(
        "a-agent",
        7,
        &[("acct-1", 3), ("acct-2", 1)],
        "secgroup-vpc-1: nft said no",
    );
    store
        .record_agent_status(AgentReport::Status(second.clone()))
        .await
        .expect("record");
    assert_eq!(
        read(&store, |tx| tx.agent_statuses()).await,
        vec![second.clone(), first.clone()],
        "round trip, by agent id"
    );
    let replaced = status("b-agent", 9, &[("acct-1", 2)], "");
    store
        .record_agent_status(AgentReport::Status(replaced.clone()))
        .await
        .expect("record");
    assert_eq!(
        read(&store, |tx| tx.agent_statuses()).await,
        vec![second.clone(), replaced],
        "one row per agent, replaced"
    );
    assert_eq!(
        store.revision().await.expect("revision"),
        r0,
        "reports do not move the revision"
    );

    store
        .record_agent_status(AgentReport::Stopped {
            agent_id: "b-agent".to_owned(),
        })
        .await
        .expect("stopped");
    store
        .record_agent_status(AgentReport::Stopped {
            agent_id: "never-was".to_owned(),
        })
        .await
        .expect("stopping an unknown agent is nothing");
    assert_eq!(
        read(&store, |tx| tx.agent_statuses()).await,
        vec![second.clone()]
    );
    assert_eq!(store.revision().await.expect("revision"), r0);

    // Through a write closure it is an ordinary write.
    let third = status("c-agent", 1, &[], "");
    let put = third.clone();
    write(&store, move |tx| tx.put_agent_status(&put)).await;
    assert_eq!(store.revision().await.expect("revision"), r0 + 1);
    assert!(write(&store, |tx| tx.delete_agent_status("c-agent")).await);
    assert!(!write(&store, |tx| tx.delete_agent_status("c-agent")).await);
}

/// Every (account, region) with an instance, of every account, sorted, each once; a
/// region whose last instance went is no longer listed.
pub async fn instance_regions_span_accounts<S: Store>(store: S) {
    assert!(read(&store, |tx| tx.instance_regions()).await.is_empty());
    let placed = [
        instance(
            "acct-2",
            "cn-hangzhou",
            "i-1",
            "vsw-a",
            "10.0.0.1",
            &["sg-a"],
        ),
        instance(
            "acct-1",
            "cn-hangzhou",
            "i-2",
            "vsw-b",
            "10.0.0.2",
            &["sg-b"],
        ),
        instance(
            "acct-1",
            "cn-hangzhou",
            "i-3",
            "vsw-b",
            "10.0.0.3",
            &["sg-b"],
        ),
        instance(
            "acct-1",
            "cn-beijing",
            "i-4",
            "vsw-c",
            "10.0.0.4",
            &["sg-c"],
        ),
    ];
    for i in placed {
        write(&store, move |tx| tx.insert_instance(&i)).await;
    }
    let pairs = |v: Vec<(AccountId, String)>| -> Vec<(String, String)> {
        v.into_iter()
            .map(|(a, r)| (a.as_str().to_owned(), r))
            .collect()
    };
    let expect = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(a, r)| ((*a).to_owned(), (*r).to_owned()))
            .collect()
    };
    assert_eq!(
        pairs(read(&store, |tx| tx.instance_regions()).await),
        expect(&[
            ("acct-1", "cn-beijing"),
            ("acct-1", "cn-hangzhou"),
            ("acct-2", "cn-hangzhou")
        ])
    );
    write(&store, |tx| {
        tx.delete_instance(
            &AccountId::from("acct-1"),
            &crate::ids::InstanceId::from("i-4"),
        )
    })
    .await;
    assert_eq!(
        pairs(read(&store, |tx| tx.instance_regions()).await),
        expect(&[("acct-1", "cn-hangzhou"), ("acct-2", "cn-hangzhou")])
    );
}
