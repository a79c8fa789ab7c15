"""The typed results: every to_json / from_json pair gives back what it was given, the reading
names what is wrong, and the median over repeats works on the typed fields."""

import dataclasses
import json
from pathlib import Path

import pytest

from experiment.analyse import summary
from experiment.analyse.summary import median
from experiment.model.codec import ResultsError
from experiment.model.profiles import Rates
from experiment.model.results import ArmSummary, Calibration, CpuSetsRecord, CpuUse, Gauge, Headline, Machine, RunConfig, RunRecord, Summary
from experiment.tests.synthetic import CALIBRATION, LAB, MACHINE, TINY, headline, run_record


def through_json(data):
    """What a file holds after a dump and a load."""
    return json.loads(json.dumps(data))


def test_a_run_record_round_trips():
    record = run_record()
    assert RunRecord.from_json(through_json(record.to_json())) == record


def test_a_run_record_without_the_optional_fields_reads():
    data = through_json(run_record().to_json())
    for optional in ("proxy_port", "ui_url", "recorder_exit_code"):
        del data[optional]
    assert RunRecord.from_json(data).proxy_port is None


def test_a_headline_round_trips(runs):
    h = runs[0].headline
    assert Headline.from_json(through_json(h.to_json())) == h


def test_an_arm_summary_round_trips(whole):
    arm = whole.arms["shared"]
    assert ArmSummary.from_json(through_json(arm.to_json())) == arm


def test_a_summary_round_trips_with_its_post_numbers(whole):
    data = through_json(whole.to_json())
    assert Summary.from_json(data) == whole
    assert list(data)[:2] == ["schema", "run_id"]
    assert data["headline"]["read_burst_p95_ms"] == {"shared": whole.arms["shared"].median.read.burst_p95_ms}
    assert data["headline"]["pool_sizes"] == {"shared": {"shared": 12}}
    assert data["profile"]["duration_s"] == 5 and data["profile"]["burst_windows_s"] == [[2, 4]]


def test_a_run_config_round_trips():
    config = RunConfig(run_id="RUN1", profile=TINY, lab=LAB, arms=["shared"], repeats=1, record=False,
                       cpu_sets=CpuSetsRecord(sut=(1,), load=(0,), note="pinned", postgres="with the system under test"),
                       ui="ok", load_script="load/todo-load.js", machine=MACHINE, versions={"python": "3.11.7"},
                       rates=Rates(base_rps=1, burst_rps=2, source="explicit"), calibration=CALIBRATION)
    assert RunConfig.from_json(through_json(config.to_json())) == config
    assert not config.recorded
    before_the_calibration = through_json(config.to_json())
    del before_the_calibration["rates"], before_the_calibration["calibration"]
    assert RunConfig.from_json(before_the_calibration).rates is None


def test_a_calibration_and_a_machine_round_trip():
    assert Calibration.from_json(through_json(CALIBRATION.to_json())) == CALIBRATION
    assert Machine.from_json(through_json(dataclasses.asdict(MACHINE))) == MACHINE


def test_a_calibration_written_before_the_codec_was_apart_reads_and_writes_back_byte_for_byte():
    """fixtures/calibration.json is run 20261206T020034Z's (10 ms stage), written by Calibration's own
    to_dict before it became a JsonDocument: old results folders must still load, unchanged."""
    path = Path(__file__).parent / "fixtures" / "calibration.json"
    calibration = Calibration.load(path)
    assert calibration.delay_ms == 10
    assert json.dumps(calibration.to_json(), indent=Calibration.INDENT) == path.read_text()


def test_a_missing_field_is_named_with_where_it_was_missing(whole):
    data = through_json(whole.to_json())
    del data["arms"]["shared"]["median"]["read"]["p95_ms"]
    with pytest.raises(ResultsError, match=r"arms\.shared\.median\.read: missing field 'p95_ms' of a ReadNumbers"):
        Summary.from_json(data)


def test_a_renamed_field_is_an_unexpected_one(runs):
    data = through_json(runs[0].headline.to_json())
    data["tasks"]["top"] = data["tasks"].pop("peak")
    with pytest.raises(ResultsError, match=r"unexpected field\(s\) top in a Gauge"):
        Headline.from_json(data)


def test_a_value_of_the_wrong_kind_is_refused():
    data = through_json(run_record().to_json())
    data["k6_started"] = "yesterday"
    with pytest.raises(ResultsError, match=r"run\.json\.k6_started: expected a number"):
        RunRecord.from_json(data)
    data = through_json(run_record().to_json())
    data["warm_up"] = None
    with pytest.raises(ResultsError, match="null where a value is needed"):
        RunRecord.from_json(data)


def test_another_schema_is_refused(whole):
    data = through_json(whole.to_json()) | {"schema": 1}
    with pytest.raises(ResultsError, match="schema 1"):
        Summary.from_json(data)


def test_the_median_takes_every_number_and_keeps_the_first_of_the_rest():
    uses = [CpuUse(1.0, 10.0, None, cpus=1), CpuUse(3.0, 30.0, None, cpus=1), CpuUse(2.0, 20.0, None, cpus=1)]
    assert median(uses) == CpuUse(2.0, 20.0, None, cpus=1)
    assert median([{"a": 1, "b": "x"}, {"a": 3, "b": "y", "c": 5}]) == {"a": 2, "b": "x", "c": 5}
    assert median([Gauge(None, 4), Gauge(2, 6)]) == Gauge(2, 5)  # over the repeats that have the number
    assert median([None, CpuUse(1.0, 1.0, 1.0)]) is None  # a part missing in the first repeat stays missing


def test_an_arm_summary_has_medians_and_spreads_over_its_repeats():
    runs = [headline(burst_p95=p95, waiters=w) for p95, w in ((100.0, 3), (300.0, 9), (200.0, 6))]
    arm = summary.arm_summary("shared", [type("Run", (), {"headline": h, "run_dir": "x"}) for h in runs])
    assert arm.median.read.burst_p95_ms == 200.0 and arm.median.pool.max_waiters == 6
    spread = arm.spread["read.burst_p95_ms"]
    assert (spread.min, spread.median, spread.max, spread.n) == (100.0, 200.0, 300.0, 3)
    assert arm.spread["read.client_server_ratio"].median == 2.0
    assert arm.pools == {"shared": 12} and arm.repeats == runs
