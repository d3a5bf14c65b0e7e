//! The shared fixtures of the integration tests: `secgroup::testkit` (the `testkit` feature).
pub use secgroup::testkit::*;
