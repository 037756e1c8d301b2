"""Registries of the stack's choices: link schemes, schedulers, routing, purification, applications,
topologies, and users' gate noise.

Every choice a scenario names is looked up here, and the scenario schema's allowed values are the
registered names, so a module that registers a new scheme makes ``qstack run`` accept it::

    import qstack
    from qstack.scheduling import FIFO

    @qstack.register("scheduler", "lifo")
    class LastInFirstOut(FIFO):
        def key(self, job):
            return -job.arrival_s

Built-in names come from the stack's own modules, imported the first time a kind is read.
Installed packages add theirs through the entry-point group ``qstack.plugins`` (each entry point
names a module, imported before the first lookup), and a scenario's top-level
``plugins = ["module", ...]`` imports modules before it is validated (:func:`load_plugins`).

What a registered object must provide is declared by the module that uses the kind:

====================  =======================================================================
kind                  interface
====================  =======================================================================
``link_scheme``       a :class:`qstack.physical.LinkModel` factory (see ``qstack.physical``)
``scheduler``         a :class:`qstack.scheduling.Scheduler` subclass (``admit``/``select``/``abandon``)
``routing``           a link-cost factory ``f(graph) -> weight`` as networkx takes a weight
``purification``      a purification strategy (see ``qstack.network``)
``application``       a :class:`qstack.applications.Application` subclass
``topology``          a topology builder (see ``qstack.topology``)
``gate_noise``        ``f(memory) -> GateNoise | qiskit_aer NoiseModel``: a node's gate and
                      readout noise from its :class:`~qstack.hardware.Memory` (no built-ins:
                      the memory's fidelities are the default; ``hardware.gate_noise``)
====================  =======================================================================
"""

from __future__ import annotations

import importlib
from importlib import metadata
from types import MappingProxyType
from typing import Any, Callable, Mapping

#: The kinds of choice, each with the stack's modules that register its built-in names.
KINDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "link_scheme": ("qstack.physical", "qstack.all_photonic"),
    "scheduler": ("qstack.scheduling",),
    "routing": ("qstack.network",),
    "purification": ("qstack.network",),
    "application": ("qstack.applications",),
    "topology": ("qstack.topology",),
    "gate_noise": (),
})

ENTRY_POINT_GROUP = "qstack.plugins"

# Registrations are definitions (like classes), not simulation state: runs never change them.
_entries: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
_loaded: set[str] = set()
_entry_points_loaded = False


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown registry kind {kind!r}; kinds: {', '.join(KINDS)}")
    return kind


def register(kind: str, name: str) -> Callable[[Any], Any]:
    """Decorator: register ``obj`` under ``name`` in ``kind``; returns ``obj`` unchanged.

    Registering another object under a name already taken is an error (a plugin cannot silently
    replace a built-in); registering the same object again is allowed (module reloads).
    """
    _check_kind(kind)
    if not isinstance(name, str) or not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"a {kind} name must be a non-empty word (letters, digits, '_' or '-'), got {name!r}")

    def decorate(obj: Any) -> Any:
        taken = _entries[kind].get(name)
        if taken is not None and taken is not obj and _qualname(taken) != _qualname(obj):
            raise ValueError(f"{kind} {name!r} is already registered ({_qualname(taken)})")
        _entries[kind][name] = obj
        return obj

    return decorate


def registered(kind: str) -> Mapping[str, Any]:
    """Every name registered in ``kind`` (built-ins, entry points, loaded plugins), read-only."""
    _ensure_loaded(_check_kind(kind))
    return MappingProxyType(dict(_entries[kind]))


def names(kind: str) -> tuple[str, ...]:
    """The registered names of ``kind``, in registration order (built-ins first)."""
    return tuple(registered(kind))


def lookup(kind: str, name: str, key: str | None = None) -> Any:
    """The object registered as ``name``; a ``ValueError`` naming ``key`` and the choices if none."""
    table = registered(kind)
    if name not in table:
        where = key or kind
        raise ValueError(f"{where} must be one of {', '.join(table)}, got {name!r}")
    return table[name]


def load_plugins(modules: list[str] | tuple[str, ...]) -> None:
    """Import plugin modules (their import registers their names). A module that cannot be
    imported is a ``ValueError`` naming it."""
    for module in modules:
        if not isinstance(module, str) or not module:
            raise ValueError(f"plugins entries must be module names, got {module!r}")
        try:
            importlib.import_module(module)
        except Exception as exc:  # any failure of a user's module is reported as bad input
            raise ValueError(f"plugins: cannot import {module!r}: {type(exc).__name__}: {exc}") from exc


def _ensure_loaded(kind: str) -> None:
    global _entry_points_loaded
    if kind not in _loaded:
        _loaded.add(kind)
        for module in KINDS[kind]:
            importlib.import_module(module)
    if not _entry_points_loaded:
        _entry_points_loaded = True
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            entry_point.load()


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
