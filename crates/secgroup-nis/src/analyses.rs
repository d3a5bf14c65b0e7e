//! `CreateNetworkReachableAnalysis`, `CreateAndAnalyzeNetworkPath`,
//! `GetNetworkReachableAnalysis`, `DeleteNetworkReachableAnalysis` (docs/nis.md §3.2–§3.6).
//!
//! An analysis reads the path and the network in one transaction, is decided by the engine
//! off the async runtime, and is stored in a second transaction: it records the network as
//! it was when it ran, and is `finish`ed before the call returns.

use std::collections::HashMap;

use chrono::Utc;
use secgroup_domain::nis::{AnalysisStatus, ReachabilityAnalysis};
use secgroup_domain::ops::network_state;
use secgroup_domain::ops::nis::{self as ops, AnalysisInput};
use secgroup_domain::{ids, Store, Tag};
use secgroup_rpc::{CallContext, Node, Params, RpcError};

use crate::report::{self, Ids};
use crate::{decode, errors, Nis};

impl<S: Store> Nis<S> {
    /// Decides `input` and stores the record; returns it.
    async fn run_analysis(
        &self,
        ctx: &CallContext,
        input: AnalysisInput,
        tags: Vec<Tag>,
    ) -> Result<ReachabilityAnalysis, RpcError> {
        let timings = self.config.instance_timings;
        let account_id = ctx.account_id.clone();
        let request_id = ctx.request_id.clone();
        let decide = move || {
            let now = Utc::now();
            let AnalysisInput {
                region_id,
                network_path_id,
                spec,
                mut state,
                vswitches,
            } = input;
            network_state::settle_statuses(&mut state, &timings, now)
                .map_err(errors::from_domain)?;
            let id = ids::new_analysis_id();
            let vswitches: HashMap<_, _> =
                vswitches.into_iter().map(|v| (v.id.clone(), v)).collect();
            let outcome = report::analyze(
                &state,
                &vswitches,
                &spec,
                &Ids {
                    analysis_id: &id,
                    request_id: &request_id,
                    region_id: &region_id,
                },
            );
            Ok::<_, RpcError>(ReachabilityAnalysis {
                id,
                account_id,
                region_id,
                network_path_id,
                spec,
                status: AnalysisStatus::Finish,
                reachable: outcome.reachable,
                result: outcome.result,
                creation_time: now,
            })
        };
        // A whole account's network is compiled: keep it off the request threads.
        let analysis: ReachabilityAnalysis =
            tokio::task::spawn_blocking(decide).await.map_err(|e| {
                tracing::error!(error = %e, "reachability analysis panicked");
                RpcError::internal()
            })??;
        let record = analysis.clone();
        let limits = self.config.limits.clone();
        self.write(move |tx| ops::record_analysis(tx, &record, &tags, &limits))
            .await?;
        Ok(analysis)
    }
}

pub async fn create<S: Store>(
    nis: &Nis<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region = decode::region(&mut p, &nis.config.regions)?;
    let path_id = p.required("NetworkPathId")?.to_string();
    let tags = decode::tags(&mut p)?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let input = nis
        .read(move |tx| ops::analysis_input(tx, &account, region.as_deref(), &path_id))
        .await?;
    let analysis = nis.run_analysis(ctx, input, tags).await?;
    Ok(Node::object()
        .str("NetworkReachableAnalysisId", analysis.id)
        .build())
}

pub async fn create_and_analyze<S: Store>(
    nis: &Nis<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region = decode::region(&mut p, &nis.config.regions)?;
    let draft = decode::path(&mut p)?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let input = nis
        .read(move |tx| {
            let region_id = match &region {
                Some(r) => r.clone(),
                None => ops::region_of(tx, &account, &draft)?.unwrap_or_default(),
            };
            ops::one_off_input(tx, &account, &region_id, &draft)
        })
        .await?;
    let analysis = nis.run_analysis(ctx, input, Vec::new()).await?;
    let spec = &analysis.spec;
    let port = |p: Option<u16>| p.unwrap_or(0).to_string();
    Ok(Node::object()
        .str("NetworkReachableAnalysisId", analysis.id.clone())
        .str("SourceId", spec.source_id.clone())
        .str("SourceType", spec.source_type.as_str())
        .str(
            "SourceIpAddress",
            spec.source_ip_address.clone().unwrap_or_default(),
        )
        .str("SourcePort", port(spec.source_port))
        .str("TargetId", spec.target_id.clone())
        .str("TargetType", spec.target_type.as_str())
        .str(
            "TargetIpAddress",
            spec.target_ip_address.clone().unwrap_or_default(),
        )
        .str("TargetPort", port(spec.target_port))
        .str("Protocol", spec.protocol.as_str())
        .build())
}

pub async fn get<S: Store>(
    nis: &Nis<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region = decode::region(&mut p, &nis.config.regions)?;
    let id = p.required("NetworkReachableAnalysisId")?.to_string();
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let a = nis
        .read(move |tx| ops::analysis(tx, &account, region.as_deref(), &id))
        .await?;
    let ali_uid = a.account_id.parse::<i64>().unwrap_or_default();
    Ok(Node::object()
        .str("NetworkReachableAnalysisId", a.id)
        .str("NetworkPathId", a.network_path_id)
        .str("NetworkReachableAnalysisStatus", a.status.as_str())
        .bool("Reachable", a.reachable)
        .str("NetworkReachableAnalysisResult", a.result)
        .str("NetworkPathParameter", a.spec.to_json())
        .str(
            "CreateTime",
            a.creation_time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
        .int("AliUid", ali_uid)
        .build())
}

pub async fn delete<S: Store>(
    nis: &Nis<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region = decode::region(&mut p, &nis.config.regions)?;
    let ids = decode::id_list(
        &mut p,
        "NetworkReachableAnalysisIds",
        "NetworkReachableAnalysisId",
    )?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    nis.write(move |tx| ops::delete_analyses(tx, &account, region.as_deref(), &ids))
        .await?;
    Ok(Node::object().bool("Data", true).build())
}
