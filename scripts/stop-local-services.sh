#!/usr/bin/env bash
# Stops the project-local NATS and Redis servers that scripts/service-url.sh started, if they run.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
for service in nats redis; do
    pidfile="$repo_root/.local/$service/server.pid"
    if [[ -s $pidfile ]] && kill "$(<"$pidfile")" 2>/dev/null; then
        echo "stopped the local $service server"
    fi
done
