#!/usr/bin/env bash
# `make bench`: the benchmarks against the machine's own limits (docs/benchmarks/README.md).
#
#   1. builds chatd and the bench crate (release);
#   2. drops and creates the database `chat_bench` on the PostgreSQL that
#      scripts/database-url.sh finds (or $BENCH_ADMIN_URL);
#   3. starts chatd on it and the bare actix-web handler (chat-bench-bare), on free ports;
#   4. runs the load generator (chat-bench run), which seeds, measures and writes
#      docs/benchmarks/latest.{md,json,svg};
#   5. stops both servers, whatever happened.
#
# Environment: BENCH_QUICK=1 (a short run), BENCH_ARGS (more flags for `chat-bench run`,
# e.g. "--skip growth,idle"), BENCH_DATABASE (default chat_bench), BENCH_OUT (default
# docs/benchmarks), BENCH_CHATD (another chatd binary to measure, for a before/after);
# CHAT_DB_POOL_SIZE and CHAT_WORKERS reach the server as usual; the
# rate limits are out of reach (CHAT_RATE_LIMIT_PER_SEC, default 1000000: a load test is
# one credential sending far faster than a client; CHAT_RATE_WS_SOCKETS_PER_USER, default
# 1000: the idle row puts up to 100 sockets on one participant).
# Logs of the servers: .local/bench/.
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

pids=()
stop_all() {
    local pid waited
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        waited=0
        while kill -0 "$pid" 2>/dev/null && ((waited < 100)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

storage="$work/storage"
rm -rf "$storage"
mkdir -p "$storage"
CHAT_PLATFORM_TOKEN="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
export CHAT_PLATFORM_TOKEN
env DATABASE_URL="$database_url" \
    CHAT_BIND="127.0.0.1:$server_port" \
    CHAT_URL_SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" \
    CHAT_STORAGE_DIR="$storage" \
    CHAT_RATE_LIMIT_PER_SEC="${CHAT_RATE_LIMIT_PER_SEC:-1000000}" \
    CHAT_RATE_WS_SOCKETS_PER_USER="${CHAT_RATE_WS_SOCKETS_PER_USER:-1000}" \
    CHAT_WEBHOOK_ALLOW_PRIVATE=1 \
    RUST_LOG="${BENCH_RUST_LOG:-warn}" \
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
"$bench_bin" "${args[@]}" "${extra[@]}" 9>&- || status=$?
if ((status != 0)); then
    log "chat-bench failed ($status); the end of the server's log ($work/chatd.log):"
    tail -n 20 "$work/chatd.log" >&2 || true
    exit "$status"
fi
if ! kill -0 "$server_pid" 2>/dev/null; then
    log "warning: chatd was no longer running at the end (log: $work/chatd.log)"
fi
log "done in $(secs_since "$started_ns") s: $out/latest.md"
