//! Everything the domain can refuse. The ECS crate maps each variant to an Alibaba code once.

use crate::store::{StoreError, TxError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    // ---- lookups ----
    #[error("region {0} does not exist")]
    RegionNotFound(String),
    #[error("security group {0} does not exist")]
    SecurityGroupNotFound(String),
    #[error("resource {0} does not exist")]
    ResourceNotFound(String),

    // ---- malformed values ----
    #[error("security group id is malformed")]
    SecurityGroupIdMalformed,
    #[error("security group name is malformed")]
    SecurityGroupNameMalformed,
    #[error("security group description is malformed")]
    SecurityGroupDescriptionMalformed,
    #[error("security group type is not valid")]
    SecurityGroupTypeInvalid,
    #[error("inner access policy is not Accept or Drop")]
    PolicyMalformed,
    #[error("tag key is malformed")]
    TagKeyMalformed,
    #[error("tag value is malformed")]
    TagValueMalformed,
    #[error("tag keys are duplicated")]
    TagKeyDuplicate,
    #[error("too many tags in one request (max {0})")]
    TooManyTags(usize),
    #[error("too many resource ids in one request (max {0})")]
    TooManyResources(usize),
    #[error("client token is malformed")]
    ClientTokenMalformed,

    // ---- rules of the domain ----
    #[error("an enterprise security group needs a VPC")]
    EnterpriseNeedsVpc,
    #[error("the inner access policy of an enterprise security group cannot be modified")]
    EnterprisePolicyImmutable,
    #[error("security group quota reached")]
    SecurityGroupQuotaExceeded,
    #[error("tag quota of a resource reached")]
    TagQuotaExceeded,
    #[error("client token reused with other parameters")]
    IdempotentParameterMismatch,

    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TxError for DomainError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            DomainError::Store(e) => Some(e),
            _ => None,
        }
    }
}
