//! `CreateNetworkPath`, `DeleteNetworkPath` (docs/nis.md §3.1, §3.5), each a typed action.

use secgroup_api::{Action, Cx, Input};
use secgroup_domain::ops::nis::{self as ops, NewNetworkPath};
use secgroup_domain::Store;
use secgroup_rpc::{Node, RpcError};

use crate::{decode, Nis};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateNetworkPath(NewNetworkPath);

impl<S: Store> Action<Nis<S>> for CreateNetworkPath {
    const NAME: &'static str = "CreateNetworkPath";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        let region = p.optional_region()?;
        let name = p.required("NetworkPathName")?.to_string();
        let path = decode::path(p)?;
        Ok(CreateNetworkPath(NewNetworkPath {
            // Empty: the region of the first end that names a resource (docs/nis.md §1.2).
            region_id: region.unwrap_or_default(),
            name,
            description: p
                .optional("NetworkPathDescription")
                .unwrap_or("")
                .to_string(),
            resource_group_id: p.optional("ResourceGroupId").unwrap_or("").to_string(),
            path,
            tags: decode::tags(p)?,
        }))
    }

    async fn run(self, cx: &Cx<'_, Nis<S>>) -> Result<Node, RpcError> {
        let id = cx
            .write(move |tx, scope| {
                let mut new = self.0.clone();
                if new.region_id.is_empty() {
                    new.region_id =
                        ops::region_of(tx, scope.account(), &new.path)?.unwrap_or_default();
                }
                let created = ops::create_path(
                    tx,
                    scope.account(),
                    &new,
                    &scope.config().limits,
                    scope.now(),
                )?;
                Ok(created.id)
            })
            .await?;
        Ok(Node::object().str("NetworkPathId", id).build())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteNetworkPath {
    region_id: Option<String>,
    ids: Vec<String>,
}

impl<S: Store> Action<Nis<S>> for DeleteNetworkPath {
    const NAME: &'static str = "DeleteNetworkPath";

    fn decode(p: &mut Input<'_>) -> Result<Self, RpcError> {
        Ok(DeleteNetworkPath {
            region_id: p.optional_region()?,
            ids: decode::id_list(p, "NetworkPathIds", "NetworkPathId")?,
        })
    }

    async fn run(self, cx: &Cx<'_, Nis<S>>) -> Result<Node, RpcError> {
        cx.write(move |tx, scope| {
            ops::delete_paths(tx, scope.account(), self.region_id.as_deref(), &self.ids)
        })
        .await?;
        Ok(Node::object().bool("Data", true).build())
    }
}

#[cfg(test)]
mod tests {
    use secgroup_api::action::map_error;
    use secgroup_api::ProductConfig;
    use secgroup_rpc::Params;
    use secgroup_store_sqlite::SqliteStore;

    use super::*;

    type P = Nis<SqliteStore>;

    fn decode<A: Action<P>>(pairs: &[(&str, &str)]) -> Result<A, RpcError> {
        let params = Params::from_pairs(pairs.iter().copied());
        let config = ProductConfig::default();
        let mut input = Input::new(&params, A::NAME, &config, map_error::<P, A>);
        A::decode(&mut input)
    }

    const PATH: [(&str, &str); 6] = [
        ("NetworkPathName", "p"),
        ("SourceId", "i-a"),
        ("SourceType", "ecs"),
        ("TargetId", "i-b"),
        ("TargetType", "ecs"),
        ("Protocol", "tcp"),
    ];

    #[test]
    fn a_path_decodes_without_a_region_and_refuses_half_tags() {
        let CreateNetworkPath(new) = decode(&PATH).expect("valid");
        assert_eq!(new.region_id, "", "found from the ends when the call runs");
        assert_eq!(
            (new.path.source.id.as_str(), new.path.target.id.as_str()),
            ("i-a", "i-b")
        );
        let mut half = PATH.to_vec();
        half.push(("Tag.1.Key", "k"));
        let err = decode::<CreateNetworkPath>(&half).expect_err("no value");
        assert_eq!(err.code, "MissingParameter.TagValue");
        let mut unknown = PATH.to_vec();
        unknown.push(("RegionId", "mars-1"));
        let err = decode::<CreateNetworkPath>(&unknown).expect_err("unknown region");
        assert_eq!(
            (err.status.as_u16(), err.code.as_ref()),
            (404, "InvalidRegionId.NotFound")
        );
    }

    #[test]
    fn id_lists_are_json_arrays_with_duplicates_folded() {
        let action: DeleteNetworkPath =
            decode(&[("NetworkPathIds", r#"["np-a","np-b","np-a"]"#)]).expect("valid");
        assert_eq!(action.ids, ["np-a", "np-b"]);
        for bad in ["", "[]", r#"[""]"#, "np-a", "[1]"] {
            let err = decode::<DeleteNetworkPath>(&[("NetworkPathIds", bad)]).expect_err(bad);
            assert_eq!(
                (err.code.as_ref(), err.message.as_ref()),
                (
                    "IllegalParam.NetworkPathId",
                    "The parameter (NetworkPathIds) cannot be empty."
                ),
                "{bad}"
            );
        }
    }
}
