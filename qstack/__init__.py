"""qstack: a physics-informed, circuit-level quantum network protocol stack.

Layers (see DESIGN.md): ``qstack.hardware`` (device models) -> ``qstack.engine`` (time and
quantum state) -> ``qstack.protocols`` (circuits) -> ``physical`` -> ``link`` -> ``network`` ->
``application`` -> ``metrics`` / ``scenario`` -> ``cli``.
"""

__version__ = "0.1.0"

from qstack.registry import register, registered  # noqa: E402  (public: qstack.register, qstack.registered)

try:  # the reinforcement-learning environment, with the optional "rl" extra
    import gymnasium as _gymnasium
except ImportError:
    pass
else:
    # The entry point is a string: qstack.gym_env (and the simulator) load only on make().
    if "qstack/Scheduling-v0" not in _gymnasium.registry:
        _gymnasium.register(id="qstack/Scheduling-v0", entry_point="qstack.gym_env:SchedulingEnv")
    del _gymnasium
