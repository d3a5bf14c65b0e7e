//! The operations, written once against [`crate::Tx`] so every storage backend shares them.
//! Each runs inside one transaction: it either completes or changes nothing.

pub mod accounts;
pub mod idempotency;
pub mod security_groups;
pub mod tags;

/// Limits an operator can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Security groups per account and region (`QuotaExceed.SecurityGroup`).
    pub security_groups_per_region: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            security_groups_per_region: 100,
        }
    }
}
