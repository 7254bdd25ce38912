#!/usr/bin/env bash
# Prints the URL of a working NATS or Redis server on stdout (progress on stderr), for the
# tests of the relay over NATS and of presence and allowances in Redis:
#
#   scripts/service-url.sh nats    # nats://127.0.0.1:4222, else a project-local nats-server
#   scripts/service-url.sh redis   # redis://127.0.0.1:6379, else a project-local redis-server
#
# Order, as scripts/database-url.sh does for PostgreSQL:
#   1. $CHAT_TEST_NATS_URL / $CHAT_TEST_REDIS_URL when set (not checked: yours to keep up).
#   2. The server on the usual port of 127.0.0.1, when one answers (NATS's INFO line, Redis's PONG).
#   3. A project-local server on 127.0.0.1:${CHAT_LOCAL_NATS_PORT:-54222} / ${CHAT_LOCAL_REDIS_PORT:-56379},
#      started here when it is not running (Debian's nats-server / redis-server package installed when
#      missing), with its files in .local/<name>/. It keeps running; scripts/stop-local-services.sh
#      stops both.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}
is_root() { [[ $(id -u) -eq 0 ]]; }

# What a server on 127.0.0.1:$2 answers first to $3 (sent when not empty), within a second.
probe() {
    local port=$1 say=$2 line=""
    # (The braces: bash reports a refused connection before a redirection on exec applies.)
    if ! { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
        return 1
    fi
    [[ -z $say ]] || printf '%s\r\n' "$say" >&3
    IFS= read -r -t 1 line <&3 || true
    exec 3<&- 3>&- || true
    printf '%s' "$line"
}
answers() {
    case $1 in
        nats) [[ $(probe "$2" "") == INFO* ]] ;;
        redis) [[ $(probe "$2" "PING") == +PONG* ]] ;;
    esac
}

apt_install() {
    local -a sudo=()
    command -v apt-get >/dev/null || die "$1 is missing and apt-get is not available: install $1 by hand"
    if ! is_root; then
        command -v sudo >/dev/null || die "$1 is missing; run as root: apt-get install $1"
        sudo=(sudo)
    fi
    log "installing $1 (apt-get)..."
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >&2; then
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" >&2
    fi
}

service=${1:-}
case $service in
    nats)
        url_var=CHAT_TEST_NATS_URL scheme=nats usual=4222 port=${CHAT_LOCAL_NATS_PORT:-54222}
        binary=nats-server package=nats-server
        ;;
    redis)
        url_var=CHAT_TEST_REDIS_URL scheme=redis usual=6379 port=${CHAT_LOCAL_REDIS_PORT:-56379}
        binary=redis-server package=redis-server
        ;;
    *) die "usage: ${0##*/} nats|redis" ;;
esac
[[ $port =~ ^[0-9]+$ ]] || die "the local $service port must be a number, got '$port'"

if [[ -n ${!url_var:-} ]]; then
    echo "${!url_var}"
    exit 0
fi
if answers "$service" "$usual"; then
    log "using the $service server on 127.0.0.1:$usual"
    echo "$scheme://127.0.0.1:$usual"
    exit 0
fi
if answers "$service" "$port"; then
    echo "$scheme://127.0.0.1:$port"
    exit 0
fi

command -v "$binary" >/dev/null || [[ -x /usr/sbin/$binary ]] || [[ -x /usr/bin/$binary ]] ||
    apt_install "$package"
exe="$(command -v "$binary" || true)"
[[ -n $exe ]] || for exe in /usr/sbin/$binary /usr/bin/$binary; do [[ -x $exe ]] && break; done
[[ -x $exe ]] || die "$binary was not found after installing $package"

home="$repo_root/.local/$service"
mkdir -p "$home"
log "starting a project-local $service server on 127.0.0.1:$port (files in .local/$service)"
case $service in
    nats)
        # JetStream is not needed: the relay uses core NATS subjects.
        nohup "$exe" -a 127.0.0.1 -p "$port" -l "$home/server.log" -P "$home/server.pid" \
            </dev/null >/dev/null 2>&1 &
        ;;
    redis)
        # Nothing on disk: presence and allowances are live state only.
        "$exe" --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
            --dir "$home" --logfile "$home/server.log" --pidfile "$home/server.pid" >&2
        ;;
esac
for _ in $(seq 1 50); do
    if answers "$service" "$port"; then
        echo "$scheme://127.0.0.1:$port"
        exit 0
    fi
    sleep 0.1
done
die "the $service server on 127.0.0.1:$port did not answer within 5 s (log: $home/server.log)"
