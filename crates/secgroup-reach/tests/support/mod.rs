//! Domain values for tests: the constructors and the topology generator live in
//! `secgroup_reach::testkit` (shared with the data plane's tests); the oracle stays here.
#![allow(dead_code)]

pub mod oracle;

pub use secgroup_reach::testkit::*;
