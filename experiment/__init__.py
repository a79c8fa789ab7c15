"""The stress-test lab's experiment runner: runs the same bursty load against each arm of the
todo service (Act I: one shared pool; Act III: a pool per endpoint; control: one pool 3x bigger),
samples everything, and writes a report.

Run it with `scripts/experiment.sh` (which builds and starts what it needs), or, once set up,
`python -m experiment --help`.

# Layout

The package splits by stage; each subpackage's docstring lists its modules. Imports only go down:
`run` may import every other, `report` the analysis and the model, `analyse` the model, and
`model` nothing of the package (tests/test_layout.py holds them to it).

- `model/`    what the experiment is and records: profiles, the load's shape, the typed results
              and their strict JSON codec, run labels, the cast format, number formats.
- `run/`      running the lab: the command line's flow (run/cli.py), one run of an arm, the
              lab's processes and hosts, calibration, k6 (its command line, its terminal,
              k6-operator), Prometheus, CPU sampling and limits, the machine, the demo.
- `analyse/`  raw files to numbers: k6's samples, cpu.jsonl, PromQL answers, a run's headline,
              verdicts, the summary over repeats, the CPU budget, the sweep's steps and knees.
- `report/`   the documents: Jinja2 templates (report/templates/), tables, charts, the post
              kit, the cast's GIF, verdicts.xml.
- `__main__.py`       `python -m experiment`: calls run/cli.py.
- `check_results.py`  `python -m experiment.check_results DIR`: asserts a results folder is
                      complete (CI); reads through the model, checks with the analysis and report.
- `tests/`            the tests, one file per module or concern.
"""
