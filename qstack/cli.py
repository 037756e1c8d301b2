"""``qstack`` command line: ``run`` a scenario, ``sweep`` a grid of them, ``validate`` against
published experiments, list ``presets`` (or every parameter of one, with its unit and source), the
bundled ``scenarios`` and registered ``plugins``.

Exit codes: 0 success, 2 bad input (one line on stderr naming the key and the allowed range);
``sweep`` exits 1 when some points failed (each recorded with its error).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from qstack.scenario import ScenarioError, load_scenario, parse_value


def _settings(pairs: list[str]) -> dict:
    settings = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ScenarioError(f"--set {item!r}: expected key.path=value")
        settings[key.strip()] = parse_value(value.strip())
    return settings


def _html():
    """The HTML report package (its plotting library is an optional dependency)."""
    try:
        import qstack.html as html
    except ImportError as exc:
        raise ValueError(f"--html needs plotly ({exc}): pip install 'qstack[html]'") from None
    return html


def _wrote(kind: str, path: Path) -> None:
    print(f"qstack: {kind} written to {path} ({path.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    from qstack.runner import run_scenario

    if args.compare_idealized:
        from qstack.compare import compare_idealized

        result = compare_idealized(args.scenario, settings=_settings(args.set), seed=args.seed)
        print(json.dumps(result.to_dict(), indent=None if args.compact else 2) if args.json else result.table())
        if args.html:
            _compare_html(args, result)
        return 0
    from qstack.console import ProgressBar
    from qstack.runner import RunInterrupted

    settings = _settings(args.set)
    scenario = load_scenario(args.scenario, settings=settings, seed=args.seed)
    recorder = capture = None
    if args.html or args.trace:
        from qstack.engine.trace import Recorder

        recorder = Recorder()
    try:
        if args.html:
            capture = _html().capture_run(scenario, settings, recorder=recorder)
            report = capture.report
        else:
            with ProgressBar("run", quiet=args.quiet) as bar:
                report = run_scenario(scenario, recorder,
                                      progress=lambda n, t: bar.update(n, note=f"pairs, {t:.3g} s simulated"))
    except RunInterrupted as stop:  # Ctrl-C: the report of what was delivered until then
        report = stop.report
        print("qstack run: interrupted; the report holds what was delivered until then", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict(), indent=None if args.compact else 2, sort_keys=False))
    else:
        print(f"scenario: {scenario.source}")
        print(report.table())
    if args.trace:
        from qstack.engine.trace import write_chrome_trace

        _wrote("trace", write_chrome_trace(recorder, args.trace))
    if capture is not None:
        _wrote("HTML report", _html().run_page(capture).write(args.html))
    return 130 if report.interrupted else 0


def _compare_html(args: argparse.Namespace, result) -> None:
    """The physical and the idealised run again, recorded, side by side in one page."""
    html = _html()
    settings = _settings(args.set)
    runs = [html.capture_run(load_scenario(args.scenario, settings={**settings, "idealize": list(idealize)},
                                           seed=args.seed), settings, label=label)
            for idealize, label in (((), "physical"), (result.idealize, "idealised"))]
    _wrote("HTML report", html.compare_page(*runs, result.to_dict()).write(args.html))


def _sweep(args: argparse.Namespace) -> int:
    from qstack.console import ProgressBar
    from qstack.sweep import SweepError, parse_param, plot_sweep, run_sweep
    from qstack.sweep.table import check_table_path, write_table

    table = check_table_path(args.table) if args.table else None
    settings = _settings(args.set)
    params: dict = {}
    for text in args.param:
        key, values = parse_param(text)
        if key in params:
            raise SweepError(f"--param {key}: given twice; list all its values in one --param")
        params[key] = values
    if args.seed_list is not None:
        try:
            seeds = [int(s) for s in args.seed_list.split(",")]
        except ValueError:
            raise SweepError(f"--seed-list {args.seed_list!r}: expected integers such as 1,2,3") from None
    elif args.seeds is not None:
        if args.seeds < 1:
            raise SweepError(f"--seeds: must be an integer >= 1, got {args.seeds}")
        first = load_scenario(args.scenario, settings=settings).seed
        seeds = list(range(first, first + args.seeds))
    else:
        seeds = None
    if args.scheduler:
        executor = "dask"
    elif args.in_process:
        executor = "inprocess"
    else:
        executor = "process"
    stem = Path(args.scenario).stem if args.scenario else "default"
    out_dir = Path(args.out) if args.out else Path(f"sweep-{stem}")

    logger = logging.getLogger("qstack.cli")
    bar = ProgressBar("sweep", quiet=args.quiet, delay_s=0.0)

    def progress(state) -> None:
        if state.record is None:
            resumed = f", {state.resumed} already finished in {out_dir}" if state.resumed else ""
            where = {"dask": f"on {args.scheduler}", "inprocess": "in this process"}.get(
                executor, f"on {args.workers or os.cpu_count()} local processes")
            print(f"sweep: {state.total} point{'s' if state.total != 1 else ''}{resumed}; "
                  f"running {state.total - state.resumed} {where}", flush=True)
            bar.update(state.resumed, state.total)
            return
        record = state.record
        where = " ".join(f"{k}={json.dumps(v)}" for k, v in record["params"].items())
        if record["status"] != "ok":
            logger.warning("sweep: point %s seed=%s FAILED %s", where, record["seed"], record["error"])
        else:  # with -v
            logger.info("sweep: [%d/%d] %s seed=%s (%.2f s) ok", state.resumed + state.finished, state.total, where,
                        record["seed"], record["wall_time_s"])
        bar.update(state.resumed + state.finished, note=f"{state.failed} failed" if state.failed else "")

    try:
        records = run_sweep(
            args.scenario,
            params,
            seeds,
            executor=executor,
            workers=args.workers,
            scheduler=args.scheduler,
            out_dir=out_dir,
            settings=settings,
            progress=progress,
            point_timeout_s=args.point_timeout,
        )
    except KeyboardInterrupt:
        bar.close()
        kept = f"; table of them in {write_table(out_dir, table)}" if table and (out_dir / "results.jsonl").is_file() else ""
        print(f"sweep: interrupted; finished points are in {out_dir / 'results.jsonl'}{kept}, "
              "run the same command again to resume", file=sys.stderr)
        return 130
    finally:
        bar.close()
    failed = sum(r["status"] != "ok" for r in records)
    print(f"sweep: {len(records) - failed} ok, {failed} failed; results in {out_dir / 'results.jsonl'}")
    if table:
        print(f"sweep: table of {len(records)} runs in {write_table(out_dir, table)}")
    for metric in args.plot:
        print(f"sweep: {metric} plotted to {plot_sweep(out_dir, metric)}")
    if args.html:
        html = _html()
        _wrote("HTML report", html.sweep_page(out_dir, args.plot or html.SWEEP_METRICS).write(args.html))
    return 1 if failed else 0


def _compare(args: argparse.Namespace) -> int:
    from qstack.compare import compare_idealized, compare_schedulers
    from qstack.scenario import IDEALIZATIONS, scheduling_policies

    settings = _settings(args.set)
    if args.schedulers and args.html:
        raise ValueError("--html: draws physical against idealised runs; leave out --schedulers")
    if args.schedulers:
        names = scheduling_policies()[1:] if args.schedulers == "all" else tuple(
            p.strip() for p in args.schedulers.split(",") if p.strip())
        result = compare_schedulers(args.scenario, names, settings=settings, seed=args.seed)
    else:
        items = IDEALIZATIONS if args.idealize in (None, "all") else tuple(
            i.strip() for i in args.idealize.split(",") if i.strip())
        result = compare_idealized(args.scenario, items, settings=settings, seed=args.seed, each=not args.no_each)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.table())
    if args.html:
        _compare_html(args, result)
    return 0


def _optimize(args: argparse.Namespace) -> int:
    from qstack.console import ProgressBar
    from qstack.optimize import optimize

    if not args.control:
        raise ValueError("optimize: give at least one --control KEY=LOW:HIGH[:int][:log]")
    with ProgressBar("optimize", quiet=args.quiet) as bar:
        result = optimize(
            args.scenario,
            args.control,
            objective=args.objective,
            min_fidelity=args.min_fidelity,
            seeds=args.seeds,
            budget=args.budget,
            settings=_settings(args.set),
            rng_seed=args.rng_seed,
            confirm_seeds=args.confirm_seeds,
            maximize=not args.minimize,
            progress=lambda calls, planned: bar.update(calls, planned, note="objective calls"),
        )
    if result.interrupted:
        print("qstack optimize: interrupted; the best setting so far, unconfirmed", file=sys.stderr)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.table())
    return 130 if result.interrupted else 0


def _validate(args: argparse.Namespace) -> int:
    from qstack.validation import plot, table, validate

    def progress(message: str) -> None:
        if not args.json:
            print(message, flush=True)

    comparisons = validate(args.names, progress=progress)
    if args.json:
        print(json.dumps([c.to_dict() for c in comparisons], indent=2))
    else:
        print(table(comparisons))
    if args.plot:
        paths = plot(comparisons, args.plot)
        if not args.json:
            print(f"validate: figures in {args.plot}: {', '.join(p.name for p in paths)}")
    return 0  # always: the table says what agrees and what does not


def _presets(args: argparse.Namespace) -> int:
    from qstack.hardware import list_presets, load_preset

    if args.name is None:
        for name in list_presets():
            preset = load_preset(name)
            print(f"{name:<24} {preset.kind:<8} {preset.describe()}")
        print("\n`qstack presets NAME` lists every parameter of one preset with its unit and source.")
        return 0
    preset = load_preset(args.name)
    rows = preset.parameters()
    if args.json:
        print(json.dumps({"name": preset.name, "kind": preset.kind, "description": " ".join(preset.description.split()),
                          "parameters": {p.key: {"value": p.value, "unit": p.unit, "source": p.source} for p in rows}},
                         indent=2, default=str))
        return 0
    print(f"{preset.name} ({preset.kind}): {' '.join(preset.description.split())}\n")
    key_width = max(len(p.key) for p in rows)
    values = [f"{p.value:.6g}" if isinstance(p.value, float) else str(p.value) for p in rows]
    value_width = max(len(v) for v in values)
    unit_width = max(len(p.unit) for p in rows)
    print(f"{'parameter':<{key_width}}  {'value':>{value_width}}  {'unit':<{unit_width}}  source")
    for p, value in zip(rows, values):
        print(f"{p.key:<{key_width}}  {value:>{value_width}}  {p.unit:<{unit_width}}  {p.source}")
    return 0


def _scenarios(args: argparse.Namespace) -> int:
    from qstack.scenario import bundled_scenarios, scenario_summary

    bundled = bundled_scenarios()
    if args.json:
        print(json.dumps({name: {"path": str(path), "description": scenario_summary(path)}
                          for name, path in bundled.items()}, indent=2))
        return 0
    width = max((len(name) for name in bundled), default=0)
    for name, path in bundled.items():
        print(f"{name:<{width}}  {scenario_summary(path)}")
    print("\n`qstack run NAME` runs one (the bundled default when no scenario is given); files are in "
          f"{next(iter(bundled.values())).parent if bundled else '(none installed)'}")
    return 0


def _plugins(args: argparse.Namespace) -> int:
    from qstack import registry

    table: dict[str, dict[str, str]] = {}
    for kind, modules in registry.KINDS.items():
        try:
            entries = registry.registered(kind)
        except ModuleNotFoundError as exc:
            if exc.name not in modules:
                raise
            entries = {}  # this installation has no built-in module for the kind
        table[kind] = {name: f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
                       for name, obj in entries.items()}
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    blocks = []
    for kind, entries in table.items():
        width = max((len(name) for name in entries), default=0)
        lines = [f"  {name:<{width}}  {where}" for name, where in entries.items()] or ["  (none)"]
        blocks.append("\n".join([kind, *lines]))
    print("\n\n".join(blocks))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from qstack import __version__

    parser = argparse.ArgumentParser(prog="qstack", description="Physics-informed quantum network simulation.")
    parser.add_argument("--version", action="version", version=f"qstack {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a scenario (the bundled default if none is given)")
    run.add_argument("scenario", nargs="?", default=None,
                     help="scenario TOML file, or the name of a bundled scenario (see `qstack scenarios`)")
    run.add_argument("--json", action="store_true", help="print the report as one JSON object")
    run.add_argument("--compact", action="store_true", help="with --json: on one line")
    run.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    run.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE", help="override a scenario key")
    run.add_argument("--compare-idealized", action="store_true",
                     help="also run the scenario under idealised physics and print both side by side (as `qstack compare`)")
    run.add_argument("--html", default=None, metavar="FILE",
                     help="write a self-contained HTML report (topology, timeline, latency, occupancy, tables)")
    run.add_argument("--trace", default=None, metavar="FILE",
                     help="write the run's events as Chrome trace-event JSON (open in Perfetto or chrome://tracing)")
    run.set_defaults(func=_run)
    compare = sub.add_parser(
        "compare",
        help="physics versus idealised assumptions, or scheduler versus scheduler, side by side",
        description="Without --schedulers: run the scenario with its physics and with the --idealize items switched "
        "off (all at once and each alone) and print rate, fidelity and latency side by side. With --schedulers: run it "
        "under each scheduling policy and print per-user results.",
    )
    compare.add_argument("scenario", nargs="?", default=None, help="scenario TOML file (the bundled default if none)")
    compare.add_argument("--idealize", default=None, metavar="ITEMS",
                         help="comma-separated: decoherence, loss, probabilistic_generation, gate_noise, bsm (default: all)")
    compare.add_argument("--no-each", action="store_true", help="skip the one-assumption-at-a-time runs")
    compare.add_argument("--schedulers", default=None, metavar="POLICIES",
                         help="comma-separated scheduling policies, or 'all'")
    compare.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    compare.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE", help="override a scenario key")
    compare.add_argument("--json", action="store_true", help="print one JSON object")
    compare.add_argument("--html", default=None, metavar="FILE",
                         help="also write a self-contained HTML page of the physical and idealised runs side by side")
    compare.set_defaults(func=_compare)
    sweep = sub.add_parser(
        "sweep",
        help="run a grid of settings x seeds, in parallel, resumable",
        description="Run every combination of the --param values for every seed; each finished point is "
        "appended to OUT/results.jsonl at once, and the same command run again resumes where it stopped.",
    )
    sweep.add_argument("scenario", nargs="?", default=None, help="scenario TOML file (the bundled default if none)")
    sweep.add_argument("--param", action="append", default=[], metavar="KEY.PATH=V1,V2,...",
                       help="a swept key and its values (parsed like --set values); repeat for a grid")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                       help="override a scenario key for every point")
    seeds = sweep.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=int, default=None, metavar="N",
                       help="N seeds per point: the scenario's seed and the N-1 following (default: its seed only)")
    seeds.add_argument("--seed-list", default=None, metavar="S1,S2,...", help="these seeds for every point")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="local worker processes (default: one per CPU)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="run on a Dask cluster, e.g. tcp://host:8786")
    where.add_argument("--in-process", action="store_true", help="run every point in this process")
    sweep.add_argument("--out", default=None, metavar="DIR",
                       help="output directory (default: sweep-<scenario name>); results.jsonl and sweep.json")
    sweep.add_argument("--point-timeout", type=float, default=None, metavar="SECONDS",
                       help="wall-clock limit of each point; a point that runs longer is recorded as failed")
    sweep.add_argument("--table", default=None, metavar="FILE",
                       help="also write one flat row per run to FILE (.parquet or .csv; needs qstack[data])")
    sweep.add_argument("--plot", action="append", default=[], metavar="METRIC",
                       help="after the sweep, plot METRIC (e.g. fidelity.mean, throughput_hz) to DIR/METRIC.png")
    sweep.add_argument("--html", default=None, metavar="FILE",
                       help="after the sweep, write a self-contained HTML page: each --plot metric (default: "
                       "throughput, mean fidelity and latency) against each parameter, error bars over seeds")
    sweep.set_defaults(func=_sweep)
    optimize = sub.add_parser(
        "optimize",
        help="search controls for the best objective under a fidelity target, confirmed on fresh seeds",
        description="Differential evolution over the --control ranges; every candidate runs the same search seeds, "
        "and the best feasible setting is re-run on fresh seeds next to the default setting (95% CIs).",
    )
    optimize.add_argument("scenario", nargs="?", default=None, help="scenario TOML file (the bundled default if none)")
    optimize.add_argument("--control", action="append", default=[], metavar="KEY=LOW:HIGH[:int][:log]",
                          help="a searched key and its bounds (override:ROLE.SECTION.FIELD for hardware overrides); repeat")
    optimize.add_argument("--objective", default="throughput_hz", metavar="METRIC",
                          help="report metric to maximise (default throughput_hz; e.g. fidelity.mean)")
    optimize.add_argument("--minimize", action="store_true", help="minimise the objective instead")
    optimize.add_argument("--min-fidelity", type=float, default=None, metavar="F",
                          help="every user's delivered pairs must have mean fidelity >= F on every search seed")
    optimize.add_argument("--seeds", type=int, default=3, metavar="N",
                          help="search seeds: the scenario's seed and the N-1 following (default 3)")
    optimize.add_argument("--confirm-seeds", type=int, default=10, metavar="N",
                          help="fresh seeds, after the search seeds, to confirm the best and the default (default 10)")
    optimize.add_argument("--budget", type=int, default=60, metavar="N", help="most objective calls (default 60)")
    optimize.add_argument("--rng-seed", type=int, default=0, help="the optimiser's seed (default 0)")
    optimize.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                          help="override a scenario key for every candidate")
    optimize.add_argument("--json", action="store_true", help="print one JSON object")
    optimize.set_defaults(func=_optimize)
    validate = sub.add_parser(
        "validate",
        help="run the published experiments in validation/ and compare simulated with measured values",
        description="Run each experiment of validation/ (all, or those named) and print, per quantity, the measured "
        "value with its error, the simulated value with its uncertainty (statistical, and each sourced parameter "
        "uncertainty carried through), and whether they agree within two "
        "combined standard uncertainties; model gaps are named. Exit 0 always.",
    )
    validate.add_argument("names", nargs="*", metavar="NAME", help="experiment names (default: all)")
    validate.add_argument("--json", action="store_true",
                          help="print a list of {experiment, source, quantity, unit, measured, measured_error, "
                          "simulated, simulated_error, simulated_error_parts, agrees, gap}")
    validate.add_argument("--plot", default=None, metavar="DIR",
                          help="draw one figure per experiment and a summary into DIR")
    validate.set_defaults(func=_validate)
    presets = sub.add_parser(
        "presets",
        help="list hardware presets, or every parameter of one with its unit and source",
    )
    presets.add_argument("name", nargs="?", default=None, metavar="NAME", help="a preset: list its parameters")
    presets.add_argument("--json", action="store_true", help="with NAME: print one JSON object")
    presets.set_defaults(func=_presets)
    scenarios = sub.add_parser("scenarios", help="list the bundled example scenarios (qstack run NAME runs one)")
    scenarios.add_argument("--json", action="store_true", help="print {name: {path, description}}")
    scenarios.set_defaults(func=_scenarios)
    plugins = sub.add_parser(
        "plugins",
        help="list every registry kind and its registered names (built-ins, entry points, loaded plugins)",
    )
    plugins.add_argument("--json", action="store_true", help="print {kind: {name: module.qualname}}")
    plugins.set_defaults(func=_plugins)
    for command in sub.choices.values():  # every command: how much it says on stderr
        command.add_argument("-v", "--verbose", action="count", default=0,
                             help="more messages on stderr (-vv: debugging detail)")
        command.add_argument("--quiet", action="store_true", help="no progress and only errors on stderr")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from qstack.console import configure_logging

    configure_logging(getattr(args, "verbose", 0), getattr(args, "quiet", False))
    try:
        return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C where a command keeps nothing more: one line, no traceback
        print(f"qstack {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into a reader that closed early (| head)
        sys.stderr.close()
        return 0
    except (ScenarioError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"qstack: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
