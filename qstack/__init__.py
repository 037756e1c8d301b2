"""qstack: a physics-informed, circuit-level quantum network protocol stack.

Layers (see DESIGN.md): ``qstack.hardware`` (device models) -> ``qstack.engine`` (time and
quantum state) -> ``qstack.protocols`` (circuits) -> ``physical`` -> ``link`` -> ``network`` ->
``application`` -> ``metrics`` / ``scenario`` -> ``cli``.
"""

__version__ = "0.1.0"
