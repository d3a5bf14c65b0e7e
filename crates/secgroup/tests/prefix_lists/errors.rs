//! Every producible error row of docs/ecs.md §6.2–§6.7, table-driven, through the real HTTP
//! server; and proof that a refused request changed nothing.

use secgroup::Settings;
use secgroup_domain::ops::Limits;
use serde_json::Value;

use super::{attributes, body, create_list, listed, outcome, pairs};
use crate::common::{TestClient, TestServer};

/// Action, parameters (`{pl}`: an IPv4 list, MaxEntries 2, holding `10.0.0.0/8`), status, code.
#[rustfmt::skip]
type Row = (&'static str, &'static [(&'static str, &'static str)], u16, &'static str);

/// The same with built parameters.
type OwnedRow = (&'static str, Vec<(String, String)>, u16, &'static str);

#[rustfmt::skip]
const ROWS: &[Row] = &[
    ("CreatePrefixList", &[("MaxEntries", "5"), ("PrefixListName", "ok-name")], 400, "MissingAddressFamily"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("PrefixListName", "ok-name")], 400, "MissingMaxEntries"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5")], 400, "MissingPrefixListName"),
    ("CreatePrefixList", &[("RegionId", ""), ("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "ok-name")], 400, "MissingRegionId"),
    ("CreatePrefixList", &[("AddressFamily", "ipv4"), ("MaxEntries", "5"), ("PrefixListName", "ok-name")], 400, "InvalidParameter.AddressFamily"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "0"), ("PrefixListName", "ok-name")], 400, "InvalidParameter"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "201"), ("PrefixListName", "ok-name")], 400, "InvalidParameter"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "ten"), ("PrefixListName", "ok-name")], 400, "InvalidParameter"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "1name")], 400, "InvalidParameter.PrefixListName"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "com.aliyun.x")], 400, "InvalidParameter.PrefixListName"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "a")], 400, "InvalidParameter.PrefixListName"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "ok-name"), ("Description", "https://x")], 400, "InvalidDescription.Malformed"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "ok-name"), ("Entry.1.Cidr", "10.0.0.0/8"), ("Entry.1.Description", "x")], 400, "InvalidDescription.Malformed"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "ok-name"), ("ClientToken", "tökén")], 400, "InvalidClientToken.ValueNotSupported"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "ok-name"), ("Entry.1.Cidr", "10.0.0.1/8")], 400, "InvalidParameter.CidrMalformed"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "ok-name"), ("Entry.1.Cidr", "10.0.0.0/33")], 400, "InvalidParameter.CidrMalformed"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "ok-name"), ("Entry.1.Cidr", "2001:db8::/32")], 400, "InvalidParameter.CidrMalformed"),
    ("CreatePrefixList", &[("AddressFamily", "IPv6"), ("MaxEntries", "5"), ("PrefixListName", "ok-name"), ("Entry.1.Cidr", "10.0.0.0/8")], 400, "InvalidParameter.CidrMalformed"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "ok-name"), ("Entry.1.Cidr", "10.0.0.1"), ("Entry.2.Cidr", "10.0.0.1/32")], 400, "InvalidParameter.CidrDuplicated"),
    ("CreatePrefixList", &[("AddressFamily", "IPv6"), ("MaxEntries", "5"), ("PrefixListName", "ok-name"), ("Entry.1.Cidr", "2001:fd01:0:0:0:0:0:0/32"), ("Entry.2.Cidr", "2001:FD01::/32")], 400, "InvalidParameter.CidrDuplicated"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "ok-name"), ("Entry.1.Description", "no block")], 400, "MissingParameter"),
    ("CreatePrefixList", &[("AddressFamily", "IPv4"), ("MaxEntries", "1"), ("PrefixListName", "ok-name"), ("Entry.1.Cidr", "10.0.0.0/8"), ("Entry.2.Cidr", "11.0.0.0/8")], 400, "LimitExceed.MaxEntries"),
    ("CreatePrefixList", &[("RegionId", "xx-nowhere-1"), ("AddressFamily", "IPv4"), ("MaxEntries", "5"), ("PrefixListName", "ok-name")], 404, "InvalidRegionId.NotFound"),
    ("DescribePrefixLists", &[("MaxResults", "0")], 400, "InvalidParameter"),
    ("DescribePrefixLists", &[("MaxResults", "101")], 400, "InvalidParameter"),
    ("DescribePrefixLists", &[("NextToken", "not-a-token")], 400, "InvalidParameter"),
    ("DescribePrefixLists", &[("AddressFamily", "IPv5")], 400, "InvalidParameter"),
    ("DescribePrefixLists", &[("RegionId", "xx-nowhere-1")], 404, "InvalidRegionId.NotFound"),
    ("DescribePrefixListAttributes", &[("PrefixListId", "pl-doesnotexist0000000")], 404, "InvalidPrefixListId.NotFound"),
    ("DescribePrefixListAttributes", &[], 400, "MissingPrefixListId"),
    ("DescribePrefixListAttributes", &[("RegionId", "xx-nowhere-1"), ("PrefixListId", "{pl}")], 404, "InvalidRegionId.NotFound"),
    ("DescribePrefixListAttributes", &[("RegionId", "cn-shanghai"), ("PrefixListId", "{pl}")], 404, "InvalidPrefixListId.NotFound"),
    ("ModifyPrefixList", &[("PrefixListName", "new-name")], 400, "MissingPrefixListId"),
    ("ModifyPrefixList", &[("PrefixListId", "{pl}"), ("PrefixListName", "-bad")], 400, "InvalidParameter.PrefixListName"),
    ("ModifyPrefixList", &[("PrefixListId", "{pl}"), ("Description", "h")], 400, "InvalidDescription.Malformed"),
    ("ModifyPrefixList", &[("PrefixListId", "{pl}"), ("AddEntry.1.Cidr", "11.0.0.0/8"), ("AddEntry.1.Description", "http://x")], 400, "InvalidDescription.Malformed"),
    ("ModifyPrefixList", &[("PrefixListId", "{pl}"), ("AddEntry.1.Cidr", "11.0.0.1"), ("AddEntry.2.Cidr", "11.0.0.1/32")], 400, "InvalidParameter.CidrDuplicated"),
    ("ModifyPrefixList", &[("PrefixListId", "{pl}"), ("RemoveEntry.1.Cidr", "10.0.0.0/8"), ("RemoveEntry.2.Cidr", "10.0.0.0/8")], 400, "InvalidParameter.CidrDuplicated"),
    ("ModifyPrefixList", &[("PrefixListId", "{pl}"), ("AddEntry.1.Cidr", "11.0.0.1/8")], 400, "InvalidParameter.CidrMalformed"),
    ("ModifyPrefixList", &[("PrefixListId", "{pl}"), ("AddEntry.1.Cidr", "2001:db8::/32")], 400, "InvalidParameter.CidrMalformed"),
    ("ModifyPrefixList", &[("PrefixListId", "{pl}"), ("RemoveEntry.1.Cidr", "garbage")], 400, "InvalidParameter.CidrMalformed"),
    ("ModifyPrefixList", &[("PrefixListId", "{pl}"), ("AddEntry.1.Description", "no block")], 400, "MissingParameter"),
    ("ModifyPrefixList", &[("PrefixListId", "{pl}"), ("AddEntry.1.Cidr", "11.0.0.0/8"), ("AddEntry.2.Cidr", "12.0.0.0/8")], 400, "LimitExceed.MaxEntries"),
    ("ModifyPrefixList", &[("PrefixListId", "pl-doesnotexist0000000"), ("PrefixListName", "new-name")], 404, "InvalidPrefixListId.NotFound"),
    ("ModifyPrefixList", &[("RegionId", "xx-nowhere-1"), ("PrefixListId", "{pl}")], 404, "InvalidRegionId.NotFound"),
    ("DeletePrefixList", &[("PrefixListId", "pl-doesnotexist0000000")], 404, "InvalidPrefixListId.NotFound"),
    ("DeletePrefixList", &[], 400, "MissingPrefixListId"),
    ("DeletePrefixList", &[("RegionId", "xx-nowhere-1"), ("PrefixListId", "{pl}")], 404, "InvalidRegionId.NotFound"),
    ("DescribePrefixListAssociations", &[("PrefixListId", "pl-doesnotexist0000000")], 404, "InvalidPrefixListId.NotFound"),
    ("DescribePrefixListAssociations", &[("PrefixListId", "{pl}"), ("MaxResults", "101")], 400, "InvalidParameter"),
    ("DescribePrefixListAssociations", &[("PrefixListId", "{pl}"), ("NextToken", "zz")], 400, "InvalidParameter"),
    ("DescribePrefixListAssociations", &[], 400, "MissingPrefixListId"),
    ("DescribePrefixListAssociations", &[("RegionId", "xx-nowhere-1"), ("PrefixListId", "{pl}")], 404, "InvalidRegionId.NotFound"),
];

/// What the account can see of its lists, to prove refusals change nothing.
async fn state(c: &TestClient) -> Value {
    let mut out = vec![body(c, "DescribePrefixLists", &[("MaxResults", "100")]).await];
    for id in listed(c, &[("MaxResults", "100")]).await {
        out.push(attributes(c, &id).await);
    }
    Value::Array(out)
}

#[tokio::test]
async fn every_error_row_answers_its_code_and_status() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let pl = create_list(&c, &[("MaxEntries", "2"), ("Entry.1.Cidr", "10.0.0.0/8")]).await;
    let before = state(&c).await;
    let mut rows: Vec<OwnedRow> = ROWS
        .iter()
        .map(|(a, p, s, code)| {
            (
                *a,
                p.iter()
                    .map(|(k, v)| (k.to_string(), v.replace("{pl}", &pl)))
                    .collect(),
                *s,
                *code,
            )
        })
        .collect();
    // Rows whose parameters are built: 201 entries in one request, 101 ids.
    let blocks = |name: &'static str| {
        (0..201).map(move |i| (format!("{name}.{}.Cidr", i + 1), format!("10.0.{i}.0/24")))
    };
    let create = [
        ("AddressFamily", "IPv4"),
        ("MaxEntries", "200"),
        ("PrefixListName", "big"),
    ];
    rows.push((
        "CreatePrefixList",
        pairs(&create).into_iter().chain(blocks("Entry")).collect(),
        400,
        "LimitExceed.Entry",
    ));
    rows.push((
        "ModifyPrefixList",
        pairs(&[("PrefixListId", &pl)])
            .into_iter()
            .chain(blocks("AddEntry"))
            .collect(),
        400,
        "LimitExceed.Entry",
    ));
    let many = (1..=101)
        .map(|i| (format!("PrefixListId.{i}"), format!("pl-{i:020}")))
        .collect();
    rows.push(("DescribePrefixLists", many, 400, "LimitExceed.PrefixListId"));

    let mut failures = Vec::new();
    for (action, params, status, code) in &rows {
        let params: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let r = c.call(action, &params).await;
        let j = r.json();
        let ok = r.status == *status
            && j["Code"] == *code
            && j["Message"].as_str().is_some_and(|m| !m.is_empty())
            && j["RequestId"].is_string();
        if !ok {
            let shown: Vec<_> = params.iter().take(6).collect();
            failures.push(format!(
                "{action} {shown:?}: want {status} {code}, got {} {}",
                r.status, r.body
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        state(&c).await,
        before,
        "a refused request changed stored state"
    );
}

/// The quota is `Limits::prefix_lists_per_region` (100 unless the operator says otherwise).
#[tokio::test]
async fn quota_of_prefix_lists_per_region() {
    assert_eq!(Limits::default().prefix_lists_per_region, 100);
    let mut settings = Settings::default();
    settings.products.limits.prefix_lists_per_region = 3;
    let server = TestServer::start_with(settings).await;
    let c = server.new_account().await;
    for i in 0..3 {
        create_list(&c, &[("PrefixListName", &format!("q{i}"))]).await;
    }
    let one_more = [
        ("AddressFamily", "IPv4"),
        ("MaxEntries", "5"),
        ("PrefixListName", "over"),
    ];
    let refused = outcome(&c, "CreatePrefixList", &one_more).await;
    assert_eq!(refused, (404, "LimitExceed.PrefixListPerRegion".into()));
    assert_eq!(listed(&c, &[]).await.len(), 3);
    create_list(&c, &[("RegionId", "cn-shanghai")]).await;
}
