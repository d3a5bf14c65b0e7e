//! `LookupEvents` (docs/actiontrail.md §2): the caller's events, newest first, filtered by
//! `LookupAttribute.N`, a time range and paged by `NextToken`.

use chrono::{DateTime, Utc};
use secgroup_api::errors::invalid;
use secgroup_api::paging::next_token;
use secgroup_api::{render, Action, Cx, Input};
use secgroup_domain::audit::{AuditEvent, AuditQuery};
use secgroup_domain::{DomainError, Store};
use secgroup_rpc::{Node, RpcError};
use serde_json::{json, Map, Value};

use crate::Actiontrail;

/// `MaxResults` when absent, and its largest value.
pub const DEFAULT_MAX_RESULTS: u32 = 20;
pub const MAX_RESULTS: u32 = 50;

/// The lookup attributes served.
const KEYS: &[&str] = &[
    "EventName",
    "ResourceName",
    "ResourceType",
    "EventAccessKeyId",
    "EventRW",
    "ServiceName",
];

pub struct LookupEvents {
    query: AuditQuery,
    /// `EventRW=Read`: every recorded event is a write, so nothing matches.
    reads_only: bool,
    service: Option<String>,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
}

/// `yyyy-MM-ddTHH:mm:ssZ` (any RFC 3339 time is taken).
fn time(p: &mut Input<'_>, name: &str) -> Result<Option<DateTime<Utc>>, RpcError> {
    match p.non_empty(name) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| invalid(name)),
    }
}

impl<S: Store> Action<Actiontrail<S>> for LookupEvents {
    const NAME: &'static str = "LookupEvents";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        p.optional("RegionId");
        // The order of the answer: accepted, always newest first (docs/actiontrail.md §2.1).
        p.optional("Direction");
        let start = time(p, "StartTime")?;
        let end = time(p, "EndTime")?;
        if let (Some(s), Some(e)) = (start, end) {
            if s > e {
                return Err(invalid("StartTime"));
            }
        }
        let limit = match p.int("MaxResults")? {
            None => DEFAULT_MAX_RESULTS,
            Some(n) if (1..=i64::from(MAX_RESULTS)).contains(&n) => n as u32,
            Some(_) => return Err(invalid("MaxResults")),
        };
        let before_seq = match p.non_empty("NextToken") {
            None => None,
            Some(token) => Some(
                next_token::decode(token)
                    .and_then(|seq| i64::try_from(seq).ok())
                    .ok_or_else(|| invalid("NextToken"))?,
            ),
        };
        let mut query = AuditQuery {
            start,
            end,
            before_seq,
            limit,
            ..AuditQuery::default()
        };
        let mut reads_only = false;
        let mut service = None;
        for (n, attribute) in p.object_list("LookupAttribute") {
            let key = attribute.get("Key").copied().unwrap_or("");
            let value = attribute.get("Value").copied().unwrap_or("").to_string();
            if !KEYS.contains(&key) {
                return Err(invalid(&format!("LookupAttribute.{n}.Key")));
            }
            if value.is_empty() {
                return Err(invalid(&format!("LookupAttribute.{n}.Value")));
            }
            match key {
                "EventName" => query.event_name = Some(value),
                "ResourceName" => query.resource_id = Some(value),
                "ResourceType" => query.resource_type = Some(value),
                "EventAccessKeyId" => query.access_key_id = Some(value),
                "ServiceName" => service = Some(value),
                _ => match value.as_str() {
                    "Write" => {}
                    "Read" => reads_only = true,
                    _ => return Err(invalid(&format!("LookupAttribute.{n}.Value"))),
                },
            }
        }
        Ok(LookupEvents {
            query,
            reads_only,
            service,
            start,
            end,
        })
    }

    async fn run(self, cx: &Cx<'_, Actiontrail<S>>) -> Result<Node, RpcError> {
        let LookupEvents {
            query,
            reads_only,
            service,
            start,
            end,
        } = self;
        let now = Utc::now();
        let retention = cx
            .config()
            .audit_retention
            .unwrap_or(secgroup_api::audit::DEFAULT_RETENTION);
        let start = start.unwrap_or(now - retention);
        let end = end.unwrap_or(now);
        let limit = query.limit as usize;
        let events = if reads_only {
            Vec::new()
        } else {
            let query = AuditQuery {
                start: Some(start),
                end: Some(end),
                ..query
            };
            // With a service filter, more than a page may be read to fill one.
            let service = service.clone();
            cx.read(move |tx, scope| {
                let mut found: Vec<AuditEvent> = Vec::new();
                let mut q = query.clone();
                loop {
                    let batch = tx.audit_events(scope.account(), &q)?;
                    let more = batch.len() == q.limit as usize;
                    let last = batch.last().map(|e| e.seq);
                    found.extend(batch.into_iter().filter(|e| {
                        service
                            .as_deref()
                            .is_none_or(|s| e.product.eq_ignore_ascii_case(s))
                    }));
                    match last {
                        Some(seq) if more && found.len() < limit => q.before_seq = Some(seq),
                        _ => break,
                    }
                }
                found.truncate(limit);
                Ok::<_, DomainError>(found)
            })
            .await?
        };
        let next = if events.len() == limit {
            events
                .last()
                .map(|e| next_token::encode(usize::try_from(e.seq).unwrap_or(0)))
                .unwrap_or_default()
        } else {
            String::new()
        };
        let list: Vec<Value> = events.iter().map(event_json).collect();
        Ok(Node::object()
            .field("Events", Node::Json(Value::Array(list)))
            .str("NextToken", next)
            .str("StartTime", render::time(&start))
            .str("EndTime", render::time(&end))
            .build())
    }
}

/// One event as ActionTrail shapes it (docs/actiontrail.md §2.3).
pub fn event_json(e: &AuditEvent) -> Value {
    let parameters: Value =
        serde_json::from_str(&e.parameters).unwrap_or_else(|_| Value::Object(Map::new()));
    let mut referenced = Map::new();
    for r in &e.resources {
        if let Value::Array(ids) = referenced
            .entry(r.resource_type.clone())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            ids.push(Value::String(r.id.clone()));
        }
    }
    let names: Vec<&str> = e.resources.iter().map(|r| r.id.as_str()).collect();
    let mut types: Vec<&str> = Vec::new();
    for r in &e.resources {
        if !types.contains(&r.resource_type.as_str()) {
            types.push(&r.resource_type);
        }
    }
    let mut event = json!({
        "eventId": e.event_id,
        "eventVersion": "1",
        "eventType": "ApiCall",
        "eventCategory": "Management",
        "eventRW": "Write",
        "eventName": e.action,
        "eventSource": format!("{}.aliyuncs.com", e.product.to_ascii_lowercase()),
        "eventTime": render::time(&e.time),
        "serviceName": e.product,
        "apiVersion": e.version,
        "acsRegion": e.region_id,
        "requestId": e.request_id,
        "sourceIpAddress": e.source_ip,
        "isGlobal": false,
        "userIdentity": {
            "type": "root-account",
            "accountId": e.account_id.as_str(),
            "principalId": e.account_id.as_str(),
            "accessKeyId": e.access_key_id,
        },
        "requestParameters": parameters,
        "resourceName": names.join(";"),
        "resourceType": types.join(";"),
        "referencedResources": referenced,
    });
    if let (Some(code), Value::Object(map)) = (&e.error_code, &mut event) {
        map.insert("errorCode".into(), Value::String(code.clone()));
        map.insert(
            "errorMessage".into(),
            Value::String(e.error_message.clone().unwrap_or_default()),
        );
    }
    event
}
