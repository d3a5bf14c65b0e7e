//! NIS network paths and analyses: round trip, the database's own refusal of a second path
//! with equal parameters, deletion (with tags), and account isolation.

use super::{at, read, tag, write};
use crate::ids::AccountId;
use crate::model::{ResourceType, Tag};
use crate::nis::{
    AnalysisStatus, EndpointType, NetworkPath, PathProtocol, PathSpec, ReachabilityAnalysis,
};
use crate::store::{Store, StoreError};

fn spec(target_port: u16) -> PathSpec {
    PathSpec {
        source_id: "i-source".into(),
        source_type: EndpointType::Ecs,
        source_ip_address: None,
        source_port: None,
        target_id: "203.0.113.9".into(),
        target_type: EndpointType::InternetIp,
        target_ip_address: Some("203.0.113.9".into()),
        target_port: Some(target_port),
        protocol: PathProtocol::Tcp,
    }
}

fn path(account: &str, id: &str, target_port: u16, secs: i64) -> NetworkPath {
    NetworkPath {
        id: id.into(),
        account_id: account.into(),
        region_id: "cn-hangzhou".into(),
        name: format!("name-{id}"),
        description: format!("about {id}"),
        resource_group_id: "rg-1".into(),
        spec: spec(target_port),
        creation_time: at(secs, 0),
    }
}

fn analysis(account: &str, id: &str, path_id: &str, reachable: bool) -> ReachabilityAnalysis {
    ReachabilityAnalysis {
        id: id.into(),
        account_id: account.into(),
        region_id: "cn-hangzhou".into(),
        network_path_id: path_id.into(),
        spec: spec(22),
        status: AnalysisStatus::Finish,
        reachable,
        result: format!(r#"{{"nraId":"{id}","errorCode":""}}"#),
        creation_time: at(7, 0),
    }
}

async fn insert_path<S: Store>(store: &S, p: &NetworkPath) -> Result<(), StoreError> {
    let p = p.clone();
    store.write(move |tx| tx.insert_network_path(&p)).await
}

async fn path_tags<S: Store>(store: &S, account: &str, id: &str) -> Vec<Tag> {
    let (account, id) = (account.to_owned(), id.to_owned());
    read(store, move |tx| {
        tx.tags(&AccountId::from(&account), ResourceType::NetworkPath, &id)
    })
    .await
}

pub async fn network_paths_round_trip<S: Store>(store: S) {
    let first = path("a", "np-1", 22, 1);
    let second = path("a", "np-2", 443, 2);
    insert_path(&store, &first).await.expect("insert np-1");
    insert_path(&store, &second).await.expect("insert np-2");
    let got = read(&store, |tx| tx.network_path(&AccountId::from("a"), "np-1")).await;
    assert_eq!(got, Some(first.clone()));
    let all = read(&store, |tx| tx.network_paths(&AccountId::from("a"))).await;
    assert_eq!(all, vec![first.clone(), second.clone()], "oldest first");

    // Equal parameters in the same account and region: one path, whatever the name.
    let mut twin = path("a", "np-3", 22, 3);
    twin.name = "another name".into();
    let again = insert_path(&store, &twin).await;
    assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");
    // The same parameters in another region, or of another account, are other paths.
    let mut elsewhere = twin.clone();
    elsewhere.region_id = "cn-shanghai".into();
    insert_path(&store, &elsewhere).await.expect("other region");
    insert_path(&store, &path("b", "np-4", 22, 4))
        .await
        .expect("other account");

    write(&store, |tx| {
        tx.set_tags(
            &AccountId::from("a"),
            ResourceType::NetworkPath,
            "np-1",
            &[tag("k", "v")],
        )
    })
    .await;
    assert_eq!(path_tags(&store, "a", "np-1").await, vec![tag("k", "v")]);
    assert!(
        write(&store, |tx| tx
            .delete_network_path(&AccountId::from("a"), "np-1"))
        .await
    );
    assert!(
        !write(&store, |tx| tx
            .delete_network_path(&AccountId::from("a"), "np-1"))
        .await
    );
    assert!(
        path_tags(&store, "a", "np-1").await.is_empty(),
        "tags go with the path"
    );
    assert_eq!(
        read(&store, |tx| tx.network_path(&AccountId::from("a"), "np-1")).await,
        None
    );
    // Deleting frees its parameters.
    insert_path(&store, &path("a", "np-5", 22, 5))
        .await
        .expect("parameters free again");
}

pub async fn analyses_round_trip<S: Store>(store: S) {
    let denied = analysis("a", "nra-1", "np-1", false);
    let allowed = ReachabilityAnalysis {
        status: AnalysisStatus::Finish,
        ..analysis("a", "nra-2", "", true)
    };
    for a in [&denied, &allowed] {
        let a = a.clone();
        write(&store, move |tx| tx.insert_analysis(&a)).await;
    }
    assert_eq!(
        read(&store, |tx| tx.analysis(&AccountId::from("a"), "nra-1")).await,
        Some(denied)
    );
    assert_eq!(
        read(&store, |tx| tx.analysis(&AccountId::from("a"), "nra-2")).await,
        Some(allowed)
    );
    assert_eq!(
        read(&store, |tx| tx.count_analyses(&AccountId::from("a"))).await,
        2
    );
    assert!(
        write(&store, |tx| tx
            .delete_analysis(&AccountId::from("a"), "nra-1"))
        .await
    );
    assert!(
        !write(&store, |tx| tx
            .delete_analysis(&AccountId::from("a"), "nra-1"))
        .await
    );
    assert_eq!(
        read(&store, |tx| tx.count_analyses(&AccountId::from("a"))).await,
        1
    );
}

pub async fn nis_account_isolation<S: Store>(store: S) {
    insert_path(&store, &path("a", "np-1", 22, 1))
        .await
        .expect("insert");
    let a = analysis("a", "nra-1", "np-1", true);
    write(&store, move |tx| tx.insert_analysis(&a)).await;
    assert_eq!(
        read(&store, |tx| tx.network_path(&AccountId::from("b"), "np-1")).await,
        None
    );
    assert!(read(&store, |tx| tx.network_paths(&AccountId::from("b")))
        .await
        .is_empty());
    assert_eq!(
        read(&store, |tx| tx.analysis(&AccountId::from("b"), "nra-1")).await,
        None
    );
    assert_eq!(
        read(&store, |tx| tx.count_analyses(&AccountId::from("b"))).await,
        0
    );
    assert!(
        !write(&store, |tx| tx
            .delete_network_path(&AccountId::from("b"), "np-1"))
        .await
    );
    assert!(
        !write(&store, |tx| tx
            .delete_analysis(&AccountId::from("b"), "nra-1"))
        .await
    );
    assert!(
        read(&store, |tx| tx.network_path(&AccountId::from("a"), "np-1"))
            .await
            .is_some()
    );
    assert!(
        read(&store, |tx| tx.analysis(&AccountId::from("a"), "nra-1"))
            .await
            .is_some()
    );
}
