//! The client commands (`secgroup reach`, `secgroup matrix`): signed calls to a running
//! server's extension API, answers rendered for a person (text, SVG) or passed through (JSON).

pub mod client;
pub mod matrix;
pub mod reach;
pub mod review;

use std::path::PathBuf;

pub use client::{Client, ClientArgs, ClientError};

/// How an answer is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Words and tables for a person.
    Text,
    /// The server's answer, as JSON.
    Json,
}

/// Why a client command failed (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the server's answer lacks {0}")]
    Reply(&'static str),
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `serde_json` pretty printing of an answer (`--output json`).
pub fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}
