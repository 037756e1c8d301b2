"""Shared grid of the sweep tests: the bundled scenario, 2 x 2 values x 2 seeds, run once in this process."""

import json

import pytest

from qstack.sweep import run_sweep

FIXED = {"requests.0.pairs": 2}
PARAMS = {"link.bright_state_population": [0.05, 0.1], "network.link_lengths_km": [[5.0], [10.0]]}
SEEDS = [3, 4]
CLI_GRID = [
    "--set", "requests.0.pairs=2",
    "--param", "link.bright_state_population=0.05,0.1",
    "--param", "network.link_lengths_km=[5.0],[10.0]",
    "--seed-list", "3,4",
]


def reports(records):
    """point id -> report as canonical JSON (wall time is not in the report)."""
    return {r["point"]: json.dumps(r["report"], sort_keys=True) for r in records}


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """The grid run in this process: ``(out_dir, records)``."""
    out = tmp_path_factory.mktemp("inprocess")
    records = run_sweep(None, PARAMS, SEEDS, executor="inprocess", out_dir=out, settings=FIXED)
    return out, records
