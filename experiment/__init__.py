"""The stress-test lab's experiment runner: runs the same bursty load against each arm of the
todo service (Act I: one shared pool; Act III: a pool per endpoint; control: one pool 3x bigger),
samples everything, and writes a report.

Run it with `scripts/experiment.sh` (which builds and starts what it needs), or, once set up,
`python -m experiment --help`.

# Layout

- `profiles.py`  every knob: load profiles (rates, timings, seed sizes), arms, lab parameters.
- `cli.py`       the command line and the top-level flow: set up, run each arm, report.
- `runner.py`    one run of one arm: fresh database, proxy, service, warm-up, k6, CPU sampler.
- `lab.py`       starting the lab's pieces: database, latency proxy, service, UI, recorder.
- `procs.py`     child processes that never outlive the runner (process groups, timeouts).
- `k6cmd.py`     how k6 is invoked: every command line and environment given to k6, here or in a cluster.
- `k6run.py`     k6 under a pseudo-terminal, recorded as an asciinema cast; its HTML report.
- `cast.py`      the asciinema v2 cast format: written by k6run.py, read by termrender.py.
- `monitoring.py` the lab's Prometheus: targets, k6's remote write, queries, the raw export.
- `labels.py`    which run a series belongs to (`RunLabels`): read by monitoring and promql alike.
- `promql.py`    the named PromQL queries of one run, asked when it ends; their answers are kept
                 in its folder (promql.json) and are every server-side number the report uses.
- `calibrate.py` the probe before the acts: hold times (so the pool's capacity), CPU per role.
- `budget.py`    the CPU budget: the delay at which this machine shows the lesson with CPU to spare.
- `cpulimit.py`  the CPU the lab may use: affinity mask and cgroup CPU quota (v1, v2); a quota for
                 the lab's Postgres (the sweep's db-limited regime).
- `sweep.py`     --sweep: the bursts stepped across the capacity per arm and regime, the steps the
                 CPU budget cannot offer, per-step numbers and trust checks, predicted and measured knees.
- `sweepcharts.py` the sweep's charts (read p95 and errors, goodput, against offered load).
- `cpu.py`       CPU of service, Postgres (process tree), k6, proxy, the lab, through psutil.
- `cpuseries.py` reading cpu.jsonl: cores per group between samples, and over a window.
- `results.py`   the typed results (run.json, a run's headline, an arm, summary.json, config.json,
                 calibration.json): the one place that knows their JSON shape.
- `codec.py`     the strict JSON codec the results are read and written with (dataclasses <-> JSON).
- `stats.py`     client-side numbers from k6's per-request samples.
- `analysis.py`  one run's raw files -> headline numbers and time series (computes, writes nothing).
- `verdict.py`   the story's expected signs and the trust checks, judged with stated thresholds.
- `summary.py`   the run's summary: medians and spread over repeats, verdicts, contamination.
- `junit.py`     verdicts.xml: the verdicts as JUnit XML, for CI (`--check` applies the same rule).
- `fmt.py`       how every document writes a number.   `tables.py`  the tables they share.
- `render.py`    fills the Jinja2 templates of templates/ (report.html, summary.md, post.md, and
                 the words they share in _shared.j2): a writer edits those, not the Python.
- `charts.py`    the PNG charts.                 `report.py`  report.html and summary.md.
- `postkit.py`   post/: charts, post.md filled from the summary, GIFs and stills.
- `termrender.py` renders the k6 cast to a GIF when no renderer is installed.
- `machine.py`   cores, memory, CPU model and versions.
- `check_results.py` asserts a results folder is complete (CI).
"""
