//! What the integration tests (`crates/secgroup/tests/*`, through their `mod common`) share:
//! an in-process server on 127.0.0.1:0 over a throwaway SQLite store ([`TestServer`]), one
//! account per client, a client that signs with the one V1 signer of
//! [`secgroup_rpc::client`] ([`TestClient`]), and the fixtures most tests start from
//! ([`create_vpc`], [`create_group`]). Behind the `testkit` feature: none of it is in the
//! server binary.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use secgroup_domain::ops::accounts;
use secgroup_domain::Store;
pub use secgroup_rpc::client::encode_pairs;
use secgroup_rpc::client::{sign_v1_with, V1Call, V1Key};
use secgroup_store_sqlite::SqliteStore;
use serde_json::Value;

use crate::Settings;

pub struct TestServer {
    pub addr: SocketAddr,
    pub store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(Settings::default()).await
    }

    pub async fn start_with(settings: Settings) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(SqliteStore::open(&dir.path().join("db.sqlite")).expect("open store"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serve_store = store.clone();
        tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            crate::serve(listener, serve_store, settings, shutdown)
                .await
                .expect("serve");
        });
        TestServer {
            addr,
            store,
            _dir: dir,
            stop: Some(stop),
        }
    }

    /// A client for a brand-new account.
    pub async fn new_account(&self) -> TestClient {
        let key = self
            .store
            .write(|tx| accounts::create_account(tx, false, Utc::now()))
            .await
            .expect("account");
        TestClient::new(self.addr, &key.access_key_id, &key.secret)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: String,
    pub headers: hyper::HeaderMap,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn code(&self) -> String {
        self.json()["Code"].as_str().unwrap_or("").to_string()
    }
}

#[derive(Clone)]
pub struct TestClient {
    addr: SocketAddr,
    pub key_id: String,
    secret: String,
    http: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    /// Shared by clones, so one test's groups land in one VPC.
    default_vpc: Arc<tokio::sync::OnceCell<String>>,
}

impl TestClient {
    pub fn new(addr: SocketAddr, key_id: &str, secret: &str) -> Self {
        TestClient {
            addr,
            key_id: key_id.into(),
            secret: secret.into(),
            http: Client::builder(TokioExecutor::new()).build_http(),
            default_vpc: Arc::default(),
        }
    }

    /// A signed JSON call with a fresh nonce. `RegionId` is `cn-hangzhou` unless given;
    /// given as `""` it is left out (to test its absence).
    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Reply {
        let mut all: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| *k != "RegionId")
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match params.iter().find(|(k, _)| *k == "RegionId") {
            None => all.push(("RegionId".into(), "cn-hangzhou".into())),
            Some((_, "")) => {}
            Some((_, region)) => all.push(("RegionId".into(), region.to_string())),
        }
        self.signed("POST", action, all, &[("Format", "JSON")])
            .await
    }

    /// The VPC `create_group` uses when none is given, made on first use.
    pub async fn default_vpc(&self) -> String {
        let vpc = self
            .default_vpc
            .get_or_init(|| async { create_vpc(self, &[("VpcName", "default-test-vpc")]).await })
            .await;
        vpc.clone()
    }

    /// [`TestClient::call`] for the VPC API (`Version=2016-04-28`).
    pub async fn call_vpc(&self, action: &str, params: &[(&str, &str)]) -> Reply {
        self.call_version("2016-04-28", action, params).await
    }

    /// [`TestClient::call`] for another product's API version.
    pub async fn call_version(
        &self,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Reply {
        let mut all: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| *k != "RegionId")
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match params.iter().find(|(k, _)| *k == "RegionId") {
            None => all.push(("RegionId".into(), "cn-hangzhou".into())),
            Some((_, "")) => {}
            Some((_, region)) => all.push(("RegionId".into(), region.to_string())),
        }
        let extra = [("Format", "JSON"), ("Version", version)];
        self.signed("POST", action, all, &extra).await
    }

    /// A signed request with exact common parameters (`extra` overrides defaults).
    pub async fn signed(
        &self,
        method: &str,
        action: &str,
        params: Vec<(String, String)>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let path = self.signed_path(method, action, params, extra);
        self.raw(method, &path, Vec::new(), None).await
    }

    /// [`TestClient::call`] that reports a failed exchange (no answer, a cut connection)
    /// instead of panicking.
    pub async fn try_call(&self, action: &str, params: &[(&str, &str)]) -> Result<Reply, String> {
        let mut all: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !params.iter().any(|(k, _)| *k == "RegionId") {
            all.push(("RegionId".into(), "cn-hangzhou".into()));
        }
        let path = self.signed_path("POST", action, all, &[("Format", "JSON")]);
        self.try_raw("POST", &path, Vec::new(), None).await
    }

    /// The path and query of a signed request (see [`TestClient::signed`]).
    pub fn signed_path(
        &self,
        method: &str,
        action: &str,
        params: Vec<(String, String)>,
        extra: &[(&str, &str)],
    ) -> String {
        let call = V1Call {
            method,
            version: "2014-05-26",
            action,
            params: &params,
        };
        let key = V1Key {
            access_key_id: &self.key_id,
            access_key_secret: &self.secret,
        };
        let all = sign_v1_with(&call, key, Utc::now(), extra);
        format!("/?{}", encode_pairs(&all))
    }

    /// Sends exactly these bytes.
    pub async fn raw(
        &self,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> Reply {
        self.try_raw(method, path_and_query, body, content_type)
            .await
            .expect("response")
    }

    /// [`TestClient::raw`], with a failed exchange as an error.
    pub async fn try_raw(
        &self,
        method: &str,
        path_and_query: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> Result<Reply, String> {
        let headers: Vec<(&str, &str)> = content_type
            .map(|ct| ("content-type", ct))
            .into_iter()
            .collect();
        self.try_send(method, path_and_query, &headers, body).await
    }

    /// Sends exactly this method, path, these headers and this body.
    pub async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        self.try_send(method, path_and_query, headers, body)
            .await
            .expect("response")
    }

    async fn try_send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Reply, String> {
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{}{}", self.addr, path_and_query));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Full::new(Bytes::from(body))).expect("request");
        let resp = self
            .http
            .request(req)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("body: {e}"))?
            .to_bytes();
        Ok(Reply {
            status,
            headers,
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    /// The AccessKey secret this client signs with.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// The address of the server this client calls.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// Creates a VPC (`CreateVpc`, default block) and returns its id.
pub async fn create_vpc(client: &TestClient, extra: &[(&str, &str)]) -> String {
    let reply = client.call_vpc("CreateVpc", extra).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["VpcId"].as_str().expect("VpcId").to_string()
}

/// Creates a group and returns its id; without a `VpcId` it goes into the client's
/// default VPC (created on first use).
pub async fn create_group(client: &TestClient, extra: &[(&str, &str)]) -> String {
    let default_vpc;
    let mut params = extra.to_vec();
    if !extra.iter().any(|(k, _)| *k == "VpcId") {
        default_vpc = client.default_vpc().await;
        params.push(("VpcId", &default_vpc));
    }
    let reply = client.call("CreateSecurityGroup", &params).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["SecurityGroupId"]
        .as_str()
        .expect("id")
        .to_string()
}
