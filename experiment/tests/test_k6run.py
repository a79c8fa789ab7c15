"""The runner's k6 processes: split by execution segments, started paused, let go together.

Real k6 processes on a script that sends no request (its iterations only count themselves), so
the split can be checked exactly: the segments' iterations add up to the whole and none overlap.
"""

import json
import os
from pathlib import Path

import pytest

from experiment.model.results import K6ProcessRecord
from experiment.run import k6cmd, k6run, procs
from experiment.tests.test_k6_shape import K6

pytestmark = pytest.mark.skipif(K6 is None, reason="no k6 (scripts/install-k6.sh installs it)")

SCRIPT = """
import exec from 'k6/execution';
export const options = {
  scenarios: { count: { executor: 'shared-iterations', vus: 4, iterations: 40, maxDuration: '20s' } },
};
export default function () {}
export function handleSummary(data) {
  return { [__ENV.SUMMARY_PATH]: JSON.stringify({ iterations: data.metrics.iterations.values.count }) };
}
"""


def launch(tmp_path: Path, script: Path, index: int, count: int) -> tuple[K6ProcessRecord, k6run.K6Launch]:
    files = K6ProcessRecord.files(index, count)
    api = f"127.0.0.1:{procs.free_port()}"
    argv = [K6, "run", "--quiet", *k6cmd.api_args(api), *k6cmd.segment_args(files, count), str(script)]
    env = {"PATH": os.environ.get("PATH", ""), "K6_NO_USAGE_REPORT": "true",
           "SUMMARY_PATH": str(tmp_path / files.summary)}
    return files, k6run.K6Launch(argv, env, tmp_path / files.cast, tmp_path / files.log, f"k6 {index}", api)


def test_two_segments_run_every_iteration_once_and_both_are_let_go(tmp_path):
    script = tmp_path / "count.js"
    script.write_text(SCRIPT)
    launches = [launch(tmp_path, script, i, 2) for i in (1, 2)]
    started = []
    outcomes = k6run.run_k6([k6 for _, k6 in launches], timeout=60, on_start=lambda i, proc: started.append(i))
    assert started == [0, 1]
    assert [o.exit_code for o in outcomes] == [0, 0], [(tmp_path / f.log).read_text() for f, _ in launches]
    assert all(o.resumed is not None for o in outcomes)
    counts = [json.loads((tmp_path / f.summary).read_text())["iterations"] for f, _ in launches]
    assert counts == [20, 20]
    assert all((tmp_path / f.cast).stat().st_size > 0 for f, _ in launches)


def test_a_process_that_dies_before_it_is_ready_ends_the_run_with_its_exit_code(tmp_path):
    script = tmp_path / "broken.js"
    script.write_text("this is not javascript (")
    files, broken = launch(tmp_path, script, 1, 1)
    outcomes = k6run.run_k6([broken], timeout=60)
    assert outcomes[0].exit_code not in (0, -1)
    assert outcomes[0].resumed is None
    assert "exited" in (tmp_path / files.log).read_text()


def test_segments_and_their_sequence_cover_the_whole_load_without_overlap():
    assert k6cmd.segment_sequence(1) == "0,1"
    assert k6cmd.segment_sequence(2) == "0,1/2,1"
    assert k6cmd.segment_sequence(4) == "0,1/4,1/2,3/4,1"
    assert [K6ProcessRecord.files(i, 3).segment for i in (1, 2, 3)] == ["0:1/3", "1/3:2/3", "2/3:1"]
    assert K6ProcessRecord.files(1, 1).samples == "k6-samples.csv.gz"  # one process keeps the old names
    assert K6ProcessRecord.files(2, 2).cpu_group == "k6-2"
