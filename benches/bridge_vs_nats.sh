#!/usr/bin/env bash
# Across a bridge, hubwire next to NATS across a cluster route, on loopback only (issue 8,
# docs/benchmarks.md, "Bridges").
#
# Starts two nats-servers clustered on 127.0.0.1 (A on free client and route ports; B with a
# route to A), waits until the route is up on both, runs `hubwire bench bridge --nats A
# --nats-b B` (two bridged in-process hubs, publisher and caller on A, subscriber and provider
# on B; the same on the NATS pair; hubwire, NATS and hubwire/NATS per row), and stops both
# servers, also on failure or Ctrl-C.
#
#   benches/bridge_vs_nats.sh                 # one run, default durations
#   RUNS=3 benches/bridge_vs_nats.sh -- --duration 5
#
# Environment: RUNS (default 1), HUBWIRE (a hubwire binary built with --features nats-bench;
# default: build target/release/hubwire). Arguments after `--` go to `hubwire bench bridge`.
set -euo pipefail

runs="${RUNS:-1}"
extra=()
if [[ "${1:-}" == "--" ]]; then
    shift
    extra=("$@")
fi

source "$(dirname "$0")/nats_helpers.sh"

cluster=(--cluster_name hubwire-bench)
start_nats a "${cluster[@]}" --cluster nats://127.0.0.1:-1
url_a="nats://127.0.0.1:$nats_port"
route_a="$(log_port a route)"
start_nats b "${cluster[@]}" --cluster nats://127.0.0.1:-1 --routes "nats://127.0.0.1:$route_a"
url_b="nats://127.0.0.1:$nats_port"

# The route is up once both ends have logged it.
for _ in $(seq 100); do
    if grep -q "Route connection created" "$workdir/a.log" &&
        grep -q "Route connection created" "$workdir/b.log"; then
        break
    fi
    sleep 0.1
done
if ! grep -q "Route connection created" "$workdir/b.log"; then
    echo "the NATS route did not come up:" >&2
    cat "$workdir/a.log" "$workdir/b.log" >&2
    exit 1
fi
echo "$(nats-server --version): A at $url_a, B at $url_b, routed over 127.0.0.1:$route_a;" \
    "hubwire: $hubwire; $(nproc) cores"

for run in $(seq "$runs"); do
    echo
    echo "=== run $run of $runs: bridge ==="
    "$hubwire" bench bridge --nats "$url_a" --nats-b "$url_b" "${extra[@]}"
done
