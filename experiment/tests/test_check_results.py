"""check_results reads the results through their types: a field gone missing is a failed check."""

import json
from pathlib import Path

from experiment import check_results

READS = "summary.json reads as a Summary"


def failures(out: Path) -> dict[str, str]:
    return {name: detail for name, ok, detail in check_results.checks(out, ["shared"]) if not ok}


def passed(out: Path, name: str) -> bool:
    """Whether check `name` ran and passed (a check renamed or gone fails here, not silently)."""
    outcomes = {n: ok for n, ok, _ in check_results.checks(out, ["shared"])}
    assert name in outcomes, f"no check named {name!r}; checks: {sorted(outcomes)}"
    return outcomes[name]


def test_a_summary_as_written_reads(tmp_path, whole):
    whole.save(tmp_path / "summary.json")
    assert passed(tmp_path, READS)
    assert passed(tmp_path, "summary.json is exactly what its types write (nothing more, nothing less)")


def test_a_summary_missing_a_field_fails_the_check_and_names_it(tmp_path, whole):
    data = whole.to_json()
    del data["arms"]["shared"]["repeats"][1]["cpu"]["service"]["peak_cores"]
    (tmp_path / "summary.json").write_text(json.dumps(data))
    detail = failures(tmp_path)[READS]
    assert "arms.shared.repeats[1].cpu.service: missing field 'peak_cores' of a CpuUse" in detail


def test_a_summary_with_a_renamed_field_fails(tmp_path, whole):
    data = whole.to_json()
    data["arms"]["shared"]["median"]["read"]["p95"] = data["arms"]["shared"]["median"]["read"].pop("p95_ms")
    (tmp_path / "summary.json").write_text(json.dumps(data))
    assert "unexpected field(s) p95 in a ReadNumbers" in failures(tmp_path)[READS]


def test_a_run_json_missing_a_field_fails(tmp_path, whole):
    whole.save(tmp_path / "summary.json")
    run_json = tmp_path / "rep-1" / "run.json"
    record = json.loads(run_json.read_text())
    del record["k6_exit_code"]
    run_json.write_text(json.dumps(record))
    failed = failures(tmp_path)
    assert "missing field 'k6_exit_code' of a RunRecord" in failed["shared: rep-1/run.json reads as a RunRecord"]
    assert "shared: rep-2/run.json reads as a RunRecord" not in failed
    assert passed(tmp_path, "shared: rep-2/run.json reads as a RunRecord")


def test_the_pools_little_law_and_database_view_are_checked(tmp_path, whole):
    whole.save(tmp_path / "summary.json")
    assert passed(tmp_path, "shared rep 1: Little's law was measured for every pool")
    assert passed(tmp_path, "shared rep 1: the database's backends were sampled for every pool")


def test_a_run_from_before_promql_names_the_commit_that_can_analyse_it(tmp_path, whole):
    whole.save(tmp_path / "summary.json")
    run_dir = tmp_path / "rep-1"
    (run_dir / "promql.json").unlink()
    (run_dir / "metrics.jsonl").write_text("{}\n")
    detail = failures(tmp_path)["shared: rep-1 was recorded since the runner reads PromQL"]
    assert "analyse it with commit 1ad1a0b" in detail
    assert "shared: raw promql.json kept" in failures(tmp_path)
