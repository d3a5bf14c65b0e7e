//! CPU accounting per scenario: the server's, the load generator's, and everything else
//! on the machine (a shared 2-core box makes "someone else was compiling" a real risk).

use std::time::Duration;

/// Clock ticks per second of /proc (USER_HZ, 100 on every Linux ABI in use).
const USER_HZ: u64 = 100;

fn ticks(t: u64) -> Duration {
    Duration::from_millis(t * 1000 / USER_HZ)
}

/// CPU time (utime + stime over all threads) of a process.
pub fn process_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_process_ticks(&stat).map(ticks)
}

/// utime + stime (fields 14 and 15) of a /proc/<pid>/stat line; the command name (field
/// 2) may hold spaces and parentheses, so counting starts after its last `)`.
fn parse_process_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time the whole machine spent in processes (user + nice + system, all cores). Interrupt
/// time and steal are left out: loopback traffic of our own shows up there.
pub fn machine_busy_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_machine_busy_ticks(&stat).map(ticks)
}

fn parse_machine_busy_ticks(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map_while(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal guest guest_nice (guest is in user)
    Some(fields.get(..3)?.iter().sum())
}

/// One reading of the three clocks.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    server: Option<Duration>,
    client: Option<Duration>,
    machine: Option<Duration>,
}

/// CPU used between two snapshots, in % of one core.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUsage {
    pub server_pct: Option<f64>,
    pub client_pct: Option<f64>,
    /// Busy time of the machine not spent in the server or the load generator.
    pub other_pct: Option<f64>,
}

impl CpuSnapshot {
    pub fn take(server_pid_cpu: Option<Duration>) -> Self {
        CpuSnapshot {
            server: server_pid_cpu,
            client: process_cpu_time(std::process::id()),
            machine: machine_busy_time(),
        }
    }

    pub fn usage_until(&self, later: &CpuSnapshot, wall: Duration) -> CpuUsage {
        let wall = wall.as_secs_f64();
        let delta =
            |a: Option<Duration>, b: Option<Duration>| Some(b?.saturating_sub(a?).as_secs_f64());
        let pct = |d: Option<f64>| d.filter(|_| wall > 0.0).map(|d| d / wall * 100.0);
        let (server, client) = (
            delta(self.server, later.server),
            delta(self.client, later.client),
        );
        let other = match (delta(self.machine, later.machine), server, client) {
            (Some(m), Some(s), Some(c)) => Some((m - s - c).max(0.0)),
            _ => None,
        };
        CpuUsage {
            server_pct: pct(server),
            client_pct: pct(client),
            other_pct: pct(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_process_ticks() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 31 0 0 20 0 3 0 5 0 0";
        assert_eq!(parse_process_ticks(stat), Some(281));
        assert!(process_cpu_time(std::process::id()).is_some());
    }

    #[test]
    fn parses_machine_busy_ticks() {
        let stat = "cpu  100 5 50 1000 20 1 2 3 0 0\ncpu0 50 2 25 500 10 0 1 1 0 0\n";
        assert_eq!(parse_machine_busy_ticks(stat), Some(155));
        assert!(machine_busy_time().is_some());
    }
}
