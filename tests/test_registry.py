"""Plugins: a module outside the package registers a scheduler, a link scheme and an application,
and ``qstack run`` accepts them by name; ``qstack plugins`` lists them; entry points load too."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from qstack import registry
from qstack.cli import main

PLUGIN = textwrap.dedent('''
    from dataclasses import dataclass

    import qstack
    from qstack.applications import Application, ApplicationResult
    from qstack.physical import SingleClick
    from qstack.scheduling import FIFO


    @qstack.register("scheduler", "newest_first")
    class NewestFirst(FIFO):
        def key(self, job):
            return -job.arrival_s


    @qstack.register("link_scheme", "lossy_click")
    class LossyClick(SingleClick):
        """Single click with half the detector efficiency on each arm."""

        SCHEME = "lossy_click"

        def _station_side_efficiency(self, side):
            return 0.5 * super()._station_side_efficiency(side)


    @dataclass(frozen=True)
    class Count(ApplicationResult):
        pairs: int

        def to_dict(self):
            return {"kind": "pair_count", "pairs": self.pairs}


    @qstack.register("application", "pair_count")
    class PairCount(Application):
        def result(self, sim_time_s):
            return Count(sum(len(states) for states in self.pairs.states.values()))
''')


@pytest.fixture
def plugin_module(tmp_path, monkeypatch):
    """The plugin as an importable module; the registries are restored afterwards."""
    saved = {kind: dict(registry.registered(kind)) for kind in registry.KINDS}  # built-ins loaded first
    (tmp_path / "qstack_test_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "qstack_test_plugin"
    sys.modules.pop("qstack_test_plugin", None)
    for kind, entries in saved.items():
        registry._entries[kind].clear()
        registry._entries[kind].update(entries)


def _scenario(tmp_path, scheme: str, plugins: list[str]) -> str:
    path = tmp_path / "plugged.toml"
    path.write_text(textwrap.dedent(f'''
        plugins = {json.dumps(plugins)}
        seed = 3
        max_time_s = 5000.0
        [link]
        scheme = "{scheme}"
        [scheduling]
        policy = "newest_first"
        [application]
        kind = "pair_count"
        [[requests]]
        src = "n0"
        dst = "n1"
        pairs = 3
    '''))
    return str(path)


def test_a_plugins_scheduler_link_scheme_and_application_run_through_qstack_run(plugin_module, tmp_path, capsys):
    assert main(["run", "--json", _scenario(tmp_path, "lossy_click", [plugin_module])]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["links"][0]["scheme"] == "lossy_click"
    assert report["scheduling"]["policy"] == "newest_first"
    assert report["application"] == {"kind": "pair_count", "pairs": report["delivered"]} and report["delivered"] == 3
    assert report["scenario"]["plugins"] == [plugin_module]
    # the plugin's physics acts: half the efficiency per arm, a quarter of single click's p/attempt
    assert main(["run", "--json", _scenario(tmp_path, "single_click", [plugin_module])]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert report["links"][0]["p_attempt"] == pytest.approx(plain["links"][0]["p_attempt"] / 2, rel=0.02)


def test_without_the_plugin_its_names_are_refused_naming_the_key(tmp_path, capsys):
    assert main(["run", _scenario(tmp_path, "lossy_click", [])]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("qstack: error: link.scheme:") and "single_click" in err and len(err.splitlines()) == 1


def test_a_plugin_that_cannot_be_imported_is_a_one_line_error(tmp_path, capsys):
    assert main(["run", _scenario(tmp_path, "single_click", ["no_such_module_here"])]) == 2
    err = capsys.readouterr().err.strip()
    assert "plugins" in err and "no_such_module_here" in err and len(err.splitlines()) == 1


def test_qstack_plugins_lists_every_kind_with_the_plugins_names(plugin_module, capsys):
    __import__(plugin_module)
    assert main(["plugins", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert set(listed) == set(registry.KINDS)
    assert listed["scheduler"]["newest_first"] == f"{plugin_module}.NewestFirst"
    assert {"single_click", "double_click", "midpoint_source", "all_photonic", "lossy_click"} <= set(listed["link_scheme"])
    assert {"chain", "star", "grid", "custom"} <= set(listed["topology"])


def test_installed_packages_register_through_entry_points(plugin_module, tmp_path, monkeypatch):
    dist = tmp_path / "qstack_test_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: qstack-test-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[qstack.plugins]\ntest = {plugin_module}\n")
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    assert "newest_first" in registry.registered("scheduler")


def test_a_plugin_cannot_take_a_builtin_name(plugin_module):
    with pytest.raises(ValueError, match="already registered"):
        registry.register("link_scheme", "single_click")(type("Other", (), {}))
