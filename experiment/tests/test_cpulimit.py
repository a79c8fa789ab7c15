"""The usable CPU read from fake /proc and cgroup files: v1 and v2, with and without a quota, a
quota on a parent, a container's own part of the hierarchy, and a hybrid host."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiment.run import cpulimit
from experiment.run.cpulimit import cgroup_pids, throttled_seconds, usable_cpu

V1_MOUNTS = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
V2_MOUNTS = "30 23 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"


def write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def v1(root: Path, own: str, quotas: dict[str, int]) -> None:
    """A hybrid v1 host: this process in `own` of the cpu hierarchy, with cfs quotas (us per 100 ms)."""
    write(root, "proc/self/cgroup", f"4:memory:/x\n2:cpuacct:/\n1:cpu:{own}\n0::/\n")
    write(root, "proc/self/mountinfo", V1_MOUNTS)
    folders = {"/", own} | set(quotas)
    for folder in folders:
        base = f"sys/fs/cgroup/cpu/{folder.strip('/')}".rstrip("/")
        write(root, f"{base}/cpu.cfs_quota_us", f"{quotas.get(folder, -1)}\n")
        write(root, f"{base}/cpu.cfs_period_us", "100000\n")


def v2(root: Path, own: str, limits: dict[str, str], mountinfo: str = V2_MOUNTS) -> None:
    write(root, "proc/self/cgroup", f"0::{own}\n")
    write(root, "proc/self/mountinfo", mountinfo)
    for folder, limit in limits.items():
        write(root, f"sys/fs/cgroup/{folder.strip('/')}/cpu.max".replace("//", "/"), limit + "\n")


def test_without_a_quota_the_affinity_mask_is_the_usable_cpu(tmp_path):
    v1(tmp_path, "/", {})
    cpu = usable_cpu(tmp_path, affinity={0, 1}, cores_seen=2)
    assert cpu.usable == 2
    assert cpu.quota_cpus is None and not cpu.limited_by_quota
    assert "no CPU quota" in cpu.why


def test_a_cgroup_v1_quota_on_the_process_own_cgroup_limits_it(tmp_path):
    v1(tmp_path, "/cpu-limit-7", {"/cpu-limit-7": 120000})
    cpu = usable_cpu(tmp_path, affinity={0, 1}, cores_seen=2)
    assert cpu.usable == pytest.approx(1.2)
    assert cpu.limited_by_quota
    assert cpu.quota_cgroup == "/sys/fs/cgroup/cpu/cpu-limit-7"
    assert "cgroup v1 CPU quota of 1.2 CPUs" in cpu.why


def test_a_cgroup_v1_quota_on_a_parent_applies_to_its_children(tmp_path):
    v1(tmp_path, "/ci/job/step", {"/ci": 150000, "/ci/job": 300000})
    cpu = usable_cpu(tmp_path, affinity={0, 1}, cores_seen=2)
    assert cpu.usable == pytest.approx(1.5)
    assert cpu.quota_cgroup == "/sys/fs/cgroup/cpu/ci"
    assert cpu.lab_cgroup == "/sys/fs/cgroup/cpu/ci/job/step"


def test_a_cgroup_v2_quota_is_read_from_cpu_max(tmp_path):
    v2(tmp_path, "/lab.scope", {"/": "max 100000", "/lab.scope": "50000 100000"})
    cpu = usable_cpu(tmp_path, affinity={0, 1, 2, 3}, cores_seen=4)
    assert cpu.usable == pytest.approx(0.5)
    assert "cgroup v2" in cpu.why


def test_cgroup_v2_max_means_no_quota(tmp_path):
    v2(tmp_path, "/user.slice/a", {"/user.slice/a": "max 100000", "/user.slice": "max 100000"})
    cpu = usable_cpu(tmp_path, affinity={0, 1}, cores_seen=2)
    assert cpu.usable == 2 and cpu.quota_cpus is None


def test_the_tightest_of_nested_cgroup_v2_limits_wins(tmp_path):
    v2(tmp_path, "/a/b/c", {"/a": "300000 100000", "/a/b": "120000 100000", "/a/b/c": "250000 100000"})
    cpu = usable_cpu(tmp_path, affinity={0, 1}, cores_seen=2)
    assert cpu.usable == pytest.approx(1.2)
    assert cpu.quota_cgroup == "/sys/fs/cgroup/a/b"


def test_a_quota_above_the_affinity_mask_does_not_raise_the_usable_cpu(tmp_path):
    v2(tmp_path, "/big", {"/big": "800000 100000"})
    cpu = usable_cpu(tmp_path, affinity={0}, cores_seen=2)
    assert cpu.usable == 1
    assert not cpu.limited_by_quota
    assert "1 in the affinity mask" in cpu.why and "above that" in cpu.why


def test_a_container_sees_its_own_cgroup_as_the_top_of_the_mount(tmp_path):
    # Docker without a cgroup namespace: the mount's root is the container's cgroup, and
    # /proc/self/cgroup names the full path below the host's root.
    mountinfo = "30 23 0:27 /docker/abc /sys/fs/cgroup ro,nosuid - cgroup2 cgroup2 rw\n"
    v2(tmp_path, "/docker/abc", {"/": "150000 100000"}, mountinfo)
    cpu = usable_cpu(tmp_path, affinity={0, 1}, cores_seen=2)
    assert cpu.usable == pytest.approx(1.5)
    assert cpu.quota_cgroup == "/sys/fs/cgroup"


def test_without_cgroup_files_only_the_affinity_counts(tmp_path):
    cpu = usable_cpu(tmp_path, affinity={0, 1, 2}, cores_seen=8)
    assert cpu.usable == 3 and cpu.lab_cgroup is None


def test_the_processes_of_a_cgroup_include_its_children(tmp_path):
    write(tmp_path, "cg/cgroup.procs", "10\n11\n")
    write(tmp_path, "cg/child/cgroup.procs", "12\n")
    assert sorted(cgroup_pids(tmp_path / "cg")) == [10, 11, 12]


def test_throttling_is_read_from_cpu_stat_in_either_version(tmp_path):
    write(tmp_path, "v1/cpu.stat", "nr_periods 10\nnr_throttled 3\nthrottled_time 2500000000\n")
    write(tmp_path, "v2/cpu.stat", "usage_usec 100\nnr_throttled 1\nthrottled_usec 750000\n")
    assert throttled_seconds(tmp_path / "v1") == pytest.approx(2.5)
    assert throttled_seconds(tmp_path / "v2") == pytest.approx(0.75)
    assert throttled_seconds(tmp_path / "none") is None


def test_quota_for_holds_the_processes_under_a_quota_and_moves_them_back_even_when_the_block_fails(
        tmp_path, monkeypatch):
    v1(tmp_path, "/", {})
    write(tmp_path, "proc/42/cgroup", "4:memory:/x\n1:cpu:/\n0::/\n")
    moves: list[tuple[list[int], str]] = []
    monkeypatch.setattr(cpulimit, "_move", lambda pids, folder: moves.append((list(pids), folder.name)))
    tree = iter([[42, 43], [42, 43, 44]])  # a backend forked meanwhile
    with pytest.raises(KeyboardInterrupt), cpulimit.quota_for(lambda: next(tree), 0.25, "lab-pg", tmp_path) as folder:
        assert folder == tmp_path / "sys/fs/cgroup/cpu/lab-pg"
        assert (folder / "cpu.cfs_quota_us").read_text() == "25000"
        assert (folder / "cpu.cfs_period_us").read_text() == "100000"
        raise KeyboardInterrupt
    assert moves == [([42, 43], "lab-pg"), ([42, 43, 44], "cpu")]


def test_quota_for_on_cgroup_v2_writes_cpu_max_beside_the_processes_cgroup(tmp_path, monkeypatch):
    v2(tmp_path, "/", {"/": "max 100000"})
    write(tmp_path, "proc/42/cgroup", "0::/system.slice/postgresql.service\n")
    (tmp_path / "sys/fs/cgroup/system.slice/postgresql.service").mkdir(parents=True)
    monkeypatch.setattr(cpulimit, "_move", lambda pids, folder: None)
    with cpulimit.quota_for(lambda: [42], 0.5, "lab-pg", tmp_path) as folder:
        assert folder == tmp_path / "sys/fs/cgroup/system.slice/lab-pg"
        assert (folder / "cpu.max").read_text() == "50000 100000"
