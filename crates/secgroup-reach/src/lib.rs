//! The reachability engine: given one account's groups, rules, NICs, prefix lists and VPCs,
//! which flows do the security groups allow, and why (docs/semantics.md).
//!
//! Build an immutable [`Snapshot`], then ask [`Snapshot::evaluate`] for one flow or
//! [`Snapshot::matrix`] for every source × destination pair at once.
#![forbid(unsafe_code)]

mod direction_table;
mod evaluate;
mod matrix;
mod snapshot;
mod verdict;

pub use matrix::Matrix;
pub use snapshot::{Snapshot, SnapshotInput};
pub use verdict::{DirectionOutcome, Endpoint, Flow, ReachError, Step, StepKind, Verdict};

#[cfg(feature = "testkit")]
pub mod testkit;
