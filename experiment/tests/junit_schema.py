"""The JUnit XML schema verdicts.xml is checked against: junit-10.xsd of Jenkins' xunit plugin
(MIT licence, Gregory Boissinot), the schema pytest checks its own `--junitxml` output against.

It is not copied into this repository: pip downloads the source distribution of the pytest that
experiment/requirements.txt pins (its testing/example_scripts/junit-10.xsd), once, into
.lab/junit-schema/, and the file's sha256 is checked. A new pytest whose schema changed fails
here; after reading the change, update SHA256.

    python -m experiment.tests.junit_schema     # prints the schema's path (downloads it if needed)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

MEMBER = "testing/example_scripts/junit-10.xsd"
SHA256 = "a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6"
CACHE = Path(__file__).resolve().parents[2] / ".lab" / "junit-schema"


def path() -> Path:
    """The schema file, downloaded (pytest's sdist) on first use."""
    schema = CACHE / f"pytest-{pytest.__version__}-junit-10.xsd"
    if not schema.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as scratch:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                            "--no-deps", "--no-binary", ":all:", f"pytest=={pytest.__version__}", "-d", scratch],
                           check=True, timeout=300, stdout=sys.stderr)
            (sdist,) = Path(scratch).glob("pytest-*.tar.gz")
            with tarfile.open(sdist) as tar:
                member = tar.extractfile(f"{sdist.name.removesuffix('.tar.gz')}/{MEMBER}")
                assert member is not None, f"no {MEMBER} in {sdist.name}"
                data = member.read()
        digest = hashlib.sha256(data).hexdigest()
        if digest != SHA256:
            raise RuntimeError(f"{MEMBER} of pytest {pytest.__version__} has sha256 {digest}, not {SHA256}: "
                               f"read what changed, then update SHA256 in {__file__}")
        schema.write_bytes(data)
    return schema


if __name__ == "__main__":
    print(path())
