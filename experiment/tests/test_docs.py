"""The documents keep their promises: the README stays a front door (under 10 KB), every run a
document names is in the lab notebook (docs/results.md), and the README's options table lists
exactly the runner's options (argparse, experiment/run/cli.py, owns the list)."""

import os
import re
from pathlib import Path

import pytest

from experiment.run import cli

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NOTEBOOK = ROOT / "docs" / "results.md"
# A results folder's name: the UTC time the run started, maybe after a prefix given by hand.
RUN_ID = re.compile(r"\b(?:[a-z]+-)?\d{8}T\d{6}Z\b")
OPTION = re.compile(r"--[a-z0-9][a-z0-9-]*")


def documents() -> list[Path]:
    """README.md, docs/ and the other folders' READMEs: every Markdown file outside what is
    generated or installed (hidden folders, node_modules, results, target)."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if not d.startswith(".") and d not in {"node_modules", "results", "target"}]
        found += [Path(folder) / name for name in files if name.endswith(".md")]
    return sorted(found)


def listed_runs() -> set[str]:
    """The run ids that head an entry of the notebook (`## <id> ...`)."""
    return {m.group(0) for line in NOTEBOOK.read_text().splitlines() if line.startswith("## ")
            for m in RUN_ID.finditer(line)}


def test_the_readme_stays_under_10_kb():
    size = len(README.read_bytes())
    assert size < 10_000, f"README.md is {size} bytes: move detail to docs/"


def test_the_run_id_pattern_finds_prefixed_and_plain_ids():
    text = "runs `20261128T123844Z`, nopin-20261128T070627Z and results/20261127T120215Z/report.html"
    assert RUN_ID.findall(text) == ["20261128T123844Z", "nopin-20261128T070627Z", "20261127T120215Z"]


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_run_a_document_names_is_in_the_lab_notebook(path):
    named = set(RUN_ID.findall(path.read_text()))
    missing = sorted(named - listed_runs())
    assert not missing, f"{path.relative_to(ROOT)} names runs docs/results.md does not list: {missing}"


def readme_options() -> set[str]:
    """The options in the first column of the README's table under "## Options"."""
    section = README.read_text().split("\n## Options\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {option for row in rows for option in OPTION.findall(row.split(" | ")[0])}


def runner_options(capsys) -> set[str]:
    """Every option `python -m experiment --help` lists (after its description)."""
    with pytest.raises(SystemExit):
        cli.parse_args(["--help"])
    listed = capsys.readouterr().out.split("\noptions:\n", 1)[1]
    return set(OPTION.findall(listed)) - {"--help"}


def test_the_readme_options_table_lists_exactly_the_runner_s_options(capsys):
    runner, readme = runner_options(capsys), readme_options()
    assert "--report-only" in runner and "--arms" in readme
    assert not runner - readme, f"options missing from README.md's table: {sorted(runner - readme)}"
    assert not readme - runner, f"options in README.md's table the runner does not have: {sorted(readme - runner)}"


def heading_anchors(path: Path) -> set[str]:
    """The anchors GitHub makes of a Markdown file's headings: lower case, punctuation dropped,
    spaces as hyphens."""
    return {re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
            for line in path.read_text().splitlines() if line.startswith("#")}


@pytest.mark.parametrize("path", documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_between_the_documents_leads_somewhere(path):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if target.startswith(("http://", "https://")):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file) if file else path
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked)):
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: links that lead nowhere: {broken}"
