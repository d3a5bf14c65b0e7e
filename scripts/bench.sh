#!/usr/bin/env bash
# Builds the secgroup server and the benchmark in release mode, then runs the benchmark.
# Every argument goes to secgroup-bench, e.g.:
#   scripts/bench.sh --duration-secs 3 --json bench.json
#   scripts/bench.sh --scenario bare,describe --connections 64
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p secgroup -p secgroup-bench
exec target/release/secgroup-bench "$@"
