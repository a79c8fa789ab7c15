"""A small parser for the Prometheus text exposition format, and histogram quantiles.

The service's /metrics is plain `name{label="value",...} number` lines with `# HELP` / `# TYPE`
comments; that is all this handles (no exemplars, no OpenMetrics extensions).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?\s*$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def _unescape(value: str) -> str:
    return re.sub(r'\\[\\"n]', lambda m: _UNESCAPE[m.group(0)], value)


def parse_labels(text: str) -> dict[str, str]:
    """`a="1",b="x\\"y"` -> {"a": "1", "b": 'x"y'}."""
    labels: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        match = _LABEL.match(text, pos)
        if not match:
            if text[pos:].strip(" ,"):
                raise ValueError(f"bad labels: {text!r}")
            break
        labels[match.group(1)] = _unescape(match.group(2))
        pos = match.end()
    return labels


def series_key(name: str, labels: dict[str, str]) -> str:
    """A canonical string for one series: `name{a="1",b="2"}` with sorted labels."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def parse(text: str) -> dict[str, float]:
    """Parse an exposition into {series_key: value}. Comments and blank lines are skipped."""
    out: dict[str, float] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            raise ValueError(f"bad metrics line: {raw!r}")
        name, _, label_text, value = match.group(1), match.group(2), match.group(3), match.group(4)
        labels = parse_labels(label_text) if label_text else {}
        out[series_key(name, labels)] = float(value)
    return out


def split_key(key: str) -> tuple[str, dict[str, str]]:
    """Inverse of series_key."""
    if "{" not in key:
        return key, {}
    name, rest = key.split("{", 1)
    return name, parse_labels(rest[:-1])


def select(samples: dict[str, float], name: str, **match: str) -> list[tuple[dict[str, str], float]]:
    """All series of metric `name` whose labels include `match`."""
    found = []
    for key, value in samples.items():
        if not key.startswith(name):
            continue
        series_name, labels = split_key(key)
        if series_name == name and all(labels.get(k) == v for k, v in match.items()):
            found.append((labels, value))
    return found


def total(samples: dict[str, float], name: str, **match: str) -> float:
    """Sum of every series of `name` whose labels include `match` (0 when there is none)."""
    return sum(value for _, value in select(samples, name, **match))


def by_label(samples: dict[str, float], name: str, label: str, **match: str) -> dict[str, float]:
    """Sum `name` grouped by one label's value: by_label(s, "db_pool_waiters", "pool")."""
    grouped: dict[str, float] = {}
    for labels, value in select(samples, name, **match):
        key = labels.get(label, "")
        grouped[key] = grouped.get(key, 0.0) + value
    return grouped


def histogram_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float | None:
    """Prometheus' histogram_quantile: linear interpolation inside the bucket holding rank q*n.

    `buckets` are (upper bound `le`, cumulative count) pairs, +Inf included. Returns None for an
    empty histogram; a quantile in the +Inf bucket returns the highest finite bound.
    """
    pairs = sorted(buckets, key=lambda b: b[0])
    if not pairs or pairs[-1][1] <= 0:
        return None
    count = pairs[-1][1]
    rank = q * count
    prev_le, prev_count = 0.0, 0.0
    for le, cumulative in pairs:
        if cumulative >= rank:
            if math.isinf(le):
                return prev_le
            if cumulative == prev_count:
                return le
            return prev_le + (le - prev_le) * (rank - prev_count) / (cumulative - prev_count)
        prev_le, prev_count = le, cumulative
    return prev_le


def histogram_buckets(samples: dict[str, float], name: str, **match: str) -> list[tuple[float, float]]:
    """Cumulative (le, count) pairs of histogram `name`, summed over series matching `match`."""
    merged: dict[float, float] = {}
    for labels, value in select(samples, f"{name}_bucket", **match):
        le = float(labels["le"])
        merged[le] = merged.get(le, 0.0) + value
    return sorted(merged.items())
