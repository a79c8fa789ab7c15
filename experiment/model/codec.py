"""The strict JSON codec of the results: typed dataclasses to plain JSON data and back, driven
by the dataclasses' own fields and type hints, and nothing else of the package.

`encode` writes a dataclass's fields in their declared order (dicts, lists and tuples all the
way down); `decode` reads one back as the type asked for and fails with a `ResultsError` naming
the field's path when one is missing, renamed, unexpected or of the wrong kind. `JsonDocument`
gives a results file `to_json`, `from_json`, `load` and `save` on top of them.

Two extension points, both declared by the dataclass itself:

- a field with `metadata=OMIT_NONE` is left out of the JSON when it is None;
- a dataclass with a `json_derived()` method has its keys written after its fields (numbers
  derived from them, for readers of the file: a profile's duration and burst windows), and lists
  them in `JSON_DERIVED` so reading accepts and ignores them.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Self

OMIT_NONE = {"omit_none": True}


class ResultsError(ValueError):
    """A results file whose shape is not the one this code reads."""


class JsonDocument:
    """What every results file shares: `to_json` (the one place its shape is written),
    `from_json` (strict: a missing, renamed or wrongly typed field fails with its path), `load` and
    `save`. A subclass names itself in error messages (`WHERE`) and may indent differently."""

    WHERE = "document"
    INDENT = 2

    def to_json(self) -> dict:
        return encode(self)

    @classmethod
    def from_json(cls, data: Any, where: str | None = None) -> Self:
        return decode(cls, data, where or cls.WHERE)

    @classmethod
    def load(cls, path: Path) -> Self:
        return cls.from_json(read(path), str(path))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=self.INDENT))


def read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ResultsError(f"{path}: {error}") from error


def encode(value: Any) -> Any:
    """A result as plain JSON data, fields in their declared order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)
                  if not (f.metadata.get("omit_none") and getattr(value, f.name) is None)}
        derived = value.json_derived() if hasattr(value, "json_derived") else {}
        return fields | {k: encode(v) for k, v in derived.items()}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(tp: Any, data: Any, where: str) -> Any:
    """`data` (parsed JSON) as a value of type `tp`, checked all the way down."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return decode(inner, data, where)
    if tp is Any:
        return data
    if data is None:
        raise ResultsError(f"{where}: null where a value is needed")
    if dataclasses.is_dataclass(tp):
        return _decode_fields(tp, data, where)
    if origin is dict:
        _expect(isinstance(data, dict), where, "an object", data)
        return {k: decode(args[1], v, f"{where}.{k}") for k, v in data.items()}
    if origin is list:
        _expect(isinstance(data, list), where, "a list", data)
        return [decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(data)]
    if origin is tuple:
        _expect(isinstance(data, list), where, "a list", data)
        return tuple(decode(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
    if tp in (int, float):  # a median over an even number of repeats makes a count fractional
        _expect(isinstance(data, int | float) and not isinstance(data, bool), where, "a number", data)
        return data
    if tp in (str, bool):
        _expect(isinstance(data, tp), where, f"a {tp.__name__}", data)
        return data
    raise TypeError(f"{where}: no JSON reading for {tp!r}")


def _decode_fields(cls: type, data: Any, where: str) -> Any:
    _expect(isinstance(data, dict), where, f"an object ({cls.__name__})", data)
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    unexpected = set(data) - set(names) - getattr(cls, "JSON_DERIVED", frozenset())
    if unexpected:
        raise ResultsError(f"{where}: unexpected field(s) {', '.join(sorted(unexpected))} in a {cls.__name__} "
                           f"(renamed? it has {', '.join(names)})")
    values = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = decode(hints[f.name], data[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ResultsError(f"{where}: missing field '{f.name}' of a {cls.__name__}")
    return cls(**values)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _expect(ok: bool, where: str, what: str, data: Any) -> None:
    if not ok:
        raise ResultsError(f"{where}: expected {what}, found {json.dumps(data)[:80]}")
