"""Network layer: topology, routing, reservation, purification, swapping and delivery.

=====================  ======================================================================
module                 purpose
=====================  ======================================================================
``network``            :class:`Network`, the facade over the parts below
``requests``           :class:`Request` (a user's demand) and :class:`RequestStats` (its counters)
``routing``            route costs, registered as kind ``"routing"``; a name or a weight callable
``reservation``        memory slots a path needs, and the slots reserved by requests in service
``purification``       :class:`PurificationPolicy` and the schemes registered as ``"purification"``
``path``               :class:`PathAttempt`: one end-to-end pair by link pairs, swaps, cut-offs
``delivery``           serving a request, and the one delivery of every pair to the user
=====================  ======================================================================
"""

from .delivery import LinkAttempt
from .network import Network
from .path import SWAPPING_POLICIES, PathAttempt, PathPlan, Segment, nested_triples
from .purification import (
    PURIFICATION_METHODS,
    PURIFICATION_SCHEMES,
    PURIFICATION_SCOPES,
    PurificationPolicy,
    PurificationScheme,
    Pumping,
    Recurrence,
)
from .requests import Request, RequestStats
from .routing import ROUTING_COSTS, link_cost, link_werner_parameter

__all__ = [
    "PURIFICATION_METHODS",
    "PURIFICATION_SCHEMES",
    "PURIFICATION_SCOPES",
    "ROUTING_COSTS",
    "SWAPPING_POLICIES",
    "LinkAttempt",
    "Network",
    "PathAttempt",
    "PathPlan",
    "PurificationPolicy",
    "PurificationScheme",
    "Pumping",
    "Recurrence",
    "Request",
    "RequestStats",
    "Segment",
    "link_cost",
    "link_werner_parameter",
    "nested_triples",
]
