#!/usr/bin/env bash
# Prints one working DATABASE_URL on stdout; every progress message goes to stderr.
#
# Order:
#   1. $DATABASE_URL, when set (checked with psql when psql is installed).
#   2. postgres://postgres@127.0.0.1:5432/postgres, when a PostgreSQL answers there and lets user postgres in
#      without a password. CHAT_SKIP_DEFAULT_PG=1 skips this step.
#   3. A project-local cluster in .local/postgres/ on 127.0.0.1:${CHAT_LOCAL_PG_PORT:-54329}, made with the
#      system's PostgreSQL binaries (Debian's postgresql package is installed when they are missing).
#      It keeps running afterwards; scripts/stop-local-postgres.sh stops it.
set -euo pipefail

# shellcheck source=scripts/lib-postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-postgres.sh"

default_url="postgres://postgres@127.0.0.1:5432/postgres"
pg_fallback="/var/tmp/chat-rooms-pg-$(printf '%s' "$repo_root" | sha256sum | cut -c1-12)"
local_port="${CHAT_LOCAL_PG_PORT:-54329}"
[[ $local_port =~ ^[0-9]+$ ]] || die "CHAT_LOCAL_PG_PORT must be a port number, got '$local_port'"

# Path of a PostgreSQL client tool (PATH first, then the server's bin dir), or nothing.
pg_tool() {
    local dir
    if command -v "$1" 2>/dev/null; then
        return 0
    fi
    dir="$(newest_pg_bindir)"
    if [[ -n $dir && -x $dir/$1 ]]; then
        echo "$dir/$1"
    fi
}

# Does something accept connections on host:port?
answers() {
    local host=$1 port=$2 isready
    isready="$(pg_tool pg_isready)"
    if [[ -n $isready ]]; then
        "$isready" -q -h "$host" -p "$port" -t 3
    else
        # shellcheck disable=SC2016 # $1 and $2 expand in the inner bash
        timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$host" "$port" 2>/dev/null
    fi
}

# Can we log in and run a query with this URL? Sets check_error. Succeeds unchecked when psql is missing.
check_error=""
accepts() {
    local url=$1 psql
    psql="$(pg_tool psql)"
    if [[ -z $psql ]]; then
        log "psql not found: cannot check that the database lets us in"
        return 0
    fi
    if check_error="$(PGCONNECT_TIMEOUT=5 "$psql" -X -w -Atq -d "$url" -c 'select 1' 2>&1 >/dev/null)"; then
        return 0
    fi
    check_error="${check_error//$'\n'/ }"
    return 1
}

# The default server on 5432, when it answers and lets user postgres in without a password.
default_usable() {
    if [[ ${CHAT_SKIP_DEFAULT_PG:-} == 1 ]]; then
        return 1
    fi
    answers 127.0.0.1 5432 || return 1
    if accepts "$default_url"; then
        return 0
    fi
    log "a PostgreSQL answers on 127.0.0.1:5432 but refuses $default_url ($check_error);" \
        "using a project-local cluster instead (or set DATABASE_URL)"
    return 1
}

install_postgresql() {
    local -a sudo=()
    command -v apt-get >/dev/null || die "PostgreSQL is not installed and apt-get is missing: install PostgreSQL or set DATABASE_URL"
    if ! is_root; then
        command -v sudo >/dev/null ||
            die "PostgreSQL is not installed, and installing it needs root or sudo: run 'apt-get install postgresql' as root, or set DATABASE_URL"
        sudo=(sudo)
    fi
    log "PostgreSQL server binaries not found: installing Debian's postgresql package..."
    # fd 9 holds our lock: keep it away from anything the package may start.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 9>&-
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql >&2 9>&-
}

# Can the cluster's user create files in this folder (all its parents traversable)?
reachable() {
    as_pg test -w "$1" -a -x "$1" 2>/dev/null
}

# Create (or check) a folder that only the cluster's user may use.
private_dir() {
    local dir=$1 owner
    [[ ! -L $dir ]] || die "$dir is a symlink; refusing to use it"
    mkdir -p "$dir"
    owner="$(stat -c %U "$dir")"
    # Root made it (maybe in an earlier, interrupted run): hand it over. Anyone else's: refuse.
    if is_root && [[ $owner == root ]]; then
        chown postgres:postgres "$dir"
        owner=postgres
    fi
    [[ $owner == "$(pg_user)" ]] || die "$dir belongs to $owner, not $(pg_user); remove it and try again"
    chmod 700 "$dir"
}

# Choose the real folder for the local cluster and set pg_home.
prepare_home() {
    local socket=".s.PGSQL.$local_port"
    pg_home="$(existing_pg_home)"
    if [[ -n $pg_home && $pg_home == "$pg_fallback" ]]; then
        private_dir "$pg_home"
        return 0
    fi
    if [[ -z $pg_home ]]; then
        mkdir -p "$pg_link"
        pg_home="$pg_link"
    fi
    private_dir "$pg_home"
    if reachable "$pg_home" && ((${#pg_home} + ${#socket} < 100)); then
        return 0
    fi
    # Either the server user cannot reach the checkout (e.g. it lives under /root, mode 0700), or the Unix
    # socket path would pass the kernel's 107-byte limit: keep the cluster in /var/tmp instead.
    if [[ -e $pg_home/data/PG_VERSION ]]; then
        die "the local cluster in $pg_home is no longer usable by $(pg_user) (folder permissions or path length);" \
            "run scripts/stop-local-postgres.sh if it runs, then remove $pg_link"
    fi
    rm -rf "$pg_link"
    private_dir "$pg_fallback"
    ln -s "$pg_fallback" "$pg_link"
    pg_home="$pg_fallback"
    log "$(pg_user) cannot use a folder inside $repo_root (or its socket path would be too long):" \
        "the local cluster lives in $pg_fallback (linked from .local/postgres)"
    reachable "$pg_home" || die "$(pg_user) cannot write to $pg_home"
}

# 1. DATABASE_URL
if [[ -n ${DATABASE_URL:-} ]]; then
    if ! accepts "$DATABASE_URL"; then
        die "DATABASE_URL is set but PostgreSQL refuses it: $check_error"
    fi
    log "using DATABASE_URL from the environment"
    printf '%s\n' "$DATABASE_URL"
    exit 0
fi

# 2. A PostgreSQL on 127.0.0.1:5432
if default_usable; then
    log "using the PostgreSQL on 127.0.0.1:5432"
    printf '%s\n' "$default_url"
    exit 0
fi

# 3. The project-local cluster. One caller at a time (e.g. two `make test` at once).
mkdir -p "$repo_root/.local"
exec 9>"$repo_root/.local/postgres.lock"
flock -w 300 9 || die "timed out waiting for $repo_root/.local/postgres.lock"

bindir=""
home="$(existing_pg_home)"
if [[ -n $home && -e $home/data/PG_VERSION ]]; then
    bindir="$(cluster_bindir "$home/data")"
    if [[ -z $bindir && -n "$(newest_pg_bindir)" ]]; then
        die "the local cluster in $home/data was made by PostgreSQL $(<"$home/data/PG_VERSION")," \
            "whose binaries are gone: install postgresql-$(<"$home/data/PG_VERSION") or remove $pg_link"
    fi
else
    bindir="$(newest_pg_bindir)"
fi
if [[ -z $bindir ]]; then
    install_postgresql
    # Debian's package creates and starts a `main` cluster on 5432; use it if it lets us in.
    if default_usable; then
        log "using the PostgreSQL on 127.0.0.1:5432"
        printf '%s\n' "$default_url"
        exit 0
    fi
    bindir="$(newest_pg_bindir)"
    [[ -n $bindir ]] || die "installed postgresql but found no server binaries in /usr/lib/postgresql/*/bin"
fi
if is_root; then
    getent passwd postgres >/dev/null || die "running as root, and there is no postgres user to run the cluster as"
    command -v runuser >/dev/null || die "running as root, and runuser (util-linux) is missing"
fi

prepare_home
data="$pg_home/data"
[[ $pg_home != *"'"* ]] || die "the cluster folder $pg_home contains a quote; move the checkout"

if [[ ! -e $data/PG_VERSION ]]; then
    log "initialising a PostgreSQL cluster in $data with $bindir/initdb (as $(pg_user))"
    if ! as_pg "$bindir/initdb" -D "$data" --auth=trust -U postgres -E UTF8 --locale=C \
        >"$pg_home/initdb.log" 2>&1 9>&-; then
        cat "$pg_home/initdb.log" >&2
        die "initdb failed"
    fi
fi

port="$local_port"
if as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1 9>&-; then
    port="$(sed -n 4p "$data/postmaster.pid")"
    log "the local cluster is already running on 127.0.0.1:$port"
    if [[ $port != "$local_port" ]]; then
        log "(not on $local_port as asked: run scripts/stop-local-postgres.sh first to move it)"
    fi
else
    log "starting the local cluster on 127.0.0.1:$port (log: $pg_home/logfile)"
    if ! as_pg "$bindir/pg_ctl" -D "$data" -l "$pg_home/logfile" -s -w -t 60 \
        -o "-p $port -k '$pg_home' -c listen_addresses=127.0.0.1" start >&2 9>&-; then
        tail -n 20 "$pg_home/logfile" >&2 || true
        die "the local cluster did not start (is port $port taken? set CHAT_LOCAL_PG_PORT)"
    fi
fi

url="postgres://postgres@127.0.0.1:$port/postgres"
accepts "$url" || die "the local cluster runs but refuses $url: $check_error"
printf '%s\n' "$url"
