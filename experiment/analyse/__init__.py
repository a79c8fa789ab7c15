"""The analysis: a results folder's raw files in, typed numbers and verdicts out. Computes, writes
nothing but the typed results; imports only the model.

# Layout

- `stats.py`     client-side numbers from k6's per-request samples.
- `cpuseries.py` reading cpu.jsonl: cores per group between samples, and over a window.
- `promql.py`    the named PromQL queries of one run, asked when it ends; their answers are kept in
                 its folder (promql.json) and are every server-side number the report uses.
- `analysis.py`  one run's raw files -> headline numbers and time series.
- `verdict.py`   the story's expected signs and the trust checks, judged with stated thresholds.
- `summary.py`   the run's summary: medians and spread over repeats, verdicts, contamination.
- `budget.py`    the CPU budget: the delay at which this machine shows the lesson with CPU to spare.
- `sweep.py`     --sweep: the steps planned within the budget, per-step numbers and trust checks,
                 predicted and measured knees, the finding.
"""
