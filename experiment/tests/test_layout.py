"""The package's layout stays true: every module is listed in its subpackage's docstring, and
imports only go down the stages (run -> report -> analyse -> model)."""

import ast
import importlib
from pathlib import Path

import pytest

import experiment

PACKAGE = Path(experiment.__file__).resolve().parent
# What each stage may import, itself included. The top-level modules (__main__, check_results)
# are entry points: they may import every stage, and no stage imports them.
MAY_IMPORT = {
    "model": {"model"},
    "analyse": {"analyse", "model"},
    "report": {"report", "analyse", "model"},
    "run": {"run", "report", "analyse", "model"},
}
STAGES = set(MAY_IMPORT)


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "tests" not in p.relative_to(PACKAGE).parts)


def stage_of(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def imported(path: Path) -> list[tuple[int, str]]:
    """Every module of the package `path` imports, as a dotted name under `experiment`
    ("run.cli", "model"), with its line."""
    package = ["experiment", *path.relative_to(PACKAGE).parent.parts]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            targets = [name] if node.module else [f"{name}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        found += [(node.lineno, t.removeprefix("experiment.")) for t in targets
                  if t.startswith("experiment.") or t == "experiment"]
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_is_named_in_its_package_s_layout(path):
    if path.name == "__init__.py":
        return
    layout = ast.get_docstring(ast.parse((path.parent / "__init__.py").read_text())) or ""
    assert f"`{path.name}`" in layout, f"{path.relative_to(PACKAGE)} is not in {path.parent.name}/__init__.py's layout"


def test_every_stage_is_named_in_the_package_s_layout():
    layout = experiment.__doc__ or ""
    for stage in STAGES:
        assert f"`{stage}/`" in layout


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_go_down_the_stages(path):
    stage = stage_of(path)
    if stage is None:
        return  # an entry point
    for line, target in imported(path):
        to = target.split(".")[0]
        assert to in MAY_IMPORT[stage], (
            f"{path.relative_to(PACKAGE)}:{line} imports experiment.{target}: "
            f"{stage} may import only {', '.join(sorted(MAY_IMPORT[stage]))}")


def test_the_layering_check_sees_an_upward_import(tmp_path, monkeypatch):
    fake = tmp_path / "experiment"
    (fake / "model").mkdir(parents=True)
    (fake / "model" / "x.py").write_text("from ..run import cli\nfrom . import shape\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", fake)
    assert imported(fake / "model" / "x.py") == [(1, "run"), (2, "model.shape")]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_imports(path):
    if path.name == "__main__.py":
        return  # runs the command line when imported
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    importlib.import_module(".".join(["experiment", *(p for p in parts if p != "__init__")]))
