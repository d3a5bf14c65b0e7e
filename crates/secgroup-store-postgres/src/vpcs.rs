//! VPCs and vSwitches. Every query names the account.

use postgres::Row;
use secgroup_domain::ids::{AccountId, VSwitchId, VpcId};
use secgroup_domain::network::{VSwitch, Vpc};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{ResourceType, StoreError, VpcsTx};

use crate::sql::{count, delete_tags, exec, get, opt, rows};
use crate::tx::PgTx;

macro_rules! vpc_columns {
    () => {
        "id, account_id, region_id, cidr_block, name, description, resource_group_id, \
         vrouter_id, route_table_id, user_cidrs, enable_ipv6, ipv6_cidr_block, \
         enable_dns_hostname, creation_time"
    };
}

macro_rules! vswitch_columns {
    () => {
        "id, account_id, region_id, vpc_id, zone_id, cidr_block, name, description, \
         creation_time"
    };
}

fn decode_vpc(row: &Row) -> Result<Vpc, StoreError> {
    let user_cidrs: String = get(row, 9)?;
    Ok(Vpc {
        id: get(row, 0)?,
        account_id: get(row, 1)?,
        region_id: get(row, 2)?,
        cidr_block: get(row, 3)?,
        name: get(row, 4)?,
        description: get(row, 5)?,
        resource_group_id: get(row, 6)?,
        vrouter_id: get(row, 7)?,
        route_table_id: get(row, 8)?,
        user_cidrs: user_cidrs
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
        enable_ipv6: get(row, 10)?,
        ipv6_cidr_block: get(row, 11)?,
        enable_dns_hostname: get(row, 12)?,
        creation_time: decode_time(get(row, 13)?)?,
    })
}

fn decode_vswitch(row: &Row) -> Result<VSwitch, StoreError> {
    Ok(VSwitch {
        id: get(row, 0)?,
        account_id: get(row, 1)?,
        region_id: get(row, 2)?,
        vpc_id: get(row, 3)?,
        zone_id: get(row, 4)?,
        cidr_block: get(row, 5)?,
        name: get(row, 6)?,
        description: get(row, 7)?,
        creation_time: decode_time(get(row, 8)?)?,
    })
}

impl VpcsTx for PgTx<'_> {
    fn insert_vpc(&mut self, v: &Vpc) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            concat!(
                "INSERT INTO vpcs (",
                vpc_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ),
            &[
                &v.id,
                &v.account_id,
                &v.region_id,
                &v.cidr_block,
                &v.name,
                &v.description,
                &v.resource_group_id,
                &v.vrouter_id,
                &v.route_table_id,
                &v.user_cidrs.join(","),
                &v.enable_ipv6,
                &v.ipv6_cidr_block,
                &v.enable_dns_hostname,
                &encode_time(v.creation_time),
            ],
        )?;
        Ok(())
    }

    fn vpc(&mut self, account_id: &AccountId, id: &VpcId) -> Result<Option<Vpc>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let id = id.as_str();
        opt(
            c,
            concat!(
                "SELECT ",
                vpc_columns!(),
                " FROM vpcs WHERE id = $1 AND account_id = $2"
            ),
            &[&id, &account_id],
        )?
        .map(|row| decode_vpc(&row))
        .transpose()
    }

    fn vpcs(&mut self, account_id: &AccountId, region_id: &str) -> Result<Vec<Vpc>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        rows(
            c,
            concat!(
                "SELECT ",
                vpc_columns!(),
                " FROM vpcs WHERE account_id = $1 AND region_id = $2 ORDER BY seq"
            ),
            &[&account_id, &region_id],
        )?
        .iter()
        .map(decode_vpc)
        .collect()
    }

    fn update_vpc(&mut self, v: &Vpc) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let n = exec(
            c,
            "UPDATE vpcs
             SET cidr_block = $3, name = $4, description = $5, resource_group_id = $6,
                 user_cidrs = $7, enable_ipv6 = $8, ipv6_cidr_block = $9, enable_dns_hostname = $10
             WHERE id = $1 AND account_id = $2",
            &[
                &v.id,
                &v.account_id,
                &v.cidr_block,
                &v.name,
                &v.description,
                &v.resource_group_id,
                &v.user_cidrs.join(","),
                &v.enable_ipv6,
                &v.ipv6_cidr_block,
                &v.enable_dns_hostname,
            ],
        )?;
        Ok(n > 0)
    }

    fn delete_vpc(&mut self, account_id: &AccountId, id: &VpcId) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let id = id.as_str();
        if exec(
            c,
            "DELETE FROM vpcs WHERE id = $1 AND account_id = $2",
            &[&id, &account_id],
        )? == 0
        {
            return Ok(false);
        }
        delete_tags(c, account_id, ResourceType::Vpc.as_str(), id)?;
        Ok(true)
    }

    fn insert_vswitch(&mut self, s: &VSwitch) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            concat!(
                "INSERT INTO vswitches (",
                vswitch_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ),
            &[
                &s.id,
                &s.account_id,
                &s.region_id,
                &s.vpc_id,
                &s.zone_id,
                &s.cidr_block,
                &s.name,
                &s.description,
                &encode_time(s.creation_time),
            ],
        )?;
        Ok(())
    }

    fn vswitch(
        &mut self,
        account_id: &AccountId,
        id: &VSwitchId,
    ) -> Result<Option<VSwitch>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let id = id.as_str();
        opt(
            c,
            concat!(
                "SELECT ",
                vswitch_columns!(),
                " FROM vswitches WHERE id = $1 AND account_id = $2"
            ),
            &[&id, &account_id],
        )?
        .map(|row| decode_vswitch(&row))
        .transpose()
    }

    fn vswitches(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<VSwitch>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        rows(
            c,
            concat!(
                "SELECT ",
                vswitch_columns!(),
                " FROM vswitches WHERE account_id = $1 AND region_id = $2 ORDER BY seq"
            ),
            &[&account_id, &region_id],
        )?
        .iter()
        .map(decode_vswitch)
        .collect()
    }

    fn update_vswitch(&mut self, s: &VSwitch) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let n = exec(
            c,
            "UPDATE vswitches SET name = $3, description = $4 WHERE id = $1 AND account_id = $2",
            &[&s.id, &s.account_id, &s.name, &s.description],
        )?;
        Ok(n > 0)
    }

    fn delete_vswitch(
        &mut self,
        account_id: &AccountId,
        id: &VSwitchId,
    ) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let id = id.as_str();
        if exec(
            c,
            "DELETE FROM vswitches WHERE id = $1 AND account_id = $2",
            &[&id, &account_id],
        )? == 0
        {
            return Ok(false);
        }
        delete_tags(c, account_id, ResourceType::VSwitch.as_str(), id)?;
        Ok(true)
    }

    fn count_security_groups_in_vpc(
        &mut self,
        account_id: &AccountId,
        vpc_id: &VpcId,
    ) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let vpc_id = vpc_id.as_str();
        count(
            c,
            "SELECT COUNT(*) FROM security_groups WHERE account_id = $1 AND vpc_id = $2",
            &[&account_id, &vpc_id],
        )
    }
}
