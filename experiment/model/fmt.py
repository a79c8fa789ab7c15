"""How numbers are written in every document (summary.md, report.html, post.md, the charts, the
console, the verdicts' evidence): one convention, here.

A missing number (None: the data to compute it was not there) is written `MISSING`, "n/a", the
word the verdicts already used for a sign that could not be judged, and what summary.json's
evidence has always said.

Two precisions: the tables round to what a reader compares (`ms`: "522 ms", "19.4 ms"; `pct`:
"0%", "14.71%"; `cores`: "0.37"); the verdicts' evidence, which summary.json keeps and the post
quotes, shows one more digit where it matters (`ms_tenths`: "521.8 ms"; `pct_fixed`: "0.00%";
`cores_unit`: "0.37 cores").
"""

from __future__ import annotations

MISSING = "n/a"


def ms(value: float | None) -> str:
    """Milliseconds, whole from 100 ms up, else to a tenth."""
    return MISSING if value is None else (f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms")


def ms_tenths(value: float | None) -> str:
    """Milliseconds to a tenth, at any size (the verdicts' evidence)."""
    return MISSING if value is None else f"{value:.1f} ms"


def pct(value: float | None) -> str:
    """A rate as a percentage with two decimals, or a plain 0%."""
    return MISSING if value is None else ("0%" if value == 0 else f"{100 * value:.2f}%")


def pct_fixed(value: float | None) -> str:
    """A rate as a percentage with two decimals, 0.00% included (the verdicts' evidence)."""
    return MISSING if value is None else f"{100 * value:.2f}%"


def cores(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f}"


def cores_unit(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f} cores"


def num(value: float | None) -> str:
    """A count or gauge as short as it goes (697, 0.5)."""
    return MISSING if value is None else f"{value:g}"


def whole(value: float | None) -> str:
    """A count rounded to a whole number (a median over repeats can be fractional)."""
    return MISSING if value is None else f"{value:.0f}"


def ratio(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2f}x"


def megabytes(value: float | None) -> str:
    """Bytes in MB (10^6), to a tenth."""
    return MISSING if value is None else f"{value / 1e6:.1f} MB"


def pools(sizes: dict[str, int], separator: str = " ") -> str:
    """Pool sizes by name, sorted: "login 4, todo_read 4, todo_write 4"."""
    return ", ".join(f"{pool}{separator}{n}" for pool, n in sorted(sizes.items()))


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def console_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([line.format(*header), line.format(*("-" * w for w in widths))] + [line.format(*r) for r in rows])
