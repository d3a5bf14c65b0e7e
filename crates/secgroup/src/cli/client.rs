//! A signed client of the server's RPC API: Signature V1 (HMAC-SHA1) like the SDKs, built
//! with the same functions the server verifies with ([`secgroup_rpc::client`]).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use secgroup_rpc::client::{encode_pairs, sign_v1, V1Call};
use serde_json::Value;

/// Where the server is and who is calling, from flags or the environment.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// The server's address.
    #[arg(
        long,
        env = "SECGROUP_ENDPOINT",
        default_value = "http://127.0.0.1:8080"
    )]
    pub endpoint: String,
    /// The AccessKey id to sign with.
    #[arg(long, env = "SECGROUP_ACCESS_KEY_ID")]
    pub access_key_id: String,
    /// The AccessKey secret to sign with.
    #[arg(long, env = "SECGROUP_ACCESS_KEY_SECRET", hide_env_values = true)]
    pub access_key_secret: String,
    /// The region of the instances.
    #[arg(long, env = "SECGROUP_REGION", default_value = "cn-hangzhou")]
    pub region: String,
}

/// Why a call got no answer.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid endpoint {0:?}: expected http://HOST:PORT")]
    Endpoint(String),
    #[error("cannot reach {endpoint}: {detail}")]
    Transport { endpoint: String, detail: String },
    #[error("{code}: {message} (HTTP {status}, RequestId {request_id})")]
    Api {
        status: u16,
        code: String,
        message: String,
        request_id: String,
    },
    #[error("unexpected reply (HTTP {status}): {body}")]
    Reply { status: u16, body: String },
}

/// How long one call may take, connection included.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Client {
    /// `http://host:port/`
    url: String,
    http: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
    access_key_id: String,
    access_key_secret: String,
    region: String,
}

impl Client {
    pub fn new(args: &ClientArgs) -> Result<Client, ClientError> {
        let bad = || ClientError::Endpoint(args.endpoint.clone());
        let uri: hyper::Uri = args.endpoint.trim().parse().map_err(|_| bad())?;
        // The connector speaks plain HTTP only; TLS belongs to a proxy in front.
        if uri.scheme_str() != Some("http") {
            return Err(bad());
        }
        let authority = uri.authority().ok_or_else(bad)?;
        Ok(Client {
            url: format!("http://{authority}/"),
            http: hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build_http(),
            access_key_id: args.access_key_id.clone(),
            access_key_secret: args.access_key_secret.clone(),
            region: args.region.clone(),
        })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// Calls `action` of API `version` with `params` (a POST form, like the SDKs); the
    /// answer's JSON, or the error envelope as [`ClientError::Api`].
    pub async fn call(
        &self,
        version: &str,
        action: &str,
        params: &[(String, String)],
    ) -> Result<Value, ClientError> {
        let signed = sign_v1(
            &V1Call {
                method: "POST",
                version,
                action,
                params,
            },
            &self.access_key_id,
            &self.access_key_secret,
            chrono::Utc::now(),
        );
        let request = hyper::Request::post(&self.url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(Full::new(Bytes::from(encode_pairs(&signed))))
            .map_err(|_| ClientError::Endpoint(self.url.clone()))?;
        let transport = |detail: String| ClientError::Transport {
            endpoint: self.url.clone(),
            detail,
        };
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| transport(error_chain(&e)))?;
            let status = response.status().as_u16();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| transport(e.to_string()))?
                .to_bytes();
            Ok::<_, ClientError>((status, body))
        };
        let (status, body) = tokio::time::timeout(CALL_TIMEOUT, exchange)
            .await
            .map_err(|_| transport(format!("no answer within {}s", CALL_TIMEOUT.as_secs())))??;
        let text = String::from_utf8_lossy(&body);
        let reply = || ClientError::Reply {
            status,
            body: text.chars().take(500).collect(),
        };
        let value: Value = serde_json::from_str(&text).map_err(|_| reply())?;
        if status == 200 {
            return Ok(value);
        }
        let field = |name: &str| value[name].as_str().unwrap_or("").to_string();
        if field("Code").is_empty() {
            return Err(reply());
        }
        Err(ClientError::Api {
            status,
            code: field("Code"),
            message: field("Message"),
            request_id: field("RequestId"),
        })
    }
}

/// An error and its causes, `: `-separated ("client error (Connect): connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
