//! What the framework records of a call (docs/actiontrail.md §1): every call that changed
//! state, in the same transaction as the change ([`crate::Cx::write`]); every refused call
//! of an action that changes state, after the rollback, through
//! [`Store::write_unrevised`](secgroup_domain::Store::write_unrevised) (a record is no
//! change of the network, so the change revision stays); never a read, nor a dry run.

use chrono::{DateTime, Duration, Utc};
use secgroup_domain::audit::{resource_type_of, AuditEvent, AuditResource};
use secgroup_domain::ids::AccountId;
use secgroup_domain::{StoreError, Tx};
use secgroup_rpc::{CallContext, Params, RpcError};
use serde_json::Value;

/// How long events are kept by default: 90 days, as ActionTrail's event history.
pub const DEFAULT_RETENTION: Duration = Duration::days(90);

/// Actions by these prefixes only read (the products name every action so), and are not
/// recorded.
const READ_PREFIXES: &[&str] = &["Describe", "List", "Get", "Check", "Lookup"];

/// Whether the action only reads.
pub fn is_read_action(name: &str) -> bool {
    READ_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Parameters never recorded, whatever the product: anything of the signature or a secret.
fn is_secret(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    lower.starts_with("signature") || lower.contains("secret") || lower == "accesskeyid"
}

/// The business parameters as one JSON object, keys sorted (the map's own order), secrets
/// left out; written straight from the parameters (a `serde_json::Map` copied every key and
/// value twice).
pub fn parameters_json(params: &Params) -> String {
    struct Public<'a>(&'a Params);
    impl serde::Serialize for Public<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().filter(|(k, _)| !is_secret(k)))
        }
    }
    serde_json::to_string(&Public(params)).unwrap_or_else(|_| "{}".to_string())
}

/// Whether a parameter or field names resources: `...Id`, `...Ids`, or an item of one
/// (`InstanceId.1`, `SecurityGroupIds.2`); a result's fields are also `id`, `..._id`.
fn names_ids(key: &str) -> bool {
    let base = key.split('.').next().unwrap_or(key);
    let named = base.ends_with("Id")
        || base.ends_with("Ids")
        || base == "id"
        || base.ends_with("_id")
        || base.ends_with("_ids");
    let not_resources = [
        "RegionId",
        "ZoneId",
        "ResourceGroupId",
        "OwnerId",
        "RequestId",
        "region_id",
        "zone_id",
        "resource_group_id",
        "account_id",
        "owner_id",
    ];
    named && !not_resources.contains(&base)
}

fn push(out: &mut Vec<AuditResource>, id: &str) {
    if let Some(kind) = resource_type_of(id) {
        if !out.iter().any(|r| r.id == id) {
            out.push(AuditResource {
                id: id.to_string(),
                resource_type: kind.to_string(),
            });
        }
    }
}

fn from_value(out: &mut Vec<AuditResource>, value: &Value, named: bool) {
    match value {
        Value::String(s) if named => push(out, s),
        Value::Array(items) => items.iter().for_each(|v| from_value(out, v, named)),
        Value::Object(map) => {
            for (k, v) in map {
                from_value(out, v, names_ids(k));
            }
        }
        _ => {}
    }
}

/// The resources a call touched: the ids its parameters name, then those its result names
/// (what it created).
pub fn resources(params: &Params, result: Option<&Value>) -> Vec<AuditResource> {
    let mut out = named_by_params(params);
    if let Some(result) = result {
        add_named_by_result(&mut out, result);
    }
    out
}

/// The ids a call's parameters name.
fn named_by_params(params: &Params) -> Vec<AuditResource> {
    let mut out = Vec::new();
    for (k, v) in params.iter() {
        if !names_ids(k) {
            continue;
        }
        match serde_json::from_str::<Value>(v) {
            Ok(list @ Value::Array(_)) => from_value(&mut out, &list, true),
            _ => push(&mut out, v),
        }
    }
    out
}

/// Adds the ids a call's result names (a bare id as the whole result names what was made).
fn add_named_by_result(out: &mut Vec<AuditResource>, result: &Value) {
    from_value(out, result, true);
}

/// What every event of one call shares.
#[derive(Clone)]
pub(crate) struct CallRecord {
    pub account: AccountId,
    pub access_key_id: String,
    pub source_ip: String,
    pub product: &'static str,
    pub version: String,
    pub action: String,
    pub region_id: String,
    pub request_id: String,
    pub parameters: String,
    /// The resources the parameters name (those of the result are added per event).
    pub named: Vec<AuditResource>,
}

impl CallRecord {
    pub(crate) fn new(product: &'static str, call: &CallContext, params: &Params) -> Self {
        CallRecord {
            account: AccountId::new(call.account_id.as_str()),
            access_key_id: call.access_key_id.clone(),
            source_ip: call.source_ip.clone(),
            product,
            version: call.version.clone(),
            action: call.action.clone(),
            region_id: params.get("RegionId").unwrap_or("").to_string(),
            request_id: call.request_id.clone(),
            parameters: parameters_json(params),
            named: named_by_params(params),
        }
    }

    pub(crate) fn event(
        &self,
        n: u32,
        now: DateTime<Utc>,
        result: Option<&Value>,
        error: Option<&RpcError>,
    ) -> AuditEvent {
        AuditEvent {
            seq: 0,
            event_id: if n <= 1 {
                self.request_id.clone()
            } else {
                format!("{}-{n}", self.request_id)
            },
            account_id: self.account.clone(),
            time: now,
            access_key_id: self.access_key_id.clone(),
            source_ip: self.source_ip.clone(),
            product: self.product.to_string(),
            version: self.version.clone(),
            action: self.action.clone(),
            region_id: self.region_id.clone(),
            request_id: self.request_id.clone(),
            parameters: self.parameters.clone(),
            resources: {
                let mut out = self.named.clone();
                if let Some(result) = result {
                    add_named_by_result(&mut out, result);
                }
                out
            },
            error_code: error.map(|e| e.code.to_string()),
            error_message: error.map(|e| e.message.to_string()),
        }
    }
}

/// Forgets every event older than `retention` at `now`; returns how many went.
pub fn purge_expired(
    tx: &mut dyn Tx,
    now: DateTime<Utc>,
    retention: Duration,
) -> Result<u64, StoreError> {
    tx.purge_audit_events(now - retention)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_told_from_writes() {
        for read in [
            "DescribeSecurityGroups",
            "ListTagResources",
            "GetNetworkReachableAnalysis",
            "CheckReachability",
            "LookupEvents",
        ] {
            assert!(is_read_action(read), "{read}");
        }
        for write in [
            "CreateSecurityGroup",
            "AuthorizeSecurityGroup",
            "RunInstances",
            "TagResources",
            "ModifyVpcAttribute",
        ] {
            assert!(!is_read_action(write), "{write}");
        }
    }

    #[test]
    fn parameters_leave_secrets_out_and_resources_are_found() {
        let params = Params::from_pairs([
            ("SecurityGroupId", "sg-abc"),
            ("InstanceId.1", "i-one"),
            ("SecurityGroupIds", r#"["sg-x","sg-abc"]"#),
            ("SecurityGroupName", "sg-looks-like-an-id"),
            ("RegionId", "cn-hangzhou"),
            ("SignatureNonce", "n"),
            ("AccessKeySecret", "nope"),
        ]);
        let json: Value = serde_json::from_str(&parameters_json(&params)).expect("json");
        assert!(json.get("SignatureNonce").is_none() && json.get("AccessKeySecret").is_none());
        assert_eq!(json["SecurityGroupName"], "sg-looks-like-an-id");
        let result =
            serde_json::json!({"VpcId": "vpc-new", "Name": "vsw-not-an-id", "Ids": ["vsw-1"]});
        let ids: Vec<String> = resources(&params, Some(&result))
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["i-one", "sg-abc", "sg-x", "vpc-new", "vsw-1"]);
        let bare = resources(&Params::default(), Some(&Value::String("sg-made".into())));
        assert_eq!(bare[0].resource_type, "ACS::ECS::SecurityGroup");
    }
}
