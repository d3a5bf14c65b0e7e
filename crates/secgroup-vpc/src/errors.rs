//! VPC's error wording. Every domain error goes through ECS's single table
//! ([`secgroup_ecs::errors::from_domain`]); only what VPC words differently is overridden.
//!
//! Missing parameters: a parameter the API metadata marks required is refused the way the
//! gateway refuses it, `Missing<Name>` (400, docs/protocol.md §4.3, as ECS does); the backend's
//! own either-or requirements (`CidrBlock` or `CidrMask`; `RegionId` or `VpcId`) answer
//! VPC's backend form, `MissingParameter` "Miss mandatory parameter." (400, docs/vpc.md §1.2).

use secgroup_domain::DomainError;
use secgroup_rpc::RpcError;

pub use secgroup_ecs::errors::invalid;

/// A domain failure of `action` as VPC reports it.
pub fn from_domain(action: &str, err: DomainError) -> RpcError {
    match err {
        DomainError::RegionNotFound(_) => region_not_found(),
        DomainError::VSwitchNotFound(_) if action == "ModifyVSwitchAttribute" => RpcError::new(
            404,
            "InvalidVSwitchId.NotFound",
            "The specified virtual switch does not exists.",
        ),
        DomainError::VSwitchNotFound(_) => {
            RpcError::new(404, "InvalidVSwitchId.NotFound", "VSwitch not exist.")
        }
        other => secgroup_ecs::errors::from_domain(other),
    }
}

/// An unknown `RegionId` (VPC's wording, docs/vpc.md §1.2).
pub fn region_not_found() -> RpcError {
    RpcError::new(
        404,
        "InvalidRegionId.NotFound",
        "Specified value of \"regionId\" is not supported.",
    )
}

/// The backend's own "one of these is required" refusal.
pub fn miss_mandatory() -> RpcError {
    RpcError::new(400, "MissingParameter", "Miss mandatory parameter.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_and_fallthrough() {
        let e = from_domain("DescribeVpcs", DomainError::RegionNotFound("x".into()));
        assert_eq!(
            (e.status.as_u16(), e.code.as_ref()),
            (404, "InvalidRegionId.NotFound")
        );
        assert!(e.message.contains("regionId"));
        let e = from_domain("DeleteVSwitch", DomainError::VSwitchNotFound("x".into()));
        assert_eq!(e.message, "VSwitch not exist.");
        let e = from_domain(
            "ModifyVSwitchAttribute",
            DomainError::VSwitchNotFound("x".into()),
        );
        assert_eq!(e.message, "The specified virtual switch does not exists.");
        let e = from_domain("DeleteVpc", DomainError::VpcNotFound("x".into()));
        assert_eq!(
            (e.status.as_u16(), e.code.as_ref(), e.message.as_ref()),
            (
                404,
                "InvalidVpcId.NotFound",
                "Specified VPC does not exist."
            )
        );
    }
}
