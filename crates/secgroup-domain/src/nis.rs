//! Network Intelligence Service reachability analysis (docs/nis.md): stored network paths
//! and the analyses run on them. What an analysis concludes comes from the reachability
//! engine; this module only knows the records.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an end of a path is (docs/nis.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EndpointType {
    #[serde(rename = "ecs")]
    Ecs,
    #[serde(rename = "internetIp")]
    InternetIp,
    #[serde(rename = "vsw")]
    Vsw,
    #[serde(rename = "vpn")]
    Vpn,
    #[serde(rename = "vbr")]
    Vbr,
    /// Only as a target.
    #[serde(rename = "clb")]
    Clb,
}

impl EndpointType {
    pub fn as_str(self) -> &'static str {
        match self {
            EndpointType::Ecs => "ecs",
            EndpointType::InternetIp => "internetIp",
            EndpointType::Vsw => "vsw",
            EndpointType::Vpn => "vpn",
            EndpointType::Vbr => "vbr",
            EndpointType::Clb => "clb",
        }
    }
    /// The spelling of docs/nis.md §2, exactly.
    pub fn parse(s: &str) -> Option<Self> {
        [
            EndpointType::Ecs,
            EndpointType::InternetIp,
            EndpointType::Vsw,
            EndpointType::Vpn,
            EndpointType::Vbr,
            EndpointType::Clb,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// The protocols a path can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PathProtocol {
    Tcp,
    Udp,
    Icmp,
}

impl PathProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            PathProtocol::Tcp => "tcp",
            PathProtocol::Udp => "udp",
            PathProtocol::Icmp => "icmp",
        }
    }
    /// Any case; stored lower case.
    pub fn parse(s: &str) -> Option<Self> {
        [PathProtocol::Tcp, PathProtocol::Udp, PathProtocol::Icmp]
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
    pub fn has_ports(self) -> bool {
        !matches!(self, PathProtocol::Icmp)
    }
}

/// What a path (or a one-off analysis) asks about, validated. Serialised, it is the
/// `NetworkPathParameter` string of GetNetworkReachableAnalysis (docs/nis.md §3.3), with the
/// keys the real service uses; two paths of an account with equal parameters are the same path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PathSpec {
    pub source_id: String,
    pub source_type: EndpointType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_port: Option<u16>,
    pub target_id: String,
    pub target_type: EndpointType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_ip_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u16>,
    pub protocol: PathProtocol,
}

impl PathSpec {
    /// The canonical JSON text: what is stored, compared and returned.
    pub fn to_json(&self) -> String {
        // A struct of strings, numbers and unit enums always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
    pub fn from_json(text: &str) -> Option<PathSpec> {
        serde_json::from_str(text).ok()
    }
}

/// A stored network path (`np-`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkPath {
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    pub name: String,
    pub description: String,
    pub resource_group_id: String,
    pub spec: PathSpec,
    pub creation_time: DateTime<Utc>,
}

/// `NetworkReachableAnalysisStatus` (docs/nis.md §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnalysisStatus {
    Init,
    Finish,
    Error,
    Timeout,
}

impl AnalysisStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AnalysisStatus::Init => "init",
            AnalysisStatus::Finish => "finish",
            AnalysisStatus::Error => "error",
            AnalysisStatus::Timeout => "timeout",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            AnalysisStatus::Init,
            AnalysisStatus::Finish,
            AnalysisStatus::Error,
            AnalysisStatus::Timeout,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// A stored analysis (`nra-`): the answer as it was when the analysis ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReachabilityAnalysis {
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    /// `""` for an analysis made by CreateAndAnalyzeNetworkPath (no stored path).
    pub network_path_id: String,
    pub spec: PathSpec,
    pub status: AnalysisStatus,
    pub reachable: bool,
    /// The `NetworkReachableAnalysisResult` JSON document (docs/nis.md §4).
    pub result: String,
    pub creation_time: DateTime<Utc>,
}
