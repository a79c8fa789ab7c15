"""report.html: one self-contained page (charts inlined as base64) with the tables and the config."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from . import summary as fmt
from .shape import mix_text

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


def write(summary: dict, charts_dir: Path, chart_files: list[str], path: Path) -> None:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Lab run {e(summary['run_id'])}</title>"
             f"<style>{STYLE}</style></head><body>",
             f"<h1>Shared pool vs per-endpoint pools — run {e(summary['run_id'])}</h1>",
             "<p><em>You didn't add power. You added boundaries.</em> The same bursty load "
             f"({e(mix_text())}) against one shared pool (Act I), per-endpoint pools with the same "
             "12 connections (Act III), and one shared pool three times bigger (control).</p>"]
    banner = fmt.contamination_banner(summary)
    if banner:
        parts.append(f"<p class='banner'>{e(banner)}</p>")
    if chart_files:
        parts.append(_image(charts_dir / chart_files[0]))
    parts += ["<h2>Headline</h2>", _table(fmt.HEADLINE_HEADER, fmt.headline_rows(summary))]
    parts.append("<h2>Verdicts</h2><table class='text'><tr><th>expected sign</th><th>verdict</th><th>threshold</th>"
                 "<th>evidence</th></tr>")
    for item in summary["verdicts"]:
        word = item["verdict"]
        extra = f" ({item['held_in']}/{item['judged']})" if summary["repeats"] > 1 else ""
        sign = item["sign"] + (" (may)" if item["optional"] else "")
        parts.append(f"<tr><td>{e(sign)}</td><td class='{e(word)}'>{e(word)}{extra}</td>"
                     f"<td>{e(item['threshold'])}</td><td>{e(item['evidence'])}</td></tr>")
    parts.append("</table>")
    parts += ["<h2>Every repeat</h2>", _table(fmt.REPEAT_HEADER, fmt.repeat_rows(summary))]
    parts += ["<h2>Calibration</h2><ul>"] + [f"<li>{e(line)}</li>" for line in fmt.calibration_lines(summary)]
    parts += ["</ul>", "<h2>Per endpoint</h2>", _table(fmt.ENDPOINT_HEADER, fmt.endpoint_rows(summary))]
    if summary["repeats"] > 1:
        parts += ["<h2>Spread over repeats (min / median / max)</h2>", _table(*fmt.spread_rows(summary))]
    parts.append("<h2>Charts</h2>")
    parts += [_image(charts_dir / name) for name in chart_files[1:]]
    parts += ["<h2>Configuration</h2><ul>"] + [f"<li>{e(line)}</li>" for line in fmt.config_lines(summary)] + ["</ul>"]
    m = summary["machine"]
    parts += ["<h2>Versions and machine</h2><ul>"]
    parts += [f"<li>{e(k)}: {e(str(v))}</li>" for k, v in summary["versions"].items()]
    parts += [f"<li>machine: {m.get('cores')} cores, {m.get('memory_gib')} GiB, {e(str(m.get('cpu_model')))}, "
              f"{e(str(m.get('os')))}</li></ul>"]
    if summary["notes"]:
        parts += ["<h2>Notes</h2><ul>"] + [f"<li>{e(n)}</li>" for n in summary["notes"]] + ["</ul>"]
    config = {k: summary[k] for k in ("profile", "rates", "calibration", "cpu_sets", "lab", "load_script", "repeats",
                                      "machine", "versions")}
    parts += ["<h2>Raw configuration</h2>", f"<pre>{e(json.dumps(config, indent=2))}</pre>",
              "<p class='note'>Raw data per run: arms/&lt;arm&gt;/rep-&lt;n&gt;/ (k6 samples, metrics and CPU "
              "samples, logs); every number here is in summary.json.</p></body></html>"]
    path.write_text("\n".join(parts))
