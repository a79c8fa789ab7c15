"""verdicts.xml: valid JUnit XML (the schema of tests/junit_schema.py), a test case per verdict and
repeat, each outcome as `--check` judges it, the evidence in its text."""

import dataclasses
from xml.etree import ElementTree

import pytest
import xmlschema

from experiment import check_results
from experiment.analyse import verdict
from experiment.analyse.verdict import Verdict
from experiment.report import junit
from experiment.tests import junit_schema


@pytest.fixture(scope="session")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(junit_schema.path())


def judged(key: str, holds: bool | None, optional: bool = False) -> Verdict:
    return Verdict(key, f"the sign {key}", f"threshold of {key}", holds, f"<evidence of {key}: {holds}>", optional)


# Two repeats: every outcome, a trust check, and a sign that held in one repeat only.
REPEATS = [
    [judged("held", True), judged("failed", False), judged("unjudged", None), judged("may", False, optional=True),
     judged("client_measures_service", False), judged("mixed", True)],
    [judged("held", True), judged("failed", False), judged("unjudged", None), judged("may", True, optional=True),
     judged("client_measures_service", True), judged("mixed", False)],
]


@pytest.fixture
def summary(whole):
    return dataclasses.replace(whole, verdicts=verdict.combine(REPEATS))


def cases(root: ElementTree.Element, suite: str) -> dict[str, ElementTree.Element]:
    """The test cases of one suite, by verdict key."""
    (found,) = [s for s in root.iter("testsuite") if s.get("name") == suite]
    return {case.get("name").split(":")[0]: case for case in found.iter("testcase")}


def test_verdicts_xml_is_valid_junit(summary, schema, tmp_path):
    junit.write(summary, tmp_path / junit.NAME)
    schema.validate(tmp_path / junit.NAME)
    # ...which is a real check: a suite without its count of tests is not JUnit.
    document = junit.document(summary)
    del next(document.getroot().iter("testsuite")).attrib["tests"]
    document.write(tmp_path / "broken.xml")
    assert not schema.is_valid(tmp_path / "broken.xml")


def test_each_repeat_is_a_suite_with_a_case_per_verdict_and_the_outcome_check_gives_it(summary):
    root = junit.document(summary).getroot()
    first, second = cases(root, "repeat 1"), cases(root, "repeat 2")
    assert set(first) == set(second) == {v.key for v in summary.verdicts}
    assert first["held"].find("system-out").text == "held: threshold of held\n<evidence of held: True>"
    failure = first["failed"].find("failure")
    assert failure.get("message") == "did not hold: threshold of failed"
    assert failure.text == "<evidence of failed: False>"  # the evidence the report shows, as text
    assert first["unjudged"].find("error").get("type") == "not_judged"
    assert first["may"].find("skipped") is not None and second["may"].find("skipped") is None
    assert first["mixed"].find("failure") is None and second["mixed"].find("failure") is not None
    assert first["client_measures_service"].get("classname") == junit.TRUST_CHECK
    assert first["failed"].get("classname") == junit.EXPECTED_SIGN


def test_the_counts_are_those_of_the_cases(summary):
    root = junit.document(summary).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("12", "4", "2")
    suite = next(root.iter("testsuite"))
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("6", "2", "1", "1")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {"run_id": "RUN1", "profile": "tiny", "repeat": "1", "arms": "shared"}


def test_check_results_finds_every_verdict_in_verdicts_xml(summary, tmp_path):
    summary.save(tmp_path / "summary.json")
    junit.write(summary, tmp_path / junit.NAME)
    name = f"{junit.NAME} has a test case for every verdict of every repeat in summary.json"
    checked = {n: ok for n, ok, _ in check_results.checks(tmp_path, ["shared"], junit_schema=junit_schema.path())}
    assert checked[name] and checked[f"{junit.NAME} is valid against the JUnit schema {junit_schema.path().name}"]
    document = junit.document(summary)
    suite = next(document.getroot().iter("testsuite"))
    suite.remove(next(suite.iter("testcase")))
    document.write(tmp_path / junit.NAME)
    assert dict((n, ok) for n, ok, _ in check_results.checks(tmp_path, ["shared"]))[name] is False
