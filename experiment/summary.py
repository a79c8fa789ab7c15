"""summary.json (every headline number, for the report and the post), summary.md, console table.

With several repeats, an arm's `median` holds the median of every number over its repeats and
`spread` holds min / median / max of the headline numbers.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from . import stats, verdict
from .analysis import RunResult
from .profiles import ARMS_BY_KEY, LabParams, Profile
from .shape import mix_text, schedule_text
from .stats import ENDPOINT_TITLES, ENDPOINTS

# The numbers whose spread across repeats the report shows (dotted paths into a headline).
SPREAD_KEYS = (
    "read.burst_p95_ms", "read.server_burst_p95_ms", "read.client_server_ratio", "read.p95_ms", "read.max_1s_p95_ms", "read.error_rate",
    "write.burst_p95_ms", "write.p95_ms", "write.error_rate",
    "cpu.service.peak_cores", "cpu.postgres.peak_cores", "pool.max_waiters", "pool.acquire_timeouts",
    "tasks.peak", "in_flight.peak",
)


def get(tree: dict, dotted: str):
    for part in dotted.split("."):
        if not isinstance(tree, dict) or part not in tree:
            return None
        tree = tree[part]
    return tree


def median_tree(trees: list):
    """Element-wise median of numbers in same-shaped dicts; other values from the first tree."""
    first = trees[0]
    if isinstance(first, dict):
        keys = {k for t in trees if isinstance(t, dict) for k in t}
        return {k: median_tree([t.get(k) for t in trees if isinstance(t, dict)]) for k in keys}
    numbers = [t for t in trees if isinstance(t, (int, float)) and not isinstance(t, bool)]
    if numbers and len(numbers) == len([t for t in trees if t is not None]):
        return statistics.median(numbers)
    return first


def build(run_id: str, profile: Profile, lab: LabParams, load_script: str, repeats: int,
          results: dict[str, list[RunResult]], machine: dict, versions: dict, notes: list[str],
          rates: dict, calibration: dict | None, cpu_sets: dict | None) -> dict:
    arms = {}
    for key, runs in results.items():
        arm = ARMS_BY_KEY[key]
        headlines = [r.headline for r in runs]
        median = median_tree(headlines)
        arms[key] = {
            "act": arm.act, "label": arm.label, "story": arm.story,
            "pool_mode": arm.pool_mode, "pool_size": arm.pool_size,
            "pools": median["pool"]["sizes"] if median.get("pool") else {},
            "median": median,
            "spread": {k: stats.spread(get(h, k) for h in headlines) for k in SPREAD_KEYS},
            "repeats": headlines,
            "run_dirs": [str(r.run_dir) for r in runs],
        }
    per_repeat = []
    for i in range(repeats):
        arm_headlines = {key: runs[i].headline for key, runs in results.items() if i < len(runs)}
        per_repeat.append(verdict.judge(arm_headlines, machine.get("cores") or 1))
    return {
        "schema": 2,
        "run_id": run_id,
        "profile": profile.to_dict(),
        "rates": rates,
        "calibration": calibration,
        "cpu_sets": cpu_sets,
        "lab": lab.to_dict(),
        "load_script": load_script,
        "repeats": repeats,
        "machine": machine,
        "versions": versions,
        "arms": arms,
        "headline": _headline(arms),
        "verdicts": verdict.combine(per_repeat),
        "contaminated": _contaminated(results),
        "notes": notes,
    }


def _contaminated(results: dict[str, list[RunResult]]) -> list[str]:
    """The runs whose client-side read p95 is too far from the service's own to be trusted."""
    limit = verdict.CLIENT_SERVER_MAX_RATIO
    found = []
    for key, runs in results.items():
        for run in runs:
            read = run.headline["read"]
            ratio = read.get("client_server_ratio")
            if ratio is None:
                found.append(f"{key} rep {run.repeat}: unchecked, the service's own read p95 is missing")
            elif not 1 / limit <= ratio <= limit:
                found.append(f"{key} rep {run.repeat}: k6's burst read p95 {ms(read['burst_p95_ms'])} is "
                             f"{ratio:.1f}x the service's own {ms(read['server_burst_p95_ms'])}")
    return found


def contamination_banner(summary: dict) -> str | None:
    """One sentence for the top of every document, when some run is contaminated."""
    if not summary.get("contaminated"):
        return None
    return (f"CONTAMINATED RUN: in {len(summary['contaminated'])} run(s) k6's latencies were more than "
            f"{verdict.CLIENT_SERVER_MAX_RATIO:g}x apart from the service's own (or could not be compared), so "
            f"the client-side numbers may "
            f"measure the load generator (or the machine) too: " + "; ".join(summary["contaminated"]) + ".")


def _headline(arms: dict) -> dict:
    """The few numbers a post needs, per arm (medians over repeats)."""
    def per_arm(path: str) -> dict:
        return {key: get(arm["median"], path) for key, arm in arms.items()}

    return {
        "read_p95_ms": per_arm("read.p95_ms"),
        "read_burst_p95_ms": per_arm("read.burst_p95_ms"),
        "read_baseline_p95_ms": per_arm("read.baseline_p95_ms"),
        "read_server_burst_p95_ms": per_arm("read.server_burst_p95_ms"),
        "read_client_server_ratio": per_arm("read.client_server_ratio"),
        "read_max_1s_p95_ms": per_arm("read.max_1s_p95_ms"),
        "read_error_rate": per_arm("read.error_rate"),
        "read_errors": per_arm("read.errors"),
        "read_requests": per_arm("read.count"),
        "write_p95_ms": per_arm("write.p95_ms"),
        "write_burst_p95_ms": per_arm("write.burst_p95_ms"),
        "write_error_rate": per_arm("write.error_rate"),
        "service_cpu_peak_cores": per_arm("cpu.service.peak_cores"),
        "service_cpu_mean_cores": per_arm("cpu.service.mean_cores"),
        "postgres_cpu_peak_cores": per_arm("cpu.postgres.peak_cores"),
        "k6_cpu_mean_cores": per_arm("cpu.k6.mean_cores"),
        "machine_cpu_mean_cores": per_arm("cpu.machine.mean_cores"),
        "machine_cpu_burst_mean_cores": per_arm("cpu.machine.burst_mean_cores"),
        "sut_cpu_burst_mean_cores": per_arm("cpu.sut_side.burst_mean_cores"),
        "load_cpu_burst_mean_cores": per_arm("cpu.load_side.burst_mean_cores"),
        "others_cpu_mean_cores": per_arm("cpu.others.mean_cores"),
        "k6_dropped_iterations": per_arm("dropped_iterations"),
        "pool_max_waiters": per_arm("pool.max_waiters"),
        "pool_acquire_timeouts": per_arm("pool.acquire_timeouts"),
        "tasks_baseline": per_arm("tasks.baseline"),
        "tasks_peak": per_arm("tasks.peak"),
        "in_flight_baseline": per_arm("in_flight.baseline"),
        "in_flight_peak": per_arm("in_flight.peak"),
        "pool_sizes": {key: arm["pools"] for key, arm in arms.items()},
    }


# Formatting shared by summary.md, report.html and the console.

def ms(value) -> str:
    return "–" if value is None else (f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms")


def pct(value) -> str:
    return "–" if value is None else ("0%" if value == 0 else f"{100 * value:.2f}%")


def cores(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def num(value) -> str:
    return "–" if value is None else f"{value:g}"


def endpoint_rows(summary: dict) -> list[list[str]]:
    """[arm, endpoint, requests, throughput, p50, p95, p99, errors] per arm and endpoint (medians)."""
    rows = []
    for key, arm in summary["arms"].items():
        for endpoint in ENDPOINTS:
            e = arm["median"]["endpoints"].get(endpoint)
            if not e:
                continue
            rows.append([f"{arm['act']} {key}", ENDPOINT_TITLES[endpoint], f"{e['count']:.0f}", f"{e['rps']:.1f}/s",
                         ms(e["p50_ms"]), ms(e["p95_ms"]), ms(e["p99_ms"]), pct(e["error_rate"])])
    return rows


ENDPOINT_HEADER = ["arm", "endpoint", "requests", "throughput", "p50", "p95", "p99", "errors"]


def headline_rows(summary: dict) -> list[list[str]]:
    rows = []
    for key, arm in summary["arms"].items():
        m = arm["median"]
        pools = ", ".join(f"{p} {n}" for p, n in sorted(arm["pools"].items())) or str(arm["pool_size"])
        rows.append([
            f"{arm['act']} {key}", pools, ms(m["read"]["burst_p95_ms"]), ms(m["read"]["server_burst_p95_ms"]),
            ms(m["read"]["baseline_p95_ms"]),
            pct(m["read"]["error_rate"]), ms(m["write"]["burst_p95_ms"]), pct(m["write"]["error_rate"]),
            cores(m["cpu"]["service"]["peak_cores"]), cores(m["cpu"]["postgres"]["peak_cores"]),
            num(m["pool"]["max_waiters"]), num(m["pool"]["acquire_timeouts"]), num(m["tasks"]["peak"]),
            num(m.get("dropped_iterations")),
        ])
    return rows


HEADLINE_HEADER = ["arm", "pools", "read p95 (bursts)", "server-side read p95 (bursts)",
                   "read p95 (before the bursts)", "read errors", "write p95 (bursts)",
                   "write errors", "service CPU peak (cores)", "Postgres CPU peak (cores)", "max pool waiters",
                   "acquire timeouts", "peak tokio tasks", "k6 dropped iterations"]


REPEAT_HEADER = ["repeat", "arm", "read p95 in bursts (k6)", "same, in the service", "k6 / service",
                 "read errors", "write errors", "CPU in bursts (cores)", "k6 dropped"]


def repeat_rows(summary: dict) -> list[list[str]]:
    """Every repeat of every arm: the headline numbers, not only their medians."""
    rows = []
    for i in range(summary["repeats"]):
        for key, arm in summary["arms"].items():
            if i >= len(arm["repeats"]):
                continue
            h = arm["repeats"][i]
            read, cpu = h["read"], h["cpu"]
            if "sut_side" in cpu and "load_side" in cpu:
                used = (f"service side {cores(cpu['sut_side'].get('burst_mean_cores'))} of {cpu['sut_side']['cpus']}, "
                        f"load side {cores(cpu['load_side'].get('burst_mean_cores'))} of {cpu['load_side']['cpus']}")
            else:
                used = f"machine {cores((cpu.get('machine') or {}).get('burst_mean_cores'))}"
            dropped, requests = h.get("dropped_iterations"), h.get("requests") or 0
            rows.append([str(i + 1), f"{arm['act']} {key}", ms(read["burst_p95_ms"]), ms(read.get("server_burst_p95_ms")),
                         ratio(read.get("client_server_ratio")), pct(read["error_rate"]),
                         pct(h["write"]["error_rate"]), used,
                         "–" if dropped is None else pct(dropped / (requests + dropped) if requests + dropped else 0)])
    return rows


def ratio(value) -> str:
    return "–" if value is None else f"{value:.2f}x"


def spread_text(key: str, spread: dict | None) -> str:
    """min / median / max of one SPREAD_KEYS number, in its unit."""
    if not spread:
        return "–"
    if key.endswith("_ms"):
        f = ms
    elif key.endswith("_ratio"):
        f = ratio
    elif key.endswith("error_rate"):
        f = pct
    elif key.endswith("_cores"):
        f = cores
    else:
        f = lambda v: f"{v:.0f}"  # noqa: E731 - counts
    return " / ".join(f(spread[x]) for x in ("min", "median", "max"))


def spread_rows(summary: dict) -> tuple[list[str], list[list[str]]]:
    header = ["number (min / median / max)"] + [f"{a['act']} {k}" for k, a in summary["arms"].items()]
    rows = [[key] + [spread_text(key, arm["spread"].get(key)) for arm in summary["arms"].values()]
            for key in SPREAD_KEYS]
    return header, rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def console_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*header), fmt.format(*("-" * w for w in widths))] + [fmt.format(*r) for r in rows])


def rates_text(summary: dict) -> str:
    r, p = summary["rates"], summary["profile"]
    if r["source"] == "calibrated":
        return (f"{r['base_rps']} req/s base and {r['burst_rps']} req/s in bursts: {p['base_x']:g}x and "
                f"{p['burst_x']:g}x the shared pool's measured capacity of {r['capacity_rps']:.0f} req/s")
    return f"{r['base_rps']} req/s base and {r['burst_rps']} req/s in bursts (set explicitly, not calibrated)"


def calibration_lines(summary: dict) -> list[str]:
    c = summary.get("calibration")
    if not c:
        return ["No calibration: the rates were given explicitly."]
    holds = ", ".join(f"{ENDPOINT_TITLES.get(e, e)} {v:.2f} ms" for e, v in sorted(c["hold_ms"].items()))
    mix = ", ".join(f"{ENDPOINT_TITLES.get(e, e)} {100 * v:.0f}%" for e, v in sorted(c["mix"].items()))
    return [
        f"Probe: {c['probe_rps']} req/s for {c['probe_s']} s against Act I's service (one pool of "
        f"{c['connections']}), fresh database, same delay and mix; {sum(c['requests'].values())} requests, "
        f"{c['errors']} failed.",
        f"Connection hold time per request (db_pool_connection_hold_seconds, acquire to release, waiting "
        f"excluded): {holds}; over the mix ({mix}): {c['mean_hold_ms']:.2f} ms.",
        f"Capacity by Little's law: {c['connections']} connections / {c['mean_hold_ms']:.2f} ms = "
        f"{c['capacity_rps']:.0f} req/s. Rates: {rates_text(summary)}.",
        "Connections busy at the burst rate, by the same law (rate x share x hold): " + ", ".join(
            f"{ENDPOINT_TITLES.get(e, e)} {v:.1f}" for e, v in sorted(burst_demand(summary).items()))
        + f"; {sum(burst_demand(summary).values()):.1f} in all, for a shared pool of {c['connections']} "
          "(Act III gives each endpoint its own third of them).",
    ]


def burst_demand(summary: dict) -> dict[str, float]:
    """Connections each endpoint keeps busy at the burst rate, from the calibration's hold times."""
    c, burst = summary["calibration"], summary["rates"]["burst_rps"]
    return {e: burst * c["mix"][e] * c["hold_ms"][e] / 1000 for e in c["hold_ms"] if e in c["mix"]}


def cpu_sets_text(summary: dict) -> str:
    sets = summary.get("cpu_sets") or {}
    if not sets:
        return "CPU sets: not recorded."
    return f"CPU sets: {sets.get('note')}; Postgres {sets.get('postgres', 'not pinned')}."


def config_lines(summary: dict) -> list[str]:
    p, lab = summary["profile"], summary["lab"]
    windows = ", ".join(f"{a:g}–{b:g} s" for a, b in p["burst_windows_s"])
    seed = f"{p['users']} users, {p['sessions']} sessions"
    return [
        f"Profile `{p['name']}`: {rates_text(summary)}; "
        f"{schedule_text(p, seed)}. "
        f"Bursts at {windows}. Mix: {mix_text()} "
        f"(k6 script `{summary['load_script']}`), a new connection per request.",
        f"Seed: {p['users']} users x {p['todos_per_user']} todos; database `{lab['database']}` dropped, recreated and "
        f"seeded before every run; {p['warmup_requests']} warm-up requests before k6.",
        f"Argon2id for the seeded passwords (so for each login's verification): {lab['argon2_memory_kib']} KiB, "
        f"{lab['argon2_iterations']} iteration(s), parallelism 1 — deliberately cheap, so CPU is not the bottleneck.",
        f"Latency proxy in front of Postgres: {lab['delay_ms']} ms one-way delay"
        + (" (none: direct connection)." if not lab["delay_ms"] else
           f", so every database round trip takes at least {2 * lab['delay_ms']} ms: {DELAY_MEANING}"),
        f"Pool acquire timeout: {lab['acquire_timeout_ms']} ms (then 503 database_busy).",
        cpu_sets_text(summary),
        "Arms: " + "; ".join(f"{a['act']} `{k}`: {a['pool_mode']}, {a['pool_size']} connections "
                              f"({', '.join(f'{p} {n}' for p, n in sorted(a['pools'].items()))})"
                              for k, a in summary["arms"].items()) + ".",
        f"Repeats: {summary['repeats']} (numbers are medians over repeats; every repeat is listed too).",
        "Latency percentiles are client-side (k6), failed requests included; 'server-side' ones come from "
        "the service's own histogram (http_request_duration_seconds, interpolated inside buckets at most 25% "
        "wide between 10 ms and 1 s, so within that much of the exact value).",
    ]


# What the proxy's delay stands for, stated wherever the delay is.
DELAY_MEANING = ("it stands for a database in another zone or region, or queries that do real work "
                 "(a few milliseconds each), instead of a Postgres on the same host answering in "
                 "microseconds.")


def write_markdown(summary: dict, path: Path, chart_files: list[str]) -> None:
    m, v = summary["machine"], summary["versions"]
    lines = [f"# Stress-test lab: shared pool vs per-endpoint pools — run {summary['run_id']}", ""]
    banner = contamination_banner(summary)
    if banner:
        lines += [f"> **{banner}**", ""]
    lines += ["## Headline", "", markdown_table(HEADLINE_HEADER, headline_rows(summary)), ""]
    lines += ["## Verdicts", "", "| expected sign | verdict | threshold | evidence |", "|---|---|---|---|"]
    for item in summary["verdicts"]:
        word = item["verdict"] + (f" ({item['held_in']}/{item['judged']} repeats)" if summary["repeats"] > 1 else "")
        sign = item["sign"] + (" *(may)*" if item["optional"] else "")
        lines.append(f"| {sign} | **{word}** | {item['threshold']} | {item['evidence']} |")
    lines += ["", "## Every repeat", "", markdown_table(REPEAT_HEADER, repeat_rows(summary)), ""]
    lines += ["## Calibration", ""] + [f"- {line}" for line in calibration_lines(summary)] + [""]
    lines += ["", "## Per endpoint", "", markdown_table(ENDPOINT_HEADER, endpoint_rows(summary)), ""]
    if summary["repeats"] > 1:
        lines += ["## Spread over repeats (min / median / max)", "", markdown_table(*spread_rows(summary)), ""]
    lines += ["## Configuration", ""] + [f"- {line}" for line in config_lines(summary)] + [""]
    lines += ["## Versions and machine", ""]
    lines += [f"- {k}: {val}" for k, val in v.items()]
    lines += [f"- machine: {m.get('cores')} cores, {m.get('memory_gib')} GiB, {m.get('cpu_model')}, "
              f"{m.get('os')}, kernel {m.get('kernel')}", ""]
    if summary["notes"]:
        lines += ["## Notes", ""] + [f"- {n}" for n in summary["notes"]] + [""]
    lines += ["## Charts", ""] + [f"![{c}](charts/{c})" for c in chart_files] + [""]
    path.write_text("\n".join(lines))


def write_json(summary: dict, path: Path) -> None:
    path.write_text(json.dumps(summary, indent=2, default=str))
