//! Parameters of the extension actions, read into the engine's questions, with the error
//! for each way a value can be wrong. `RegionId` and the integers go through the shared
//! decoders of [`Input`].

use std::net::IpAddr;

use secgroup_api::errors::security_group_id_malformed;
use secgroup_api::Input;
use secgroup_domain::ops::instances::validate_id;
use secgroup_domain::rules::IpProtocol;
use secgroup_domain::validate;
use secgroup_rpc::RpcError;

use crate::errors::{conflict, invalid, missing_one_of};
use crate::reachability::{EndpointQuery, FlowQuery};
use secgroup_reach_service::{MatrixQuery, MatrixScope};

/// `SecurityGroupIds` holds at most this many ids, as in ECS's DescribeSecurityGroups.
pub const MAX_SECURITY_GROUP_IDS: usize = 100;

pub fn flow_query(p: &mut Input<'_>) -> Result<FlowQuery, RpcError> {
    let source = endpoint(p, "Source")?;
    let destination = endpoint(p, "Destination")?;
    let (protocol, port, source_port) = traffic(p)?;
    Ok(FlowQuery {
        source,
        destination,
        protocol,
        port,
        source_port,
    })
}

pub fn matrix_query(p: &mut Input<'_>) -> Result<MatrixQuery, RpcError> {
    let scope = scope(p)?;
    let (protocol, port, source_port) = traffic(p)?;
    Ok(MatrixQuery {
        scope,
        protocol,
        port,
        source_port,
    })
}

/// `<Side>InstanceId`, `<Side>NetworkInterfaceId` or `<Side>IpAddress`, exactly one.
fn endpoint(p: &mut Input<'_>, side: &str) -> Result<EndpointQuery, RpcError> {
    let id_name = format!("{side}InstanceId");
    let address_name = format!("{side}IpAddress");
    let interface_name = format!("{side}NetworkInterfaceId");
    if let Some(interface) = p.non_empty(&interface_name) {
        // An unknown (or malformed) id is refused when the flow is resolved:
        // `InvalidEniId.NotFound`, as ECS says it.
        let interface = interface.to_string();
        return match (p.non_empty(&id_name), p.non_empty(&address_name)) {
            (Some(_), _) => Err(conflict(&interface_name, &id_name)),
            (None, Some(_)) => Err(conflict(&interface_name, &address_name)),
            (None, None) => Ok(EndpointQuery::Interface(interface)),
        };
    }
    match (p.non_empty(&id_name), p.non_empty(&address_name)) {
        (Some(_), Some(_)) => Err(conflict(&id_name, &address_name)),
        (None, None) => Err(missing_one_of(side, &id_name, &address_name)),
        (Some(id), None) => {
            validate_id(id).map_err(|e| p.error(e))?;
            Ok(EndpointQuery::Instance(id.to_string()))
        }
        (None, Some(address)) => address
            .trim()
            .parse::<IpAddr>()
            .map(EndpointQuery::Address)
            .map_err(|_| invalid(&address_name, "it must be an IPv4 or IPv6 address")),
    }
}

/// `Protocol`, then `Port` (required for TCP and UDP, refused for the others, which have no
/// ports) and the optional `SourcePort` (TCP and UDP only).
fn traffic(p: &mut Input<'_>) -> Result<(IpProtocol, Option<u16>, Option<u16>), RpcError> {
    let text = p.required("Protocol")?;
    let protocol = IpProtocol::parse(text)
        .filter(|p| *p != IpProtocol::Icmpv6)
        .ok_or_else(|| {
            invalid(
                "Protocol",
                "it must be TCP, UDP, ICMP, GRE or ALL (case-insensitive)",
            )
        })?;
    let port = port_number(p, "Port")?;
    let source_port = port_number(p, "SourcePort")?;
    if protocol.has_ports() {
        if port.is_none() {
            return Err(RpcError::new(
                400,
                "MissingPort",
                "Port is mandatory when Protocol is TCP or UDP.",
            ));
        }
    } else if port.is_some() || source_port.is_some() {
        let name = if port.is_some() { "Port" } else { "SourcePort" };
        return Err(invalid(
            name,
            "ports apply only when Protocol is TCP or UDP",
        ));
    }
    Ok((protocol, port, source_port))
}

/// A port, 1 to 65535.
fn port_number(p: &mut Input<'_>, name: &str) -> Result<Option<u16>, RpcError> {
    let out_of_range = || invalid(name, "it must be an integer from 1 to 65535");
    let port = p.int_in(name, 1..=i64::from(u16::MAX), out_of_range)?;
    // In range, so the conversion cannot fail; failing would be the same refusal.
    port.map(|n| u16::try_from(n).map_err(|_| out_of_range()))
        .transpose()
}

/// `VpcId`, or `SecurityGroupIds` as a JSON array of ids (ECS's spelling), exactly one.
fn scope(p: &mut Input<'_>) -> Result<MatrixScope, RpcError> {
    match (p.non_empty("VpcId"), p.non_empty("SecurityGroupIds")) {
        (Some(_), Some(_)) => Err(conflict("VpcId", "SecurityGroupIds")),
        (None, None) => Err(missing_one_of("Scope", "VpcId", "SecurityGroupIds")),
        (Some(vpc), None) => Ok(MatrixScope::Vpc(vpc.to_string())),
        (None, Some(_)) => {
            let malformed = || {
                security_group_id_malformed(format!("The specified parameter SecurityGroupIds is not valid: it must be a JSON array of 1 to {MAX_SECURITY_GROUP_IDS} security group ids."))
            };
            let ids = p
                .json_strings("SecurityGroupIds", MAX_SECURITY_GROUP_IDS, malformed)?
                .unwrap_or_default();
            let well_formed = ids.iter().all(|id| validate::security_group_id(id).is_ok());
            if ids.is_empty() || ids.len() > MAX_SECURITY_GROUP_IDS || !well_formed {
                return Err(malformed());
            }
            Ok(MatrixScope::SecurityGroups(ids))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secgroup_api::ProductConfig;
    use secgroup_rpc::Params;

    /// The input of one call, as the framework hands it to a decoder.
    fn input<'a>(params: &'a Params, config: &'a ProductConfig) -> Input<'a> {
        Input::new(
            params,
            "CheckReachability",
            config,
            secgroup_api::errors::domain,
        )
    }

    fn flow(pairs: &[(&str, &str)]) -> Result<FlowQuery, RpcError> {
        let params = Params::from_pairs(pairs.iter().copied());
        flow_query(&mut input(&params, &ProductConfig::default()))
    }

    fn code(r: Result<FlowQuery, RpcError>) -> String {
        r.err().map(|e| e.code.to_string()).unwrap_or_default()
    }

    #[test]
    fn an_end_may_be_an_interface_but_not_with_another_name() {
        let ok = flow(&[
            ("SourceNetworkInterfaceId", "eni-a1"),
            ("DestinationInstanceId", "i-b"),
            ("Protocol", "tcp"),
            ("Port", "5432"),
        ])
        .expect("valid");
        assert_eq!(ok.source, EndpointQuery::Interface("eni-a1".into()));
        let cases: [(&[(&str, &str)], &str); 3] = [
            (
                &[("SourceNetworkInterfaceId", "eni-a1"), ("SourceInstanceId", "i-a")],
                "The parameters SourceNetworkInterfaceId and SourceInstanceId cannot be specified together.",
            ),
            (
                &[("SourceNetworkInterfaceId", "eni-a1"), ("SourceIpAddress", "10.0.0.9")],
                "The parameters SourceNetworkInterfaceId and SourceIpAddress cannot be specified together.",
            ),
            (
                &[("SourceNetworkInterfaceId", ""), ("SourceInstanceId", "i-a")],
                "",
            ),
        ];
        for (source, message) in cases {
            let mut all = source.to_vec();
            all.extend_from_slice(&[("DestinationInstanceId", "i-b"), ("Protocol", "icmp")]);
            let got = flow(&all)
                .err()
                .map(|e| (e.code.to_string(), e.message.to_string()));
            let want = (!message.is_empty())
                .then(|| ("InvalidParameter.Conflict".to_string(), message.to_string()));
            assert_eq!(got, want, "{source:?}");
        }
    }

    #[test]
    fn a_flow_needs_one_source_one_destination_and_a_port_for_tcp() {
        let ok = flow(&[
            ("SourceInstanceId", "i-a"),
            ("DestinationIpAddress", "10.0.0.9"),
            ("Protocol", "Tcp"),
            ("Port", "22"),
        ])
        .expect("valid");
        assert_eq!(ok.protocol, IpProtocol::Tcp);
        assert_eq!(ok.port, Some(22));
        assert_eq!(
            ok.destination,
            EndpointQuery::Address("10.0.0.9".parse().expect("ip"))
        );
        let base = [
            ("SourceInstanceId", "i-a"),
            ("DestinationInstanceId", "i-b"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut all = base.to_vec();
            all.extend_from_slice(extra);
            code(flow(&all))
        };
        assert_eq!(with(&[("Protocol", "tcp")]), "MissingPort");
        assert_eq!(with(&[("Port", "22")]), "MissingProtocol");
        assert_eq!(with(&[("Protocol", "sctp")]), "InvalidParameter.Protocol");
        assert_eq!(
            with(&[("Protocol", "tcp"), ("Port", "0")]),
            "InvalidParameter.Port"
        );
        assert_eq!(
            with(&[("Protocol", "tcp"), ("Port", "65536")]),
            "InvalidParameter.Port"
        );
        assert_eq!(
            with(&[("Protocol", "icmp"), ("Port", "22")]),
            "InvalidParameter.Port"
        );
        assert_eq!(
            with(&[("Protocol", "udp"), ("Port", "53"), ("SourcePort", "x")]),
            "InvalidParameter.SourcePort"
        );
        assert_eq!(with(&[("Protocol", "ALL")]), "");
        assert_eq!(
            code(flow(&[
                ("DestinationInstanceId", "i-b"),
                ("Protocol", "icmp")
            ])),
            "MissingParameter.Source"
        );
        assert_eq!(
            code(flow(&[
                ("SourceInstanceId", "i-a"),
                ("SourceIpAddress", "10.0.0.1"),
                ("DestinationInstanceId", "i-b"),
                ("Protocol", "icmp")
            ])),
            "InvalidParameter.Conflict"
        );
        assert_eq!(
            code(flow(&[
                ("SourceIpAddress", "10.0.0.300"),
                ("DestinationInstanceId", "i-b"),
                ("Protocol", "icmp")
            ])),
            "InvalidParameter.SourceIpAddress"
        );
    }

    #[test]
    fn a_matrix_scope_is_a_vpc_or_a_json_list_of_groups() {
        let scope_of = |pairs: &[(&str, &str)]| {
            let params = Params::from_pairs(pairs.iter().copied());
            scope(&mut input(&params, &ProductConfig::default()))
        };
        assert_eq!(
            scope_of(&[("SecurityGroupIds", r#"["sg-a","sg-b"]"#)]).expect("valid"),
            MatrixScope::SecurityGroups(vec!["sg-a".into(), "sg-b".into()])
        );
        for bad in ["sg-a", "[]", "[1]"] {
            assert_eq!(
                scope_of(&[("SecurityGroupIds", bad)]).err().map(|e| e.code),
                Some("InvalidSecurityGroupId.Malformed".into()),
                "{bad}"
            );
        }
        assert_eq!(
            scope_of(&[]).err().map(|e| e.code),
            Some("MissingParameter.Scope".into())
        );
        assert_eq!(
            scope_of(&[("VpcId", "vpc-1"), ("SecurityGroupIds", "[\"sg-a\"]")])
                .err()
                .map(|e| e.code),
            Some("InvalidParameter.Conflict".into())
        );
    }
}
