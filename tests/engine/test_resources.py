"""Counted resources and the process-less start (qstack.engine.resources)."""

import simpy

from qstack.engine import SlotPool, call_now


def test_call_now_runs_where_a_process_started_now_would_take_its_first_step():
    """At one instant: a normal event scheduled first, a process started, a call_now, another
    process, and code after them. The call runs in start order with the processes, after the
    code that asked for it and before the normal event."""
    env = simpy.Environment()
    order = []

    def process(name):
        order.append(name)
        yield env.timeout(0)

    def at_start(_event):
        normal = env.event()
        normal.callbacks.append(lambda _e: order.append("normal event"))
        normal.succeed()
        env.process(process("first process"))
        call_now(env, lambda _e: order.append("call_now"))
        env.process(process("second process"))
        order.append("code after them")

    env.timeout(1.0).callbacks.append(at_start)
    env.run()
    assert order == ["code after them", "first process", "call_now", "second process", "normal event"]


def test_slot_pool_grants_in_order_and_integrates_the_busy_time():
    env = simpy.Environment()
    pool = SlotPool(env, 2)
    granted = []

    def user(name, n, hold_s):
        turn = pool.take(n)
        if turn is not None:
            yield turn
        granted.append((name, env.now))
        yield env.timeout(hold_s)
        pool.give(n)

    env.process(user("a", 2, 1.0))
    env.process(user("b", 1, 1.0))
    env.process(user("c", 1, 0.5))
    env.run()
    assert granted == [("a", 0.0), ("b", 1.0), ("c", 1.0)]
    assert pool.busy_s() == 2 * 1.0 + 1 * 1.0 + 1 * 0.5  # resource-seconds held
