//! The operator settings every product reads: one configuration, not one per product.

use std::sync::Arc;

use secgroup_domain::catalogue::Catalogue;
use secgroup_domain::ops::instances::InstanceTimings;
use secgroup_domain::ops::placement::PlacementPolicy;
use secgroup_domain::ops::Limits;
use secgroup_domain::regions::RegionCatalog;

/// The largest scope `DescribeReachabilityMatrix` answers by default: 2,000 instances make
/// 4,000,000 cells, a reply of about 4 MB.
pub const DEFAULT_MAX_MATRIX_INSTANCES: usize = 2000;

/// What an operator sets for all products at once.
#[derive(Debug, Clone)]
pub struct ProductConfig {
    /// The regions offered; other `RegionId`s are unknown.
    pub regions: RegionCatalog,
    /// Quotas.
    pub limits: Limits,
    /// How long instances stay in each transient state (all zero by default).
    pub instance_timings: InstanceTimings,
    /// How instances are placed on the data plane's hosts (`serve --host-timeout-secs`).
    pub placement: PlacementPolicy,
    /// The most instances one reachability matrix covers.
    pub max_matrix_instances: usize,
    /// How long a `ClientToken` is remembered (docs/ecs.md §2.8).
    pub client_token_retention: chrono::Duration,
    /// Zones, instance types and images (docs/ecs.md §9): the built-in catalogue, or it
    /// with `serve --catalogue FILE` merged over it.
    pub catalogue: Arc<Catalogue>,
    /// Whether launches refuse image ids and instance types the catalogue lacks
    /// (`serve --strict-catalogue`).
    pub strict_catalogue: bool,
    /// How long audit events are kept (docs/actiontrail.md §1.4); `None`: no audit trail
    /// is written (`serve --audit-retention-days 0`).
    pub audit_retention: Option<chrono::Duration>,
}

impl Default for ProductConfig {
    fn default() -> Self {
        ProductConfig {
            regions: RegionCatalog::public(),
            limits: Limits::default(),
            instance_timings: InstanceTimings::default(),
            placement: PlacementPolicy::default(),
            max_matrix_instances: DEFAULT_MAX_MATRIX_INSTANCES,
            client_token_retention: secgroup_domain::ops::idempotency::DEFAULT_RETENTION,
            catalogue: Arc::new(Catalogue::builtin()),
            strict_catalogue: false,
            audit_retention: Some(crate::audit::DEFAULT_RETENTION),
        }
    }
}
