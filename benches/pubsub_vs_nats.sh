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

cd "$(dirname "$0")/.."
runs="${RUNS:-1}"
extra=()
if [[ "${1:-}" == "--" ]]; then
    shift
    extra=("$@")
fi

if ! command -v nats-server >/dev/null; then
    echo "nats-server is missing: installing it from Debian's packages" >&2
    apt-get update && apt-get install -y nats-server
fi

hubwire="${HUBWIRE:-}"
if [[ -z "$hubwire" ]]; then
    cargo build --release --bin hubwire --features nats-bench
    hubwire=target/release/hubwire
fi

workdir="$(mktemp -d)"
nats_pid=""
stop() {
    if [[ -n "$nats_pid" ]]; then
        kill "$nats_pid" 2>/dev/null || true
        wait "$nats_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap stop EXIT INT TERM

# Port -1: the server picks a free one and says which in its log.
nats-server -a 127.0.0.1 -p -1 -l "$workdir/nats.log" &
nats_pid=$!
port=""
for _ in $(seq 100); do
    port="$(sed -n 's/.*Listening for client connections on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
        "$workdir/nats.log" 2>/dev/null | head -n1 || true)"
    [[ -n "$port" ]] && break
    sleep 0.1
done
if [[ -z "$port" ]]; then
    echo "nats-server did not start:" >&2
    cat "$workdir/nats.log" >&2 || true
    exit 1
fi
url="nats://127.0.0.1:$port"
echo "$(nats-server --version) at $url; hubwire: $hubwire; $(nproc) cores"

for run in $(seq "$runs"); do
    echo
    echo "=== run $run of $runs: pub/sub ==="
    "$hubwire" bench pubsub --nats "$url" "${extra[@]}"
    echo
    echo "=== run $run of $runs: rpc ==="
    "$hubwire" bench rpc --nats "$url" "${extra[@]}"
done
