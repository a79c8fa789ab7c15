"""The tables several outputs share (summary.md, report.html, post.md, the console, the endpoints
chart): a header and rows of cells written with fmt's conventions, from the typed summary. The
documents' words are in templates/; the tables are here because the console and the chart need
them as rows too."""

from __future__ import annotations

from dataclasses import dataclass

from ..analyse import budget
from ..analyse.summary import SPREAD
from ..model import fmt
from ..model.results import Summary, SweepRegime
from ..model.shape import ENDPOINT_TITLES, ENDPOINTS


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]

    def first_columns(self, n: int) -> Table:
        """The first n columns (the console shows fewer)."""
        return Table(self.header[:n], [row[:n] for row in self.rows])


def arm_name(summary: Summary, key: str) -> str:
    return f"{summary.arms[key].act} {key}"


ENDPOINT_HEADER = ["arm", "endpoint", "requests", "throughput", "p50", "p95", "p99", "errors"]


def endpoints(summary: Summary) -> Table:
    """[arm, endpoint, requests, throughput, p50, p95, p99, errors] per arm and endpoint (medians)."""
    rows = []
    for key, arm in summary.arms.items():
        for endpoint in ENDPOINTS:
            e = arm.median.endpoints.get(endpoint)
            if not e:
                continue
            rows.append([arm_name(summary, key), ENDPOINT_TITLES[endpoint], fmt.whole(e.count), f"{e.rps:.1f}/s",
                         fmt.ms(e.p50_ms), fmt.ms(e.p95_ms), fmt.ms(e.p99_ms), fmt.pct(e.error_rate)])
    return Table(ENDPOINT_HEADER, rows)


HEADLINE_HEADER = ["arm", "pools", "read p95 (bursts)", "server-side read p95 (bursts)",
                   "read p95 (before the bursts)", "read errors", "write p95 (bursts)",
                   "write errors", "service CPU peak (cores)", "Postgres CPU peak (cores)", "max pool waiters",
                   "acquire timeouts", "peak tokio tasks", "k6 dropped iterations"]


def headline(summary: Summary) -> Table:
    """The headline numbers of every arm (medians over repeats)."""
    rows = []
    for key, arm in summary.arms.items():
        m = arm.median
        rows.append([
            arm_name(summary, key), fmt.pools(arm.pools) or str(arm.pool_size), fmt.ms(m.read.burst_p95_ms),
            fmt.ms(m.read.server_burst_p95_ms), fmt.ms(m.read.baseline_p95_ms),
            fmt.pct(m.read.error_rate), fmt.ms(m.write.burst_p95_ms), fmt.pct(m.write.error_rate),
            fmt.cores(m.cpu.service.peak_cores), fmt.cores(m.cpu.postgres.peak_cores),
            fmt.num(m.pool.max_waiters), fmt.num(m.pool.acquire_timeouts), fmt.num(m.tasks.peak),
            fmt.num(m.dropped_iterations),
        ])
    return Table(HEADLINE_HEADER, rows)


REPEAT_HEADER = ["repeat", "arm", "read p95 in bursts (k6)", "same, in the service", "k6 / service",
                 "read errors", "write errors", "CPU in bursts (cores)", "k6 dropped"]


def repeats(summary: Summary) -> Table:
    """Every repeat of every arm: the headline numbers, not only their medians."""
    rows = []
    for i in range(summary.repeats):
        for key, arm in summary.arms.items():
            if i >= len(arm.repeats):
                continue
            h = arm.repeats[i]
            read, cpu = h.read, h.cpu
            if cpu.sut_side and cpu.load_side:
                used = (f"service side {fmt.cores(cpu.sut_side.burst_mean_cores)} of {cpu.sut_side.cpus}, "
                        f"load side {fmt.cores(cpu.load_side.burst_mean_cores)} of {cpu.load_side.cpus}")
            elif cpu.lab:  # what counts against the usable CPU (cpulimit.py)
                used = f"lab {fmt.cores(cpu.lab.burst_mean_cores)} of {fmt.num(summary.usable_cpus)}"
            else:
                used = f"machine {fmt.cores(cpu.machine.burst_mean_cores)}"
            dropped, requests = h.dropped_iterations, h.requests or 0
            rows.append([str(i + 1), arm_name(summary, key), fmt.ms(read.burst_p95_ms), fmt.ms(read.server_burst_p95_ms),
                         fmt.ratio(read.client_server_ratio), fmt.pct(read.error_rate), fmt.pct(h.write.error_rate), used,
                         fmt.MISSING if dropped is None
                         else fmt.pct(dropped / (requests + dropped) if requests + dropped else 0)])
    return Table(REPEAT_HEADER, rows)


def spread(summary: Summary) -> Table:
    """min / median / max of each SPREAD number, per arm."""
    header = ["number (min / median / max)"] + [arm_name(summary, key) for key in summary.arms]
    rows = []
    for number in SPREAD:
        row = [number.name]
        for arm in summary.arms.values():
            spread = arm.spread.get(number.name)
            row.append(" / ".join(number.unit(v) for v in (spread.min, spread.median, spread.max))
                       if spread else fmt.MISSING)
        rows.append(row)
    return Table(header, rows)


POOL_HEADER = ["arm", "pool", "connections", "mean in use (bursts)", "connections handed out per s",
               "mean hold", "throughput x hold", "max waiting in the service", "peak active in Postgres"]


def pools(summary: Summary) -> Table:
    """Little's law per pool over the bursts (medians over repeats): the connections in use on
    average beside throughput x mean hold time, and where requests waited: in the service's pool
    (waiters) or in Postgres (backends running a query)."""
    rows = []
    for key, arm in summary.arms.items():
        m = arm.median
        for pool, law in m.little.items():
            backends = m.database.get(pool)
            rows.append([arm_name(summary, key), pool, fmt.num(m.pool.sizes.get(pool)), _one_decimal(law.mean_in_use),
                         _one_decimal(law.throughput_rps), fmt.ms(law.mean_hold_ms),
                         _one_decimal(law.predicted_in_use), fmt.num(m.pool.max_waiters_by_pool.get(pool)),
                         fmt.num(backends.peak_active if backends else None)])
    return Table(POOL_HEADER, rows)


def _one_decimal(value: float | None) -> str:
    return fmt.MISSING if value is None else f"{value:.1f}"


LOAD_PROCESS_HEADER = ["arm", "repeat", "k6 process", "segment", "requests", "dropped iterations",
                       "k6 CPU mean (cores)", "k6 CPU in bursts (cores)", "first request after the run's"]


def load_processes(summary: Summary) -> Table:
    """Every k6 process of every repeat of every arm: its execution segment, the requests it made
    and the iterations it dropped, its CPU, and how long after the run's first request its own
    first one came."""
    rows = []
    for key, arm in summary.arms.items():
        for repeat, h in enumerate(arm.repeats, 1):
            for p in h.load_processes.values():
                rows.append([arm_name(summary, key), str(repeat), str(p.index), p.segment, fmt.whole(p.requests),
                             fmt.num(p.dropped_iterations), fmt.cores(p.cpu.mean_cores),
                             fmt.cores(p.cpu.burst_mean_cores), fmt.ms(p.first_request_offset_ms)])
    return Table(LOAD_PROCESS_HEADER, rows)


def most_load_processes(summary: Summary) -> int:
    """The most k6 processes any run had (1 for runs analysed before they were counted)."""
    return max((len(h.load_processes) for arm in summary.arms.values() for h in arm.repeats), default=1) or 1


def widest_start(summary: Summary) -> tuple[str, float] | None:
    """The run whose k6 processes started furthest apart ("shared rep 2"), and by how much (ms)."""
    spreads = [(f"{key} rep {repeat}", h.load_start_spread_ms) for key, arm in summary.arms.items()
               for repeat, h in enumerate(arm.repeats, 1) if h.load_start_spread_ms is not None]
    return max(spreads, key=lambda spread: spread[1], default=None)


def cpu_budget(summary: Summary) -> Table:
    """Each role's CPU in the bursts as the plan predicted it (budget.py) beside what it used in
    each arm (mean cores in the bursts, median over repeats); the last row is the total against
    the usable CPU. No rows without a plan (explicit rates, runs from before)."""
    plan = summary.cpu_plan
    chosen = plan.chosen if plan else None
    header = ["role", "predicted", *(f"{arm_name(summary, key)} measured" for key in summary.arms)]
    if chosen is None:
        return Table(header, [])
    measured = {key: budget.measured_in_bursts(arm.median.cpu) for key, arm in summary.arms.items()}
    rows = [[role, fmt.cores(chosen.predicted.get(role)), *(fmt.cores(m.get(role)) for m in measured.values())]
            for role in [*budget.ROLE_GROUPS, budget.REST] if role in chosen.predicted]
    rows.append([f"total (of {fmt.num(plan.usable_cpus)} usable)", fmt.cores(chosen.predicted_total),
                 *(fmt.cores(m["total"]) for m in measured.values())])
    return Table(header, rows)


SWEEP_HEADER = ["arm", "step", "offered", "sent", "goodput (2xx)", "read p95 k6 / service", "read errors",
                "write errors", "max waiters", "CPU lab (service / postgres / k6)", "trusted"]
NOT_MEASURABLE = "not measurable here"
ROLES = ("service", "postgres", "k6")  # each step's CPU by role, beside the lab's


def sweep_steps(regime: SweepRegime) -> Table:
    """Every step of every arm of one regime of the sweep (summary.md, report.html, the console)."""
    rows = []
    for arm in regime.arms.values():
        for step in arm.steps:
            p, n = step.plan, step.numbers
            head = [arm.label, f"{p.multiple:g}x" + (" (past knee)" if step.past_knee else ""), f"{p.rate_rps} req/s"]
            if n is None:
                why = NOT_MEASURABLE if not p.measurable else "not run"
                rows.append([*head, *[fmt.MISSING] * 7, f"{why} (predicted {p.predicted_cores:.2f} cores)"])
                continue
            trusted = "yes" if not n.failed_checks else "hollow: " + "; ".join(n.failed_checks)
            if not p.measurable:
                trusted += " (over the CPU budget, run with --force)"
            rows.append([*head, f"{n.sent_rps:.0f}", f"{n.goodput_rps:.0f}",
                                f"{fmt.ms(n.read_p95_ms)} / {fmt.ms(n.read_server_p95_ms)}",
                                fmt.pct(n.read_error_rate),
                                fmt.pct(n.write_error_rate), fmt.num(n.max_waiters),
                                f"{fmt.cores(n.cpu.get('lab'))} ({' / '.join(fmt.cores(n.cpu.get(r)) for r in ROLES)})",
                                trusted])
    return Table(SWEEP_HEADER, rows)


def sweep_knees(regime: SweepRegime) -> Table:
    """Per arm: the predicted knee beside the measured one."""
    rows = []
    for arm in regime.arms.values():
        k = arm.knee
        predicted = fmt.MISSING if k.predicted_rps is None else f"{k.predicted_rps:.0f} req/s" + (
            f" ({k.predicted_multiple:g}x)" if k.predicted_multiple else "")
        measured = fmt.MISSING if k.measured_multiple is None else f"{k.measured_rps} req/s ({k.measured_multiple:g}x)"
        rows.append([arm.label, predicted, k.predicted_why, fmt.ms(arm.base_read_p95_ms), measured, k.measured_why])
    return Table(["arm", "predicted knee", "why", "calm read p95", "measured knee", "what it was"], rows)
