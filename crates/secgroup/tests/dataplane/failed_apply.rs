//! A failed apply, seen from outside the agent (README, "Data plane": a failed apply keeps
//! that router's last good ruleset, is logged, shows in `LastError`, and is retried with
//! back-off): the agent runs with a `PATH` whose `nft` is a wrapper that fails while a flag
//! file exists (and otherwise runs the real `nft`), and writes the time of each failed call
//! to a file.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::harness::{self, address, Harness, Listeners, Probe};
use crate::topology::{rule_id, Topology};

/// What the wrapper prints on stderr when it fails: `LastError` must name it.
const INJECTED: &str = "injected nft failure (secgroup test)";

/// The real `nft` on this process's `PATH`.
fn real_nft() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join("nft"))
        .find(|p| p.is_file())
        .expect("nft on the PATH")
}

/// Writes `dir/bin/nft`: fails (exit 1, [`INJECTED`] on stderr, a line with the time in
/// `calls`) while `flag` exists, else execs the real `nft` with the same arguments.
fn write_wrapper(dir: &Path, flag: &Path, calls: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let script = format!(
        "#!/bin/sh\n\
         if [ -e '{flag}' ]; then\n\
         \x20 date +%s.%N >> '{calls}'\n\
         \x20 echo '{INJECTED}' >&2\n\
         \x20 exit 1\n\
         fi\n\
         exec '{real}' \"$@\"\n",
        flag = flag.display(),
        calls = calls.display(),
        real = real_nft().display(),
    );
    let wrapper = bin.join("nft");
    std::fs::write(&wrapper, script).expect("write the wrapper");
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

/// The times (seconds) of the failed calls so far.
fn failed_calls(calls: &Path) -> Vec<f64> {
    std::fs::read_to_string(calls)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_apply_keeps_the_last_good_ruleset_and_is_retried_with_back_off() {
    if !harness::can_run("a_failed_apply_keeps_the_last_good_ruleset_and_is_retried_with_back_off")
    {
        return;
    }
    let _serial = harness::lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let flag = dir.path().join("fail-nft");
    let calls = dir.path().join("failed-calls");
    let bin = write_wrapper(dir.path(), &flag, &calls);
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let path = path.to_str().expect("PATH is text").to_owned();
    let h = Harness::start_with_env("sgt-e2e7-", &[], &[("PATH", &path)]);
    let c = &h.client;
    let t = Topology::build(c).await;
    let agent = h.settled().await;
    assert_eq!(agent["LastError"], "", "{agent}");
    let db_ip = address(c, &t.db).await;
    let _listeners = [Listeners::start(&t.web), Listeners::start(&t.db)];
    // sg_db accepts tcp 22 from sg_web: web → db 22 allowed, 80 denied.
    let old: [(&str, &str, Ipv4Addr, Probe, bool); 2] = [
        (
            "web→db 22 (old: allowed)",
            &t.web,
            db_ip,
            Probe::Tcp(22),
            true,
        ),
        (
            "web→db 80 (old: denied)",
            &t.web,
            db_ip,
            Probe::Tcp(80),
            false,
        ),
    ];
    crate::expect(&old).await;

    // nft fails from now on; one write flips both verdicts (the rule's 22 becomes 80).
    std::fs::write(&flag, b"").expect("flag");
    let rule = rule_id(c, &t.sg_db, "22/22").await;
    h.ok(
        "ModifySecurityGroupRule",
        &[
            ("SecurityGroupId", &t.sg_db),
            ("SecurityGroupRuleId", &rule),
            ("PortRange", "80/80"),
        ],
    )
    .await;
    let (revision, _) = h.agent_row().await;

    // The agent tries, fails, says so, and tries again later and later.
    let deadline = Instant::now() + Duration::from_secs(20);
    let last_error = loop {
        let (_, agent) = h.agent_row().await;
        let last_error = agent["LastError"].as_str().unwrap_or("").to_owned();
        assert!(
            agent["AppliedRevision"].as_u64().expect("applied") < revision,
            "revision {revision} shows applied although every nft call fails: {agent}"
        );
        if failed_calls(&calls).len() >= 5 && !last_error.is_empty() {
            break last_error;
        }
        assert!(
            Instant::now() < deadline,
            "the agent did not retry 5 times within 20 s: calls {:?}, LastError {last_error:?}",
            failed_calls(&calls)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        last_error.contains(INJECTED) && last_error.contains("nft"),
        "LastError does not name the failure: {last_error:?}"
    );
    // The last good ruleset still decides.
    crate::expect(&old).await;
    let times = failed_calls(&calls);
    let gaps: Vec<f64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    // The n-th failure waits at least the agent's back-off for n (100 ms doubling) before
    // the next try; a slow machine only makes a gap longer, so this bound is safe.
    for (n, gap) in gaps.iter().enumerate() {
        let floor = secgroup_agent::RETRY.delay(n as u32 + 1).as_secs_f64();
        assert!(
            *gap >= floor - 0.01,
            "retry {} came {gap:.3} s after the failure before it, under the back-off's \
             {floor:.3} s: gaps {gaps:?} (s)",
            n + 2
        );
    }
    assert!(
        gaps[gaps.len() - 1] > 2.0 * gaps[0],
        "no back-off: gaps {gaps:?} (s)"
    );
    let (_, agent) = h.agent_row().await;
    assert!(
        agent["AppliedRevision"].as_u64().expect("applied") < revision,
        "{agent}"
    );

    // nft works again: the next retry applies the change.
    std::fs::remove_file(&flag).expect("unflag");
    let agent = h.settled().await;
    assert!(
        agent["AppliedRevision"].as_u64().expect("applied") >= revision,
        "{agent}"
    );
    assert_eq!(agent["LastError"], "", "{agent}");
    crate::expect(&[
        (
            "web→db 22 (new: denied)",
            &t.web,
            db_ip,
            Probe::Tcp(22),
            false,
        ),
        (
            "web→db 80 (new: allowed)",
            &t.web,
            db_ip,
            Probe::Tcp(80),
            true,
        ),
    ])
    .await;
}
