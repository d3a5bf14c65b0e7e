//! The engine's verdict on a tracked connection, so that an apply can cut exactly the
//! established flows the new rules no longer allow (the packets and the engine keep one
//! definition of what is allowed).

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use secgroup_domain::rules::IpProtocol;
use secgroup_reach::{Endpoint, Flow, ReachError, Snapshot};

/// A tracked connection as its initiator sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackedFlow {
    pub protocol: IpProtocol,
    pub source: IpAddr,
    pub destination: IpAddr,
    /// TCP/UDP ports; `None` for ICMP.
    pub source_port: Option<u16>,
    pub destination_port: Option<u16>,
}

#[derive(Default)]
struct Inner {
    /// Per account network (by its position in the input), built from its planned
    /// (Running) instances only.
    snapshots: HashMap<usize, Snapshot>,
    /// Per router namespace: its account network and its NICs by address.
    routers: HashMap<String, (usize, HashMap<IpAddr, String>)>,
}

/// Cheap to clone: the desired state carries it to the apply.
#[derive(Clone, Default)]
pub(crate) struct Judge(Arc<Inner>);

impl fmt::Debug for Judge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Judge")
            .field("accounts", &self.0.snapshots.len())
            .finish_non_exhaustive()
    }
}

impl Judge {
    pub(crate) fn new(
        snapshots: HashMap<usize, Snapshot>,
        routers: HashMap<String, (usize, HashMap<IpAddr, String>)>,
    ) -> Judge {
        Judge(Arc::new(Inner { snapshots, routers }))
    }

    /// Whether the desired state allows `flow` through `router`; `None` when no NIC of the
    /// router is at either end (nothing of ours decides it).
    pub(crate) fn allows(&self, router: &str, flow: &TrackedFlow) -> Option<bool> {
        let (account, nics) = self.0.routers.get(router)?;
        let snapshot = self.0.snapshots.get(account)?;
        let endpoint = |address: IpAddr| match nics.get(&address) {
            Some(id) => Endpoint::Nic(id.clone()),
            None => Endpoint::Outside(address),
        };
        let question = Flow {
            source: endpoint(flow.source),
            destination: endpoint(flow.destination),
            protocol: flow.protocol,
            port: flow.destination_port,
            source_port: flow.source_port,
        };
        match snapshot.evaluate(&question) {
            Ok(verdict) => Some(verdict.allowed),
            // The address of a NIC in another VPC of the account: different VPCs never meet.
            Err(ReachError::AddressIsNic { .. }) => Some(false),
            Err(ReachError::NoNic | ReachError::UnknownInstance(_)) => None,
        }
    }
}
