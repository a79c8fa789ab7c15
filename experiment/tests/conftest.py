"""Fixtures shared by the tests: analysed made-up runs and their summary (synthetic.py)."""

import pytest

from experiment.tests.synthetic import analysed_runs, summary_of


@pytest.fixture
def runs(tmp_path):
    """Two repeats of the tiny run, analysed (their folders are tmp_path/rep-1 and rep-2)."""
    return analysed_runs(tmp_path)


@pytest.fixture
def whole(runs):
    """The summary of those two repeats."""
    return summary_of(runs)
