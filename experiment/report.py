"""The run's documents: report.html (one self-contained page, charts inlined as base64) and
summary.md, rendered from templates/report.html.j2 and templates/summary.md.j2."""

from __future__ import annotations

import base64
from pathlib import Path

from . import render
from .results import Summary


def write(summary: Summary, charts_dir: Path, chart_files: list[str], path: Path) -> None:
    images = {name: base64.b64encode((charts_dir / name).read_bytes()).decode() for name in chart_files}
    path.write_text(render.render("report.html.j2", summary, chart_files=chart_files, images=images))


def write_markdown(summary: Summary, path: Path, chart_files: list[str]) -> None:
    path.write_text(render.render("summary.md.j2", summary, chart_files=chart_files))
