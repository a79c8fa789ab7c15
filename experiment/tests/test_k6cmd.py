"""k6's command line and environment, built in one place (k6cmd.py)."""

from pathlib import Path

from experiment.model.labels import RunLabels
from experiment.model.profiles import PROFILES, Rates
from experiment.model.results import K6ProcessRecord
from experiment.run import k6cmd

K6 = k6cmd.K6Command(k6=Path("/bin/k6"), script=Path("load/todo-load.js"), profile=PROFILES["quick"],
                     password="pw", write_url="http://127.0.0.1:9090/api/v1/write",
                     prefix=("taskset", "-c", "1"), host_options=("--local-ips", "10.0.0.1-10.0.0.2"))
RUN = RunLabels("RUN", "shared", 2)


def test_a_split_process_runs_its_segment_paused_with_its_samples_tagged_and_the_script_last():
    files = K6ProcessRecord.files(2, 2)
    argv = K6.process_argv(RUN, files, 2, Path("out/k6-2-samples.csv.gz"), "127.0.0.1:7000")
    assert argv[:4] == ["taskset", "-c", "1", "/bin/k6"] and argv[4] == "run" and argv[-1] == "load/todo-load.js"
    joined = " ".join(argv)
    for part in ("--paused --address 127.0.0.1:7000", "--out experimental-prometheus-rw --tag testid=RUN/shared/2",
                 "--local-ips 10.0.0.1-10.0.0.2", "--out csv=out/k6-2-samples.csv.gz", "--tag instance_id=2",
                 "--execution-segment 1/2:1 --execution-segment-sequence 0,1/2,1"):
        assert part in joined


def test_a_process_not_started_paused_takes_no_rest_api_port():
    assert K6.argv(RUN, "--quiet")[5:7] == k6cmd.NO_API == ["--address", ""]


def test_the_environment_is_the_load_plus_the_remote_write_plus_the_run_s_files(monkeypatch):
    monkeypatch.setattr(k6cmd, "os", type("os", (), {"environ": {"PATH": "/bin"}}))
    rates = Rates(base_rps=10, burst_rps=50, source="explicit")
    env = K6.env("http://svc", Path("s.json"), rates, EXTRA="1")
    assert env == ({"PATH": "/bin"} | k6cmd.script_env(K6.profile, rates) | {"PASSWORD": "pw", "K6_NO_USAGE_REPORT": "true"}
                   | k6cmd.remote_write_env(K6.write_url)
                   | {"BASE_URL": "http://svc", "SUMMARY_PATH": "s.json", "K6_CSV_TIME_FORMAT": "unix_milli", "EXTRA": "1"})
