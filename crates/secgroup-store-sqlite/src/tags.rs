//! Tags of resources, kept in the order their keys were first set.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection};
use secgroup_domain::ids::AccountId;
use secgroup_domain::{ResourceType, StoreError, Tag, TagsTx};

use crate::error::map_err;
use crate::tx::SqliteTx;

impl TagsTx for SqliteTx<'_> {
    fn tags(
        &mut self,
        account_id: &AccountId,
        resource_type: ResourceType,
        resource_id: &str,
    ) -> Result<Vec<Tag>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        conn.prepare_cached(
            "SELECT key, value FROM tags
             WHERE account_id = ?1 AND resource_type = ?2 AND resource_id = ?3 ORDER BY seq",
        )
        .and_then(|mut st| {
            st.query_map([account_id, resource_type.as_str(), resource_id], |row| {
                Ok(Tag {
                    key: row.get(0)?,
                    value: row.get(1)?,
                })
            })?
            .collect()
        })
        .map_err(map_err)
    }

    /// Replaces the set: keys not in `new` go, keys that stay keep their place (and take the
    /// new value), new keys follow in the order given. A key given twice takes its last value.
    fn set_tags(
        &mut self,
        account_id: &AccountId,
        resource_type: ResourceType,
        resource_id: &str,
        new: &[Tag],
    ) -> Result<(), StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let rt = resource_type.as_str();
        let existing: Vec<String> = conn
            .prepare_cached(
                "SELECT key FROM tags WHERE account_id = ?1 AND resource_type = ?2 AND resource_id = ?3",
            )
            .and_then(|mut st| {
                st.query_map([account_id, rt, resource_id], |row| row.get(0))?
                    .collect()
            })
            .map_err(map_err)?;

        let keep: HashSet<&str> = new.iter().map(|t| t.key.as_str()).collect();
        for key in existing.iter().filter(|k| !keep.contains(k.as_str())) {
            conn.prepare_cached(
                "DELETE FROM tags
                 WHERE account_id = ?1 AND resource_type = ?2 AND resource_id = ?3 AND key = ?4",
            )
            .and_then(|mut st| st.execute([account_id, rt, resource_id, key.as_str()]))
            .map_err(map_err)?;
        }

        let last_seq: i64 = conn
            .prepare_cached(
                "SELECT COALESCE(MAX(seq), 0) FROM tags
                 WHERE account_id = ?1 AND resource_type = ?2 AND resource_id = ?3",
            )
            .and_then(|mut st| st.query_row([account_id, rt, resource_id], |row| row.get(0)))
            .map_err(map_err)?;
        for (seq, tag) in (last_seq + 1..).zip(new) {
            // An existing key keeps its seq; only a new row takes `seq`.
            conn.prepare_cached(
                "INSERT INTO tags (account_id, resource_type, resource_id, key, value, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (account_id, resource_type, resource_id, key)
                 DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut st| {
                st.execute(params![
                    account_id,
                    rt,
                    resource_id,
                    tag.key,
                    tag.value,
                    seq
                ])
            })
            .map_err(map_err)?;
        }
        Ok(())
    }

    fn all_tags(
        &mut self,
        account_id: &AccountId,
        resource_type: ResourceType,
    ) -> Result<HashMap<String, Vec<Tag>>, StoreError> {
        let conn = self.conn;
        let account_id = account_id.as_str();
        let rows: Vec<(String, Tag)> = conn
            .prepare_cached(
                "SELECT resource_id, key, value FROM tags
                 WHERE account_id = ?1 AND resource_type = ?2 ORDER BY resource_id, seq",
            )
            .and_then(|mut st| {
                st.query_map([account_id, resource_type.as_str()], |row| {
                    Ok((
                        row.get(0)?,
                        Tag {
                            key: row.get(1)?,
                            value: row.get(2)?,
                        },
                    ))
                })?
                .collect()
            })
            .map_err(map_err)?;
        let mut by_resource: HashMap<String, Vec<Tag>> = HashMap::new();
        for (resource_id, tag) in rows {
            by_resource.entry(resource_id).or_default().push(tag);
        }
        Ok(by_resource)
    }
}

/// Runs `sql` (a `DELETE` of one resource by `?1` id and `?2` account) and, if it deleted
/// a row, deletes the tags of the resource.
pub(crate) fn delete_with_tags(
    conn: &Connection,
    sql: &str,
    resource_type: ResourceType,
    account_id: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let deleted = conn
        .prepare_cached(sql)
        .and_then(|mut st| st.execute([id, account_id]))
        .map_err(map_err)?;
    if deleted == 0 {
        return Ok(false);
    }
    conn.prepare_cached(
        "DELETE FROM tags WHERE account_id = ?1 AND resource_type = ?2 AND resource_id = ?3",
    )
    .and_then(|mut st| st.execute([account_id, resource_type.as_str(), id]))
    .map_err(map_err)?;
    Ok(true)
}
