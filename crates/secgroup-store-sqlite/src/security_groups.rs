//! Security groups. Every query names the account, so another account's group is never
//! read or changed.

use rusqlite::{params, OptionalExtension, Row};
use secgroup_domain::ids::{AccountId, SecurityGroupId};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{
    InnerAccessPolicy, ResourceType, SecurityGroup, SecurityGroupType, SecurityGroupsTx, StoreError,
};

use crate::error::{corrupt, map_err};
use crate::rules;
use crate::tx::{query_all, to_count, SqliteTx};

/// The columns [`Raw::from_row`] reads, in its order.
macro_rules! group_columns {
    () => {
        "id, account_id, region_id, name, description, group_type, inner_access_policy, \
         vpc_id, resource_group_id, creation_time"
    };
}

/// A row as SQLite returns it; decoding the enums and the time can fail, which a
/// rusqlite row closure has no good error for, so it happens afterwards.
struct Raw {
    id: String,
    account_id: String,
    region_id: String,
    name: String,
    description: String,
    group_type: String,
    inner_access_policy: String,
    vpc_id: String,
    resource_group_id: String,
    creation_time: String,
}

impl Raw {
    fn from_row(row: &Row<'_>) -> rusqlite::Result<Raw> {
        Ok(Raw {
            id: row.get(0)?,
            account_id: row.get(1)?,
            region_id: row.get(2)?,
            name: row.get(3)?,
            description: row.get(4)?,
            group_type: row.get(5)?,
            inner_access_policy: row.get(6)?,
            vpc_id: row.get(7)?,
            resource_group_id: row.get(8)?,
            creation_time: row.get(9)?,
        })
    }

    fn decode(self) -> Result<SecurityGroup, StoreError> {
        let group_type = SecurityGroupType::parse(&self.group_type)
            .ok_or_else(|| corrupt("group type", &self.group_type))?;
        // Stored only as written by `as_str`, so the exact spelling is required.
        let inner_access_policy = match self.inner_access_policy.as_str() {
            "Accept" => InnerAccessPolicy::Accept,
            "Drop" => InnerAccessPolicy::Drop,
            other => return Err(corrupt("inner access policy", other)),
        };
        Ok(SecurityGroup {
            creation_time: decode_time(&self.creation_time)?,
            id: self.id,
            account_id: self.account_id,
            region_id: self.region_id,
            name: self.name,
            description: self.description,
            group_type,
            inner_access_policy,
            vpc_id: self.vpc_id,
            resource_group_id: self.resource_group_id,
        })
    }
}

impl SecurityGroupsTx for SqliteTx<'_> {
    fn insert_security_group(&mut self, g: &SecurityGroup) -> Result<(), StoreError> {
        let conn = self.conn;
        conn.prepare_cached(concat!(
            "INSERT INTO security_groups (",
            group_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ))
        .and_then(|mut st| {
            st.execute(params![
                g.id,
                g.account_id,
                g.region_id,
                g.name,
                g.description,
                g.group_type.as_str(),
                g.inner_access_policy.as_str(),
                g.vpc_id,
                g.resource_group_id,
                encode_time(g.creation_time),
            ])
        })
        .map_err(map_err)?;
        Ok(())
    }

    fn security_group(
        &mut self,
        account_id: &AccountId,
        id: &SecurityGroupId,
    ) -> Result<Option<SecurityGroup>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let id = id.as_str();
        conn.prepare_cached(concat!(
            "SELECT ",
            group_columns!(),
            " FROM security_groups WHERE id = ?1 AND account_id = ?2"
        ))
        .and_then(|mut st| st.query_row([id, account_id], Raw::from_row).optional())
        .map_err(map_err)?
        .map(Raw::decode)
        .transpose()
    }

    /// Oldest first: `seq` grows with every insert.
    fn security_groups(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<SecurityGroup>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let raws = query_all(
            conn,
            concat!(
                "SELECT ",
                group_columns!(),
                " FROM security_groups WHERE account_id = ?1 AND region_id = ?2 ORDER BY seq"
            ),
            [account_id, region_id],
            Raw::from_row,
        )?;
        raws.into_iter().map(Raw::decode).collect()
    }

    /// Only the mutable fields; a group of another account, or none, is left alone.
    fn update_security_group(&mut self, g: &SecurityGroup) -> Result<(), StoreError> {
        let conn = self.conn;
        conn.prepare_cached(
            "UPDATE security_groups
             SET name = ?3, description = ?4, inner_access_policy = ?5, resource_group_id = ?6
             WHERE id = ?1 AND account_id = ?2",
        )
        .and_then(|mut st| {
            st.execute(params![
                g.id,
                g.account_id,
                g.name,
                g.description,
                g.inner_access_policy.as_str(),
                g.resource_group_id,
            ])
        })
        .map_err(map_err)?;
        Ok(())
    }

    /// Deletes the group and, if there was one, its rules and tags.
    fn delete_security_group(
        &mut self,
        account_id: &AccountId,
        id: &SecurityGroupId,
    ) -> Result<bool, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let id = id.as_str();
        let deleted = conn
            .prepare_cached("DELETE FROM security_groups WHERE id = ?1 AND account_id = ?2")
            .and_then(|mut st| st.execute([id, account_id]))
            .map_err(map_err)?;
        if deleted == 0 {
            return Ok(false);
        }
        rules::delete_group_rules(conn, account_id, id)?;
        conn.prepare_cached(
            "DELETE FROM tags WHERE account_id = ?1 AND resource_type = ?2 AND resource_id = ?3",
        )
        .and_then(|mut st| st.execute([account_id, ResourceType::SecurityGroup.as_str(), id]))
        .map_err(map_err)?;
        Ok(true)
    }

    fn count_security_groups(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<u64, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let n: i64 = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM security_groups WHERE account_id = ?1 AND region_id = ?2",
            )
            .and_then(|mut st| st.query_row([account_id, region_id], |row| row.get(0)))
            .map_err(map_err)?;
        to_count(n)
    }
}
