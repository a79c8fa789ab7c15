"""Runs every query of the lab's Grafana dashboard against a Prometheus and fails naming each panel
that shows no data, so a renamed metric or a broken query is caught by a test, not by a person
staring at an empty chart.

    python monitoring/check_dashboard.py --prometheus http://127.0.0.1:59090 --last 10m
    python monitoring/check_dashboard.py --start 2026-11-28T11:50:00Z --end 2026-11-28T12:00:00Z \\
        --sources todo-service,postgres --var instance=127.0.0.1:46213

Each panel's queries are asked with query_range over the time range, the variables filled in the
way Grafana fills them: `$__rate_interval` is max(step + scrape interval, 4 x scrape interval),
`$__interval` the step, `$__range` the range; a template variable is its "All" value (`.*`) unless
`--var NAME=VALUE` picks one value, which is then regex-escaped as Grafana escapes a value of a
multi-value or "include All" variable.

Every panel names where its data comes from in the first words of its description,
`Source: <source>.`, one of SOURCES. Panels whose source is not among `--sources` (by default all)
are not queried but listed as needing that source, so a check without k6 or the latency proxy says
so instead of skipping silently. A panel that declares no known source is an error.

Exit status: 0 when every checked query returned data, 1 when one returned none or failed, 2 for
bad arguments, a dashboard that cannot be read or a Prometheus that does not answer. Standard
library only.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parent / "grafana" / "dashboards" / "todo-lab.json"

#: Where a panel's data can come from: the scrape jobs of monitoring/prometheus.yml, and k6, which
#: pushes its samples through the remote-write receiver instead of being scraped.
SOURCES = ("todo-service", "postgres", "latency-proxy", "k6")

#: A template variable's value when none is given: what Grafana's "All" sends with allValue ".*".
ALL = ".*"

#: Most points per series asked for; Grafana asks about one per pixel of a panel's width.
MAX_POINTS = 500

_SOURCE = re.compile(r"^Source: ([\w-]+)\.")
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::\w+)?\}|(\w+))|\[\[(\w+)\]\]")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


class DashboardError(Exception):
    """The dashboard JSON or a panel in it is not what this checker can run."""


@dataclass(frozen=True)
class Target:
    ref_id: str
    expr: str


@dataclass(frozen=True)
class Panel:
    title: str
    #: One of SOURCES, or None when the description declares none (an error in the dashboard).
    source: str | None
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Variable:
    name: str
    #: Whether Grafana regex-escapes a chosen value (multi-value and "include All" variables).
    escaped: bool


@dataclass(frozen=True)
class Dashboard:
    panels: tuple[Panel, ...]
    variables: tuple[Variable, ...]


@dataclass(frozen=True)
class Window:
    """The time range and resolution of the check, as Grafana would ask for a panel."""

    start: float
    end: float
    step: float
    scrape_interval: float

    @property
    def rate_interval(self) -> float:
        return max(self.step + self.scrape_interval, 4 * self.scrape_interval)


@dataclass(frozen=True)
class Outcome:
    """What one target of one panel gave: data, none, an error, or not checked for want of a source."""

    panel: Panel
    target: Target
    status: str  # "ok", "no data", "error", "needs source"
    detail: str = ""


def _panels(raw: Sequence[dict]) -> Iterator[dict]:
    for panel in raw:
        if panel.get("targets"):
            yield panel
        # Collapsed rows keep their panels inside them.
        yield from _panels(panel.get("panels") or [])


def load_dashboard(path: Path) -> Dashboard:
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DashboardError(f"cannot read {path}: {err}") from err
    panels = []
    for panel in _panels(raw.get("panels") or []):
        match = _SOURCE.match(panel.get("description") or "")
        source = match.group(1) if match and match.group(1) in SOURCES else None
        targets = tuple(Target(t["refId"], t["expr"]) for t in panel["targets"] if t.get("expr"))
        panels.append(Panel(panel.get("title") or f"panel {panel.get('id')}", source, targets))
    variables = tuple(
        Variable(v["name"], bool(v.get("multi") or v.get("includeAll")))
        for v in (raw.get("templating") or {}).get("list", [])
        if v.get("type") in ("query", "custom", "textbox", "constant")
    )
    return Dashboard(tuple(panels), variables)


def regex_escape(value: str) -> str:
    """Grafana's escaping of a variable value for a `=~` matcher: one backslash for the regex, doubled
    because the matcher is a PromQL string literal."""
    return re.sub(r"[.*+?^${}()|\[\]\\]", lambda m: "\\\\" + m.group(0), value)


def seconds_text(seconds: float) -> str:
    """A PromQL duration: whole seconds as `4s`, anything finer in milliseconds."""
    return f"{round(seconds)}s" if float(seconds).is_integer() else f"{round(seconds * 1000)}ms"


def variable_values(dashboard: Dashboard, chosen: dict[str, str], window: Window) -> dict[str, str]:
    """Every variable a query may use, with the value Grafana would send."""
    unknown = set(chosen) - {v.name for v in dashboard.variables}
    if unknown:
        raise DashboardError(f"the dashboard has no variable {', '.join(sorted(unknown))}")
    values = {
        v.name: (regex_escape(chosen[v.name]) if v.escaped else chosen[v.name]) if v.name in chosen else ALL
        for v in dashboard.variables
    }
    span = window.end - window.start
    values |= {
        "__rate_interval": seconds_text(window.rate_interval),
        "__interval": seconds_text(window.step),
        "__interval_ms": str(round(window.step * 1000)),
        "__range": seconds_text(span),
        "__range_s": str(round(span)),
        "__range_ms": str(round(span * 1000)),
    }
    return values


def substitute(expr: str, values: dict[str, str]) -> str:
    """Fills in `$name`, `${name}`, `${name:format}` and `[[name]]`; a variable without a value is an
    error, never sent to Prometheus."""

    def value(match: re.Match[str]) -> str:
        name = next(group for group in match.groups() if group)
        if name not in values:
            raise DashboardError(f"unknown variable ${name}")
        return values[name]

    return _VARIABLE.sub(value, expr)


def query_range(prometheus: str, expr: str, window: Window, timeout: float = 30) -> list[dict]:
    """The series of a range query; raises RuntimeError with Prometheus's words when it fails."""
    params = urllib.parse.urlencode({"query": expr, "start": window.start, "end": window.end, "step": window.step})
    request = urllib.request.Request(
        f"{prometheus}/api/v1/query_range",
        data=params.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.load(response)
    except urllib.error.HTTPError as err:
        try:
            body = json.load(err)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RuntimeError(f"Prometheus answered {err.code}") from err
    if body.get("status") != "success":
        raise RuntimeError(body.get("error") or "Prometheus refused the query")
    return body["data"]["result"]


def has_data(series: list[dict]) -> bool:
    """Whether any series has a point Grafana would draw: a float that is not NaN, or a histogram."""
    for one in series:
        if one.get("histograms"):
            return True
        for _, text in one.get("values", []):
            if not math.isnan(float(text)):
                return True
    return False


def check(dashboard: Dashboard, prometheus: str, window: Window, chosen: dict[str, str], sources: set[str]) -> list[Outcome]:
    values = variable_values(dashboard, chosen, window)
    outcomes = []
    for panel in dashboard.panels:
        for target in panel.targets:
            if panel.source is None:
                detail = f'the description must begin "Source: <{"|".join(SOURCES)}>."'
                outcomes.append(Outcome(panel, target, "error", detail))
                continue
            if panel.source not in sources:
                outcomes.append(Outcome(panel, target, "needs source", panel.source))
                continue
            try:
                expr = substitute(target.expr, values)
                series = query_range(prometheus, expr, window)
            except (DashboardError, RuntimeError, OSError) as err:
                outcomes.append(Outcome(panel, target, "error", str(err)))
                continue
            if has_data(series):
                outcomes.append(Outcome(panel, target, "ok"))
            else:
                outcomes.append(Outcome(panel, target, "no data", "only NaN points" if series else "no series"))
    return outcomes


def report(outcomes: list[Outcome]) -> tuple[str, bool]:
    """The lines a person reads, and whether the check passed."""
    lines = []
    for outcome in outcomes:
        label = {"ok": "ok", "no data": "NO DATA", "error": "ERROR", "needs source": "NEEDS SOURCE"}[outcome.status]
        what = f"{outcome.panel.title} [{outcome.target.ref_id}]"
        if outcome.status == "needs source":
            lines.append(f"  {label:<13} {what}: not checked, {outcome.detail} is not among --sources")
        else:
            lines.append(f"  {label:<13} {what}{': ' + outcome.detail if outcome.detail else ''}")
    failed = [o for o in outcomes if o.status in ("no data", "error")]
    unchecked = sorted({o.panel.source or "" for o in outcomes if o.status == "needs source"})
    checked = len(outcomes) - sum(o.status == "needs source" for o in outcomes)
    summary = f"{checked - len(failed)} of {checked} checked queries returned data"
    if unchecked:
        summary += f"; {sum(o.status == 'needs source' for o in outcomes)} not checked, needing {', '.join(unchecked)}"
    if failed:
        panels = list(dict.fromkeys(o.panel.title for o in failed))
        summary += f"\nFAILED: {len(panels)} panel(s) without data or with a failing query: " + "; ".join(panels)
    return "\n".join([*lines, summary]), not failed


def parse_duration(text: str) -> float:
    match = _DURATION.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30s, 10m or 1h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_time(text: str) -> float:
    """Unix seconds, or an ISO 8601 time with its offset (2026-11-28T11:50:00Z)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is neither unix seconds nor an ISO 8601 time") from err
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no UTC offset (add Z or +00:00)")
    return moment.timestamp()


def parse_var(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prometheus", default="http://127.0.0.1:59090", help="Prometheus base URL (default: the lab's)")
    parser.add_argument("--dashboard", type=Path, default=DASHBOARD, help="dashboard JSON (default: %(default)s)")
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--last", type=parse_duration, help="the range ending now, e.g. 10m")
    when.add_argument("--start", type=parse_time, help="range start: unix seconds or ISO 8601 with offset (with --end)")
    parser.add_argument("--end", type=parse_time, help="range end (with --start)")
    parser.add_argument("--step", type=parse_duration, help=f"resolution (default: the range / {MAX_POINTS}, at least the scrape interval)")
    parser.add_argument("--scrape-interval", type=parse_duration, default=1.0,
                        help="Prometheus's scrape interval, the data source's timeInterval (default: 1s, as monitoring/prometheus.yml)")
    parser.add_argument("--var", type=parse_var, action="append", default=[], metavar="NAME=VALUE",
                        help="give a template variable one value instead of All (.*), e.g. instance=127.0.0.1:9090")
    parser.add_argument("--sources", default=",".join(SOURCES),
                        help="comma-separated sources present in the range; panels needing others are listed, not checked "
                        "(default: %(default)s)")
    args = parser.parse_args(argv)
    if args.start is not None and args.end is None:
        parser.error("--start needs --end")
    if args.last is not None and args.end is not None:
        parser.error("--end goes with --start, not --last")
    sources = {s.strip() for s in args.sources.split(",") if s.strip()}
    if sources - set(SOURCES):
        parser.error(f"unknown source(s) {', '.join(sorted(sources - set(SOURCES)))}; known: {', '.join(SOURCES)}")
    args.sources = sources
    return args


def window_of(args: argparse.Namespace, now: float) -> Window:
    start, end = (now - args.last, now) if args.last is not None else (args.start, args.end)
    if end <= start:
        raise DashboardError("the range is empty: --end must be after --start")
    step = args.step or max(args.scrape_interval, math.ceil((end - start) / MAX_POINTS))
    return Window(start, end, step, args.scrape_interval)


def reachable(prometheus: str) -> str | None:
    """None when Prometheus answers its API, else why not (one line, not one per query)."""
    try:
        with urllib.request.urlopen(f"{prometheus}/api/v1/status/buildinfo", timeout=5):
            return None
    except (OSError, ValueError) as err:
        return f"Prometheus does not answer at {prometheus}: {err}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    prometheus = args.prometheus.rstrip("/")
    problem = reachable(prometheus)
    if problem:
        print(f"check_dashboard: {problem}", file=sys.stderr)
        return 2
    try:
        dashboard = load_dashboard(args.dashboard)
        window = window_of(args, time.time())
        outcomes = check(dashboard, prometheus, window, dict(args.var), args.sources)
    except DashboardError as err:
        print(f"check_dashboard: {err}", file=sys.stderr)
        return 2
    text, passed = report(outcomes)
    span = f"{datetime.fromtimestamp(window.start).astimezone():%H:%M:%S}–{datetime.fromtimestamp(window.end).astimezone():%H:%M:%S}"
    print(f"{args.dashboard.name} against {prometheus}, {span} (step {seconds_text(window.step)}, "
          f"$__rate_interval {seconds_text(window.rate_interval)}, sources: {', '.join(sorted(args.sources))})")
    print(text)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
