"""``qstack validate``: the table, the JSON objects, the figures; exit 0 whatever agrees."""

import json

from qstack.cli import main

KEYS = ["experiment", "source", "quantity", "unit", "measured", "measured_error", "simulated", "simulated_error",
        "simulated_error_parts", "agrees", "gap"]


def test_validate_json_prints_one_object_per_quantity_with_the_named_keys(capsys):
    assert main(["validate", "yin2017", "liu2021", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["experiment"] for row in rows] == ["yin2017", "liu2021"]
    for row in rows:
        assert list(row) == KEYS
    assert rows[0]["agrees"] is True and rows[1]["agrees"] is False and rows[1]["gap"]


def test_validate_table_and_figures(capsys, tmp_path):
    assert main(["validate", "liu2021", "--plot", str(tmp_path)]) == 0  # a disagreement still exits 0
    out = capsys.readouterr().out
    assert "memory-memory Bell-state fidelity" in out and "NO" in out and "model gaps" in out
    assert (tmp_path / "liu2021.png").stat().st_size > 0
    assert (tmp_path / "summary.png").stat().st_size > 0


def test_an_unknown_experiment_is_a_one_line_error(capsys):
    assert main(["validate", "nope"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err
