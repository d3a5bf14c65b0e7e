//! ECS prefix lists end to end (docs/ecs.md §6). The error rows, table-driven, are in
//! `prefix_lists/errors.rs`; here the functional behaviour: normalisation, filters, paging, modify semantics (including
//! Terraform's remove+add of the same block), ClientToken, delete, quota and associations.

mod common;
#[path = "prefix_lists/errors.rs"]
mod errors;

use common::{create_group, TestClient, TestServer};
use serde_json::{json, Value};

/// Request parameters.
type Params<'a> = &'a [(&'a str, &'a str)];

/// Creates a list and returns its id; `extra` may override the defaults.
async fn create_list(c: &TestClient, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("AddressFamily", "IPv4"),
        ("MaxEntries", "10"),
        ("PrefixListName", "pl-test"),
    ];
    params.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    params.extend_from_slice(extra);
    let r = c.call("CreatePrefixList", &params).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["PrefixListId"].as_str().expect("id").to_string()
}

/// A successful call's body without its `RequestId`.
async fn body(c: &TestClient, action: &str, params: &[(&str, &str)]) -> Value {
    let r = c.call(action, params).await;
    assert_eq!(r.status, 200, "{action} {params:?}: {}", r.body);
    let mut v = r.json();
    assert!(v["RequestId"].is_string(), "{v}");
    v.as_object_mut().map(|o| o.remove("RequestId"));
    v
}

/// (status, Code) of a call.
async fn outcome(c: &TestClient, action: &str, params: &[(&str, &str)]) -> (u16, String) {
    let r = c.call(action, params).await;
    let code = if r.status == 200 {
        String::new()
    } else {
        r.code()
    };
    (r.status, code)
}

async fn attributes(c: &TestClient, id: &str) -> Value {
    body(c, "DescribePrefixListAttributes", &[("PrefixListId", id)]).await
}

/// `Cidr` → `Description` of each entry, in order.
fn entries(attr: &Value) -> Vec<(String, String)> {
    let list = attr["Entries"]["Entry"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    list.iter()
        .map(|e| (text(&e["Cidr"]), text(&e["Description"])))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Ids of `DescribePrefixLists` with these parameters (one page).
async fn listed(c: &TestClient, params: &[(&str, &str)]) -> Vec<String> {
    let v = body(c, "DescribePrefixLists", params).await;
    let lists = v["PrefixLists"]["PrefixList"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    lists
        .iter()
        .map(|l| l["PrefixListId"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Every item of a `NextToken`-paged listing, walking pages of `MaxResults=2`.
async fn walk(
    c: &TestClient,
    action: &str,
    params: &[(&str, &str)],
    list: &str,
    item: &str,
) -> Vec<Value> {
    let (mut out, mut token) = (Vec::new(), String::new());
    loop {
        let mut all = params.to_vec();
        all.push(("MaxResults", "2"));
        if !token.is_empty() {
            all.push(("NextToken", &token));
        }
        let page = body(c, action, &all).await;
        let items = page[list][item].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= 2, "{page}");
        out.extend(items);
        token = page["NextToken"]
            .as_str()
            .expect("NextToken is a string")
            .to_string();
        if token.is_empty() {
            return out;
        }
    }
}

#[tokio::test]
async fn create_normalises_blocks_and_describes_both_ways() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let v4 = create_list(
        &c,
        &[
            ("PrefixListName", "office"),
            ("Description", "the office"),
            ("ResourceGroupId", "rg-1"),
            ("Entry.0.Cidr", "192.168.1.7"),
            ("Entry.0.Description", "printer"),
            ("Entry.1.Cidr", "10.0.0.0/8"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
        ],
    )
    .await;
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    assert!(
        v4.len() == 23 && v4.starts_with("pl-") && v4[3..].bytes().all(alnum),
        "{v4}"
    );
    let v6_block = ("Entry.1.Cidr", "2001:0DB8:0000:0000:0000:0000:0000:0000/32");
    let v6 = create_list(
        &c,
        &[
            ("AddressFamily", "IPv6"),
            ("PrefixListName", "v6"),
            v6_block,
        ],
    )
    .await;

    let mut attr = attributes(&c, &v4).await;
    let created = attr
        .as_object_mut()
        .and_then(|o| o.remove("CreationTime"))
        .unwrap_or_default();
    assert!(
        created
            .as_str()
            .is_some_and(|t| t.len() == 20 && t.ends_with('Z')),
        "{created}"
    );
    let want = json!({
        "PrefixListId": v4, "PrefixListName": "office", "Description": "the office",
        "AddressFamily": "IPv4", "MaxEntries": 10,
        "Entries": {"Entry": [{"Cidr": "192.168.1.7/32", "Description": "printer"},
                              {"Cidr": "10.0.0.0/8", "Description": ""}]},
    });
    assert_eq!(attr, want);
    assert_eq!(
        entries(&attributes(&c, &v6).await),
        pairs(&[("2001:db8::/32", "")])
    );

    let all = body(&c, "DescribePrefixLists", &[]).await;
    assert_eq!(all["NextToken"], "");
    let summary = json!({
        "PrefixListId": v4, "PrefixListName": "office", "Description": "the office",
        "AddressFamily": "IPv4", "MaxEntries": 10, "AssociationCount": 0,
        "CreationTime": created, "ResourceGroupId": "rg-1",
        "Tags": {"Tag": [{"TagKey": "env", "TagValue": "prod"}]},
    });
    assert_eq!(all["PrefixLists"]["PrefixList"][0], summary);
    assert_eq!(
        all["PrefixLists"]["PrefixList"][1]["Tags"],
        json!({"Tag": []})
    );
    assert_eq!(listed(&c, &[]).await, [v4.as_str(), &v6], "oldest first");

    // Filters AND together; unknown ids are simply absent.
    let (a, b) = (v4.as_str(), v6.as_str());
    let filters: &[(Params, &[&str])] = &[
        (&[("AddressFamily", "IPv6")], &[b]),
        (&[("PrefixListName", "office")], &[a]),
        (&[("PrefixListName", "offic")], &[]),
        (&[("ResourceGroupId", "rg-1")], &[a]),
        (&[("Tag.1.Key", "env")], &[a]),
        (&[("Tag.1.Key", "env"), ("Tag.1.Value", "dev")], &[]),
        (
            &[("PrefixListId.1", b), ("PrefixListId.2", "pl-unknown")],
            &[b],
        ),
        (&[("PrefixListId.1", b), ("AddressFamily", "IPv4")], &[]),
        (&[("RegionId", "cn-shanghai")], &[]),
    ];
    for (params, want) in filters {
        assert_eq!(listed(&c, params).await, *want, "{params:?}");
    }

    // Another account sees nothing.
    let other = server.new_account().await;
    assert!(listed(&other, &[]).await.is_empty());
    let read = [("PrefixListId", v4.as_str())];
    let not_found = (404, "InvalidPrefixListId.NotFound".to_string());
    assert_eq!(
        outcome(&other, "DescribePrefixListAttributes", &read).await,
        not_found
    );
    assert_eq!(outcome(&other, "DeletePrefixList", &read).await, not_found);
}

#[tokio::test]
async fn describe_pages_with_next_token() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let mut made = Vec::new();
    for i in 0..11 {
        made.push(create_list(&c, &[("PrefixListName", &format!("page{i}"))]).await);
    }
    let seen = walk(&c, "DescribePrefixLists", &[], "PrefixLists", "PrefixList").await;
    let seen: Vec<&str> = seen
        .iter()
        .map(|l| l["PrefixListId"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(seen, made);
    let first = body(&c, "DescribePrefixLists", &[]).await;
    assert_eq!(
        first["PrefixLists"]["PrefixList"].as_array().map(Vec::len),
        Some(10),
        "default MaxResults"
    );
    assert_ne!(first["NextToken"], "");
}

#[tokio::test]
async fn modify_removes_then_adds_and_keeps_within_max_entries() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let initial = [
        ("MaxEntries", "3"),
        ("Entry.1.Cidr", "10.0.0.0/8"),
        ("Entry.1.Description", "old"),
        ("Entry.2.Cidr", "11.0.0.0/8"),
    ];
    let pl = create_list(&c, &initial).await;
    let modify = |params: &[(&'static str, &'static str)]| {
        let mut all = vec![("PrefixListId", pl.clone())];
        all.extend(params.iter().map(|(k, v)| (*k, v.to_string())));
        let c = c.clone();
        async move {
            let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
            outcome(&c, "ModifyPrefixList", &all).await
        }
    };
    let ok = (200, String::new());
    // Terraform changes a description by removing and adding the same block: it ends up last.
    let same = [
        ("RemoveEntry.1.Cidr", "10.0.0.0/8"),
        ("AddEntry.1.Cidr", "10.0.0.0/8"),
        ("AddEntry.1.Description", "new"),
    ];
    assert_eq!(modify(&same).await, ok);
    assert_eq!(
        entries(&attributes(&c, &pl).await),
        pairs(&[("11.0.0.0/8", ""), ("10.0.0.0/8", "new")])
    );
    // Adding a block the list holds (written differently) updates it in place; removing an absent block is a no-op.
    let upsert = [
        ("AddEntry.1.Cidr", "11.0.0.0/8"),
        ("AddEntry.1.Description", "eleven"),
        ("RemoveEntry.1.Cidr", "99.0.0.0/8"),
    ];
    assert_eq!(modify(&upsert).await, ok);
    assert_eq!(
        entries(&attributes(&c, &pl).await),
        pairs(&[("11.0.0.0/8", "eleven"), ("10.0.0.0/8", "new")])
    );
    // Full list: a removal makes room for an add in the same call; one more is refused.
    assert_eq!(modify(&[("AddEntry.1.Cidr", "12.0.0.1")]).await, ok);
    assert_eq!(
        modify(&[
            ("RemoveEntry.1.Cidr", "12.0.0.1/32"),
            ("AddEntry.1.Cidr", "13.0.0.0/8")
        ])
        .await,
        ok
    );
    assert_eq!(
        modify(&[("AddEntry.1.Cidr", "14.0.0.0/8")]).await,
        (400, "LimitExceed.MaxEntries".into())
    );
    let blocks: Vec<String> = entries(&attributes(&c, &pl).await)
        .into_iter()
        .map(|(b, _)| b)
        .collect();
    assert_eq!(blocks, ["11.0.0.0/8", "10.0.0.0/8", "13.0.0.0/8"]);
    // Name and description; an empty description clears it, an empty name is ignored.
    assert_eq!(
        modify(&[("PrefixListName", "renamed"), ("Description", "described")]).await,
        ok
    );
    let attr = attributes(&c, &pl).await;
    assert_eq!(
        (&attr["PrefixListName"], &attr["Description"]),
        (&json!("renamed"), &json!("described"))
    );
    assert_eq!(
        modify(&[("PrefixListName", ""), ("Description", "")]).await,
        ok
    );
    let attr = attributes(&c, &pl).await;
    assert_eq!(
        (&attr["PrefixListName"], &attr["Description"]),
        (&json!("renamed"), &json!(""))
    );
    assert_eq!(attr["MaxEntries"], 3, "fixed at creation");
}

#[tokio::test]
async fn client_token_replays_create_and_refuses_changed_parameters() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let first = create_list(&c, &[("ClientToken", "tok-1"), ("PrefixListName", "once")]).await;
    let again = create_list(&c, &[("ClientToken", "tok-1"), ("PrefixListName", "once")]).await;
    assert_eq!(first, again);
    assert_eq!(listed(&c, &[]).await, [first]);
    let changed = [
        ("ClientToken", "tok-1"),
        ("AddressFamily", "IPv4"),
        ("MaxEntries", "10"),
        ("PrefixListName", "twice"),
    ];
    let refused = outcome(&c, "CreatePrefixList", &changed).await;
    assert_eq!(refused, (400, "IdempotentParameterMismatch".into()));
}

#[tokio::test]
async fn delete_removes_the_list_and_its_tags() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let pl = create_list(&c, &[("Tag.1.Key", "team"), ("Tag.1.Value", "net")]).await;
    let by_tag = [("ResourceType", "prefixlist"), ("Tag.1.Key", "team")];
    let tagged = body(&c, "ListTagResources", &by_tag).await;
    assert_eq!(
        tagged["TagResources"]["TagResource"][0]["ResourceId"], pl,
        "{tagged}"
    );
    assert_eq!(
        body(&c, "DeletePrefixList", &[("PrefixListId", &pl)]).await,
        json!({})
    );
    let again = outcome(&c, "DeletePrefixList", &[("PrefixListId", &pl)]).await;
    assert_eq!(again, (404, "InvalidPrefixListId.NotFound".into()));
    assert_eq!(listed(&c, &[]).await, Vec::<String>::new());
    let tagged = body(&c, "ListTagResources", &by_tag).await;
    assert_eq!(tagged["TagResources"]["TagResource"], json!([]), "{tagged}");
}

/// Needs the rules feature: `AuthorizeSecurityGroup` with `Permissions.1.SourcePrefixListId`.
#[tokio::test]
async fn associations_via_authorize_security_group_block_delete() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let pl = create_list(&c, &[("Entry.1.Cidr", "10.0.0.0/8")]).await;
    let by_pl = [("PrefixListId", pl.as_str())];
    let empty = body(&c, "DescribePrefixListAssociations", &by_pl).await;
    assert_eq!(
        empty,
        json!({"NextToken": "", "PrefixListAssociations": {"PrefixListAssociation": []}})
    );
    let mut groups = Vec::new();
    for port in ["22/22", "80/80", "443/443"] {
        let sg = create_group(&c, &[]).await;
        // Two rules in the same group still make one association.
        for range in [port, "8080/8080"] {
            let rule = [
                ("SecurityGroupId", sg.as_str()),
                ("Permissions.1.IpProtocol", "tcp"),
                ("Permissions.1.PortRange", range),
                ("Permissions.1.SourcePrefixListId", &pl),
            ];
            body(&c, "AuthorizeSecurityGroup", &rule).await;
        }
        groups.push(json!({"ResourceId": sg, "ResourceType": "securitygroup"}));
    }
    groups.sort_by_key(|g| g["ResourceId"].to_string());
    let described = body(&c, "DescribePrefixLists", &[("PrefixListId.1", &pl)]).await;
    assert_eq!(
        described["PrefixLists"]["PrefixList"][0]["AssociationCount"], 3,
        "{described}"
    );
    let seen = walk(
        &c,
        "DescribePrefixListAssociations",
        &by_pl,
        "PrefixListAssociations",
        "PrefixListAssociation",
    )
    .await;
    assert_eq!(seen, groups);
    let refused = outcome(&c, "DeletePrefixList", &by_pl).await;
    assert_eq!(refused, (400, "NotAllowed.AssociationExist".into()));
    for g in &groups {
        body(
            &c,
            "DeleteSecurityGroup",
            &[(
                "SecurityGroupId",
                g["ResourceId"].as_str().unwrap_or_default(),
            )],
        )
        .await;
    }
    body(&c, "DeletePrefixList", &by_pl).await;
}
