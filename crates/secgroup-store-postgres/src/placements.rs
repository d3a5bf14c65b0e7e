//! Where instances run, and each VPC's VNI (migration 8).

use std::collections::BTreeMap;

use postgres::Row;
use secgroup_domain::ids::{AccountId, InstanceId, VpcId};
use secgroup_domain::network::{InstanceStatus, PlacedInstance, Placement};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{PlacementsTx, StoreError};

use crate::error::corrupt;
use crate::sql::{exec, get, opt, rows};
use crate::tx::PgTx;

const PLACED_MINE: &str = "SELECT p.instance_id, p.host, p.placed_at, i.account_id, i.region_id,
            i.vpc_id, i.status, i.status_since, i.attributes
     FROM instance_placements p JOIN instances i ON i.id = p.instance_id
     WHERE i.account_id = $1 ORDER BY p.instance_id";

const PLACED_ALL: &str = "SELECT p.instance_id, p.host, p.placed_at, i.account_id, i.region_id,
            i.vpc_id, i.status, i.status_since, i.attributes
     FROM instance_placements p JOIN instances i ON i.id = p.instance_id
     ORDER BY p.instance_id";

fn placed(row: &Row) -> Result<PlacedInstance, StoreError> {
    let status: String = get(row, 6)?;
    Ok(PlacedInstance {
        placement: Placement {
            instance_id: get(row, 0)?,
            host: get(row, 1)?,
            placed_at: decode_time(get(row, 2)?)?,
        },
        account_id: get(row, 3)?,
        region_id: get(row, 4)?,
        vpc_id: get(row, 5)?,
        status: InstanceStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        status_since: decode_time(get(row, 7)?)?,
        attributes: get(row, 8)?,
    })
}

impl PlacementsTx for PgTx<'_> {
    fn placement(&mut self, instance_id: &InstanceId) -> Result<Option<Placement>, StoreError> {
        let c = &mut *self.c;
        let row = opt(
            c,
            "SELECT host, placed_at FROM instance_placements WHERE instance_id = $1",
            &[&instance_id.as_str()],
        )?;
        row.map(|row| {
            Ok(Placement {
                instance_id: instance_id.to_string(),
                host: get(&row, 0)?,
                placed_at: decode_time(get(&row, 1)?)?,
            })
        })
        .transpose()
    }

    fn placed_instances(
        &mut self,
        account_id: Option<&AccountId>,
    ) -> Result<Vec<PlacedInstance>, StoreError> {
        let c = &mut *self.c;
        let found = match account_id {
            Some(account) => rows(c, PLACED_MINE, &[&account.as_str()])?,
            None => rows(c, PLACED_ALL, &[])?,
        };
        found.iter().map(placed).collect()
    }

    fn put_placement(&mut self, p: &Placement) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            "INSERT INTO instance_placements (instance_id, host, placed_at)
             VALUES ($1, $2, $3)
             ON CONFLICT (instance_id) DO UPDATE SET host = EXCLUDED.host,
                 placed_at = EXCLUDED.placed_at",
            &[&p.instance_id, &p.host, &encode_time(p.placed_at)],
        )?;
        Ok(())
    }

    fn delete_placement(&mut self, instance_id: &InstanceId) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let n = exec(
            c,
            "DELETE FROM instance_placements WHERE instance_id = $1",
            &[&instance_id.as_str()],
        )?;
        Ok(n > 0)
    }

    fn vpc_vnis(&mut self) -> Result<BTreeMap<String, u32>, StoreError> {
        let c = &mut *self.c;
        rows(c, "SELECT vpc_id, vni FROM vpc_vnis ORDER BY vpc_id", &[])?
            .iter()
            .map(|row| {
                let vni: i32 = get(row, 1)?;
                let vni = u32::try_from(vni).map_err(|_| corrupt("vni", &vni.to_string()))?;
                Ok((get(row, 0)?, vni))
            })
            .collect()
    }

    fn insert_vpc_vni(&mut self, vpc_id: &VpcId, vni: u32) -> Result<(), StoreError> {
        let c = &mut *self.c;
        let vni =
            i32::try_from(vni).map_err(|_| StoreError::Other(format!("VNI {vni} out of range")))?;
        exec(
            c,
            "INSERT INTO vpc_vnis (vpc_id, vni) VALUES ($1, $2)",
            &[&vpc_id.as_str(), &vni],
        )?;
        Ok(())
    }

    fn delete_vpc_vni(&mut self, vpc_id: &VpcId) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let n = exec(
            c,
            "DELETE FROM vpc_vnis WHERE vpc_id = $1",
            &[&vpc_id.as_str()],
        )?;
        Ok(n > 0)
    }
}
