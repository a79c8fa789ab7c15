"""The run's documents: report.html (one self-contained page, charts inlined as base64) and
summary.md, with the tables and the configuration."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from . import fmt, text
from .results import Summary

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 1240px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f3f3f3; } td:first-child, td:nth-child(2) { text-align: left; }
.yes { color: #176317; font-weight: bold; } .no { color: #a11; font-weight: bold; }
.mixed, .n\\/a { color: #a60; font-weight: bold; }
img { max-width: 100%; border: 1px solid #eee; margin: 1em 0; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 12px; }
.note { color: #555; }
.banner { background: #fde8e8; border: 2px solid #a11; padding: 0.8em 1em; font-weight: bold; }
table.text td { text-align: left; }
"""


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(path.name)}" src="data:image/png;base64,{data}">'


def write(summary: Summary, charts_dir: Path, chart_files: list[str], path: Path) -> None:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Lab run {e(summary.run_id)}</title>"
             f"<style>{STYLE}</style></head><body>",
             f"<h1>Shared pool vs per-endpoint pools — run {e(summary.run_id)}</h1>",
             "<p><em>You didn't add power. You added boundaries.</em> The same bursty load (40% POST /login, "
             "40% POST /todos, 20% GET /todos) against one shared pool (Act I), per-endpoint pools with the same "
             "12 connections (Act III), and one shared pool three times bigger (control).</p>"]
    banner = text.contamination_banner(summary)
    if banner:
        parts.append(f"<p class='banner'>{e(banner)}</p>")
    if chart_files:
        parts.append(_image(charts_dir / chart_files[0]))
    parts += ["<h2>Headline</h2>", _table(text.HEADLINE_HEADER, text.headline_rows(summary))]
    parts.append("<h2>Verdicts</h2><table class='text'><tr><th>expected sign</th><th>verdict</th><th>threshold</th>"
                 "<th>evidence</th></tr>")
    for item in summary.verdicts:
        word = item.verdict
        extra = f" ({item.held_in}/{item.judged})" if summary.repeats > 1 else ""
        sign = item.sign + (" (may)" if item.optional else "")
        parts.append(f"<tr><td>{e(sign)}</td><td class='{e(word)}'>{e(word)}{extra}</td>"
                     f"<td>{e(item.threshold)}</td><td>{e(item.evidence)}</td></tr>")
    parts.append("</table>")
    parts += ["<h2>Every repeat</h2>", _table(text.REPEAT_HEADER, text.repeat_rows(summary))]
    parts += ["<h2>Calibration</h2><ul>"] + [f"<li>{e(line)}</li>" for line in text.calibration_lines(summary)]
    parts += ["</ul>", "<h2>Per endpoint</h2>", _table(text.ENDPOINT_HEADER, text.endpoint_rows(summary))]
    if summary.repeats > 1:
        parts += ["<h2>Spread over repeats (min / median / max)</h2>", _table(*text.spread_table(summary))]
    parts.append("<h2>Charts</h2>")
    parts += [_image(charts_dir / name) for name in chart_files[1:]]
    parts += ["<h2>Configuration</h2><ul>"] + [f"<li>{e(line)}</li>" for line in text.config_lines(summary)] + ["</ul>"]
    m = summary.machine
    parts += ["<h2>Versions and machine</h2><ul>"]
    parts += [f"<li>{e(k)}: {e(str(v))}</li>" for k, v in summary.versions.items()]
    parts += [f"<li>machine: {m.cores} cores, {m.memory_gib} GiB, {e(str(m.cpu_model))}, "
              f"{e(str(m.os))}</li></ul>"]
    if summary.notes:
        parts += ["<h2>Notes</h2><ul>"] + [f"<li>{e(n)}</li>" for n in summary.notes] + ["</ul>"]
    config = summary.configuration_json()
    parts += ["<h2>Raw configuration</h2>", f"<pre>{e(json.dumps(config, indent=2))}</pre>",
              "<p class='note'>Raw data per run: arms/&lt;arm&gt;/rep-&lt;n&gt;/ (k6 samples, metrics and CPU "
              "samples, logs); every number here is in summary.json.</p></body></html>"]
    path.write_text("\n".join(parts))


def write_markdown(summary: Summary, path: Path, chart_files: list[str]) -> None:
    m, v = summary.machine, summary.versions
    lines = [f"# Stress-test lab: shared pool vs per-endpoint pools — run {summary.run_id}", ""]
    banner = text.contamination_banner(summary)
    if banner:
        lines += [f"> **{banner}**", ""]
    lines += ["## Headline", "", fmt.markdown_table(text.HEADLINE_HEADER, text.headline_rows(summary)), ""]
    lines += ["## Verdicts", "", "| expected sign | verdict | threshold | evidence |", "|---|---|---|---|"]
    for item in summary.verdicts:
        word = item.verdict + (f" ({item.held_in}/{item.judged} repeats)" if summary.repeats > 1 else "")
        sign = item.sign + (" *(may)*" if item.optional else "")
        lines.append(f"| {sign} | **{word}** | {item.threshold} | {item.evidence} |")
    lines += ["", "## Every repeat", "", fmt.markdown_table(text.REPEAT_HEADER, text.repeat_rows(summary)), ""]
    lines += ["## Calibration", ""] + [f"- {line}" for line in text.calibration_lines(summary)] + [""]
    lines += ["", "## Per endpoint", "", fmt.markdown_table(text.ENDPOINT_HEADER, text.endpoint_rows(summary)), ""]
    if summary.repeats > 1:
        lines += ["## Spread over repeats (min / median / max)", "", fmt.markdown_table(*text.spread_table(summary)), ""]
    lines += ["## Configuration", ""] + [f"- {line}" for line in text.config_lines(summary)] + [""]
    lines += ["## Versions and machine", ""]
    lines += [f"- {k}: {val}" for k, val in v.items()]
    lines += [f"- machine: {m.cores} cores, {m.memory_gib} GiB, {m.cpu_model}, {m.os}, kernel {m.kernel}", ""]
    if summary.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in summary.notes] + [""]
    lines += ["## Charts", ""] + [f"![{c}](charts/{c})" for c in chart_files] + [""]
    path.write_text("\n".join(lines))
