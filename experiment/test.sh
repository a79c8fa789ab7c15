#!/usr/bin/env bash
# The experiment's checks: unit tests, then (unless --unit) the quick profile end to end twice,
# on one host and on two (a network namespace for the system under test, the load split over two
# k6 processes), each checked, and a short sweep (two steps, one regime), checked. It never asserts
# the size of the effect, nor the verdicts: that is a benchmark result.
#
#   experiment/test.sh [--unit] [--no-record]
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
unit_only=false
record_args=()
for arg in "$@"; do
  case "$arg" in
    --unit) unit_only=true ;;
    --no-record) record_args=(--no-record) ;;
    *) echo "usage: $0 [--unit] [--no-record]" >&2; exit 2 ;;
  esac
done

venv="${LAB_VENV:-$root/.lab/venv}"
scripts/setup.sh python

echo "[experiment/test.sh] unit tests (the runner)"
"$venv/bin/python" -m pytest -q experiment/tests
echo "[experiment/test.sh] unit tests (monitoring/: the dashboard checker, and the query filling and Prometheus client it shares with the web UI)"
node --test monitoring/

# The quick profile end to end into a temporary folder, then the checks of its results: the
# report, charts and summary.json have data for every arm, verdicts.xml is valid JUnit XML with
# every verdict, each k6 process's HTML report opens offline in Chromium and draws its charts, and
# every panel of the Grafana dashboard (the live dashboard's queries too) has data for each arm's
# run in the lab's Prometheus that watched it. Extra arguments go to scripts/experiment.sh and
# check_results.
#
# It runs with --check, as a pipeline gating on the lab would, but does not gate on the verdict:
# the quick profile is a pipeline test, not a measurement (seconds of bursts on a small shared
# machine), so its expected signs and trust checks may fail for reasons that say nothing of the
# code. --check's own codes for those (3 and 4, cli.py) pass here; any other code fails.
quick_profile() { # title experiment-args... -- check-args...
  local title="$1" out run_args=() check_args=() code=0
  shift
  while (($#)) && [[ "$1" != -- ]]; do run_args+=("$1"); shift; done
  (($#)) && shift
  check_args=("$@")
  out="$(mktemp -d /tmp/lab-experiment.XXXXXX)"
  echo "[experiment/test.sh] quick profile end to end, $title, into $out"
  # --force: the quick profile tests the pipeline, not the machine. When the CPU budget finds no
  # delay that fits (a busy CI machine), the acts run anyway and the report says so.
  scripts/experiment.sh --profile quick --check --force --out "$out" "${record_args[@]}" "${run_args[@]}" || code=$?
  if [[ " 0 $verdict_codes " != *" $code "* ]]; then
    echo "[experiment/test.sh] the experiment exited with $code ($title)" >&2
    exit 1
  fi
  echo "[experiment/test.sh] --check exited $code: a verdict code (0 $verdict_codes) is all a pipeline test asks"
  echo "[experiment/test.sh] checking the results ($title)"
  expect=()
  ((${#record_args[@]})) || expect=(--expect-recording)
  "$venv/bin/python" -m experiment.check_results "$out" --junit-schema "$junit_schema" "${expect[@]}" \
    "${check_args[@]}"
  echo "[experiment/test.sh] k6's HTML reports, opened offline in Chromium ($title)"
  node web/scripts/check-k6-report.mjs --screenshots "$out/k6-report-screenshots" "$out"/arms/*/rep-*/k6*-report.html
  prometheus="$(scripts/prometheus.sh url)"
  runs="$("$venv/bin/python" -c '
import sys
from pathlib import Path
from experiment.model.results import RunRecord
for path in sorted(Path(sys.argv[1]).glob("arms/*/rep-1/run.json")):
    r = RunRecord.load(path)
    print(r.k6_started, r.k6_ended, r.metrics_url.removeprefix("http://"), r.prometheus_testid)' "$out")"
  [[ -n "$runs" ]] || { echo "[experiment/test.sh] no runs in $out" >&2; exit 1; }
  while read -r start end instance testid; do
    echo "[experiment/test.sh] the Grafana dashboard's queries over $testid"
    node monitoring/check-dashboard.mjs --prometheus "$prometheus" --start "$start" --end "$end" \
      --var "instance=$instance" --var "testid=$testid"
  done <<<"$runs"
}

# A short sweep (sweep.py): the sweep-quick profile's two steps, the database-with-room regime
# only, --force as above (a pipeline test: a step over the CPU budget runs anyway, drawn hollow).
short_sweep() {
  local out
  out="$(mktemp -d /tmp/lab-sweep.XXXXXX)"
  echo "[experiment/test.sh] a short sweep end to end (two steps, one regime), into $out"
  scripts/experiment.sh --sweep --profile sweep-quick --regimes room --force --no-record --out "$out"
  echo "[experiment/test.sh] checking the sweep's results"
  "$venv/bin/python" -m experiment.check_results "$out" --sweep --regimes room
}

if ! $unit_only; then
  # What the checks of the results need: the JUnit schema (tests/junit_schema.py) and, for k6's
  # HTML reports, Chromium and the web UI's packages (its playwright-core).
  junit_schema="$("$venv/bin/python" -m experiment.tests.junit_schema)"
  verdict_codes="$("$venv/bin/python" -c 'from experiment.run.cli import EXIT_SIGN_FAILED as s, EXIT_UNTRUSTED as u; print(s, u)')"
  scripts/setup.sh packages chromium
  scripts/setup.sh web
  quick_profile "one host"
  # The two roles on two hosts: the system under test in a network namespace of its own, the
  # load from 2 k6 processes on this side of the veth (scripts/netns.sh, made and removed by
  # scripts/experiment.sh).
  quick_profile "two hosts (netns), 2 k6 processes" --hosts netns -- --expect-hosts netns --expect-k6-processes 2
  short_sweep
fi
