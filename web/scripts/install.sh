#!/usr/bin/env bash
# Installs the web UI's npm packages and builds it, doing only what is missing or stale:
#   - npm ci, when node_modules is missing or older than package-lock.json
#   - next build, when there is no build or a source file changed since
# The step `web` of scripts/setup.sh; Chromium (browser tests, record-ui.mjs) is a Debian package,
# installed by `scripts/setup.sh packages chromium`.
set -euo pipefail

web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "[web] $*" >&2; }
cd "$web"

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
else
  say "npm packages up to date"
fi

# The Grafana dashboard is bundled too: the dashboard route reads its queries from it.
sources=(app proxy.ts next.config.ts tsconfig.json package.json package-lock.json ../monitoring/grafana/dashboards)
if [[ ! -f .next/BUILD_ID ]] || [[ -n "$(find "${sources[@]}" -newer .next/BUILD_ID -print -quit)" ]]; then
  say "building the production bundle (next build)"
  npm run build
else
  say "production build up to date"
fi
