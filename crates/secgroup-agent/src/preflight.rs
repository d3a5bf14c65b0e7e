//! What `secgroup agent` checks before it changes anything: it runs on Linux, as root, and
//! finds `ip`, `nft` and `conntrack` on the PATH. A refusal is one line naming what to do
//! (the Debian packages of missing tools); the binary prints it and exits 2.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The tools the data plane runs, with the Debian package of each.
pub const TOOLS: &[(&str, &str)] = &[
    ("ip", "iproute2"),
    ("nft", "nftables"),
    ("conntrack", "conntrack"),
];

/// What the checks look at (the real machine: [`Environment::current`]; tests make their own).
#[derive(Debug, Clone)]
pub struct Environment {
    pub linux: bool,
    pub root: bool,
    /// The `PATH` to search.
    pub path: Option<OsString>,
}

impl Environment {
    pub fn current() -> Environment {
        Environment {
            linux: cfg!(target_os = "linux"),
            root: effective_uid_is_root(),
            path: std::env::var_os("PATH"),
        }
    }
}

/// Whether the effective user id (the second field of `Uid:` in `/proc/self/status`) is 0.
fn effective_uid_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

/// Why the agent does not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("secgroup agent runs on Linux only (network namespaces and nftables)")]
    NotLinux,
    #[error("secgroup agent must run as root (it creates network namespaces and nftables tables)")]
    NotRoot,
    #[error("secgroup agent needs {} on the PATH (Debian: apt-get install -y {})", .tools.join(", "), .packages.join(" "))]
    MissingTools {
        tools: Vec<String>,
        packages: Vec<String>,
    },
}

/// The first reason not to start, in the order: Linux, root, tools.
pub fn check(env: &Environment) -> Result<(), Refusal> {
    if !env.linux {
        return Err(Refusal::NotLinux);
    }
    if !env.root {
        return Err(Refusal::NotRoot);
    }
    let missing: Vec<&(&str, &str)> = TOOLS
        .iter()
        .filter(|(tool, _)| find_in_path(tool, env.path.as_deref()).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Refusal::MissingTools {
        tools: missing.iter().map(|(t, _)| (*t).to_owned()).collect(),
        packages: missing.iter().map(|(_, p)| (*p).to_owned()).collect(),
    })
}

/// The executable file `name` in the first directory of `path` that holds one.
pub fn find_in_path(name: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_with(tools: &[&str]) -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        for t in tools {
            let p = dir.path().join(t);
            std::fs::write(&p, "#!/bin/sh\n").expect("write");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        // A file that is not executable does not count.
        std::fs::write(dir.path().join("not-a-tool"), "").expect("write");
        dir
    }

    #[test]
    fn each_refusal_in_order_with_one_line_naming_the_packages() {
        let all = dir_with(&["ip", "nft", "conntrack"]);
        let some = dir_with(&["ip"]);
        let env = |linux, root, dir: &tempfile::TempDir| Environment {
            linux,
            root,
            path: Some(dir.path().as_os_str().to_owned()),
        };
        let cases: Vec<(Environment, Result<(), &str>)> = vec![
            (env(true, true, &all), Ok(())),
            (env(false, true, &all), Err("runs on Linux only")),
            (env(false, false, &some), Err("runs on Linux only")),
            (env(true, false, &all), Err("must run as root")),
            (
                env(true, true, &some),
                Err("needs nft, conntrack on the PATH (Debian: apt-get install -y nftables conntrack)"),
            ),
            (
                Environment {
                    linux: true,
                    root: true,
                    path: None,
                },
                Err("needs ip, nft, conntrack on the PATH (Debian: apt-get install -y iproute2 nftables conntrack)"),
            ),
        ];
        for (env, expected) in cases {
            let got = check(&env).map_err(|e| e.to_string());
            match expected {
                Ok(()) => assert_eq!(got, Ok(()), "{env:?}"),
                Err(text) => {
                    let message = got.expect_err("refused");
                    assert!(message.contains(text), "{env:?}: {message}");
                    assert!(!message.contains('\n'), "one line: {message}");
                }
            }
        }
    }

    #[test]
    fn tools_are_found_only_as_executable_files() {
        let dir = dir_with(&["nft"]);
        let path = dir.path().as_os_str().to_owned();
        assert!(find_in_path("nft", Some(&path)).is_some());
        assert!(find_in_path("not-a-tool", Some(&path)).is_none());
        assert!(find_in_path("ip", Some(&path)).is_none());
    }
}
