//! `CreateNetworkReachableAnalysis`, `CreateAndAnalyzeNetworkPath`,
//! `GetNetworkReachableAnalysis`, `DeleteNetworkReachableAnalysis` (docs/nis.md §3.2–§3.6),
//! each a typed action.
//!
//! An analysis reads its path (and the store's change revision) in one transaction, is
//! decided by the reachability service over the network as of that revision or later (off
//! the async workers), and is stored in a second transaction: it records the network as it
//! was when it ran, and is `finish`ed before the call returns (docs/nis.md §1.3).

use secgroup_api::{Action, Cx, Input};
use secgroup_domain::nis::{AnalysisStatus, PathSpec, ReachabilityAnalysis};
use secgroup_domain::ops::nis::{self as ops, PathDraft};
use secgroup_domain::{ids, Store, Tag};
use secgroup_reach_service::ReachabilityError;
use secgroup_rpc::{Node, RpcError};

use crate::report::{self, Ids};
use crate::{decode, Nis};

/// What one analysis is of, as read in one transaction with the store's change revision.
struct Subject {
    region_id: String,
    /// `""` for a one-off analysis.
    network_path_id: String,
    spec: PathSpec,
    revision: u64,
}

/// Decides `subject` and stores the record; returns it.
async fn run_analysis<S: Store>(
    cx: &Cx<'_, Nis<S>>,
    subject: Subject,
    tags: Vec<Tag>,
) -> Result<ReachabilityAnalysis, RpcError> {
    let account_id = cx.account().to_string();
    let account = cx.account();
    let request_id = cx.call().request_id.clone();
    let Subject {
        region_id,
        network_path_id,
        spec,
        revision,
    } = subject;
    let region = region_id.clone();
    let analysis = cx
        .product()
        .reachability()
        .ask_since(account, &region, revision, move |network, now| {
            let id = ids::new_analysis_id();
            let outcome = report::analyze(
                network,
                now,
                &spec,
                &Ids {
                    analysis_id: &id,
                    request_id: &request_id,
                    region_id: &region_id,
                },
            );
            ReachabilityAnalysis {
                id,
                account_id,
                region_id,
                network_path_id,
                spec,
                status: AnalysisStatus::Finish,
                reachable: outcome.reachable,
                result: outcome.result,
                creation_time: now,
            }
        })
        .await
        .map_err(|e| refused(cx, e))?;
    let record = analysis.clone();
    let before = cx
        .write(move |tx, scope| {
            let before = tx.revision()?;
            ops::record_analysis(tx, &record, &tags, &scope.config().limits)?;
            Ok(before)
        })
        .await?;
    // A record is no part of the network: what the service compiled still holds, and the
    // next analysis need not compile it again.
    cx.product()
        .reachability()
        .unchanged_by_write(account, &region, before);
    Ok(analysis)
}

/// A failure of the reachability service, as this action reports it. Only reading the
/// network can fail for NIS (an unanswerable path is a result document, not an error).
fn refused<S: Store>(cx: &Cx<'_, Nis<S>>, err: ReachabilityError) -> RpcError {
    match err {
        ReachabilityError::Domain(e) => cx.error(e),
        other => {
            tracing::error!(error = %other, "reachability analysis failed");
            RpcError::internal()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateNetworkReachableAnalysis {
    region_id: Option<String>,
    path_id: String,
    tags: Vec<Tag>,
}

impl<S: Store> Action<Nis<S>> for CreateNetworkReachableAnalysis {
    const NAME: &'static str = "CreateNetworkReachableAnalysis";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(CreateNetworkReachableAnalysis {
            region_id: p.optional_region()?,
            path_id: p.required("NetworkPathId")?.to_string(),
            tags: decode::tags(p)?,
        })
    }

    async fn run(self, cx: &Cx<'_, Nis<S>>) -> Result<Node, RpcError> {
        let (region_id, path_id) = (self.region_id, self.path_id);
        let subject = cx
            .read(move |tx, scope| {
                let path = ops::path(tx, scope.account(), region_id.as_deref(), &path_id)?;
                Ok(Subject {
                    revision: tx.revision()?,
                    region_id: path.region_id,
                    network_path_id: path.id,
                    spec: path.spec,
                })
            })
            .await?;
        let analysis = run_analysis(cx, subject, self.tags).await?;
        Ok(Node::object()
            .str("NetworkReachableAnalysisId", analysis.id)
            .build())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateAndAnalyzeNetworkPath {
    region_id: Option<String>,
    draft: PathDraft,
}

impl<S: Store> Action<Nis<S>> for CreateAndAnalyzeNetworkPath {
    const NAME: &'static str = "CreateAndAnalyzeNetworkPath";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(CreateAndAnalyzeNetworkPath {
            region_id: p.optional_region()?,
            draft: decode::path(p)?,
        })
    }

    async fn run(self, cx: &Cx<'_, Nis<S>>) -> Result<Node, RpcError> {
        let (region, draft) = (self.region_id, self.draft);
        let subject = cx
            .read(move |tx, scope| {
                let region_id = match &region {
                    Some(r) => r.clone(),
                    None => ops::region_of(tx, scope.account(), &draft)?.unwrap_or_default(),
                };
                Ok(Subject {
                    spec: ops::resolve(tx, scope.account(), &region_id, &draft)?,
                    revision: tx.revision()?,
                    region_id,
                    network_path_id: String::new(),
                })
            })
            .await?;
        let analysis = run_analysis(cx, subject, Vec::new()).await?;
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetNetworkReachableAnalysis {
    region_id: Option<String>,
    id: String,
}

impl<S: Store> Action<Nis<S>> for GetNetworkReachableAnalysis {
    const NAME: &'static str = "GetNetworkReachableAnalysis";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(GetNetworkReachableAnalysis {
            region_id: p.optional_region()?,
            id: p.required("NetworkReachableAnalysisId")?.to_string(),
        })
    }

    async fn run(self, cx: &Cx<'_, Nis<S>>) -> Result<Node, RpcError> {
        let (region_id, id) = (self.region_id, self.id);
        let a = cx
            .read(move |tx, scope| ops::analysis(tx, scope.account(), region_id.as_deref(), &id))
            .await?;
        let ali_uid = a.account_id.parse::<i64>().unwrap_or_default();
        Ok(Node::object()
            .str("NetworkReachableAnalysisId", a.id)
            .str("NetworkPathId", a.network_path_id)
            .str("NetworkReachableAnalysisStatus", a.status.as_str())
            .bool("Reachable", a.reachable)
            .str("NetworkReachableAnalysisResult", a.result)
            .str("NetworkPathParameter", a.spec.to_json())
            .str("CreateTime", secgroup_api::render::time(&a.creation_time))
            .int("AliUid", ali_uid)
            .build())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteNetworkReachableAnalysis {
    region_id: Option<String>,
    ids: Vec<String>,
}

impl<S: Store> Action<Nis<S>> for DeleteNetworkReachableAnalysis {
    const NAME: &'static str = "DeleteNetworkReachableAnalysis";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(DeleteNetworkReachableAnalysis {
            region_id: p.optional_region()?,
            ids: decode::id_list(
                p,
                "NetworkReachableAnalysisIds",
                "NetworkReachableAnalysisId",
            )?,
        })
    }

    async fn run(self, cx: &Cx<'_, Nis<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            ops::delete_analyses(tx, scope.account(), self.region_id.as_deref(), &self.ids)
        })
        .await?;
        Ok(Node::object().bool("Data", true).build())
    }
}
