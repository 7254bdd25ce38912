# shellcheck shell=bash
# Shared by the scripts that start a chatd of their own on a fresh database
# (scripts/fuzz.sh, scripts/browser-test.sh); sourced, not run.

# The URL of database $2 on the server of $1 (a postgres:// URL naming any database of
# it, its query string kept).
database_url_beside() {
    local admin_url=$1 database=$2 base query=""
    base="${admin_url%%\?*}"
    [[ $admin_url != *\?* ]] || query="?${admin_url#*\?}"
    if [[ $base =~ ^[a-z]+://[^/]*$ ]]; then
        echo "$base/$database$query"
    else
        echo "${base%/*}/$database$query"
    fi
}

# Stops process $1 (a child of this shell): SIGTERM, up to 10 s to finish, then SIGKILL.
stop_process() {
    local pid=$1 waited=0
    kill -TERM "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null && ((waited < 100)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
