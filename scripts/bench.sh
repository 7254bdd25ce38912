#!/usr/bin/env bash
# `make bench`: the benchmarks against the machine's own limits (docs/benchmarks/README.md).
#
#   1. builds chatd and the bench crate (release);
#   2. drops and creates the database `chat_bench` on the PostgreSQL that
#      scripts/database-url.sh finds (or $BENCH_ADMIN_URL);
#   3. starts chatd on it and the bare actix-web handler (chat-bench-bare), on free ports;
#   4. runs the load generator (chat-bench run), which seeds, measures and writes
#      docs/benchmarks/latest.{md,json,svg}; for its phase `nodes` it asks, on its standard
#      output, for a set of three more chatd nodes on the same database ("start nats": with
#      CHAT_NATS_URL and CHAT_REDIS_URL from scripts/service-url.sh; "start pg": without),
#      which this script starts on free ports, waits for (/ready) and answers with, on its
#      standard input ("ok urls=… pids=… logs=… services=…"), then stops when asked ("stop"):
#      one set at a time, never both at once (crates/chat_bench/src/nodes.rs);
#   5. stops every server it started (the node sets' included), whatever happened.
#
# Environment: BENCH_QUICK=1 (a short run), BENCH_ARGS (more flags for `chat-bench run`,
# e.g. "--skip growth,idle,nodes"), BENCH_DATABASE (default chat_bench), BENCH_OUT (default
# docs/benchmarks), BENCH_CHATD (another chatd binary to measure, for a before/after);
# CHAT_DB_POOL_SIZE and CHAT_WORKERS reach the server as usual; the
# rate limits are out of reach (CHAT_RATE_LIMIT_PER_SEC, default 1000000: a load test is
# one credential sending far faster than a client; CHAT_RATE_WS_SOCKETS_PER_USER, default
# 1000: the idle row puts up to 100 sockets on one participant).
# Logs of the servers: .local/bench/ (the nodes': node-{nats,pg}-{1,2,3}.log).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$repo_root"

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

now_ns() { date +%s%N; }
# Seconds since a now_ns reading, as 12.345.
secs_since() {
    local ms=$((($(now_ns) - $1) / 1000000))
    printf '%d.%03d' $((ms / 1000)) $((ms % 1000))
}

started_ns="$(now_ns)"
started_at="$(date +%s.%N)"
quick="${BENCH_QUICK:-0}"
database="${BENCH_DATABASE:-chat_bench}"
out="${BENCH_OUT:-docs/benchmarks}"
target_dir="${CARGO_TARGET_DIR:-target}"
work=".local/bench"
mkdir -p "$work"

# One run at a time: a second one would drop the first one's database under it.
exec 9>"$work/lock"
if ! flock -n 9; then
    log "another make bench is running in this checkout; waiting for it to end"
    flock -w 1200 9 || die "gave up waiting for the other make bench"
fi

# Each WebSocket is a file in both processes: 10,000 idle sockets need more than 10,000
# descriptors on each side. Take as many as the hard limit allows (children inherit it).
hard="$(ulimit -Hn)"
if [[ $hard == unlimited ]]; then
    ulimit -n 1048576 2>/dev/null || ulimit -n 65536 2>/dev/null || true
else
    ulimit -n "$hard" 2>/dev/null || true
fi
log "open files: $(ulimit -n) (hard limit $hard)"

build_ns="$(now_ns)"
# One build for both: about 4 minutes from scratch on 2 cores, against 5.5 for two builds
# (apart, the bench's dependencies would each be compiled again with its own features).
# Built together, chatd gets the features the bench's client (awc) turns on in shared
# dependencies (HTTP/2 support in actix-http, unused by chatd's HTTP/1.1 listener), so
# `make run`, which builds chatd alone, links its own variant: cargo keeps both, and
# switching between them rebuilds nothing once each exists.
log "building chatd and chat_bench (release)"
cargo build --release -p chatd -p chat_bench
build_secs="$(secs_since "$build_ns")"
bench_bin="$target_dir/release/chat-bench"
bare_bin="$target_dir/release/chat-bench-bare"
chatd_bin="${BENCH_CHATD:-$target_dir/release/chatd}"

prepare_ns="$(now_ns)"
admin_url="${BENCH_ADMIN_URL:-$(scripts/database-url.sh)}"
database_url="$("$bench_bin" reset-db --admin-url "$admin_url" --name "$database")"
log "fresh database $database"

server_port="$("$bench_bin" free-port)"
bare_port="$("$bench_bin" free-port)"
while [[ $bare_port == "$server_port" ]]; do
    bare_port="$("$bench_bin" free-port)"
done

# Our processes, each stopped by its pid: the servers, a node set while it runs, and the
# load generator while it runs.
pids=()
node_pids=()
load_pid=""
# TERM, then KILL after 10 s.
stop_pids() {
    local pid waited
    for pid in "$@"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "$@"; do
        waited=0
        while kill -0 "$pid" 2>/dev/null && ((waited < 100)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
stop_all() {
    if [[ -n $load_pid ]]; then
        stop_pids "$load_pid"
    fi
    stop_pids "${node_pids[@]}" "${pids[@]}"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

storage="$work/storage"
rm -rf "$storage"
mkdir -p "$storage"
CHAT_PLATFORM_TOKEN="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
export CHAT_PLATFORM_TOKEN
# What every chatd of the run is given (the nodes of the `nodes` phase too), besides its port.
chatd_env=(
    DATABASE_URL="$database_url"
    CHAT_URL_SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
    CHAT_STORAGE_DIR="$storage"
    CHAT_RATE_LIMIT_PER_SEC="${CHAT_RATE_LIMIT_PER_SEC:-1000000}"
    CHAT_RATE_WS_SOCKETS_PER_USER="${CHAT_RATE_WS_SOCKETS_PER_USER:-1000}"
    CHAT_WEBHOOK_ALLOW_PRIVATE=1
    RUST_LOG="${BENCH_RUST_LOG:-warn}"
)
env "${chatd_env[@]}" CHAT_BIND="127.0.0.1:$server_port" \
    "$chatd_bin" serve >"$work/chatd.log" 2>&1 9>&- &
server_pid=$!
pids+=("$server_pid")
"$bare_bin" --bind "127.0.0.1:$bare_port" >"$work/bare.log" 2>&1 9>&- &
bare_pid=$!
pids+=("$bare_pid")
log "chatd (pid $server_pid) on 127.0.0.1:$server_port, bare handler on 127.0.0.1:$bare_port"
sleep 0.2
kill -0 "$server_pid" 2>/dev/null || {
    tail -n 20 "$work/chatd.log" >&2
    die "chatd did not start (log: $work/chatd.log)"
}

# The node sets of the `nodes` phase, one at a time, on the same database and settings as
# chatd; a set's nodes are in node_pids while it runs.
node_answer=""
node_error=""
run_id="$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')"
# Whether a chatd on 127.0.0.1:$1 answers 200 on /ready.
ready() {
    local fd line=""
    # (The braces: bash reports a refused connection before a redirection on exec applies.)
    if ! { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null; then
        return 1
    fi
    printf 'GET /ready HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$1" >&"$fd" || true
    IFS= read -r -t 2 line <&"$fd" || true
    exec {fd}<&-
    [[ $line == "HTTP/1."?" 200"* ]]
}
# The pid of the process listening on the port of URL $1, when ss can tell (empty if not).
listener_pid() {
    local port="${1##*:}" out
    port="${port%%/*}"
    out="$(ss -Hltnp "sport = :$port" 2>/dev/null || true)"
    if [[ $out =~ pid=([0-9]+) ]]; then
        printf '%s' "${BASH_REMATCH[1]}"
    fi
}
# Starts three nodes relaying over $1 (nats: with NATS and Redis; pg: over PostgreSQL) and
# waits until each is ready; sets node_answer, or node_error and fails.
start_node_set() {
    local relay=$1 i port pid log waited nats_url redis_url
    local -a relay_env=() urls=() logs=() services=() ports=()
    stop_node_set
    case $relay in
        nats)
            # (Without the lock's descriptor: a server it starts outlives the run.)
            if ! nats_url="$(scripts/service-url.sh nats 9>&-)"; then
                node_error="no NATS server (scripts/service-url.sh nats failed)"
                return 1
            fi
            if ! redis_url="$(scripts/service-url.sh redis 9>&-)"; then
                node_error="no Redis server (scripts/service-url.sh redis failed)"
                return 1
            fi
            # Subjects and keys of this run's own, apart from anyone else's on those servers.
            relay_env=(
                CHAT_NATS_URL="$nats_url"
                CHAT_NATS_SUBJECT_PREFIX="bench.$run_id.events"
                CHAT_REDIS_URL="$redis_url"
                CHAT_REDIS_PREFIX="bench-$run_id:"
            )
            pid="$(listener_pid "$nats_url")"
            [[ -z $pid ]] || services+=("nats-server:$pid")
            pid="$(listener_pid "$redis_url")"
            [[ -z $pid ]] || services+=("redis-server:$pid")
            ;;
        pg) ;;
        *)
            node_error="unknown relay '$relay' (nats or pg)"
            return 1
            ;;
    esac
    for i in 1 2 3; do
        port="$("$bench_bin" free-port)"
        while [[ " $server_port $bare_port ${ports[*]} " == *" $port "* ]]; do
            port="$("$bench_bin" free-port)"
        done
        ports+=("$port")
        log="$work/node-$relay-$i.log"
        env "${chatd_env[@]}" "${relay_env[@]}" CHAT_BIND="127.0.0.1:$port" \
            "$chatd_bin" serve >"$log" 2>&1 9>&- &
        node_pids+=("$!")
        urls+=("http://127.0.0.1:$port")
        logs+=("$log")
    done
    for i in 0 1 2; do
        waited=0
        until ready "${ports[i]}"; do
            if ! kill -0 "${node_pids[i]}" 2>/dev/null; then
                node_error="node $((i + 1)) ended at start (log: ${logs[i]}): $(tail -n 3 "${logs[i]}" | tr '\n' ' ')"
                return 1
            fi
            if ((waited >= 600)); then
                node_error="node $((i + 1)) was not ready within 60 s (log: ${logs[i]})"
                return 1
            fi
            sleep 0.1
            waited=$((waited + 1))
        done
    done
    log "node set '$relay': pids ${node_pids[*]} on ${urls[*]}"
    node_answer="urls=$(IFS=,; printf '%s' "${urls[*]}") pids=$(IFS=,; printf '%s' "${node_pids[*]}")"
    node_answer+=" logs=$(IFS=,; printf '%s' "${logs[*]}") services=$(IFS=,; printf '%s' "${services[*]}")"
}
stop_node_set() {
    if ((${#node_pids[@]} > 0)); then
        log "stopping node set: pids ${node_pids[*]}"
        stop_pids "${node_pids[@]}"
        node_pids=()
    fi
}

revision="unknown"
if command -v git >/dev/null && git rev-parse --git-dir >/dev/null 2>&1; then
    revision="$(git rev-parse --short HEAD)"
    changed="$(git status --porcelain --untracked-files=no -- crates migrations Cargo.lock | wc -l)"
    if ((changed == 1)); then
        revision="$revision with uncommitted changes in 1 file"
    elif ((changed > 1)); then
        revision="$revision with uncommitted changes in $changed files"
    fi
fi

args=(
    run
    --server "http://127.0.0.1:$server_port"
    --bare "http://127.0.0.1:$bare_port"
    --database-url "$database_url"
    --server-pid "$server_pid"
    --bare-pid "$bare_pid"
    --server-log "$work/chatd.log"
    --out "$out"
    --build-secs "$build_secs"
    --prepare-secs "$(secs_since "$prepare_ns")"
    --started-at "$started_at"
    --server-workers "${CHAT_WORKERS:-default (cores)}"
    --db-pool-size "${CHAT_DB_POOL_SIZE:-16 (default)}"
    --revision "$revision"
)
if [[ $quick == 1 ]]; then
    args+=(--quick)
fi
# BENCH_ARGS is split into words on purpose.
# shellcheck disable=SC2206
extra=(${BENCH_ARGS:-})
status=0
# The load generator runs beside this script, which answers its requests for node sets.
coproc load { exec "$bench_bin" "${args[@]}" --nodes-from-stdio "${extra[@]}" 9>&-; }
# (bash sets load_PID for the coprocess `load`.)
# shellcheck disable=SC2154
load_pid=$load_PID
# Copies of the pipes: bash forgets the coprocess's own when it ends. (Descriptors that
# bash allocates this way are closed on exec: the nodes do not inherit them.)
exec {from_load}<&"${load[0]}" {to_load}>&"${load[1]}"
while IFS= read -r -u "$from_load" request; do
    case $request in
        "start "*)
            if start_node_set "${request#start }"; then
                printf 'ok %s\n' "$node_answer" >&"$to_load"
            else
                log "error: node set ${request#start }: $node_error"
                stop_node_set
                printf 'error %s\n' "$node_error" >&"$to_load"
            fi
            ;;
        stop)
            stop_node_set
            printf 'ok\n' >&"$to_load"
            ;;
        *) printf 'error unknown request: %s\n' "$request" >&"$to_load" ;;
    esac
done
wait "$load_pid" || status=$?
load_pid=""
exec {from_load}<&- {to_load}>&-
stop_node_set
if ((status != 0)); then
    log "chat-bench failed ($status); the end of the server's log ($work/chatd.log):"
    tail -n 20 "$work/chatd.log" >&2 || true
    exit "$status"
fi
if ! kill -0 "$server_pid" 2>/dev/null; then
    log "warning: chatd was no longer running at the end (log: $work/chatd.log)"
fi
log "done in $(secs_since "$started_ns") s: $out/latest.md"
