//! VPC's wording of domain errors, where it differs from the base map of
//! [`secgroup_api::errors`].
//!
//! Missing parameters: a parameter the API metadata marks required is refused the way the
//! gateway refuses it, `Missing<Name>` (400, docs/protocol.md §4.3, as ECS does); the
//! backend's own either-or requirements (`CidrBlock` or `CidrMask`; `RegionId` or `VpcId`)
//! answer VPC's backend form, `MissingParameter` "Miss mandatory parameter." (400,
//! docs/vpc.md §1.2).

use secgroup_domain::DomainError;
use secgroup_rpc::RpcError;

pub use secgroup_api::errors::invalid;

/// VPC's wording of a domain error, where it differs from the base map.
pub fn wording(err: &DomainError) -> Option<RpcError> {
    match err {
        DomainError::RegionNotFound(_) => Some(region_not_found()),
        DomainError::VSwitchNotFound(_) => Some(RpcError::new(
            404,
            "InvalidVSwitchId.NotFound",
            "VSwitch not exist.",
        )),
        _ => None,
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
    use secgroup_api::Action;
    use secgroup_store_sqlite::SqliteStore;

    use crate::vswitches::{DeleteVSwitch, ModifyVSwitchAttribute};
    use crate::Vpc;

    fn outcome(e: RpcError) -> (u16, String, String) {
        (
            e.status.as_u16(),
            e.code.into_owned(),
            e.message.into_owned(),
        )
    }

    /// VPC's own wording, an action's wording on top of it, and the base map below both.
    #[test]
    fn product_and_action_wording_over_the_base_map() {
        type P = Vpc<SqliteStore>;
        let e = secgroup_api::action::map_error::<P, DeleteVSwitch>(DomainError::RegionNotFound(
            "x".into(),
        ));
        assert_eq!(
            outcome(e),
            (
                404,
                "InvalidRegionId.NotFound".into(),
                "Specified value of \"regionId\" is not supported.".into()
            )
        );
        let missing = DomainError::VSwitchNotFound("x".into());
        let e = secgroup_api::action::map_error::<P, DeleteVSwitch>(missing.clone());
        assert_eq!(e.message, "VSwitch not exist.");
        let e = secgroup_api::action::map_error::<P, ModifyVSwitchAttribute>(missing);
        assert_eq!(e.message, "The specified virtual switch does not exists.");
        assert!(
            <ModifyVSwitchAttribute as Action<P>>::wording(&DomainError::VpcNotFound("x".into()))
                .is_none()
        );
        let e = secgroup_api::action::map_error::<P, DeleteVSwitch>(DomainError::VpcNotFound(
            "x".into(),
        ));
        assert_eq!(
            outcome(e),
            (
                404,
                "InvalidVpcId.NotFound".into(),
                "Specified VPC does not exist.".into()
            )
        );
    }
}
