//! The extension's refusals. Domain failures go through the base map
//! ([`secgroup_api::errors::domain`]), so an unknown instance, VPC or group answers the
//! same not-found code as ECS and VPC; what only this API can refuse is worded here.

use secgroup_rpc::RpcError;

use crate::reachability::ReachabilityError;

/// A question the engine could not answer, as the client sees it.
pub fn from_reachability(err: ReachabilityError) -> RpcError {
    match err {
        ReachabilityError::Domain(e) => secgroup_api::errors::domain(e),
        e @ ReachabilityError::AmbiguousAddress { .. } => RpcError::new(
            400,
            "InvalidParameter.AmbiguousIpAddress",
            format!("The specified IP address is ambiguous: {e}."),
        ),
        ReachabilityError::NoInstance => RpcError::new(
            400,
            "InvalidParameter.NoInstance",
            "At least one end of the flow must be an instance of this account in the specified region.",
        ),
        ReachabilityError::ScopeTooLarge { count, max } => RpcError::new(
            400,
            "InvalidParameter.ScopeTooLarge",
            format!(
                "The specified scope holds {count} instances; a reachability matrix covers at most {max}. Narrow it with SecurityGroupIds."
            ),
        ),
        ReachabilityError::Engine(e) => RpcError::new(
            400,
            "InvalidParameter",
            format!("The specified flow cannot be evaluated: {e}."),
        ),
        // Already logged where it stopped; the caller asked nothing wrong.
        ReachabilityError::Worker(_) => RpcError::internal(),
    }
}

/// Neither of two either-or parameters was given (`what`: `Source`, `Destination`, `Scope`).
pub fn missing_one_of(what: &str, first: &str, second: &str) -> RpcError {
    RpcError::new(
        400,
        format!("MissingParameter.{what}"),
        format!("One of the parameters {first} or {second} must be specified."),
    )
}

/// Both of two either-or parameters were given.
pub fn conflict(first: &str, second: &str) -> RpcError {
    RpcError::new(
        400,
        "InvalidParameter.Conflict",
        format!("The parameters {first} and {second} cannot be specified together."),
    )
}

/// A value of the wrong shape: `InvalidParameter.<Name>` with what was expected.
pub fn invalid(name: &str, expected: &str) -> RpcError {
    RpcError::new(
        400,
        format!("InvalidParameter.{name}"),
        format!("The specified parameter {name} is not valid: {expected}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use secgroup_domain::DomainError;

    #[test]
    fn not_found_codes_are_ecs_codes_and_parameter_errors_are_400() {
        let e = from_reachability(DomainError::InstanceNotFound("i-x".into()).into());
        assert_eq!(
            (e.status.as_u16(), e.code.as_ref()),
            (404, "InvalidInstanceId.NotFound")
        );
        let e = from_reachability(DomainError::VpcNotFound("vpc-x".into()).into());
        assert_eq!(
            (e.status.as_u16(), e.code.as_ref()),
            (404, "InvalidVpcId.NotFound")
        );
        let e = from_reachability(ReachabilityError::ScopeTooLarge { count: 9, max: 2 });
        assert_eq!(
            (e.status.as_u16(), e.code.as_ref()),
            (400, "InvalidParameter.ScopeTooLarge")
        );
        assert!(e.message.contains("9 instances") && e.message.contains("at most 2"));
        let e = from_reachability(ReachabilityError::AmbiguousAddress {
            address: "10.0.0.5".parse().expect("ip"),
            instances: vec!["i-a".into(), "i-b".into()],
        });
        assert!(e.message.contains("i-a, i-b"), "{}", e.message);
        assert_eq!(
            missing_one_of("Source", "A", "B").code,
            "MissingParameter.Source"
        );
    }
}
