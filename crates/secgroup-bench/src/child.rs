//! Server child processes: spawn on a free loopback port, wait until they accept
//! connections, read their resident set size, kill them when dropped.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::process::{Child, Command};

/// A free port on 127.0.0.1 (bound, read, released; the child binds it right after).
pub fn free_loopback_addr() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?)
}

/// A running server process, killed on drop.
pub struct ServerProcess {
    pub name: String,
    pub addr: SocketAddr,
    pub log: PathBuf,
    child: Child,
}

impl ServerProcess {
    /// Spawns `program args…` with `envs`, its stdout and stderr going to `log`, and
    /// waits up to `timeout` for `addr` to accept a TCP connection.
    pub async fn spawn(
        name: &str,
        program: &Path,
        args: &[String],
        envs: &[(&str, &str)],
        addr: SocketAddr,
        log: PathBuf,
        timeout: Duration,
    ) -> Result<Self> {
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let mut command = Command::new(program);
        command
            .args(args)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("starting {name}: {}", program.display()))?;
        let mut server = ServerProcess {
            name: name.to_string(),
            addr,
            log,
            child,
        };
        server.wait_ready(timeout).await?;
        Ok(server)
    }

    async fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited during startup ({status}); its output:\n{}",
                    self.name,
                    self.log_tail(40)
                );
            }
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            if started.elapsed() > timeout {
                bail!(
                    "{} did not accept connections on {} within {timeout:?}; its output:\n{}",
                    self.name,
                    self.addr,
                    self.log_tail(40)
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Fails if the process has exited (e.g. crashed under load).
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "{} exited ({status}); its output:\n{}",
                self.name,
                self.log_tail(40)
            );
        }
        Ok(())
    }

    /// The resident set size in bytes (`VmRSS` of /proc/<pid>/status), if readable.
    pub fn rss_bytes(&self) -> Option<u64> {
        let pid = self.child.id()?;
        read_vm_rss(pid)
    }

    /// CPU time (user + system, all threads) consumed so far, if readable.
    pub fn cpu_time(&self) -> Option<Duration> {
        crate::cpu::process_cpu_time(self.child.id()?)
    }

    /// The last `lines` lines of the process's output.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Asks the process to stop (SIGTERM, through `kill(1)`: no unsafe code) and waits up to
    /// `timeout` for it to exit; a process that does not is killed.
    pub async fn terminate(mut self, timeout: Duration) -> Result<std::process::ExitStatus> {
        let pid = self.child.id().context("the process has already exited")?;
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await
            .context("running kill")?;
        if !sent.success() {
            bail!("kill -TERM {pid} failed");
        }
        match tokio::time::timeout(timeout, self.child.wait()).await {
            Ok(status) => Ok(status?),
            Err(_) => {
                let _ = self.child.kill().await;
                bail!("{} did not exit within {timeout:?} of SIGTERM", self.name)
            }
        }
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// `VmRSS` of a process, in bytes.
pub fn read_vm_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vm_rss() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmRSS:\t   12345 kB\nThreads:\t1\n";
        assert_eq!(parse_vm_rss(status), Some(12345 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }

    #[test]
    fn reads_own_rss() {
        assert!(read_vm_rss(std::process::id()).is_some_and(|b| b > 0));
    }
}
