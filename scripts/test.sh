#!/usr/bin/env bash
# Runs every test of the lab, after the same idempotent set-up the experiment uses:
#   1. the Rust service and latency proxy: rustfmt, clippy and ruff (the Python) as gates, then
#      unit tests, black-box tests on the real Postgres (and on a second one that the
#      database-loss test restarts), and a schemathesis fuzz run against the OpenAPI document;
#   2. the web UI: the TypeScript type check, unit tests (metrics parsing, windowed quantiles) and
#      browser tests in Chromium;
#   3. the k6 profile's stage arithmetic; the experiment: unit tests, then the quick profile end to
#      end through the whole pipeline.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${LAB_VENV:-$root/.lab/venv}"
say() { echo; echo "[test] $*" >&2; }

say "set-up (scripts/setup.sh)"
scripts/setup.sh

say "1/3 Rust: rustfmt and clippy (warnings are errors), then cargo test --workspace"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
say "1/3 Python: ruff check (settings in pyproject.toml)"
"$venv/bin/ruff" check --quiet --no-cache .
if [[ -n "${DATABASE_URL:-}" && -z "${TEST_ADMIN_DATABASE_URL:-}" ]]; then
  echo "[test] set TEST_ADMIN_DATABASE_URL (a URL with rights to create databases) to test against DATABASE_URL's server" >&2
  exit 2
fi
export TEST_ADMIN_DATABASE_URL="${TEST_ADMIN_DATABASE_URL:-$(scripts/pg.sh url)}"
# The database-loss test restarts a Postgres of its own (.lab/pg-restartable, started and stopped
# by the test itself), ten ports above the lab's (the one right above is the latency proxy's default).
# What a finished run leaves running: the lab's Postgres, Prometheus and exporter (scripts/stop.sh).
export TEST_RESTARTABLE_PG_PORT="${TEST_RESTARTABLE_PG_PORT:-$((${LAB_PG_PORT:-54329} + 10))}"
# Each test makes a database test_<random>; the previous run's are dropped here, not after a
# run, so a failing run's data stays around to look at.
psql -qAt "$TEST_ADMIN_DATABASE_URL" -c "SELECT datname FROM pg_database WHERE datname LIKE 'test\_%'" |
  while read -r db; do psql -q "$TEST_ADMIN_DATABASE_URL" -c "DROP DATABASE \"$db\""; done
cargo test --workspace

say "1/3 Rust: schemathesis fuzzes the release service against its OpenAPI document (tests/fuzz/run.sh)"
tests/fuzz/run.sh

say "2/3 web UI: unit and browser tests"
web/scripts/test.sh

say "3/3 load and experiment: k6 profile arithmetic, unit tests, the quick profile end to end"
"$(scripts/setup.sh k6)" run --quiet --address "" load/test-profile.js
experiment/test.sh

say "all tests passed"
