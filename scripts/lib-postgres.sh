# shellcheck shell=bash
# Shared by scripts/database-url.sh and scripts/stop-local-postgres.sh; sourced, not run.
#
# The project-local PostgreSQL cluster lives in .local/postgres/ (ignored by git):
#   .local/postgres/data      the cluster (initdb)
#   .local/postgres/logfile   server log (pg_ctl -l)
#   .local/postgres/.s.PGSQL.<port>  its Unix socket (-k)
# When the server user cannot reach the checkout (a postgres-owned folder under /root, which is 0700), or the
# socket path would be too long, .local/postgres is a symlink to /var/tmp/chat-rooms-pg-<hash of repo path>.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
pg_link="$repo_root/.local/postgres"

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# The user that owns and runs the local cluster: postgres when we are root (initdb refuses root), else us.
pg_user() {
    if is_root; then echo postgres; else id -un; fi
}

# Run a command as the cluster's user, from a directory that user can enter.
as_pg() {
    if is_root; then
        (cd / && exec runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or nothing.
newest_pg_bindir() {
    local dir
    # Versions sort numerically (9.6 < 10 < 15 < 16).
    while read -r dir; do
        if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
            echo "$dir"
            return 0
        fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
    return 0
}

# Bin dir for an existing cluster (the major version it was made with), or nothing.
cluster_bindir() {
    local data=$1 version
    [[ -r $data/PG_VERSION ]] || return 0
    version="$(<"$data/PG_VERSION")"
    if [[ -x /usr/lib/postgresql/$version/bin/pg_ctl ]]; then
        echo "/usr/lib/postgresql/$version/bin"
    fi
}

# The real folder behind .local/postgres if it exists yet, else nothing.
existing_pg_home() {
    if [[ -L $pg_link ]]; then
        readlink -f "$pg_link"
    elif [[ -d $pg_link ]]; then
        echo "$pg_link"
    fi
}
