#!/usr/bin/env bash
# `make fuzz` (and the short pass of `make test`): schema-driven fuzzing of the HTTP API with
# schemathesis, against a chatd started on a fresh database. docs/fuzzing.md explains it.
#
#   scripts/fuzz.sh [--max-time SECONDS]     (default $FUZZ_SECONDS, else 60; split over two runs)
#
#   1. a Python virtualenv with schemathesis (pinned below) in .local/fuzz/venv, made once and
#      remade only when the pin changes (Debian's python3 / python3-venv are installed if missing);
#   2. the debug chatd (cargo build -p chatd), a fresh database on the server that
#      scripts/database-url.sh finds, chatd on a free port;
#   3. two runs of `schemathesis run /openapi.json --checks all`, each over an account of its own
#      (scripts/fuzz-seed.py makes it and the run's config): one with the account's API key, one
#      with an administrator's access token;
#   4. stops chatd, drops the database, prints a summary (scripts/fuzz-summary.py) and exits 1
#      when a run found a server error or a response that its documented schema rejects.
#
# Environment: FUZZ_SECONDS (time budget), FUZZ_FAIL_ON (check codes that fail the run),
# FUZZ_WORKERS (schemathesis workers, default 1), FUZZ_SEED (a schemathesis seed, to replay),
# FUZZ_VENV (where the virtualenv lives), FUZZ_ADMIN_URL (a PostgreSQL URL allowed to create
# databases; default: scripts/database-url.sh), FUZZ_KEEP_DB=1 (keep the database afterwards),
# FUZZ_RUST_LOG (chatd's RUST_LOG, default info), FUZZ_RATE_LIMIT_PER_SEC and
# FUZZ_RATE_AUTH_FAILURES_PER_MIN (chatd's rate limits, default out of reach: the fuzzer
# sends far faster than a client and fails authentication on purpose), CARGO_TARGET_DIR.
# Output: .local/fuzz/report/{api-key,admin-token}/ (output.txt, JSON and JUnit reports) and
# .local/fuzz/chatd.log.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$repo_root"

# shellcheck source=scripts/lib-postgres.sh
source scripts/lib-postgres.sh
# shellcheck source=scripts/lib-chatd.sh
source scripts/lib-chatd.sh

# The schemathesis release the checks are written against; bump deliberately.
schemathesis_version="4.32.5"
# Server errors (ST101, ST102 for an undeclared Content-Type) and responses their documented
# schema rejects (ST108 body, ST109 invalid JSON, ST110 unreadable body).
fail_on="${FUZZ_FAIL_ON:-ST101,ST102,ST108,ST109,ST110}"
# One worker: with two, CPython 3.11.7 (this machine's) intermittently fails inside
# schemathesis with "AST constructor recursion depth mismatch" (a CPython race in compile()
# under threads, fixed in 3.11.8), which the run reports as an error.
workers="${FUZZ_WORKERS:-1}"
max_time="${FUZZ_SECONDS:-60}"
work="$repo_root/.local/fuzz"
venv="${FUZZ_VENV:-$work/venv}"
target_dir="${CARGO_TARGET_DIR:-target}"

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
    exit "$1"
}

while (($# > 0)); do
    case "$1" in
    --max-time)
        (($# >= 2)) || usage 2
        max_time="$2"
        shift 2
        ;;
    --max-time=*)
        max_time="${1#*=}"
        shift
        ;;
    -h | --help) usage 0 ;;
    *) usage 2 ;;
    esac
done
[[ $max_time =~ ^[0-9]+$ ]] && ((max_time >= 2)) || die "--max-time must be a whole number of seconds, at least 2 (got '$max_time')"
[[ $workers =~ ^[0-9]+$ ]] && ((workers >= 1)) || die "FUZZ_WORKERS must be a positive number (got '$workers')"

mkdir -p "$work"
# One run at a time per checkout: a second one would drop the first one's database under it.
exec 9>"$work/lock"
if ! flock -n 9; then
    log "another fuzz run is using this checkout; waiting for it to end"
    flock -w 1800 9 || die "gave up waiting for the other fuzz run"
fi

apt_install() {
    local -a sudo=()
    command -v apt-get >/dev/null || die "$* missing and apt-get is not available: install $* by hand"
    if ! is_root; then
        command -v sudo >/dev/null || die "$* missing; run as root: apt-get install $*"
        sudo=(sudo)
    fi
    log "installing $* (apt-get)..."
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 9>&-
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >&2 9>&-
}

# 1. Python and schemathesis.
command -v python3 >/dev/null || apt_install python3
stamp="$venv/.schemathesis-version"
if [[ ! -x $venv/bin/schemathesis || ! -f $stamp || $(<"$stamp") != "$schemathesis_version" ]]; then
    log "installing schemathesis $schemathesis_version into $venv"
    rm -rf "$venv"
    # Debian's python3 makes virtualenvs only with python3-venv (it ships ensurepip).
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        apt_install python3-venv
        python3 -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$schemathesis_version" 9>&-
    printf '%s\n' "$schemathesis_version" >"$stamp"
fi
python="$venv/bin/python"

psql="$(command -v psql || true)"
if [[ -z $psql ]]; then
    bindir="$(newest_pg_bindir)"
    if [[ -n $bindir && -x $bindir/psql ]]; then
        psql="$bindir/psql"
    else
        apt_install postgresql-client
        psql="$(command -v psql)"
    fi
fi

# 2. chatd and a fresh database.
log "building chatd (debug)"
cargo build -q -p chatd 9>&-
chatd_bin="$target_dir/debug/chatd"

admin_url="${FUZZ_ADMIN_URL:-$(scripts/database-url.sh 9>&-)}"
database="chat_fuzz_$(printf '%s' "$repo_root" | sha256sum | cut -c1-8)"
database_url="$(database_url_beside "$admin_url" "$database")"

sql() { "$psql" -X -w -q -v ON_ERROR_STOP=1 -d "$admin_url" -c "$1" 9>&-; }
drop_database() {
    sql "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" 2>/dev/null ||
        sql "DROP DATABASE IF EXISTS \"$database\""
}
drop_database
sql "CREATE DATABASE \"$database\""

chatd_pid=""
cleanup() {
    [[ -z $chatd_pid ]] || stop_process "$chatd_pid"
    if [[ ${FUZZ_KEEP_DB:-} == 1 ]]; then
        log "kept the database: $database_url"
    else
        drop_database || log "could not drop the database $database"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base_url="http://127.0.0.1:$port"
storage="$work/storage"
rm -rf "$storage"
mkdir -p "$storage"
CHAT_PLATFORM_TOKEN="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
export CHAT_PLATFORM_TOKEN
env DATABASE_URL="$database_url" \
    CHAT_BIND="127.0.0.1:$port" \
    CHAT_URL_SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" \
    CHAT_SECRET_KEY="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" \
    CHAT_STORAGE_DIR="$storage" \
    CHAT_RATE_LIMIT_PER_SEC="${FUZZ_RATE_LIMIT_PER_SEC:-1000000}" \
    CHAT_RATE_AUTH_FAILURES_PER_MIN="${FUZZ_RATE_AUTH_FAILURES_PER_MIN:-1000000}" \
    RUST_LOG="${FUZZ_RUST_LOG:-info}" \
    "$chatd_bin" serve >"$work/chatd.log" 2>&1 9>&- &
chatd_pid=$!
log "chatd (pid $chatd_pid) on $base_url, database $database (log: $work/chatd.log)"

ready() {
    "$python" - "$base_url/ready" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}
waited=0
until ready; do
    kill -0 "$chatd_pid" 2>/dev/null || {
        tail -n 20 "$work/chatd.log" >&2
        die "chatd exited before it was ready (log: $work/chatd.log)"
    }
    ((waited < 120)) || die "chatd was not ready after 60 s (log: $work/chatd.log)"
    sleep 0.5
    waited=$((waited + 1))
done

# 3. Two runs, half the time each.
per_run=$((max_time / 2))
runs=()
for credential in api-key admin-token; do
    dir="$work/report/$credential"
    rm -rf "$dir"
    mkdir -p "$dir"
    config="$work/$credential.toml"
    "$python" scripts/fuzz-seed.py --base-url "$base_url" --platform-token-env CHAT_PLATFORM_TOKEN \
        --credential "$credential" --config "$config"
    args=(
        --config-file "$config"
        run "$base_url/openapi.json"
        --checks all
        --max-time "$per_run"
        --workers "$workers"
        # WebSocket upgrades: the AsyncAPI document describes them, not a request/response pair.
        --exclude-tag live
        # The run's credential comes from its config; made-up credentials would only test 401.
        --generation-with-security-parameters false
        --report json,junit
        --report-dir "$dir"
        --no-color
    )
    if [[ $credential == api-key ]]; then
        # Rotating the key or deactivating its client would leave the rest of the run with a
        # revoked credential.
        args+=(--exclude-path /api/v1/clients/regenerate-key)
        args+=(--exclude-name "DELETE /api/v1/clients/me")
    fi
    [[ -z ${FUZZ_SEED:-} ]] || args+=(--seed "$FUZZ_SEED")
    log "schemathesis with the ${credential/-/ } for $per_run s ($dir/output.txt)"
    status=0
    # From $work: schemathesis keeps its example database (.schemathesis/) in the current folder.
    (cd "$work" && "$venv/bin/schemathesis" "${args[@]}") >"$dir/output.txt" 2>&1 9>&- || status=$?
    # 0: nothing found; 1: something found (the summary judges what). Anything else: it broke.
    if ((status > 1)); then
        tail -n 20 "$dir/output.txt" >&2
        log "schemathesis exited with $status"
    fi
    runs+=("${credential/-/ }=$dir")
    kill -0 "$chatd_pid" 2>/dev/null || {
        tail -n 20 "$work/chatd.log" >&2
        die "chatd died during the run (log: $work/chatd.log)"
    }
done

# 4. Verdict.
echo "fuzz: schemathesis $schemathesis_version against $base_url, failing on $fail_on"
status=0
"$python" scripts/fuzz-summary.py --fail-on "$fail_on" "${runs[@]}" || status=$?
echo "fuzz: each failure with a curl to reproduce it: $work/report/*/output.txt (also junit-*.xml);"
echo "      server-side causes of 5xx: $work/chatd.log"
exit "$status"
