//! The one error type of the crate: what failed, where, and what the tool said, so that the
//! agent can show it in `LastError` and retry.

use std::io;

/// Why planning or applying failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tool (`ip`, `nft`, `conntrack`) could not be started at all (not installed?).
    #[error("could not run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: io::Error,
    },
    /// A tool ran and refused: the command, its exit status and what it printed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Command {
        command: String,
        status: String,
        stderr: String,
    },
    /// A network namespace could not be entered or inspected.
    #[error("network namespace {namespace}: {detail}")]
    Netns { namespace: String, detail: String },
    /// A tool answered something this crate cannot read.
    #[error("unreadable output of {what}: {detail}")]
    Parse { what: String, detail: String },
    /// A name that would reach `ip` or `nft` is not made only of safe characters (it could
    /// otherwise be read as an option or split into several arguments).
    #[error("refusing unsafe name {0:?}")]
    UnsafeName(String),
    /// The desired state was planned for another namespace prefix than this data plane's.
    #[error("desired state is for namespace prefix {desired:?}, this data plane uses {ours:?}")]
    PrefixMismatch { desired: String, ours: String },
    /// Some namespaces could not be brought to the desired state; each keeps its last good
    /// ruleset (the others were applied).
    #[error("{}", describe(.0))]
    Partial(Vec<NamespaceError>),
}

/// One namespace's failure within an apply.
#[derive(Debug, thiserror::Error)]
#[error("{namespace}: {error}")]
pub struct NamespaceError {
    pub namespace: String,
    #[source]
    pub error: Box<Error>,
}

fn describe(failures: &[NamespaceError]) -> String {
    let parts: Vec<String> = failures.iter().map(ToString::to_string).collect();
    format!(
        "{} namespace(s) not applied: {}",
        failures.len(),
        parts.join("; ")
    )
}

pub type Result<T> = std::result::Result<T, Error>;
