"""The sweep's charts (sweep.py), in the style of charts.py: one column per regime, the offered
load (as a multiple of the regime's capacity: the shared pool's, or the database's under a quota) across.

1. sweep-reads.png    GET /todos p95 (log scale) and read errors against offered load, one line per
                      arm; each arm's predicted knee a dashed mark; a step that failed a trust check
                      hollow; steps not measurable here shaded.
2. sweep-goodput.png  requests answered 2xx per second against offered load, and the offered
                      load itself (the diagonal): where an arm falls under it, it sheds.
"""

from __future__ import annotations

from pathlib import Path

from ..model.results import SweepArm, SweepRegime, SweepSummary
from .charts import ARM_COLORS, DPI, WIDTH_IN, plt


def sweep_charts(summary: SweepSummary, out_dir: Path) -> list[str]:
    """Draw the sweep's charts into out_dir; returns the file names, in reading order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if not summary.regimes:
        return []
    charts = [("sweep-reads.png", chart_reads), ("sweep-goodput.png", chart_goodput)]
    for name, draw in charts:
        draw(summary, out_dir / name)
    return [name for name, _ in charts]


def _points(arm: SweepArm, value) -> tuple[list, list, list, list]:
    """(x, y) of the trusted steps and of the hollow ones (failed a trust check), x in multiples."""
    solid: tuple[list, list] = ([], [])
    hollow: tuple[list, list] = ([], [])
    for step in arm.steps:
        y = value(step.numbers) if step.numbers else None
        if y is None:
            continue
        target = hollow if step.numbers.failed_checks else solid
        target[0].append(step.plan.multiple)
        target[1].append(y)
    return solid[0], solid[1], hollow[0], hollow[1]


def _draw(ax, regime: SweepRegime, value, knees: bool) -> None:
    """One line per arm through every step it ran, trusted steps filled and the others hollow."""
    for key, arm in regime.arms.items():
        color = ARM_COLORS.get(key, "#555")
        line = [(s.plan.multiple, value(s.numbers)) for s in arm.steps if s.numbers and value(s.numbers) is not None]
        ax.plot([x for x, _ in line], [y for _, y in line], color=color, lw=2, label=arm.label)
        sx, sy, hx, hy = _points(arm, value)
        ax.scatter(sx, sy, color=color, s=45, zorder=3)
        ax.scatter(hx, hy, facecolors="white", edgecolors=color, s=60, lw=2, zorder=3)
        if knees and arm.knee.predicted_multiple is not None:
            ax.axvline(arm.knee.predicted_multiple, color=color, ls="--", lw=1.2, alpha=0.8)
    steps = next(iter(regime.arms.values())).steps if regime.arms else []
    unmeasured = [s.plan.multiple for s in steps if not s.plan.measurable]
    if unmeasured:
        ax.axvspan(min(unmeasured) - 0.05, max(unmeasured) + 0.05, color="#999", alpha=0.15, lw=0,
                   label="not measurable here")
    ax.grid(alpha=0.3)


def _title(regime: SweepRegime) -> str:
    quota = f", Postgres {regime.regime.db_cpu:g} CPU" if regime.regime.db_cpu else ""
    return f"{regime.regime.title}\n({regime.delay_ms} ms delay{quota})"


def _capacity_label(regime: SweepRegime) -> str:
    """What the regime's steps are multiples of (sweep.capacity_of), for the x axis."""
    database = regime.regime.db_capacity_rps
    below_pool = database is not None and regime.capacity_rps is not None and database <= regime.capacity_rps
    return "the database's capacity" if below_pool else "the shared pool's capacity"


def chart_reads(summary: SweepSummary, path: Path) -> None:
    regimes = summary.regimes
    fig, axes = plt.subplots(2, len(regimes), figsize=(WIDTH_IN, 8.5), dpi=DPI, squeeze=False, sharex=True)
    for column, regime in enumerate(regimes):
        top, bottom = axes[0, column], axes[1, column]
        _draw(top, regime, lambda n: n.read_p95_ms, knees=True)
        top.set_yscale("log")
        top.set_title(_title(regime))
        _draw(bottom, regime, lambda n: 100 * n.read_error_rate, knees=True)
        bottom.set_xlabel(f"offered load, x {_capacity_label(regime)}")
    axes[0, 0].set_ylabel("GET /todos p95, ms (log)")
    axes[1, 0].set_ylabel("GET /todos errors, %")
    axes[0, 0].legend(loc="upper left", fontsize=10)
    fig.suptitle("Where each design's reads break (dashed: predicted knee; hollow: a trust check failed)",
                 x=0.01, ha="left", fontsize=14)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def chart_goodput(summary: SweepSummary, path: Path) -> None:
    regimes = summary.regimes
    fig, axes = plt.subplots(1, len(regimes), figsize=(WIDTH_IN, 4.8), dpi=DPI, squeeze=False)
    for column, regime in enumerate(regimes):
        ax = axes[0, column]
        capacity = regime.capacity_rps or 1.0
        _draw(ax, regime, lambda n, c=capacity: n.goodput_rps / c, knees=False)
        top = max((s.plan.multiple for a in regime.arms.values() for s in a.steps), default=1.0)
        ax.plot([0, top], [0, top], color="#999", ls=":", lw=1.5, label="offered")
        ax.set_title(_title(regime))
        ax.set_xlabel(f"offered load, x {_capacity_label(regime)}")
    axes[0, 0].set_ylabel("answered 2xx, x capacity")
    axes[0, 0].legend(loc="upper left", fontsize=10)
    fig.suptitle("Goodput against offered load", x=0.01, ha="left", fontsize=14)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
