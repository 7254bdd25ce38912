#!/usr/bin/env bash
# Stops the project-local PostgreSQL cluster (.local/postgres/, see scripts/database-url.sh) if it runs.
# Its data stays; the next `make run`/`make test` that needs it starts it again. Remove .local/postgres (and
# the /var/tmp folder it may link to) to start from scratch.
set -euo pipefail

# shellcheck source=scripts/lib-postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib-postgres.sh"

home="$(existing_pg_home)"
data="${home:+$home/data}"
if [[ -z $data || ! -e $data/PG_VERSION ]]; then
    log "no local cluster in .local/postgres: nothing to stop"
    exit 0
fi
bindir="$(cluster_bindir "$data")"
[[ -n $bindir ]] || die "no pg_ctl for PostgreSQL $(<"$data/PG_VERSION") in /usr/lib/postgresql"

if as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$bindir/pg_ctl" -D "$data" -m fast -s -w stop >&2
    log "stopped the local cluster in $data"
else
    log "the local cluster in $data is not running"
fi
