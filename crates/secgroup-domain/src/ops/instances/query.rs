//! `DescribeInstances` and `DescribeInstanceAttribute` (docs/ecs.md §7.5, §7.6): the
//! filters, the state each instance is seen in now, and one page of the result.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{get, observe, InstanceAttributes, InstanceTimings};
use crate::error::DomainError;
use crate::ids::{AccountId, InstanceId};
use crate::model::{ResourceType, Tag};
use crate::network::{Instance, InstanceQuery, InstanceStatus, NetworkInterface};
use crate::store::Tx;

/// The filters of `DescribeInstances`; every given one must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceFilter {
    /// `InstanceIds`: an empty list matches nothing.
    pub ids: Option<Vec<String>>,
    pub vpc_id: Option<String>,
    pub vswitch_id: Option<String>,
    pub security_group_id: Option<String>,
    pub zone_id: Option<String>,
    /// Matched against the state seen now.
    pub status: Option<InstanceStatus>,
    /// `*` matches any run of characters.
    pub name: Option<String>,
    pub private_ips: Option<Vec<String>>,
    /// `PublicIpAddresses`: the address assigned with outbound bandwidth.
    pub public_ips: Option<Vec<String>>,
    pub instance_type: Option<String>,
    pub image_id: Option<String>,
    pub resource_group_id: Option<String>,
    pub key_pair_name: Option<String>,
    pub instance_charge_type: Option<String>,
    pub internet_charge_type: Option<String>,
    /// Key, and the value it must have (`None`: any value).
    pub tags: Vec<(String, Option<String>)>,
    /// Created at or after (`Filter.N` `CreationStartTime`).
    pub created_from: Option<DateTime<Utc>>,
    /// Created at or before (`Filter.N` `CreationEndTime`).
    pub created_to: Option<DateTime<Utc>>,
    /// A filter nothing can match (e.g. `InstanceNetworkType=classic`).
    pub nothing: bool,
}

/// An instance as a reader sees it: state settled to now, attributes parsed, tags.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceView {
    /// `status`/`status_since` are the observed ones.
    pub instance: Instance,
    pub attributes: InstanceAttributes,
    /// When it last became `Running`, if it ever did.
    pub start_time: Option<DateTime<Utc>>,
    pub tags: Vec<Tag>,
    /// Its network interfaces, the primary one first, then the secondary ones by device
    /// index (filled by [`list`]; empty elsewhere).
    pub interfaces: Vec<NetworkInterface>,
    /// The host it is placed on, empty when it is `Stopped` or unplaced (filled by
    /// [`list`]; empty elsewhere; README "Data plane").
    pub host: String,
}

/// `*` wildcards; otherwise an exact match.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

fn view(
    instance: Instance,
    attributes: Option<InstanceAttributes>,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<InstanceView, DomainError> {
    let attributes = match attributes {
        Some(a) => a,
        None => InstanceAttributes::parse(&instance.attributes)?,
    };
    let mut instance = instance;
    let (status, since) = observe(
        instance.status,
        instance.status_since,
        attributes.auto_start,
        timings,
        now,
    );
    (instance.status, instance.status_since) = (status, since);
    let start_time = if status == InstanceStatus::Running {
        Some(since)
    } else {
        attributes.start_time
    };
    Ok(InstanceView {
        instance,
        attributes,
        start_time,
        tags: Vec::new(),
        interfaces: Vec::new(),
        host: String::new(),
    })
}

impl InstanceFilter {
    fn store_query(&self) -> InstanceQuery {
        InstanceQuery {
            ids: self.ids.clone(),
            vpc_id: self.vpc_id.clone(),
            vswitch_id: self.vswitch_id.clone(),
            security_group_id: self.security_group_id.clone(),
            page: None,
        }
    }

    /// Whether the store applies every given filter (then it can also cut the page).
    fn store_only(&self) -> bool {
        let InstanceFilter {
            ids: _,
            vpc_id: _,
            vswitch_id: _,
            security_group_id: _,
            zone_id,
            status,
            name,
            private_ips,
            public_ips,
            instance_type,
            image_id,
            resource_group_id,
            key_pair_name,
            instance_charge_type,
            internet_charge_type,
            tags,
            created_from,
            created_to,
            nothing,
        } = self;
        zone_id.is_none()
            && status.is_none()
            && name.is_none()
            && private_ips.is_none()
            && public_ips.is_none()
            && instance_type.is_none()
            && image_id.is_none()
            && resource_group_id.is_none()
            && key_pair_name.is_none()
            && instance_charge_type.is_none()
            && internet_charge_type.is_none()
            && tags.is_empty()
            && created_from.is_none()
            && created_to.is_none()
            && !nothing
    }

    /// Whether a filter needs the state seen now or the parsed attributes.
    fn needs_view(&self) -> bool {
        self.status.is_some()
            || self.public_ips.is_some()
            || self.resource_group_id.is_some()
            || self.key_pair_name.is_some()
            || self.instance_charge_type.is_some()
            || self.internet_charge_type.is_some()
    }

    /// The filters on the instance's own fields.
    fn matches_fields(&self, i: &Instance) -> bool {
        self.created_from.is_none_or(|t| i.creation_time >= t)
            && self.created_to.is_none_or(|t| i.creation_time <= t)
            && self.zone_id.as_ref().is_none_or(|z| *z == i.zone_id)
            && self
                .name
                .as_ref()
                .is_none_or(|n| wildcard_match(n, &i.name))
            && self
                .private_ips
                .as_ref()
                .is_none_or(|ips| ips.contains(&i.private_ip))
            && self
                .instance_type
                .as_ref()
                .is_none_or(|t| *t == i.instance_type)
            && self.image_id.as_ref().is_none_or(|t| *t == i.image_id)
    }

    fn matches_view(&self, v: &InstanceView) -> bool {
        let a = &v.attributes;
        self.status.is_none_or(|s| s == v.instance.status)
            && self
                .public_ips
                .as_ref()
                .is_none_or(|ips| ips.contains(&a.public_ip))
            && self
                .resource_group_id
                .as_ref()
                .is_none_or(|r| *r == a.resource_group_id)
            && self
                .key_pair_name
                .as_ref()
                .is_none_or(|k| *k == a.key_pair_name)
            && self
                .instance_charge_type
                .as_ref()
                .is_none_or(|c| *c == a.instance_charge_type)
            && self
                .internet_charge_type
                .as_ref()
                .is_none_or(|c| *c == a.internet_charge_type)
    }
}

/// One page of the matching instances of the account in the region (oldest first), and
/// how many matched in all. When the store can apply every filter it also cuts the page;
/// otherwise the rest are applied here. Attributes and tags are read for the page only
/// (and for every candidate when a filter needs them).
pub fn list(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    filter: &InstanceFilter,
    (offset, limit): (usize, usize),
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<(usize, Vec<InstanceView>), DomainError> {
    if filter.nothing || filter.ids.as_ref().is_some_and(Vec::is_empty) {
        return Ok((0, Vec::new()));
    }
    let mut query = filter.store_query();
    let (total, candidates) = if filter.store_only() {
        let total = tx.count_matching_instances(account_id, region_id, &query)?;
        query.page = Some((offset, limit));
        let page = tx.instances(account_id, region_id, &query)?;
        (usize::try_from(total).unwrap_or(usize::MAX), page)
    } else {
        let matched = matching(tx, account_id, region_id, filter, &query, timings, now)?;
        let total = matched.len();
        (
            total,
            matched.into_iter().skip(offset).take(limit).collect(),
        )
    };
    let mut interfaces = interfaces_by_instance(tx, account_id, region_id, &candidates)?;
    let placements = crate::ops::dataplane::account_placements(tx, account_id)?;
    let mut page = Vec::with_capacity(candidates.len());
    for instance in candidates {
        let mut v = view(instance, None, timings, now)?;
        v.tags = tx.tags(account_id, ResourceType::Instance, &v.instance.id)?;
        v.interfaces = interfaces.remove(&v.instance.id).unwrap_or_default();
        v.host = crate::ops::placement::shown_host(
            v.instance.status,
            placements.get(&v.instance.id).map(String::as_str),
        );
        page.push(v);
    }
    Ok((total, page))
}

/// The interfaces of `instances` by instance id: the primary one, then the secondary ones
/// attached, by device index.
fn interfaces_by_instance(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    instances: &[Instance],
) -> Result<HashMap<String, Vec<NetworkInterface>>, DomainError> {
    let mut secondary: Vec<NetworkInterface> = tx
        .network_interfaces(account_id, region_id)?
        .into_iter()
        .filter(|e| !e.instance_id.is_empty())
        .collect();
    secondary.sort_by_key(|e| e.device_index);
    let all = crate::ops::network_interfaces::compose(
        instances,
        secondary,
        tx.secondary_private_ips(account_id, region_id)?,
    );
    let mut out: HashMap<String, Vec<NetworkInterface>> = HashMap::new();
    for eni in all {
        out.entry(eni.instance_id.clone()).or_default().push(eni);
    }
    Ok(out)
}

/// Every instance passing the filters the store does not apply.
fn matching(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    filter: &InstanceFilter,
    query: &InstanceQuery,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<Vec<Instance>, DomainError> {
    let all_tags: Option<HashMap<String, Vec<Tag>>> = if filter.tags.is_empty() {
        None
    } else {
        Some(tx.all_tags(account_id, ResourceType::Instance)?)
    };
    let mut matched = Vec::new();
    for instance in tx.instances(account_id, region_id, query)? {
        if !filter.matches_fields(&instance) {
            continue;
        }
        if filter.needs_view() && !filter.matches_view(&view(instance.clone(), None, timings, now)?)
        {
            continue;
        }
        if let Some(all) = &all_tags {
            let tags = all.get(&instance.id).map(Vec::as_slice).unwrap_or_default();
            let tagged = filter.tags.iter().all(|(k, val)| {
                tags.iter()
                    .any(|t| t.key == *k && val.as_ref().is_none_or(|x| *x == t.value))
            });
            if !tagged {
                continue;
            }
        }
        matched.push(instance);
    }
    Ok(matched)
}

/// `DescribeInstanceAttribute`: one instance of the account, as seen now (no tags).
pub fn attribute(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    id: &InstanceId,
    timings: &InstanceTimings,
    now: DateTime<Utc>,
) -> Result<InstanceView, DomainError> {
    let settled = get(tx, account_id, id, timings, now)?;
    view(settled.instance, Some(settled.attributes), timings, now)
}

#[cfg(test)]
mod tests {
    use super::wildcard_match as m;

    #[test]
    fn wildcards() {
        assert!(m("web", "web"));
        assert!(!m("web", "web1"));
        assert!(m("web*", "web-01"));
        assert!(m("*01", "web-01"));
        assert!(m("w*-*1", "web-01"));
        assert!(m("*", ""));
        assert!(!m("web*b", "web"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("a*b*c", "axbyc"));
    }
}
