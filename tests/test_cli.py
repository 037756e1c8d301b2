"""The command line and scenario contract: JSON keys, determinism, clear errors (exit 2)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qstack.cli import main
from qstack.scenario import ScenarioError, load_scenario

REQUIRED_KEYS = {
    "delivered", "fidelity", "latency_s", "throughput_hz", "sim_time_s", "wall_time_s",
    "delay_breakdown_s", "pos", "qomq", "seed", "scenario",
}
FAST = ["--set", "requests.0.pairs=5"]


def _run_json(capsys, *args):
    assert main(["run", "--json", *FAST, *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_report_has_every_key_of_the_design(capsys):
    report = _run_json(capsys)
    assert REQUIRED_KEYS <= set(report)
    assert set(report["fidelity"]) == {"mean", "std", "min"}
    assert set(report["latency_s"]) == {"mean", "p50", "p95"}
    assert report["delivered"] == 5
    assert 0.25 <= report["fidelity"]["min"] <= report["fidelity"]["mean"] <= 1.0
    assert any(k.endswith(" attempt") for k in report["pos"])
    assert any(k.endswith("attempt_time_s") for k in report["pos"])
    assert set(report["qomq"]) == {"n0", "n1"}
    assert {"absorption_efficiency", "extraction_efficiency", "t2_s"} <= set(report["qomq"]["n0"])
    breakdown = report["delay_breakdown_s"]
    assert sum(breakdown.values()) == pytest.approx(report["latency_from_request_s"]["mean"], rel=1e-9)


def test_same_seed_gives_identical_json_apart_from_wall_time(capsys):
    first, second = _run_json(capsys, "--seed", "5"), _run_json(capsys, "--seed", "5")
    other = _run_json(capsys, "--seed", "6")
    for report in (first, second, other):
        report.pop("wall_time_s")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first != other


def test_human_output_is_a_table(capsys):
    assert main(["run", *FAST]) == 0
    out = capsys.readouterr().out
    for word in ("delivered pairs", "fidelity", "latency", "probability of success", "quality of matter qubits"):
        assert word in out


def test_a_run_cut_short_by_max_time_says_so(capsys):
    """The default link makes a pair about every 17 s: 100 s cannot give 20 pairs."""
    report = _run_json(capsys, "--set", "requests.0.pairs=20", "--set", "max_time_s=100.0")
    assert report["complete"] is False and report["stopped_at_max_time"] is True
    assert report["pairs_requested"] == 20 and report["delivered"] == report["requests"][0]["delivered"] < 20
    assert report["requests"][0]["complete"] is False
    assert main(["run", "--set", "requests.0.pairs=20", "--set", "max_time_s=100.0"]) == 0
    first = capsys.readouterr().out.splitlines()[1]
    assert first.startswith("INCOMPLETE") and f"{report['delivered']} of 20" in first
    done = _run_json(capsys)
    assert done["complete"] is True and done["pairs_requested"] == 5 and done["stopped_at_max_time"] is False


def test_pairs_at_or_below_half_are_counted_and_shown(capsys):
    # A 9-node chain without purification: every pair ends below F = 1/2.
    report = _run_json(capsys, "scenarios/chain_9.toml", "--set", "requests.0.pairs=2",
                       "--set", "purification.scope=\"none\"", "--set", "purification.rounds=0", "--set", "link.cutoff_s=1e9",
                       "--set", "link.bright_state_population=0.1")
    row = report["requests"][0]
    assert row["pairs_at_or_below_half"] == 2 and report["fidelity"]["mean"] < 0.5
    assert main(["run", "scenarios/chain_9.toml", "--set", "requests.0.pairs=2", "--set", "purification.scope=\"none\"",
                 "--set", "purification.rounds=0", "--set", "link.cutoff_s=1e9", "--set", "link.bright_state_population=0.1"]) == 0
    assert any(line.startswith("WARNING") and "fidelity <= 1/2" in line for line in capsys.readouterr().out.splitlines())


@pytest.mark.parametrize(
    "setting,named",
    [
        ("network.link_lengths_km=[-1.0]", "network.link_lengths_km[0]"),
        ("link.bright_state_population=1.5", "link.bright_state_population"),
        ("hardware.overrides.node.emitter.collection_efficiency=1.5", "collection_efficiency"),
        ("hardware.overrides.node.memory.t2_s=8000.0", "t2_s"),
        ("hardware.overrides.node.nuclear_spin.capacity=0", "capacity"),
        ("hardware.node=\"unobtainium\"", "unknown preset"),
        ("link.colour=\"blue\"", "link.colour"),
        ("requests.0.dst=\"n7\"", "requests[0].dst"),
        ("engine=\"gpu\"", "engine"),
        ("requests.0.min_fidelity=-0.1", "requests[0].min_fidelity"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_key(capsys, setting, named):
    assert main(["run", "--set", setting]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert named in lines[0]


def test_zero_memory_capacity_and_t2_above_2t1_are_refused(capsys):
    assert main(["run", "--set", "hardware.overrides.node.memory.capacity=0"]) == 2
    assert "capacity" in capsys.readouterr().err
    assert main(["run", "--set", "hardware.overrides.node.memory.t1_s=1.0", "--set", "hardware.overrides.node.memory.t2_s=3.0"]) == 2
    assert "t2_s" in capsys.readouterr().err


def test_unknown_scenario_file_and_unknown_top_level_key(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('seed = 1\nwarp_drive = true\n[[requests]]\nsrc="n0"\ndst="n1"\n')
    assert main(["run", str(bad)]) == 2
    assert "warp_drive" in capsys.readouterr().err


def test_idealized_baseline_is_better_than_reality(capsys):
    real = _run_json(capsys)
    ideal = _run_json(capsys, "--set", 'idealize=["all"]')
    assert ideal["fidelity"]["mean"] > real["fidelity"]["mean"]
    assert ideal["throughput_hz"] > 100 * real["throughput_hz"]
    assert ideal["pos"]["link n0-n1 attempt"] == 1.0


def test_a_failed_load_leaves_an_earlier_scenario_untouched():
    good = load_scenario(None)
    before = json.dumps(good.to_dict(), sort_keys=True)
    with pytest.raises(ScenarioError):
        load_scenario(None, settings={"link.multiplexing": 0})
    assert json.dumps(good.to_dict(), sort_keys=True) == before


def test_console_script_runs_the_default_scenario(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "qstack.cli", "run", "--json", "--compact", *FAST],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["delivered"] == 5


def test_presets_lists_every_required_technology(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in ("nv_centre", "trapped_ion", "rare_earth_multimode", "spdc_source", "telecom_fiber", "free_space_link"):
        assert name in out


def test_nine_node_chain_and_sixteen_node_grid_run_from_their_scenarios(capsys):
    report = _run_json(capsys, "scenarios/chain_9.toml", "--set", "requests.0.pairs=2")
    assert report["delivered"] == 2 and report["pos"]["swap (measured)"] == 1.0
    assert main(["run", "--json", "scenarios/grid_16.toml", "--set", "requests.0.pairs=1", "--set", "requests.1.pairs=1"]) == 0
    grid = json.loads(capsys.readouterr().out)
    assert grid["delivered"] == 2 and len(grid["requests"]) == 2 and len(grid["links"]) == 24


def test_disconnected_custom_topology_exits_2(tmp_path, capsys):
    path = tmp_path / "islands.toml"
    path.write_text(
        '[network]\ntopology = "custom"\n'
        '[[network.edges]]\na = "x"\nb = "y"\nlength_km = 1.0\n'
        '[[network.edges]]\na = "u"\nb = "v"\nlength_km = 1.0\n'
        '[[requests]]\nsrc = "x"\ndst = "v"\n'
    )
    assert main(["run", str(path)]) == 2
    assert "no route" in capsys.readouterr().err


def test_over_subscribed_request_exits_2(capsys):
    # Five modes per link end: an inner node of the chain would need 10 of its 9 storage slots.
    assert main(["run", "scenarios/chain_9.toml", "--set", "link.multiplexing=5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "over-subscribed" in err[0]


SCENARIO_FILES = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_every_example_scenario_runs_and_delivers(path, capsys):
    """Each bundled example runs through the CLI (fewer pairs where it has many) and delivers."""
    scenario = load_scenario(path)
    settings = []
    for i, request in enumerate(scenario.requests):
        settings += ["--set", f"requests.{i}.pairs={min(request.pairs, 3)}"]
    assert main(["run", "--json", "--compact", str(path), *settings]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["delivered"] >= 1
    assert report["fidelity"]["mean"] > 0.25


def test_run_json_is_the_typed_reports_dict(capsys):
    """``qstack run --json`` prints ``Report.to_dict()`` of the same run: same keys, same values."""
    from qstack.runner import run_scenario

    assert main(["run", "--json", "--seed", "5", "--set", "requests.0.pairs=2"]) == 0
    printed = json.loads(capsys.readouterr().out)
    report = run_scenario(load_scenario(None, settings={"requests.0.pairs": 2}, seed=5))
    typed = json.loads(json.dumps(report.to_dict()))
    assert list(printed) == list(typed)
    printed.pop("wall_time_s"), typed.pop("wall_time_s")
    assert printed == typed
    assert report.fidelity.mean == printed["fidelity"]["mean"] and report.links[0].scheme == printed["links"][0]["scheme"]
