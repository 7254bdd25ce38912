#!/usr/bin/env bash
# Installs, from Debian, what the Rust build needs beyond Rust itself, when it is missing:
#   libpq-dev   diesel links libpq (pq-sys emits -lpq; without it only the final link fails)
#   pkg-config  how pq-sys finds libpq
#   gcc         the linker driver cargo calls (cc)
#   python3     runs scripts/module-cycles.py in make lint, and the docs' Python examples
#   nodejs ruby run the docs' Node and Ruby examples (JWT minting, webhook signatures) in make test
# Quiet and fast when everything is present.
set -euo pipefail

have_libpq() {
    local lib
    if command -v pkg-config >/dev/null && pkg-config --exists libpq 2>/dev/null; then
        return 0
    fi
    # pq-sys also honours PQ_LIB_DIR, and finds libpq through pg_config.
    if [[ -n ${PQ_LIB_DIR:-} && -e $PQ_LIB_DIR/libpq.so ]]; then
        return 0
    fi
    for lib in /usr/lib/*/libpq.so /usr/lib/libpq.so /usr/local/lib/libpq.so /usr/local/pgsql/lib/libpq.so; do
        if [[ -e $lib ]]; then
            return 0
        fi
    done
    return 1
}

missing=()
have_libpq || missing+=(libpq-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v cc >/dev/null || missing+=(gcc libc6-dev)
# scripts/module-cycles.py (make lint)
command -v python3 >/dev/null || missing+=(python3)
# tests/tests/api/docs_examples.rs and docs_webhooks.rs (make test)
command -v node >/dev/null || missing+=(nodejs)
command -v ruby >/dev/null || missing+=(ruby)

if ((${#missing[@]} == 0)); then
    exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null; then
        echo "ensure-build-deps: missing ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
        exit 1
    fi
    sudo=(sudo)
fi
command -v apt-get >/dev/null || {
    echo "ensure-build-deps: missing ${missing[*]} and apt-get is not available; install them by hand" >&2
    exit 1
}
echo "ensure-build-deps: installing ${missing[*]} (apt-get)..." >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
