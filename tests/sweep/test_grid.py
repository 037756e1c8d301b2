"""The grid: swept values x seeds, validated before anything runs, with ids that never change."""

import pytest

from qstack.cli import main
from qstack.sweep import RESULTS_FILE, Sweep, SweepError, parse_param, point_id, split_values


def test_point_ids_are_the_ones_earlier_versions_wrote_so_old_directories_resume():
    # Written by the single-module qstack.sweep (before the package): a change here would make
    # every existing sweep directory run all its points again.
    assert point_id({"link.bright_state_population": 0.05}, 9) == "e5cba11183c74b16"
    assert point_id({"link.bright_state_population": 0.1, "network.link_lengths_km": [5.0]}, 2026) == "ee036262e065ca46"


def test_points_vary_the_seed_fastest_and_the_first_key_slowest():
    sweep = Sweep.create(None, {"link.bright_state_population": [0.05, 0.1], "requests.0.pairs": [1, 2]}, [7, 8])
    assert [(p.settings["link.bright_state_population"], p.settings["requests.0.pairs"], p.seed) for p in sweep.points()][:5] == [
        (0.05, 1, 7), (0.05, 1, 8), (0.05, 2, 7), (0.05, 2, 8), (0.1, 1, 7)]
    assert len({p.point_id for p in sweep.points()}) == 8
    assert sweep.describe()["points"][0] == {"point": sweep.points()[0].point_id, "params": sweep.points()[0].settings, "seed": 7}


def test_the_digest_names_the_shared_scenario_but_not_its_seed():
    base = Sweep.create(None, {"link.bright_state_population": [0.1]}, [1])
    other_seed = Sweep.create(None, {"link.bright_state_population": [0.1]}, [1], settings={"seed": 99})
    other_setting = Sweep.create(None, {"link.bright_state_population": [0.1]}, [1], settings={"requests.0.pairs": 3})
    assert base.digest == other_seed.digest != other_setting.digest


@pytest.mark.parametrize(
    "seeds,message",
    [([], "at least one seed"), ([1, 1], "1 given twice"), ([-1], "integers >= 0"), ([True], "integers >= 0")],
)
def test_bad_seeds_are_refused(seeds, message):
    with pytest.raises(SweepError, match=message):
        Sweep.create(None, {"link.bright_state_population": [0.1]}, seeds)


def test_values_split_at_top_level_commas_only():
    assert split_values("0.05,0.1") == ["0.05", "0.1"]
    assert split_values("[5.0],[10.0, 20.0]") == ["[5.0]", "[10.0, 20.0]"]
    assert split_values('"a,b",c') == ['"a,b"', "c"]


def test_a_param_is_parsed_like_set_values():
    assert parse_param("network.link_lengths_km=[5.0],[10.0, 2.0]") == ("network.link_lengths_km", [[5.0], [10.0, 2.0]])
    with pytest.raises(SweepError, match="empty value"):
        parse_param("link.bright_state_population=0.1,")


@pytest.mark.parametrize(
    "param,named",
    [
        ("link.colour=1,2", "link.colour"),
        ("link.bright_state_population=0.1,1.5", "link.bright_state_population"),
        ("requests.0.dst=\"n1\",\"n9\"", "requests.0.dst"),
        ("link.multiplexing=1,1", "link.multiplexing"),
        ("seed=1,2", "seed"),
        ("no_equals_sign", "no_equals_sign"),
    ],
)
def test_bad_param_exits_2_with_one_line_naming_the_key_before_anything_runs(tmp_path, capsys, param, named):
    out = tmp_path / "bad"
    assert main(["sweep", "--param", param, "--in-process", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and named in lines[0]
    assert not (out / RESULTS_FILE).exists()
