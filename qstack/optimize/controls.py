"""The controls an optimisation searches: dotted scenario keys with bounds."""

from __future__ import annotations

import math
from dataclasses import dataclass

from qstack.scenario import OVERRIDE_ROLES

OVERRIDE_PREFIX = "hardware.overrides."
# Continuous control values are rounded to this many significant digits before a run, so a
# setting is reproducible from its printed value and nearby candidates share a cached run.
SIGNIFICANT_DIGITS = 4


@dataclass(frozen=True)
class Control:
    """One searched scenario key and its bounds.

    ``key`` is a dotted scenario key as in ``--set`` (``link.cutoff_s``); hardware overrides
    are ``hardware.overrides.<role>.<section>.<field>`` or the short form
    ``override:<role>.<section>.<field>``. ``integer`` controls take whole values in
    ``[low, high]``; ``log`` controls are searched uniformly in ``log10`` (``low > 0``).
    """

    key: str
    low: float
    high: float
    integer: bool = False
    log: bool = False

    def __post_init__(self) -> None:
        key = self.key.strip() if isinstance(self.key, str) else self.key
        if not isinstance(key, str) or not key:
            raise ValueError(f"control {self.key!r}: needs a dotted scenario key such as link.cutoff_s")
        key = _full_key(key)
        object.__setattr__(self, "key", key)
        parts = key.split(".")
        if any(not p for p in parts):
            raise ValueError(f"control {key}: not a dotted scenario key")
        if key.startswith(OVERRIDE_PREFIX):
            path = key[len(OVERRIDE_PREFIX):].split(".")
            if len(path) != 3 or path[0] not in OVERRIDE_ROLES:
                raise ValueError(
                    f"control {key}: override keys are hardware.overrides.<{'|'.join(OVERRIDE_ROLES)}>.<section>.<field>"
                )
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"control {key}: {name} must be a finite number, got {value!r}")
        if not self.low < self.high:
            raise ValueError(f"control {key}: needs low < high, got {self.low:g}:{self.high:g}")
        if self.integer and (float(self.low) != int(self.low) or float(self.high) != int(self.high)):
            raise ValueError(f"control {key}: integer bounds must be integers, got {self.low:g}:{self.high:g}")
        if self.log and self.low <= 0:
            raise ValueError(f"control {key}: a log-scaled control needs low > 0, got {self.low:g}")

    @classmethod
    def parse(cls, text: str) -> "Control":
        """``KEY=LOW:HIGH[:int][:log]`` as on the command line (``link.cutoff_s=1e-3:0.1:log``)."""
        key, sep, spec = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"control {text!r}: expected KEY=LOW:HIGH[:int][:log]")
        fields = [f.strip() for f in spec.split(":")]
        if len(fields) < 2:
            raise ValueError(f"control {key}: expected KEY=LOW:HIGH[:int][:log], got {spec!r}")
        flags = fields[2:]
        unknown = [f for f in flags if f not in ("int", "log")]
        if unknown:
            raise ValueError(f"control {key}: unknown flag {unknown[0]!r}; flags are int and log")
        try:
            low, high = float(fields[0]), float(fields[1])
        except ValueError:
            raise ValueError(f"control {key}: bounds must be numbers, got {fields[0]!r}:{fields[1]!r}") from None
        integer = "int" in flags
        if integer and low.is_integer() and high.is_integer():
            low, high = int(low), int(high)
        return cls(key, low, high, integer=integer, log="log" in flags)

    @property
    def search_bounds(self) -> tuple[float, float]:
        """Bounds in the optimiser's coordinate (``log10`` of the value for log controls)."""
        if self.log:
            return math.log10(self.low), math.log10(self.high)
        return float(self.low), float(self.high)

    def value(self, coordinate: float) -> float | int:
        """The scenario value at an optimiser coordinate, clipped to the bounds and rounded."""
        value = 10.0 ** coordinate if self.log else float(coordinate)
        if self.integer:
            return int(min(max(round(value), self.low), self.high))
        return min(max(float(f"{value:.{SIGNIFICANT_DIGITS}g}"), float(self.low)), float(self.high))

    def describe(self) -> str:
        flags = "".join(f":{f}" for f, on in (("int", self.integer), ("log", self.log)) if on)
        return f"{self.key}={self.low:g}:{self.high:g}{flags}"


def _full_key(key: str) -> str:
    """``override:role.section.field`` (the short form) as ``hardware.overrides.role.section.field``."""
    return OVERRIDE_PREFIX + key[len("override:"):] if key.startswith("override:") else key
