"""Technology presets: TOML parameter sets in ``presets/``, each number with its source.

File format (one technology per file, the file name is the preset name)::

    name = "nv_centre"
    description = "..."
    kind = "node"            # "node" | "channel" | "source" | "interface"

    [memory]
    t2_s = { value = 1.58, source = "Abobeih et al., Nat. Commun. 9, 2552 (2018)" }

Sections are ``emitter``, ``memory``, ``nuclear_spin``, ``detector``, ``fiber``,
``free_space``, ``pair_source`` and ``transducer``; their keys are the fields of the matching dataclass
(:class:`Emitter`, :class:`Memory`, ...). Every entry is an inline table with ``value`` and a
non-empty ``source``: a citation, or ``"derived: <how>"`` naming what it is derived from.
"""

from __future__ import annotations

import dataclasses
import math
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qstack import data
from qstack.data import tomllib

from .channels import Fiber, FreeSpace
from .detectors import Detector
from .emitters import Emitter, PairSource
from .memories import Memory, NuclearSpinRegister
from .transducers import Transducer

SECTION_MODELS: Mapping[str, type] = types.MappingProxyType(
    {
        "emitter": Emitter,
        "memory": Memory,
        "nuclear_spin": NuclearSpinRegister,
        "detector": Detector,
        "fiber": Fiber,
        "free_space": FreeSpace,
        "pair_source": PairSource,
        "transducer": Transducer,
    }
)
"""Preset section name -> hardware model class built from it."""

KINDS = ("node", "channel", "source", "interface")
_TOP_LEVEL_KEYS = frozenset({"name", "description", "kind"})
_OVERRIDE_SOURCE = "override"
_DEFAULT_SOURCE = "model default (not set by the preset)"

# Unit of a field from its name's suffix (the house rule: units in names); longest suffix first.
_UNIT_SUFFIXES = (
    ("_db_per_km", "dB/km"), ("_hz", "Hz"), ("_nm", "nm"), ("_km", "km"), ("_deg", "deg"),
    ("_rad", "rad"), ("_db", "dB"), ("_s", "s"), ("_m", "m"),
)
# Fields without a unit suffix that count things.
_COUNT_UNITS = {"capacity": "qubits", "communication_qubits": "qubits", "added_noise_photons": "photons"}


def field_unit(name: str) -> str:
    """The unit of a hardware-model field from its name: ``"t2_s" -> "s"``,
    ``"attenuation_db_per_km" -> "dB/km"``; ``"1"`` for probabilities, efficiencies, fidelities
    and other ratios; ``"bool"`` for flags."""
    if name in _COUNT_UNITS:
        return _COUNT_UNITS[name]
    if name == "number_resolving":
        return "bool"
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return "1"


@dataclass(frozen=True)
class PresetParameter:
    """One parameter of a preset: ``section.field``, its value, unit and source."""

    section: str
    field: str
    value: Any
    unit: str
    source: str

    @property
    def key(self) -> str:
        """``"memory.t2_s"``: the dotted name (an override key after the role)."""
        return f"{self.section}.{self.field}"


@dataclass(frozen=True)
class Preset:
    """A loaded technology preset: the hardware models it defines and where each number is from.

    ``sources`` maps dotted field names (``"memory.t2_s"``) to their citation; overridden
    fields map to ``"override"``.
    """

    name: str
    description: str
    kind: str
    emitter: Emitter | None = None
    memory: Memory | None = None
    nuclear_spin: NuclearSpinRegister | None = None
    detector: Detector | None = None
    fiber: Fiber | None = None
    free_space: FreeSpace | None = None
    pair_source: PairSource | None = None
    transducer: Transducer | None = None
    sources: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"Preset.kind must be one of {', '.join(KINDS)}, got {self.kind!r}"
            )
        object.__setattr__(self, "sources", types.MappingProxyType(dict(self.sources)))

    @property
    def sections(self) -> tuple[str, ...]:
        """Names of the sections this preset defines, in canonical order."""
        return tuple(name for name in SECTION_MODELS if getattr(self, name) is not None)

    def parameters(self) -> tuple[PresetParameter, ...]:
        """Every field of every section the preset defines, in the models' field order, with
        its unit and source (the preset's citation, ``"override"``, or the model's default)."""
        out = []
        for section in self.sections:
            model = getattr(self, section)
            for f in dataclasses.fields(model):
                key = f"{section}.{f.name}"
                out.append(PresetParameter(section, f.name, getattr(model, f.name), field_unit(f.name),
                                           self.sources.get(key, _DEFAULT_SOURCE)))
        return tuple(out)

    def describe(self) -> str:
        """One-paragraph summary (for ``qstack presets``)."""
        summary = " ".join(self.description.split())  # TOML multi-line strings -> one paragraph
        parts = [f"{self.name} ({self.kind}): {summary}"]
        if self.emitter is not None:
            e = self.emitter
            parts.append(
                f"Emitter: {e.wavelength_nm:g} nm, photon efficiency {e.photon_efficiency:.3g}, "
                f"attempt {_format_time(e.attempt_time_s)}, "
                f"emitted-state fidelity {e.emitted_state_fidelity:.3g}."
            )
        if self.memory is not None:
            m = self.memory
            parts.append(
                f"Memory: {m.capacity} qubit(s), T1 {_format_time(m.t1_s)}, "
                f"T2 {_format_time(m.t2_s)}, write/read efficiency "
                f"{m.write_efficiency:.3g}/{m.read_efficiency:.3g}, gate fidelities "
                f"{m.single_qubit_gate_fidelity:.6g} (1q) / {m.two_qubit_gate_fidelity:.6g} (2q)."
            )
        if self.nuclear_spin is not None:
            n = self.nuclear_spin
            parts.append(
                f"Nuclear-spin register: {n.capacity} qubit(s), coupling {n.coupling_hz:.3g} Hz "
                f"(gate {_format_time(n.gate_time_s)}), T2 {_format_time(n.t2_s)}, dephasing "
                f"{n.dephasing_probability_per_attempt(0.5):.2e} per attempt at alpha = 0.5."
            )
        if self.detector is not None:
            d = self.detector
            parts.append(
                f"Detector: efficiency {d.efficiency:.3g}, dark counts "
                f"{d.dark_count_probability:.2g} per window, dead time {_format_time(d.dead_time_s)}."
            )
        if self.fiber is not None:
            f = self.fiber
            parts.append(
                f"Fiber: {f.attenuation_db_per_km:g} dB/km, n = {f.refractive_index:g}; "
                f"{f.length_km:g} km -> transmissivity {f.transmissivity:.3g}, "
                f"delay {_format_time(f.delay_s)}."
            )
        if self.free_space is not None:
            s = self.free_space
            parts.append(
                f"Free space: {s.length_km:g} km at {s.wavelength_m * 1e9:g} nm, "
                f"loss {s.loss_db:.1f} dB, delay {_format_time(s.delay_s)}."
            )
        if self.pair_source is not None:
            p = self.pair_source
            parts.append(
                f"Pair source: {p.wavelength_nm:g} nm, {p.pair_probability:g} pairs per pulse at "
                f"{p.repetition_rate_hz:.3g} Hz, fidelity {p.emitted_state_fidelity:.4g}."
            )
        if self.transducer is not None:
            t = self.transducer
            parts.append(
                f"Transducer: {t.input_wavelength_nm:g} nm -> {t.output_wavelength_nm:g} nm, "
                f"efficiency {t.efficiency:.3g}, added noise {t.added_noise_photons:.3g} photons, "
                f"bandwidth {t.bandwidth_hz:.3g} Hz."
            )
        return " ".join(parts)


def _format_time(seconds: float) -> str:
    if math.isinf(seconds):
        return "inf"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def _preset_files() -> dict[str, Any]:
    """Preset name -> path of its TOML file (bundled data, listed fresh each call)."""
    return data.toml_files("presets")


def list_presets() -> list[str]:
    """Sorted names of the bundled presets."""
    return sorted(_preset_files())


def load_preset(name: str, overrides: Mapping[str, float] | None = None) -> Preset:
    """Load preset ``name``, applying ``overrides`` given as ``{"section.field": value}``.

    Overrides may set any field of the section's model, also ones the file leaves at their
    default, but only in sections the preset defines. Values are validated by the models.

    Raises:
        ValueError: unknown preset, malformed preset file, unknown override key, or a value
            out of range (the message names the field).
    """
    files = _preset_files()
    if name not in files:
        raise ValueError(f"unknown preset {name!r}; available: {', '.join(sorted(files))}")
    with files[name].open("rb") as handle:
        document = tomllib.load(handle)
    return _build_preset(name, document, overrides or {})


def _build_preset(
    file_name: str, document: Mapping[str, Any], overrides: Mapping[str, object]
) -> Preset:
    where = f"preset {file_name!r}"
    unknown = sorted(set(document) - _TOP_LEVEL_KEYS - set(SECTION_MODELS))
    if unknown:
        allowed = ", ".join(sorted(_TOP_LEVEL_KEYS | set(SECTION_MODELS)))
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {allowed}")
    for key in sorted(_TOP_LEVEL_KEYS):
        if not isinstance(document.get(key), str):
            raise ValueError(f"{where}: top-level {key!r} must be a string")
    if document["name"] != file_name:
        raise ValueError(f"{where}: name {document['name']!r} differs from the file name")

    values: dict[str, dict[str, object]] = {}
    sources: dict[str, str] = {}
    for section, model in SECTION_MODELS.items():
        if section not in document:
            continue
        table = document[section]
        if not isinstance(table, Mapping):
            raise ValueError(f"{where}: [{section}] must be a table")
        fields = _field_names(model)
        values[section] = {}
        for key, entry in table.items():
            dotted = f"{section}.{key}"
            if key not in fields:
                raise ValueError(
                    f"{where}: unknown field {dotted!r}; allowed: {', '.join(fields)}"
                )
            if (
                not isinstance(entry, Mapping)
                or set(entry) != {"value", "source"}
                or not isinstance(entry["source"], str)
                or not entry["source"].strip()
            ):
                raise ValueError(
                    f"{where}: {dotted} must be an inline table "
                    "{ value = ..., source = \"<citation>\" } with a non-empty source"
                )
            values[section][key] = entry["value"]
            sources[dotted] = entry["source"].strip()

    for dotted, value in overrides.items():
        section, key = _split_override(dotted, values)
        values[section][key] = value
        sources[dotted] = _OVERRIDE_SOURCE

    models = {section: SECTION_MODELS[section](**kwargs) for section, kwargs in values.items()}
    return Preset(
        name=document["name"],
        description=document["description"],
        kind=document["kind"],
        sources=sources,
        **models,
    )


def _field_names(model: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(model))


def _split_override(dotted: object, values: Mapping[str, object]) -> tuple[str, str]:
    """``"memory.t2_s" -> ("memory", "t2_s")``, checked against the preset's sections."""
    available = ", ".join(values) or "(none)"
    if not isinstance(dotted, str) or dotted.count(".") != 1:
        raise ValueError(
            f"override key {dotted!r} must look like 'section.field'; sections: {available}"
        )
    section, key = dotted.split(".")
    if section not in values:
        raise ValueError(
            f"override key {dotted!r}: unknown section {section!r} for this preset; "
            f"allowed sections: {available}"
        )
    fields = _field_names(SECTION_MODELS[section])
    if key not in fields:
        raise ValueError(
            f"override key {dotted!r}: unknown field {key!r} of [{section}]; "
            f"allowed: {', '.join(fields)}"
        )
    return section, key
