#!/usr/bin/env bash
# Pub/sub and RPC, hubwire next to NATS, on loopback only (issue 7, docs/benchmarks.md).
#
# Installs nats-server from Debian's packages if it is missing, starts it on a free port of
# 127.0.0.1, runs `hubwire bench pubsub --nats URL` and `hubwire bench rpc --nats URL` (each
# prints hubwire, NATS and hubwire/NATS per row; hubwire's hub runs in-process on 127.0.0.1),
# and stops the server, also on failure or Ctrl-C.
#
#   benches/pubsub_vs_nats.sh                 # one run, default durations
#   RUNS=3 benches/pubsub_vs_nats.sh -- --duration 5
#
# Environment: RUNS (default 1), HUBWIRE (a hubwire binary built with --features nats-bench;
# default: build target/release/hubwire). Arguments after `--` go to both bench commands.
set -euo pipefail

runs="${RUNS:-1}"
extra=()
if [[ "${1:-}" == "--" ]]; then
    shift
    extra=("$@")
fi

source "$(dirname "$0")/nats_helpers.sh"

start_nats nats
url="nats://127.0.0.1:$nats_port"
echo "$(nats-server --version) at $url; hubwire: $hubwire; $(nproc) cores"

for run in $(seq "$runs"); do
    echo
    echo "=== run $run of $runs: pub/sub ==="
    "$hubwire" bench pubsub --nats "$url" "${extra[@]}"
    echo
    echo "=== run $run of $runs: rpc ==="
    "$hubwire" bench rpc --nats "$url" "${extra[@]}"
done
