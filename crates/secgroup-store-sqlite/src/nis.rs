//! NIS network paths and analysis records. Every query names the account.

use rusqlite::{params, OptionalExtension, Row};
use secgroup_domain::ids::AccountId;
use secgroup_domain::nis::{AnalysisStatus, NetworkPath, PathSpec, ReachabilityAnalysis};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{NisTx, ResourceType, StoreError};

use crate::error::{corrupt, map_err};
use crate::tags::delete_with_tags;
use crate::tx::{query_all, to_count, SqliteTx};

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

/// A path row, decoded after the row is read (decoding errors are the store's, not SQLite's).
type PathRow = [String; 8];

fn path_row(row: &Row<'_>) -> rusqlite::Result<PathRow> {
    Ok([
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
    ])
}

fn decode_path(raw: PathRow) -> Result<NetworkPath, StoreError> {
    let [id, account_id, region_id, name, description, resource_group_id, parameters, time] = raw;
    Ok(NetworkPath {
        spec: spec(&parameters)?,
        creation_time: decode_time(&time)?,
        id,
        account_id,
        region_id,
        name,
        description,
        resource_group_id,
    })
}

impl NisTx for SqliteTx<'_> {
    fn insert_network_path(&mut self, p: &NetworkPath) -> Result<(), StoreError> {
        let conn = self.conn;
        conn.prepare_cached(concat!(
            "INSERT INTO network_paths (",
            path_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ))
        .and_then(|mut st| {
            st.execute(params![
                p.id,
                p.account_id,
                p.region_id,
                p.name,
                p.description,
                p.resource_group_id,
                p.spec.to_json(),
                encode_time(p.creation_time),
            ])
        })
        .map_err(map_err)?;
        Ok(())
    }

    fn network_path(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<Option<NetworkPath>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        conn.prepare_cached(concat!(
            "SELECT ",
            path_columns!(),
            " FROM network_paths WHERE id = ?1 AND account_id = ?2"
        ))
        .and_then(|mut st| st.query_row([id, account_id], path_row).optional())
        .map_err(map_err)?
        .map(decode_path)
        .transpose()
    }

    fn network_paths(&mut self, account_id: &AccountId) -> Result<Vec<NetworkPath>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        query_all(
            conn,
            concat!(
                "SELECT ",
                path_columns!(),
                " FROM network_paths WHERE account_id = ?1 ORDER BY seq"
            ),
            [account_id],
            path_row,
        )?
        .into_iter()
        .map(decode_path)
        .collect()
    }

    fn delete_network_path(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<bool, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        delete_with_tags(
            conn,
            "DELETE FROM network_paths WHERE id = ?1 AND account_id = ?2",
            ResourceType::NetworkPath,
            account_id,
            id,
        )
    }

    fn insert_analysis(&mut self, a: &ReachabilityAnalysis) -> Result<(), StoreError> {
        let conn = self.conn;
        conn.prepare_cached(concat!(
            "INSERT INTO network_reachable_analyses (",
            analysis_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))
        .and_then(|mut st| {
            st.execute(params![
                a.id,
                a.account_id,
                a.region_id,
                a.network_path_id,
                a.spec.to_json(),
                a.status.as_str(),
                a.reachable,
                a.result,
                encode_time(a.creation_time),
            ])
        })
        .map_err(map_err)?;
        Ok(())
    }

    fn analysis(
        &mut self,
        account_id: &AccountId,
        id: &str,
    ) -> Result<Option<ReachabilityAnalysis>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        conn.prepare_cached(concat!(
            "SELECT ",
            analysis_columns!(),
            " FROM network_reachable_analyses WHERE id = ?1 AND account_id = ?2"
        ))
        .and_then(|mut st| {
            st.query_row([id, account_id], |row| {
                Ok((analysis_row(row)?, row.get::<_, String>(8)?))
            })
            .optional()
        })
        .map_err(map_err)?
        .map(|(raw, time)| decode_analysis(raw, time))
        .transpose()
    }

    fn count_analyses(&mut self, account_id: &AccountId) -> Result<u64, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        conn.prepare_cached("SELECT COUNT(*) FROM network_reachable_analyses WHERE account_id = ?1")
            .and_then(|mut st| st.query_row([account_id], |row| row.get(0)))
            .map_err(map_err)
            .and_then(to_count)
    }

    fn delete_analysis(&mut self, account_id: &AccountId, id: &str) -> Result<bool, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        delete_with_tags(
            conn,
            "DELETE FROM network_reachable_analyses WHERE id = ?1 AND account_id = ?2",
            ResourceType::NetworkReachableAnalysis,
            account_id,
            id,
        )
    }
}

struct AnalysisRow {
    text: [String; 6],
    status: String,
    reachable: bool,
}

fn analysis_row(row: &Row<'_>) -> rusqlite::Result<AnalysisRow> {
    Ok(AnalysisRow {
        text: [
            row.get(0)?,
            row.get(1)?,
            row.get(2)?,
            row.get(3)?,
            row.get(4)?,
            row.get(7)?,
        ],
        status: row.get(5)?,
        reachable: row.get(6)?,
    })
}

fn decode_analysis(raw: AnalysisRow, time: String) -> Result<ReachabilityAnalysis, StoreError> {
    let [id, account_id, region_id, network_path_id, parameters, result] = raw.text;
    Ok(ReachabilityAnalysis {
        spec: spec(&parameters)?,
        status: AnalysisStatus::parse(&raw.status)
            .ok_or_else(|| corrupt("analysis status", &raw.status))?,
        creation_time: decode_time(&time)?,
        reachable: raw.reachable,
        id,
        account_id,
        region_id,
        network_path_id,
        result,
    })
}
