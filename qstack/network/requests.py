"""What users ask of the network (:class:`Request`) and what it did for them (:class:`RequestStats`)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Request:
    """A user's demand: ``pairs`` Bell pairs between ``src`` and ``dst``.

    ``storage_time_s`` is how long the application keeps each pair in memory before using it
    (waiting for its own classical inputs); ``min_fidelity`` is the fidelity the user needs,
    counted in the report. For schedulers: the request arrives at ``arrival_s``, wants all its
    pairs within ``deadline_s`` after that, and weighs ``priority`` in fair sharing;
    ``min_rate_hz`` is the throughput the user needs (a QKD link), counted in the report.
    """

    src: str
    dst: str
    pairs: int = 1
    min_fidelity: float = 0.0
    storage_time_s: float = 0.0
    name: str = ""
    arrival_s: float = 0.0
    deadline_s: float = math.inf
    priority: float = 1.0
    min_rate_hz: float = 0.0

    def __post_init__(self) -> None:
        if self.pairs < 1:
            raise ValueError(f"Request.pairs must be >= 1, got {self.pairs}")
        if not self.arrival_s >= 0:
            raise ValueError(f"Request.arrival_s must be >= 0, got {self.arrival_s}")
        if not self.deadline_s > 0:
            raise ValueError(f"Request.deadline_s must be > 0 (time after arrival), got {self.deadline_s}")
        if not (self.min_rate_hz >= 0 and math.isfinite(self.min_rate_hz)):
            raise ValueError(f"Request.min_rate_hz must be a finite number >= 0, got {self.min_rate_hz}")
        if not (self.priority > 0 and math.isfinite(self.priority)):
            raise ValueError(f"Request.priority must be a finite number > 0, got {self.priority}")
        if not 0.0 <= self.min_fidelity <= 1.0:
            raise ValueError(f"Request.min_fidelity must be in [0, 1], got {self.min_fidelity}")
        if self.storage_time_s < 0:
            raise ValueError(f"Request.storage_time_s must be >= 0, got {self.storage_time_s}")

    @property
    def label(self) -> str:
        return self.name or f"{self.src}->{self.dst}"


@dataclass
class RequestStats:
    """Counters of one request, for the report."""

    request: Request
    records: list
    cutoff_discards: int = 0
    extraction_failures: int = 0
    finished_s: float | None = None
    requested_s: float | None = None  # arrival of the request or scheduler job (None: when its service starts)
    cutoff_s: float = math.inf  # this request's storage cut-off (the network's, or a scheduler's choice)
    modes: int | None = None  # multiplexed modes per link generation (None: all of the link's)
