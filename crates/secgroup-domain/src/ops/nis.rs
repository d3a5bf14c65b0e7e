//! NIS network paths and reachability analyses (docs/nis.md): validating what a path
//! names, storing paths and analysis records, quotas. The analysis itself (the engine) is
//! the caller's: it reads [`analysis_input`], evaluates, and hands the record to
//! [`record_analysis`].

use std::net::IpAddr;

use chrono::{DateTime, SubsecRound, Utc};

use super::network_state;
use super::Limits;
use crate::error::{DomainError, PathInvalid};
use crate::ids;
use crate::ids::{AccountId, InstanceId, VSwitchId};
use crate::model::{ResourceType, Tag};
use crate::network::{NetworkState, VSwitch};
use crate::nis::{EndpointType, NetworkPath, PathProtocol, PathSpec, ReachabilityAnalysis};
use crate::rules::Cidr;
use crate::store::Tx;
use crate::validate;

/// One end of a path as the request spelled it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointDraft {
    pub id: String,
    pub kind: String,
    pub ip_address: Option<String>,
    pub port: Option<String>,
}

/// The endpoints, protocol and ports of a path, unvalidated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathDraft {
    pub source: EndpointDraft,
    pub target: EndpointDraft,
    pub protocol: String,
}

/// What `CreateNetworkPath` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewNetworkPath {
    pub region_id: String,
    pub name: String,
    pub description: String,
    pub resource_group_id: String,
    pub path: PathDraft,
    pub tags: Vec<Tag>,
}

#[derive(Clone, Copy)]
enum End {
    Source,
    Target,
}

impl End {
    fn invalid_type(self, value: &str) -> DomainError {
        let value = value.to_string();
        DomainError::PathInvalid(match self {
            End::Source => PathInvalid::SourceType(value),
            End::Target => PathInvalid::TargetType(value),
        })
    }
    fn invalid_port(self, value: &str) -> DomainError {
        let value = value.to_string();
        DomainError::PathInvalid(match self {
            End::Source => PathInvalid::SourcePort(value),
            End::Target => PathInvalid::TargetPort(value),
        })
    }
    fn unknown_id(self, id: &str) -> DomainError {
        let id = id.to_string();
        DomainError::PathInvalid(match self {
            End::Source => PathInvalid::SourceId(id),
            End::Target => PathInvalid::TargetId(id),
        })
    }
    fn invalid_ip(self, ip: &str) -> DomainError {
        let ip = ip.to_string();
        DomainError::PathInvalid(match self {
            End::Source => PathInvalid::SourceIp(ip),
            End::Target => PathInvalid::TargetIp(ip),
        })
    }
}

fn endpoint_type(end: End, kind: &str) -> Result<EndpointType, DomainError> {
    match EndpointType::parse(kind) {
        // A Classic Load Balancer can only be analysed as a target.
        Some(EndpointType::Clb) if matches!(end, End::Source) => Err(end.invalid_type(kind)),
        Some(t) => Ok(t),
        None => Err(end.invalid_type(kind)),
    }
}

/// A port in `(0, 65536)` — the documented `(0,65536]` minus the one value no port has.
fn port(end: End, text: Option<&str>) -> Result<Option<u16>, DomainError> {
    text.map(|t| {
        t.parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| end.invalid_port(t))
    })
    .transpose()
}

/// Not a private, shared, loopback, link-local, multicast or reserved address. Documentation
/// ranges count as public: they are what tests and examples use for "somewhere outside".
fn is_internet_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some())
        }
    }
}

/// Checks one end against the account's resources; returns its canonical address, if any.
fn endpoint(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    end: End,
    kind: EndpointType,
    draft: &EndpointDraft,
) -> Result<Option<String>, DomainError> {
    let given_ip = draft.ip_address.as_deref().filter(|s| !s.is_empty());
    match kind {
        EndpointType::Ecs => {
            if !draft.id.starts_with("i-") {
                return Err(DomainError::PathInvalid(PathInvalid::TypeAndIdMismatch(
                    draft.id.clone(),
                )));
            }
            let instance = tx
                .instance(account_id, &InstanceId::from(&draft.id))?
                .filter(|i| i.region_id == region_id)
                .ok_or_else(|| end.unknown_id(&draft.id))?;
            // The address must be one of the instance's interfaces' (primary or secondary
            // addresses, of its primary or attached secondary interfaces): it picks the
            // interface evaluated.
            match given_ip {
                Some(ip) => {
                    let wanted = ip.parse::<IpAddr>().ok();
                    let held = super::network_interfaces::all(tx, account_id, region_id)?
                        .iter()
                        .filter(|e| e.instance_id == instance.id)
                        .any(|e| e.addresses().any(|a| a.parse::<IpAddr>().ok() == wanted));
                    if wanted.is_none() || !held {
                        return Err(end.invalid_ip(ip));
                    }
                    Ok(Some(ip.to_string()))
                }
                None => Ok(None),
            }
        }
        EndpointType::InternetIp => {
            let ip: IpAddr = draft
                .id
                .parse()
                .map_err(|_| DomainError::PathInvalid(PathInvalid::Ip(draft.id.clone())))?;
            if !is_internet_address(ip) {
                return Err(DomainError::PathInvalid(PathInvalid::NotInternetIp(
                    draft.id.clone(),
                )));
            }
            if let Some(other) = given_ip {
                if other.parse::<IpAddr>().ok() != Some(ip) {
                    return Err(end.invalid_ip(other));
                }
            }
            Ok(Some(ip.to_string()))
        }
        EndpointType::Vsw => {
            if !draft.id.starts_with("vsw-") {
                return Err(DomainError::PathInvalid(PathInvalid::TypeAndIdMismatch(
                    draft.id.clone(),
                )));
            }
            let vswitch = tx
                .vswitch(account_id, &VSwitchId::from(&draft.id))?
                .filter(|v| v.region_id == region_id)
                .ok_or_else(|| end.unknown_id(&draft.id))?;
            // A vSwitch end is one address in it: without one there is no flow to analyse.
            let ip = given_ip.ok_or_else(|| end.invalid_ip(""))?;
            let address: IpAddr = ip.parse().map_err(|_| end.invalid_ip(ip))?;
            let inside =
                Cidr::parse_any(&vswitch.cidr_block).is_some_and(|block| block.contains(address));
            if !inside {
                return Err(end.invalid_ip(ip));
            }
            Ok(Some(address.to_string()))
        }
        // VPN gateways, border routers and load balancers are not modelled: none exists.
        EndpointType::Vpn | EndpointType::Vbr | EndpointType::Clb => Err(end.unknown_id(&draft.id)),
    }
}

/// The region of the first end that names a resource of the account: NIS requests may
/// leave `RegionId` out.
pub fn region_of(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    draft: &PathDraft,
) -> Result<Option<String>, DomainError> {
    for end in [&draft.source, &draft.target] {
        if let Some(i) = tx.instance(account_id, &InstanceId::from(&end.id))? {
            return Ok(Some(i.region_id));
        }
        if let Some(v) = tx.vswitch(account_id, &VSwitchId::from(&end.id))? {
            return Ok(Some(v.region_id));
        }
    }
    Ok(None)
}

/// Validates a path's endpoints, protocol and ports against the account's resources in the
/// region (docs/nis.md §2, §3.1).
pub fn resolve(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    draft: &PathDraft,
) -> Result<PathSpec, DomainError> {
    let source_type = endpoint_type(End::Source, &draft.source.kind)?;
    let target_type = endpoint_type(End::Target, &draft.target.kind)?;
    let protocol = PathProtocol::parse(&draft.protocol)
        .ok_or_else(|| DomainError::PathInvalid(PathInvalid::Protocol(draft.protocol.clone())))?;
    let source_port = port(End::Source, draft.source.port.as_deref())?;
    let target_port = port(End::Target, draft.target.port.as_deref())?;
    if protocol.has_ports() && target_port.is_none() {
        // Without a destination port there is no one flow to decide.
        return Err(End::Target.invalid_port(""));
    }
    if source_type == EndpointType::InternetIp && target_type == EndpointType::InternetIp {
        return Err(DomainError::PathInvalid(PathInvalid::BothInternetIp));
    }
    if source_type == target_type && draft.source.id == draft.target.id {
        return Err(DomainError::PathInvalid(PathInvalid::SourceEqualsTarget));
    }
    let source_ip = endpoint(
        tx,
        account_id,
        region_id,
        End::Source,
        source_type,
        &draft.source,
    )?;
    let target_ip = endpoint(
        tx,
        account_id,
        region_id,
        End::Target,
        target_type,
        &draft.target,
    )?;
    Ok(PathSpec {
        source_id: draft.source.id.clone(),
        source_type,
        source_ip_address: source_ip,
        source_port,
        target_id: draft.target.id.clone(),
        target_type,
        target_ip_address: target_ip,
        target_port,
        protocol,
    })
}

/// `CreateNetworkPath`: a new stored path, unless an identical one exists or the account's
/// quota is used up.
pub fn create_path(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    new: &NewNetworkPath,
    limits: &Limits,
    now: DateTime<Utc>,
) -> Result<NetworkPath, DomainError> {
    // Free text of at most 128 (name) and 512 (description) characters, as the console
    // allows; no control characters (docs/nis.md §3.1).
    if new.name.chars().count() > 128 || validate::has_control(&new.name) {
        return Err(DomainError::NetworkPathNameMalformed);
    }
    if new.description.chars().count() > 512 || validate::has_control(&new.description) {
        return Err(DomainError::NetworkPathDescriptionMalformed);
    }
    validate::tags(&new.tags)?;
    let spec = resolve(tx, account_id, &new.region_id, &new.path)?;
    let existing = tx.network_paths(account_id)?;
    if let Some(same) = existing
        .iter()
        .find(|p| p.region_id == new.region_id && p.spec == spec)
    {
        return Err(DomainError::NetworkPathExists(same.id.clone()));
    }
    let usage = existing.len() as u64;
    if usage >= limits.network_paths_per_account {
        return Err(DomainError::NetworkPathQuotaExceeded {
            usage,
            quota: limits.network_paths_per_account,
        });
    }
    let path = NetworkPath {
        id: ids::new_network_path_id(),
        account_id: account_id.to_string(),
        region_id: new.region_id.clone(),
        name: new.name.clone(),
        description: new.description.clone(),
        resource_group_id: new.resource_group_id.clone(),
        spec,
        creation_time: now.trunc_subsecs(0),
    };
    tx.insert_network_path(&path)?;
    if !new.tags.is_empty() {
        tx.set_tags(account_id, ResourceType::NetworkPath, &path.id, &new.tags)?;
    }
    Ok(path)
}

/// The path `id` of this account (in this region, when one is named); any other answers as
/// absent.
pub fn path(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    id: &str,
) -> Result<NetworkPath, DomainError> {
    tx.network_path(account_id, id)?
        .filter(|p| region_id.is_none_or(|r| p.region_id == r))
        .ok_or_else(|| DomainError::NetworkPathNotFound(id.to_string()))
}

/// Everything one analysis reads, in one transaction: what to analyse and the account's
/// network as it is at that moment.
#[derive(Debug, Clone)]
pub struct AnalysisInput {
    /// Where the analysis runs: the path's region.
    pub region_id: String,
    /// `""` for a one-off analysis.
    pub network_path_id: String,
    pub spec: PathSpec,
    pub state: NetworkState,
    /// The region's vSwitches, for the path's topology.
    pub vswitches: Vec<VSwitch>,
}

fn input(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    network_path_id: String,
    spec: PathSpec,
) -> Result<AnalysisInput, DomainError> {
    Ok(AnalysisInput {
        region_id: region_id.to_string(),
        network_path_id,
        spec,
        state: network_state::load(tx, account_id, region_id)?,
        vswitches: tx.vswitches(account_id, region_id)?,
    })
}

/// What an analysis of the stored path `path_id` reads (in the path's region).
pub fn analysis_input(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    path_id: &str,
) -> Result<AnalysisInput, DomainError> {
    let path = path(tx, account_id, region_id, path_id)?;
    input(tx, account_id, &path.region_id, path.id, path.spec)
}

/// What a one-off analysis (`CreateAndAnalyzeNetworkPath`) reads.
pub fn one_off_input(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: &str,
    draft: &PathDraft,
) -> Result<AnalysisInput, DomainError> {
    let spec = resolve(tx, account_id, region_id, draft)?;
    input(tx, account_id, region_id, String::new(), spec)
}

/// Stores a finished analysis (and its tags), within the account's quota of records.
pub fn record_analysis(
    tx: &mut dyn Tx,
    analysis: &ReachabilityAnalysis,
    tags: &[Tag],
    limits: &Limits,
) -> Result<(), DomainError> {
    validate::tags(tags)?;
    if tx.count_analyses(&AccountId::from(&analysis.account_id))? >= limits.analyses_per_account {
        return Err(DomainError::AnalysisQuotaExceeded);
    }
    tx.insert_analysis(analysis)?;
    if !tags.is_empty() {
        tx.set_tags(
            &AccountId::from(&analysis.account_id),
            ResourceType::NetworkReachableAnalysis,
            &analysis.id,
            tags,
        )?;
    }
    Ok(())
}

/// The analysis `id` of this account (in this region, when one is named).
pub fn analysis(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    id: &str,
) -> Result<ReachabilityAnalysis, DomainError> {
    tx.analysis(account_id, id)?
        .filter(|a| region_id.is_none_or(|r| a.region_id == r))
        .ok_or_else(|| DomainError::AnalysisNotFound(id.to_string()))
}

/// `DeleteNetworkPath`: every id must name a path of the account in the region, or nothing is
/// deleted (the first unknown one is reported). Analyses of the paths stay readable.
pub fn delete_paths(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    ids: &[String],
) -> Result<(), DomainError> {
    for id in ids {
        path(tx, account_id, region_id, id)?;
    }
    for id in ids {
        tx.delete_network_path(account_id, id)?;
    }
    Ok(())
}

/// `DeleteNetworkReachableAnalysis`: all or nothing, like [`delete_paths`].
pub fn delete_analyses(
    tx: &mut dyn Tx,
    account_id: &AccountId,
    region_id: Option<&str>,
    ids: &[String],
) -> Result<(), DomainError> {
    for id in ids {
        analysis(tx, account_id, region_id, id)?;
    }
    for id in ids {
        tx.delete_analysis(account_id, id)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internet_addresses() {
        for public in ["8.8.8.8", "203.0.113.9", "47.96.0.1", "2001:4860::8888"] {
            assert!(is_internet_address(public.parse().expect("ip")), "{public}");
        }
        for private in [
            "10.0.0.1",
            "172.16.3.4",
            "192.168.1.1",
            "127.0.0.1",
            "100.64.0.1",
            "169.254.1.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(
                !is_internet_address(private.parse().expect("ip")),
                "{private}"
            );
        }
    }

    #[test]
    fn ports_are_one_to_65535() {
        assert_eq!(port(End::Target, Some("22")), Ok(Some(22)));
        assert_eq!(port(End::Target, None), Ok(None));
        for bad in ["0", "65536", "-1", "x", ""] {
            assert_eq!(
                port(End::Source, Some(bad)),
                Err(DomainError::PathInvalid(PathInvalid::SourcePort(
                    bad.into()
                )))
            );
        }
    }

    #[test]
    fn endpoint_types_are_spelled_exactly() {
        assert_eq!(endpoint_type(End::Source, "ecs"), Ok(EndpointType::Ecs));
        assert_eq!(
            endpoint_type(End::Target, "internetIp"),
            Ok(EndpointType::InternetIp)
        );
        assert!(endpoint_type(End::Source, "ECS").is_err());
        assert!(endpoint_type(End::Source, "clb").is_err());
        assert_eq!(endpoint_type(End::Target, "clb"), Ok(EndpointType::Clb));
    }
}
