//! Running `ip`, `nft` and `conntrack`: always with arguments as argv (never a shell), and
//! inside a namespace either through `ip -n NS` or from a thread that has entered the
//! namespace (a child process starts in the network namespace of the thread that spawned
//! it), so that nothing ever runs against the machine's own network namespace by mistake.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nix::sched::{setns, CloneFlags};

use crate::error::{Error, Result};
use crate::names::check_token;

/// Where named namespaces are (what `ip netns` uses).
pub const NETNS_DIR: &str = "/run/netns";

/// The programs used; plain names are looked up in `PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    pub ip: PathBuf,
    pub nft: PathBuf,
    pub conntrack: PathBuf,
    /// For the overlay's forwarding entries (several hosts only).
    pub bridge: PathBuf,
}

impl Default for Tools {
    fn default() -> Self {
        Tools {
            ip: "ip".into(),
            nft: "nft".into(),
            conntrack: "conntrack".into(),
            bridge: "bridge".into(),
        }
    }
}

/// One line of an `ip -batch` script: each token is checked to be one plain argument.
pub(crate) type IpLine = Vec<String>;

/// Builds an [`IpLine`] from anything displayable.
macro_rules! ip_line {
    ($($token:expr),* $(,)?) => {
        vec![$($token.to_string()),*]
    };
}
pub(crate) use ip_line;

pub(crate) fn netns_path(name: &str) -> PathBuf {
    Path::new(NETNS_DIR).join(name)
}

pub(crate) fn netns_exists(name: &str) -> bool {
    netns_path(name).exists()
}

/// The named namespaces that exist now.
pub(crate) fn list_netns() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(NETNS_DIR) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    names.sort();
    names
}

/// Runs `f` on a new thread that has entered the network namespace `name`; the calling
/// thread (and so the rest of the process) stays where it is.
pub fn in_netns<T: Send>(name: &str, f: impl FnOnce() -> T + Send) -> Result<T> {
    let path = netns_path(name);
    let netns_error = |detail: String| Error::Netns {
        namespace: name.to_string(),
        detail,
    };
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let file = File::open(&path).map_err(|e| netns_error(e.to_string()))?;
                setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| netns_error(e.to_string()))?;
                Ok(f())
            })
            .join()
            .map_err(|_| netns_error("thread panicked".into()))?
    })
}

fn describe(program: &Path, args: &[String]) -> String {
    let mut text = program.display().to_string();
    for a in args {
        text.push(' ');
        text.push_str(a);
    }
    text
}

fn run(program: &Path, args: &[String], stdin: Option<&[u8]>) -> Result<Output> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|source| Error::Spawn {
        program: program.display().to_string(),
        source,
    })?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A child that exits early closes its end; its exit status then tells why.
        let _ = pipe.write_all(input);
    }
    child.wait_with_output().map_err(|source| Error::Spawn {
        program: program.display().to_string(),
        source,
    })
}

fn checked(program: &Path, args: &[String], stdin: Option<&[u8]>, shown: &str) -> Result<Output> {
    let output = run(program, args, stdin)?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(Error::Command {
            command: shown.to_string(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        })
    }
}

impl Tools {
    /// `ip [-n NS] -batch -` over `lines`; nothing is run for no lines. The batch stops at
    /// the first failing line, whose number `ip` reports.
    pub(crate) fn ip_batch(&self, netns: Option<&str>, lines: &[IpLine]) -> Result<()> {
        self.ip_batch_with(netns, lines, false)
    }

    /// Like [`Tools::ip_batch`], but every line is tried (`-force`); the error, if any, is
    /// the batch's.
    pub(crate) fn ip_batch_forced(&self, netns: Option<&str>, lines: &[IpLine]) -> Result<()> {
        self.ip_batch_with(netns, lines, true)
    }

    /// `bridge -n NS [-force] -batch -` over `lines` (forwarding entries of a VXLAN device).
    pub(crate) fn bridge_batch(&self, netns: &str, lines: &[IpLine], force: bool) -> Result<()> {
        Self::batch(&self.bridge, Some(netns), lines, force)
    }

    fn ip_batch_with(&self, netns: Option<&str>, lines: &[IpLine], force: bool) -> Result<()> {
        Self::batch(&self.ip, netns, lines, force)
    }

    fn batch(program: &Path, netns: Option<&str>, lines: &[IpLine], force: bool) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut script = String::new();
        for line in lines {
            for token in line {
                check_token(token)?;
            }
            script.push_str(&line.join(" "));
            script.push('\n');
        }
        let mut args = Vec::new();
        if let Some(ns) = netns {
            check_token(ns)?;
            args.extend(["-n".to_string(), ns.to_string()]);
        }
        if force {
            args.push("-force".to_string());
        }
        args.extend(["-batch".to_string(), "-".to_string()]);
        let shown = format!(
            "{} <<< {:?}",
            describe(program, &args),
            script.lines().take(8).collect::<Vec<_>>().join("; ")
        );
        checked(program, &args, Some(script.as_bytes()), &shown).map(|_| ())
    }

    /// `ip [-n NS] -j ARGS…`, parsed.
    pub(crate) fn ip_json(&self, netns: Option<&str>, args: &[&str]) -> Result<serde_json::Value> {
        let mut all = Vec::new();
        if let Some(ns) = netns {
            all.extend(["-n".to_string(), ns.to_string()]);
        }
        all.push("-j".to_string());
        all.extend(args.iter().map(|a| a.to_string()));
        let shown = describe(&self.ip, &all);
        let output = checked(&self.ip, &all, None, &shown)?;
        let text = String::from_utf8_lossy(&output.stdout);
        if text.trim().is_empty() {
            return Ok(serde_json::Value::Array(Vec::new()));
        }
        serde_json::from_str(&text).map_err(|e| Error::Parse {
            what: shown,
            detail: e.to_string(),
        })
    }

    /// One atomic `nft -j -f -` transaction in `netns`.
    pub(crate) fn nft_apply(&self, netns: &str, document: &serde_json::Value) -> Result<()> {
        let body = serde_json::to_vec(document).map_err(|e| Error::Parse {
            what: "nft document".into(),
            detail: e.to_string(),
        })?;
        let args: Vec<String> = ["-j", "-f", "-"].map(String::from).to_vec();
        let shown = format!("nft -j -f - (in {netns})");
        in_netns(netns, || checked(&self.nft, &args, Some(&body), &shown))?.map(|_| ())
    }

    /// `nft -j list table inet secgroup` in `netns`; `None` when there is no such table.
    pub(crate) fn nft_list_table(&self, netns: &str) -> Result<Option<serde_json::Value>> {
        let args: Vec<String> = ["-j", "list", "table", "inet", crate::names::TABLE]
            .map(String::from)
            .to_vec();
        let output = in_netns(netns, || run(&self.nft, &args, None))??;
        if !output.status.success() {
            // No such table (or no nftables at all in a fresh namespace).
            return Ok(None);
        }
        serde_json::from_slice(&output.stdout)
            .map(Some)
            .map_err(|e| Error::Parse {
                what: format!("nft -j list table (in {netns})"),
                detail: e.to_string(),
            })
    }

    /// `conntrack -L` in `netns` (IPv4 and IPv6), as text.
    pub(crate) fn conntrack_list(&self, netns: &str) -> Result<String> {
        let args = vec!["-L".to_string()];
        let shown = format!("conntrack -L (in {netns})");
        let output = in_netns(netns, || checked(&self.conntrack, &args, None, &shown))??;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Deletes tracked connections of `netns` by their original tuples (ctnetlink, in
    /// batches); the number deleted (entries already gone are not counted).
    pub(crate) fn conntrack_delete(
        &self,
        netns: &str,
        entries: &[crate::conntrack::Entry],
    ) -> Result<usize> {
        if entries.is_empty() {
            return Ok(0);
        }
        in_netns(netns, || crate::ctnetlink::delete(netns, entries))?
    }

    /// Writes sysctls of the namespace `netns` (never the machine's: the thread that opens
    /// /proc/sys/net has entered `netns`, and /proc/sys/net shows the opener's namespace).
    pub(crate) fn write_sysctls(&self, netns: &str, values: &[(&str, &str)]) -> Result<()> {
        in_netns(netns, || {
            for (key, value) in values {
                let path = Path::new("/proc/sys").join(key.replace('.', "/"));
                std::fs::write(&path, value).map_err(|e| Error::Netns {
                    namespace: netns.to_string(),
                    detail: format!("{}: {e}", path.display()),
                })?;
            }
            Ok(())
        })?
    }
}
