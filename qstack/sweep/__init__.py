"""Distributed sweeps: a grid of scenario settings x seeds, run anywhere, saved as it goes.

A sweep takes one scenario, a list of values for each swept key (dotted keys, as
``qstack run --set``) and a list of seeds; its points are the Cartesian product of the values
times the seeds. Every point runs from its own seed, so its report does not depend on where it
ran: in this process (``executor="inprocess"``), on a local process pool (``"process"``, the
default) or on a Dask cluster (``"dask"`` with a scheduler address or a ``distributed.Client``).
Every point is validated with :func:`qstack.scenario.load_scenario` before anything runs.

The package, one module per seam:

* :mod:`qstack.sweep.grid`: the grid (:class:`Sweep`, :class:`SweepPoint`, point ids,
  ``--param`` parsing) and :class:`SweepError`;
* :mod:`qstack.sweep.execute`: one point (:func:`run_point`) and the backends that run many
  (in-process, process pool, Dask), with the worker threading rules;
* :mod:`qstack.sweep.store`: the sweep directory (``results.jsonl``, ``sweep.json``, the lock,
  compaction and resume; :func:`load_results`, :func:`load_sweep`);
* :mod:`qstack.sweep.run`: :func:`run_sweep`, which puts the three together, and :class:`Progress`;
* :mod:`qstack.sweep.analysis`: :func:`metric_value`, :func:`plot_sweep`;
* :mod:`qstack.sweep.table`: the flat table, :func:`to_frame` (pandas) and :func:`write_table`
  (``qstack sweep ... --table FILE.parquet|.csv``).

Running the same sweep again resumes it: points already in ``results.jsonl`` with status
``ok`` are skipped (never recomputed), failed and missing points run. The directory is
refused if it holds a sweep of another scenario or other fixed settings; adding values or
seeds to the grid is fine.

Reading the results::

    import pandas
    frame = pandas.read_json("DIR/results.jsonl", lines=True)   # one row per point
    frame = qstack.sweep.to_frame("DIR")   # flat: "params.<key>", "fidelity.mean", "pos.<key>", ...

or without pandas, :func:`load_results`. :func:`plot_sweep` draws one metric against the
swept values (``qstack sweep ... --plot fidelity.mean``).

The process pool starts workers with the ``spawn`` method, which imports the calling script
again in every worker: a script that calls :func:`run_sweep` with the process pool (or starts
a ``LocalCluster``) must keep its work under ``if __name__ == "__main__":``.
"""

from qstack.sweep.analysis import metric_value, plot_sweep
from qstack.sweep.execute import EXECUTORS, SINGLE_THREAD_ENV, Outcome, run_point
from qstack.sweep.grid import FORMAT, Sweep, SweepError, SweepPoint, parse_param, point_id, scenario_table, split_values
from qstack.sweep.run import Progress, run_sweep
from qstack.sweep.store import RESULTS_FILE, SWEEP_FILE, load_results, load_sweep
from qstack.sweep.table import TABLE_SUFFIXES, flat_row, to_frame, write_table

__all__ = [
    "EXECUTORS",
    "FORMAT",
    "Outcome",
    "Progress",
    "RESULTS_FILE",
    "SINGLE_THREAD_ENV",
    "SWEEP_FILE",
    "Sweep",
    "SweepError",
    "SweepPoint",
    "TABLE_SUFFIXES",
    "flat_row",
    "load_results",
    "load_sweep",
    "metric_value",
    "parse_param",
    "plot_sweep",
    "point_id",
    "run_point",
    "run_sweep",
    "scenario_table",
    "split_values",
    "to_frame",
    "write_table",
]
