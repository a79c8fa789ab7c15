"""The run's documents: report.html (one self-contained page, charts inlined as base64) and
summary.md, rendered from templates/report.html.j2 and templates/summary.md.j2; a sweep's from
templates/sweep.html.j2 and templates/sweep.md.j2."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from ..model.results import DASHBOARD_PERIOD, Summary, SweepSummary
from . import render


@dataclass(frozen=True)
class K6Report:
    """k6's own HTML report of one k6 process of one run, as report.html links it."""

    run: str  # "Act I shared, rep 1" (", process 1 of 2, segment 0:1/2" when the load was split)
    href: str  # the file, relative to report.html


def k6_reports(summary: Summary, folder: Path) -> list[K6Report]:
    """Every k6 HTML report the runs left (analysis.py found the file), linked from `folder`."""
    reports = []
    for arm in summary.arms.values():
        for repeat, (h, run_dir) in enumerate(zip(arm.repeats, arm.run_dirs, strict=True), 1):
            several = len(h.load_processes) > 1
            for p in h.load_processes.values():
                if p.html_report:
                    process = f", process {p.index} of {len(h.load_processes)}, segment {p.segment}" if several else ""
                    reports.append(K6Report(f"{arm.label}, rep {repeat}{process}",
                                            os.path.relpath(Path(run_dir) / p.html_report, folder)))
    return reports


def write(summary: Summary, charts_dir: Path, chart_files: list[str], path: Path) -> None:
    path.write_text(render.render("report.html.j2", summary, chart_files=chart_files,
                                  images=_images(charts_dir, chart_files), k6_reports=k6_reports(summary, path.parent),
                                  dashboard_period=DASHBOARD_PERIOD))


def _images(charts_dir: Path, chart_files: list[str]) -> dict[str, str]:
    """Each chart's PNG in base64, to inline."""
    return {name: base64.b64encode((charts_dir / name).read_bytes()).decode() for name in chart_files}


def write_sweep(summary: SweepSummary, chart_files: list[str], out: Path) -> None:
    """A sweep's report.html and summary.md in `out` (its charts in out/charts)."""
    (out / "report.html").write_text(render.render_sweep("sweep.html.j2", summary, chart_files=chart_files,
                                                         images=_images(out / "charts", chart_files)))
    (out / "summary.md").write_text(render.render_sweep("sweep.md.j2", summary, chart_files=chart_files))


def write_markdown(summary: Summary, path: Path, chart_files: list[str]) -> None:
    path.write_text(render.render("summary.md.j2", summary, chart_files=chart_files))
