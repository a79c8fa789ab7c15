"""CPU accounting from /proc."""

import os

from experiment import cpu


def stat_line(pid, comm, ppid, utime, stime, cutime=0, cstime=0):
    fields = ["S", ppid] + [0] * 9 + [utime, stime, cutime, cstime] + [0] * 30
    return f"{pid} ({comm}) " + " ".join(str(f) for f in fields)


def test_parse_stat_handles_names_with_spaces_and_parens():
    s = cpu.parse_stat(stat_line(42, "tokio (worker) 1", 7, 100, 50, 3, 4))
    assert (s.pid, s.comm, s.ppid, s.utime, s.stime, s.cutime, s.cstime) == (42, "tokio (worker) 1", 7, 100, 50, 3, 4)


def test_parse_stat_of_this_process():
    s = cpu.read_stat(os.getpid())
    assert s is not None and s.pid == os.getpid()


def test_descendants_walk_the_whole_tree():
    stats = {
        1: cpu.parse_stat(stat_line(1, "init", 0, 0, 0)),
        10: cpu.parse_stat(stat_line(10, "postgres", 1, 5, 5)),
        11: cpu.parse_stat(stat_line(11, "postgres", 10, 7, 3)),
        12: cpu.parse_stat(stat_line(12, "postgres", 11, 1, 1)),
        20: cpu.parse_stat(stat_line(20, "other", 1, 50, 50)),
    }
    assert cpu.descendants(10, stats) == {10, 11, 12}
    assert cpu.process_ticks(20, stats) == 100


def test_backends_of_other_databases_are_told_apart():
    assert cpu.backend_database("postgres: postgres lab_experiment 127.0.0.1(51234) idle") == "lab_experiment"
    assert cpu.backend_database("postgres: app other_db [local] SELECT") == "other_db"
    assert cpu.backend_database("postgres: checkpointer") is None
    assert cpu.backend_database("postgres: autovacuum launcher") is None
    assert cpu.backend_database("/usr/lib/postgresql/15/bin/postgres -D /data") is None


def test_the_sampler_accumulates_cpu_of_a_live_process(tmp_path):
    sampler = cpu.CpuSampler(tmp_path / "cpu.jsonl")
    sampler.track("me", os.getpid())
    first = sampler.sample()["cpu_s"]["me"]
    sum(i * i for i in range(300_000))  # burn a little CPU
    second = sampler.sample()["cpu_s"]["me"]
    assert first == 0 and second >= 0
    sampler.track("gone", 2**22 + 12345)
    assert "gone" not in sampler.sample()["cpu_s"]


def test_usage_is_cpu_seconds_per_wall_second():
    samples = [
        {"t": 0.0, "cpu_s": {"service": 1.0}},
        {"t": 1.0, "cpu_s": {"service": 1.5}},
        {"t": 3.0, "cpu_s": {"service": 3.5}},
        {"t": 4.0, "cpu_s": {}},
        {"t": 5.0, "cpu_s": {"service": 0.1}},
    ]
    assert cpu.usage_series(samples, "service") == [(1.0, 0.5), (3.0, 1.0)]


def test_busy_time_of_the_machine_and_of_each_cpu_is_read_from_proc_stat(tmp_path):
    (tmp_path / "stat").write_text("cpu  100 0 50 1000 20 0 0 0 0 0\n"
                                   "cpu0 60 0 30 500 10 0 0 0 0 0\n"
                                   "cpu1 40 0 20 500 10 0 0 0 0 0\nintr 12345 6\n")
    busy = cpu.busy_seconds(tmp_path)
    assert busy == {"machine": 150 / cpu.CLOCK_TICKS, "cpu0": 90 / cpu.CLOCK_TICKS, "cpu1": 60 / cpu.CLOCK_TICKS}


def test_cpu_sets_split_the_cpus_into_a_load_half_and_a_service_half():
    from experiment import cpusets

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
    from experiment import cpusets

    with cpusets.postgres_pinned(cpusets.choose("on", {0, 1}), None) as note:
        assert note == "not pinned (not the lab's own cluster)"


def test_a_tree_gets_the_cpu_set_and_every_cpu_back(tmp_path):
    import os

    from experiment import cpusets

    before = os.sched_getaffinity(0)
    mine = os.getpid()
    try:
        done, refused = cpusets.set_tree_affinity(mine, {min(before)})
        assert done >= 1 and refused == 0 and os.sched_getaffinity(0) == {min(before)}
        cpusets.set_tree_affinity(mine, cpusets.all_cpus())
        assert os.sched_getaffinity(0) >= before
    finally:
        os.sched_setaffinity(0, before)
