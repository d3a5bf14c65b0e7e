//! VPCs and vSwitches. Every query names the account, so another account's VPC or
//! vSwitch is never read or changed.

use rusqlite::{params, OptionalExtension, Row};
use secgroup_domain::ids::{AccountId, VSwitchId, VpcId};
use secgroup_domain::network::{VSwitch, Vpc};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{ResourceType, StoreError, VpcsTx};

use crate::error::map_err;
use crate::tags::delete_with_tags;
use crate::tx::{query_all, to_count, SqliteTx};

/// The columns [`RawVpc::from_row`] reads, in its order.
macro_rules! vpc_columns {
    () => {
        "id, account_id, region_id, cidr_block, name, description, resource_group_id, \
         vrouter_id, route_table_id, user_cidrs, enable_ipv6, ipv6_cidr_block, \
         enable_dns_hostname, creation_time"
    };
}

/// The columns [`RawVSwitch::from_row`] reads, in its order.
macro_rules! vswitch_columns {
    () => {
        "id, account_id, region_id, vpc_id, zone_id, cidr_block, name, description, \
         creation_time"
    };
}

/// A row as SQLite returns it; the time is decoded afterwards (it can fail).
struct RawVpc(Vpc, String);

impl RawVpc {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<RawVpc> {
        let user_cidrs: String = row.get(9)?;
        Ok(RawVpc(
            Vpc {
                id: row.get(0)?,
                account_id: row.get(1)?,
                region_id: row.get(2)?,
                cidr_block: row.get(3)?,
                name: row.get(4)?,
                description: row.get(5)?,
                resource_group_id: row.get(6)?,
                vrouter_id: row.get(7)?,
                route_table_id: row.get(8)?,
                user_cidrs: user_cidrs
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                enable_ipv6: row.get(10)?,
                ipv6_cidr_block: row.get(11)?,
                enable_dns_hostname: row.get(12)?,
                creation_time: chrono::DateTime::UNIX_EPOCH,
            },
            row.get(13)?,
        ))
    }

    fn decode(self) -> Result<Vpc, StoreError> {
        let RawVpc(mut vpc, time) = self;
        vpc.creation_time = decode_time(&time)?;
        Ok(vpc)
    }
}

struct RawVSwitch(VSwitch, String);

impl RawVSwitch {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<RawVSwitch> {
        Ok(RawVSwitch(
            VSwitch {
                id: row.get(0)?,
                account_id: row.get(1)?,
                region_id: row.get(2)?,
                vpc_id: row.get(3)?,
                zone_id: row.get(4)?,
                cidr_block: row.get(5)?,
                name: row.get(6)?,
                description: row.get(7)?,
                creation_time: chrono::DateTime::UNIX_EPOCH,
            },
            row.get(8)?,
        ))
    }

    fn decode(self) -> Result<VSwitch, StoreError> {
        let RawVSwitch(mut vswitch, time) = self;
        vswitch.creation_time = decode_time(&time)?;
        Ok(vswitch)
    }
}

impl VpcsTx for SqliteTx<'_> {
    fn insert_vpc(&mut self, v: &Vpc) -> Result<(), StoreError> {
        let conn = self.conn;
        conn.prepare_cached(concat!(
            "INSERT INTO vpcs (",
            vpc_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
        ))
        .and_then(|mut st| {
            st.execute(params![
                v.id,
                v.account_id,
                v.region_id,
                v.cidr_block,
                v.name,
                v.description,
                v.resource_group_id,
                v.vrouter_id,
                v.route_table_id,
                v.user_cidrs.join(","),
                v.enable_ipv6,
                v.ipv6_cidr_block,
                v.enable_dns_hostname,
                encode_time(v.creation_time),
            ])
        })
        .map_err(map_err)?;
        Ok(())
    }

    fn vpc(&mut self, account_id: &AccountId, id: &VpcId) -> Result<Option<Vpc>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let id = id.as_str();
        conn.prepare_cached(concat!(
            "SELECT ",
            vpc_columns!(),
            " FROM vpcs WHERE id = ?1 AND account_id = ?2"
        ))
        .and_then(|mut st| st.query_row([id, account_id], RawVpc::from_row).optional())
        .map_err(map_err)?
        .map(RawVpc::decode)
        .transpose()
    }

    /// Oldest first: `seq` grows with every insert.
    fn vpcs(&mut self, account_id: &AccountId, region_id: &str) -> Result<Vec<Vpc>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let raws = query_all(
            conn,
            concat!(
                "SELECT ",
                vpc_columns!(),
                " FROM vpcs WHERE account_id = ?1 AND region_id = ?2 ORDER BY seq"
            ),
            [account_id, region_id],
            RawVpc::from_row,
        )?;
        raws.into_iter().map(RawVpc::decode).collect()
    }

    /// Only the mutable fields: block, name, description, resource group, user CIDRs, IPv6
    /// and DNS hostname settings.
    fn update_vpc(&mut self, v: &Vpc) -> Result<bool, StoreError> {
        let conn = self.conn;
        let n = conn
            .prepare_cached(
                "UPDATE vpcs
                 SET cidr_block = ?3, name = ?4, description = ?5, resource_group_id = ?6,
                     user_cidrs = ?7, enable_ipv6 = ?8, ipv6_cidr_block = ?9,
                     enable_dns_hostname = ?10
                 WHERE id = ?1 AND account_id = ?2",
            )
            .and_then(|mut st| {
                st.execute(params![
                    v.id,
                    v.account_id,
                    v.cidr_block,
                    v.name,
                    v.description,
                    v.resource_group_id,
                    v.user_cidrs.join(","),
                    v.enable_ipv6,
                    v.ipv6_cidr_block,
                    v.enable_dns_hostname,
                ])
            })
            .map_err(map_err)?;
        Ok(n > 0)
    }

    fn delete_vpc(&mut self, account_id: &AccountId, id: &VpcId) -> Result<bool, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let id = id.as_str();
        delete_with_tags(
            conn,
            "DELETE FROM vpcs WHERE id = ?1 AND account_id = ?2",
            ResourceType::Vpc,
            account_id,
            id,
        )
    }

    fn insert_vswitch(&mut self, s: &VSwitch) -> Result<(), StoreError> {
        let conn = self.conn;
        conn.prepare_cached(concat!(
            "INSERT INTO vswitches (",
            vswitch_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))
        .and_then(|mut st| {
            st.execute(params![
                s.id,
                s.account_id,
                s.region_id,
                s.vpc_id,
                s.zone_id,
                s.cidr_block,
                s.name,
                s.description,
                encode_time(s.creation_time),
            ])
        })
        .map_err(map_err)?;
        Ok(())
    }

    fn vswitch(
        &mut self,
        account_id: &AccountId,
        id: &VSwitchId,
    ) -> Result<Option<VSwitch>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let id = id.as_str();
        conn.prepare_cached(concat!(
            "SELECT ",
            vswitch_columns!(),
            " FROM vswitches WHERE id = ?1 AND account_id = ?2"
        ))
        .and_then(|mut st| {
            st.query_row([id, account_id], RawVSwitch::from_row)
                .optional()
        })
        .map_err(map_err)?
        .map(RawVSwitch::decode)
        .transpose()
    }

    /// Oldest first.
    fn vswitches(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<VSwitch>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let raws = query_all(
            conn,
            concat!(
                "SELECT ",
                vswitch_columns!(),
                " FROM vswitches WHERE account_id = ?1 AND region_id = ?2 ORDER BY seq"
            ),
            [account_id, region_id],
            RawVSwitch::from_row,
        )?;
        raws.into_iter().map(RawVSwitch::decode).collect()
    }

    /// Only the name and the description change.
    fn update_vswitch(&mut self, s: &VSwitch) -> Result<bool, StoreError> {
        let conn = self.conn;
        let n = conn
            .prepare_cached(
                "UPDATE vswitches SET name = ?3, description = ?4 WHERE id = ?1 AND account_id = ?2",
            )
            .and_then(|mut st| st.execute(params![s.id, s.account_id, s.name, s.description]))
            .map_err(map_err)?;
        Ok(n > 0)
    }

    fn delete_vswitch(
        &mut self,
        account_id: &AccountId,
        id: &VSwitchId,
    ) -> Result<bool, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let id = id.as_str();
        delete_with_tags(
            conn,
            "DELETE FROM vswitches WHERE id = ?1 AND account_id = ?2",
            ResourceType::VSwitch,
            account_id,
            id,
        )
    }

    fn count_security_groups_in_vpc(
        &mut self,
        account_id: &AccountId,
        vpc_id: &VpcId,
    ) -> Result<u64, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let vpc_id = vpc_id.as_str();
        let n: i64 = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM security_groups WHERE account_id = ?1 AND vpc_id = ?2",
            )
            .and_then(|mut st| st.query_row([account_id, vpc_id], |row| row.get(0)))
            .map_err(map_err)?;
        to_count(n)
    }
}
