//! The single place where domain and storage failures become Alibaba error codes.
//! Parameter errors that belong to the wire (missing, not a number, ...) are built here too.

use secgroup_domain::{DomainError, StoreError};
use secgroup_rpc::RpcError;

/// Maps a domain failure to its documented code, status and message.
pub fn from_domain(err: DomainError) -> RpcError {
    use DomainError as D;
    let (status, code, message): (u16, &'static str, String) = match err {
        D::RegionNotFound(_) => (404, "InvalidRegionId.NotFound", "The specified RegionId does not exist.".into()),
        D::SecurityGroupNotFound(_) => (404, "InvalidSecurityGroupId.NotFound", "The specified SecurityGroupId does not exist.".into()),
        D::ResourceNotFound(_) => (404, "InvalidResourceId.NotFound", "The specified ResourceIds are not found in our records.".into()),
        D::SecurityGroupIdMalformed => (
            400,
            "InvalidSecurityGroupId.Malformed",
            "The SecurityGroupId is invalid. Only letters, numbers and underscores are supported. Maximum length is 100 characters.".into(),
        ),
        D::SecurityGroupNameMalformed => (400, "InvalidSecurityGroupName.Malformed", "The specified parameter SecurityGroupName is not valid.".into()),
        D::SecurityGroupDescriptionMalformed => (
            400,
            "InvalidSecurityGroupDiscription.Malformed",
            "Specified security group description is not valid.".into(),
        ),
        D::SecurityGroupTypeInvalid => (400, "InvalidParams.GroupType", "The specified security group type is not valid.".into()),
        D::PolicyMalformed => (400, "InvalidPolicy.Malformed", "The Policy is invalid. Only 'Accept' and 'Drop' are supported. Ignore case.".into()),
        D::TagKeyMalformed => (400, "InvalidTagKey.Malformed", "The specified Tag.n.Key is not valid.".into()),
        D::TagValueMalformed => (400, "InvalidTagValue.Malformed", "The specified Tag.n.Value is not valid.".into()),
        D::TagKeyDuplicate => (400, "Duplicate.TagKey", "The Tag.N.Key contain duplicate key.".into()),
        D::TooManyTags(max) => (400, "NumberExceed.Tags", format!("The Tags parameter's number is exceed , Valid : {max}.")),
        D::TooManyResources(max) => (400, "NumberExceed.ResourceIds", format!("The ResourceIds parameter's number is exceed , Valid : {max}.")),
        D::ClientTokenMalformed => (400, "InvalidClientToken.ValueNotSupported", "The ClientToken provided is invalid.".into()),
        D::EnterpriseNeedsVpc => (400, "InvalidParams.VpcIdGroupType", "Only VPC instance supports enterprise level security group.".into()),
        D::EnterprisePolicyImmutable => (
            404,
            "InvalidParameter.InnerAccessPolicy",
            "The InnerAccessPolicy attribute of enterprise level security group can't be modified.".into(),
        ),
        D::SecurityGroupQuotaExceeded => (403, "QuotaExceed.SecurityGroup", "The maximum number of security groups is reached.".into()),
        D::TagQuotaExceeded => (400, "OperationDenied.QuotaExceed", "The quota of tags on resource is beyond permitted range.".into()),
        D::IdempotentParameterMismatch => (400, "IdempotentParameterMismatch", "The request is retried with updated parameters.".into()),
        D::Store(e) => return from_store(e),
    };
    RpcError::new(status, code, message)
}

pub fn from_store(err: StoreError) -> RpcError {
    match err {
        StoreError::Unavailable(detail) => {
            tracing::warn!(%detail, "storage unavailable");
            RpcError::service_unavailable()
        }
        other => {
            tracing::error!(error = %other, "storage failure");
            RpcError::internal()
        }
    }
}

// ---- wire-level parameter errors ----

/// `Missing<Name>` (the gateway form, ecs-api.md §9 #6) for a required parameter.
pub fn missing(name: &str) -> RpcError {
    RpcError::new(
        400,
        format!("Missing{name}"),
        format!("{name} is mandatory for this action."),
    )
}

/// A value that is not of the parameter's type or range, with no more specific code.
pub fn invalid(name: &str) -> RpcError {
    RpcError::new(
        400,
        "InvalidParameter",
        format!("The specified parameter \"{name}\" is not valid."),
    )
}

pub fn dry_run_passed() -> RpcError {
    RpcError::new(
        400,
        "DryRunOperation",
        "Request validation has been passed with DryRun flag set.",
    )
}

/// Tag APIs document their missing parameters as 404 `MissingParameter.<X>`.
pub fn tag_missing(name: &str) -> RpcError {
    RpcError::new(
        404,
        format!("MissingParameter.{name}"),
        format!("The parameter - {name} should not be null."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every domain refusal maps to a 4xx with a documented-looking code.
    #[test]
    fn every_domain_error_has_a_client_status() {
        let all = [
            DomainError::RegionNotFound("x".into()),
            DomainError::SecurityGroupNotFound("x".into()),
            DomainError::ResourceNotFound("x".into()),
            DomainError::SecurityGroupIdMalformed,
            DomainError::SecurityGroupNameMalformed,
            DomainError::SecurityGroupDescriptionMalformed,
            DomainError::SecurityGroupTypeInvalid,
            DomainError::PolicyMalformed,
            DomainError::TagKeyMalformed,
            DomainError::TagValueMalformed,
            DomainError::TagKeyDuplicate,
            DomainError::TooManyTags(20),
            DomainError::TooManyResources(50),
            DomainError::ClientTokenMalformed,
            DomainError::EnterpriseNeedsVpc,
            DomainError::EnterprisePolicyImmutable,
            DomainError::SecurityGroupQuotaExceeded,
            DomainError::TagQuotaExceeded,
            DomainError::IdempotentParameterMismatch,
        ];
        for e in all {
            let r = from_domain(e.clone());
            assert!(r.status.is_client_error(), "{e:?} -> {r:?}");
            assert!(r.code.contains(|c: char| c.is_ascii_uppercase()), "{e:?}");
            assert!(!r.message.is_empty());
        }
        assert_eq!(
            from_domain(DomainError::Store(StoreError::Unavailable("down".into())))
                .status
                .as_u16(),
            503
        );
        assert_eq!(
            from_domain(DomainError::Store(StoreError::Other("x".into())))
                .status
                .as_u16(),
            500
        );
    }
}
