"""The forms of a validation: the table ``qstack validate`` prints, its JSON, and its figures.

Figures (``--plot DIR``): one per experiment, ``DIR/<experiment>.png``, each quantity's measured
value with its error bar next to the simulated value with its statistical error; and
``DIR/summary.png``, every quantity's deviation ``(simulated - measured) / combined uncertainty``
with the agreement band ``+-K`` (:data:`~qstack.validation.comparison.COVERAGE_FACTOR`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from .comparison import COVERAGE_FACTOR, Comparison


def _value(x: float, err: float | tuple[float, float] | None) -> str:
    if not math.isfinite(x):
        return "n/a"
    if err is None or (isinstance(err, float) and not math.isfinite(err)):
        return f"{x:.4g}"
    if isinstance(err, tuple):
        if err[0] != err[1]:
            return f"{x:.4g} -{err[0]:.2g}/+{err[1]:.2g}"
        err = err[0]
    return f"{x:.4g} +- {err:.2g}"


def table(comparisons: Sequence[Comparison]) -> str:
    """One line per experiment and quantity; then the gaps and a count of agreements."""
    lines = [f"agreement: |simulated - measured| <= {COVERAGE_FACTOR:g} x combined standard uncertainty",
             f"{'experiment':<18} {'quantity':<40} {'measured':>20} {'simulated':>20} {'dev':>6}  agrees"]
    for c in comparisons:
        quantity = c.quantity + (f" [{c.unit}]" if c.unit else "")
        lines.append(f"{c.experiment:<18} {quantity[:40]:<40} {_value(c.measured, c.measured_error):>20} "
                     f"{_value(c.simulated, c.simulated_error):>20} {c.deviation:>6.2f}  "
                     f"{'yes' if c.agrees else 'NO'}")
    gaps = [c for c in comparisons if c.gap]
    if gaps:
        lines.append("model gaps (effects qstack does not model):")
        lines += [f"  {c.experiment}: {c.quantity}: {c.gap}" for c in gaps]
    experiments = dict.fromkeys(c.experiment for c in comparisons)
    agreeing = [e for e in experiments if all(c.agrees for c in comparisons if c.experiment == e)]
    lines.append(f"{len(agreeing)} of {len(experiments)} experiments agree on every quantity"
                 f" ({sum(c.agrees for c in comparisons)} of {len(comparisons)} quantities)")
    return "\n".join(lines)


def plot(comparisons: Sequence[Comparison], out_dir: str | Path) -> list[Path]:
    """Write one figure per experiment and a summary into ``out_dir``; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in dict.fromkeys(c.experiment for c in comparisons):
        rows = [c for c in comparisons if c.experiment == name]
        # one panel per quantity: each on its own scale (a QBER and a CHSH value share no axis)
        fig, axes = plt.subplots(len(rows), 1, figsize=(6.4, 0.4 + 1.1 * len(rows)), squeeze=False)
        for i, (c, ax) in enumerate(zip(rows, axes[:, 0])):
            ax.errorbar([c.measured], [0.15], xerr=[[c.measured_error[0]], [c.measured_error[1]]],
                        fmt="o", color="black", capsize=4, label="measured" if i == 0 else None)
            if math.isfinite(c.simulated):
                err = c.simulated_error if math.isfinite(c.simulated_error) else 0.0
                ax.errorbar([c.simulated], [-0.15], xerr=[err], fmt="s", capsize=4,
                            color="tab:blue" if c.agrees else "tab:red",
                            label="simulated" if i == 0 else None)
            ax.set_yticks([0.0], [c.quantity + (f" [{c.unit}]" if c.unit else "")])
            ax.set_ylim(-0.6, 0.6)
        axes[0, 0].set_title(name)
        axes[0, 0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        fig.tight_layout()
        path = out / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    fig, ax = plt.subplots(figsize=(7.0, 1.2 + 0.45 * len(comparisons)))
    labels = [f"{c.experiment}: {c.quantity}"[:60] for c in comparisons]
    deviations = [c.deviation if math.isfinite(c.deviation) else 0.0 for c in comparisons]
    ax.barh(range(len(comparisons)), deviations, color=["tab:blue" if c.agrees else "tab:red" for c in comparisons])
    ax.axvspan(-COVERAGE_FACTOR, COVERAGE_FACTOR, color="0.9", zorder=0)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(range(len(comparisons)), labels, fontsize="small")
    ax.set_xlabel("(simulated - measured) / combined standard uncertainty")
    ax.set_title(f"qstack against experiments (grey: agreement within {COVERAGE_FACTOR:g} sigma)")
    fig.tight_layout()
    path = out / "summary.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    paths.append(path)
    return paths
