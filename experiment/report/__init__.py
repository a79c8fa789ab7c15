"""The documents a person reads, from the typed summary: templates, tables, charts, the post kit.
Imports the analysis and the model, never what runs the lab.

# Layout

- `render.py`    fills the Jinja2 templates of templates/ (report.html, summary.md, post.md, the
                 sweep's, the k6-operator notes, and the words they share in _shared.j2): a writer
                 edits those, not the Python.
- `documents.py` report.html and summary.md (and the sweep's) for a results folder.
- `tables.py`    the tables the documents, the console and the charts share.
- `charts.py`    the PNG charts.     `sweepcharts.py` the sweep's (p95, errors, goodput against load).
- `postkit.py`   post/: charts, post.md filled from the summary, GIFs and stills.
- `termrender.py` renders the k6 cast to a GIF when no renderer is installed.
- `junit.py`     verdicts.xml: the verdicts as JUnit XML, for CI (`--check` applies the same rule).
"""
