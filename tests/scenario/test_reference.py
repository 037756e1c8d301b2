"""The scenario-key reference is generated from the schema and lists every key it accepts."""

import importlib.util
from pathlib import Path

import pytest

from qstack.scenario.reference import keys, markdown
from qstack.scenario.schema import ScenarioError, validate

ROOT = Path(__file__).resolve().parents[2]


def _accepted_keys(table: dict, prefix: str = "") -> set[str]:
    """Dotted keys of a resolved scenario: non-empty tables are walked, arrays of tables as ``[]``."""
    out = set()
    for name, value in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict) and value and name not in ("nodes", "interfaces", "overrides"):
            out |= _accepted_keys(value, key)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out |= _accepted_keys(value[0], f"{key}[]")
        else:
            out.add(key)
    return out


def _resolved_with_every_table() -> dict:
    """What validation fills in for a scenario with one custom edge and one request."""
    return validate({
        "network": {"edges": [{"a": "x", "b": "y", "length_km": 1.0}]},
        "requests": [{"src": "x", "dst": "y"}],
    })


def test_reference_lists_exactly_the_keys_validation_accepts():
    accepted = _accepted_keys(_resolved_with_every_table())
    documented = {doc.key for doc in keys()}
    assert documented == accepted
    assert len(accepted) > 50


def test_every_key_has_a_row_with_what_it_accepts_and_its_default():
    text = markdown()
    for doc in keys():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{doc.key}` |")), None)
        assert row is not None, doc.key
        assert doc.allowed and "<probe>" not in row, row


def test_accepts_is_the_schema_checks_own_range():
    rows = {doc.key: doc for doc in keys()}
    assert rows["seed"].allowed == "an integer >= 0"
    assert rows["link.bright_state_population"].allowed == "a number in (0, 1]"
    assert rows["engine"].allowed.startswith("one of fast")
    assert rows["requests[].src"].required and not rows["requests[].pairs"].required
    # A value just outside the documented range is refused, naming the key.
    with pytest.raises(ScenarioError, match="link.bright_state_population"):
        validate({"link": {"bright_state_population": 0.0}})


def test_the_docs_build_renders_this_reference():
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is in the docs extra")
    spec = importlib.util.spec_from_file_location("qstack_docs_hooks", ROOT / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    assert markdown() in hooks._scenario_keys()
    assert "docs/hooks.py" in (ROOT / "mkdocs.yml").read_text()
