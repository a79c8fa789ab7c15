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
    """One load shape for the k6 script (load/*.js), plus the data it runs against.

    The schedule, in seconds from the start of the k6 scenario:
    `warmup_s` at `base_rps`, then `bursts` times (`burst_s` at `burst_rps`, then `gap_s` at
    `base_rps`), then `recovery_s` at `base_rps`. The request mix (40% login, 40% create, 20% list)
    is the k6 script's.
    """

    name: str
    base_rps: int  # requests per second between bursts, all endpoints together
    burst_rps: int  # requests per second during a burst
    bursts: int  # how many bursts
    burst_s: int  # length of one burst
    gap_s: int  # quiet time after each burst
    warmup_s: int  # quiet time before the first burst
    recovery_s: int  # extra quiet time after the last burst's gap
    users: int  # seeded users (user1..userN@lab.test) that k6 logs in as
    todos_per_user: int  # todos seeded per user: GET /todos reads real rows
    warmup_requests: int  # requests the runner sends before k6, to warm caches and pools

    def duration_s(self) -> int:
        """How long the k6 scenario runs."""
        return self.warmup_s + self.bursts * (self.burst_s + self.gap_s) + self.recovery_s

    def burst_windows(self) -> list[tuple[float, float]]:
        """(start, end) of every burst, in seconds from the start of the k6 scenario."""
        period = self.burst_s + self.gap_s
        return [
            (self.warmup_s + i * period, self.warmup_s + i * period + self.burst_s)
            for i in range(self.bursts)
        ]

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
            "USERS": str(self.users),
        }

    def to_dict(self) -> dict:
        return asdict(self) | {"duration_s": self.duration_s(), "burst_windows_s": self.burst_windows()}


# THE PROFILE TABLE. The rates are placeholders until the load/ colleague reports rates that make
# the effect clear on this 2-core machine. `quick` keeps the whole pipeline (3 arms, set-up
# included, builds cached) under 3 minutes for CI; `default` keeps 3 arms under 15 minutes.
PROFILES: dict[str, Profile] = {
    "quick": Profile(
        name="quick", base_rps=40, burst_rps=400, bursts=2, burst_s=6, gap_s=6,
        warmup_s=4, recovery_s=2, users=50, todos_per_user=10, warmup_requests=200,
    ),
    "default": Profile(
        name="default", base_rps=50, burst_rps=500, bursts=4, burst_s=20, gap_s=20,
        warmup_s=15, recovery_s=10, users=200, todos_per_user=20, warmup_requests=400,
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

    delay_ms: int = 1  # one-way delay the latency proxy adds in front of Postgres
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
