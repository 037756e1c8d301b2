"""The scheduling environment: gymnasium's API, seeding, rewards, and a replay of run_scenario."""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

import qstack  # noqa: E402,F401  (registers qstack/Scheduling-v0)
from qstack.gym_env import JOB_FEATURES, SchedulingEnv, star_scenario_table  # noqa: E402
from qstack.runner import run_scenario  # noqa: E402
from qstack.scenario import load_scenario  # noqa: E402


def small_star() -> dict:
    """The built-in star with fewer arrivals and a short run: a few seconds per test."""
    table = star_scenario_table()
    table["max_time_s"] = 1.0
    qkd, compute, sensor, backup = table["requests"]
    qkd["pairs"] = 4
    compute["arrivals"] = sensor["arrivals"] = 3
    backup["arrivals"] = 2
    return table


def run_episode(env: SchedulingEnv, policy, seed: int):
    """Total reward, steps and the last info of one episode under ``policy(env, obs)``."""
    obs, info = env.reset(seed=seed)
    total, steps = 0.0, 0
    while True:
        obs, reward, terminated, truncated, info = env.step(policy(env, obs))
        total += reward
        steps += 1
        if terminated or truncated:
            return total, steps, info


def always_wait(env, obs):
    return env.wait_action


def earliest_deadline_that_fits(env, obs):
    """Visible slots come earliest deadline first: the first that fits, with all modes if it can."""
    mask = env.action_masks()
    for slot in range(env.max_jobs):
        if mask[env.max_jobs + slot]:
            return env.max_jobs + slot
        if mask[slot]:
            return slot
    return env.wait_action


def earliest_deadline_on_an_idle_route(env, obs):
    """As above, skipping jobs whose route has a pair under way (read off the observation)."""
    mask = env.action_masks()
    slots = obs[: env.max_jobs * len(JOB_FEATURES)].reshape(env.max_jobs, len(JOB_FEATURES))
    idle = slots[:, JOB_FEATURES.index("route_idle")] == 1.0
    for slot in np.flatnonzero(idle):
        if mask[env.max_jobs + slot]:
            return env.max_jobs + slot
        if mask[slot]:
            return slot
    return env.wait_action


def random_policy(seed: int):
    rng = np.random.default_rng(seed)
    return lambda env, obs: int(rng.integers(env.action_space.n))


def test_environment_passes_gymnasiums_checker():
    from gymnasium.utils.env_checker import check_env

    env = gymnasium.make("qstack/Scheduling-v0", scenario=small_star(), max_jobs=4)
    check_env(env.unwrapped)


def test_importing_qstack_registers_the_environment_for_make():
    env = gymnasium.make("qstack/Scheduling-v0", scenario=small_star(), max_jobs=3)
    obs, _ = env.reset(seed=2)
    assert isinstance(env.unwrapped, SchedulingEnv)
    assert env.action_space == gymnasium.spaces.Discrete(7)
    assert obs.shape == env.observation_space.shape and obs.dtype == np.float32
    assert obs in env.observation_space
    env.close()


def test_default_scenario_is_the_star_of_the_scheduler_comparison():
    env = SchedulingEnv()
    assert env.nodes == ["n0", "n1", "n2", "n3", "n4"]
    assert env.links == [("n0", "n1"), ("n0", "n2"), ("n0", "n3"), ("n0", "n4")]
    assert env.max_time_s == 60.0 and env.horizon_s == 0.2
    assert len(env.feature_names) == env.observation_space.shape[0] == 8 * 8 + 4 + 5 * 2 + 1


def test_built_in_star_is_the_scenario_file_of_the_scheduler_comparison():
    star_file = Path(__file__).resolve().parents[2] / "scenarios" / "star_schedulers.toml"
    assert load_scenario(star_scenario_table()) == load_scenario(star_file)


def test_same_seed_and_actions_give_identical_trajectories():
    actions = np.random.default_rng(5).integers(0, 9, size=60)

    def trajectory(seed):
        env = SchedulingEnv(small_star(), max_jobs=4)
        obs, _ = env.reset(seed=seed)
        out = [(obs, 0.0)]
        for action in actions:
            obs, reward, terminated, truncated, _ = env.step(action)
            out.append((obs, reward))
            if terminated or truncated:
                break
        return out

    first, second, other = trajectory(7), trajectory(7), trajectory(8)
    assert len(first) == len(second)
    for (obs_a, reward_a), (obs_b, reward_b) in zip(first, second):
        np.testing.assert_array_equal(obs_a, obs_b)
        assert reward_a == reward_b
    assert len(first) != len(other) or any(not np.array_equal(a, b) for (a, _), (b, _) in zip(first, other))


def test_a_policy_that_acts_like_edf_replays_run_scenario_with_edf_exactly():
    table = small_star()
    table["scheduling"]["policy"] = "edf"
    report = run_scenario(load_scenario(table)).scheduling
    env = SchedulingEnv(table, max_jobs=16)

    def like_edf(env, obs):  # the scheduler's rule: earliest deadline whose pair fits with all modes
        mask = env.action_masks()
        return next((env.max_jobs + i for i in range(env.max_jobs) if mask[env.max_jobs + i]), env.wait_action)

    _, _, info = run_episode(env, like_edf, seed=table["seed"])
    replay = env.dispatcher.report(info["time_s"])
    assert [(u.user, u.delivered, u.requirements_met, u.mean_fidelity) for u in replay.users] == [
        (u.user, u.delivered, u.requirements_met, u.mean_fidelity) for u in report.users
    ]


def test_return_counts_pairs_meeting_min_fidelity_less_one_per_missed_job():
    env = SchedulingEnv(small_star(), max_jobs=4)
    total, _, info = run_episode(env, earliest_deadline_that_fits, seed=3)
    jobs = env.dispatcher.jobs
    expected = sum(f for job in jobs for f in job.fidelities if f >= job.request.min_fidelity)
    expected -= sum(job.state in ("missed", "rejected") for job in jobs)
    assert total == pytest.approx(expected, rel=1e-12)
    assert info["delivered"] == sum(job.delivered for job in jobs) > 0


def test_invalid_action_is_a_wait_with_a_penalty():
    penalty = 0.25
    env_wait = SchedulingEnv(small_star(), max_jobs=4, invalid_action_penalty=penalty)
    env_bad = SchedulingEnv(small_star(), max_jobs=4, invalid_action_penalty=penalty)
    env_wait.reset(seed=4)
    obs, _ = env_bad.reset(seed=4)
    empty_slot = int(obs.reshape(-1)[: 4 * 8].reshape(4, 8)[:, 0].argmin())  # a slot with no job
    assert obs[empty_slot * 8] == 0.0
    assert not env_bad.action_masks()[empty_slot]
    obs_wait, reward_wait, *_ = env_wait.step(env_wait.wait_action)
    obs_bad, reward_bad, _, _, info = env_bad.step(empty_slot)
    assert info["invalid_action"]
    np.testing.assert_array_equal(obs_bad, obs_wait)
    assert reward_bad == pytest.approx(reward_wait - penalty)


def test_always_waiting_misses_every_job_with_a_deadline_and_is_truncated():
    table = small_star()
    env = SchedulingEnv(table, max_jobs=4)
    total, _, info = run_episode(env, always_wait, seed=1)
    with_deadline = sum(r["arrivals"] for r in table["requests"] if "deadline_s" in r)
    assert total == -with_deadline
    assert info["time_s"] == table["max_time_s"] and info["delivered"] == 0


def test_earliest_deadline_on_idle_routes_beats_plain_edf_random_and_always_waiting():
    # A pair started on a busy route waits for its link while its partner decays in memory:
    # the heuristic that waits for idle routes earns more than the greedy one.
    env = SchedulingEnv(small_star(), max_jobs=4)
    for seed in (1, 2):
        heuristic, _, info = run_episode(env, earliest_deadline_on_an_idle_route, seed)
        assert info["requirements_met"] > 0
        greedy, _, _ = run_episode(env, earliest_deadline_that_fits, seed)
        random, _, _ = run_episode(env, random_policy(seed), seed)
        waiting, _, _ = run_episode(env, always_wait, seed)
        assert heuristic > greedy, (seed, heuristic, greedy)
        assert heuristic > random > waiting, (seed, heuristic, random, waiting)


def test_observation_reports_memory_ages_in_units_of_t2_while_pairs_wait():
    env = SchedulingEnv(small_star(), max_jobs=4)
    env.reset(seed=1)
    ages = [env.feature_names.index(f"node n{i}.oldest_age") for i in range(5)]
    seen = 0.0
    for _ in range(40):
        obs, _, terminated, truncated, _ = env.step(earliest_deadline_that_fits(env, None))
        seen = max(seen, float(obs[ages].max()))
        if terminated or truncated:
            break
    assert 0.0 < seen <= 1.0


def test_without_gymnasium_the_import_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium", None)  # makes `import gymnasium` fail
    monkeypatch.delitem(sys.modules, "qstack.gym_env", raising=False)
    with pytest.raises(ImportError, match=r'pip install "qstack\[rl\]"'):
        importlib.import_module("qstack.gym_env")


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="max_jobs"):
        SchedulingEnv(small_star(), max_jobs=0)
    with pytest.raises(ValueError, match="render_mode"):
        SchedulingEnv(small_star(), render_mode="human")
    env = SchedulingEnv(small_star(), max_jobs=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(5)
