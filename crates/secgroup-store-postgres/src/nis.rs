//! NIS network paths and analysis records. Every query names the account.

use postgres::Row;
use secgroup_domain::ids::AccountId;
use secgroup_domain::nis::{AnalysisStatus, NetworkPath, PathSpec, ReachabilityAnalysis};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{NisTx, ResourceType, StoreError};

use crate::error::corrupt;
use crate::sql::{count, delete_tags, exec, get, opt, rows, Conn};
use crate::tx::PgTx;

macro_rules! path_columns {
    () => {
        "id, account_id, region_id, name, description, resource_group_id, parameters, \
         creation_time"
    };
}

macro_rules! analysis_columns {
    () => {
        "id, account_id, region_id, network_path_id, parameters, status, reachable, result, \
         creation_time"
    };
}

fn spec(text: &str) -> Result<PathSpec, StoreError> {
    PathSpec::from_json(text).ok_or_else(|| corrupt("network path parameters", text))
}

fn decode_path(row: &Row) -> Result<NetworkPath, StoreError> {
    Ok(NetworkPath {
        id: get(row, 0)?,
        account_id: get(row, 1)?,
        region_id: get(row, 2)?,
        name: get(row, 3)?,
        description: get(row, 4)?,
        resource_group_id: get(row, 5)?,
        spec: spec(get(row, 6)?)?,
        creation_time: decode_time(get(row, 7)?)?,
    })
}

fn decode_analysis(row: &Row) -> Result<ReachabilityAnalysis, StoreError> {
    let status: &str = get(row, 5)?;
    Ok(ReachabilityAnalysis {
        id: get(row, 0)?,
        account_id: get(row, 1)?,
        region_id: get(row, 2)?,
        network_path_id: get(row, 3)?,
        spec: spec(get(row, 4)?)?,
        status: AnalysisStatus::parse(status).ok_or_else(|| corrupt("analysis status", status))?,
        reachable: get(row, 6)?,
        result: get(row, 7)?,
        creation_time: decode_time(get(row, 8)?)?,
    })
}

impl NisTx for PgTx<'_> {
    fn insert_network_path(&mut self, p: &NetworkPath) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            concat!(
                "INSERT INTO network_paths (",
                path_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ),
            &[
                &p.id,
                &p.account_id,
                &p.region_id,
                &p.name,
                &p.description,
                &p.resource_group_id,
                &p.spec.to_json(),
                &encode_time(p.creation_time),
            ],
        )?;
        Ok(())
    }

    fn network_path(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<Option<NetworkPath>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        opt(
            c,
            concat!(
                "SELECT ",
                path_columns!(),
                " FROM network_paths WHERE id = $1 AND account_id = $2"
            ),
            &[&id, &account_id],
        )?
        .as_ref()
        .map(decode_path)
        .transpose()
    }

    fn network_paths(&mut self, account_id: &AccountId) -> Result<Vec<NetworkPath>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        rows(
            c,
            concat!(
                "SELECT ",
                path_columns!(),
                " FROM network_paths WHERE account_id = $1 ORDER BY seq"
            ),
            &[&account_id],
        )?
        .iter()
        .map(decode_path)
        .collect()
    }

    fn delete_network_path(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        delete_with_tags(
            c,
            "DELETE FROM network_paths WHERE id = $1 AND account_id = $2",
            ResourceType::NetworkPath,
            account_id,
            id,
        )
    }

    fn insert_analysis(&mut self, a: &ReachabilityAnalysis) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            concat!(
                "INSERT INTO network_reachable_analyses (",
                analysis_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ),
            &[
                &a.id,
                &a.account_id,
                &a.region_id,
                &a.network_path_id,
                &a.spec.to_json(),
                &a.status.as_str(),
                &a.reachable,
                &a.result,
                &encode_time(a.creation_time),
            ],
        )?;
        Ok(())
    }

    fn analysis(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<Option<ReachabilityAnalysis>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        opt(
            c,
            concat!(
                "SELECT ",
                analysis_columns!(),
                " FROM network_reachable_analyses WHERE id = $1 AND account_id = $2"
            ),
            &[&id, &account_id],
        )?
        .as_ref()
        .map(decode_analysis)
        .transpose()
    }

    fn count_analyses(&mut self, account_id: &AccountId) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        count(
            c,
            "SELECT COUNT(*) FROM network_reachable_analyses WHERE account_id = $1",
            &[&account_id],
        )
    }

    fn delete_analysis(&mut self, account_id: &AccountId, id: &str) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        delete_with_tags(
            c,
            "DELETE FROM network_reachable_analyses WHERE id = $1 AND account_id = $2",
            ResourceType::NetworkReachableAnalysis,
            account_id,
            id,
        )
    }
}

/// Deletes one row by `$1` id and `$2` account and, if there was one, its tags.
fn delete_with_tags(
    c: &mut Conn,
    sql: &str,
    resource_type: ResourceType,
    account_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    if exec(c, sql, &[&id, &account_id])? == 0 {
        return Ok(false);
    }
    delete_tags(c, account_id, resource_type.as_str(), id)?;
    Ok(true)
}
