"""Every knob of the experiment: the load profiles, the arms, the lab parameters.

A newcomer changing the experiment edits this file and, for the load's shape (the profiles'
schedules, rate multiples and seed sizes, the mix), load/shape.json, which k6 reads too. Everything
the report states about the configuration (rates, timings, pool sizes, delay, Argon2 cost, seed
sizes) is read from here, and the k6 script receives the same numbers through its environment, so
the burst windows shaded on the charts are the ones k6 ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from . import shape
from .codec import OMIT_NONE


@dataclass(frozen=True)
class Profile:
    """One load shape for load/todo-load.js, plus the data it runs against.

    The schedule (load/lib/profile.js), in seconds from the start of the k6 scenarios: `warmup_s`
    at the base rate; then for each burst: `gap_s` at the base rate (not before the first), a
    `ramp_s` linear ramp up to the burst rate, `burst_s` at the burst rate, a `ramp_s` ramp back
    down; then `recovery_s` at the base rate. The mix is load/shape.json's (shape.MIX).

    The rates are not fixed here: they are multiples (`base_x`, `burst_x`) of the shared pool's
    capacity, measured on this machine before the acts (calibrate.py), so the same profile asks
    the same of the pool at any database delay and on any machine. See `Rates`.
    """

    name: str
    base_x: float  # base rate as a multiple of the shared pool's measured capacity
    burst_x: float  # burst rate as a multiple of it: above 1 the shared pool cannot keep up
    bursts: int  # how many bursts
    burst_s: int  # length of one burst
    gap_s: int  # quiet time after each burst
    warmup_s: int  # quiet time before the first burst
    recovery_s: int  # quiet time after the last burst
    ramp_s: int  # ramp into and out of each burst: short, so a burst hits like one
    users: int  # seeded users (user1..userN@lab.test) that k6 logs in as
    sessions: int  # users k6's setup() logs in once; create/read requests use their tokens
    todos_per_user: int  # todos seeded per user: GET /todos reads real rows
    warmup_requests: int  # requests the runner sends before k6, to warm caches and pools
    probe_s: int  # how long the calibration probe runs (calibrate.py)
    # A sweep profile (--sweep, sweep.py): each burst's rate as a multiple of the capacity, in
    # order, one burst per step (`bursts` equals their number); `burst_x` stays the multiple the
    # CPU budget plans the delay for, as for the acts. None: every burst at `burst_x`.
    steps: tuple[float, ...] | None = field(default=None, metadata=OMIT_NONE)

    def __post_init__(self) -> None:
        if self.steps is not None:  # shape.json's list, or a tuple
            object.__setattr__(self, "steps", tuple(self.steps))
        if self.steps is not None and len(self.steps) != self.bursts:
            raise ValueError(f"profile {self.name}: {len(self.steps)} steps for {self.bursts} bursts")

    @property
    def is_sweep(self) -> bool:
        return self.steps is not None

    def duration_s(self) -> int:
        """How long the k6 scenarios run (k6's setup() logins come before, outside this time)."""
        return (self.warmup_s + self.bursts * (2 * self.ramp_s + self.burst_s)
                + max(self.bursts - 1, 0) * self.gap_s + self.recovery_s)

    def burst_windows(self) -> list[tuple[float, float]]:
        """(start, end) of every burst, ramps included, in seconds from the start of the scenarios."""
        length = 2 * self.ramp_s + self.burst_s
        return [(self.warmup_s + i * (length + self.gap_s), self.warmup_s + i * (length + self.gap_s) + length)
                for i in range(self.bursts)]

    def steady_windows(self) -> list[tuple[float, float]]:
        """(start, end) of every burst's steady part (ramps left out): where a sweep's step held its rate."""
        return [(start + self.ramp_s, end - self.ramp_s) for start, end in self.burst_windows()]

    # Its JSON (codec.py) states its duration and burst windows too, for readers of the file.
    JSON_DERIVED: ClassVar[frozenset[str]] = frozenset({"duration_s", "burst_windows_s"})

    def json_derived(self) -> dict:
        return {"duration_s": self.duration_s(), "burst_windows_s": self.burst_windows()}


# THE PROFILE TABLE is load/shape.json ("profiles"), shared with k6. Rates are multiples of the shared
# pool's capacity, measured before the acts (calibrate.py): between bursts a quarter of it, bursts
# 1.3x (30% more than 12 connections can serve: the shared pool's queue grows until its acquire
# timeout sheds load, while the read pool of Act III carries its 20% share of the burst well inside
# its 4 connections). `quick` keeps the whole pipeline (calibration, 3 arms, set-up included, builds
# cached) short for CI; `default` keeps 3 arms under 15 minutes, and `--repeat 3` (9 runs of about
# 190 s) under 35.
PROFILES: dict[str, Profile] = {name: Profile(name=name, **fields) for name, fields in shape.PROFILE_FIELDS.items()}


@dataclass(frozen=True)
class Rates:
    """The request rates k6 runs, all endpoints together, and where they came from."""

    base_rps: int
    burst_rps: int
    source: str  # "calibrated" (multiples of the measured capacity) or "explicit" (--base-rps/--burst-rps)
    capacity_rps: float | None = None  # the shared pool's measured capacity, when calibrated
    # A sweep's burst rates, one per step (profile.steps x the capacity); None for the acts.
    step_rps: tuple[int, ...] | None = field(default=None, metadata=OMIT_NONE)

    @classmethod
    def calibrated(cls, profile: Profile, capacity_rps: float) -> Rates:
        steps = None if profile.steps is None else tuple(max(1, round(x * capacity_rps)) for x in profile.steps)
        return cls(base_rps=max(1, round(profile.base_x * capacity_rps)),
                   burst_rps=max(1, round(profile.burst_x * capacity_rps)),
                   source="calibrated", capacity_rps=capacity_rps, step_rps=steps)



@dataclass(frozen=True)
class Arm:
    """One configuration of the service under the same load."""

    key: str  # short id, used in file names and summary.json
    act: str  # the story's name for it
    pool_mode: str  # the service's --pool-mode
    pool_size: int  # the service's --pool-size (isolated: the total, split by the service)
    story: str  # one line for the report

    @property
    def label(self) -> str:
        return f"{self.act}: {self.key} (pool {self.pool_size})"


SHARED = Arm("shared", "Act I", "shared", 12, "one pool of 12 for every endpoint")
ISOLATED = Arm("isolated", "Act III", "isolated", 12, "a pool per endpoint, 12 in total")
SHARED_3X = Arm("shared-3x", "Control", "shared", 36, "one pool, three times bigger: more power, no boundaries")
ARMS: tuple[Arm, ...] = (SHARED, ISOLATED, SHARED_3X)
ARMS_BY_KEY = {arm.key: arm for arm in ARMS}


@dataclass(frozen=True)
class LabParams:
    """Fixed parameters of the lab, stated in the report."""

    # One-way delay the latency proxy adds in front of Postgres: every round trip takes at least
    # 2 x this. 5 ms (10 ms a round trip) stands for a database in another zone or region, or
    # queries that do real work, instead of a Postgres on the same host answering in microseconds.
    # It sets the pool's capacity (calibrate.py) low enough that this 2-core machine generates,
    # proxies and serves a 1.3x burst with CPU to spare on both sides: at 5 ms the shared pool of
    # 12 served about 790 req/s, and the quick profile's bursts of ~1,030 req/s used under half of
    # each side's core (run 20261128T061719Z). A shorter delay raises the capacity, hence the
    # rates, hence the CPU that k6 and the service need for the same lesson.
    delay_ms: int = 5
    # Argon2id cost of the seeded password hashes, hence of verifying one at POST /login. Cheap on
    # purpose: at OWASP's minimum (19 MiB, 2 iterations) one verification costs ~29 ms of CPU, and
    # on 2 cores logins would make CPU, not the pool, the bottleneck. 1 MiB / 1 iteration costs
    # well under a millisecond.
    argon2_memory_kib: int = 1024
    argon2_iterations: int = 1
    password: str = "lab-password"  # the seeded users' password
    acquire_timeout_ms: int = 500  # the service's --acquire-timeout-ms (its default, stated)
    database: str = "lab_experiment"  # dropped and recreated before every run of an arm
    frame_ms: int = 1500  # UI recording: one screenshot every frame_ms
    # The calibration probe's steady rate. Hold times do not include waiting for a connection, so
    # the probe need not be tiny; it must only stay well under capacity and leave the CPU idle.
    probe_rps: int = 50
    # Run the system under test (Postgres, proxy, service) and the load side (k6, UI, recorder,
    # this runner) on disjoint CPU sets: "auto" (with 4 or more CPUs), "on", "off" (cpusets.py).
    pin_cpus: str = "auto"

