"""Running the lab: processes, hosts, CPU, k6, Prometheus, and the command line's flow. The only
stage that starts anything; may import every other.

# Layout

- `cli.py`       the command line and the top-level flow: set up, calibrate, run each arm (or the
                 sweep's regimes), analyse, report.
- `runner.py`    one run of one arm: fresh database, proxy, service, warm-up, k6, CPU sampler.
- `lab.py`       starting the lab's pieces: database, latency proxy, service, UI, recorder.
- `procs.py`     child processes that never outlive the runner (process groups, timeouts).
- `hosts.py`     where the two roles run (one host, or the system under test in a netns).
- `calibrate.py` the probe before the acts: hold times (so the pool's capacity), CPU per role.
- `k6cmd.py`     how k6 is invoked: every command line and environment given to k6.
- `k6run.py`     k6 under a pseudo-terminal, recorded as an asciinema cast, paused and let go together.
- `k6operator.py` the load as a k6-operator TestRun, for a Kubernetes cluster.
- `monitoring.py` the lab's Prometheus: targets, the raw export of a run's series.
- `cpu.py`       CPU of service, Postgres (process tree), k6, proxy, the lab, through psutil.
- `cpulimit.py`  the CPU the lab may use: affinity mask and cgroup CPU quota (v1, v2); Postgres's quota.
- `cpusets.py`   the load generator kept off the service's CPUs (disjoint CPU sets).
- `machine.py`   cores, memory, CPU model and versions.
- `demo.py`      `python -m experiment.run.demo`: the lab by hand, set up as a run sets up an arm.
"""
