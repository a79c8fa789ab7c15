"""Every knob of the experiment, in one place: the load profiles, the arms, the lab parameters.

A newcomer changing the experiment edits only this file. Everything the report states about the
configuration (rates, timings, pool sizes, delay, Argon2 cost, seed sizes) is read from here, and the
k6 script receives the same numbers through its environment, so the burst windows shaded on the
charts are the ones k6 ran.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Profile:
    """One load shape for load/todo-load.js, plus the data it runs against.

    The schedule (load/lib/profile.js), in seconds from the start of the k6 scenarios: `warmup_s`
    at `base_rps`; then for each burst: `gap_s` at `base_rps` (not before the first), a `ramp_s`
    linear ramp up to `burst_rps`, `burst_s` at `burst_rps`, a `ramp_s` ramp back down; then
    `recovery_s` at `base_rps`. The mix is 40% login, 40% create, 20% list (the k6 script's).
    """

    name: str
    base_rps: int  # requests per second between bursts, all endpoints together
    burst_rps: int  # requests per second during a burst
    bursts: int  # how many bursts
    burst_s: int  # length of one burst
    gap_s: int  # quiet time after each burst
    warmup_s: int  # quiet time before the first burst
    recovery_s: int  # quiet time after the last burst
    ramp_s: int  # ramp into and out of each burst
    users: int  # seeded users (user1..userN@lab.test) that k6 logs in as
    sessions: int  # users k6's setup() logs in once; create/read requests use their tokens
    todos_per_user: int  # todos seeded per user: GET /todos reads real rows
    warmup_requests: int  # requests the runner sends before k6, to warm caches and pools

    def duration_s(self) -> int:
        """How long the k6 scenarios run (k6's setup() logins come before, outside this time)."""
        return (self.warmup_s + self.bursts * (2 * self.ramp_s + self.burst_s)
                + max(self.bursts - 1, 0) * self.gap_s + self.recovery_s)

    def burst_windows(self) -> list[tuple[float, float]]:
        """(start, end) of every burst, ramps included, in seconds from the start of the scenarios."""
        length = 2 * self.ramp_s + self.burst_s
        return [(self.warmup_s + i * (length + self.gap_s), self.warmup_s + i * (length + self.gap_s) + length)
                for i in range(self.bursts)]

    def k6_env(self) -> dict[str, str]:
        """The rate variables the k6 script reads (all explicit: the report states them)."""
        return {
            "PROFILE": self.name,
            "BASE_RPS": str(self.base_rps),
            "BURST_RPS": str(self.burst_rps),
            "BURSTS": str(self.bursts),
            "BURST_S": str(self.burst_s),
            "GAP_S": str(self.gap_s),
            "WARMUP_S": str(self.warmup_s),
            "RECOVERY_S": str(self.recovery_s),
            "RAMP_S": str(self.ramp_s),
            "USERS": str(self.users),
            "SESSIONS": str(self.sessions),
        }

    def to_dict(self) -> dict:
        return asdict(self) | {"duration_s": self.duration_s(), "burst_windows_s": self.burst_windows()}


# THE PROFILE TABLE. Rates are the load/ colleague's presets (load/lib/profile.js), found to make
# the effect clear on this 2-core machine; they are passed to k6 explicitly, so this table is the
# truth. `quick` keeps the whole pipeline (3 arms, set-up included, builds cached) under 3 minutes
# for CI, so its timings are shorter than load/'s quick preset; `default` keeps 3 arms under 15.
PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick", base_rps=300, burst_rps=1600, bursts=2, burst_s=6, gap_s=6,
        warmup_s=6, recovery_s=4, ramp_s=1, users=200, sessions=50, todos_per_user=20, warmup_requests=200,
    ),
    "default": Profile(
        name="default", base_rps=300, burst_rps=1600, bursts=4, burst_s=15, gap_s=20,
        warmup_s=30, recovery_s=30, ramp_s=1, users=1000, sessions=50, todos_per_user=20, warmup_requests=400,
    ),
}


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

    # One-way delay the latency proxy adds in front of Postgres. At 1 ms the default burst sat at
    # the shared pool's tipping point on this 2-core machine (Act I's burst read p95 was 30, 494
    # and 518 ms over three repeats, run 20261127T110031Z); at 2 ms the pool clearly runs dry
    # while k6's rates stay low enough for the machine (run 20261127T113520Z).
    delay_ms: int = 2
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

    def to_dict(self) -> dict:
        return asdict(self)
