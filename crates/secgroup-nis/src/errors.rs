//! NIS's wording of domain errors, where it differs from the base map of
//! [`secgroup_api::errors`] (its tag refusals, docs/nis.md §1.4), and the refusals only NIS
//! words (missing tag halves, id lists).

use secgroup_domain::DomainError;
use secgroup_rpc::RpcError;

/// NIS's wording of a domain error, where it differs from the base map.
pub fn wording(err: &DomainError) -> Option<RpcError> {
    let (code, message) = match err {
        DomainError::TooManyTags(_) => (
            "NumberExceed.Tags",
            "The maximum number of Tags is exceeded.",
        ),
        DomainError::TagKeyDuplicate => {
            ("Duplicate.TagKey", "The Tag.N.Key contains duplicate keys.")
        }
        DomainError::TagKeyMalformed => (
            "InvalidParameter.TagKey",
            "The Tag.N.Key parameter is invalid.",
        ),
        DomainError::TagValueMalformed => (
            "InvalidParameter.TagValue",
            "The Tag.N.Value parameter is invalid.",
        ),
        _ => return None,
    };
    Some(RpcError::new(400, code, message))
}

/// A domain failure as NIS reports it: its wording, else the base map.
pub fn from_domain(err: DomainError) -> RpcError {
    wording(&err).unwrap_or_else(|| secgroup_api::errors::domain(err))
}

/// `Tag.N.Key` absent where `Tag.N.Value` is given.
pub fn tag_key_missing() -> RpcError {
    RpcError::new(
        400,
        "MissingParameter.TagKey",
        "You must specify Tag.N.Key.",
    )
}

/// `Tag.N.Value` absent where `Tag.N.Key` is given.
pub fn tag_value_missing() -> RpcError {
    RpcError::new(
        400,
        "MissingParameter.TagValue",
        "You must specify Tag.N.Value.",
    )
}

/// An id list (`NetworkPathIds`, `NetworkReachableAnalysisIds`) absent, empty or not a JSON
/// array of strings; `code_suffix` is the singular id name.
pub fn id_list_invalid(code_suffix: &str, parameter: &str) -> RpcError {
    RpcError::new(
        400,
        format!("IllegalParam.{code_suffix}"),
        format!("The parameter ({parameter}) cannot be empty."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use secgroup_domain::error::PathInvalid;

    /// Table: every NIS-specific refusal, with its documented status, code and message.
    #[rustfmt::skip]
    #[test]
    fn nis_error_table() {
        let cases: Vec<(RpcError, u16, &str, &str)> = vec![
            (from_domain(DomainError::TooManyTags(20)), 400, "NumberExceed.Tags", "The maximum number of Tags is exceeded."),
            (from_domain(DomainError::TagKeyDuplicate), 400, "Duplicate.TagKey", "The Tag.N.Key contains duplicate keys."),
            (from_domain(DomainError::TagKeyMalformed), 400, "InvalidParameter.TagKey", "The Tag.N.Key parameter is invalid."),
            (from_domain(DomainError::TagValueMalformed), 400, "InvalidParameter.TagValue", "The Tag.N.Value parameter is invalid."),
            (tag_key_missing(), 400, "MissingParameter.TagKey", "You must specify Tag.N.Key."),
            (tag_value_missing(), 400, "MissingParameter.TagValue", "You must specify Tag.N.Value."),
            (id_list_invalid("NetworkPathId", "NetworkPathIds"), 400, "IllegalParam.NetworkPathId", "The parameter (NetworkPathIds) cannot be empty."),
            (from_domain(DomainError::NetworkPathNotFound("np-1".into())), 404, "ResourceNotFound.NetworkPath", "The specified resource of np-1 is not found."),
            (from_domain(DomainError::NetworkPathExists("np-1".into())), 400, "ResourceAlreadyExist.NetworkPath", "The specified resource of np-1 already exists."),
            (from_domain(DomainError::NetworkPathQuotaExceeded { usage: 100, quota: 100 }), 400, "QuotaExceeded.NetworkPath", "The quota of NetworkPath is exceeded, usage 100/100."),
            (from_domain(DomainError::AnalysisQuotaExceeded), 400, "QuotaExceeded.MaxNraCount", "The maximum number of reachability analysis task is exceeded."),
            (from_domain(DomainError::AnalysisNotFound("nra-1".into())), 404, "ResourceNotFound.NetworkReachableAnalysisId", "The instance resource (nra-1) does not exist."),
            (from_domain(DomainError::PathInvalid(PathInvalid::SourceType("x".into()))), 400, "IllegalParam.SourceType", "The specified source type (x) is invalid."),
            (from_domain(DomainError::PathInvalid(PathInvalid::TargetType("x".into()))), 400, "IllegalParam.TargetType", "The specified target type (x) is invalid."),
            (from_domain(DomainError::PathInvalid(PathInvalid::Protocol("x".into()))), 400, "IllegalParam.Protocol", "The specified Protocol(x) is invalid."),
            (from_domain(DomainError::PathInvalid(PathInvalid::SourcePort("0".into()))), 400, "IllegalParam.SourcePort", "The specified SourcePort(0) value is invalid. The value must be within the range of (0,65536]."),
            (from_domain(DomainError::PathInvalid(PathInvalid::TargetPort("0".into()))), 400, "IllegalParam.TargetPort", "The specified TargetPort(0) value is invalid. The value must be within the range of (0,65536]."),
            (from_domain(DomainError::PathInvalid(PathInvalid::SourceId("i-x".into()))), 400, "IllegalParam.SourceId", "The specified SourceId(i-x) may be not exist."),
            (from_domain(DomainError::PathInvalid(PathInvalid::TargetId("i-x".into()))), 400, "IllegalParam.TargetId", "The specified TargetId(i-x) may be not exist."),
            (from_domain(DomainError::PathInvalid(PathInvalid::TypeAndIdMismatch("x".into()))), 400, "IllegalParam.TypeAndIdMismatch", "The specified instanceId (x) and type do not match."),
            (from_domain(DomainError::PathInvalid(PathInvalid::SourceIp("x".into()))), 400, "IllegalParam.SourceIp", "Please enter a valid source IP."),
            (from_domain(DomainError::PathInvalid(PathInvalid::TargetIp("x".into()))), 400, "IllegalParam.TargetIp", "The specified target ip (x) is invalid."),
            (from_domain(DomainError::PathInvalid(PathInvalid::Ip("x".into()))), 400, "IllegalParam.IP", "The specified IP address (x) is invalid."),
            (from_domain(DomainError::PathInvalid(PathInvalid::NotInternetIp("10.0.0.1".into()))), 400, "IllegalParam.InternetIP", "The specified IP address (10.0.0.1) is not an internet IP address."),
            (from_domain(DomainError::PathInvalid(PathInvalid::BothInternetIp)), 400, "IllegalParam.SourceAndTargetInternetIp", "Both source ID and target ID are IP addresses, but are not Internet IP addresses. Reachability Analyzer does not support the scenario."),
            (from_domain(DomainError::PathInvalid(PathInvalid::SourceEqualsTarget)), 400, "IllegalParam.SourceEqualTarget", "The specified source and destination are identical, which is not supported for analysis."),
        ];
        for (err, status, code, message) in cases {
            assert_eq!(
                (err.status.as_u16(), err.code.as_ref(), err.message.as_ref()),
                (status, code, message)
            );
        }
    }
}
