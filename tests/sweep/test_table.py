"""A sweep as a flat table: one row per point, one column per metric, names without spaces."""

import json
import sys

import pytest

from qstack.cli import main
from qstack.sweep import RESULTS_FILE, SweepError, flat_row, to_frame
from qstack.sweep.table import check_table_path, column_part

from .conftest import CLI_GRID


def test_report_keys_become_dotted_names_without_spaces_and_lists_become_text_or_indexed_columns():
    record = {"point": "p", "seed": 3, "status": "ok", "wall_time_s": 0.5,
              "params": {"network.link_lengths_km": [5.0, 10.0], "link.bright_state_population": 0.1},
              "report": {"pos": {"link n0-n1 attempt (measured)": 0.25}, "requests": [{"delivered": 2}, {"delivered": 1}],
                         "scenario": {"idealize": ["loss"]}, "seed": 3, "a b": 1, "a_b": 2}}
    row = flat_row(record)
    assert row["pos.link_n0_n1_attempt_measured"] == 0.25
    assert (row["requests.0.delivered"], row["requests.1.delivered"]) == (2, 1)
    assert row["params.network.link_lengths_km"] == "[5.0, 10.0]" and row["scenario.idealize"] == '["loss"]'
    assert row["params.link.bright_state_population"] == 0.1 and row["error"] is None
    assert (row["a_b"], row["a_b_2"]) == (1, 2)  # two keys that clean alike both stay
    assert all(" " not in name and "(" not in name for name in row)
    assert column_part("link n0-n1 attempt (measured)") == "link_n0_n1_attempt_measured"


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_sweep_table_loads_in_pandas_in_one_line_as_a_flat_frame(tmp_path, suffix):
    pandas = pytest.importorskip("pandas")
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    out, table = tmp_path / "out", tmp_path / f"runs{suffix}"
    assert main(["sweep", *CLI_GRID, "--in-process", "--quiet", "--out", str(out), "--table", str(table)]) == 0
    frame = pandas.read_parquet(table) if suffix == ".parquet" else pandas.read_csv(table)
    records = [json.loads(line) for line in (out / RESULTS_FILE).read_text().splitlines()]
    assert len(frame) == 8 and set(frame["status"]) == {"ok"}
    assert {"point", "seed", "params.link.bright_state_population", "params.network.link_lengths_km",
            "fidelity.mean", "latency_s.p95", "throughput_hz", "requests.0.delivered"} <= set(frame.columns)
    assert any(name.startswith("pos.link_n0_n1") for name in frame.columns)
    assert all(" " not in name for name in frame.columns)
    assert list(frame["fidelity.mean"]) == pytest.approx([r["report"]["fidelity"]["mean"] for r in records])
    means = frame.groupby(["params.network.link_lengths_km", "params.link.bright_state_population"])["fidelity.mean"].mean()
    assert len(means) == 4  # the list-valued swept key groups


def test_to_frame_matches_the_table_rows(reference):
    pytest.importorskip("pandas")
    out, records = reference
    frame = to_frame(out)
    assert list(frame["seed"]) == [r["seed"] for r in records]
    assert list(frame["params.network.link_lengths_km"]) == [json.dumps(r["params"]["network.link_lengths_km"]) for r in records]


def test_a_table_file_of_another_kind_is_refused_before_anything_runs(tmp_path, capsys):
    with pytest.raises(SweepError, match="--table"):
        check_table_path(tmp_path / "runs.xlsx")
    assert main(["sweep", *CLI_GRID, "--in-process", "--out", str(tmp_path / "o"), "--table", "runs.xlsx"]) == 2
    assert "--table" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_to_frame_without_pandas_says_how_to_get_it(reference, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails, installed or not
    with pytest.raises(ImportError, match="qstack\\[data\\]"):
        to_frame(reference[0])
