"""Heterogeneous, all-photonic and free-space scenarios: keys, report rows, CLI errors (exit 2)."""

import json
import math

import pytest

from qstack.cli import main
from qstack.hardware import load_preset
from qstack.runner import run_scenario
from qstack.scenario import ScenarioError, load_scenario

FAST = ["--set", "requests.0.pairs=2"]


def _hetero(**link):
    return {
        "seed": 4,
        "network": {
            "topology": "custom",
            "edges": [
                {"a": "ion", "b": "nv", "length_km": 10.0},
                {"a": "nv", "b": "proc", "length_km": 10.0, "channel": "free_space_link"},
            ],
        },
        "hardware": {
            "node": "nv_centre",
            "interface": "nv_frequency_converter",
            "nodes": {"ion": "trapped_ion", "proc": "superconducting_qubit"},
            "interfaces": {"ion": "ion_frequency_converter", "proc": "sc_optical_transducer"},
        },
        "link": {"scheme": "double_click", **link},
        "requests": [{"src": "ion", "dst": "nv", "pairs": 2}],
    }


def _links(report):
    return {row.link: row for row in report.links}


def test_each_node_gets_its_own_preset_and_interface_and_each_edge_its_channel():
    report = run_scenario(load_scenario(_hetero()))
    rows = _links(report)
    ion_nv, nv_proc = rows["ion-nv"], rows["nv-proc"]
    assert ion_nv.transducer_efficiency == (0.30, 0.17)
    assert nv_proc.transducer_efficiency == (0.17, 0.087)
    assert (ion_nv.channel, nv_proc.channel) == ("fiber", "free_space")
    assert ion_nv.photons_per_encoded_qubit == nv_proc.photons_per_encoded_qubit == 1
    # each node keeps its own preset's storage (the NV centre's is its nuclear spin)
    for row in report.qomq:
        preset = load_preset({"ion": "trapped_ion", "nv": "nv_centre", "proc": "superconducting_qubit"}[row.node])
        assert row.t2_s == (preset.nuclear_spin or preset.memory).t2_s
    assert len({row.t2_s for row in report.qomq}) == 3
    ion, nv = load_preset("trapped_ion"), load_preset("nv_centre")
    fiber = load_preset("telecom_fiber").fiber.with_length(5.0)
    eta_ion = ion.emitter.photon_efficiency * 0.30 * fiber.transmissivity * nv.detector.efficiency
    eta_nv = nv.emitter.photon_efficiency * 0.17 * fiber.transmissivity * nv.detector.efficiency
    assert ion_nv.logical_transmission == pytest.approx(min(eta_ion, eta_nv), rel=1e-12)
    assert report.requests[0].delivered == 2


def test_transducer_efficiency_scales_the_reported_attempt_probability_per_photon():
    # Barrett-Kok between two superconducting processors: one photon per end crosses a transducer.
    # Ideal emission and no dark counts, so Barrett-Kok succeeds with exactly eta_a eta_b / 2.
    clean = {"node.emitter.emitted_state_fidelity": 1.0, "node.detector.dark_count_probability": 0.0}
    base = {
        "seed": 1,
        "hardware": {"node": "superconducting_qubit", "overrides": clean},
        "link": {"scheme": "double_click"},
        "network": {"link_lengths_km": [5.0]},
        "requests": [{"src": "n0", "dst": "n1", "pairs": 1}],
    }
    plain = run_scenario(load_scenario(base))
    perfect = dict(base, hardware={"node": "superconducting_qubit", "interface": "sc_optical_transducer",
                                   "overrides": {**clean, "interface.transducer.added_noise_photons": 0.0}})
    converted = run_scenario(load_scenario(perfect))
    ratio = converted.links[0].p_attempt / plain.links[0].p_attempt
    assert ratio == pytest.approx(0.087**2, rel=1e-9)
    assert converted.links[0].transducer_efficiency == (0.087, 0.087)


def test_free_space_edge_heralds_sooner_than_fibre_of_the_same_length():
    report = run_scenario(load_scenario(_hetero()))
    rows = _links(report)
    assert rows["nv-proc"].heralding_time_s == pytest.approx(10e3 / 299_792_458.0, rel=1e-12)
    assert rows["ion-nv"].heralding_time_s > 1.4 * rows["nv-proc"].heralding_time_s


def test_all_photonic_scenario_reports_photons_and_logical_transmission():
    raw = {
        "seed": 2,
        "network": {"link_lengths_km": [60.0]},
        # the end nodes' emitters make the first tree and decode the last: they need efficient
        # photon collection too (the preset's 2% would sink the first hop)
        "hardware": {"node": "trapped_ion", "station": "tree_photon_source",
                     "overrides": {"node.emitter.collection_efficiency": 0.95}},
        "link": {"scheme": "all_photonic", "tree_branching": [2, 4, 2], "stations": 29},
        "requests": [{"src": "n0", "dst": "n1", "pairs": 20}],
    }
    report = run_scenario(load_scenario(raw))
    (row,) = report.links
    assert row.scheme == "all_photonic" and row.stations == 29
    assert row.photons_per_encoded_qubit == 2 + 8 + 16
    assert 0.9 < row.logical_transmission < 1.0
    assert row.p_attempt == pytest.approx(row.logical_transmission ** 30, rel=0.05)
    assert report.requests[0].delivered == 20
    raw["hardware"]["overrides"] = {}
    raw["requests"][0]["pairs"] = 1
    ion_ends = run_scenario(load_scenario(raw))
    assert ion_ends.links[0].logical_transmission < 1e-6


def test_default_and_existing_scenarios_are_unchanged_by_the_new_keys(capsys):
    assert main(["run", "--json", *FAST]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["delivered"] == 2
    assert report["scenario"]["hardware"]["nodes"] == {}
    assert report["scenario"]["link"]["tree_branching"] is None


@pytest.mark.parametrize(
    "settings, named",
    [
        (["hardware.interface=\"sc_optical_transducer\"", "hardware.overrides.interface.transducer.efficiency=1.5"],
         "Transducer.efficiency must be in [0, 1]"),
        (["hardware.interface=\"sc_optical_transducer\"", "hardware.overrides.interface.transducer.efficiency=-0.2"],
         "Transducer.efficiency"),
        (["link.scheme=\"all_photonic\"", "link.tree_branching=[]"], "link.tree_branching"),
        (["link.scheme=\"all_photonic\"", "link.tree_branching=[2, -1]"], "link.tree_branching"),
        (["link.scheme=\"all_photonic\"", "link.tree_branching=[0]"], "link.tree_branching"),
        (["link.tree_branching=[2, 2]"], "link.tree_branching: only used by link.scheme 'all_photonic'"),
        (["link.scheme=\"all_photonic\"", "link.stations=-3"], "link.stations"),
        (["hardware.channel=\"micius_downlink\"", "hardware.overrides.channel.free_space.elevation_deg=-5.0"],
         "FreeSpace.elevation_deg must be in (0, 90]"),
        (["hardware.nodes.n9=\"trapped_ion\""], "hardware.nodes.n9"),
        (["hardware.interfaces.n0=\"telecom_fiber\""], "hardware.interfaces.n0"),
        (["hardware.interface=\"nv_frequency_converter\"", "hardware.overrides.warp.transducer.efficiency=0.5"],
         "override keys"),
    ],
)
def test_bad_hardware_inputs_exit_2_with_one_line_naming_the_key(capsys, settings, named):
    args = ["run"]
    for setting in settings:
        args += ["--set", setting]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert named in lines[0]


def test_bad_inputs_from_a_scenario_file_exit_2(tmp_path, capsys):
    bad = tmp_path / "sat.toml"
    bad.write_text(
        '[network]\ntopology = "custom"\n[[network.edges]]\na = "g"\nb = "s"\nlength_km = 500.0\n'
        'channel = "micius_downlink"\n[hardware.overrides.channel.free_space]\nelevation_deg = -1.0\n'
        '[[requests]]\nsrc = "g"\ndst = "s"\n'
    )
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "network.edges[0].channel" in err and "elevation_deg" in err and len(err.splitlines()) == 1


def test_scenario_error_for_branching_is_raised_at_load():
    with pytest.raises(ScenarioError, match=r"^link\.tree_branching: must be a non-empty list"):
        load_scenario({"link": {"scheme": "all_photonic", "tree_branching": []},
                       "requests": [{"src": "n0", "dst": "n1"}]})
    assert math.isfinite(load_preset("micius_downlink").free_space.loss_db)
