//! Every error row of the NIS operations (docs/nis.md §3.1–§3.6), table-driven, and that a
//! refused request stores nothing.

use secgroup::Settings;

use super::common::TestServer;
use super::{nis, ok, Lab};

/// (what, action, parameters, HTTP status, code)
type Row<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, u16, &'a str);

fn path<'a>(
    overrides: &[(&'a str, &'a str)],
    base: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = base
        .iter()
        .filter(|(k, _)| !overrides.iter().any(|(o, _)| o == k))
        .copied()
        .collect();
    out.extend(overrides.iter().filter(|(_, v)| !v.is_empty()).copied());
    out
}

#[tokio::test]
async fn network_path_error_rows() {
    let server = TestServer::start().await;
    let lab = Lab::new(&server).await;
    let g = lab.group("normal", "Accept").await;
    let a = lab.instance(&[&g], Some("10.0.0.20")).await;
    let b = lab.instance(&[&g], None).await;
    let base: Vec<(&str, &str)> = vec![
        ("NetworkPathName", "p"),
        ("SourceId", &a),
        ("SourceType", "ecs"),
        ("TargetId", &b),
        ("TargetType", "ecs"),
        ("Protocol", "tcp"),
        ("TargetPort", "22"),
    ];
    let tags21: Vec<(String, String)> = (1..=21)
        .flat_map(|n| {
            [
                (format!("Tag.{n}.Key"), format!("k{n}")),
                (format!("Tag.{n}.Value"), "v".into()),
            ]
        })
        .collect();
    let tags21: Vec<(&str, &str)> = tags21
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let create = "CreateNetworkPath";
    let one_off = "CreateAndAnalyzeNetworkPath";
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        ("no name", create, path(&[("NetworkPathName", "")], &base), 400, "MissingNetworkPathName"),
        ("no source", create, path(&[("SourceId", "")], &base), 400, "MissingSourceId"),
        ("no source type", create, path(&[("SourceType", "")], &base), 400, "MissingSourceType"),
        ("no target", create, path(&[("TargetId", "")], &base), 400, "MissingTargetId"),
        ("no target type", create, path(&[("TargetType", "")], &base), 400, "MissingTargetType"),
        ("no protocol", create, path(&[("Protocol", "")], &base), 400, "MissingProtocol"),
        ("bad source type", create, path(&[("SourceType", "ECS2")], &base), 400, "IllegalParam.SourceType"),
        ("clb as source", create, path(&[("SourceType", "clb")], &base), 400, "IllegalParam.SourceType"),
        ("bad target type", create, path(&[("TargetType", "host")], &base), 400, "IllegalParam.TargetType"),
        ("bad protocol", create, path(&[("Protocol", "sctp")], &base), 400, "IllegalParam.Protocol"),
        ("source port 0", create, path(&[("SourcePort", "0")], &base), 400, "IllegalParam.SourcePort"),
        ("target port 65536", create, path(&[("TargetPort", "65536")], &base), 400, "IllegalParam.TargetPort"),
        ("target port text", create, path(&[("TargetPort", "ssh")], &base), 400, "IllegalParam.TargetPort"),
        ("tcp without port", create, path(&[("TargetPort", "")], &base), 400, "IllegalParam.TargetPort"),
        ("unknown source", create, path(&[("SourceId", "i-000000000000000000x0")], &base), 400, "IllegalParam.SourceId"),
        ("unknown target", create, path(&[("TargetId", "i-000000000000000000x0")], &base), 400, "IllegalParam.TargetId"),
        ("ecs id of a group", create, path(&[("SourceId", &g)], &base), 400, "IllegalParam.TypeAndIdMismatch"),
        ("not an ip", create, path(&[("TargetId", "example.com"), ("TargetType", "internetIp")], &base), 400, "IllegalParam.IP"),
        ("private internet ip", create, path(&[("TargetId", "10.1.2.3"), ("TargetType", "internetIp")], &base), 400, "IllegalParam.InternetIP"),
        ("two internet ips", create, path(&[("SourceId", "8.8.4.4"), ("SourceType", "internetIp"), ("TargetId", "8.8.8.8"), ("TargetType", "internetIp")], &base), 400, "IllegalParam.SourceAndTargetInternetIp"),
        ("source is target", create, path(&[("TargetId", &a)], &base), 400, "IllegalParam.SourceEqualTarget"),
        ("source ip not the instance's", create, path(&[("SourceIpAddress", "10.0.0.99")], &base), 400, "IllegalParam.SourceIp"),
        ("target ip not the instance's", create, path(&[("TargetIpAddress", "10.0.0.99")], &base), 400, "IllegalParam.TargetIp"),
        ("vpn gateways do not exist", create, path(&[("SourceId", "vpn-123"), ("SourceType", "vpn")], &base), 400, "IllegalParam.SourceId"),
        ("vsw without address", create, path(&[("SourceId", &lab.vsw), ("SourceType", "vsw")], &base), 400, "IllegalParam.SourceIp"),
        ("vsw address outside", create, path(&[("SourceId", &lab.vsw), ("SourceType", "vsw"), ("SourceIpAddress", "10.9.9.9")], &base), 400, "IllegalParam.SourceIp"),
        ("tag without value", create, path(&[("Tag.1.Key", "k")], &base), 400, "MissingParameter.TagValue"),
        ("tag without key", create, path(&[("Tag.1.Value", "v")], &base), 400, "MissingParameter.TagKey"),
        ("duplicate tag key", create, path(&[("Tag.1.Key", "k"), ("Tag.1.Value", "1"), ("Tag.2.Key", "k"), ("Tag.2.Value", "2")], &base), 400, "Duplicate.TagKey"),
        ("reserved tag key", create, path(&[("Tag.1.Key", "aliyun-x"), ("Tag.1.Value", "v")], &base), 400, "InvalidParameter.TagKey"),
        ("21 tags", create, path(&tags21, &base), 400, "NumberExceed.Tags"),
        ("unknown region", create, path(&[("RegionId", "mars-1")], &base), 404, "InvalidRegionId.NotFound"),
        ("one-off unknown source", one_off, path(&[("SourceId", "i-000000000000000000x0"), ("NetworkPathName", "")], &base), 400, "IllegalParam.SourceId"),
        ("one-off bad protocol", one_off, path(&[("Protocol", "gre"), ("NetworkPathName", "")], &base), 400, "IllegalParam.Protocol"),
        ("no path id", "CreateNetworkReachableAnalysis", vec![], 400, "MissingNetworkPathId"),
        ("unknown path", "CreateNetworkReachableAnalysis", vec![("NetworkPathId", "np-00000000000000000000")], 404, "ResourceNotFound.NetworkPath"),
        ("no analysis id", "GetNetworkReachableAnalysis", vec![], 400, "MissingNetworkReachableAnalysisId"),
        ("unknown analysis", "GetNetworkReachableAnalysis", vec![("NetworkReachableAnalysisId", "nra-00000000000000000000")], 404, "ResourceNotFound.NetworkReachableAnalysisId"),
        ("no path ids", "DeleteNetworkPath", vec![], 400, "IllegalParam.NetworkPathId"),
        ("empty path ids", "DeleteNetworkPath", vec![("NetworkPathIds", "[]")], 400, "IllegalParam.NetworkPathId"),
        ("path ids not JSON", "DeleteNetworkPath", vec![("NetworkPathIds", "np-1,np-2")], 400, "IllegalParam.NetworkPathId"),
        ("unknown path id", "DeleteNetworkPath", vec![("NetworkPathIds", "[\"np-00000000000000000000\"]")], 404, "ResourceNotFound.NetworkPath"),
        ("no analysis ids", "DeleteNetworkReachableAnalysis", vec![], 400, "IllegalParam.NetworkReachableAnalysisId"),
        ("unknown analysis id", "DeleteNetworkReachableAnalysis", vec![("NetworkReachableAnalysisIds", "[\"nra-00000000000000000000\"]")], 404, "ResourceNotFound.NetworkReachableAnalysisId"),
    ];
    for (what, action, params, status, code) in rows {
        let r = nis(&lab.c, action, &params).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (status, code),
            "{what}: {}",
            r.body
        );
        let body = r.json();
        assert!(
            body["RequestId"].as_str().is_some_and(|id| !id.is_empty()),
            "{what}"
        );
        assert!(
            body["Message"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}"
        );
    }

    // None of the refused creates stored a path: the base path is still new, once.
    let created = ok(nis(&lab.c, create, &base).await).await;
    let id = created["NetworkPathId"].as_str().expect("id");
    assert!(id.starts_with("np-") && id.len() == 23, "{id}");
    let again = nis(
        &lab.c,
        create,
        &path(&[("NetworkPathName", "another name")], &base),
    )
    .await;
    assert_eq!(
        (again.status, again.code().as_str()),
        (400, "ResourceAlreadyExist.NetworkPath"),
        "{}",
        again.body
    );
    assert!(
        again.body.contains(id),
        "the message names the existing path: {}",
        again.body
    );

    // A partly unknown id list deletes nothing.
    let ids = format!("[\"{id}\",\"np-00000000000000000000\"]");
    let r = nis(&lab.c, "DeleteNetworkPath", &[("NetworkPathIds", &ids)]).await;
    assert_eq!(r.status, 404);
    let r = nis(
        &lab.c,
        "CreateNetworkReachableAnalysis",
        &[("NetworkPathId", id)],
    )
    .await;
    assert_eq!(r.status, 200, "the path survived: {}", r.body);
}

#[tokio::test]
async fn quotas_of_paths_and_analyses() {
    let mut settings = Settings::default();
    settings.products.limits.network_paths_per_account = 2;
    settings.products.limits.analyses_per_account = 3;
    let server = TestServer::start_with(settings).await;
    let lab = Lab::new(&server).await;
    let g = lab.group("normal", "Accept").await;
    let a = lab.instance(&[&g], None).await;
    let b = lab.instance(&[&g], None).await;
    let create = |port: &'static str| {
        let (a, b, c) = (a.clone(), b.clone(), &lab.c);
        async move {
            nis(
                c,
                "CreateNetworkPath",
                &[
                    ("NetworkPathName", "p"),
                    ("SourceId", &a),
                    ("SourceType", "ecs"),
                    ("TargetId", &b),
                    ("TargetType", "ecs"),
                    ("Protocol", "tcp"),
                    ("TargetPort", port),
                ],
            )
            .await
        }
    };
    let first = ok(create("22").await).await;
    ok(create("80").await).await;
    let third = create("443").await;
    assert_eq!(
        (third.status, third.code().as_str()),
        (400, "QuotaExceeded.NetworkPath")
    );
    assert!(third.body.contains("usage 2/2"), "{}", third.body);

    let path = first["NetworkPathId"].as_str().expect("id");
    for _ in 0..3 {
        let r = nis(
            &lab.c,
            "CreateNetworkReachableAnalysis",
            &[("NetworkPathId", path)],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = nis(
        &lab.c,
        "CreateNetworkReachableAnalysis",
        &[("NetworkPathId", path)],
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "QuotaExceeded.MaxNraCount")
    );
}
