//! The generic server loop: HTTP in, `(Version, Action)` dispatch, JSON/XML out.
//! Products plug in through [`Product`]; every failure is rendered here and only here.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use chrono::Utc;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::Semaphore;

use crate::auth::{authenticate, CredentialStore, Scheme, SignedRequest};
use crate::error::{error_body, RpcError};
use crate::listener::ConnectionInfo;
use crate::params::Params;
use crate::render::{success_body, Format, Node};
use crate::throttle::{Throttle, ThrottleConfig};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a product learns about an authenticated call.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub request_id: String,
    pub account_id: String,
    pub access_key_id: String,
    pub action: String,
    pub version: String,
    /// The caller's address (the TCP peer), empty when unknown (a request not served
    /// through [`crate::serve`]).
    pub source_ip: String,
}

impl CallContext {
    /// Logs parameters a handler never read: accepted, but worth knowing about.
    pub fn note_unread(&self, cursor: &crate::ParamCursor<'_>) {
        let unread = cursor.unread();
        if !unread.is_empty() {
            tracing::debug!(action = %self.action, ?unread, "parameters not used by this action");
        }
    }
}

/// Implements [`Product`] for a product type generic over its store, from its version, its
/// `Recommend` code and its action table (each action and the handler that answers it, in
/// one place); also defines `ACTIONS`, the list of the actions. A handler is
/// `async fn(&Product<S>, &CallContext, &Params) -> Result<Node, RpcError>`.
///
/// ```ignore
/// secgroup_rpc::product! {
///     Vpc<S: Store>, version: VERSION, code: "Vpc",
///     actions: { CreateVpc => vpcs::create, DeleteVpc => vpcs::delete }
/// }
/// ```
#[macro_export]
macro_rules! product {
    (
        $product:ident<S: $bound:path>, version: $version:expr, code: $code:expr,
        actions: { $($action:ident => $handler:path),* $(,)? }
    ) => {
        /// Every action this product answers.
        pub const ACTIONS: &[&str] = &[$(stringify!($action)),*];

        impl<S: $bound> $crate::Product for $product<S> {
            fn version(&self) -> &'static str {
                $version
            }
            fn code(&self) -> &'static str {
                $code
            }
            fn has_action(&self, action: &str) -> bool {
                ACTIONS.contains(&action)
            }
            fn action_name(&self, action: &str) -> Option<&'static str> {
                ACTIONS.iter().find(|a| **a == action).copied()
            }
            fn call(
                &self,
                ctx: $crate::CallContext,
                params: $crate::Params,
            ) -> $crate::server::BoxFuture<'_, Result<$crate::Node, $crate::RpcError>> {
                Box::pin(async move {
                    match ctx.action.as_str() {
                        $(stringify!($action) => $handler(self, &ctx, &params).await,)*
                        _ => Err($crate::RpcError::action_not_found()),
                    }
                })
            }
        }
    };
}

/// One API product (ECS 2014-05-26, VPC 2016-04-28, ...).
pub trait Product: Send + Sync + 'static {
    /// The API version this product answers, e.g. `2014-05-26`.
    fn version(&self) -> &'static str;
    /// The product code used in `Recommend` links, e.g. `Ecs`.
    fn code(&self) -> &'static str;
    fn has_action(&self, action: &str) -> bool;
    /// The action's name as this product's own `'static` string (for bounded labels).
    fn action_name(&self, action: &str) -> Option<&'static str>;
    /// Runs `ctx.action` with the business parameters (protocol parameters removed).
    fn call(&self, ctx: CallContext, params: Params) -> BoxFuture<'_, Result<Node, RpcError>>;
}

/// A request for a path the application mounted (see [`Router::mount`]): what the gateway
/// read of it, the body whole.
#[derive(Debug)]
pub struct MountedRequest {
    pub method: Method,
    pub uri: http::Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The TCP peer, when served through [`crate::serve`].
    pub peer: Option<std::net::SocketAddr>,
}

/// Answers every request under a path prefix that is not the RPC protocol (a web page, say).
/// The gateway's connection hygiene, load shedding and body limits apply to it as to any
/// request; what it answers is its own.
pub trait MountedHandler: Send + Sync + 'static {
    fn handle(&self, request: MountedRequest) -> BoxFuture<'_, Response>;
}

/// Products by version, and handlers by path prefix.
#[derive(Clone, Default)]
pub struct Router {
    products: Vec<Arc<dyn Product>>,
    mounts: Vec<(&'static str, Arc<dyn MountedHandler>)>,
}

impl Router {
    pub fn new() -> Self {
        Router::default()
    }
    pub fn with(mut self, product: Arc<dyn Product>) -> Self {
        self.products.push(product);
        self
    }
    /// Hands every request whose path is `prefix` (which ends in `/`), or starts with it,
    /// or is it without the final `/`, to `handler` instead of the RPC protocol. No other
    /// path changes: the API is only ever served at `/`.
    pub fn mount(mut self, prefix: &'static str, handler: Arc<dyn MountedHandler>) -> Self {
        self.mounts.push((prefix, handler));
        self
    }
    fn mounted(&self, path: &str) -> Option<&Arc<dyn MountedHandler>> {
        self.mounts
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix) || Some(path) == prefix.strip_suffix('/'))
            .map(|(_, handler)| handler)
    }
    fn by_version(&self, version: &str) -> Option<&Arc<dyn Product>> {
        self.products.iter().find(|p| p.version() == version)
    }
    fn default_code(&self) -> &'static str {
        self.products.first().map_or("Ecs", |p| p.code())
    }
}

/// The gateway's settings: sizes, clock skew, connection hygiene, load shedding and
/// throttling (see the README's configuration table for the flags and defaults).
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Requests larger than this are refused before being read.
    pub max_body_bytes: usize,
    /// Allowed clock difference for `Timestamp` / `x-acs-date`, and the nonce lifetime.
    pub max_clock_skew: chrono::Duration,
    /// How long a request's head may take once its first byte arrived.
    pub header_read_timeout: Duration,
    /// How long a request's body may take once its head arrived (408 past it).
    pub body_read_timeout: Duration,
    /// How long a connection may sit between requests before it is closed.
    pub idle_timeout: Duration,
    /// Connections served at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// Requests handled at once; more are answered 503 at once instead of queueing.
    pub max_in_flight: usize,
    /// The longest request line (method, path and query) accepted (414 past it).
    pub max_request_line_bytes: usize,
    /// The largest request head (request line and headers) accepted (431 past it).
    pub max_header_bytes: usize,
    /// Calls per account, action and region per minute (off by default).
    pub throttle: ThrottleConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 1024 * 1024,
            max_clock_skew: chrono::Duration::minutes(15),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 1000,
            max_in_flight: 256,
            max_request_line_bytes: 60 * 1024,
            max_header_bytes: 96 * 1024,
            throttle: ThrottleConfig::default(),
        }
    }
}

/// Watches every request the gateway answers (metrics, say), without the wire crate
/// knowing what is done with it. Label values it is handed are bounded: `product` is a
/// product code or `"unknown"`, `action` an action the product answers or `"other"`.
pub trait RequestObserver: Send + Sync + 'static {
    /// A request for a known product and action started running.
    fn started(&self, product: &'static str, action: &'static str);
    /// A request that [`Self::started`] finished (called once for each start).
    fn stopped(&self, product: &'static str, action: &'static str);
    /// Any request's answer: its status, its Alibaba error code if it failed, and how long
    /// it took from arrival to the answer being built.
    fn answered(
        &self,
        product: &'static str,
        action: &'static str,
        status: u16,
        code: Option<&str>,
        elapsed: Duration,
    );
}

/// Calls [`RequestObserver::stopped`] when the request ends, however it ends.
struct Running<'a> {
    observer: &'a dyn RequestObserver,
    product: &'static str,
    action: &'static str,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.observer.stopped(self.product, self.action);
    }
}

/// The label a product gives when no product is known.
pub const UNKNOWN_PRODUCT: &str = "unknown";
/// The label of every action a product does not answer (and of a request with none).
pub const OTHER_ACTION: &str = "other";

struct Shared<C> {
    router: Router,
    observer: Option<Arc<dyn RequestObserver>>,
    credentials: Arc<C>,
    config: ServerConfig,
    in_flight: Semaphore,
    throttle: Throttle,
}

/// A new request id: an upper-case hyphenated UUID, as Alibaba's are.
pub(crate) fn new_request_id() -> String {
    // Encoded straight into place (no lower-case copy first).
    uuid::Uuid::new_v4()
        .hyphenated()
        .encode_upper(&mut uuid::Uuid::encode_buffer())
        .to_owned()
}

/// The axum application answering every path with the RPC protocol.
pub fn app<C: CredentialStore>(
    router: Router,
    credentials: Arc<C>,
    config: ServerConfig,
) -> axum::Router {
    observed_app(router, credentials, config, None)
}

/// [`app`], with every request reported to `observer`.
pub fn observed_app<C: CredentialStore>(
    router: Router,
    credentials: Arc<C>,
    config: ServerConfig,
    observer: Option<Arc<dyn RequestObserver>>,
) -> axum::Router {
    let shared = Arc::new(Shared {
        router,
        observer,
        credentials,
        in_flight: Semaphore::new(config.max_in_flight),
        throttle: Throttle::new(config.throttle.clone()),
        config,
    });
    axum::Router::new().fallback(handle::<C>).with_state(shared)
}

async fn handle<C: CredentialStore>(
    State(shared): State<Arc<Shared<C>>>,
    request: Request,
) -> Response {
    let started = Instant::now();
    let request_id = new_request_id();
    let (parts, body) = request.into_parts();
    let connection = parts.extensions.get::<ConnectionInfo>().cloned();
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("ecs.aliyuncs.com");
    let query = parts.uri.query().unwrap_or("");
    // Format and action must be known before anything can fail, to render the failure.
    let mut early_params = Params::from_query_and_form(query, None);
    let mut format = choose_format(&early_params, &parts.headers);
    let mut action = action_of(&early_params, &parts.headers);
    let mut product_code = shared.router.default_code();
    // Bounded labels for the observer: set once the version and action are known.
    let mut product_label = UNKNOWN_PRODUCT;
    let mut action_label = OTHER_ACTION;
    let mut running: Option<Running<'_>> = None;

    let refusal = connection
        .as_ref()
        .and_then(|c| c.head_refusal(&parts.headers));
    if let Some((_, refused_format)) = &refusal {
        format = *refused_format;
        action = None;
    }
    // Shed load at once rather than queue without bound; held until the answer is built.
    let permit = shared.in_flight.try_acquire();
    // A refused head's stand-in is the gateway's own request, never a mounted one.
    let mounted = match refusal {
        None => shared.router.mounted(parts.uri.path()).cloned(),
        Some(_) => None,
    };

    let outcome: Result<Answer, RpcError> = async {
        if let Some((err, _)) = refusal {
            return Err(err);
        }
        if permit.is_err() {
            return Err(RpcError::service_unavailable());
        }
        if let Some(handler) = mounted {
            let body = read_body(&shared.config, &parts.headers, body, connection.as_ref()).await?;
            let request = MountedRequest {
                method: parts.method.clone(),
                uri: parts.uri.clone(),
                headers: parts.headers.clone(),
                body,
                peer: connection.as_ref().map(|c| c.peer),
            };
            return Ok(Answer::Mounted(handler.handle(request).await));
        }
        if parts.method != Method::GET && parts.method != Method::POST {
            return Err(RpcError::unsupported_method());
        }
        if parts.uri.path() != "/" {
            return Err(RpcError::action_not_found());
        }
        let body = read_body(&shared.config, &parts.headers, body, connection.as_ref()).await?;
        let body_is_form = is_form(&parts.headers) && !body.is_empty();
        let params = if body_is_form {
            Params::from_query_and_form(query, Some(&body))
        } else {
            // Not needed after this block: moved, not copied.
            std::mem::take(&mut early_params)
        };
        format = choose_format(&params, &parts.headers);
        if let Some(name) = params.duplicate() {
            return Err(RpcError::duplicate_parameter(name));
        }
        let scheme = Scheme::of(&parts.headers);
        let version = signed_target(scheme, &parts.headers, "x-acs-version", &params, "Version")?;
        let name = signed_target(scheme, &parts.headers, "x-acs-action", &params, "Action")?;
        action = Some(name.clone());
        let product = shared
            .router
            .by_version(&version)
            .ok_or_else(RpcError::invalid_version)?;
        product_code = product.code();
        product_label = product.code();
        let Some(known) = product.action_name(&name) else {
            return Err(RpcError::action_not_found());
        };
        action_label = known;
        if let Some(observer) = shared.observer.as_deref() {
            observer.started(product_label, action_label);
            running = Some(Running {
                observer,
                product: product_label,
                action: action_label,
            });
        }
        let signed = SignedRequest {
            method: parts.method.as_str(),
            params: &params,
            headers: &parts.headers,
            body: &body,
            body_is_form,
        };
        let who = authenticate(
            shared.credentials.as_ref(),
            &signed,
            Utc::now(),
            shared.config.max_clock_skew,
        )
        .await?;
        if who.scheme == Scheme::V3 && params.get("Format").is_none() {
            format = Format::Json;
        }
        let region = params.get("RegionId").unwrap_or("");
        if !shared
            .throttle
            .admit(&who.account_id, &name, region, Utc::now())
        {
            return Err(RpcError::throttled());
        }
        let ctx = CallContext {
            request_id: request_id.clone(),
            account_id: who.account_id,
            access_key_id: who.access_key_id,
            action: name,
            version,
            source_ip: connection
                .as_ref()
                .map(|c| c.peer.ip().to_string())
                .unwrap_or_default(),
        };
        product
            .call(ctx, params.into_business())
            .await
            .map(Answer::Rpc)
    }
    .await;

    let outcome = match outcome {
        Ok(Answer::Mounted(mut response)) => {
            // Every answer of the gateway carries its request id, the mounted ones too.
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response.headers_mut().insert("x-acs-request-id", value);
            }
            tracing::info!(
                method = %parts.method,
                path = parts.uri.path(),
                status = response.status().as_u16(),
                request_id = %request_id,
                elapsed_us = started.elapsed().as_micros() as u64,
                "request"
            );
            drop(permit);
            return response;
        }
        Ok(Answer::Rpc(node)) => Ok(node),
        Err(err) => Err(err),
    };
    let action_name = action.as_deref().unwrap_or("");
    let (status, text, code) = match &outcome {
        Ok(node) => (
            StatusCode::OK,
            success_body(format, action_name, &request_id, node),
            None,
        ),
        Err(err) => (
            err.status,
            error_body(format, err, &request_id, host, product_code),
            Some(err.code.to_string()),
        ),
    };
    tracing::info!(
        method = %parts.method,
        action = action_name,
        status = status.as_u16(),
        code = code.as_deref().unwrap_or(""),
        request_id = %request_id,
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
    drop(running);
    if let Some(observer) = shared.observer.as_deref() {
        observer.answered(
            product_label,
            action_label,
            status.as_u16(),
            code.as_deref(),
            started.elapsed(),
        );
    }
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-acs-request-id", value);
    }
    drop(permit);
    response
}

/// What a request that got past the gateway's checks is answered with.
enum Answer {
    /// A product's answer, rendered in the RPC envelope.
    Rpc(Node),
    /// A mounted handler's response, passed on as it is.
    Mounted(Response),
}

/// docs/protocol.md §5.1: `Format` if given; else JSON for V3 or an `Accept` of JSON; else XML.
fn choose_format(params: &Params, headers: &HeaderMap) -> Format {
    match params.get("Format").map(str::to_ascii_lowercase).as_deref() {
        Some("json") => return Format::Json,
        Some("xml") => return Format::Xml,
        _ => {}
    }
    let accept_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    let v3 = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.starts_with(crate::signature::v3::ALGORITHM));
    if accept_json || v3 {
        Format::Json
    } else {
        Format::Xml
    }
}

/// The action (or version) a request names, for logging and rendering before it is
/// verified: the header if present, else the parameter.
fn action_of(params: &Params, headers: &HeaderMap) -> Option<String> {
    header_value(headers, "x-acs-action")
        .and_then(Result::ok)
        .or_else(|| params.get("Action").filter(|v| !v.is_empty()))
        .map(str::to_string)
}

/// The action or version that runs, taken only from what the signature covers.
///
/// V1 signs the parameters, never the headers: `Action`/`Version` must be parameters, and
/// an `x-acs-*` header (the legacy SDK sends both, equal) that names something else is
/// refused, never obeyed. V3 signs `x-acs-action`/`x-acs-version` (authentication refuses
/// a V3 request that leaves them out of `SignedHeaders`) and the query, so either may name
/// it, and they must agree when both do (the Tea SDKs send only the header).
fn signed_target(
    scheme: Scheme,
    headers: &HeaderMap,
    header_name: &str,
    params: &Params,
    param: &str,
) -> Result<String, RpcError> {
    let header = match header_value(headers, header_name) {
        None => None,
        Some(Ok(value)) => Some(value),
        Some(Err(())) => return Err(RpcError::action_or_version_conflict()),
    };
    let parameter = params.get(param).filter(|v| !v.is_empty());
    match (scheme, header, parameter) {
        (_, Some(h), Some(p)) if h != p => Err(RpcError::action_or_version_conflict()),
        (_, _, Some(p)) => Ok(p.to_string()),
        (Scheme::V3, Some(h), None) => Ok(h.to_string()),
        (Scheme::V1, _, None) | (Scheme::V3, None, None) => Err(RpcError::missing_parameter(param)),
    }
}

/// A header's one non-empty value; `Err` when it is repeated or not text (neither can be
/// what a signature covered as one value).
fn header_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<Result<&'h str, ()>> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return Some(Err(()));
    }
    match first.to_str() {
        Ok("") => None,
        Ok(value) => Some(Ok(value)),
        Err(_) => Some(Err(())),
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// The whole body, within the body deadline and the size limit; then the connection knows
/// that what comes next is the next request.
async fn read_body(
    config: &ServerConfig,
    headers: &HeaderMap,
    body: Body,
    connection: Option<&ConnectionInfo>,
) -> Result<Bytes, RpcError> {
    let body = tokio::time::timeout(
        config.body_read_timeout,
        read_limited(headers, body, config.max_body_bytes),
    )
    .await
    .map_err(|_| RpcError::request_timeout())??;
    if let Some(connection) = connection {
        connection.body_read();
    }
    Ok(body)
}

/// Reads at most `limit` bytes; a larger request is refused without reading the rest.
async fn read_limited(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, RpcError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(RpcError::request_too_large(limit));
    }
    // A body that breaks off or whose chunked framing is broken is malformed, not large:
    // only the limit itself answers 413.
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(RpcError::request_too_large(limit))
        }
        Err(_) => Err(RpcError::malformed_request()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(result: Result<Bytes, RpcError>) -> Result<Bytes, (u16, String)> {
        result.map_err(|e| (e.status.as_u16(), e.code.to_string()))
    }

    #[tokio::test]
    async fn only_a_body_over_the_limit_is_too_large() {
        let none = HeaderMap::new();
        let read = |body: Body| read_limited(&none, body, 8);
        assert_eq!(
            codes(read(Body::from("12345678")).await),
            Ok(Bytes::from("12345678"))
        );
        assert_eq!(
            codes(read(Body::from("123456789")).await),
            Err((413, "RequestEntityTooLarge".into()))
        );
        // A body that breaks off (hyper reports a cut or badly chunked body as an error).
        let broken = Body::from_stream(futures_util::stream::iter(vec![
            Ok(Bytes::from("12")),
            Err(std::io::Error::other("cut")),
        ]));
        assert_eq!(
            codes(read(broken).await),
            Err((400, "MalformedRequest".into()))
        );
    }

    struct Nothing;
    impl MountedHandler for Nothing {
        fn handle(&self, _: MountedRequest) -> BoxFuture<'_, Response> {
            Box::pin(async { Response::new(Body::empty()) })
        }
    }

    #[test]
    fn a_mount_takes_its_prefix_and_nothing_else() {
        let router = Router::new().mount("/console/", Arc::new(Nothing));
        for taken in ["/console/", "/console", "/console/a/b", "/console//x"] {
            assert!(router.mounted(taken).is_some(), "{taken}");
        }
        for passed in [
            "/",
            "/consolex",
            "/x/console/",
            "/Console/",
            "",
            "/console.css",
        ] {
            assert!(router.mounted(passed).is_none(), "{passed}");
        }
        assert!(Router::new().mounted("/console/").is_none());
    }
}
