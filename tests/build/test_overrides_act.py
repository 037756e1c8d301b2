"""Every override key of every bundled preset either changes the report where the physics says
or is refused with exit code 2 and one line: an accepted input never changes nothing."""

from __future__ import annotations

import json
import math

import pytest

from cli_runs import run_with  # tests/helpers
from qstack.hardware import list_presets, load_preset

# preset -> (role, base settings that put it to use); every base delivers two pairs quickly.
_BASES = {
    "nv_centre": ("node", {}),
    "trapped_ion": ("node", {"hardware.node": "trapped_ion"}),
    "neutral_atom": ("node", {"hardware.node": "neutral_atom", "link.scheme": "polarisation_photons",
                              "link.multiplexing": 1}),  # one atom per node
    # A cut-off keeps the transmons' pairs fresh (T1 0.3 ms): a fully relaxed pair hides its gates' noise.
    "superconducting_qubit": ("node", {"hardware.node": "superconducting_qubit",
                                       "hardware.interface": "sc_optical_transducer", "link.cutoff_s": 1e-3,
                                       "requests.0.storage_time_s": 0.0}),
    "rare_earth_multimode": ("node", {"hardware.node": "rare_earth_multimode", "link.scheme": "midpoint_source",
                                      "hardware.source": "spdc_source"}),
    "telecom_fiber": ("channel", {}),
    "free_space_link": ("channel", {"hardware.channel": "free_space_link"}),
    "micius_downlink": ("channel", {"hardware.channel": "micius_downlink"}),
    "nv_frequency_converter": ("interface", {"hardware.interface": "nv_frequency_converter"}),
    "ion_frequency_converter": ("interface", {"hardware.node": "trapped_ion", "hardware.interface": "ion_frequency_converter"}),
    "sc_optical_transducer": ("interface", {"hardware.node": "superconducting_qubit",
                                            "hardware.interface": "sc_optical_transducer", "link.cutoff_s": 1e-3,
                                            "requests.0.storage_time_s": 0.0}),
    "spdc_source": ("source", {"hardware.node": "rare_earth_multimode", "link.scheme": "midpoint_source",
                               "hardware.source": "spdc_source"}),
    "quantum_dot": ("station", {"hardware.node": "trapped_ion", "link.scheme": "all_photonic",
                                "link.stations": 3, "hardware.station": "quantum_dot"}),
    "tree_photon_source": ("station", {"hardware.node": "trapped_ion", "link.scheme": "all_photonic",
                                       "link.stations": 3, "hardware.station": "tree_photon_source"}),
}
_COMMON = {"hardware.overrides": {}, "max_time_s": 2000.0, "requests.0.pairs": 2, "link.multiplexing": 2}
# Topologies tried for node presets: a single link (no swaps) and a repeater (swaps at n1).
_CHAINS = {"link": {}, "repeater": {"network.nodes": 3, "requests.0.dst": "n2"}}


def _worse(field: str, value):
    """An extreme value in the direction that costs rate or fidelity (so it cannot saturate)."""
    if isinstance(value, bool):
        return not value
    if field == "capacity":
        return 1
    if field.endswith("fidelity") or field == "photon_indistinguishability":
        return 0.6
    if field.endswith(("t1_s", "t2_s")):
        return value * 1e-4  # an infinite T1 is handled by the caller (finite, at T2)
    if field.endswith("_time_s") or field == "reset_time_constant_s" or field == "detection_window_s":
        return value * 1e3 if value > 0 else 1e-3
    if field in ("bandwidth_hz", "repetition_rate_hz"):
        return 1e3 if math.isinf(value) else value * 1e-6
    if field in ("beam_waist_m", "receiver_aperture_radius_m", "coupling_hz", "elevation_deg"):
        return value * 1e-2
    if field == "wavelength_m":
        return value * 100  # diffraction: a 10 km link's beam outgrows the receiver
    if field.endswith(("wavelength_nm", "refractive_index")):
        return value * 2
    if field in ("added_noise_photons", "background_count_rate_hz", "pointing_jitter_rad", "dark_count_probability",
                 "attenuation_db_per_km", "atmospheric_attenuation_db_per_km"):
        return min(value * 100, 0.5) if field == "dark_count_probability" and value > 0 else (value * 100 or 0.1)
    if field == "length_km":
        return value * 2
    if field == "double_excitation_probability":
        return 0.5  # presets leave it at 0 (inside their emitted-state fidelity)
    return value * 0.1  # efficiencies and probabilities


def _cases():
    for name in sorted(_BASES):
        role, base = _BASES[name]
        preset = load_preset(name)
        # a repeater's middle node holds two pairs: a one-qubit node (a single atom) cannot be one
        chains = _CHAINS if role == "node" and preset.memory.capacity >= 2 else {"link": {}}
        for chain, extra in chains.items():
            for key in preset.sources:
                section, field = key.split(".")
                model = getattr(preset, section)
                value = getattr(model, field)
                worse = model.t2_s if field == "t1_s" and math.isinf(value) else _worse(field, value)
                if worse == value:  # already at the extreme (a one-slot memory): nothing to override
                    continue
                yield pytest.param(name, {**base, **extra}, f"{role}.{key}", worse,
                                   id=f"{name}-{chain}-{key}")


def _run(settings: dict, capsys):
    return run_with({**_COMMON, **settings}, capsys)


_BASE_REPORTS: dict = {}


def test_every_preset_of_the_list_is_covered():
    assert sorted(_BASES) == sorted(list_presets())


@pytest.mark.parametrize(("preset", "base", "key", "value"), list(_cases()))
def test_override_changes_the_report_or_is_refused_in_one_line(preset, base, key, value, capsys):
    frozen = json.dumps(base, sort_keys=True)
    if frozen not in _BASE_REPORTS:
        _BASE_REPORTS[frozen] = _run(base, capsys)
    code, base_report = _BASE_REPORTS[frozen]
    assert code == 0, base_report
    code, report = _run({**base, f"hardware.overrides.{key}": value}, capsys)
    if code:
        assert code == 2 and len(report.splitlines()) == 1 and report.startswith("qstack: error:"), report
    else:
        assert report != base_report, f"{key} = {value!r} was accepted and changed nothing"
