//! Security groups. Every query names the account, so another account's group is never
//! read or changed.

use postgres::Row;
use secgroup_domain::ids::{AccountId, SecurityGroupId};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{
    InnerAccessPolicy, ResourceType, SecurityGroup, SecurityGroupType, SecurityGroupsTx, StoreError,
};

use crate::error::corrupt;
use crate::sql::{count, delete_tags, exec, get, opt, rows};
use crate::tx::PgTx;

macro_rules! group_columns {
    () => {
        "id, account_id, region_id, name, description, group_type, inner_access_policy, \
         vpc_id, resource_group_id, creation_time"
    };
}

fn decode_group(row: &Row) -> Result<SecurityGroup, StoreError> {
    let group_type: String = get(row, 5)?;
    let policy: String = get(row, 6)?;
    Ok(SecurityGroup {
        id: get(row, 0)?,
        account_id: get(row, 1)?,
        region_id: get(row, 2)?,
        name: get(row, 3)?,
        description: get(row, 4)?,
        group_type: SecurityGroupType::parse(&group_type)
            .ok_or_else(|| corrupt("group type", &group_type))?,
        inner_access_policy: match policy.as_str() {
            "Accept" => InnerAccessPolicy::Accept,
            "Drop" => InnerAccessPolicy::Drop,
            other => return Err(corrupt("inner access policy", other)),
        },
        vpc_id: get(row, 7)?,
        resource_group_id: get(row, 8)?,
        creation_time: decode_time(get(row, 9)?)?,
    })
}

impl SecurityGroupsTx for PgTx<'_> {
    fn insert_security_group(&mut self, g: &SecurityGroup) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            concat!(
                "INSERT INTO security_groups (",
                group_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            &[
                &g.id,
                &g.account_id,
                &g.region_id,
                &g.name,
                &g.description,
                &g.group_type.as_str(),
                &g.inner_access_policy.as_str(),
                &g.vpc_id,
                &g.resource_group_id,
                &encode_time(g.creation_time),
            ],
        )?;
        Ok(())
    }

    fn security_group(
        &mut self,
        account_id: &AccountId,
        id: &SecurityGroupId,
    ) -> Result<Option<SecurityGroup>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let id = id.as_str();
        opt(
            c,
            concat!(
                "SELECT ",
                group_columns!(),
                " FROM security_groups WHERE id = $1 AND account_id = $2"
            ),
            &[&id, &account_id],
        )?
        .map(|row| decode_group(&row))
        .transpose()
    }

    fn security_groups(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<SecurityGroup>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        rows(
            c,
            concat!(
                "SELECT ",
                group_columns!(),
                " FROM security_groups WHERE account_id = $1 AND region_id = $2 ORDER BY seq"
            ),
            &[&account_id, &region_id],
        )?
        .iter()
        .map(decode_group)
        .collect()
    }

    fn update_security_group(&mut self, g: &SecurityGroup) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            "UPDATE security_groups
             SET name = $3, description = $4, inner_access_policy = $5, resource_group_id = $6
             WHERE id = $1 AND account_id = $2",
            &[
                &g.id,
                &g.account_id,
                &g.name,
                &g.description,
                &g.inner_access_policy.as_str(),
                &g.resource_group_id,
            ],
        )?;
        Ok(())
    }

    /// Deletes the group and, if there was one, its rules and tags.
    fn delete_security_group(
        &mut self,
        account_id: &AccountId,
        id: &SecurityGroupId,
    ) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let id = id.as_str();
        let deleted = exec(
            c,
            "DELETE FROM security_groups WHERE id = $1 AND account_id = $2",
            &[&id, &account_id],
        )?;
        if deleted == 0 {
            return Ok(false);
        }
        exec(
            c,
            "DELETE FROM rules WHERE account_id = $1 AND security_group_id = $2",
            &[&account_id, &id],
        )?;
        delete_tags(c, account_id, ResourceType::SecurityGroup.as_str(), id)?;
        Ok(true)
    }

    fn count_security_groups(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        count(
            c,
            "SELECT COUNT(*) FROM security_groups WHERE account_id = $1 AND region_id = $2",
            &[&account_id, &region_id],
        )
    }
}
