"""Pure pieces of the report: the terminal renderer, the worst moment, the post's numbers."""

import dataclasses

from experiment.model.profiles import LabParams, Rates
from experiment.model.results import CpuSetsRecord, Summary, VerdictSummary
from experiment.report import postkit, termrender
from experiment.tests.synthetic import CALIBRATION, MACHINE, TINY, arm, headline


def test_the_screen_redraws_lines_like_a_terminal():
    screen = termrender.Screen(cols=20, rows=4)
    screen.feed("hello\r\nworld\r\n")
    screen.feed("\x1b[1Aagain\x1b[K\r\n")  # k6 moves up and redraws its progress lines
    screen.feed("\x1b[32mgreen\x1b[0m")
    assert screen.text() == ["hello", "again", "green", ""]


def test_the_screen_scrolls_at_the_bottom():
    screen = termrender.Screen(cols=10, rows=2)
    screen.feed("1\r\n2\r\n3")
    assert screen.text() == ["2", "3"]


def test_the_worst_moment_is_a_failure_first_then_the_slowest():
    events = [{"t": 1, "kind": "load", "ms": 900, "ok": True},
              {"t": 2, "kind": "load", "ms": 40, "ok": False},
              {"t": 3, "kind": "add", "ms": 1200, "ok": True}]
    assert postkit.worst_event(events)["t"] == 2
    assert postkit.worst_event([e for e in events if e["ok"]])["t"] == 3
    assert postkit.worst_event([]) is None


def test_the_post_takes_every_number_from_the_summary(tmp_path):
    arms = {
        "shared": arm("shared", headline(baseline_p95=7.25, burst_p95=812.0, errors=421, count=10000, waiters=377,
                                         timeouts=55, svc_peak=0.31, write_burst=700.0, pg_peak=0.2,
                                         server_burst_p95=400.0, write_err=0.01), {"shared": 12}),
        "isolated": arm("isolated", headline(baseline_p95=6.0, burst_p95=9.5, errors=0, waiters=12, timeouts=0,
                                             svc_peak=0.3, write_burst=950.0, pg_peak=0.2, server_burst_p95=23.5,
                                             write_err=0.02), {"login": 4, "todo_read": 4, "todo_write": 4}),
        "shared-3x": arm("shared-3x", headline(baseline_p95=6.5, burst_p95=300.0, errors=100, count=10000,
                                               waiters=90, timeouts=3, svc_peak=0.4, write_burst=600.0,
                                               pg_peak=0.61, server_burst_p95=20.0), {"shared": 36}),
    }
    s = Summary(
        run_id="RUN123", profile=TINY, rates=Rates(base_rps=301, burst_rps=1601, source="calibrated", capacity_rps=1231.5),
        calibration=dataclasses.replace(CALIBRATION, mean_hold_ms=9.75, connections=12, capacity_rps=1231.5),
        cpu_sets=CpuSetsRecord(sut=(1,), load=(0,), note="system under test on CPU 1, load side on CPU 0",
                               postgres="with the system under test"),
        lab=LabParams(delay_ms=1), load_script="load/todo-load.js", repeats=1,
        machine=dataclasses.replace(MACHINE, cores=2, memory_gib=24.0), versions={}, arms=arms,
        verdicts=[VerdictSummary(key="read_errors_act1", sign="Act I: reads fail", threshold="...", holds=True,
                                 evidence="42 of 1000", optional=False, verdict="yes", held_in=1, judged=1)],
        contaminated=[], notes=[],
    )
    postkit.write_post(s, tmp_path / "post.md")
    post = (tmp_path / "post.md").read_text()
    for text in ("1601 req/s", "301 req/s", "812 ms", "4.21%", "377", "9.5 ms", "0.31 of 2 usable cores", "RUN123",
                 "4 for login", "36 connections", "0.61 cores", "23.5 ms inside the service", "9.8 ms",
                 "at most 1232 requests a second", "1.3x", "load side on CPU 0"):
        assert text in post, text
    assert "{" not in post.split("---")[0]
    assert "CONTAMINATED" not in post
    assert "still kept reads" not in post  # the control's verdict is missing: no claim about it

    control = VerdictSummary(key="boundaries_beat_power", sign="Control ...", threshold="...", holds=False,
                             evidence="...", optional=True, verdict="mixed", held_in=1, judged=3)
    s = dataclasses.replace(s, verdicts=[*s.verdicts, control])
    postkit.write_post(s, tmp_path / "post.md")
    post = (tmp_path / "post.md").read_text()
    assert "kept reads faster in only 1 of 3 runs" in post and "still kept reads" not in post

    s = dataclasses.replace(s, contaminated=["isolated rep 1: k6's burst read p95 680 ms is 13.9x the service's own 48.8 ms"])
    postkit.write_post(s, tmp_path / "post.md")
    assert (tmp_path / "post.md").read_text().startswith("> **CONTAMINATED RUN")


def test_the_post_of_a_run_without_act_i_leaves_its_numbers_out(tmp_path, whole):
    s = dataclasses.replace(whole, arms={"isolated": arm("isolated", headline(), {"login": 4})})
    postkit.write_post(s, tmp_path / "post.md")
    post = (tmp_path / "post.md").read_text()
    assert "Act III" in post and "Act I —" not in post and "(Act I: n/a)" in post
