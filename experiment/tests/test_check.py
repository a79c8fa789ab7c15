"""`--check`: the exit status a pipeline gates on, one code for a failed expected sign and another
for a failed trust check, the failed checks named in the terminal's last lines."""

import dataclasses

import pytest

from experiment.analyse import verdict
from experiment.analyse.verdict import Verdict
from experiment.report import junit
from experiment.run import cli
from experiment.tests.synthetic import results_folder


def sign(key: str, holds: bool | None, optional: bool = False) -> Verdict:
    return Verdict(key, f"the sign {key}", "a threshold", holds, "the evidence", optional)


def checked(whole, *verdicts: Verdict) -> int:
    return cli.check_verdicts(dataclasses.replace(whole, verdicts=verdict.combine([list(verdicts)])))


def test_a_run_whose_every_check_held_exits_0(whole, capsys):
    assert checked(whole, sign("read_p95_spikes_act1", True), sign("cpu_to_spare", True)) == 0
    assert "every expected sign and every trust check held" in capsys.readouterr().out


def test_a_may_sign_that_did_not_hold_fails_nothing(whole):
    assert checked(whole, sign("writes_degrade_act3", False, optional=True), sign("boundaries_beat_power", None,
                                                                                  optional=True)) == 0


def test_a_failed_expected_sign_exits_with_its_code_and_is_named_last(whole, capsys):
    assert checked(whole, sign("read_p95_spikes_act1", False), sign("cpu_to_spare", True)) == cli.EXIT_SIGN_FAILED
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == "  FAILED expected sign read_p95_spikes_act1: the sign read_p95_spikes_act1 — did not hold"


def test_a_sign_that_could_not_be_judged_fails_too(whole, capsys):
    assert checked(whole, sign("pool_exhausted_act1", None)) == cli.EXIT_SIGN_FAILED
    assert capsys.readouterr().out.endswith("— could not be judged\n")


def test_a_failed_trust_check_wins_over_a_failed_sign(whole, capsys):
    code = checked(whole, sign("read_p95_spikes_act1", False), sign("client_measures_service", False))
    assert code == cli.EXIT_UNTRUSTED
    lines = capsys.readouterr().out.splitlines()
    assert lines[-3] == f"[experiment] --check: 2 check(s) failed, exit {cli.EXIT_UNTRUSTED}:"
    assert lines[-2].startswith("  FAILED trust check client_measures_service:")
    assert lines[-1].startswith("  FAILED expected sign read_p95_spikes_act1:")


def test_a_sign_that_failed_in_one_repeat_of_two_names_it(whole, capsys):
    s = dataclasses.replace(whole, verdicts=verdict.combine([[sign("tasks_rise_act1", True)],
                                                              [sign("tasks_rise_act1", False)]]))
    assert cli.check_verdicts(s) == cli.EXIT_SIGN_FAILED
    assert capsys.readouterr().out.endswith("— did not hold in rep 2\n")


def test_the_codes_are_stated_in_help(capsys):
    with pytest.raises(SystemExit):
        cli.parse_args(["--help"])
    text = capsys.readouterr().out
    assert f"  {cli.EXIT_SIGN_FAILED}    --check: an expected sign" in text
    assert f"  {cli.EXIT_UNTRUSTED}    --check: a trust check failed" in text


def test_report_only_with_check_writes_verdicts_xml_and_exits_with_the_verdicts_code(tmp_path, capsys):
    out = results_folder(tmp_path, repeats=2)
    assert cli.main(["--report-only", str(out)]) == 0  # without --check a finished run exits 0
    assert (out / junit.NAME).stat().st_size > 0
    assert '<a href="arms/shared/rep-1/k6-report.html">' in (out / "report.html").read_text()
    # The synthetic run dropped 2 of 13 iterations: k6 did not offer the planned load.
    assert cli.main(["--report-only", str(out), "--check"]) == cli.EXIT_UNTRUSTED
    assert "  FAILED trust check load_offered: k6 offered the planned load" in capsys.readouterr().out
