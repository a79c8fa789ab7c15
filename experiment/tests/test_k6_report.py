"""k6's own HTML report, as the runner asks for it (k6cmd.dashboard_env): a real k6 run of a few
seconds, paused and let go as the runner does (k6run.py), a base rate with a burst against a tiny
HTTP server on 127.0.0.1; then the export it left, read as data and opened in Chromium.

The browser part runs web/scripts/check-k6-report.mjs (Chromium through the web UI's
playwright-core): it is skipped where the web UI's packages or Chromium are not installed
(`scripts/setup.sh web`, `scripts/setup.sh packages chromium`); scripts/test.sh installs both.
"""

import base64
import gzip
import json
import os
import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from experiment.run import k6cmd, k6run, procs
from experiment.tests.test_k6_shape import K6

pytestmark = pytest.mark.skipif(K6 is None, reason="no k6 (scripts/install-k6.sh installs it)")

ROOT = Path(__file__).resolve().parents[2]
CHECK_REPORT = ROOT / "web" / "scripts" / "check-k6-report.mjs"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

BASE_RPS, BURST_RPS = 4, 30
# 3 s at the base rate, a 2 s burst, 2 s at the base rate again: ~90 requests in 7 s.
SCRIPT = f"""
import http from 'k6/http';
export const options = {{
  scenarios: {{ load: {{
    executor: 'ramping-arrival-rate', startRate: {BASE_RPS}, timeUnit: '1s', preAllocatedVUs: 10,
    stages: [
      {{ target: {BASE_RPS}, duration: '3s' }}, {{ target: {BURST_RPS}, duration: '0s' }},
      {{ target: {BURST_RPS}, duration: '2s' }}, {{ target: {BASE_RPS}, duration: '0s' }},
      {{ target: {BASE_RPS}, duration: '2s' }},
    ],
  }} }},
}};
export default function () {{ http.get(__ENV.BASE_URL); }}
"""


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> tuple[Path, Path]:
    """k6's HTML report of the burst, and k6's terminal log."""
    folder = tmp_path_factory.mktemp("k6-report")
    script = folder / "burst.js"
    script.write_text(SCRIPT)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    report, log = folder / "k6-report.html", folder / "k6.log"
    api = f"127.0.0.1:{procs.free_port()}"
    env = {"PATH": os.environ.get("PATH", ""), "K6_NO_USAGE_REPORT": "true",
           "BASE_URL": f"http://127.0.0.1:{server.server_address[1]}/"} | k6cmd.dashboard_env(report)
    launch = k6run.K6Launch([K6, "run", *k6cmd.api_args(api), str(script)], env, folder / "k6.cast", log, "k6", api)
    try:
        (outcome,) = k6run.run_k6([launch], timeout=60)
    finally:
        server.shutdown()
    assert outcome.exit_code == 0, log.read_text()
    return report, log


def events(report: Path) -> list[dict]:
    """The events k6 embeds in its report (gzipped, base64, one JSON object a line)."""
    found = re.search(r'<script id="data" type="application/json; charset=utf-8; gzip; base64">(.*?)</script>',
                      report.read_text(), re.S)
    assert found, "no embedded data in the report"
    return [json.loads(line) for line in gzip.decompress(base64.b64decode(found.group(1))).decode().splitlines()]


def per_period(report: Path, metric: str, aggregate: str) -> list[float]:
    """One metric's aggregate in every period of the report (its snapshots hold every metric's
    aggregates, metrics in the order of their names)."""
    all_events = events(report)
    types = {name: m["type"] for e in all_events if e["event"] == "metric" for name, m in e["data"].items()}
    param = next(e["data"] for e in all_events if e["event"] == "param")
    column = param["aggregates"][types[metric]].index(aggregate)
    row = sorted(types).index(metric)
    return [e["data"][row][column] for e in all_events if e["event"] == "snapshot" and e["data"][row]]


def test_k6_writes_its_report_without_opening_a_port(export):
    report, log = export
    assert report.stat().st_size > 0
    banner = next(line for line in log.read_text().splitlines() if "web dashboard:" in line)
    assert "http" not in banner  # with a web server it would name its address (port 5665 by default)


def test_the_report_is_one_file_that_loads_nothing_else(export):
    page = export[0].read_text()
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', page)


def test_the_report_aggregates_per_second_so_the_burst_shows(export):
    report = export[0]
    param = next(e["data"] for e in events(report) if e["event"] == "param")
    assert param["period"] == 1000  # ms: results.DASHBOARD_PERIOD
    rates = per_period(report, "http_reqs", "rate")
    assert len(rates) >= 6, rates
    assert max(rates) >= BURST_RPS * 0.6 and min(rates) <= BASE_RPS * 1.5, rates


@pytest.mark.skipif(not (shutil.which("node") and (ROOT / "web/node_modules/playwright-core").is_dir()
                         and Path(CHROMIUM).exists()),
                    reason="no node, web/node_modules or Chromium (scripts/setup.sh web; packages chromium)")
def test_the_report_opens_offline_in_chromium_and_draws_its_charts(export, tmp_path):
    report = export[0]
    result = subprocess.run(["node", str(CHECK_REPORT), "--screenshots", str(tmp_path), str(report)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = result.stdout.splitlines()
    checked = json.loads(line)
    assert {"HTTP Performance overview", "Request Rate"} <= set(checked["charts"]) and not checked["blocked"]
    assert Path(checked["screenshot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
