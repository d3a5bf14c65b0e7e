//! Prefix lists and their entries. Every query of a list names the account; entries are
//! keyed by the (globally unique) list id and reached only through a list of the account.

use std::collections::HashMap;

use postgres::Row;
use secgroup_domain::ids::{AccountId, PrefixListId};
use secgroup_domain::store::codec::{decode_time, encode_time};
use secgroup_domain::{
    AddressFamily, PrefixList, PrefixListEntry, PrefixListsTx, ResourceType, StoreError,
};

use crate::error::corrupt;
use crate::sql::{count, delete_tags, exec, get, opt, rows, Conn};
use crate::tx::PgTx;

macro_rules! list_columns {
    () => {
        "id, account_id, region_id, name, description, address_family, max_entries, \
         resource_group_id, creation_time"
    };
}

fn decode(row: &Row, entries: Vec<PrefixListEntry>) -> Result<PrefixList, StoreError> {
    let family: String = get(row, 5)?;
    let max_entries: i64 = get(row, 6)?;
    Ok(PrefixList {
        id: get(row, 0)?,
        account_id: get(row, 1)?,
        region_id: get(row, 2)?,
        name: get(row, 3)?,
        description: get(row, 4)?,
        address_family: AddressFamily::parse(&family)
            .ok_or_else(|| corrupt("address family", &family))?,
        max_entries: u32::try_from(max_entries)
            .map_err(|_| corrupt("max entries", &max_entries.to_string()))?,
        resource_group_id: get(row, 7)?,
        creation_time: decode_time(get(row, 8)?)?,
        entries,
    })
}

fn insert_entries(
    c: &mut Conn,
    prefix_list_id: &str,
    entries: &[PrefixListEntry],
) -> Result<(), StoreError> {
    for (position, e) in (0_i64..).zip(entries) {
        exec(
            c,
            "INSERT INTO prefix_list_entries (prefix_list_id, position, cidr, description)
             VALUES ($1, $2, $3, $4)",
            &[&prefix_list_id, &position, &e.cidr, &e.description],
        )?;
    }
    Ok(())
}

fn delete_entries(c: &mut Conn, prefix_list_id: &str) -> Result<(), StoreError> {
    exec(
        c,
        "DELETE FROM prefix_list_entries WHERE prefix_list_id = $1",
        &[&prefix_list_id],
    )?;
    Ok(())
}

fn entries(c: &mut Conn, prefix_list_id: &str) -> Result<Vec<PrefixListEntry>, StoreError> {
    rows(
        c,
        "SELECT cidr, description FROM prefix_list_entries
         WHERE prefix_list_id = $1 ORDER BY position",
        &[&prefix_list_id],
    )?
    .iter()
    .map(|row| {
        Ok(PrefixListEntry {
            cidr: get(row, 0)?,
            description: get(row, 1)?,
        })
    })
    .collect()
}

impl PrefixListsTx for PgTx<'_> {
    fn insert_prefix_list(&mut self, l: &PrefixList) -> Result<(), StoreError> {
        let c = &mut *self.c;
        exec(
            c,
            concat!(
                "INSERT INTO prefix_lists (",
                list_columns!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ),
            &[
                &l.id,
                &l.account_id,
                &l.region_id,
                &l.name,
                &l.description,
                &l.address_family.as_str(),
                &i64::from(l.max_entries),
                &l.resource_group_id,
                &encode_time(l.creation_time),
            ],
        )?;
        insert_entries(c, &l.id, &l.entries)
    }

    fn prefix_list(
        &mut self,
        account_id: &AccountId,
        id: &PrefixListId,
    ) -> Result<Option<PrefixList>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let id = id.as_str();
        let Some(row) = opt(
            c,
            concat!(
                "SELECT ",
                list_columns!(),
                " FROM prefix_lists WHERE id = $1 AND account_id = $2"
            ),
            &[&id, &account_id],
        )?
        else {
            return Ok(None);
        };
        let entries = entries(c, id)?;
        decode(&row, entries).map(Some)
    }

    fn prefix_lists(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<Vec<PrefixList>, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let lists = rows(
            c,
            concat!(
                "SELECT ",
                list_columns!(),
                " FROM prefix_lists WHERE account_id = $1 AND region_id = $2 ORDER BY seq"
            ),
            &[&account_id, &region_id],
        )?;
        if lists.is_empty() {
            return Ok(Vec::new());
        }
        let mut by_list: HashMap<String, Vec<PrefixListEntry>> = HashMap::new();
        for row in rows(
            c,
            "SELECT e.prefix_list_id, e.cidr, e.description
             FROM prefix_lists l JOIN prefix_list_entries e ON e.prefix_list_id = l.id
             WHERE l.account_id = $1 AND l.region_id = $2
             ORDER BY e.prefix_list_id, e.position",
            &[&account_id, &region_id],
        )? {
            by_list
                .entry(get(&row, 0)?)
                .or_default()
                .push(PrefixListEntry {
                    cidr: get(&row, 1)?,
                    description: get(&row, 2)?,
                });
        }
        lists
            .iter()
            .map(|row| {
                let id: String = get(row, 0)?;
                decode(row, by_list.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    fn update_prefix_list(&mut self, l: &PrefixList) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let changed = exec(
            c,
            "UPDATE prefix_lists SET name = $3, description = $4 WHERE id = $1 AND account_id = $2",
            &[&l.id, &l.account_id, &l.name, &l.description],
        )?;
        if changed == 0 {
            return Ok(false);
        }
        delete_entries(c, &l.id)?;
        insert_entries(c, &l.id, &l.entries)?;
        Ok(true)
    }

    fn delete_prefix_list(
        &mut self,
        account_id: &AccountId,
        id: &PrefixListId,
    ) -> Result<bool, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        let id = id.as_str();
        let deleted = exec(
            c,
            "DELETE FROM prefix_lists WHERE id = $1 AND account_id = $2",
            &[&id, &account_id],
        )?;
        if deleted == 0 {
            return Ok(false);
        }
        delete_entries(c, id)?;
        delete_tags(c, account_id, ResourceType::PrefixList.as_str(), id)?;
        Ok(true)
    }

    fn count_prefix_lists(
        &mut self,
        account_id: &AccountId,
        region_id: &str,
    ) -> Result<u64, StoreError> {
        let c = &mut *self.c;
        let account_id = account_id.as_str();
        count(
            c,
            "SELECT COUNT(*) FROM prefix_lists WHERE account_id = $1 AND region_id = $2",
            &[&account_id, &region_id],
        )
    }
}
