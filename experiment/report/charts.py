"""The PNG charts, made to be posted: 1200 px wide, large type, titles that state the finding.

1. read-p95.png       GET /todos p95 per second, every arm on one chart, bursts shaded.
2. endpoints.png      per endpoint and arm: p50, p95, p99, error rate, throughput.
3. pools.png          connections in use and waiters per pool over time, one panel per arm.
4. cpu-tasks.png      CPU of service / Postgres / k6 and tokio_alive_tasks over time, per arm.
5. database.png       the database's view: each pool's backends per state (pg_backends_count) beside
                      the requests waiting in the service for that pool, per arm.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ..analyse.analysis import RunResult
from ..model import fmt
from ..model.profiles import ARMS_BY_KEY, Profile
from ..model.results import Summary
from ..model.shape import ENDPOINT_TITLES, ENDPOINTS, LIST, mix_text
from . import tables

ARM_COLORS = {"shared": "#d62728", "isolated": "#2ca02c", "shared-3x": "#1f77b4"}
POOL_COLORS = {"shared": "#d62728", "login": "#ff7f0e", "todo_write": "#9467bd", "todo_read": "#2ca02c"}
CPU_COLORS = {"service": "#d62728", "postgres": "#1f77b4", "k6": "#7f7f7f", "proxy": "#bcbd22", "ui": "#17becf",
              "recorder": "#e377c2", "others": "#8c564b", "machine": "#000000", "monitoring": "#9467bd",
              "sut_side": "#2ca02c", "load_side": "#ff7f0e"}
WIDTH_IN, DPI = 12, 100  # 1200 px

plt.rcParams.update({
    "font.size": 13, "axes.titlesize": 15, "axes.labelsize": 13, "legend.fontsize": 12,
    "figure.titlesize": 17, "figure.titleweight": "bold", "axes.spines.top": False, "axes.spines.right": False,
})


def _shade_bursts(ax, profile: Profile, label: bool = True) -> None:
    for i, (start, end) in enumerate(profile.burst_windows()):
        ax.axvspan(start, end, color="#f2c14e", alpha=0.25, lw=0, label="burst" if label and i == 0 else None)


def _panels_with_waiters(results: dict[str, list[RunResult]], profile: Profile):
    """One row per arm (its first repeat), bursts shaded: the left axis for connections, a right
    axis for the requests waiting for one. Returns the figure and (key, run, left, right) per row."""
    keys = list(results)
    fig, axes = plt.subplots(len(keys), 1, figsize=(WIDTH_IN, 3.2 * len(keys) + 1), dpi=DPI, sharex=True,
                             squeeze=False)
    panels = []
    for ax, key in zip(axes[:, 0], keys, strict=True):
        _shade_bursts(ax, profile, label=False)
        waiting = ax.twinx()
        waiting.spines["right"].set_visible(True)
        panels.append((key, results[key][0], ax, waiting))
    axes[-1, 0].set_xlabel("seconds since the load started (bursts shaded)")
    return fig, panels


def _finish_with_waiters(ax, waiting, profile: Profile, ylabel: str, fontsize: int, ncol: int) -> None:
    """Labels, limits, grid and one legend for a panel whose right axis (`waiting`) counts the
    requests waiting for a connection in the service."""
    ax.set_ylabel(ylabel)
    waiting.set_ylabel("requests waiting")
    ax.set_xlim(0, profile.duration_s())
    ax.grid(True, alpha=0.25)
    lines = ax.get_legend_handles_labels()
    more = waiting.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right", fontsize=fontsize, ncol=ncol, framealpha=0.9)


def _xy(points):
    return [p[0] for p in points], [p[1] for p in points]


def _arm_name(key: str) -> str:
    arm = ARMS_BY_KEY[key]
    return f"{arm.act} · {key} ({arm.pool_size} conns)"


def read_title(summary: Summary) -> str:
    """The finding, from the numbers: how high reads went during bursts in each arm."""
    parts = []
    for key, arm in summary.arms.items():
        read = arm.median.read
        part = f"{ARMS_BY_KEY[key].act} {fmt.ms(read.burst_p95_ms)}"
        if read.error_rate:
            part += f", {fmt.pct(read.error_rate)} errors"
        parts.append(part)
    return "GET /todos p95 during the bursts\n" + " · ".join(parts)


def chart_read_p95(results: dict[str, list[RunResult]], profile: Profile, summary: Summary, path: Path) -> None:
    """Client-side per-second p95 on top (what users wait), the service's own below (no k6 in it)."""
    fig, (ax, ax_srv) = plt.subplots(2, 1, figsize=(WIDTH_IN, 8.5), dpi=DPI, sharex=True,
                                     gridspec_kw={"height_ratios": [3, 2]})
    for panel, attr in ((ax, "client_p95"), (ax_srv, "server_p95")):
        _shade_bursts(panel, profile, label=panel is ax)
        for key, runs in results.items():
            for i, run in enumerate(runs):
                x, y = _xy(getattr(run.series, attr).get(LIST, []))
                panel.plot(x, y, color=ARM_COLORS[key], lw=2.2 if i == 0 else 1, alpha=1 if i == 0 else 0.4,
                           label=_arm_name(key) if i == 0 else None)
        panel.set_yscale("log")
        panel.grid(True, which="both", alpha=0.25)
    ax.set_xlim(0, profile.duration_s())
    ax_srv.set_xlabel("seconds since the load started")
    ax.set_ylabel("p95 per second, k6 (ms)")
    ax_srv.set_ylabel("p95, service (ms)")
    ax.set_title(read_title(summary), loc="left")
    ax_srv.set_title("the service's own histogram (interpolated in buckets at most 25% wide), bursts: "
                     + " · ".join(f"{ARMS_BY_KEY[k].act} {fmt.ms(arm.median.read.server_burst_p95_ms)}"
                                  for k, arm in summary.arms.items()),
                     loc="left", fontsize=12)
    ax.legend(loc="upper right", framealpha=0.9)
    fig.text(0.01, 0.01, f"client-side (k6), failed requests included · {_caption(summary)}",
             fontsize=10, color="#555")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path)
    plt.close(fig)


def _caption(summary: Summary) -> str:
    r = summary.rates
    return (f"{r.base_rps}→{r.burst_rps} req/s bursts, {mix_text('scenario', ' / ')} · "
            f"DB delay {summary.lab.delay_ms} ms · {summary.usable_cpus:g} usable CPUs")


def chart_endpoints(summary: Summary, path: Path) -> None:
    table = tables.endpoints(summary)
    rows = table.rows
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.9 + 0.4 * (len(rows) + 1)), dpi=DPI)
    ax.axis("off")
    widths = [0.2, 0.13, 0.1, 0.11, 0.1, 0.1, 0.1, 0.08]
    cells = ax.table(cellText=rows, colLabels=table.header, colWidths=widths, loc="upper center",
                     cellLoc="center", bbox=[0, 0, 1, 1])
    cells.auto_set_font_size(False)
    cells.set_fontsize(12)
    for (row, _col), cell in cells.get_celld().items():
        if row == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#eeeeee")
        elif rows[row - 1][1] == ENDPOINT_TITLES[LIST]:
            cell.set_facecolor("#fff4d6")
    title = "GET /todos over the whole run\n" + " · ".join(
        f"{ARMS_BY_KEY[k].act} p95 {fmt.ms(arm.median.read.p95_ms)}, {fmt.pct(arm.median.read.error_rate)} errors"
        for k, arm in summary.arms.items())
    ax.set_title(title, loc="left", fontsize=13, fontweight="bold")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def chart_pools(results: dict[str, list[RunResult]], profile: Profile, summary: Summary, path: Path) -> None:
    # Connections in use (bounded by the pool size) on the left axis; waiters, which can be
    # hundreds, on the right one.
    fig, panels = _panels_with_waiters(results, profile)
    for key, run, ax, waiting in panels:
        for pool, points in sorted(run.series.pool_in_use.items()):
            color = POOL_COLORS.get(pool, "#333333")
            size = run.series.pool_max.get(pool, 0)
            ax.plot(*_xy(points), color=color, lw=2.2, label=f"{pool}: in use (of {size:.0f})")
        for pool, points in sorted(run.series.pool_waiters.items()):
            waiting.plot(*_xy(points), color=POOL_COLORS.get(pool, "#333333"), lw=1.4, ls="--",
                         label=f"{pool}: waiting")
        top = max(run.series.pool_max.values(), default=1)
        ax.set_ylim(0, top * 1.1)
        waiting.set_ylim(bottom=0)
        pool = run.headline.pool
        ax.set_title(f"{_arm_name(key)}: max waiters {fmt.num(pool.max_waiters)}, "
                     f"acquire timeouts {fmt.num(pool.acquire_timeouts)}", loc="left", fontsize=13)
        _finish_with_waiters(ax, waiting, profile, "connections in use", fontsize=10, ncol=2)
    fig.suptitle("Requests waiting for a connection (dashed, right axis), at most: "
                 + ", ".join(f"{ARMS_BY_KEY[k].act} {fmt.num(arm.median.pool.max_waiters)}"
                             for k, arm in summary.arms.items()), x=0.01, ha="left", fontsize=14)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def chart_database(results: dict[str, list[RunResult]], profile: Profile, summary: Summary, path: Path) -> None:
    """Where requests wait: the pool's backends as Postgres sees them (running a query or idle, left
    axis) beside the requests waiting for one of them in the service (right axis)."""
    fig, panels = _panels_with_waiters(results, profile)
    for key, run, ax, waiting in panels:
        for pool, states in sorted(run.series.backends.items()):
            color = POOL_COLORS.get(pool, "#333333")
            for state, points in sorted(states.items()):
                active = state == "active"
                ax.plot(*_xy(points), color=color, lw=2.2 if active else 1, alpha=1 if active else 0.5,
                        ls="-" if active else ":", label=f"{pool}: {state} in Postgres")
        for pool, points in sorted(run.series.pool_waiters.items()):
            waiting.plot(*_xy(points), color=POOL_COLORS.get(pool, "#333333"), lw=1.4, ls="--",
                         label=f"{pool}: waiting in the service")
        ax.set_ylim(0, max(run.series.pool_max.values(), default=1) * 1.15)
        waiting.set_ylim(bottom=0)
        active = {pool: b.peak_active for pool, b in run.headline.database.items() if b.peak_active is not None}
        ax.set_title(f"{_arm_name(key)}: at most {fmt.num(run.headline.pool.max_waiters)} waiting in the service; "
                     f"backends running a query, at most: {fmt.num(max(active.values(), default=None))}",
                     loc="left", fontsize=13)
        _finish_with_waiters(ax, waiting, profile, "backends", fontsize=9, ncol=3)
    fig.suptitle("The database's view: backends per state (left) beside requests waiting in the service (dashed, right)",
                 x=0.01, ha="left", fontsize=14)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def chart_cpu_tasks(results: dict[str, list[RunResult]], profile: Profile, summary: Summary, path: Path) -> None:
    keys = list(results)
    cores = summary.machine.cores or 1
    fig, axes = plt.subplots(len(keys), 2, figsize=(WIDTH_IN, 3.0 * len(keys) + 1), dpi=DPI, sharex=True,
                             squeeze=False)
    for row, key in enumerate(keys):
        run = results[key][0]
        ax_cpu, ax_tasks = axes[row]
        _shade_bursts(ax_cpu, profile, label=False)
        _shade_bursts(ax_tasks, profile, label=False)
        sides = run.headline.cpu
        for group, points in run.series.cpu.items():
            if points:
                machine = group == "machine"
                side = group.endswith("_side")
                label = {"machine": "whole machine", "others": "outside the lab's processes",
                         "recorder": "recorder (Chromium)", "ui": "UI (next)",
                         "monitoring": "Prometheus + exporter",
                         "sut_side": f"service side's CPUs ({sides.sut_side.cpus if sides.sut_side else None})",
                         "load_side": f"load side's CPUs ({sides.load_side.cpus if sides.load_side else None})",
                         }.get(group, group)
                ax_cpu.plot(*_xy(points), color=CPU_COLORS.get(group), lw=1 if machine else 3 if side else 1.5,
                            alpha=0.45 if side else 1.0,
                            ls="-." if machine else ":" if group == "others" else "-", label=label)
        ax_cpu.axhline(cores, color="black", lw=1, ls=":", label=f"machine ({cores} cores)")
        ax_cpu.set_ylim(0, cores * 1.6)  # headroom for the legend
        ax_cpu.set_ylabel("CPU (cores)")
        ax_cpu.set_title(f"{_arm_name(key)}: CPU", loc="left", fontsize=12)
        ax_cpu.legend(loc="upper left", fontsize=7, ncol=4, framealpha=0.9)
        ax_tasks.plot(*_xy(run.series.tasks), color="#8c564b", lw=1.8, label="tokio_alive_tasks")
        ax_tasks.plot(*_xy(run.series.in_flight), color="#d62728", lw=1.4, label="requests in flight")
        ax_tasks.set_ylabel("tasks / requests")
        ax_tasks.set_ylim(bottom=0)
        ax_tasks.legend(loc="upper right", fontsize=8, framealpha=0.9)
        ax_tasks.set_title(f"{ARMS_BY_KEY[key].act}: live tokio tasks, requests in flight", loc="left", fontsize=12)
        for ax in (ax_cpu, ax_tasks):
            ax.set_xlim(0, profile.duration_s())
            ax.grid(True, alpha=0.25)
    for ax in axes[-1]:
        ax.set_xlabel("seconds (bursts shaded)")
    first = next(iter(results))
    cpu = summary.arms[first].median.cpu
    peak, machine = cpu.service.peak_cores, cpu.machine.burst_mean_cores
    sut = cpu.sut_side.burst_mean_cores if cpu.sut_side else None
    load = cpu.load_side.burst_mean_cores if cpu.load_side else None
    title = f"{ARMS_BY_KEY[first].act}: service's busiest second {fmt.cores(peak)} of {cores} cores; "
    if sut is not None and load is not None:
        title += f"bursts: service side {fmt.cores(sut)}, load side {fmt.cores(load)} of their CPUs"
    else:
        title += f"the whole machine {fmt.cores(machine)} on average during bursts"
    fig.suptitle(title, x=0.01, ha="left", fontsize=14)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def make_all(results: dict[str, list[RunResult]], profile: Profile, summary: Summary, out_dir: Path) -> list[str]:
    """Draw every chart into out_dir; returns the file names, in reading order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = [
        ("read-p95.png", lambda p: chart_read_p95(results, profile, summary, p)),
        ("endpoints.png", lambda p: chart_endpoints(summary, p)),
        ("pools.png", lambda p: chart_pools(results, profile, summary, p)),
        ("cpu-tasks.png", lambda p: chart_cpu_tasks(results, profile, summary, p)),
        ("database.png", lambda p: chart_database(results, profile, summary, p)),
    ]
    for name, draw in charts:
        draw(out_dir / name)
    return [name for name, _ in charts]


__all__ = ["ENDPOINTS", "make_all"]
