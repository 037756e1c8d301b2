"""Scenarios shared by the scheduling tests."""

from pathlib import Path

from qstack.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
STAR = ROOT / "scenarios" / "star_schedulers.toml"


def two_node(t2_s=None, **settings):
    """Two trapped-ion nodes 2 km apart (a direct link)."""
    data = {
        "seed": 3,
        "network": {"topology": "chain", "nodes": 3, "link_lengths_km": [2.0]},
        "hardware": {"node": "trapped_ion", "channel": "telecom_fiber", "overrides": {}},
        "link": {"scheme": "single_click", "bright_state_population": 0.05},
        "requests": [{"src": "n0", "dst": "n1", "pairs": 1}],
    }
    if t2_s is not None:
        data["hardware"]["overrides"]["node.memory.t2_s"] = t2_s
    return load_scenario(data, settings=settings)


def benchmark_family(family: str, t2_s: float, load: float, seed: int, policy: str):
    """One scenario of ``benchmarks/scheduling_families.py`` (its own definition, loaded from
    the file), under ``policy``."""
    import importlib.util
    import sys

    module = sys.modules.get("scheduling_families")
    if module is None:
        spec = importlib.util.spec_from_file_location("scheduling_families", ROOT / "benchmarks" / "scheduling_families.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["scheduling_families"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    builder, _variants = module.FAMILIES[family]
    return load_scenario({"seed": seed, **builder(t2_s, load), "scheduling": {"policy": policy}})
