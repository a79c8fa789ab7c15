"""The tables and sentences several documents share (summary.md, report.html, post.md, the
console, the endpoints chart), written from the typed summary with fmt's conventions."""

from __future__ import annotations

from . import fmt
from .results import Summary
from .stats import ENDPOINT_TITLES, ENDPOINTS
from .summary import SPREAD
from .verdict import CLIENT_SERVER_MAX_RATIO


def arm_name(summary: Summary, key: str) -> str:
    return f"{summary.arms[key].act} {key}"


ENDPOINT_HEADER = ["arm", "endpoint", "requests", "throughput", "p50", "p95", "p99", "errors"]


def endpoint_rows(summary: Summary) -> list[list[str]]:
    """[arm, endpoint, requests, throughput, p50, p95, p99, errors] per arm and endpoint (medians)."""
    rows = []
    for key, arm in summary.arms.items():
        for endpoint in ENDPOINTS:
            e = arm.median.endpoints.get(endpoint)
            if not e:
                continue
            rows.append([arm_name(summary, key), ENDPOINT_TITLES[endpoint], fmt.whole(e.count), f"{e.rps:.1f}/s",
                         fmt.ms(e.p50_ms), fmt.ms(e.p95_ms), fmt.ms(e.p99_ms), fmt.pct(e.error_rate)])
    return rows


HEADLINE_HEADER = ["arm", "pools", "read p95 (bursts)", "server-side read p95 (bursts)",
                   "read p95 (before the bursts)", "read errors", "write p95 (bursts)",
                   "write errors", "service CPU peak (cores)", "Postgres CPU peak (cores)", "max pool waiters",
                   "acquire timeouts", "peak tokio tasks", "k6 dropped iterations"]


def headline_rows(summary: Summary) -> list[list[str]]:
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
    return rows


REPEAT_HEADER = ["repeat", "arm", "read p95 in bursts (k6)", "same, in the service", "k6 / service",
                 "read errors", "write errors", "CPU in bursts (cores)", "k6 dropped"]


def repeat_rows(summary: Summary) -> list[list[str]]:
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
            else:
                used = f"machine {fmt.cores(cpu.machine.burst_mean_cores)}"
            dropped, requests = h.dropped_iterations, h.requests or 0
            rows.append([str(i + 1), arm_name(summary, key), fmt.ms(read.burst_p95_ms), fmt.ms(read.server_burst_p95_ms),
                         fmt.ratio(read.client_server_ratio), fmt.pct(read.error_rate), fmt.pct(h.write.error_rate), used,
                         fmt.MISSING if dropped is None
                         else fmt.pct(dropped / (requests + dropped) if requests + dropped else 0)])
    return rows


def spread_table(summary: Summary) -> tuple[list[str], list[list[str]]]:
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
    return header, rows


def contamination_banner(summary: Summary) -> str | None:
    """One sentence for the top of every document, when some run is contaminated."""
    if not summary.contaminated:
        return None
    return (f"CONTAMINATED RUN: in {len(summary.contaminated)} run(s) k6's latencies were more than "
            f"{CLIENT_SERVER_MAX_RATIO:g}x apart from the service's own (or could not be compared), so "
            f"the client-side numbers may "
            f"measure the load generator (or the machine) too: " + "; ".join(summary.contaminated) + ".")


def rates_text(summary: Summary) -> str:
    r, p = summary.rates, summary.profile
    if r.source == "calibrated":
        return (f"{r.base_rps} req/s base and {r.burst_rps} req/s in bursts: {p.base_x:g}x and "
                f"{p.burst_x:g}x the shared pool's measured capacity of {r.capacity_rps:.0f} req/s")
    return f"{r.base_rps} req/s base and {r.burst_rps} req/s in bursts (set explicitly, not calibrated)"


def calibration_lines(summary: Summary) -> list[str]:
    c = summary.calibration
    if not c:
        return ["No calibration: the rates were given explicitly."]
    holds = ", ".join(f"{ENDPOINT_TITLES.get(e, e)} {v:.2f} ms" for e, v in sorted(c.hold_ms.items()))
    mix = ", ".join(f"{ENDPOINT_TITLES.get(e, e)} {100 * v:.0f}%" for e, v in sorted(c.mix.items()))
    busy = c.busy_connections(summary.rates.burst_rps)
    return [
        f"Probe: {c.probe_rps} req/s for {c.probe_s} s against Act I's service (one pool of "
        f"{c.connections}), fresh database, same delay and mix; {sum(c.requests.values())} requests, "
        f"{c.errors} failed.",
        f"Connection hold time per request (db_pool_connection_hold_seconds, acquire to release, waiting "
        f"excluded): {holds}; over the mix ({mix}): {c.mean_hold_ms:.2f} ms.",
        f"Capacity by Little's law: {c.connections} connections / {c.mean_hold_ms:.2f} ms = "
        f"{c.capacity_rps:.0f} req/s. Rates: {rates_text(summary)}.",
        "Connections busy at the burst rate, by the same law (rate x share x hold): " + ", ".join(
            f"{ENDPOINT_TITLES.get(e, e)} {v:.1f}" for e, v in sorted(busy.items()))
        + f"; {sum(busy.values()):.1f} in all, for a shared pool of {c.connections} "
          "(Act III gives each endpoint its own third of them).",
    ]


def cpu_sets_text(summary: Summary) -> str:
    sets = summary.cpu_sets
    if not sets:
        return "CPU sets: not recorded."
    return f"CPU sets: {sets.note}; Postgres {sets.postgres or 'not pinned'}."


# What the proxy's delay stands for, stated wherever the delay is.
DELAY_MEANING = ("it stands for a database in another zone or region, or queries that do real work "
                 "(a few milliseconds each), instead of a Postgres on the same host answering in "
                 "microseconds.")


def config_lines(summary: Summary) -> list[str]:
    p, lab = summary.profile, summary.lab
    windows = ", ".join(f"{a:g}–{b:g} s" for a, b in p.burst_windows())
    return [
        f"Profile `{p.name}`: {rates_text(summary)}; {p.bursts} bursts of "
        f"{p.burst_s} s ({p.ramp_s} s ramps in and out), {p.gap_s} s apart (warm-up {p.warmup_s} s, "
        f"recovery {p.recovery_s} s; {p.duration_s()} s in all; {p.users} users, {p.sessions} sessions). "
        f"Bursts at {windows}. Mix: 40% POST /login, 40% POST /todos, 20% GET /todos "
        f"(k6 script `{summary.load_script}`), a new connection per request.",
        f"Seed: {p.users} users x {p.todos_per_user} todos; database `{lab.database}` dropped, recreated and "
        f"seeded before every run; {p.warmup_requests} warm-up requests before k6.",
        f"Argon2id for the seeded passwords (so for each login's verification): {lab.argon2_memory_kib} KiB, "
        f"{lab.argon2_iterations} iteration(s), parallelism 1 — deliberately cheap, so CPU is not the bottleneck.",
        f"Latency proxy in front of Postgres: {lab.delay_ms} ms one-way delay"
        + (" (none: direct connection)." if not lab.delay_ms else
           f", so every database round trip takes at least {2 * lab.delay_ms} ms: {DELAY_MEANING}"),
        f"Pool acquire timeout: {lab.acquire_timeout_ms} ms (then 503 database_busy).",
        cpu_sets_text(summary),
        "Arms: " + "; ".join(f"{a.act} `{k}`: {a.pool_mode}, {a.pool_size} connections ({fmt.pools(a.pools)})"
                              for k, a in summary.arms.items()) + ".",
        f"Repeats: {summary.repeats} (numbers are medians over repeats; every repeat is listed too).",
        "Latency percentiles are client-side (k6), failed requests included; 'server-side' ones come from "
        "the service's own histogram (http_request_duration_seconds, interpolated inside buckets at most 25% "
        "wide between 10 ms and 1 s, so within that much of the exact value).",
    ]
