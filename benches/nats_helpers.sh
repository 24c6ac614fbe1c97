# Helpers of the hubwire-versus-NATS bench scripts (sourced, not run): nats-server from
# Debian's packages if missing, the hubwire binary, nats-servers on loopback only, and their
# stop on exit, failure or Ctrl-C.
#
# After sourcing: `hubwire` names the binary (HUBWIRE, or target/release/hubwire built with
# --features nats-bench), `workdir` a temporary directory; start_nats NAME [ARGS...] starts
# one more server on a free port of 127.0.0.1 and sets `nats_port`; log_port NAME WHAT reads
# a port the server said it listens on.

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v nats-server >/dev/null; then
    echo "nats-server is missing: installing it from Debian's packages" >&2
    apt-get update && apt-get install -y nats-server
fi

hubwire="${HUBWIRE:-}"
if [[ -z "$hubwire" ]]; then
    cargo build --release -p hubwire-cli --features nats-bench
    hubwire=target/release/hubwire
fi

workdir="$(mktemp -d)"
nats_pids=()
stop_nats() {
    local pid
    for pid in "${nats_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$workdir"
}
trap stop_nats EXIT
trap 'exit 130' INT TERM # exit runs the EXIT trap: the servers stop

# log_port NAME WHAT: the port of "Listening for WHAT connections on 127.0.0.1:PORT" in
# NAME's log, waiting up to 10 s for it; fails (showing the log) if it never comes.
log_port() {
    local name="$1" what="$2" port=""
    for _ in $(seq 100); do
        port="$(sed -n "s/.*Listening for $what connections on 127\.0\.0\.1:\([0-9]*\).*/\1/p" \
            "$workdir/$name.log" 2>/dev/null | head -n1 || true)"
        [[ -n "$port" ]] && break
        sleep 0.1
    done
    if [[ -z "$port" ]]; then
        echo "nats-server $name did not start:" >&2
        cat "$workdir/$name.log" >&2 || true
        exit 1
    fi
    echo "$port"
}

# start_nats NAME [ARGS...]: a nats-server on 127.0.0.1 (port -1: it picks a free one and
# logs it) with ARGS, logging to $workdir/NAME.log; sets nats_port.
start_nats() {
    local name="$1"
    shift
    nats-server -a 127.0.0.1 -p -1 -l "$workdir/$name.log" "$@" &
    nats_pids+=($!)
    nats_port="$(log_port "$name" client)"
}
