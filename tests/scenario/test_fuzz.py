"""Fuzzing the scenario reader: raw bytes and schema-aware mutations of the bundled scenarios
either load (and build) or raise a one-line ScenarioError: never another exception, a hang or a
runaway allocation. Bounded: a few seconds in the default run (QSTACK_FUZZ_EXAMPLES for more)."""

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qstack.data import tomllib
from qstack.build import build_network
from qstack.engine import Simulation
from qstack.scenario import SCHEMA, ScenarioError, load_scenario

ROOT = Path(__file__).parents[2]
BUNDLED = [ROOT / "qstack/scenarios/default.toml", *sorted((ROOT / "scenarios").glob("*.toml"))]
EXAMPLES = int(os.environ.get("QSTACK_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _keys(schema: dict, prefix: str = "") -> list[str]:
    out = []
    for name, spec in schema.items():
        key = f"{prefix}{name}"
        if isinstance(spec, dict):
            out += _keys(spec, key + ".")
        elif isinstance(spec, list):
            out += _keys(spec[0], key + ".0.")
        else:
            out.append(key)
    return out


KEYS = _keys(SCHEMA)
SCALARS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70), st.sampled_from([0, 1, 2, 3, 10**6, 2**63, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.text(max_size=20),
    st.sampled_from(["n0", "n1", "n2", "chain", "grid", "star", "custom", "fifo", "all_photonic", "link", "none"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                             max_size=3), max_leaves=8)


def _loads_or_refuses(load) -> None:
    try:
        scenario = load()
    except ScenarioError as exc:
        assert "\n" not in str(exc).strip() and len(str(exc)) < 1000
        return
    if len(scenario.node_names) <= 50:  # building costs the graph; keep the fuzz quick
        try:
            build_network(scenario, Simulation(scenario.seed))
        except ScenarioError as exc:
            assert "\n" not in str(exc).strip()


@FUZZ
@given(base=st.sampled_from(BUNDLED), changes=st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=3))
def test_schema_mutations_load_or_give_one_line(base, changes):
    raw = tomllib.loads(base.read_text())
    _loads_or_refuses(lambda: load_scenario(raw, settings=dict(changes)))


@FUZZ
@given(base=st.sampled_from(BUNDLED), cut=st.integers(0, 10**6), insert=st.binary(max_size=40),
       junk=st.sampled_from([b"", b"[" * 60, b"a." * 40 + b"b = 1\n", b"\xff\xfe", b"\xef\xbb\xbf", b"\"", b"'''",
                             b"x = 99999999999999999999999\n", b"[[requests]]\n", b"{", b"\n[limits]\nnodes = 3\n"]))
def test_raw_bytes_load_or_give_one_line(tmp_path, base, cut, insert, junk):
    data = base.read_bytes()
    at = cut % (len(data) + 1)
    path = tmp_path / "fuzzed.toml"
    path.write_bytes(data[:at] + junk + insert + data[at:])
    _loads_or_refuses(lambda: load_scenario(path))
