//! `CreateNetworkPath`, `DeleteNetworkPath` (docs/nis.md §3.1, §3.5): decode, call the
//! domain, render.

use chrono::Utc;
use secgroup_domain::ops::nis::{self as ops, NewNetworkPath};
use secgroup_domain::Store;
use secgroup_rpc::{CallContext, Node, Params, RpcError};

use crate::{decode, Nis};

pub async fn create<S: Store>(
    nis: &Nis<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region = decode::region(&mut p, &nis.config.regions)?;
    let name = p.required("NetworkPathName")?.to_string();
    let path = decode::path(&mut p)?;
    let new = NewNetworkPath {
        region_id: region.unwrap_or_default(),
        name,
        description: p
            .optional("NetworkPathDescription")
            .unwrap_or("")
            .to_string(),
        resource_group_id: p.optional("ResourceGroupId").unwrap_or("").to_string(),
        path,
        tags: decode::tags(&mut p)?,
    };
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    let limits = nis.config.limits.clone();
    let created = nis
        .write(move |tx| {
            let mut new = new.clone();
            if new.region_id.is_empty() {
                new.region_id = ops::region_of(tx, &account, &new.path)?.unwrap_or_default();
            }
            ops::create_path(tx, &account, &new, &limits, Utc::now())
        })
        .await?;
    Ok(Node::object().str("NetworkPathId", created.id).build())
}

pub async fn delete<S: Store>(
    nis: &Nis<S>,
    ctx: &CallContext,
    params: &Params,
) -> Result<Node, RpcError> {
    let mut p = params.cursor();
    let region = decode::region(&mut p, &nis.config.regions)?;
    let ids = decode::id_list(&mut p, "NetworkPathIds", "NetworkPathId")?;
    ctx.note_unread(&p);
    let account = ctx.account_id.clone();
    nis.write(move |tx| ops::delete_paths(tx, &account, region.as_deref(), &ids))
        .await?;
    Ok(Node::object().bool("Data", true).build())
}
