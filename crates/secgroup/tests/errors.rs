//! Every documented error row of the operations, table-driven, through the real
//! HTTP server; and proof that a refused request changed nothing.

mod common;

use common::{create_group, TestServer};

/// One row: action, parameters (`{sg}` = a basic group, `{esg}` = an advanced one), expected status and code.
type Row = (
    &'static str,
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
);

const LONG_ID: &str = "sg-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; // 101 characters

const ROWS: &[Row] = &[
    // ---- ModifySecurityGroupPolicy ----
    (
        "ModifySecurityGroupPolicy",
        &[("SecurityGroupId", "{sg}"), ("InnerAccessPolicy", "Allow")],
        400,
        "InvalidPolicy.Malformed",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[("SecurityGroupId", "{sg}"), ("InnerAccessPolicy", "")],
        400,
        "MissingInnerAccessPolicy",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[("SecurityGroupId", "{sg}")],
        400,
        "MissingInnerAccessPolicy",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[("InnerAccessPolicy", "Drop")],
        400,
        "MissingSecurityGroupId",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[
            ("RegionId", ""),
            ("SecurityGroupId", "{sg}"),
            ("InnerAccessPolicy", "Drop"),
        ],
        400,
        "MissingParamter.RegionId",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[
            ("RegionId", "xx-nowhere-1"),
            ("SecurityGroupId", "{sg}"),
            ("InnerAccessPolicy", "Drop"),
        ],
        404,
        "InvalidRegionId.NotFound",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[
            ("SecurityGroupId", "sg-bad!id"),
            ("InnerAccessPolicy", "Drop"),
        ],
        400,
        "InvalidSecurityGroupId.Malformed",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[("SecurityGroupId", LONG_ID), ("InnerAccessPolicy", "Drop")],
        400,
        "InvalidSecurityGroupId.Malformed",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[
            ("SecurityGroupId", "sg-doesnotexist000000"),
            ("InnerAccessPolicy", "Drop"),
        ],
        404,
        "InvalidSecurityGroupId.NotFound",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[
            ("RegionId", "cn-beijing"),
            ("SecurityGroupId", "{sg}"),
            ("InnerAccessPolicy", "Drop"),
        ],
        404,
        "InvalidSecurityGroupId.NotFound",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[
            ("SecurityGroupId", "{esg}"),
            ("InnerAccessPolicy", "Accept"),
        ],
        404,
        "InvalidParameter.InnerAccessPolicy",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[("SecurityGroupId", "{esg}"), ("InnerAccessPolicy", "drop")],
        404,
        "InvalidParameter.InnerAccessPolicy",
    ),
    (
        "ModifySecurityGroupPolicy",
        &[
            ("SecurityGroupId", "{sg}"),
            ("InnerAccessPolicy", "Drop"),
            ("ClientToken", "ü"),
        ],
        400,
        "InvalidClientToken.ValueNotSupported",
    ),
    // ---- CreateSecurityGroup ----
    (
        "CreateSecurityGroup",
        &[("SecurityGroupName", "1starts-with-digit")],
        400,
        "InvalidSecurityGroupName.Malformed",
    ),
    (
        "CreateSecurityGroup",
        &[("SecurityGroupName", "http://x")],
        400,
        "InvalidSecurityGroupName.Malformed",
    ),
    (
        "CreateSecurityGroup",
        &[("SecurityGroupName", "a")],
        400,
        "InvalidSecurityGroupName.Malformed",
    ),
    (
        "CreateSecurityGroup",
        &[("Description", "x")],
        400,
        "InvalidSecurityGroupDiscription.Malformed",
    ),
    (
        "CreateSecurityGroup",
        &[("Description", "https://example")],
        400,
        "InvalidSecurityGroupDiscription.Malformed",
    ),
    (
        "CreateSecurityGroup",
        &[("SecurityGroupType", "premium")],
        400,
        "InvalidParams.GroupType",
    ),
    (
        "CreateSecurityGroup",
        &[("SecurityGroupType", "enterprise")],
        400,
        "InvalidParams.VpcIdGroupType",
    ),
    (
        "CreateSecurityGroup",
        &[("Tag.1.Key", "aliyun-reserved"), ("Tag.1.Value", "v")],
        400,
        "InvalidTagKey.Malformed",
    ),
    (
        "CreateSecurityGroup",
        &[("Tag.1.Value", "v")],
        400,
        "InvalidTagKey.Malformed",
    ),
    (
        "CreateSecurityGroup",
        &[("Tag.1.Key", "k"), ("Tag.1.Value", "http://v")],
        400,
        "InvalidTagValue.Malformed",
    ),
    (
        "CreateSecurityGroup",
        &[("Tag.1.Key", "k"), ("Tag.2.Key", "k")],
        400,
        "Duplicate.TagKey",
    ),
    (
        "CreateSecurityGroup",
        &[("RegionId", "xx-nowhere-1")],
        404,
        "InvalidRegionId.NotFound",
    ),
    (
        "CreateSecurityGroup",
        &[("RegionId", "")],
        400,
        "MissingRegionId",
    ),
    (
        "CreateSecurityGroup",
        &[(
            "ClientToken",
            "0123456789012345678901234567890123456789012345678901234567890123x",
        )],
        400,
        "InvalidClientToken.ValueNotSupported",
    ),
    // ---- DeleteSecurityGroup ----
    (
        "DeleteSecurityGroup",
        &[("RegionId", "")],
        400,
        "MissingParameter.RegionId",
    ),
    ("DeleteSecurityGroup", &[], 400, "MissingSecurityGroupId"),
    (
        "DeleteSecurityGroup",
        &[("SecurityGroupId", "sg-doesnotexist000000")],
        404,
        "InvalidSecurityGroupId.NotFound",
    ),
    // ---- DescribeSecurityGroupAttribute ----
    (
        "DescribeSecurityGroupAttribute",
        &[("RegionId", ""), ("SecurityGroupId", "{sg}")],
        400,
        "MissingParameter.RegionId",
    ),
    (
        "DescribeSecurityGroupAttribute",
        &[("SecurityGroupId", "sg-doesnotexist000000")],
        404,
        "InvalidSecurityGroupId.NotFound",
    ),
    (
        "DescribeSecurityGroupAttribute",
        &[("SecurityGroupId", "sg bad")],
        400,
        "InvalidSecurityGroupId.Malformed",
    ),
    (
        "DescribeSecurityGroupAttribute",
        &[("SecurityGroupId", "{sg}"), ("NicType", "wan")],
        400,
        "InvalidNicType.ValueNotSupported",
    ),
    (
        "DescribeSecurityGroupAttribute",
        &[("SecurityGroupId", "{sg}"), ("Direction", "sideways")],
        400,
        "InvalidParamter",
    ),
    (
        "DescribeSecurityGroupAttribute",
        &[("SecurityGroupId", "{sg}"), ("MaxResults", "5")],
        400,
        "InvalidParamter",
    ),
    (
        "DescribeSecurityGroupAttribute",
        &[("SecurityGroupId", "{sg}"), ("Attribute", "rules")],
        400,
        "InvalidParameter.AttributeNotSupported",
    ),
    (
        "DescribeSecurityGroupAttribute",
        &[("RegionId", "xx-nowhere-1"), ("SecurityGroupId", "{sg}")],
        404,
        "InvalidRegionId.NotFound",
    ),
    // ---- DescribeSecurityGroups ----
    (
        "DescribeSecurityGroups",
        &[("RegionId", "")],
        400,
        "MissingParameter.RegionId",
    ),
    (
        "DescribeSecurityGroups",
        &[("SecurityGroupType", "Normal")],
        400,
        "InvalidParameter.SecurityGroupType",
    ),
    (
        "DescribeSecurityGroups",
        &[("SecurityGroupId", "sg-bad!")],
        400,
        "InvalidSecurityGroupId.Malformed",
    ),
    (
        "DescribeSecurityGroups",
        &[("SecurityGroupIds", "sg-1,sg-2")],
        400,
        "InvalidSecurityGroupId.Malformed",
    ),
    (
        "DescribeSecurityGroups",
        &[("NextToken", "not-a-token")],
        400,
        "InValidParameter.NextToken",
    ),
    (
        "DescribeSecurityGroups",
        &[("PageSize", "51")],
        400,
        "InvalidParameter",
    ),
    (
        "DescribeSecurityGroups",
        &[("DryRun", "true")],
        400,
        "DryRunOperation",
    ),
    (
        "DescribeSecurityGroups",
        &[("DryRun", "maybe")],
        400,
        "InvalidParameter",
    ),
    // ---- ModifySecurityGroupAttribute ----
    (
        "ModifySecurityGroupAttribute",
        &[("SecurityGroupId", "{sg}"), ("SecurityGroupName", "-bad")],
        400,
        "InvalidSecurityGroupName.Malformed",
    ),
    (
        "ModifySecurityGroupAttribute",
        &[("SecurityGroupId", "{sg}"), ("Description", "h")],
        400,
        "InvalidSecurityGroupDiscription.Malformed",
    ),
    (
        "ModifySecurityGroupAttribute",
        &[
            ("SecurityGroupId", "sg-doesnotexist000000"),
            ("Description", "fine"),
        ],
        404,
        "InvalidSecurityGroupId.NotFound",
    ),
    // ---- DescribeRegions ----
    (
        "DescribeRegions",
        &[("AcceptLanguage", "xx")],
        404,
        "InvalidAcceptLanguage.NotFound",
    ),
    (
        "DescribeRegions",
        &[("ResourceType", "bucket")],
        404,
        "InvalidResourceType.NotFound",
    ),
    // ---- tags ----
    (
        "TagResources",
        &[("ResourceType", "securitygroup"), ("ResourceId.1", "{sg}")],
        404,
        "MissingParameter.Tags",
    ),
    (
        "TagResources",
        &[("ResourceType", "securitygroup"), ("Tag.1.Key", "k")],
        404,
        "MissingParameter.ResourceIds",
    ),
    (
        "TagResources",
        &[("ResourceId.1", "{sg}"), ("Tag.1.Key", "k")],
        404,
        "MissingParameter.ResourceType",
    ),
    (
        "TagResources",
        &[
            ("RegionId", ""),
            ("ResourceType", "securitygroup"),
            ("ResourceId.1", "{sg}"),
            ("Tag.1.Key", "k"),
        ],
        404,
        "MissingParameter.RegionId",
    ),
    (
        "TagResources",
        &[
            ("ResourceType", "bucket"),
            ("ResourceId.1", "{sg}"),
            ("Tag.1.Key", "k"),
        ],
        404,
        "InvalidResourceType.NotFound",
    ),
    (
        "TagResources",
        &[
            ("ResourceType", "securitygroup"),
            ("ResourceId.1", "sg-doesnotexist000000"),
            ("Tag.1.Key", "k"),
        ],
        404,
        "InvalidResourceId.NotFound",
    ),
    (
        "TagResources",
        &[
            ("ResourceType", "securitygroup"),
            ("ResourceId.1", "{sg}"),
            ("Tag.1.Key", "acs:x"),
        ],
        400,
        "InvalidTagKey.Malformed",
    ),
    (
        "TagResources",
        &[
            ("ResourceType", "securitygroup"),
            ("ResourceId.1", "{sg}"),
            ("Tag.1.Key", "k"),
            ("Tag.2.Key", "k"),
        ],
        400,
        "Duplicate.TagKey",
    ),
    (
        "UntagResources",
        &[("ResourceType", "securitygroup"), ("ResourceId.1", "{sg}")],
        404,
        "MissingParameter.TagKeys",
    ),
    (
        "ListTagResources",
        &[("ResourceType", "securitygroup")],
        404,
        "MissingParameter.ResourceIds",
    ),
    (
        "ListTagResources",
        &[("ResourceType", "securitygroup"), ("Tag.1.Value", "v")],
        400,
        "InvalidParameter.TagValue",
    ),
];

#[tokio::test]
async fn every_error_row_answers_its_code_and_status() {
    let server = TestServer::start().await;
    let client = server.new_account().await;
    let sg = create_group(&client, &[]).await;
    let esg = create_group(&client, &[("SecurityGroupType", "enterprise")]).await;
    let before = state(&client).await;
    let mut failures = Vec::new();
    for (action, params, status, code) in ROWS {
        let params: Vec<(&str, String)> = params
            .iter()
            .map(|(k, v)| (*k, v.replace("{sg}", &sg).replace("{esg}", &esg)))
            .collect();
        let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = client.call(action, &borrowed).await;
        let json = reply.json();
        let ok = reply.status == *status
            && json["Code"] == *code
            && json["Message"].as_str().is_some_and(|m| !m.is_empty())
            && json["RequestId"].as_str().is_some_and(is_upper_uuid)
            && json["HostId"].is_string()
            && json["Recommend"].is_string();
        if !ok {
            failures.push(format!(
                "{action} {params:?}: want {status} {code}, got {} {}",
                reply.status, reply.body
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
        state(&client).await,
        before,
        "a refused request changed stored state"
    );
}

/// Everything the account can see, to prove refusals change nothing.
async fn state(client: &common::TestClient) -> serde_json::Value {
    let mut groups = client
        .call("DescribeSecurityGroups", &[("PageSize", "50")])
        .await
        .json();
    groups.as_object_mut().map(|o| o.remove("RequestId"));
    let mut out = vec![groups];
    for g in out[0]["SecurityGroups"]["SecurityGroup"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let id = g["SecurityGroupId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut attr = client
            .call(
                "DescribeSecurityGroupAttribute",
                &[("SecurityGroupId", &id)],
            )
            .await
            .json();
        attr.as_object_mut().map(|o| o.remove("RequestId"));
        out.push(attr);
    }
    serde_json::Value::Array(out)
}

fn is_upper_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('A'..='F').contains(&c))
}
