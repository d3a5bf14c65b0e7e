//! `CheckReachability` and `DescribeReachabilityMatrix` as typed actions: decode, ask the
//! reachability service (the question runs where the service runs it, on the blocking
//! pool), render. Rendering stays on the request's own task, with the response it
//! becomes: the megabyte of a 1,000-instance matrix is then allocated and freed where the
//! rest of the response is (rendered on the blocking pool, it left the process 3–6 MB
//! larger after the matrix benchmark).

use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ops::placement;
use secgroup_domain::Store;
use secgroup_reach_service::{MatrixQuery, ReachabilityError};
use secgroup_rpc::{Node, RpcError};

use crate::reachability::{self, FlowQuery};
use crate::{decode, errors, render, Ext};

/// `CheckReachability`: one flow, and why it is allowed or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReachability {
    pub region_id: String,
    pub query: FlowQuery,
}

impl<S: Store> Action<Ext<S>> for CheckReachability {
    const NAME: &'static str = "CheckReachability";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(CheckReachability {
            region_id: p.region()?,
            query: decode::flow_query(p)?,
        })
    }

    async fn run(self, cx: &Cx<'_, Ext<S>>) -> Result<Node, RpcError> {
        let query = self.query;
        let asked = query.clone();
        let answer = cx
            .product()
            .reachability
            .ask(cx.account(), &self.region_id, move |network, now| {
                reachability::check(network, &asked, now)
            })
            .await
            .and_then(|answered| answered)
            .map_err(|e| refused(cx, e))?;
        Ok(render::flow_answer(&query, &answer))
    }
}

/// `DescribeReachabilityMatrix`: who reaches whom among a scope's instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeReachabilityMatrix {
    pub region_id: String,
    pub query: MatrixQuery,
}

impl<S: Store> Action<Ext<S>> for DescribeReachabilityMatrix {
    const NAME: &'static str = "DescribeReachabilityMatrix";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(DescribeReachabilityMatrix {
            region_id: p.region()?,
            query: decode::matrix_query(p)?,
        })
    }

    async fn run(self, cx: &Cx<'_, Ext<S>>) -> Result<Node, RpcError> {
        let query = self.query;
        let max_instances = cx.config().max_matrix_instances;
        let asked = query.clone();
        let answer = cx
            .product()
            .reachability
            .ask(cx.account(), &self.region_id, move |network, now| {
                network.matrix(&asked, max_instances, now)
            })
            .await
            .and_then(|answered| answered)
            .map_err(|e| refused(cx, e))?;
        Ok(render::matrix_answer(&query, &answer))
    }
}

/// `DescribeDataplaneStatus`: the change revision, and what each data-plane agent
/// (`secgroup agent`) enforces. An account sees only its own share of an agent's
/// instances (`InstanceCount`), never another account's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeDataplaneStatus;

impl<S: Store> Action<Ext<S>> for DescribeDataplaneStatus {
    const NAME: &'static str = "DescribeDataplaneStatus";

    fn decode(_: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(DescribeDataplaneStatus)
    }

    async fn run(self, cx: &Cx<'_, Ext<S>>) -> Result<Node, RpcError> {
        // One snapshot: the revision read here is at least that of every write whose 200
        // came before this call, and the agents' reports are of the same moment.
        let (revision, agents, hosts, now) = cx
            .read(|tx, scope| {
                let config = scope.config();
                let hosts = placement::account_hosts(
                    tx,
                    scope.account(),
                    &config.instance_timings,
                    &config.placement,
                    scope.now(),
                )?;
                Ok((tx.revision()?, tx.agent_statuses()?, hosts, scope.now()))
            })
            .await?;
        Ok(render::dataplane_status(
            revision,
            &agents,
            cx.account().as_str(),
            &hosts,
            &cx.config().placement,
            now,
        ))
    }
}

/// A question the service could not answer, as this action words it: domain failures
/// through the action's map, the rest as the extension words them.
fn refused<S: Store>(cx: &Cx<'_, Ext<S>>, err: ReachabilityError) -> RpcError {
    match err {
        ReachabilityError::Domain(e) => cx.error(e),
        other => errors::from_reachability(other),
    }
}

#[cfg(test)]
mod tests {
    use secgroup_api::action::map_error;
    use secgroup_api::ProductConfig;
    use secgroup_domain::rules::IpProtocol;
    use secgroup_rpc::Params;
    use secgroup_store_sqlite::SqliteStore;

    use super::*;
    use crate::reachability::EndpointQuery;
    use secgroup_reach_service::MatrixScope;

    type P = Ext<SqliteStore>;

    /// Decodes action `A` from `pairs` exactly as the framework does, without HTTP.
    fn decode<A: Action<P>>(pairs: &[(&str, &str)]) -> Result<A, RpcError> {
        let params = Params::from_pairs(pairs.iter().copied());
        let config = ProductConfig::default();
        let mut input = Input::new(&params, A::NAME, &config, map_error::<P, A>);
        A::decode(&mut input)
    }

    fn refusal<A: Action<P> + std::fmt::Debug>(pairs: &[(&str, &str)]) -> (u16, String) {
        let e = decode::<A>(pairs).expect_err("refused");
        (e.status.as_u16(), e.code.into_owned())
    }

    #[test]
    fn a_flow_query_decodes_region_ends_and_traffic() {
        let action = decode::<CheckReachability>(&[
            ("RegionId", "cn-hangzhou"),
            ("SourceInstanceId", "i-a"),
            ("DestinationIpAddress", " 2001:db8::7 "),
            ("Protocol", "udp"),
            ("Port", "53"),
            ("SourcePort", "1234"),
        ])
        .expect("valid");
        assert_eq!(
            action,
            CheckReachability {
                region_id: "cn-hangzhou".into(),
                query: FlowQuery {
                    source: EndpointQuery::Instance("i-a".into()),
                    destination: EndpointQuery::Address("2001:db8::7".parse().expect("ip")),
                    protocol: IpProtocol::Udp,
                    port: Some(53),
                    source_port: Some(1234),
                },
            }
        );
        let flow = [
            ("SourceInstanceId", "i-a"),
            ("DestinationInstanceId", "i-b"),
            ("Protocol", "icmp"),
        ];
        // The region is read first, and refused the way every product refuses it.
        assert_eq!(
            refusal::<CheckReachability>(&flow),
            (400, "MissingRegionId".into())
        );
        let mut unknown = vec![("RegionId", "mars-1")];
        unknown.extend(flow);
        assert_eq!(
            refusal::<CheckReachability>(&unknown),
            (404, "InvalidRegionId.NotFound".into())
        );
        assert_eq!(
            refusal::<CheckReachability>(&[
                ("RegionId", "cn-hangzhou"),
                ("SourceInstanceId", "not an id"),
                ("DestinationInstanceId", "i-b"),
                ("Protocol", "icmp"),
            ]),
            (400, "InvalidInstanceId.Malformed".into())
        );
        assert_eq!(
            refusal::<CheckReachability>(&[
                ("RegionId", "cn-hangzhou"),
                ("SourceInstanceId", "i-a"),
                ("DestinationInstanceId", "i-b"),
                ("Protocol", "tcp"),
                ("Port", "65535"),
                ("SourcePort", "65536"),
            ]),
            (400, "InvalidParameter.SourcePort".into())
        );
        // Plain decimal only: a sign or a space is refused, as ECS refuses them.
        for port in ["+53", " 53", "53 "] {
            assert_eq!(
                refusal::<CheckReachability>(&[
                    ("RegionId", "cn-hangzhou"),
                    ("SourceInstanceId", "i-a"),
                    ("DestinationInstanceId", "i-b"),
                    ("Protocol", "udp"),
                    ("Port", port),
                ]),
                (400, "InvalidParameter.Port".into()),
                "{port:?}"
            );
        }
    }

    #[test]
    fn a_matrix_query_decodes_its_scope_and_traffic() {
        let action = decode::<DescribeReachabilityMatrix>(&[
            ("RegionId", "cn-hangzhou"),
            ("SecurityGroupIds", r#"["sg-a","sg-b"]"#),
            ("Protocol", "ALL"),
        ])
        .expect("valid");
        assert_eq!(
            action,
            DescribeReachabilityMatrix {
                region_id: "cn-hangzhou".into(),
                query: MatrixQuery {
                    scope: MatrixScope::SecurityGroups(vec!["sg-a".into(), "sg-b".into()]),
                    protocol: IpProtocol::All,
                    port: None,
                    source_port: None,
                },
            }
        );
        let action = decode::<DescribeReachabilityMatrix>(&[
            ("RegionId", "cn-hangzhou"),
            ("VpcId", "vpc-1"),
            ("Protocol", "tcp"),
            ("Port", "443"),
        ])
        .expect("valid");
        assert_eq!(action.query.scope, MatrixScope::Vpc("vpc-1".into()));
        assert_eq!(action.query.port, Some(443));

        let too_many = format!(
            "[{}]",
            (0..=crate::decode::MAX_SECURITY_GROUP_IDS)
                .map(|n| format!("\"sg-{n}\""))
                .collect::<Vec<_>>()
                .join(",")
        );
        for (scope, code) in [
            (
                ("SecurityGroupIds", too_many.as_str()),
                "InvalidSecurityGroupId.Malformed",
            ),
            (
                ("SecurityGroupIds", r#"["sg-a""#),
                "InvalidSecurityGroupId.Malformed",
            ),
            (("Other", "x"), "MissingParameter.Scope"),
        ] {
            assert_eq!(
                refusal::<DescribeReachabilityMatrix>(&[
                    ("RegionId", "cn-hangzhou"),
                    scope,
                    ("Protocol", "icmp"),
                ]),
                (400, code.into()),
                "{scope:?}"
            );
        }
        // Both scopes at once conflict, whatever the group list holds.
        assert_eq!(
            refusal::<DescribeReachabilityMatrix>(&[
                ("RegionId", "cn-hangzhou"),
                ("VpcId", "vpc-1"),
                ("SecurityGroupIds", "not json"),
                ("Protocol", "icmp"),
            ]),
            (400, "InvalidParameter.Conflict".into())
        );
        assert_eq!(
            refusal::<DescribeReachabilityMatrix>(&[
                ("RegionId", "cn-hangzhou"),
                ("VpcId", "vpc-1"),
                ("Protocol", "gre"),
                ("Port", "1"),
            ]),
            (400, "InvalidParameter.Port".into())
        );
    }
}
