//! Where instances run, and each VPC's VNI (migration 13).

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use secgroup_domain::ids::{AccountId, InstanceId, VpcId};
use secgroup_domain::network::{InstanceStatus, PlacedInstance, Placement};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{PlacementsTx, StoreError};

use crate::error::{corrupt, map_err};
use crate::tx::{query_all, SqliteTx};

const PLACED: &str = "SELECT p.instance_id, p.host, p.placed_at, i.account_id, i.region_id,
            i.vpc_id, i.status, i.status_since, i.attributes
     FROM instance_placements p JOIN instances i ON i.id = p.instance_id";

type RawPlaced = [String; 9];

fn placed(raw: RawPlaced) -> Result<PlacedInstance, StoreError> {
    let [instance_id, host, placed_at, account_id, region_id, vpc_id, status, since, attributes] =
        raw;
    Ok(PlacedInstance {
        placement: Placement {
            instance_id,
            host,
            placed_at: decode_time(&placed_at)?,
        },
        account_id,
        region_id,
        vpc_id,
        status: InstanceStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        status_since: decode_time(&since)?,
        attributes,
    })
}

fn raw_placed(row: &rusqlite::Row<'_>) -> rusqlite::Result<RawPlaced> {
    Ok([
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
    ])
}

impl PlacementsTx for SqliteTx<'_> {
    fn placement(&mut self, instance_id: &InstanceId) -> Result<Option<Placement>, StoreError> {
        let raw: Option<(String, String)> = self
            .conn
            .prepare_cached(
                "SELECT host, placed_at FROM instance_placements WHERE instance_id = ?1",
            )
            .and_then(|mut st| {
                st.query_row([instance_id.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(map_err)?;
        raw.map(|(host, placed_at)| {
            Ok(Placement {
                instance_id: instance_id.to_string(),
                host,
                placed_at: decode_time(&placed_at)?,
            })
        })
        .transpose()
    }

    fn placed_instances(
        &mut self,
        account_id: Option<&AccountId>,
    ) -> Result<Vec<PlacedInstance>, StoreError> {
        let rows = match account_id {
            Some(account) => query_all(
                self.conn,
                &format!("{PLACED} WHERE i.account_id = ?1 ORDER BY p.instance_id"),
                [account.as_str()],
                raw_placed,
            )?,
            None => query_all(
                self.conn,
                &format!("{PLACED} ORDER BY p.instance_id"),
                [],
                raw_placed,
            )?,
        };
        rows.into_iter().map(placed).collect()
    }

    fn put_placement(&mut self, p: &Placement) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO instance_placements (instance_id, host, placed_at)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (instance_id) DO UPDATE SET host = excluded.host,
                     placed_at = excluded.placed_at",
            )
            .and_then(|mut st| st.execute(params![p.instance_id, p.host, encode_time(p.placed_at)]))
            .map_err(map_err)?;
        Ok(())
    }

    fn delete_placement(&mut self, instance_id: &InstanceId) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM instance_placements WHERE instance_id = ?1")
            .and_then(|mut st| st.execute([instance_id.as_str()]))
            .map_err(map_err)?;
        Ok(n > 0)
    }

    fn vpc_vnis(&mut self) -> Result<BTreeMap<String, u32>, StoreError> {
        let rows = query_all(
            self.conn,
            "SELECT vpc_id, vni FROM vpc_vnis ORDER BY vpc_id",
            [],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)),
        )?;
        rows.into_iter()
            .map(|(vpc, vni)| {
                let vni = u32::try_from(vni).map_err(|_| corrupt("vni", &vni.to_string()))?;
                Ok((vpc, vni))
            })
            .collect()
    }

    fn insert_vpc_vni(&mut self, vpc_id: &VpcId, vni: u32) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("INSERT INTO vpc_vnis (vpc_id, vni) VALUES (?1, ?2)")
            .and_then(|mut st| st.execute(params![vpc_id.as_str(), i64::from(vni)]))
            .map_err(map_err)?;
        Ok(())
    }

    fn delete_vpc_vni(&mut self, vpc_id: &VpcId) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM vpc_vnis WHERE vpc_id = ?1")
            .and_then(|mut st| st.execute([vpc_id.as_str()]))
            .map_err(map_err)?;
        Ok(n > 0)
    }
}
