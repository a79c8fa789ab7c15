"""Which run a series belongs to: the labels the lab puts on a run's targets and k6's samples.

The runner registers each run's service and proxy with these labels and tags k6's samples with
`testid`; the analysis (promql.py) selects one run's series by the same labels. Both sides read
them here, so the analysis never imports the code that runs the lab.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunLabels:
    """Which run a series belongs to: the labels its service and proxy targets carry, and k6's
    `testid` tag (one string, as k6 and Grafana's k6 dashboards expect)."""

    run: str
    arm: str
    repeat: int

    def target_labels(self) -> dict[str, str]:
        return {"run": self.run, "arm": self.arm, "repeat": str(self.repeat)}

    @property
    def testid(self) -> str:
        return f"{self.run}/{self.arm}/{self.repeat}"

    def selectors(self) -> list[str]:
        """What a run folder's export holds: this run's service, proxy and k6 series, and the
        database's backends (the exporter is not per run: its series are cut by time alone)."""
        target = ", ".join(f'{name}="{value}"' for name, value in self.target_labels().items())
        return [
            f'{{job="todo-service", {target}}}',
            f'{{job="latency-proxy", {target}}}',
            '{job="postgres", __name__="pg_backends_count"}',
            f'{{__name__=~"k6_.+", testid="{self.testid}"}}',
        ]
