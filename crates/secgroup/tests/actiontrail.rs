//! ActionTrail `LookupEvents` (docs/actiontrail.md §2) on the same endpoint: the caller's own
//! events, shaped as ActionTrail's, filtered, paged, and refused by name when malformed.

mod common;

use common::{TestClient, TestServer};
use serde_json::Value;

const VERSION: &str = "2020-07-06";

async fn lookup(c: &TestClient, params: &[(&str, &str)]) -> Value {
    let r = c.call_version(VERSION, "LookupEvents", params).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

async fn by(c: &TestClient, key: &str, value: String) -> Vec<String> {
    names(
        &lookup(
            c,
            &[
                ("LookupAttribute.1.Key", key),
                ("LookupAttribute.1.Value", &value),
            ],
        )
        .await,
    )
}

fn names(body: &Value) -> Vec<String> {
    body["Events"]
        .as_array()
        .expect("Events is a list")
        .iter()
        .map(|e| e["eventName"].as_str().expect("eventName").to_string())
        .collect()
}

#[tokio::test]
async fn events_are_the_callers_own_shaped_filtered_and_paged() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let other = server.new_account().await;

    let vpc = c
        .call_vpc("CreateVpc", &[("CidrBlock", "10.0.0.0/8")])
        .await;
    let vpc_id = vpc.json()["VpcId"].as_str().expect("VpcId").to_string();
    let sg = c
        .call("CreateSecurityGroup", &[("VpcId", &vpc_id)])
        .await
        .json()["SecurityGroupId"]
        .as_str()
        .expect("id")
        .to_string();
    let rule = c
        .call(
            "AuthorizeSecurityGroup",
            &[
                ("SecurityGroupId", &sg),
                ("IpProtocol", "tcp"),
                ("PortRange", "22/22"),
                ("SourceCidrIp", "10.0.0.0/8"),
            ],
        )
        .await;
    assert_eq!(rule.status, 200, "{}", rule.body);
    let refused = c.call_vpc("DeleteVpc", &[("VpcId", &vpc_id)]).await;
    assert_ne!(refused.status, 200);
    c.call("DescribeSecurityGroups", &[]).await;
    other
        .call_vpc("CreateVpc", &[("CidrBlock", "172.16.0.0/12")])
        .await;

    let all = lookup(&c, &[]).await;
    assert_eq!(
        names(&all),
        [
            "DeleteVpc",
            "AuthorizeSecurityGroup",
            "CreateSecurityGroup",
            "CreateVpc"
        ]
    );
    assert_eq!(all["NextToken"], "");
    assert!(all["StartTime"].as_str().is_some_and(|t| t.ends_with('Z')));
    let create = &all["Events"][3];
    assert_eq!(create["eventRW"], "Write");
    assert_eq!(create["eventType"], "ApiCall");
    assert_eq!(create["serviceName"], "Vpc");
    assert_eq!(create["eventSource"], "vpc.aliyuncs.com");
    assert_eq!(create["apiVersion"], "2016-04-28");
    assert_eq!(create["acsRegion"], "cn-hangzhou");
    assert_eq!(create["sourceIpAddress"], "127.0.0.1");
    assert_eq!(create["userIdentity"]["accessKeyId"], c.key_id.as_str());
    // The VPC, and the vRouter and route table made with it.
    let resource_names = create["resourceName"].as_str().expect("resourceName");
    assert!(
        resource_names.starts_with(&format!("{vpc_id};vrt-")),
        "{resource_names}"
    );
    assert_eq!(
        create["resourceType"],
        "ACS::VPC::VPC;ACS::VPC::VRouter;ACS::VPC::RouteTable"
    );
    assert_eq!(
        create["referencedResources"]["ACS::VPC::VPC"][0],
        vpc_id.as_str()
    );
    assert_eq!(create["requestParameters"]["CidrBlock"], "10.0.0.0/8");
    assert!(create["requestParameters"].get("Signature").is_none());
    assert!(create.get("errorCode").is_none());
    let deny = &all["Events"][0];
    assert_eq!(deny["errorCode"], refused.code().as_str());

    let other_events = lookup(&other, &[]).await;
    assert_eq!(names(&other_events), ["CreateVpc"], "accounts apart");

    assert_eq!(by(&c, "EventName", "CreateVpc".into()).await, ["CreateVpc"]);
    assert_eq!(
        by(&c, "ResourceName", sg.clone()).await,
        ["AuthorizeSecurityGroup", "CreateSecurityGroup"]
    );
    assert_eq!(
        by(&c, "ResourceType", "ACS::VPC::VPC".into()).await,
        ["DeleteVpc", "CreateSecurityGroup", "CreateVpc"]
    );
    assert_eq!(
        by(&c, "EventAccessKeyId", other.key_id.clone()).await,
        Vec::<String>::new()
    );
    assert_eq!(by(&c, "EventRW", "Read".into()).await, Vec::<String>::new());
    assert_eq!(by(&c, "EventRW", "Write".into()).await.len(), 4);
    assert_eq!(
        by(&c, "ServiceName", "Ecs".into()).await,
        ["AuthorizeSecurityGroup", "CreateSecurityGroup"]
    );

    // Pages of one, newest first, to the end.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let mut params = vec![("MaxResults", "1")];
        if !token.is_empty() {
            params.push(("NextToken", token.as_str()));
        }
        let page = lookup(&c, &params).await;
        seen.extend(names(&page));
        token = page["NextToken"].as_str().expect("token").to_string();
        if token.is_empty() {
            break;
        }
        assert!(seen.len() <= 4, "paging does not end");
    }
    assert_eq!(seen, names(&all));

    // A time range that ends before everything.
    let empty = lookup(
        &c,
        &[
            ("StartTime", "2020-01-01T00:00:00Z"),
            ("EndTime", "2020-01-02T00:00:00Z"),
        ],
    )
    .await;
    assert!(names(&empty).is_empty());
}

/// Parameters, status, code, and what the message names.
type Case = (
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
    &'static str,
);

#[tokio::test]
async fn malformed_lookups_are_refused_by_name() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let cases: &[Case] = &[
        (
            &[("MaxResults", "0")],
            400,
            "InvalidParameter",
            "MaxResults",
        ),
        (
            &[("MaxResults", "51")],
            400,
            "InvalidParameter",
            "MaxResults",
        ),
        (
            &[("MaxResults", "ten")],
            400,
            "InvalidParameter",
            "MaxResults",
        ),
        (
            &[("StartTime", "yesterday")],
            400,
            "InvalidParameter",
            "StartTime",
        ),
        (
            &[("EndTime", "2020-13-01T00:00:00Z")],
            400,
            "InvalidParameter",
            "EndTime",
        ),
        (
            &[
                ("StartTime", "2021-01-02T00:00:00Z"),
                ("EndTime", "2021-01-01T00:00:00Z"),
            ],
            400,
            "InvalidParameter",
            "StartTime",
        ),
        (
            &[("NextToken", "not-a-token")],
            400,
            "InvalidParameter",
            "NextToken",
        ),
        (
            &[
                ("LookupAttribute.1.Key", "Colour"),
                ("LookupAttribute.1.Value", "x"),
            ],
            400,
            "InvalidParameter",
            "LookupAttribute.1.Key",
        ),
        (
            &[
                ("LookupAttribute.1.Key", "EventRW"),
                ("LookupAttribute.1.Value", "Both"),
            ],
            400,
            "InvalidParameter",
            "LookupAttribute.1.Value",
        ),
        (
            &[("LookupAttribute.2.Key", "EventName")],
            400,
            "InvalidParameter",
            "LookupAttribute.2.Value",
        ),
    ];
    for (params, status, code, names) in cases {
        let r = c.call_version(VERSION, "LookupEvents", params).await;
        assert_eq!(r.status, *status, "{params:?}: {}", r.body);
        assert_eq!(r.code(), *code, "{params:?}: {}", r.body);
        let message = r.json()["Message"].as_str().unwrap_or("").to_string();
        assert!(message.contains(names), "{params:?}: {message}");
    }
    // Lookups are reads: none of the refusals above is itself an event.
    assert!(names(&lookup(&c, &[]).await).is_empty());
}
