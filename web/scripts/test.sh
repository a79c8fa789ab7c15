#!/usr/bin/env bash
# Runs the web UI's type check and unit tests, then its browser tests against the real lab
# (the harness registers the service it starts with the lab's Prometheus).
# The caller builds the service first (cargo build --release -p todo-service);
# TODO_SERVICE_BIN points elsewhere (relative paths are from the repo root).
set -euo pipefail

web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$web/.." && pwd)"
say() { echo "[web] $*" >&2; }

bin="${TODO_SERVICE_BIN:-target/release/todo-service}"
[[ "$bin" == /* ]] || bin="$repo/$bin"
if [[ ! -x "$bin" ]]; then
  say "no todo-service binary at $bin: run 'cargo build --release -p todo-service' first (or set TODO_SERVICE_BIN)"
  exit 1
fi

"$repo/scripts/setup.sh" packages chromium
"$repo/scripts/setup.sh" web
# The dashboard reads the service through Prometheus (LAB_PROM_* pick another instance).
"$repo/scripts/setup.sh" prometheus
cd "$web"
say "type check (tsc --noEmit)"
npm run --silent typecheck
say "unit tests"
npm run --silent test:unit
say "browser tests (service: $bin)"
TODO_SERVICE_BIN="$bin" npm run --silent test:e2e
