# chat-rooms: `make run` starts the server, `make test` runs every test. `make help` lists the rest.
#
# Both find a database with scripts/database-url.sh: $DATABASE_URL, else a PostgreSQL on 127.0.0.1:5432,
# else a project-local cluster in .local/postgres/ (installing Debian's postgresql package if needed).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
# Each recipe runs in one shell, so exported variables carry from line to line.
.ONESHELL:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

.PHONY: help run demo test fuzz deps build lint fmt db-url db-stop bench

help: ## List the targets
	@echo "Usage: make <target>"
	echo
	grep -E '^[a-z][a-z-]*:.*## ' $(firstword $(MAKEFILE_LIST)) \
		| awk 'BEGIN { FS = ":.*## " } { printf "  %-9s %s\n", $$1, $$2 }'

run: deps ## Build chatd (release) and serve on $CHAT_BIND (127.0.0.1:8000)
	@cargo build --release -p chatd
	# $DATABASE_URL, else a `chat` database of its own on the server database-url.sh finds.
	DATABASE_URL="$$(scripts/app-database-url.sh)"
	export DATABASE_URL
	export CHAT_BIND="$${CHAT_BIND:-127.0.0.1:8000}"
	export CHAT_STORAGE_DIR="$${CHAT_STORAGE_DIR:-.local/storage}"
	mkdir -p "$$CHAT_STORAGE_DIR"
	# The address to curl: a wildcard bind is reached through loopback.
	url_host="$$CHAT_BIND"
	case "$$url_host" in
		0.0.0.0:*) url_host="127.0.0.1:$${url_host#0.0.0.0:}" ;;
		"[::]":*) url_host="[::1]:$${url_host#\[::\]:}" ;;
	esac
	# The key that clients' JWT signing secrets derive from: made once, kept (mode 600) and
	# reused, so that signing secrets survive a restart. Never printed.
	if [[ -z "$${CHAT_SECRET_KEY:-}" ]]; then
		if [[ ! -s .local/secret-key ]]; then
			mkdir -p .local
			(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > .local/secret-key)
			echo "Made a server secret key in .local/secret-key (CHAT_SECRET_KEY; keep it, the same on every node)"
		fi
		CHAT_SECRET_KEY="$$(cat .local/secret-key)"
		export CHAT_SECRET_KEY
	fi
	if [[ -z "$${CHAT_PLATFORM_TOKEN:-}" ]]; then
		CHAT_PLATFORM_TOKEN="$$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
		export CHAT_PLATFORM_TOKEN
		echo "CHAT_PLATFORM_TOKEN was not set; this run's platform token is:"
		echo
		echo "  $$CHAT_PLATFORM_TOKEN"
		echo
		token="$$CHAT_PLATFORM_TOKEN"
	else
		token='$$CHAT_PLATFORM_TOKEN'
	fi
	echo "Create an account (its api_key is shown once):"
	echo
	echo "  curl -s -X POST http://$$url_host/platform/api/v1/accounts -H \"Authorization: Bearer $$token\" -H 'Content-Type: application/json' -d '{\"name\":\"Acme\"}'"
	echo
	echo "The web client: http://$$url_host/app/ (make demo prints sign-in links)"
	echo "chatd serving on http://$$url_host (Ctrl-C stops it)"
	exec "$${CARGO_TARGET_DIR:-target}/release/chatd" serve

demo: deps ## With `make run` serving: seed a demo account and print one web-client sign-in link per person
	@cargo build --release -p chatd
	DATABASE_URL="$$(scripts/app-database-url.sh)"
	export DATABASE_URL
	# The links point at $CHAT_BIND (127.0.0.1:8000), where `make run` serves.
	exec "$${CARGO_TARGET_DIR:-target}/release/chatd" demo

test: deps ## Run every test (nextest, doc tests, a 60 s schemathesis pass, the web client in headless Chromium)
	@DATABASE_URL="$$(scripts/database-url.sh)"
	export DATABASE_URL
	# NATS and Redis for the many-node tests: the usual ports, else project-local servers.
	CHAT_TEST_NATS_URL="$$(scripts/service-url.sh nats)"
	CHAT_TEST_REDIS_URL="$$(scripts/service-url.sh redis)"
	export CHAT_TEST_NATS_URL CHAT_TEST_REDIS_URL
	export RUST_BACKTRACE=1
	status=0
	if cargo nextest --version >/dev/null 2>&1; then
		cargo nextest run --workspace --no-fail-fast || status=$$?
		cargo test --workspace --doc || status=$$?
	else
		echo "cargo-nextest not found: using cargo test" >&2
		cargo test --workspace --no-fail-fast || status=$$?
	fi
	# A short schema-driven pass over the HTTP API (docs/fuzzing.md); `make fuzz` is the long one.
	FUZZ_ADMIN_URL="$$DATABASE_URL" scripts/fuzz.sh --max-time "$${FUZZ_TEST_SECONDS:-60}" || status=$$?
	# The web client in headless Chromium (tests/browser/; Chromium and the npm packages
	# are installed when missing).
	scripts/browser-test.sh || status=$$?
	exit $$status

fuzz: deps ## Fuzz the HTTP API with schemathesis for $FUZZ_SECONDS (600) against a fresh database
	@scripts/fuzz.sh --max-time "$${FUZZ_SECONDS:-600}"

deps: ## Install missing build and test dependencies (libpq-dev, pkg-config, gcc, python3, nodejs, ruby) from Debian
	@scripts/ensure-build-deps.sh

build: deps ## Build the workspace (debug)
	@cargo build --workspace

lint: deps ## Check formatting, import cycles, clippy and the API docs (warnings are errors)
	@cargo fmt --all -- --check
	python3 scripts/module-cycles.py
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps

fmt: ## Format the code
	@cargo fmt --all

db-url: ## Print the DATABASE_URL that run and test would use (starting a local cluster if needed)
	@scripts/database-url.sh

db-stop: ## Stop the project-local PostgreSQL cluster, NATS and Redis servers, if they run
	@scripts/stop-local-postgres.sh
	scripts/stop-local-services.sh

bench: deps ## Benchmark against the machine's limits into docs/benchmarks/ (BENCH_QUICK=1: short)
	@# A fresh `chat_bench` database on the server that run and test would use.
	BENCH_ADMIN_URL="$$(scripts/database-url.sh)"
	export BENCH_ADMIN_URL
	scripts/bench.sh
