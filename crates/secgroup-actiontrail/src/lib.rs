//! The ActionTrail product (API version 2020-07-06): the audit trail the product base
//! records (docs/actiontrail.md §1), read through `LookupEvents` (docs/actiontrail.md §2).
//! An account sees only its own events.
#![forbid(unsafe_code)]

mod events;

use std::sync::Arc;

use secgroup_api::{Base, ProductConfig};
use secgroup_domain::Store;

pub use events::{event_json, LookupEvents, DEFAULT_MAX_RESULTS, MAX_RESULTS};

pub const VERSION: &str = "2020-07-06";

/// The ActionTrail product over a store.
pub struct Actiontrail<S> {
    base: Base<S>,
}

impl<S: Store> Actiontrail<S> {
    pub fn new(store: Arc<S>, config: Arc<ProductConfig>) -> Self {
        Actiontrail {
            base: Base::new(store, config),
        }
    }
}

impl<S: Store> secgroup_api::Product for Actiontrail<S> {
    type Store = S;
    const VERSION: &'static str = VERSION;
    const CODE: &'static str = "Actiontrail";
    fn base(&self) -> &Base<S> {
        &self.base
    }
}

secgroup_api::actions! {
    Actiontrail<S: Store> {
        events::LookupEvents,
    }
}
