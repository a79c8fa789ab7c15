"""check_dashboard.py against the real dashboard JSON and a stand-in Prometheus.

Run: /work/main/.lab/venv/bin/python -m pytest -q monitoring
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import check_dashboard as cd
import pytest

#: What the stand-in answers per metric name found in a query: a list of series' values.
SERIES = {
    "present_total": [["1", "2"]],
    "only_nan": [["NaN", "NaN"]],
}


class StandIn(BaseHTTPRequestHandler):
    asked: ClassVar[list[str]] = []

    def log_message(self, *args):  # keep pytest's output clean
        pass

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._answer(200, {"status": "success", "data": {"version": "stand-in"}})

    def do_POST(self):
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        query = form["query"][0]
        StandIn.asked.append(query)
        if "syntax(" in query:
            self._answer(400, {"status": "error", "errorType": "bad_data", "error": "parse error at char 7"})
            return
        result = [
            {"metric": {}, "values": [[1.0 + i, v] for i, v in enumerate(values)]}
            for name, series in SERIES.items()
            if name in query
            for values in series
        ]
        self._answer(200, {"status": "success", "data": {"resultType": "matrix", "result": result}})


@pytest.fixture
def prometheus() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    StandIn.asked = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def panel(title: str, source: str | None, *exprs: str) -> dict:
    return {
        "type": "timeseries",
        "title": title,
        "description": f"Source: {source}. What it shows." if source else "What it shows.",
        "targets": [{"refId": chr(ord("A") + i), "expr": e} for i, e in enumerate(exprs)],
    }


def write_dashboard(tmp_path: Path, *panels: dict) -> Path:
    path = tmp_path / "dashboard.json"
    variables = [
        {"type": "datasource", "name": "datasource"},
        {"type": "query", "name": "instance", "includeAll": True, "allValue": ".*"},
    ]
    path.write_text(json.dumps({"panels": list(panels), "templating": {"list": variables}}))
    return path


WINDOW = cd.Window(start=1000.0, end=1300.0, step=1.0, scrape_interval=1.0)


def test_the_lab_dashboard_declares_a_known_source_for_every_panel_and_unique_ref_ids():
    dashboard = cd.load_dashboard(cd.DASHBOARD)
    assert dashboard.panels
    assert [p.title for p in dashboard.panels if p.source is None] == []
    ref_ids = [t.ref_id for p in dashboard.panels for t in p.targets]
    assert len(ref_ids) == len(set(ref_ids)), "the web UI picks queries by refId"
    assert {v.name for v in dashboard.variables} == {"instance", "testid"}


def test_every_query_of_the_lab_dashboard_has_all_its_variables_filled_in():
    dashboard = cd.load_dashboard(cd.DASHBOARD)
    values = cd.variable_values(dashboard, {}, WINDOW)
    for p in dashboard.panels:
        for t in p.targets:
            assert "$" not in cd.substitute(t.expr, values), (p.title, t.ref_id)


def test_rate_interval_is_four_scrapes_until_the_step_is_wider():
    assert cd.Window(0, 300, step=1, scrape_interval=1).rate_interval == 4
    assert cd.Window(0, 86400, step=60, scrape_interval=1).rate_interval == 61
    values = cd.variable_values(cd.Dashboard((), ()), {}, cd.Window(0, 600, step=2, scrape_interval=1))
    assert values["__rate_interval"] == "4s"
    assert values["__interval"] == "2s"
    assert values["__range"] == "600s"


def test_a_chosen_value_is_regex_escaped_like_grafana_does_for_an_all_variable():
    dashboard = cd.Dashboard((), (cd.Variable("instance", escaped=True), cd.Variable("plain", escaped=False)))
    values = cd.variable_values(dashboard, {"instance": "127.0.0.1:9090", "plain": "a.b"}, WINDOW)
    assert values["instance"] == r"127\\.0\\.0\\.1:9090"
    assert values["plain"] == "a.b"
    assert cd.variable_values(dashboard, {}, WINDOW)["instance"] == ".*"


def test_a_variable_the_dashboard_does_not_have_is_refused():
    with pytest.raises(cd.DashboardError, match="no variable nope"):
        cd.variable_values(cd.Dashboard((), ()), {"nope": "x"}, WINDOW)


def test_substitute_fills_every_grafana_spelling_and_refuses_unknown_variables():
    values = {"instance": "i", "__rate_interval": "4s"}
    assert cd.substitute('x{a=~"$instance",b=~"${instance}",c="[[instance]]"}[${__rate_interval:raw}]', values) == (
        'x{a=~"i",b=~"i",c="i"}[4s]'
    )
    with pytest.raises(cd.DashboardError, match=r"\$testid"):
        cd.substitute('x{t=~"$testid"}', values)


def test_a_panel_whose_query_returns_nothing_is_named_and_fails_the_check(prometheus, tmp_path):
    path = write_dashboard(
        tmp_path,
        panel("Good", "todo-service", 'rate(present_total{instance=~"$instance"}[$__rate_interval])'),
        panel("Misspelt", "todo-service", "rate(absent_total[$__rate_interval])"),
        panel("Empty quantile", "todo-service", "only_nan"),
    )
    outcomes = cd.check(cd.load_dashboard(path), prometheus, WINDOW, {}, set(cd.SOURCES))
    assert [(o.panel.title, o.status, o.detail) for o in outcomes] == [
        ("Good", "ok", ""),
        ("Misspelt", "no data", "no series"),
        ("Empty quantile", "no data", "only NaN points"),
    ]
    assert StandIn.asked[0] == 'rate(present_total{instance=~".*"}[4s])'
    text, passed = cd.report(outcomes)
    assert not passed
    assert "FAILED: 2 panel(s) without data or with a failing query: Misspelt; Empty quantile" in text


def test_panels_of_an_absent_source_are_listed_as_needing_it_not_queried(prometheus, tmp_path):
    path = write_dashboard(
        tmp_path,
        panel("Service", "todo-service", "present_total"),
        panel("k6 latency", "k6", "k6_http_req_duration_seconds"),
    )
    outcomes = cd.check(cd.load_dashboard(path), prometheus, WINDOW, {}, {"todo-service"})
    assert [(o.panel.title, o.status) for o in outcomes] == [("Service", "ok"), ("k6 latency", "needs source")]
    assert StandIn.asked == ["present_total"]
    text, passed = cd.report(outcomes)
    assert passed
    assert "NEEDS SOURCE  k6 latency [A]: not checked, k6 is not among --sources" in text
    assert "1 of 1 checked queries returned data; 1 not checked, needing k6" in text


def test_a_panel_without_a_declared_source_and_a_refused_query_are_errors(prometheus, tmp_path):
    path = write_dashboard(
        tmp_path,
        panel("Anonymous", None, "present_total"),
        panel("Broken", "postgres", "syntax(("),
    )
    outcomes = cd.check(cd.load_dashboard(path), prometheus, WINDOW, {}, set(cd.SOURCES))
    assert [(o.panel.title, o.status) for o in outcomes] == [("Anonymous", "error"), ("Broken", "error")]
    assert "Source: <todo-service|postgres|latency-proxy|k6>." in outcomes[0].detail
    assert outcomes[1].detail == "parse error at char 7"


def test_main_exits_1_naming_the_panel_and_0_when_all_have_data(prometheus, tmp_path, capsys):
    bad = write_dashboard(tmp_path, panel("Misspelt", "todo-service", "absent_total"))
    assert cd.main(["--prometheus", prometheus, "--dashboard", str(bad), "--start", "1000", "--end", "1300"]) == 1
    assert "NO DATA       Misspelt [A]: no series" in capsys.readouterr().out
    good = write_dashboard(tmp_path, panel("Good", "todo-service", "present_total"))
    assert cd.main(["--prometheus", prometheus, "--dashboard", str(good), "--last", "5m"]) == 0


def test_main_exits_2_when_prometheus_does_not_answer(capsys):
    assert cd.main(["--prometheus", "http://127.0.0.1:1", "--last", "5m"]) == 2
    assert "Prometheus does not answer" in capsys.readouterr().err


def test_times_are_unix_seconds_or_iso_8601_with_an_offset():
    assert cd.parse_time("1700000000") == 1700000000
    assert cd.parse_time("2023-11-14T22:13:20Z") == 1700000000
    with pytest.raises(Exception, match="no UTC offset"):
        cd.parse_time("2023-11-14T22:13:20")
    assert cd.parse_duration("10m") == 600
