"""Renders the documents a person reads (report.html, summary.md, post/post.md) from the Jinja2
templates in templates/, which a writer edits without touching Python.

A template gets the typed summary as `s` (results.Summary: `s.arms["shared"].median.read.p95_ms`),
the shared tables as `tables` (tables.py), fmt's functions as filters (`{{ x|ms }}`, `{{ x|pct }}`),
and the words several documents share as macros in templates/_shared.j2. Undefined names fail
loudly (StrictUndefined): a misspelt field stops the report instead of printing nothing. HTML
templates (`*.html.j2`) escape every value; the Markdown ones write them as they are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from ..analyse.sweep import KNEE_P95_X, KNEE_READ_ERRORS, STEP_CPU_SHARE
from ..analyse.verdict import CLIENT_SERVER_MAX_RATIO
from ..model import fmt
from ..model.results import CpuPlan, Summary, SweepSummary
from ..model.shape import ENDPOINT_TITLES, mix_text
from . import tables

TEMPLATES = Path(__file__).resolve().parent / "templates"

FILTERS = {
    "ms": fmt.ms, "ms_tenths": fmt.ms_tenths, "pct": fmt.pct, "pct_fixed": fmt.pct_fixed, "cores": fmt.cores,
    "cores_unit": fmt.cores_unit, "num": fmt.num, "whole": fmt.whole, "ratio": fmt.ratio, "pools": fmt.pools,
    "megabytes": fmt.megabytes,
    "markdown_table": lambda t: fmt.markdown_table(t.header, t.rows),
    "json": lambda value: json.dumps(value, indent=2),
}

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,  # a line holding only a {% tag %} leaves no empty line behind
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
environment.filters.update(FILTERS)
environment.globals.update(mix_text=mix_text, ENDPOINT_TITLES=ENDPOINT_TITLES, CLIENT_SERVER_MAX_RATIO=CLIENT_SERVER_MAX_RATIO,
                            MISSING=fmt.MISSING, most_load_processes=tables.most_load_processes,
                            widest_start=tables.widest_start, KNEE_READ_ERRORS=KNEE_READ_ERRORS,
                            KNEE_P95_X=KNEE_P95_X, STEP_CPU_SHARE=STEP_CPU_SHARE)


def render(template: str, s: Summary, **context: Any) -> str:
    """The template filled in for summary `s` (plus the shared tables and `context`)."""
    shared_tables = {"headline": tables.headline(s), "repeats": tables.repeats(s), "endpoints": tables.endpoints(s),
                     "spread": tables.spread(s), "pools": tables.pools(s), "load_processes": tables.load_processes(s),
                     "cpu_budget": tables.cpu_budget(s)}
    return environment.get_template(template).render(s=s, tables=shared_tables, **context)


def shared() -> Any:
    """templates/_shared.j2's macros, to call from Python (the console prints some of them)."""
    return environment.get_template("_shared.j2").module


def contamination_banner(s: Summary) -> str | None:
    """The sentence for the top of every document when some run is contaminated, else None."""
    return shared().banner(s) or None


def calibration_lines(s: Summary) -> list[str]:
    return shared().calibration_lines(s).splitlines()


def plan_lines(plan: CpuPlan) -> list[str]:
    """How the delay was chosen, one line per probe and one for the outcome (printed before the acts)."""
    return shared().plan_lines(plan).splitlines()


def render_sweep(template: str, s: SweepSummary, **context: Any) -> str:
    """A sweep's document (sweep.md.j2, sweep.html.j2) for summary `s`, with each regime's tables."""
    regime_tables = {r.regime.key: {"steps": tables.sweep_steps(r), "knees": tables.sweep_knees(r)} for r in s.regimes}
    return environment.get_template(template).render(s=s, tables=regime_tables, **context)


def sweep_lines(s: SweepSummary) -> list[str]:
    """The console's account of a sweep: the finding, then each regime's knees."""
    lines = [s.finding, ""]
    for r in s.regimes:
        knees = tables.sweep_knees(r)
        lines += [r.regime.title, fmt.console_table(knees.header, knees.rows), ""]
    return lines
