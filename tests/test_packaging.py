"""Packaging and the commands around it: version, bundled data (scenarios by name, presets with
their sources), Python 3.10's TOML reader, the gymnasium id without a prior ``import qstack``."""

import importlib.metadata
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import qstack
from qstack import data
from qstack.cli import build_parser, main
from qstack.data import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_the_installed_distribution_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"qstack {qstack.__version__}"
    assert importlib.metadata.version("qstack") == qstack.__version__


def test_presets_name_lists_every_preset_entry_with_unit_and_source(capsys):
    assert main(["presets", "nv_centre"]) == 0
    out = capsys.readouterr().out
    with open(data.path("presets/nv_centre.toml"), "rb") as handle:
        document = tomllib.load(handle)
    rows = {line.split()[0]: line for line in out.splitlines() if line and "." in line.split()[0]}
    entries = [(f"{section}.{key}", entry) for section, table in document.items() if isinstance(table, dict)
               for key, entry in table.items()]
    assert len(entries) > 20
    for key, entry in entries:
        assert key in rows, key
        assert entry["source"].strip() in rows[key], key
    assert re.search(r"^memory\.t2_s\s+1\.58\s+s\s+Abobeih", rows["memory.t2_s"])
    assert re.search(r"\s1\s+Hensen", rows["emitter.photon_indistinguishability"])  # dimensionless
    assert re.search(r"\sHz\s", rows["nuclear_spin.coupling_hz"])


def test_presets_name_json_and_unknown_name(capsys):
    assert main(["presets", "telecom_fiber", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["parameters"]["fiber.attenuation_db_per_km"]["unit"] == "dB/km"
    assert "G.652" in report["parameters"]["fiber.attenuation_db_per_km"]["source"]
    assert main(["presets", "no_such_preset"]) == 2
    assert "unknown preset 'no_such_preset'" in capsys.readouterr().err


def test_scenarios_lists_every_bundled_file_with_its_first_sentence(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    files = sorted((ROOT / "scenarios").glob("*.toml"))
    assert files
    for path in files:
        line = next((line for line in lines if line.split(" ", 1)[0] == path.stem), None)
        assert line is not None, path.stem
        first_words = path.read_text().splitlines()[0].lstrip("# ").split()[:4]
        assert " ".join(first_words) in line


def test_a_bundled_scenario_runs_by_name_as_from_its_file(capsys):
    args = ["--json", "--compact", "--set", "requests.0.pairs=1"]
    assert main(["run", "chain_3_short_memory", *args]) == 0
    by_name = json.loads(capsys.readouterr().out)
    assert main(["run", str(ROOT / "scenarios" / "chain_3_short_memory.toml"), *args]) == 0
    by_path = json.loads(capsys.readouterr().out)
    for report in (by_name, by_path):
        report.pop("wall_time_s")
    assert by_name == by_path and by_name["delivered"] == 1


def test_an_unknown_scenario_name_is_refused_naming_the_bundled_ones(capsys):
    assert main(["run", "chain_99"]) == 2
    err = capsys.readouterr().err
    assert "chain_99" in err and "chain_9" in err and len(err.strip().splitlines()) == 1


def test_a_file_in_the_working_directory_wins_over_a_bundled_name(tmp_path, monkeypatch):
    from qstack.scenario import scenario_path

    monkeypatch.chdir(tmp_path)
    assert scenario_path("chain_9") == data.path("scenarios/chain_9.toml")
    (tmp_path / "chain_9").write_text("seed = 3\n")
    assert scenario_path("chain_9") == Path("chain_9")


def test_bundled_data_paths():
    assert set(data.toml_files("scenarios")) == {p.stem for p in (ROOT / "scenarios").glob("*.toml")}
    assert data.path("presets/nv_centre.toml").is_file()
    with pytest.raises(FileNotFoundError, match="bundled folders"):
        data.path("nowhere/x.toml")
    with pytest.raises(FileNotFoundError, match="no such bundled file"):
        data.path("scenarios/not_there.toml")
    # validation/ is bundled when the checkout has it, and is then read like scenarios/.
    expected = {p.stem for p in (ROOT / "validation").glob("*.toml")}
    assert set(data.toml_files("validation")) == expected


def test_help_texts_show_no_doubled_percent_signs():
    parser = build_parser()
    subcommands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    for name, command in subcommands.items():
        assert "%%" not in command.format_help(), name


def test_every_toml_reader_import_falls_back_to_tomli_on_python_3_10():
    """Python 3.10 has no tomllib: everything reads TOML through qstack.data.tomllib."""
    offenders = []
    for folder in ("qstack", "tests", "tutorials", "benchmarks", "docs"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "qstack" / "data" / "__init__.py" or ".venv" in str(path.relative_to(ROOT)):
                continue  # the data module itself; benchmarks' own virtual environments
            if re.search(r"^\s*(import tomllib|from tomllib import)", path.read_text(), flags=re.MULTILINE):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_gymnasium_makes_the_environment_without_importing_qstack_first():
    if importlib.util.find_spec("gymnasium") is None:
        pytest.skip("gymnasium is in the rl and dev extras")
    code = ("import sys, gymnasium\n"
            "assert 'qstack' not in sys.modules\n"
            "env = gymnasium.make('qstack:qstack/Scheduling-v0', max_jobs=2)\n"
            "print(type(env.unwrapped).__name__)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "SchedulingEnv"
