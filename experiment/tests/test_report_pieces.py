"""Pure pieces of the report: medians over repeats, the terminal renderer, the post's numbers."""

import json

from experiment import postkit, summary, termrender


def test_median_tree_takes_the_median_of_every_number():
    trees = [{"a": 1, "b": {"c": 10, "d": None}, "e": "x"},
             {"a": 3, "b": {"c": 30, "d": None}, "e": "y"},
             {"a": 2, "b": {"c": 20, "d": None}, "e": "z"}]
    assert summary.median_tree(trees) == {"a": 2, "b": {"c": 20, "d": None}, "e": "x"}


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


def test_the_post_takes_every_number_from_summary_json(tmp_path):
    arms = ("shared", "isolated", "shared-3x")
    per_arm = lambda *values: dict(zip(arms, values))  # noqa: E731
    s = {
        "run_id": "RUN123", "repeats": 1,
        "profile": {"base_x": 0.25, "burst_x": 1.3},
        "rates": {"base_rps": 301, "burst_rps": 1601, "source": "calibrated", "capacity_rps": 1231.5},
        "calibration": {"mean_hold_ms": 9.75, "connections": 12, "capacity_rps": 1231.5},
        "cpu_sets": {"note": "system under test on CPU 1, load side on CPU 0", "postgres": "with the system under test"},
        "contaminated": [],
        "machine": {"cores": 2, "memory_gib": 24.0},
        "lab": {"delay_ms": 1, "argon2_memory_kib": 1024, "argon2_iterations": 1},
        "arms": {"shared": {"pool_size": 12, "pools": {"shared": 12}, "repeats": []},
                 "isolated": {"pool_size": 12, "pools": {"login": 4, "todo_read": 4, "todo_write": 4}, "repeats": []},
                 "shared-3x": {"pool_size": 36, "pools": {"shared": 36}, "repeats": []}},
        "headline": {
            "read_baseline_p95_ms": per_arm(7.25, 6.0, 6.5), "read_burst_p95_ms": per_arm(812.0, 9.5, 300.0),
            "read_error_rate": per_arm(0.0421, 0.0, 0.01), "pool_max_waiters": per_arm(377, 12, 90),
            "pool_acquire_timeouts": per_arm(55, 0, 3), "service_cpu_peak_cores": per_arm(0.31, 0.3, 0.4),
            "write_burst_p95_ms": per_arm(700.0, 950.0, 600.0), "postgres_cpu_peak_cores": per_arm(0.2, 0.2, 0.61),
            "read_server_burst_p95_ms": per_arm(400.0, 23.5, 20.0), "write_error_rate": per_arm(0.01, 0.02, 0.0),
        },
        "verdicts": [{"sign": "Act I: reads fail", "verdict": "yes", "evidence": "42 of 1000"}],
    }
    (tmp_path / "summary.json").write_text(json.dumps(s))
    postkit.write_post(tmp_path / "summary.json", tmp_path / "post.md")
    post = (tmp_path / "post.md").read_text()
    for text in ("1601 req/s", "301 req/s", "812 ms", "4.21%", "377", "9.5 ms", "0.31 of 2 cores", "RUN123",
                 "4 for login", "36 connections", "0.61 cores", "23.5 ms inside the service", "9.8 ms",
                 "at most 1232 requests a second", "1.3x", "load side on CPU 0"):
        assert text in post, text
    assert "{" not in post.split("---")[0]
    assert "CONTAMINATED" not in post
    assert "still kept reads" not in post  # the control's verdict is missing: no claim about it

    s["verdicts"].append({"key": "boundaries_beat_power", "sign": "Control ...", "verdict": "mixed",
                          "held_in": 1, "judged": 3, "evidence": "..."})
    (tmp_path / "summary.json").write_text(json.dumps(s))
    postkit.write_post(tmp_path / "summary.json", tmp_path / "post.md")
    post = (tmp_path / "post.md").read_text()
    assert "kept reads faster in only 1 of 3 runs" in post and "still kept reads" not in post

    s["contaminated"] = ["isolated rep 1: k6's burst read p95 680 ms is 13.9x the service's own 48.8 ms"]
    (tmp_path / "summary.json").write_text(json.dumps(s))
    postkit.write_post(tmp_path / "summary.json", tmp_path / "post.md")
    assert (tmp_path / "post.md").read_text().startswith("> **CONTAMINATED RUN")
