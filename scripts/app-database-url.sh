#!/usr/bin/env bash
# Prints the DATABASE_URL that `make run` and `make demo` use: $DATABASE_URL when set, else
# a `chat` database (created when missing) on the server scripts/database-url.sh finds or
# starts, so that the product's tables live in a database of their own.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${DATABASE_URL:-}" ]]; then
	scripts/database-url.sh
	exit 0
fi
server_url="$(scripts/database-url.sh)"
if ! command -v psql >/dev/null; then
	echo "$server_url"
	exit 0
fi
if ! psql -X -w -Atq -d "$server_url" -c "select 1 from pg_database where datname = 'chat'" | grep -q 1; then
	psql -X -w -q -d "$server_url" -c 'CREATE DATABASE chat' >&2
fi
echo "${server_url%/postgres}/chat"
