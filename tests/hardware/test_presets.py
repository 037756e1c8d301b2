import dataclasses
import importlib.resources
import math
import re
from qstack.data import tomllib

import pytest

from qstack.hardware import (
    Detector,
    Emitter,
    Fiber,
    FreeSpace,
    Memory,
    NuclearSpinRegister,
    PairSource,
    Preset,
    Transducer,
    list_presets,
    load_preset,
)
from qstack.hardware.preset_loader import SECTION_MODELS

REQUIRED = {
    "nv_centre": ("node", {"emitter", "memory", "nuclear_spin", "detector"}),
    "trapped_ion": ("node", {"emitter", "memory", "detector"}),
    "neutral_atom": ("node", {"emitter", "memory", "detector"}),
    "rare_earth_multimode": ("node", {"memory", "detector"}),
    "quantum_dot": ("source", {"emitter"}),
    "spdc_source": ("source", {"pair_source"}),
    "telecom_fiber": ("channel", {"fiber"}),
    "free_space_link": ("channel", {"free_space"}),
    "micius_downlink": ("channel", {"free_space"}),
    "superconducting_qubit": ("node", {"emitter", "memory", "detector"}),
    "tree_photon_source": ("source", {"emitter", "detector"}),
    "sc_optical_transducer": ("interface", {"transducer"}),
    "nv_frequency_converter": ("interface", {"transducer"}),
    "ion_frequency_converter": ("interface", {"transducer"}),
}
SECTION_TYPES = {
    "emitter": Emitter,
    "memory": Memory,
    "nuclear_spin": NuclearSpinRegister,
    "detector": Detector,
    "fiber": Fiber,
    "free_space": FreeSpace,
    "pair_source": PairSource,
    "transducer": Transducer,
}


# A source cites a publication (year or arXiv number) or a standard, or says how the value was
# obtained: "estimate: <reason>", "derived: <how>", "nominal: <why>".
CITED_OR_MARKED = re.compile(r"^(estimate|derived|nominal): \S|\((19|20)\d\d\)|arXiv:\d|ITU-T|Corning")


def _raw(name: str) -> dict:
    resource = importlib.resources.files("qstack.hardware").joinpath("presets", f"{name}.toml")
    with resource.open("rb") as handle:
        return tomllib.load(handle)


def test_section_types_are_the_sections_the_loader_reads():
    # SECTION_TYPES is this file's own statement of the file format; if the loader learns a
    # section, the per-section checks below must learn it too.
    assert dict(SECTION_MODELS) == SECTION_TYPES


def test_list_presets_is_sorted_and_has_every_required_technology():
    names = list_presets()
    assert names == sorted(names)
    assert set(REQUIRED) <= set(names)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_required_preset_loads_with_its_sections(name):
    kind, sections = REQUIRED[name]
    preset = load_preset(name)
    assert isinstance(preset, Preset)
    assert preset.name == name
    assert preset.kind == kind
    assert set(preset.sections) == sections
    for section in sections:
        assert isinstance(getattr(preset, section), SECTION_TYPES[section])


@pytest.mark.parametrize("name", list_presets())
def test_every_preset_loads(name):
    preset = load_preset(name)
    assert preset.kind in ("node", "channel", "source", "interface")
    summary = preset.describe()
    assert summary.startswith(f"{name} ({preset.kind}):")
    assert "\n" not in summary


@pytest.mark.parametrize("name", list_presets())
def test_every_field_in_every_preset_file_has_a_value_and_a_source(name):
    document = _raw(name)
    assert document["name"] == name
    assert document["description"].strip()
    entries = 0
    for section in SECTION_TYPES:
        for key, entry in document.get(section, {}).items():
            entries += 1
            assert isinstance(entry, dict), f"{section}.{key} is not an inline table"
            assert set(entry) == {"value", "source"}, f"{section}.{key}"
            assert isinstance(entry["source"], str) and entry["source"].strip(), f"{section}.{key}"
            assert CITED_OR_MARKED.search(entry["source"]), f"{section}.{key}: no citation or estimate/derived mark"
            if not isinstance(entry["value"], bool):
                assert isinstance(entry["value"], (int, float)), f"{section}.{key}"
    assert entries > 0
    preset = load_preset(name)
    assert set(preset.sources) == {
        f"{section}.{key}" for section in SECTION_TYPES for key in document.get(section, {})
    }


@pytest.mark.parametrize("name", list_presets())
def test_preset_values_match_the_file(name):
    document = _raw(name)
    preset = load_preset(name)
    for section in SECTION_TYPES:
        for key, entry in document.get(section, {}).items():
            assert getattr(getattr(preset, section), key) == entry["value"], f"{section}.{key}"


def test_every_numeric_field_of_the_node_models_is_cited_in_the_nv_preset():
    preset = load_preset("nv_centre")
    for section in ("emitter", "memory", "nuclear_spin", "detector"):
        for field in dataclasses.fields(SECTION_TYPES[section]):
            assert f"{section}.{field.name}" in preset.sources, f"{section}.{field.name}"


def test_override_replaces_value_and_marks_source():
    base = load_preset("nv_centre")
    changed = load_preset("nv_centre", {"memory.t2_s": 0.5, "emitter.wavelength_nm": 1550.0})
    assert changed.memory.t2_s == 0.5
    assert changed.emitter.wavelength_nm == 1550.0
    assert changed.sources["memory.t2_s"] == "override"
    assert changed.memory.t1_s == base.memory.t1_s
    assert base.memory.t2_s == 1.58  # the preset itself is unchanged


def test_override_may_set_a_field_the_file_leaves_at_its_default():
    preset = load_preset("rare_earth_multimode", {"memory.measurement_time_s": 1e-6})
    assert preset.memory.measurement_time_s == 1e-6


def test_override_of_channel_length():
    preset = load_preset("telecom_fiber", {"fiber.length_km": 50.0})
    assert preset.fiber.transmissivity == pytest.approx(10 ** (-0.02 * 50), rel=1e-12)


def test_override_values_are_validated_by_the_models():
    with pytest.raises(ValueError, match=r"Memory\.t2_s"):
        load_preset("nv_centre", {"memory.t2_s": 1e6})
    with pytest.raises(ValueError, match=r"Fiber\.length_km"):
        load_preset("telecom_fiber", {"fiber.length_km": -1.0})
    with pytest.raises(ValueError, match=r"Memory\.capacity"):
        load_preset("nv_centre", {"memory.capacity": 0})


def test_unknown_preset_lists_the_available_ones():
    with pytest.raises(ValueError) as info:
        load_preset("foo")
    message = str(info.value)
    assert message.startswith("unknown preset 'foo'; available: ")
    assert ", ".join(list_presets()) in message


def test_unknown_override_field_names_the_key_and_allowed_fields():
    with pytest.raises(ValueError) as info:
        load_preset("nv_centre", {"memory.t3_s": 1.0})
    message = str(info.value)
    assert "memory.t3_s" in message
    assert "t1_s" in message and "t2_s" in message and "capacity" in message


def test_unknown_override_section_names_the_key_and_allowed_sections():
    with pytest.raises(ValueError) as info:
        load_preset("nv_centre", {"fiber.length_km": 1.0})
    message = str(info.value)
    assert "fiber.length_km" in message
    assert "emitter" in message and "memory" in message and "nuclear_spin" in message


@pytest.mark.parametrize("key", ["t2_s", "memory.t2_s.extra", ""])
def test_malformed_override_key_is_rejected(key):
    with pytest.raises(ValueError, match="section.field"):
        load_preset("nv_centre", {key: 1.0})


def test_free_space_preset_reproduces_measured_downlink_loss():
    link = load_preset("free_space_link").free_space
    assert link.loss_db == pytest.approx(36.0, abs=0.05)
    assert link.with_length(530.0).loss_db == pytest.approx(29.0, abs=2.5)


def test_nuclear_spin_gate_time_is_consistent_with_memory_two_qubit_gate_time():
    preset = load_preset("nv_centre")
    assert preset.memory.two_qubit_gate_time_s == pytest.approx(preset.nuclear_spin.gate_time_s)


def test_preset_is_frozen_and_sources_read_only():
    preset = load_preset("spdc_source")
    with pytest.raises(dataclasses.FrozenInstanceError):
        preset.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        preset.sources["pair_source.pair_probability"] = "x"  # type: ignore[index]


def test_infinite_values_load_from_toml():
    assert math.isinf(load_preset("trapped_ion").memory.t1_s)


def _document(**sections):
    return {"name": "x", "description": "d", "kind": "channel", **sections}


def test_preset_file_entry_without_source_is_rejected():
    from qstack.hardware.preset_loader import _build_preset

    with pytest.raises(ValueError, match="fiber.length_km"):
        _build_preset("x", _document(fiber={"length_km": {"value": 1.0, "source": "  "}}), {})
    with pytest.raises(ValueError, match="fiber.length_km"):
        _build_preset("x", _document(fiber={"length_km": 1.0}), {})


def test_preset_file_with_unknown_field_or_section_is_rejected():
    from qstack.hardware.preset_loader import _build_preset

    cited = {"value": 1.0, "source": "s"}
    with pytest.raises(ValueError, match="fiber.colour"):
        _build_preset("x", _document(fiber={"length_km": cited, "colour": cited}), {})
    with pytest.raises(ValueError, match="laser"):
        _build_preset("x", _document(laser={"power": cited}), {})
    with pytest.raises(ValueError, match="Preset.kind"):
        _build_preset("x", {**_document(fiber={"length_km": cited}), "kind": "cable"}, {})


def test_micius_downlink_preset_reproduces_measured_loss_and_is_a_slant_path():
    from qstack.hardware import slant_range_km

    link = load_preset("micius_downlink").free_space
    assert link.loss_db == pytest.approx(36.0, abs=0.05)
    assert link.length_km == pytest.approx(slant_range_km(500.0, link.elevation_deg), rel=2e-3)
    # lower in the sky: longer path and more air mass, so more loss
    low = link.at_elevation(15.0, 500.0)
    assert low.length_km > link.length_km and low.loss_db > link.loss_db + 2.0
    assert 0.0 < link.background_probability < 1e-5


def test_interface_presets_quote_quantum_enabled_or_low_noise_converters():
    sc = load_preset("sc_optical_transducer").transducer
    assert sc.efficiency == pytest.approx(0.087) and sc.added_noise_photons < 1.0
    for name in ("nv_frequency_converter", "ion_frequency_converter"):
        converter = load_preset(name).transducer
        assert converter.output_wavelength_nm > 1500 and converter.noise_probability < 1e-4


NODE_COMMUNICATION_QUBITS = {
    "nv_centre": 1, "trapped_ion": 1, "neutral_atom": 1, "rare_earth_multimode": 1, "superconducting_qubit": 1,
}


@pytest.mark.parametrize("name", sorted(NODE_COMMUNICATION_QUBITS))
def test_every_node_preset_states_its_communication_qubits_with_a_source(name):
    raw = _raw(name)
    assert "communication_qubits" in raw["memory"]  # stated, not left at the default
    preset = load_preset(name)
    assert preset.memory.communication_qubits == NODE_COMMUNICATION_QUBITS[name]
    assert CITED_OR_MARKED.search(preset.sources["memory.communication_qubits"])


def test_every_node_preset_is_listed_with_its_communication_qubits():
    nodes = {name for name in list_presets() if _raw(name)["kind"] == "node"}
    assert nodes == set(NODE_COMMUNICATION_QUBITS)


def test_communication_qubits_are_overridable():
    preset = load_preset("nv_centre", overrides={"memory.communication_qubits": 2})
    assert preset.memory.communication_qubits == 2


def test_nv_emitted_state_fidelity_gives_the_barrett_kok_fidelity_it_is_derived_from():
    # The preset's source: qstack's double_click state at the preset's visibility, without loss or
    # dark counts, has Hensen et al.'s estimated state fidelity 0.92.
    from qstack.hardware import Detector, Fiber
    from qstack.metrics import bell_fidelity
    from qstack.physical import HeraldedLink, NodeHardware

    preset = load_preset("nv_centre")
    node = NodeHardware(memory=preset.memory, emitter=preset.emitter)
    link = HeraldedLink(node, node, Fiber(0.0), Fiber(0.0), Detector(efficiency=preset.detector.efficiency),
                        scheme="double_click")
    states = link.heralded_states
    mean = sum(h.probability * bell_fidelity(h.rho) for h in states) / sum(h.probability for h in states)
    assert mean == pytest.approx(0.92, abs=1e-5)


def test_neutral_atom_emitted_state_fidelity_gives_the_atom_atom_fidelity_it_is_derived_from():
    # The preset's source: two of its atom-photon states, swapped by qstack's polarisation_photons
    # Bell measurement without loss or dark counts, give Zhang et al.'s atom-atom fidelity 0.892.
    from qstack.hardware import Detector, Fiber
    from qstack.metrics import bell_fidelity
    from qstack.physical import HeraldedLink, NodeHardware

    preset = load_preset("neutral_atom")
    node = NodeHardware(memory=preset.memory, emitter=preset.emitter)
    link = HeraldedLink(node, node, Fiber(0.0), Fiber(0.0), Detector(efficiency=1.0, dark_count_probability=0.0),
                        scheme="polarisation_photons")
    states = link.heralded_states
    mean = sum(h.probability * bell_fidelity(h.rho) for h in states) / sum(h.probability for h in states)
    assert mean == pytest.approx(0.892, abs=1e-4)
