//! Typed actions and the framework that runs them.
//!
//! An action is a type: [`Action::decode`] reads its parameters (pure, testable without
//! HTTP), [`Action::run`] does its work through a [`Cx`], and [`Action::wording`] words a
//! domain error where this action's documentation differs from its product's. Everything
//! else is done once, here, by [`dispatch`]: the cursor over the parameters and the log of
//! what was left unread, `DryRun` (a write runs and is rolled back; the action then answers
//! `DryRunOperation`, or its own [`Action::dry_run_passed`]), `ClientToken` (the write runs
//! once per token, recorded in its own transaction), read and write transactions, and the
//! error map (action, then product, then the base map of [`crate::errors`]).

use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use secgroup_domain::ids::AccountId;
use secgroup_domain::ops::idempotency::{self, ClientToken};
use secgroup_domain::{DomainError, Store, StoreError, Tx, TxError};
use secgroup_rpc::{CallContext, Node, Params, RpcError};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::audit::{self, is_read_action, CallRecord};
use crate::config::ProductConfig;
use crate::errors;
use crate::input::Input;

/// What every product holds: the store and the configuration.
pub struct Base<S> {
    pub store: Arc<S>,
    pub config: Arc<ProductConfig>,
    /// When this product's writes last purged expired client tokens (milliseconds since
    /// the epoch).
    last_token_purge: Arc<AtomicI64>,
    /// When this product's writes last purged expired audit events.
    last_audit_purge: Arc<AtomicI64>,
}

impl<S> Base<S> {
    pub fn new(store: Arc<S>, config: Arc<ProductConfig>) -> Self {
        Base {
            store,
            config,
            last_token_purge: Arc::new(AtomicI64::new(0)),
            last_audit_purge: Arc::new(AtomicI64::new(0)),
        }
    }
}

/// Whether a write starting at `now` should also purge expired client tokens, claiming the
/// turn if so: at most once per tenth of the retention (and at least once a minute), so the
/// table stays bounded while almost no write pays for it.
fn purge_due(last: &AtomicI64, now: DateTime<Utc>, retention: chrono::Duration) -> bool {
    let every = (retention.num_milliseconds() / 10).clamp(1, 60_000);
    let now_ms = now.timestamp_millis();
    let previous = last.load(Ordering::Relaxed);
    now_ms - previous >= every
        && last
            .compare_exchange(previous, now_ms, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
}

/// One API product (ECS 2014-05-26, VPC 2016-04-28, ...): its version, its code in
/// `Recommend` links, and its wording of domain errors. [`crate::actions!`] lists its
/// action types.
pub trait Product: Send + Sync + Sized + 'static {
    type Store: Store;
    /// The API version this product answers, e.g. `2016-04-28`.
    const VERSION: &'static str;
    /// The product code of `Recommend` links, e.g. `Vpc`.
    const CODE: &'static str;
    fn base(&self) -> &Base<Self::Store>;
    /// This product's wording of a domain error, where it differs from the base map.
    fn wording(_err: &DomainError) -> Option<RpcError> {
        None
    }
}

/// One action of product `P`.
pub trait Action<P: Product>: Sized + Send + 'static {
    /// The action's name on the wire.
    const NAME: &'static str;
    /// Reads and checks the parameters. Shared decoders are on [`Input`]; reading
    /// `DryRun` or `ClientToken` through it is what makes the framework honour them.
    fn decode(input: &mut Input<'_>) -> Result<Self, RpcError>;
    /// Does the work: transactions through `cx`, the answer as a node.
    fn run(self, cx: &Cx<'_, P>) -> impl Future<Output = Result<Node, RpcError>> + Send;
    /// This action's wording of a domain error, where it differs from its product's.
    fn wording(_err: &DomainError) -> Option<RpcError> {
        None
    }
    /// This action's answer to a dry run that passed every check: `DryRunOperation`
    /// unless its documentation names another (docs/ecs.md §2.10).
    fn dry_run_passed() -> RpcError {
        errors::dry_run_passed()
    }
}

/// Maps a domain error for action `A` of product `P`: the action's wording, else the
/// product's, else the base map.
pub fn map_error<P: Product, A: Action<P>>(err: DomainError) -> RpcError {
    A::wording(&err)
        .or_else(|| P::wording(&err))
        .unwrap_or_else(|| errors::domain(err))
}

/// What a transaction closure learns besides the transaction: who calls, the settings,
/// and the time the attempt started.
pub struct Scope {
    account_id: AccountId,
    config: Arc<ProductConfig>,
    now: DateTime<Utc>,
}

impl Scope {
    /// The calling account.
    pub fn account(&self) -> &AccountId {
        &self.account_id
    }
    pub fn config(&self) -> &ProductConfig {
        &self.config
    }
    /// When this attempt of the transaction started (a retried transaction gets a new one).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }
}

/// The running action's view of its call: the caller, the settings, and read and write
/// transactions whose errors are already mapped for this action.
pub struct Cx<'a, P: Product> {
    product: &'a P,
    call: &'a CallContext,
    /// `call.account_id`, typed once for every operation the action calls.
    account: AccountId,
    dry_run: bool,
    client_token: Option<ClientToken>,
    map: fn(DomainError) -> RpcError,
    dry_run_passed: fn() -> RpcError,
    /// The call's parameters, which its audit events record (built only when a write
    /// commits or a change is refused: a read pays nothing for the audit trail).
    params: &'a Params,
    /// Audit events this call's committed writes recorded (docs/actiontrail.md §1).
    recorded: Arc<AtomicU32>,
}

/// Why a transaction closure stopped: the domain refused, or DryRun asked for a rollback.
enum Stop {
    Domain(DomainError),
    DryRunPassed,
}

impl From<StoreError> for Stop {
    fn from(err: StoreError) -> Self {
        Stop::Domain(DomainError::Store(err))
    }
}

impl TxError for Stop {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            Stop::Domain(e) => e.store_error(),
            Stop::DryRunPassed => None,
        }
    }
}

impl<'a, P: Product> Cx<'a, P> {
    pub fn product(&self) -> &'a P {
        self.product
    }
    pub fn config(&self) -> &'a ProductConfig {
        &self.product.base().config
    }
    /// The calling account.
    pub fn account(&self) -> &AccountId {
        &self.account
    }
    /// The request id, action and version of the call.
    pub fn call(&self) -> &'a CallContext {
        self.call
    }
    /// Whether `DryRun=true`: the framework answers the action's dry-run answer once the
    /// action has checked everything, and every write is rolled back.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }
    /// A domain error as this action reports it.
    pub fn error(&self, err: DomainError) -> RpcError {
        (self.map)(err)
    }

    fn scope(&self) -> Scope {
        Scope {
            account_id: self.account.clone(),
            config: self.product.base().config.clone(),
            now: Utc::now(),
        }
    }

    /// Runs `f` in one read-only snapshot.
    pub async fn read<T, F>(&self, mut f: F) -> Result<T, RpcError>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx, &Scope) -> Result<T, DomainError> + Send + 'static,
    {
        let scope = self.scope();
        let result: Result<T, DomainError> = self
            .product
            .base()
            .store
            .read(move |tx| f(tx, &scope))
            .await;
        result.map_err(self.map)
    }

    /// Runs `f` in one read-write transaction that commits only if it returns `Ok`. With
    /// a `ClientToken`, a token seen before returns the first result and runs nothing;
    /// with `DryRun`, `f` runs and everything it did is rolled back (the action's
    /// [`Action::dry_run_passed`]).
    pub async fn write<T, F>(&self, mut f: F) -> Result<T, RpcError>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        F: FnMut(&mut dyn Tx, &Scope) -> Result<T, DomainError> + Send + 'static,
    {
        let token = self.client_token.clone();
        let dry_run = self.dry_run;
        // A dry run is never recorded, nor anything without an audit trail: no record to build.
        let audit_retention = self.product.base().config.audit_retention;
        let record = (!dry_run && audit_retention.is_some())
            .then(|| CallRecord::new(P::CODE, self.call, self.params));
        let recorded = self.recorded.clone();
        let last_audit_purge = self.product.base().last_audit_purge.clone();
        let account = self.account.clone();
        let config = self.product.base().config.clone();
        let last_purge = self.product.base().last_token_purge.clone();
        let result: Result<T, Stop> = self
            .product
            .base()
            .store
            .write(move |tx| {
                let scope = Scope {
                    account_id: account.clone(),
                    config: config.clone(),
                    now: Utc::now(),
                };
                let retention = scope.config.client_token_retention;
                if purge_due(&last_purge, scope.now, retention) {
                    idempotency::purge_expired(tx, scope.now, retention)?;
                }
                let done = if dry_run {
                    // A dry run is never answered from, nor recorded under, a token.
                    f(tx, &scope)
                } else {
                    idempotency::once(tx, &account, token.as_ref(), scope.now, retention, |tx| {
                        f(tx, &scope)
                    })
                };
                match done {
                    Ok(_) if dry_run => Err(Stop::DryRunPassed),
                    Ok(value) => {
                        // The audit event commits with the change, or neither does.
                        if let (Some(record), Some(retention)) = (&record, audit_retention) {
                            if purge_due(&last_audit_purge, scope.now, retention) {
                                audit::purge_expired(tx, scope.now, retention)?;
                            }
                            let result = serde_json::to_value(&value).ok();
                            let n = recorded.load(Ordering::Relaxed) + 1;
                            let event = record.event(n, scope.now, result.as_ref(), None);
                            tx.insert_audit_event(&event)?;
                        }
                        Ok(value)
                    }
                    Err(e) => Err(Stop::Domain(e)),
                }
            })
            .await;
        if result.is_ok() {
            self.recorded.fetch_add(1, Ordering::Relaxed);
        }
        result.map_err(|stop| match stop {
            Stop::Domain(e) => (self.map)(e),
            Stop::DryRunPassed => (self.dry_run_passed)(),
        })
    }
}

/// Decodes and runs action `A` of `product` for one authenticated call.
pub async fn dispatch<P: Product, A: Action<P>>(
    product: &P,
    call: CallContext,
    params: Params,
) -> Result<Node, RpcError> {
    let recorded = Arc::new(AtomicU32::new(0));
    let mut dry_run = false;
    let outcome = async {
        let map = map_error::<P, A>;
        let mut input = Input::new(&params, &call.action, &product.base().config, map);
        let action = A::decode(&mut input)?;
        let (dry, client_token) = input.finish(&call)?;
        dry_run = dry;
        let cx = Cx {
            product,
            call: &call,
            account: AccountId::new(call.account_id.as_str()),
            dry_run,
            client_token,
            map,
            dry_run_passed: A::dry_run_passed,
            params: &params,
            recorded: recorded.clone(),
        };
        let node = action.run(&cx).await?;
        if dry_run {
            return Err(A::dry_run_passed());
        }
        Ok(node)
    }
    .await;
    if let Err(err) = &outcome {
        let audited = product.base().config.audit_retention.is_some();
        if audited && !dry_run && !is_read_action(A::NAME) && recorded.load(Ordering::Relaxed) == 0
        {
            let record = CallRecord::new(P::CODE, &call, &params);
            record_refusal(product.base().store.as_ref(), &record, err).await;
        }
    }
    outcome
}

/// Records a refused call after its rollback, in a small write of its own that leaves the
/// change revision alone. The caller's answer is the refusal whatever happens here; a
/// failure to record is logged.
async fn record_refusal<S: Store>(store: &S, record: &CallRecord, err: &RpcError) {
    let event = record.event(1, Utc::now(), None, Some(err));
    let written: Result<(), StoreError> = store
        .write_unrevised(move |tx| tx.insert_audit_event(&event))
        .await;
    if let Err(e) = written {
        tracing::warn!(request_id = %record.request_id, error = %e, "could not record a refused call in the audit trail");
    }
}

/// Serves a product's action types through the wire crate: implements
/// [`secgroup_rpc::Product`] for the product type (generic over its store) and defines
/// `ACTIONS`, the names of the actions, in table order.
///
/// ```ignore
/// secgroup_api::actions! {
///     Vpc<S: Store> {
///         vpcs::CreateVpc,
///         vpcs::DeleteVpc,
///     }
/// }
/// ```
#[macro_export]
macro_rules! actions {
    ($product:ident<S: $bound:path> { $($action:ty),* $(,)? }) => {
        impl<S: $bound> $product<S> {
            /// Every action this product answers.
            pub const ACTIONS: &'static [&'static str] =
                &[$(<$action as $crate::Action<$product<S>>>::NAME),*];
        }

        impl<S: $bound> $crate::rpc::Product for $product<S> {
            fn version(&self) -> &'static str {
                <Self as $crate::Product>::VERSION
            }
            fn code(&self) -> &'static str {
                <Self as $crate::Product>::CODE
            }
            fn has_action(&self, action: &str) -> bool {
                Self::ACTIONS.contains(&action)
            }
            fn action_name(&self, action: &str) -> Option<&'static str> {
                Self::ACTIONS.iter().find(|a| **a == action).copied()
            }
            fn call(
                &self,
                ctx: $crate::rpc::CallContext,
                params: $crate::rpc::Params,
            ) -> $crate::rpc::server::BoxFuture<'_, Result<$crate::rpc::Node, $crate::rpc::RpcError>> {
                // One box per action, of that action's own future: an async block over
                // the whole table would be as large as the largest action's future and be
                // copied whole into its box on every call (some 8,000 instructions per
                // Describe, BENCHMARKS.md).
                $(
                    if ctx.action == <$action as $crate::Action<Self>>::NAME {
                        return Box::pin($crate::dispatch::<Self, $action>(self, ctx, params));
                    }
                )*
                Box::pin(std::future::ready(Err($crate::rpc::RpcError::action_not_found())))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use secgroup_store_sqlite::SqliteStore;

    struct Shop {
        base: Base<SqliteStore>,
    }

    impl Product for Shop {
        type Store = SqliteStore;
        const VERSION: &'static str = "v";
        const CODE: &'static str = "Shop";
        fn base(&self) -> &Base<SqliteStore> {
            &self.base
        }
    }

    /// Makes the default account; answers a passed dry run its own way.
    struct Open;

    impl Action<Shop> for Open {
        const NAME: &'static str = "Open";
        fn decode(input: &mut Input<'_>) -> Result<Self, RpcError> {
            input.dry_run()?;
            Ok(Open)
        }
        async fn run(self, cx: &Cx<'_, Shop>) -> Result<Node, RpcError> {
            cx.write(|tx, scope| Ok(tx.insert_account(&"acc".into(), true, scope.now())?))
                .await?;
            Ok(Node::object().build())
        }
        fn dry_run_passed() -> RpcError {
            RpcError::new(400, "DRYRUN.SUCCESS", "passed")
        }
    }

    fn call() -> CallContext {
        CallContext {
            request_id: "R".into(),
            account_id: "acc".into(),
            access_key_id: "K".into(),
            action: "Open".into(),
            version: "v".into(),
            source_ip: "192.0.2.1".into(),
        }
    }

    #[tokio::test]
    async fn a_dry_run_writes_nothing_and_answers_the_actions_code() {
        let store = Arc::new(SqliteStore::open_in_memory().expect("store"));
        let shop = Shop {
            base: Base::new(store.clone(), Arc::new(ProductConfig::default())),
        };
        let dry = Params::from_pairs([("DryRun", "true")]);
        let err = dispatch::<Shop, Open>(&shop, call(), dry)
            .await
            .expect_err("dry run");
        assert_eq!(err.code, "DRYRUN.SUCCESS");
        let default = || store.read(|tx| Ok::<_, DomainError>(tx.default_account()?));
        assert_eq!(default().await.expect("read"), None);

        dispatch::<Shop, Open>(&shop, call(), Params::default())
            .await
            .expect("real run");
        assert_eq!(default().await.expect("read"), Some("acc".into()));
    }
}
