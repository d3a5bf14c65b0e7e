//! secgroup's own API, clearly apart from Alibaba's: version [`VERSION`]
//! (`x-secgroup-2026-11-01`) on the same endpoint, signed like any other call, over the
//! same accounts. It answers questions the reachability engine can answer and no Alibaba
//! action asks:
//! - `CheckReachability`: can this source reach that destination, and why;
//! - `DescribeReachabilityMatrix`: who reaches whom among a VPC's instances, or a set of
//!   groups' members.
//!
//! Handlers are thin (decode, call, render); the work is in [`reachability`] and
//! [`matrix`], which know nothing of HTTP.
#![forbid(unsafe_code)]

mod decode;
pub mod errors;
pub mod explain;
pub mod matrix;
pub mod reachability;
mod render;

use std::sync::Arc;

use chrono::Utc;
use secgroup_api::ProductConfig;
use secgroup_domain::network::NetworkState;
use secgroup_domain::ops::network_state;
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::{CallContext, Node, Params, RpcError};

pub const VERSION: &str = "x-secgroup-2026-11-01";

/// The extension product over a store.
pub struct Ext<S> {
    store: Arc<S>,
    config: Arc<ProductConfig>,
}

impl<S: Store> Ext<S> {
    pub fn new(store: Arc<S>, config: Arc<ProductConfig>) -> Self {
        Ext { store, config }
    }

    /// The account's network in `region_id`, read in one transaction.
    async fn network(&self, account_id: &str, region_id: &str) -> Result<NetworkState, RpcError> {
        let (account, region) = (account_id.to_string(), region_id.to_string());
        let result: Result<NetworkState, DomainError> = self
            .store
            .read(move |tx| Ok(network_state::load(tx, &account, &region)?))
            .await;
        result.map_err(secgroup_api::errors::domain)
    }

    async fn check_reachability(
        &self,
        ctx: &CallContext,
        params: &Params,
    ) -> Result<Node, RpcError> {
        let mut p = params.cursor();
        let region_id = decode::region(&mut p, &self.config.regions)?;
        let query = decode::flow_query(&mut p)?;
        ctx.note_unread(&p);
        let state = self.network(&ctx.account_id, &region_id).await?;
        let answer = reachability::check(state, &query, &self.config.instance_timings, Utc::now())
            .map_err(errors::from_reachability)?;
        Ok(render::flow_answer(&query, &answer))
    }

    async fn describe_matrix(&self, ctx: &CallContext, params: &Params) -> Result<Node, RpcError> {
        let mut p = params.cursor();
        let region_id = decode::region(&mut p, &self.config.regions)?;
        let query = decode::matrix_query(&mut p)?;
        ctx.note_unread(&p);
        let state = self.network(&ctx.account_id, &region_id).await?;
        let answer = matrix::matrix(
            state,
            &query,
            self.config.max_matrix_instances,
            &self.config.instance_timings,
            Utc::now(),
        )
        .map_err(errors::from_reachability)?;
        Ok(render::matrix_answer(&query, &answer))
    }
}

secgroup_rpc::product! {
    Ext<S: Store>, version: VERSION, code: "SecgroupExt",
    actions: {
        CheckReachability => Self::check_reachability,
        DescribeReachabilityMatrix => Self::describe_matrix,
    }
}
