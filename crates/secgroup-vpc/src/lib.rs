//! The VPC product (API version 2016-04-28): VPCs and vSwitches, as typed actions over the
//! shared product base ([`secgroup_api`]), with VPC's own wording of a few errors
//! ([`errors`]).
#![forbid(unsafe_code)]

pub mod errors;
mod render;
mod vpcs;
mod vswitches;

use std::sync::Arc;

use secgroup_api::paging::Paging;
use secgroup_api::{Base, Input, ProductConfig};
use secgroup_domain::{validate, DomainError, Store};
use secgroup_rpc::render::ObjectBuilder;
use secgroup_rpc::{Node, RpcError};

pub const VERSION: &str = "2016-04-28";

/// The VPC product over a store.
pub struct Vpc<S> {
    base: Base<S>,
}

impl<S: Store> Vpc<S> {
    pub fn new(store: Arc<S>, config: Arc<ProductConfig>) -> Self {
        Vpc {
            base: Base::new(store, config),
        }
    }
}

impl<S: Store> secgroup_api::Product for Vpc<S> {
    type Store = S;
    const VERSION: &'static str = VERSION;
    const CODE: &'static str = "Vpc";
    fn base(&self) -> &Base<S> {
        &self.base
    }
    fn wording(err: &DomainError) -> Option<RpcError> {
        errors::wording(err)
    }
}

secgroup_api::actions! {
    Vpc<S: Store> {
        vpcs::CreateVpc,
        vpcs::DescribeVpcs,
        vpcs::DescribeVpcAttribute,
        vpcs::ModifyVpcAttribute,
        vpcs::DeleteVpc,
        vswitches::CreateVSwitch,
        vswitches::DescribeVSwitches,
        vswitches::DescribeVSwitchAttributes,
        vswitches::ModifyVSwitchAttribute,
        vswitches::DeleteVSwitch,
    }
}

/// `Tag.N.Key` with an optional `Tag.N.Value` as filters (a value without a key is a
/// malformed key), at most the per-request number of tags.
fn tag_filters(p: &mut Input<'_>) -> Result<Vec<(String, Option<String>)>, RpcError> {
    let malformed = p.error(DomainError::TagKeyMalformed);
    let filters = p.tag_filters(|| malformed.clone())?;
    if filters.len() > validate::MAX_TAGS_PER_REQUEST {
        return Err(p.error(vpcs::too_many_tags()));
    }
    Ok(filters)
}

/// `TotalCount`, `PageNumber`, `PageSize` of a page-numbered listing.
fn page_header(total: usize, paging: Paging) -> ObjectBuilder {
    let (number, size) = match paging {
        Paging::Pages { number, size } => (number, size),
        Paging::Tokens { offset, max } => (offset / max.max(1) + 1, max),
    };
    Node::object()
        .int("TotalCount", i64::try_from(total).unwrap_or(i64::MAX))
        .int("PageNumber", i64::try_from(number).unwrap_or(i64::MAX))
        .int("PageSize", i64::try_from(size).unwrap_or(i64::MAX))
}
