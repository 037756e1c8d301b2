"""Boundary checks shared by the hardware models.

Every check raises ``ValueError`` whose message names ``Class.field``, the allowed range and the
value received, e.g. ``"Fiber.length_km must be >= 0, got -1.0"``. The checks return the value
as a plain Python ``float`` (or ``int``) so that the frozen dataclasses store one numeric type.
"""

from __future__ import annotations

import math
import numbers
import operator


def as_real(owner: str, field: str, value: object) -> float:
    """``value`` as a Python float; bools, non-numbers and NaN are rejected."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{owner}.{field} must be a real number, got {value!r}")
    result = float(value)
    if math.isnan(result):
        raise ValueError(f"{owner}.{field} must be a real number, got nan")
    return result


def finite_at_least(owner: str, field: str, value: object, lower: float) -> float:
    """Finite ``value >= lower``."""
    result = as_real(owner, field, value)
    if result < lower:
        raise ValueError(f"{owner}.{field} must be >= {lower:g}, got {result!r}")
    if math.isinf(result):
        raise ValueError(f"{owner}.{field} must be finite, got {result!r}")
    return result


def non_negative(owner: str, field: str, value: object) -> float:
    """Finite ``value >= 0``."""
    return finite_at_least(owner, field, value, 0.0)


def positive(owner: str, field: str, value: object, *, allow_inf: bool = False) -> float:
    """``value > 0`` (finite unless ``allow_inf``)."""
    result = as_real(owner, field, value)
    if result <= 0.0:
        raise ValueError(f"{owner}.{field} must be > 0, got {result!r}")
    if math.isinf(result) and not allow_inf:
        raise ValueError(f"{owner}.{field} must be finite, got {result!r}")
    return result


def in_closed_range(owner: str, field: str, value: object, lower: float, upper: float) -> float:
    """``lower <= value <= upper``."""
    result = as_real(owner, field, value)
    if not lower <= result <= upper:
        raise ValueError(f"{owner}.{field} must be in [{lower:g}, {upper:g}], got {result!r}")
    return result


def probability(owner: str, field: str, value: object) -> float:
    """``0 <= value <= 1``."""
    return in_closed_range(owner, field, value, 0.0, 1.0)


def count(owner: str, field: str, value: object, lower: int) -> int:
    """An integer (not bool) ``>= lower``."""
    if isinstance(value, bool):
        raise ValueError(f"{owner}.{field} must be an integer >= {lower}, got {value!r}")
    try:
        result = operator.index(value)  # accepts int and numpy integers, refuses 2.5
    except TypeError:
        if isinstance(value, float) and value.is_integer():
            result = int(value)  # TOML overrides and CLI values may arrive as 4.0
        else:
            raise ValueError(
                f"{owner}.{field} must be an integer >= {lower}, got {value!r}"
            ) from None
    if result < lower:
        raise ValueError(f"{owner}.{field} must be an integer >= {lower}, got {result!r}")
    return result


def flag(owner: str, field: str, value: object) -> bool:
    """A ``bool``."""
    if not isinstance(value, bool):
        raise ValueError(f"{owner}.{field} must be true or false, got {value!r}")
    return value


def relaxation_times(owner: str, t1_s: object, t2_s: object) -> tuple[float, float]:
    """Validated ``(T1, T2)`` [s]: ``T1 > 0`` (may be inf), ``0 < T2 <= 2 T1``.

    T2 may be infinite only when T1 is: a finite T1 bounds T2 by 2 T1.
    """
    t1 = positive(owner, "t1_s", t1_s, allow_inf=True)
    t2 = positive(owner, "t2_s", t2_s, allow_inf=True)
    if t2 > 2.0 * t1:
        raise ValueError(f"{owner}.t2_s must be <= 2*t1_s (t1_s={t1!r}), got {t2!r}")
    return t1, t2
