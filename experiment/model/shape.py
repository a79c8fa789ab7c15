"""The load's shape as the runner sees it: load/shape.json, read once into typed values.

k6 (load/lib/profile.js) reads the same file, so the mix it sends, the endpoint names it tags and
the profiles' schedule cannot drift from what the runner analyses and the documents state. The
prose about the load (the mix, the burst schedule) is written here, from that file, and nowhere else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

SHAPE_PATH = Path(__file__).resolve().parents[2] / "load" / "shape.json"


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the service as the load drives it."""

    name: str  # the service's metric label and k6's `endpoint` tag (docs/contract.md): "list_todos"
    scenario: str  # the k6 scenario that sends it: "read"
    title: str  # method and path, for tables: "GET /todos"
    plain: str  # what a reader calls these requests: "reads of the todo list"
    share: float  # its fraction of the total request rate


def read_shape(path: Path) -> tuple[tuple[Endpoint, ...], dict[str, dict]]:
    """The endpoints (in the file's order) and each profile's fields by name, from a shape file."""
    data = json.loads(path.read_text())
    mix = tuple(Endpoint(name=e["endpoint"], scenario=e["scenario"], title=e["title"], plain=e["plain"],
                         share=e["share"]) for e in data["endpoints"])
    return mix, data["profiles"]


def read_hand_rates(path: Path) -> tuple[int, int]:
    """The base and burst rates (req/s) k6 runs a preset at when none are given: `hand_rates`."""
    rates = json.loads(path.read_text())["hand_rates"]
    return rates["base_rps"], rates["burst_rps"]


# Every endpoint, in the file's order (the k6 scenarios' order); `PROFILE_FIELDS` are the profiles'
# fields by name, turned into `Profile`s by profiles.py.
MIX, PROFILE_FIELDS = read_shape(SHAPE_PATH)
_BY_SCENARIO = {e.scenario: e for e in MIX}

# The endpoint names the analysis refers to, by the scenario that sends them.
LOGIN, CREATE, LIST = (_BY_SCENARIO[s].name for s in ("login", "create", "read"))
ENDPOINTS = (LIST, LOGIN, CREATE)  # reads first: they are the story
ENDPOINT_TITLES = {e.name: e.title for e in MIX}
WRITES = (LOGIN, CREATE)


def mix_text(label: str = "title", sep: str = ", ") -> str:
    """The mix in words, each endpoint named by its `label` field, in the file's order:
    "40% POST /login, 40% POST /todos, 20% GET /todos" (title), "40% login / 40% create / 20% read"
    (scenario, sep " / "), "40% logins, 40% new todos, 20% reads of the todo list" (plain)."""
    return sep.join(f"{e.share:.0%} {getattr(e, label)}" for e in MIX)
