"""The Prometheus text parser and histogram quantiles."""

import math

import pytest

from experiment import prom

EXPOSITION = """\
# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{endpoint="login",status_class="2xx"} 10
http_requests_total{endpoint="list_todos",status_class="2xx"} 5
http_requests_total{endpoint="list_todos",status_class="5xx"} 2
db_pool_waiters{pool="shared"} 3
tokio_alive_tasks 42
weird{msg="a \\"quoted\\" \\\\ value"} 1.5e3
h_bucket{pool="shared",le="0.1"} 4
h_bucket{pool="shared",le="1"} 8
h_bucket{pool="shared",le="+Inf"} 10
"""


def test_parse_reads_values_and_labels():
    samples = prom.parse(EXPOSITION)
    assert samples["tokio_alive_tasks"] == 42
    assert samples['db_pool_waiters{pool="shared"}'] == 3
    assert samples['weird{msg="a "quoted" \\ value"}'] == 1500


def test_label_order_does_not_matter():
    a = prom.parse('m{b="2",a="1"} 1')
    assert list(a) == ['m{a="1",b="2"}']


def test_totals_and_grouping():
    samples = prom.parse(EXPOSITION)
    assert prom.total(samples, "http_requests_total") == 17
    assert prom.total(samples, "http_requests_total", endpoint="list_todos") == 7
    assert prom.by_label(samples, "http_requests_total", "endpoint") == {"login": 10, "list_todos": 7}
    assert prom.total(samples, "absent") == 0


def test_a_bad_line_is_an_error():
    with pytest.raises(ValueError):
        prom.parse("this is not a metric line at all {")


def test_histogram_quantile_interpolates_inside_the_bucket():
    buckets = prom.histogram_buckets(prom.parse(EXPOSITION), "h", pool="shared")
    assert buckets == [(0.1, 4), (1.0, 8), (math.inf, 10)]
    assert prom.histogram_quantile(0.2, buckets) == pytest.approx(0.05)
    assert prom.histogram_quantile(0.6, buckets) == pytest.approx(0.1 + 0.9 * (6 - 4) / 4)
    assert prom.histogram_quantile(0.99, buckets) == 1.0  # in +Inf: the highest finite bound
    assert prom.histogram_quantile(0.5, []) is None
