"""Bounds on hostile or mistaken input: each ends in exit 2 with one line naming the key and the
bound, checked before anything is allocated (the reproducers of issue 16), and raisable."""

import json

import pytest

from qstack.cli import main
from qstack.scenario import ScenarioError, default_scenario_text, load_scenario
from qstack.scenario.limits import MAX_DEPTH, MAX_KEY_PARTS, Limits, names_list, scan_toml, show

DEFAULT = default_scenario_text()


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qstack: error: ")
    return err


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return str(path)


@pytest.mark.parametrize(("settings", "message"), [
    (["network.topology=\"grid\"", "network.grid=[1, 2]", "network.link_lengths_km=[]"], "network.link_lengths_km: "),
    (["network.nodes=1099511627776"], "network.nodes: 1099511627776 nodes, more than limits.nodes = 100000"),
    (["network.nodes=1000000"], "more than limits.nodes = 100000"),
    (["network.nodes=1000000000000000000000000000000"], "network.nodes: must be an integer <= 9223372036854775807"),
    (["network.topology=\"grid\"", "network.grid=[100000, 100000]"], "network.grid: 100000 x 100000 nodes"),
    (["link.scheme=\"all_photonic\"", "link.stations=1000000000"], "more than limits.stations = 10000"),
    (["link.scheme=\"all_photonic\"", "link.tree_branching=[1000, 1000]"], "limits.tree_photons = 100000"),
    (["link.multiplexing=1000000000"], "more than limits.multiplexing"),
    (["scheduling.policy=\"fifo\"", "requests.0.arrivals=1000000000", "requests.0.arrival_rate_hz=1e9"],
     "requests[0].arrivals: 1000000000 expected arrivals within max_time_s, more than limits.arrivals"),
])
def test_each_bound_is_one_line_naming_the_key_and_the_bound(capsys, settings, message):
    argv = ["run"] + [arg for s in settings for arg in ("--set", s)]
    assert message in one_line_error(capsys, argv)


def test_a_bound_is_raised_in_the_scenario_or_with_set():
    raised = load_scenario(None, settings={"network.nodes": 200_001, "requests.0.dst": "n200000",
                                           "limits.nodes": 300_000, "limits.links": 300_000})
    assert len(raised.node_names) == 200_001 and raised.limits.nodes == 300_000
    assert raised.to_dict()["limits"] == {"nodes": 300_000, "links": 300_000}
    assert "limits" not in load_scenario(None).to_dict()  # default reports keep their keys
    with pytest.raises(ScenarioError, match="limits.nodes: must be an integer >= 1"):
        load_scenario(None, settings={"limits.nodes": 0})


def test_parser_bounds_are_checked_before_parsing(tmp_path, capsys):
    deep = write(tmp_path, "x = " + "[" * 900 + "]" * 900 + "\n")
    assert f"nested more than {MAX_DEPTH} deep" in one_line_error(capsys, ["run", deep])
    dotted = write(tmp_path, ".".join(["a"] * 50_000) + " = 1\n")  # tomllib: quadratic memory
    assert f"dotted key of more than {MAX_KEY_PARTS} parts" in one_line_error(capsys, ["run", dotted])
    quoted = write(tmp_path, "[" + ".".join(['"a"'] * 100) + "]\n")
    assert "dotted key" in one_line_error(capsys, ["run", quoted])
    assert "nested more than" in one_line_error(capsys, ["run", "--set", "seed=" + "[" * 100 + "]" * 100])


def test_scan_passes_every_bundled_toml_and_ignores_dots_in_values_and_strings():
    from pathlib import Path

    root = Path(__file__).parents[2]
    paths = [*root.glob("scenarios/*.toml"), *root.glob("qstack/hardware/presets/*.toml"), *root.glob("validation/*.toml")]
    assert len(paths) >= 20  # the bundled scenarios, presets and experiments are all scanned
    for path in paths:
        scan_toml(path.read_text(), str(path))
    scan_toml("a = [" + ", ".join(["1.5"] * 1000) + "]\nb = \"" + "x." * 1000 + "\"\nc = {d.e = 1}\n", "values")


def test_file_size_is_bounded_before_reading_and_raised_only_from_settings(tmp_path, capsys):
    big = write(tmp_path, DEFAULT + "#" * Limits().file_bytes)
    assert "more than limits.file_bytes = 8388608" in one_line_error(capsys, ["run", big])
    assert load_scenario(big, settings={"limits.file_bytes": 2 * Limits().file_bytes}).seed == 2026
    raises_itself = write(tmp_path, DEFAULT.replace("seed = 2026", "seed = 2026\n[limits]\nfile_bytes = 1\n[x]"))
    assert "a file cannot raise the bound" in one_line_error(capsys, ["run", raises_itself])


def test_encoding_errors_name_the_file_and_a_bom_is_accepted(tmp_path, capsys):
    latin1 = write(tmp_path, DEFAULT.encode().replace(b"The bundled", b"Th\xe9 bundled"), "latin1.toml")
    assert "latin1.toml: not UTF-8 (byte 4, line 1)" in one_line_error(capsys, ["run", latin1])
    bom = write(tmp_path, b"\xef\xbb\xbf" + DEFAULT.encode(), "bom.toml")
    assert load_scenario(bom) == load_scenario(None)


def test_messages_never_echo_a_huge_value(tmp_path, capsys):
    huge = write(tmp_path, DEFAULT.replace('engine = "fast"', 'engine = "' + "x" * 100_000 + '"'))
    assert len(one_line_error(capsys, ["run", huge])) < 200
    assert len(show("x" * 10**6)) < 80 and show(10**400) == "an integer of 1329 bits"
    assert names_list([f"n{i}" for i in range(10**5)]) == "n0, n1, n2, n3, n4, n5, n6, ..., n99999 (100000 in all)"
    err = one_line_error(capsys, ["run", "--set", "network.nodes=50000", "--set", 'requests.0.dst="nowhere"'])
    assert "(50000 in all)" in err and len(err) < 300


def test_a_custom_edge_given_twice_or_to_itself_is_refused():
    edges = [{"a": "x", "b": "y", "length_km": 1.0}, {"a": "y", "b": "x", "length_km": 2.0}]
    settings = {"network.topology": "custom", "network.edges": edges, "requests.0.src": "x", "requests.0.dst": "y"}
    with pytest.raises(ScenarioError, match=r"network.edges\[1\]: y-x is already network.edges\[0\]"):
        load_scenario(None, settings=settings)
    with pytest.raises(ScenarioError, match=r"network.edges\[0\]: a and b must differ"):
        load_scenario(None, settings={**settings, "network.edges": [{"a": "x", "b": "x", "length_km": 1.0}]})


def test_a_billion_arrivals_at_1_hz_run_the_ones_the_run_reaches(capsys):
    argv = ["run", "--json", "--set", 'scheduling.policy="fifo"', "--set", "requests.0.arrivals=1000000000",
            "--set", "requests.0.arrival_rate_hz=1.0", "--set", "requests.0.pairs=1", "--set", "max_time_s=20.0"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert 10 <= report["scheduling"]["jobs"] <= 40 and report["stopped_at_max_time"]
