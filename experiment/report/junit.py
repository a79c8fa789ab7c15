"""verdicts.xml: the run's verdicts as JUnit XML, the format CI systems (Jenkins, GitLab, GitHub
Actions' test reporters) read.

One `<testsuite>` per repeat, since every verdict is judged per repeat (comparing the arms of that
repeat); in it one `<testcase>` per verdict, its classname saying whether it is an expected sign of
the story or a trust check (verdict.TRUST_CHECKS). Each outcome is `verdict.outcome`'s, the rule
`--check` applies too:

- held: passed, the threshold and the evidence in `<system-out>`;
- did not hold: `<failure>`, its message the threshold, its text the evidence the report shows;
- could not be judged: `<error>` (the data to judge it is missing);
- a *may* sign that did not hold or could not be judged: `<skipped>`, with the evidence.

Written with the standard library from summary.json's verdicts (`VerdictSummary.repeats`);
experiment/tests/test_junit.py checks it against the JUnit schema Jenkins' xunit plugin publishes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

from ..analyse.verdict import Outcome, outcome
from ..model.results import RepeatVerdict, Summary

NAME = "verdicts.xml"
EXPECTED_SIGN, TRUST_CHECK = "expected_signs", "trust_checks"  # the test cases' classnames


def document(s: Summary) -> ElementTree.ElementTree:
    """The JUnit XML of summary `s`'s verdicts."""
    root = ElementTree.Element("testsuites", name=f"pool isolation lab, run {s.run_id}")
    totals: Counter[Outcome] = Counter()
    for repeat in range(1, s.repeats + 1):
        suite = ElementTree.SubElement(root, "testsuite", name=f"repeat {repeat}")
        properties = ElementTree.SubElement(suite, "properties")
        for name, value in (("run_id", s.run_id), ("profile", s.profile.name), ("repeat", str(repeat)),
                            ("arms", ",".join(s.arms))):
            ElementTree.SubElement(properties, "property", name=name, value=value)
        counts: Counter[Outcome] = Counter()
        for v in s.verdicts:
            for judged in (r for r in v.repeats if r.repeat == repeat):
                result = outcome(judged.holds, v.optional)
                counts[result] += 1
                case = ElementTree.SubElement(suite, "testcase", classname=TRUST_CHECK if v.trust else EXPECTED_SIGN,
                                              name=f"{v.key}: {v.sign}")
                _outcome(case, result, v.threshold, judged)
        _counts(suite, counts, skipped=True)
        totals += counts
    _counts(root, totals, skipped=False)
    ElementTree.indent(root)
    return ElementTree.ElementTree(root)


def write(s: Summary, path: Path) -> None:
    document(s).write(path, encoding="utf-8", xml_declaration=True)


def _outcome(case: ElementTree.Element, result: Outcome, threshold: str, judged: RepeatVerdict) -> None:
    evidence = judged.evidence
    if result is Outcome.PASSED:
        ElementTree.SubElement(case, "system-out").text = f"held: {threshold}\n{evidence}"
    elif result is Outcome.FAILED:
        ElementTree.SubElement(case, "failure", type="did_not_hold", message=f"did not hold: {threshold}").text = evidence
    elif result is Outcome.ERROR:
        ElementTree.SubElement(case, "error", type="not_judged",
                               message=f"could not be judged (data missing): {threshold}").text = evidence
    else:
        why = "could not be judged" if judged.holds is None else "did not hold"
        ElementTree.SubElement(case, "skipped", message=f"a *may* sign ({why}; either answer is fine): {threshold}"
                               ).text = evidence


def _counts(element: ElementTree.Element, counts: Counter[Outcome], skipped: bool) -> None:
    """The counts JUnit readers show: tests, failures, errors (and, on a suite, skipped)."""
    element.set("tests", str(counts.total()))
    element.set("failures", str(counts[Outcome.FAILED]))
    element.set("errors", str(counts[Outcome.ERROR]))
    if skipped:
        element.set("skipped", str(counts[Outcome.SKIPPED]))
