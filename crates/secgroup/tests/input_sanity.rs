//! Input sanity end to end: control characters, ambiguous CIDRs and signed or spaced
//! numbers are refused with the field's documented code, nothing is stored, and XML
//! answers stay well-formed whatever was asked.

mod common;

use common::{create_group, TestServer};

/// A field, the parameters that set it, and the code that refuses it.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

/// Every control character, in every free-text field a client sets, is refused with that
/// field's Malformed code, and no group is created.
#[tokio::test]
async fn control_characters_are_refused_with_the_fields_code() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let vpc = c.default_vpc().await;
    for byte in (0u8..0x20).chain([0x7f]) {
        let text = format!("ab{}cd", char::from(byte));
        let cases: [Case<'_>; 4] = [
            (
                "description",
                vec![("VpcId", &vpc), ("Description", &text)],
                "InvalidSecurityGroupDiscription.Malformed",
            ),
            (
                "name",
                vec![("VpcId", &vpc), ("SecurityGroupName", &text)],
                "InvalidSecurityGroupName.Malformed",
            ),
            (
                "tag key",
                vec![("VpcId", &vpc), ("Tag.1.Key", &text), ("Tag.1.Value", "v")],
                "InvalidTagKey.Malformed",
            ),
            (
                "tag value",
                vec![("VpcId", &vpc), ("Tag.1.Key", "k"), ("Tag.1.Value", &text)],
                "InvalidTagValue.Malformed",
            ),
        ];
        for (field, params, code) in cases {
            let r = c.call("CreateSecurityGroup", &params).await;
            assert_eq!(
                (r.status, r.code().as_str()),
                (400, code),
                "{field} with byte {byte:#04x}: {}",
                r.body
            );
        }
        let vpc_reply = c.call_vpc("CreateVpc", &[("VpcName", &text)]).await;
        assert_eq!(vpc_reply.code(), "InvalidVpcName.Malformed", "{byte:#04x}");
    }
    let listed = c.call("DescribeSecurityGroups", &[]).await;
    assert_eq!(
        listed.json()["TotalCount"],
        0,
        "nothing was stored: {}",
        listed.body
    );
}

/// A rule description and a modified group description are free text too.
#[tokio::test]
async fn rule_and_modified_descriptions_refuse_control_characters() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    let r = c
        .call(
            "AuthorizeSecurityGroup",
            &[
                ("SecurityGroupId", &sg),
                ("IpProtocol", "TCP"),
                ("PortRange", "22/22"),
                ("SourceCidrIp", "10.0.0.0/8"),
                ("Description", "line\nbreak"),
            ],
        )
        .await;
    assert_eq!(
        r.code(),
        "InvalidSecurityGroupDiscription.Malformed",
        "{}",
        r.body
    );
    let r = c
        .call(
            "ModifySecurityGroupAttribute",
            &[("SecurityGroupId", &sg), ("Description", "tab\there")],
        )
        .await;
    assert_eq!(
        r.code(),
        "InvalidSecurityGroupDiscription.Malformed",
        "{}",
        r.body
    );
    let attr = c
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &sg)],
        )
        .await;
    assert_eq!(
        attr.json()["Permissions"]["Permission"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}

/// `010.000.000.000/8` reads as 10.0.0.0/8 to some and as 8.0.0.0/8 (octal) to others: it
/// is refused, as are a prefix length with a leading zero or a sign.
#[tokio::test]
async fn ambiguous_cidrs_are_malformed() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    for (field, cidr, code) in [
        (
            "SourceCidrIp",
            "010.000.000.000/8",
            "InvalidSourceCidrIp.Malformed",
        ),
        (
            "SourceCidrIp",
            "10.0.0.0/08",
            "InvalidSourceCidrIp.Malformed",
        ),
        ("SourceCidrIp", "10.0.0.01", "InvalidSourceCidrIp.Malformed"),
        (
            "DestCidrIp",
            "192.168.001.0/24",
            "InvalidDestCidrIp.Malformed",
        ),
    ] {
        let mut params = vec![
            ("SecurityGroupId", sg.as_str()),
            ("IpProtocol", "TCP"),
            ("PortRange", "22/22"),
            (field, cidr),
        ];
        if field == "DestCidrIp" {
            // The quintuple's other side needs a source.
            params.push(("SourceCidrIp", "10.0.0.0/8"));
        }
        let r = c.call("AuthorizeSecurityGroup", &params).await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, code),
            "{cidr}: {}",
            r.body
        );
    }
    let r = c
        .call(
            "CreatePrefixList",
            &[
                ("PrefixListName", "pl-test"),
                ("AddressFamily", "IPv4"),
                ("MaxEntries", "5"),
                ("Entry.1.Cidr", "010.0.0.0/8"),
            ],
        )
        .await;
    assert_eq!(r.code(), "InvalidParameter.CidrMalformed", "{}", r.body);
    let r = c
        .call_vpc("CreateVpc", &[("CidrBlock", "010.0.0.0/8")])
        .await;
    assert_eq!(r.code(), "InvalidCidrBlock.Malformed", "{}", r.body);
    let attr = c
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &sg)],
        )
        .await;
    assert_eq!(
        attr.json()["Permissions"]["Permission"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
}

/// `+22/+22`, ` 22/22` and a priority of ` 1` or `+1` are refused as ECS refuses them.
#[tokio::test]
async fn signed_and_spaced_numbers_are_refused() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    let authorize = |port: &'static str, priority: &'static str| {
        let c = c.clone();
        let sg = sg.clone();
        async move {
            c.call(
                "AuthorizeSecurityGroup",
                &[
                    ("SecurityGroupId", &sg),
                    ("IpProtocol", "TCP"),
                    ("PortRange", port),
                    ("SourceCidrIp", "10.0.0.0/8"),
                    ("Priority", priority),
                ],
            )
            .await
        }
    };
    for port in ["+22/+22", " 22/22", "22/ 22", "22/22 "] {
        let r = authorize(port, "1").await;
        assert_eq!(r.code(), "InvalidParam.PortRange", "{port:?}: {}", r.body);
    }
    for priority in [" 1", "+1", "1 "] {
        let r = authorize("22/22", priority).await;
        assert_eq!(
            r.code(),
            "InvalidPriority.Malformed",
            "{priority:?}: {}",
            r.body
        );
    }
    let r = authorize("22/22", "1").await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// A list index past `u32` is named in the refusal, not dropped (nor wrapped onto 0).
#[tokio::test]
async fn a_list_index_past_u32_is_refused_by_name() {
    let server = TestServer::start().await;
    let c = server.new_account().await;
    let sg = create_group(&c, &[]).await;
    let r = c
        .call(
            "AuthorizeSecurityGroup",
            &[
                ("SecurityGroupId", &sg),
                ("Permissions.1.IpProtocol", "TCP"),
                ("Permissions.1.PortRange", "22/22"),
                ("Permissions.1.SourceCidrIp", "10.0.0.0/8"),
                ("Permissions.4294967296.IpProtocol", "UDP"),
                ("Permissions.4294967296.PortRange", "53/53"),
                ("Permissions.4294967296.SourceCidrIp", "10.0.0.0/8"),
            ],
        )
        .await;
    assert_eq!(
        (r.status, r.code().as_str()),
        (400, "InvalidParameter"),
        "{}",
        r.body
    );
    assert!(
        r.json()["Message"]
            .as_str()
            .is_some_and(|m| m.contains("Permissions.4294967296.")),
        "{}",
        r.body
    );
    let attr = c
        .call(
            "DescribeSecurityGroupAttribute",
            &[("SecurityGroupId", &sg)],
        )
        .await;
    assert_eq!(
        attr.json()["Permissions"]["Permission"]
            .as_array()
            .map(Vec::len),
        Some(0),
        "nothing stored"
    );
}
