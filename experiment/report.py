"""The run's documents: report.html (one self-contained page, charts inlined as base64) and
summary.md, rendered from templates/report.html.j2 and templates/summary.md.j2; a sweep's from
templates/sweep.html.j2 and templates/sweep.md.j2."""

from __future__ import annotations

import base64
from pathlib import Path

from . import render
from .results import Summary, SweepSummary


def write(summary: Summary, charts_dir: Path, chart_files: list[str], path: Path) -> None:
    path.write_text(render.render("report.html.j2", summary, chart_files=chart_files,
                                  images=_images(charts_dir, chart_files)))


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
