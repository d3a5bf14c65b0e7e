//! NIS's own reads of its parameters (the shared ones — `RegionId`, JSON arrays — are on
//! [`Input`]), with the error for each way a value can be wrong.

use secgroup_api::Input;
use secgroup_domain::ops::nis::{EndpointDraft, PathDraft};
use secgroup_domain::Tag;
use secgroup_rpc::RpcError;

use crate::errors::{id_list_invalid, tag_key_missing, tag_value_missing};

/// Source, target and protocol. `TargetId`, `TargetType` and `Protocol` are optional in the
/// schema but required in practice (docs/nis.md §2): without them there is no flow.
pub fn path(p: &mut Input<'_>) -> Result<PathDraft, RpcError> {
    let source = EndpointDraft {
        id: p.required("SourceId")?.to_string(),
        kind: p.required("SourceType")?.to_string(),
        ip_address: p.non_empty("SourceIpAddress").map(str::to_string),
        port: p.non_empty("SourcePort").map(str::to_string),
    };
    let target = EndpointDraft {
        id: p.required("TargetId")?.to_string(),
        kind: p.required("TargetType")?.to_string(),
        ip_address: p.non_empty("TargetIpAddress").map(str::to_string),
        port: p.non_empty("TargetPort").map(str::to_string),
    };
    Ok(PathDraft {
        source,
        target,
        protocol: p.required("Protocol")?.to_string(),
    })
}

/// `Tag.N.Key` / `Tag.N.Value`: NIS wants both of every pair, and knows no lower-case
/// aliases (docs/nis.md §1.4), unlike the shared [`Input::tags`].
pub fn tags(p: &mut Input<'_>) -> Result<Vec<Tag>, RpcError> {
    let mut out = Vec::new();
    for (_, fields) in p.object_list("Tag") {
        let key = fields.get("Key").copied().unwrap_or("");
        let value = fields.get("Value").copied().unwrap_or("");
        match (key.is_empty(), value.is_empty()) {
            (true, _) => return Err(tag_key_missing()),
            (false, true) => return Err(tag_value_missing()),
            (false, false) => out.push(Tag {
                key: key.to_string(),
                value: value.to_string(),
            }),
        }
    }
    Ok(out)
}

/// The most ids one `NetworkPathIds` / `NetworkReachableAnalysisIds` list holds
/// (docs/nis.md §3.5).
pub const MAX_IDS: usize = 100;

/// A required JSON array of 1 to [`MAX_IDS`] ids, as the SDKs send it (`["np-a","np-b"]`),
/// duplicates folded in linear time, first occurrences kept in order (docs/nis.md §3.5).
pub fn id_list(
    p: &mut Input<'_>,
    parameter: &str,
    code_suffix: &str,
) -> Result<Vec<String>, RpcError> {
    let invalid = || id_list_invalid(code_suffix, parameter);
    let ids = p
        .json_strings(parameter, MAX_IDS, invalid)?
        .ok_or_else(invalid)?;
    if ids.is_empty() || ids.iter().any(String::is_empty) {
        return Err(invalid());
    }
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    Ok(ids
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect())
}
