"""CPU accounting through psutil: real processes, a real Postgres when one runs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from experiment.analyse import cpuseries
from experiment.model.results import UsableCpu
from experiment.run import cpu

# A child that burns `seconds` of CPU, says so, then sleeps until killed: it stays sampleable
# after the work, and the CPU it used does not depend on how busy the machine is.
BURN = """
import sys, time
start = time.process_time()
while time.process_time() - start < float(sys.argv[1]):
    pass
print("burnt", flush=True)
time.sleep(60)
"""

# A parent that starts the burner as its own child and waits on it, passing its output through.
PARENT = """
import subprocess, sys
subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2]])
"""


@pytest.fixture
def spawn():
    """Starts a Python child, returns (process, a function waiting for its "burnt" line); kills
    it and its children afterwards."""
    started = []

    def start(*argv: str) -> subprocess.Popen:
        child = subprocess.Popen([sys.executable, "-c", *argv], stdout=subprocess.PIPE, text=True)
        started.append(child)
        return child

    yield start
    for child in started:
        for process in psutil.Process(child.pid).children(recursive=True):
            process.kill()
        child.kill()
        child.wait(timeout=10)


def wait_burnt(child: subprocess.Popen) -> None:
    assert child.stdout.readline().strip() == "burnt"


def test_a_busy_child_shows_its_cpu_seconds_and_about_one_core(tmp_path, spawn):
    child = spawn(BURN, "1.0")
    sampler = cpu.CpuSampler(tmp_path / "cpu.jsonl")
    sampler.track("busy", child.pid)
    first = sampler.sample()
    wait_burnt(child)
    second = sampler.sample()
    assert first["cpu_s"]["busy"] == 0
    assert 0.8 <= second["cpu_s"]["busy"] <= 2.0  # 1 s of work, plus Python's start-up
    [(_, cores)] = cpuseries.usage_series([first, second], "busy")
    assert 0.1 <= cores <= 1.2  # one thread: at most one core, however busy the machine


def test_a_tree_counts_a_grandchild_started_after_the_first_sample(tmp_path, spawn):
    parent = spawn(PARENT, BURN, "0.5")
    sampler = cpu.CpuSampler(tmp_path / "cpu.jsonl")
    sampler.track("tree", parent.pid, tree=True)
    sampler.track("root only", parent.pid, tree=True, keep=lambda process: False)
    first = sampler.sample()["cpu_s"]
    wait_burnt(parent)
    second = sampler.sample()["cpu_s"]
    grandchild = psutil.Process(parent.pid).children(recursive=True)
    assert len(grandchild) == 1 and grandchild[0].cmdline()[-1] == "0.5"
    assert first["tree"] == 0 and 0.4 <= second["tree"] <= 2.0
    assert second["root only"] < 0.4  # the filter leaves the burner out


def test_a_process_that_is_not_there_is_left_out_of_the_sample(tmp_path):
    sampler = cpu.CpuSampler(tmp_path / "cpu.jsonl")
    sampler.track("me", os.getpid())
    sampler.track("gone", 2**22 + 12345)
    assert sampler.sample()["cpu_s"].keys() >= {"me", "machine", "cpu0"}
    assert "gone" not in sampler.sample()["cpu_s"]


def test_busy_time_is_given_for_the_machine_and_each_cpu():
    busy = cpu.busy_seconds()
    cpus = [f"cpu{n}" for n in range(psutil.cpu_count())]
    assert set(busy) == {"machine", *cpus}
    assert all(busy[name] > 0 for name in busy)
    assert busy["machine"] == pytest.approx(sum(busy[name] for name in cpus), abs=1.0)


def test_usage_is_cpu_seconds_per_wall_second():
    samples = [
        {"t": 0.0, "cpu_s": {"service": 1.0}},
        {"t": 1.0, "cpu_s": {"service": 1.5}},
        {"t": 3.0, "cpu_s": {"service": 3.5}},
        {"t": 4.0, "cpu_s": {}},
        {"t": 5.0, "cpu_s": {"service": 0.1}},
    ]
    assert cpuseries.usage_series(samples, "service") == [(1.0, 0.5), (3.0, 1.0)]


def test_backends_of_other_databases_are_told_apart():
    assert cpu.backend_database("postgres: postgres lab_experiment 127.0.0.1(51234) idle") == "lab_experiment"
    assert cpu.backend_database("postgres: app other_db [local] SELECT") == "other_db"
    assert cpu.backend_database("postgres: checkpointer") is None
    assert cpu.backend_database("postgres: autovacuum launcher") is None
    assert cpu.backend_database("/usr/lib/postgresql/15/bin/postgres -D /data") is None


ADMIN_URL = os.environ.get("TEST_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:54329/postgres")


@pytest.fixture
def backend():
    """A psql session held open on the admin database: (its backend's pid, the data directory).
    Skips when no Postgres answers at TEST_ADMIN_DATABASE_URL (scripts/test.sh starts the lab's)."""
    if not shutil.which("psql"):
        pytest.skip("no psql")
    session = subprocess.Popen(["psql", "-XqtA", ADMIN_URL], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        session.stdin.write("SELECT pg_backend_pid(); SHOW data_directory;\n")
        session.stdin.flush()
        pid, data_dir = session.stdout.readline().strip(), session.stdout.readline().strip()
        if not pid.isdigit():
            pytest.skip(f"no Postgres at {ADMIN_URL}")
        yield int(pid), Path(data_dir)
    finally:
        session.stdin.close()
        session.wait(timeout=10)


def test_the_postgres_filter_keeps_the_backends_of_one_database_and_the_cluster_processes(backend):
    pid, data_dir = backend
    database = ADMIN_URL.rsplit("/", 1)[1]
    postmaster = psutil.Process(pid).parent()
    assert cpu.find_postmaster(data_dir) == postmaster.pid
    assert psutil.Process(cpu.find_postmaster(None)).name() in ("postgres", "postmaster")
    ours, others = cpu.postgres_filter(database), cpu.postgres_filter("not_" + database)
    children = postmaster.children()
    mine = next(p for p in children if p.pid == pid)
    assert cpu.backend_database(cpu.process_title(mine)) == database
    assert ours(mine) and not others(mine)
    auxiliary = [p for p in children if cpu.backend_database(cpu.process_title(p)) is None]
    assert auxiliary and all(ours(p) and others(p) for p in auxiliary)  # checkpointer, walwriter, ...


def test_cpu_sets_split_the_cpus_into_a_load_half_and_a_service_half():
    from experiment.run import cpusets

    two = cpusets.choose("on", {0, 1})
    assert (two.load, two.sut) == ((0,), (1,))
    assert two.prefix("sut") == ["taskset", "-c", "1"] and two.prefix("load") == ["taskset", "-c", "0"]
    eight = cpusets.choose("auto", set(range(8)))
    assert set(eight.load).isdisjoint(eight.sut) and len(eight.load) + len(eight.sut) == 8
    assert not cpusets.choose("on", {0}).pinned and cpusets.choose("on", {0}).prefix("sut") == []
    assert not cpusets.choose("off", set(range(8))).pinned
    # one core per side measured slower than sharing two: not by default
    assert not cpusets.choose("auto", {0, 1}).pinned and "--pin" in cpusets.choose("auto", {0, 1}).note


def test_postgres_of_another_server_is_never_pinned():
    from experiment.run import cpusets

    with cpusets.postgres_pinned(cpusets.choose("on", {0, 1}), None) as note:
        assert note == "not pinned (not the lab's own cluster)"


def test_every_thread_of_a_tree_gets_the_cpu_set_and_every_cpu_back(spawn):
    from experiment.run import cpusets

    child = spawn(BURN, "0")
    wait_burnt(child)
    before = os.sched_getaffinity(0)
    mine = os.getpid()
    try:
        threads = len(psutil.Process(mine).threads()) + 1  # this process's and the child's
        done, refused = cpusets.set_tree_affinity(mine, {min(before)})
        assert (done, refused) == (threads, 0)
        assert os.sched_getaffinity(0) == {min(before)} and os.sched_getaffinity(child.pid) == {min(before)}
        cpusets.set_tree_affinity(mine, cpusets.all_cpus())
        assert os.sched_getaffinity(0) >= before and os.sched_getaffinity(child.pid) >= before
    finally:
        os.sched_setaffinity(0, before)
    assert cpusets.set_tree_affinity(2**22 + 12345, {0}) == (0, 0)


def test_under_a_quota_the_sampler_counts_the_quota_cgroup_processes_and_the_throttling(tmp_path):
    (tmp_path / "cgroup.procs").write_text(f"{os.getpid()}\n")
    (tmp_path / "cpu.stat").write_text("nr_throttled 3\nthrottled_time 5000000000\n")
    usable = UsableCpu(cores_seen=2, affinity=[0, 1], usable=1.2, why="a quota", quota_cpus=1.2,
                       quota_cgroup=str(tmp_path))
    sampler = cpu.CpuSampler(tmp_path / "cpu.jsonl", usable=usable)
    first = sampler.sample()["cpu_s"]
    sum(range(3_000_000))  # this process, the cgroup's only member, uses some CPU
    second = sampler.sample()["cpu_s"]
    assert second["lab"] > first["lab"] >= 0
    assert second["throttled"] == 5.0
