"""The profile table and its burst schedule."""

from experiment.model.profiles import ARMS, PROFILES, Profile, Rates
from experiment.run.k6cmd import script_env


def test_burst_windows_follow_the_schedule():
    p = Profile("t", base_x=0.25, burst_x=1.3, bursts=3, burst_s=5, gap_s=10, warmup_s=7, recovery_s=4,
                ramp_s=1, users=1, sessions=1, todos_per_user=1, warmup_requests=1, probe_s=1)
    # as load/lib/profile.js: warm-up, then (gap,) ramp, burst, ramp per burst, then recovery
    assert p.burst_windows() == [(7, 14), (24, 31), (41, 48)]
    assert p.duration_s() == 7 + 3 * 7 + 2 * 10 + 4


def test_k6_gets_every_rate_and_the_whole_schedule_explicitly():
    quick = PROFILES["quick"]
    env = script_env(quick, Rates(base_rps=100, burst_rps=520, source="explicit"))
    assert (env["BASE_RPS"], env["BURST_RPS"], env["PROFILE"]) == ("100", "520", "quick")
    for name in ("bursts", "burst_s", "gap_s", "warmup_s", "recovery_s", "ramp_s", "users", "sessions"):
        assert env[name.upper()] == str(getattr(quick, name)), name


def test_quick_fits_ci_and_default_fits_fifteen_minutes():
    assert 3 * PROFILES["quick"].duration_s() < 120
    assert 3 * PROFILES["default"].duration_s() < 12 * 60
    assert 9 * PROFILES["default"].duration_s() < 30 * 60  # --repeat 3 with room for set-up


def test_act_one_and_three_hold_the_same_connections():
    by_key = {a.key: a for a in ARMS}
    assert by_key["shared"].pool_size == by_key["isolated"].pool_size
    assert by_key["shared-3x"].pool_size == 3 * by_key["shared"].pool_size


def test_calibrated_rates_are_the_profile_multiples_of_the_capacity():
    rates = Rates.calibrated(PROFILES["default"], capacity_rps=400.0)
    assert (rates.base_rps, rates.burst_rps) == (round(400 * PROFILES["default"].base_x),
                                                 round(400 * PROFILES["default"].burst_x))
    assert rates.source == "calibrated" and rates.capacity_rps == 400.0
    assert PROFILES["default"].burst_x > 1 > PROFILES["default"].base_x
