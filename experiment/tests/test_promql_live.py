"""The run's PromQL queries against a real Prometheus (the lab's, LAB_PROM_URL or 127.0.0.1:59090):
a few known samples pushed through its remote-write receiver, then the queries' answers checked
against the numbers worked out by hand. Skipped when no Prometheus answers.

No quantile code of our own remains (Prometheus's histogram_quantile computes every server-side
quantile), so what is checked here is that our windows (end value minus start value, windows
added) give Prometheus the bucket counts we mean.
"""

import os
import struct
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from experiment.analyse import promql
from experiment.model.labels import RunLabels
from experiment.run.monitoring import Prometheus

URL = os.environ.get("LAB_PROM_URL", "http://127.0.0.1:59090")
BUCKETS = ("0.05", "0.5", "+Inf")


def _ready() -> bool:
    try:
        with urllib.request.urlopen(URL + "/-/ready", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _ready(), reason=f"no Prometheus answers at {URL}")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _write_request(series: list[tuple[dict[str, str], list[tuple[int, float]]]]) -> bytes:
    """A remote-write WriteRequest (prompb): timeseries of sorted labels and (ms, value) samples."""
    body = b""
    for labels, samples in series:
        ts = b"".join(_field(1, _field(1, k.encode()) + _field(2, v.encode())) for k, v in sorted(labels.items()))
        ts += b"".join(_field(2, b"\x09" + struct.pack("<d", value) + b"\x10" + _varint(ms)) for ms, value in samples)
        body += _field(1, ts)
    return body


def _snappy(data: bytes) -> bytes:
    """Snappy's block format with literals only: valid, uncompressed."""
    out = _varint(len(data))
    for i in range(0, len(data), 60):
        chunk = data[i:i + 60]
        out += bytes([(len(chunk) - 1) << 2]) + chunk
    return out


def _push(series) -> None:
    request = urllib.request.Request(URL + "/api/v1/write", data=_snappy(_write_request(series)), method="POST",
                                     headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
                                              "X-Prometheus-Remote-Write-Version": "0.1.0"})
    try:
        urllib.request.urlopen(request, timeout=5).close()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            pytest.skip("this Prometheus has no remote-write receiver")
        raise


def test_window_p95s_are_prometheus_quantiles_of_the_counts_the_windows_add_up(tmp_path: Path):
    run = RunLabels(f"pytest-{uuid.uuid4().hex[:12]}", "probe", 1)
    queries = promql.RunQueries(run, "no_such_database")
    start = int(time.time()) - 30
    # Cumulative counts of GET /todos's histogram, one sample a second for 20 s: 1 fast request
    # (<= 50 ms) a second for the first 10 s, then 2 a second of which 1 slow (50-500 ms).
    counts = []
    for i in range(21):
        fast = min(i, 10) + max(0, i - 10)
        slow = max(0, i - 10)
        counts.append((fast, fast + slow, fast + slow))
    target = {"job": "todo-service", **run.target_labels(), "endpoint": "list_todos"}
    _push([({"__name__": "http_request_duration_seconds_bucket", **target, "le": le},
            [((start + i) * 1000, float(c[b])) for i, c in enumerate(counts)]) for b, le in enumerate(BUCKETS)])
    prometheus = Prometheus(Path("unused"), URL)
    # The load: seconds 0-20, 20 fast and 10 slow: rank 28.5 in the (50 ms, 500 ms] bucket.
    # The "bursts": seconds 12-15 and 17-19, 5 fast and 5 slow: rank 9.5, the same bucket.
    windows = queries.windows((start, start + 20), [(start + 12, start + 15), (start + 17, start + 19)])
    load = promql.by_label(promql.instant(prometheus, windows["server_p95_s_load"], start + 20), "endpoint")
    bursts = promql.by_label(promql.instant(prometheus, windows["server_p95_s_bursts"], start + 20), "endpoint")
    assert load["list_todos"] == pytest.approx(0.05 + 0.45 * (28.5 - 20) / 10)
    assert bursts["list_todos"] == pytest.approx(0.05 + 0.45 * (9.5 - 5) / 5)
    # The same numbers as Prometheus's own histogram_quantile over the bucket vector written out.
    own = prometheus.query('histogram_quantile(0.95, label_replace(vector(5), "le", "0.05", "", "") or '
                           'label_replace(vector(10), "le", "0.5", "", "") or '
                           'label_replace(vector(10), "le", "+Inf", "", ""))')
    assert float(own[0]["value"][1]) == pytest.approx(bursts["list_todos"])


def test_the_runner_sees_when_prometheus_has_scraped_a_runs_target():
    run = RunLabels(f"pytest-{uuid.uuid4().hex[:12]}", "probe", 1)
    prometheus = Prometheus(Path("unused"), URL)
    assert not prometheus.wait_scraped("todo-service", run, timeout=0.5)
    _push([({"__name__": "up", "job": "todo-service", **run.target_labels()}, [(int(time.time() * 1000), 1.0)])])
    assert prometheus.wait_scraped("todo-service", run, timeout=5)
