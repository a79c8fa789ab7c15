"""The documents rendered from templates/: every section there, values escaped in HTML only, and a
misspelt name in a template an error rather than an empty cell."""

import dataclasses

import jinja2
import pytest

from experiment.report import documents, render


def test_summary_md_has_every_section_and_the_spread_with_repeats(tmp_path, whole):
    documents.write_markdown(whole, tmp_path / "summary.md", ["read-p95.png"])
    text = (tmp_path / "summary.md").read_text()
    for heading in ("# Stress-test lab", "## Headline", "## Verdicts", "## Every repeat", "## Calibration",
                    "## Per endpoint", "## Spread over repeats", "## Configuration", "## Versions and machine",
                    "## Notes", "## Charts"):
        assert f"\n{heading}" in "\n" + text, heading
    assert "| 290 ms | 478 ms | 29.0 ms | 14.29% | 78.5 ms | 25.00% | 0.60 | n/a | 5 | 3 | 40 | 2 |" in text
    assert "(2/2 repeats)" in text and "![read-p95.png](charts/read-p95.png)\n" in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "CONTAMINATED" not in text


def test_a_contaminated_run_says_so_at_the_top_of_every_document(tmp_path, whole):
    s = dataclasses.replace(whole, contaminated=["shared rep 1: k6's burst read p95 <b>680 ms</b> is 13.9x"])
    assert render.contamination_banner(whole) is None
    assert render.contamination_banner(s).startswith("CONTAMINATED RUN: in 1 run(s) k6's latencies")
    documents.write_markdown(s, tmp_path / "summary.md", [])
    assert "> **CONTAMINATED RUN" in (tmp_path / "summary.md").read_text()
    documents.write(s, tmp_path, [], tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert "<p class='banner'>CONTAMINATED RUN" in page
    assert "&lt;b&gt;680 ms&lt;/b&gt;" in page and "<b>680" not in page  # the shared words are escaped too


def test_report_html_escapes_what_it_shows_and_inlines_its_charts(tmp_path, whole):
    png = b"\x89PNG\r\n\x1a\nfake"
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_bytes(png)
    s = dataclasses.replace(whole, notes=["<script>alert(1)</script> & more"])
    documents.write(s, tmp_path, ["a.png", "b.png"], tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert page.count('src="data:image/png;base64,iVBORw0KGgpmYWtl"') == 2
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt; &amp; more</li>" in page
    assert "<h2>Spread over repeats (min / median / max)</h2>" in page
    assert "<td class='yes'>" in page or "<td class='no'>" in page


def test_the_console_gets_the_calibration_lines_of_the_documents(whole):
    lines = render.calibration_lines(whole)
    assert len(lines) == 4 and lines[0].startswith("Probe: 50 req/s for 15 s")
    assert "Rates: 10 req/s base and 50 req/s in bursts" in lines[2]
    assert render.calibration_lines(dataclasses.replace(whole, calibration=None)) == [
        "No calibration: the rates were given explicitly."]


def test_a_misspelt_name_in_a_template_stops_the_report(whole):
    template = render.environment.from_string("{{ s.arms['shared'].median.read.p59_ms|ms }}")
    with pytest.raises(jinja2.UndefinedError, match="p59_ms"):
        template.render(s=whole)
