//! The bare baseline: an axum server that answers `{"RequestId":"…"}` to any request,
//! run as a child process (`secgroup-bench hello-server --listen ADDR`) so that it does not
//! share the load generator's runtime.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::Router;

async fn hello() -> impl IntoResponse {
    let body = format!(
        "{{\"RequestId\":\"{}\"}}",
        uuid::Uuid::new_v4().hyphenated()
    );
    ([(CONTENT_TYPE, "application/json;charset=utf-8")], body)
}

/// Serves until the process is killed.
pub async fn serve(listen: SocketAddr) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let app = Router::new().fallback(hello);
    eprintln!("hello-server listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await.context("hello server")?;
    Ok(())
}
