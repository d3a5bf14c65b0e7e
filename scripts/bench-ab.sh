#!/usr/bin/env bash
# Wall-clock A/B: the benchmark against a baseline server binary and this code's, in one run.
# Rounds alternate the order (baseline first, then this code first, ...) so that a drift of
# the machine during the run falls on both alike; each round runs the same scenarios on a
# fresh server. Prints each round and the medians, with this code's figures as a ratio of
# the baseline's.
#
#   scripts/bench-ab.sh BASELINE_BIN [ROUNDS] [secgroup-bench arguments...]
#   scripts/bench-ab.sh ../baseline/target/release/secgroup 6 --scenario bare,describe,modify --duration-secs 5
#
# The baseline is any older build of `secgroup` (e.g. `git worktree add ../baseline REV` and
# `cargo build --release -p secgroup` there). BENCHMARKS.md records the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=${1:?usage: scripts/bench-ab.sh BASELINE_BIN [ROUNDS] [secgroup-bench arguments...]}
shift
rounds=${1:-6}
[[ $# -gt 0 ]] && shift
[[ -x $baseline ]] || { echo "bench-ab: no executable at $baseline" >&2; exit 2; }
cargo build --release -p secgroup -p secgroup-bench
current=target/release/secgroup
out=$(mktemp -d -t secgroup-bench-ab-XXXXXX)
for round in $(seq 1 "$rounds"); do
    if (( round % 2 )); then order="baseline current"; else order="current baseline"; fi
    for which in $order; do
        bin=$current
        [[ $which == baseline ]] && bin=$baseline
        echo "round $round: $which ($bin)" >&2
        target/release/secgroup-bench --secgroup-bin "$bin" --json "$out/$which-$round.json" "$@" >/dev/null
    done
done
python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
runs = {w: [json.load(open(f"{out}/{w}-{r}.json")) for r in range(1, rounds + 1)] for w in ("baseline", "current")}
names = [s["name"] for s in runs["current"][0]["scenarios"]]
def figure(which, name, key):
    return [next(s for s in run["scenarios"] if s["name"] == name)[key] for run in runs[which]]
print(f"{rounds} rounds, {runs['current'][0]['environment']['connections']} connections, "
      f"{runs['current'][0]['environment']['duration_secs']} s each")
print(f"{'scenario':<28}{'figure':<16}{'baseline':>10}{'current':>10}{'ratio':>9}   per round (baseline / current)")
for name in names:
    for key in ("requests_per_sec", "p50_ms", "p99_ms", "other_cpu_pct"):
        b, c = figure("baseline", name, key), figure("current", name, key)
        if any(v is None for v in b + c):
            continue
        mb, mc = statistics.median(b), statistics.median(c)
        ratio = f"{mc / mb * 100:7.1f} %" if mb else "      -"
        rounds_text = "  ".join(f"{x:.4g}/{y:.4g}" for x, y in zip(b, c))
        print(f"{name:<28}{key:<16}{mb:>10.4g}{mc:>10.4g}{ratio:>9}   {rounds_text}")
PY
echo "figures as JSON in $out" >&2
