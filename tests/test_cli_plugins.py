"""``qstack plugins``: every registry kind and its registered names."""

import json

from qstack import registry
from qstack.cli import main


def test_plugins_lists_every_kind_with_the_built_in_applications(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    blocks = out.strip().split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == list(registry.KINDS)
    application = blocks[list(registry.KINDS).index("application")]
    assert "qkd" in application and "qstack.applications.qkd.QKDApplication" in application
    assert "teleportation" in application and "ghz" in application


def test_plugins_json_maps_each_name_to_the_object_it_names(capsys):
    assert main(["plugins", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert list(table) == list(registry.KINDS)
    assert table["application"]["qkd"] == "qstack.applications.qkd.QKDApplication"
    assert table["application"]["teleportation"] == "qstack.applications.teleportation.TeleportationApplication"
    assert table["application"]["ghz"] == "qstack.applications.ghz.GHZApplication"
    for kind, names in table.items():
        for name, where in names.items():
            obj = registry.registered(kind)[name]
            assert where == f"{obj.__module__}.{obj.__qualname__}"
