"""``qstack run --json`` with ``--set`` overrides, in process: the report without its wall time and
echoed scenario, or the exit code and the error line."""

from __future__ import annotations

import json
import math

from qstack.cli import main


def _toml_value(value) -> str:
    return "inf" if isinstance(value, float) and math.isinf(value) else json.dumps(value)


def run_with(settings: dict, capsys) -> tuple[int, dict | str]:
    """``(0, report)`` for a run of the bundled default with ``settings`` (``--set key=value``),
    or ``(exit code, stderr)`` when it is refused."""
    args = ["run", "--json", "--compact"]
    for key, value in settings.items():
        args += ["--set", f"{key}={_toml_value(value)}"]
    code = main(args)
    out = capsys.readouterr()
    if code:
        return code, out.err.strip()
    report = json.loads(out.out)
    report.pop("wall_time_s")
    report.pop("scenario")
    return 0, report
