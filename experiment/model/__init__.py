"""The model: what the experiment is and what it records, as typed values; imports nothing else
of the package, so every stage can read it.

# Layout

- `profiles.py`  every knob: load profiles (rates, timings, seed sizes), arms, lab parameters.
- `shape.py`     load/shape.json (the profiles' schedules, the mix), shared with k6, read once.
- `labels.py`    which run a series belongs to (`RunLabels`): its targets' labels, k6's testid.
- `results.py`   the typed results (run.json, a run's headline, an arm, summary.json, config.json,
                 calibration.json, promql.json): the one place that knows their JSON shape.
- `codec.py`     the strict JSON codec those results are read and written with.
- `cast.py`      the asciinema v2 cast format: written by run/k6run.py, read by report/termrender.py.
- `fmt.py`       how every number is written, in the documents and in the verdicts' evidence.
"""
