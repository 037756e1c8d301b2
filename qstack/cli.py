"""``qstack`` command line: ``run`` a scenario, list ``presets``.

Exit codes: 0 success, 2 bad input (one line on stderr naming the key and the allowed range).
"""

from __future__ import annotations

import argparse
import json
import sys

from qstack.scenario import ScenarioError, load_scenario, parse_value


def _settings(pairs: list[str]) -> dict:
    settings = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ScenarioError(f"--set {item!r}: expected key.path=value")
        settings[key.strip()] = parse_value(value.strip())
    return settings


def _run(args: argparse.Namespace) -> int:
    from qstack.runner import run_scenario

    scenario = load_scenario(args.scenario, settings=_settings(args.set), seed=args.seed)
    report = run_scenario(scenario)
    if args.json:
        print(json.dumps(report.to_dict(), indent=None if args.compact else 2, sort_keys=False))
    else:
        print(f"scenario: {scenario.source}")
        print(report.table())
    return 0


def _presets(args: argparse.Namespace) -> int:
    from qstack.hardware import list_presets, load_preset

    for name in list_presets():
        preset = load_preset(name)
        print(f"{name:<24} {preset.kind:<8} {preset.describe()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qstack", description="Physics-informed quantum network simulation.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario (the bundled default if none is given)")
    run.add_argument("scenario", nargs="?", default=None, help="scenario TOML file")
    run.add_argument("--json", action="store_true", help="print the report as one JSON object")
    run.add_argument("--compact", action="store_true", help="with --json: on one line")
    run.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    run.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE", help="override a scenario key")
    run.set_defaults(func=_run)
    presets = sub.add_parser("presets", help="list hardware presets and their sources")
    presets.set_defaults(func=_presets)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into a reader that closed early (| head)
        sys.stderr.close()
        return 0
    except (ScenarioError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"qstack: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
