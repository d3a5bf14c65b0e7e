//! One HTTP/1.1 keep-alive connection (a raw hyper client connection, no pool) and the
//! one-off API calls used by scenario setup.

use std::net::SocketAddr;

use anyhow::{bail, Context, Result};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::signing::{ActionParams, Signer};

/// A keep-alive HTTP/1.1 connection to one server.
pub struct Connection {
    addr: SocketAddr,
    host: String,
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP/1.1 handshake")?;
        tokio::spawn(async move {
            // The connection ends when the sender is dropped or the peer closes it;
            // a failure shows up on the next request, where it is counted.
            let _ = conn.await;
        });
        Ok(Connection {
            addr,
            host: addr.to_string(),
            sender,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends `POST <path_and_query>` with an empty body (as the SDKs do) and reads the
    /// whole response.
    pub async fn post(&mut self, path_and_query: &str) -> Result<(StatusCode, Bytes)> {
        self.sender.ready().await.context("connection not ready")?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(path_and_query)
            .header(hyper::header::HOST, self.host.as_str())
            .header(hyper::header::CONTENT_LENGTH, "0")
            .header(hyper::header::USER_AGENT, "secgroup-bench")
            .body(Full::new(Bytes::new()))
            .context("building request")?;
        let response = self
            .sender
            .send_request(request)
            .await
            .context("sending request")?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .context("reading response body")?
            .to_bytes();
        Ok((status, body))
    }
}

/// Signed one-off API calls for setup, with the response parsed as JSON.
pub struct ApiClient {
    conn: Connection,
    signer: Signer,
}

impl ApiClient {
    pub async fn connect(addr: SocketAddr, signer: Signer) -> Result<Self> {
        Ok(ApiClient {
            conn: Connection::open(addr).await?,
            signer,
        })
    }

    pub async fn call(&mut self, call: &ActionParams) -> Result<serde_json::Value> {
        let path = self.signer.signed_path(call);
        let (status, body) = match self.conn.post(&path).await {
            Ok(answer) => answer,
            Err(_) => {
                // The server may have closed an idle keep-alive connection: retry once.
                self.conn = Connection::open(self.conn.addr()).await?;
                self.conn.post(&path).await?
            }
        };
        let text = String::from_utf8_lossy(&body);
        if status != StatusCode::OK {
            bail!("{} answered HTTP {status}: {text}", call.action);
        }
        serde_json::from_slice(&body)
            .with_context(|| format!("{} answered non-JSON: {text}", call.action))
    }

    /// Calls `call` and returns the string field `field` of its response.
    pub async fn call_for(&mut self, call: &ActionParams, field: &str) -> Result<String> {
        let value = self.call(call).await?;
        match value.get(field).and_then(|v| v.as_str()) {
            Some(s) => Ok(s.to_string()),
            None => bail!("{} response has no string {field}: {value}", call.action),
        }
    }
}
