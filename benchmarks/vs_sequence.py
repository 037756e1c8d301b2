"""qstack and SeQUeNCe side by side: the same repeater chains in both simulators, in one run.

Scenario (matched as far as the two models allow): linear chains of 3, 5, 9, 17 and 33 nodes,
10 km links with the heralding station in the middle (two 5 km arms, 0.2 dB/km, light at
2e8 m/s), Barrett-Kok generation, link-state ("memory") fidelity 0.9, emission efficiency 0.9,
detector efficiency 0.9, no dark counts, coherence time 1 s, 2 memories per link side,
deterministic ideal swaps in the doubling order, one request for end-to-end pairs between the
two end nodes, served for a fixed simulated time. Reported for each chain and simulator:
delivered end-to-end pairs, the mean fidelity to ``|Phi+>`` of the *actual* delivered states,
pairs per simulated second, wall seconds per delivered pair, and the ratio of the wall seconds
per pair (SeQUeNCe / qstack, the "speedup").

How each side runs
------------------
qstack runs in this process: a ``networkx`` chain of :class:`~qstack.physical.NodeHardware`
joined by ``HeraldedLink(scheme="double_click")``, a :class:`~qstack.network.Network` with
nested swapping, one :class:`~qstack.network.Request`, ``sim.env.run(until=T)``. The fidelity of
each pair is measured on its density matrix when it is delivered. An untimed warm-up run of the
same chain first computes the heralding table and compiles the channels (memoised per hardware
for the process, as in ``link_fast_forward.py``); the timed part is ``submit`` + ``run``.

SeQUeNCe runs as a subprocess in its own virtual environment (``benchmarks/.venv-sequence``,
created with Python >= 3.12 and ``pip install sequence==1.3.1`` when missing) through
``benchmarks/_sequence_driver.py``: a ``RouterNetTopo`` configuration with ``QuantumRouter``
nodes, a ``BSMNode`` in the middle of each link (``meet_in_the_middle``), a full mesh of
classical connections with the fibre delay, and an application that calls
``reserve_net_resource`` between the end nodes with a negligible target fidelity (so no
purification). It reads the joint state of the two end memories from SeQUeNCe's quantum manager
once both ends hold their half. The timed part is ``Timeline.run`` (import and topology build
excluded). Both of SeQUeNCe's formalisms that run Barrett-Kok are timed in the same run (the
default ``--sequence-formalism both``): the density-matrix formalism, in which both simulators
hold the exact mixed state, and the ket-vector formalism (SeQUeNCe's default and its fastest
here), in which every delivered state is a Bell state drawn at random, so each pair's fidelity
is 0 or 1 and only their mean estimates the fidelity. A speedup is printed against each.

Differences between the two models, and what they do to the numbers
--------------------------------------------------------------------
1. Link state. SeQUeNCe's ``raw_fidelity`` (``MemoryArray`` ``fidelity``) is not a property of
   the memory: on a successful Barrett-Kok herald the BSM *sets* the pair to a Werner state of
   that fidelity (a random Bell state with those weights in the ket formalism), whatever the
   optics did; the success probability is ``eta^2 / 2`` with
   ``eta = 0.9 * 10^(-0.1) * 0.9 = 0.6433`` (emission, 5 km of fibre, detector): 0.2070.
   qstack computes the heralded state and its probability from the circuits: its only knob for
   state infidelity is ``Emitter.emitted_state_fidelity`` (depolarizing of the spin at each
   emission). "Memory fidelity 0.9" is mapped to the emitter fidelity that makes the mean
   heralded link state exactly 0.9 (computed here, 0.97370). That state is not isotropic: its
   errors are phase-heavy (Bell weights 0.9, 0.0438 Phi-, 0.0281 Psi+, 0.0281 Psi-, against
   0.0333 each for Werner), because a spin flipped by the depolarizing emits zero or two
   photons in the second round (two photons bunch into one detector and still herald), and its
   success probability is 0.2096. After ``k`` links, ideal swaps compose Pauli errors, so
   ``F_k = (1 + a^k + b^k + c^k) / 4`` with ``a, b, c`` the three Pauli eigenvalues of the link
   state (all ``w = (4F - 1)/3`` for Werner). Both predictions are printed: qstack's is higher by
   0.0002, 0.0007, 0.0020, 0.0028, 0.0013 at 3, 5, 9, 17, 33 nodes, and each simulator matches
   its own prediction within its statistical error (density matrices, no dephasing; qstack's
   four heralding outcomes differ slightly, so its per-pair fidelities spread by ~1e-4). That
   deterministic difference is the only difference in fidelity; the table checks the measured
   difference against it.
2. Coherence time. In SeQUeNCe's ket-vector and density-matrix formalisms (the ones its
   Barrett-Kok generation supports) ``coherence_time`` does not decay the state at all: a
   memory *expires* (is reset) ``cutoff_ratio * coherence_time`` = 1 s after its generation
   attempt began; only the Bell-diagonal formalism decays fidelity, and that formalism cannot
   run Barrett-Kok. So qstack runs with ``T1 = T2 = inf`` and a 1 s cut-off. Pairs are stored
   for milliseconds here, so the cut-off never fires in either simulator. ``--t2-dephasing``
   gives qstack's memories ``T2 = 1 s`` (what a 1 s coherence time physically means), which
   lowers qstack's fidelities slightly and makes them vary from pair to pair; SeQUeNCe has no
   counterpart.
3. Attempt timing (the rates differ by design). qstack's Barrett-Kok attempt is both emission
   rounds back to back (2 x 12.5 ns, the excitation period of SeQUeNCe's default 80 MHz memory
   frequency) plus the photon flight to the station and the herald back (2 x 25 us): 50.0 us.
   SeQUeNCe negotiates every round: NEGOTIATE to the neighbour (50 us), emission one more
   classical delay later (the ACK, 50 us), photon flight (25 us) and the result back (25 us),
   so the second round's emission follows the first's by 150 us; an attempt that fails is
   noticed at the start of the next round, and the resource manager's rules then start a new
   protocol that must pair with the neighbour's again. Measured on one memory of the 3-node
   chain: 200 us between attempts that fail in the first round, 319 us on average. Its pairs
   per simulated second are therefore several times lower on short chains.
4. Two memories per link side. SeQUeNCe runs an independent generation protocol on each memory
   pair and pipelines: a link may already hold entanglement for the next end-to-end pair while
   the previous one is being swapped. qstack uses the two memories as two multiplexed modes of
   every attempt (success ``1 - (1 - p)^2``) and serves a request one end-to-end pair at a time.
   This is why SeQUeNCe's rate falls more slowly with the chain length than qstack's.
5. Swapping. Both perform ideal Bell measurements with Pauli corrections, in the doubling
   (nested) order, which for 2^n + 1 nodes is the same in both; SeQUeNCe's *reported* fidelity
   (``f1 * f2 * 0.95`` per swap, printed as "reported") is bookkeeping, not the state: it
   falls to 0.0070 at 33 nodes where the actual state has 0.2577.
6. Delivery. qstack delivers a pair when the swap results have reached both ends; SeQUeNCe's
   two ends each receive their half when their own results arrive, and the driver's
   application holds the first half until the second end has its half (the Pauli frame of the
   pair is complete only then; releasing a memory in SeQUeNCe resets its state).
7. Start. SeQUeNCe first sends the reservation hop by hop to the far end and back; its window
   of ``--sim-time`` seconds begins after that (at most 3.2 ms of simulated time on 33 nodes).
   qstack starts generating at t = 0.
8. Detectors: no dark counts in both. Two photons at the station bunch into one detector in
   qstack (Hong-Ou-Mandel) and are detected independently in SeQUeNCe. In SeQUeNCe two photons
   only arrive in a first round that started from ``|11>``, whose second round then emits
   nothing and fails, so it changes nothing there; in qstack they also arrive in second rounds
   after a depolarized spin, which item 1 accounts for.

qstack's engine path here
-------------------------
qstack's state engine holds a Bell-diagonal pair as four Bell weights and swaps such pairs
exactly by a small linear map (its Bell-diagonal fast path). It does not apply in this scenario:
the heralded link state is not Bell-diagonal. Its ``|01>`` and ``|10>`` populations differ
(0.0394 and 0.0168: after a depolarized spin the two orders of the photons are not equally
likely to herald), which is a coherence of 0.0113 between Psi+ and Psi- in the Bell basis. So
qstack runs on full 4x4 and 16x16 density matrices here, as a general state needs; the time per
pair is Python and SimPy bookkeeping plus a few small matrix-vector products per swap
(``benchmarks/chain_scaling.py`` reports it against the numpy floor). With ``T1 = inf`` the
idle noise would be pure dephasing, which keeps Bell-diagonal pairs Bell-diagonal.

Usage::

    python benchmarks/vs_sequence.py [--nodes 3,5,9,17,33] [--sim-time 0.2] [--seed 1] [--json]
        [--repeats 3] [--t2-dephasing] [--sequence-formalism both|density_matrix|ket_vector]
        [--sequence-python PATH] [--no-install] [--sequence-timeout 600]

Exit status: 0; 2 on bad options; 3 when SeQUeNCe could not be installed or run (the qstack
results are printed all the same, and the reason is stated).
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

# Small-matrix work is slower with BLAS threads competing for two cores (DESIGN.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

from qstack.engine import Simulation  # noqa: E402
from qstack.hardware import Detector, Emitter, Fiber, Memory  # noqa: E402
from qstack.metrics import bell_fidelity  # noqa: E402
from qstack.network import Network, Request  # noqa: E402
from qstack.physical import HeraldedLink, NodeHardware  # noqa: E402

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-sequence"
DRIVER = HERE / "_sequence_driver.py"
SEQUENCE_REQUIREMENT = "sequence==1.3.1"
SEQUENCE_FALLBACK_REQUIREMENT = "sequence==0.8.5"  # the last release that installs on Python 3.11
SEQUENCE_MIN_PYTHON = (3, 12)
SPEED_OF_LIGHT_M_PER_S = 299_792_458.0
DEFAULT_NODES = (3, 5, 9, 17, 33)
# SeQUeNCe's formalisms that run Barrett-Kok generation, with their short labels in the table.
FORMALISM_LABELS = {"density_matrix": "dm", "ket_vector": "ket"}
# Bell states in the order (Phi+, Phi-, Psi+, Psi-) = Pauli error (I, Z, X, Y) on one qubit.
_S = math.sqrt(0.5)
BELL_STATES = np.array([[_S, 0, 0, _S], [_S, 0, 0, -_S], [0, _S, _S, 0], [0, _S, -_S, 0]])


@dataclass(frozen=True)
class Scenario:
    """The physics both simulators are given."""

    link_km: float = 10.0
    attenuation_db_per_km: float = 0.2
    fiber_speed_m_per_s: float = 2e8  # SeQUeNCe's SPEED_OF_LIGHT (2e-4 m/ps)
    memory_fidelity: float = 0.9
    emission_efficiency: float = 0.9
    coherence_time_s: float = 1.0
    detector_efficiency: float = 0.9
    memories_per_link_side: int = 2
    memory_frequency_hz: float = 80e6  # SeQUeNCe's default excitation rate of a memory

    @property
    def emission_time_s(self) -> float:
        """qstack's duration of one emission round: the memory's excitation period [s]."""
        return 1.0 / self.memory_frequency_hz


@dataclass(frozen=True)
class RunSample:
    """One timed run of one simulator."""

    fidelities: tuple[float, ...]
    sim_time_s: float
    wall_s: float
    cpu_s: float
    reported_fidelity: float | None = None  # SeQUeNCe's own bookkeeping number (mean over pairs)


@dataclass(frozen=True)
class SimResult:
    """One simulator on one chain, over ``runs`` runs (seeds ``seed .. seed + runs - 1``).

    ``pairs`` and ``sim_time_s`` are totals over the runs; ``fidelity`` is the mean over all
    delivered pairs; ``wall_s_per_pair`` and ``cpu_s_per_pair`` are medians over the runs (robust
    to load from other processes on a shared machine).
    """

    pairs: int
    fidelity: float | None
    fidelity_stderr: float | None
    predicted_fidelity: float
    rate_hz: float
    wall_s_per_pair: float | None
    cpu_s_per_pair: float | None
    sim_time_s: float
    wall_s: float
    runs: int
    reported_fidelity: float | None = None

    @classmethod
    def from_runs(cls, samples: list[RunSample], predicted: float) -> "SimResult":
        fidelities = np.array([f for sample in samples for f in sample.fidelities])
        pairs = len(fidelities)
        sim_time = sum(sample.sim_time_s for sample in samples)
        per_pair = [(sample.wall_s / len(sample.fidelities), sample.cpu_s / len(sample.fidelities))
                    for sample in samples if sample.fidelities]
        reported = [sample.reported_fidelity for sample in samples if sample.reported_fidelity is not None]
        return cls(
            pairs=pairs,
            fidelity=float(fidelities.mean()) if pairs else None,
            fidelity_stderr=float(fidelities.std(ddof=1) / math.sqrt(pairs)) if pairs > 1 else None,
            predicted_fidelity=predicted,
            rate_hz=pairs / sim_time,
            wall_s_per_pair=statistics.median(w for w, _ in per_pair) if per_pair else None,
            cpu_s_per_pair=statistics.median(c for _, c in per_pair) if per_pair else None,
            sim_time_s=sim_time,
            wall_s=sum(sample.wall_s for sample in samples),
            runs=len(samples),
            reported_fidelity=float(np.mean(reported)) if reported else None,
        )


@dataclass(frozen=True)
class Comparison:
    """Both simulators on one chain length: SeQUeNCe once per formalism (``sequence`` and
    ``speedup`` map each formalism run to its result and to the ratio of the wall seconds per
    pair, SeQUeNCe / qstack)."""

    nodes: int
    qstack: SimResult
    sequence: dict[str, SimResult]
    speedup: dict[str, float]
    sequence_error: str | None = None
    sequence_version: str | None = None


# ------------------------------------------------------------------------------------ qstack
def _half_link(scenario: Scenario) -> Fiber:
    return Fiber(scenario.link_km / 2, scenario.attenuation_db_per_km,
                 refractive_index=SPEED_OF_LIGHT_M_PER_S / scenario.fiber_speed_m_per_s)


def _node(scenario: Scenario, emitted_state_fidelity: float, links: int, t2_s: float) -> NodeHardware:
    memory = Memory(t1_s=math.inf, t2_s=t2_s, capacity=scenario.memories_per_link_side * links)
    emitter = Emitter(emission_time_s=scenario.emission_time_s, emission_probability=scenario.emission_efficiency,
                      emitted_state_fidelity=emitted_state_fidelity)
    return NodeHardware(memory=memory, emitter=emitter)


def _link(scenario: Scenario, a: NodeHardware, b: NodeHardware, multiplexing: int = 1) -> HeraldedLink:
    half = _half_link(scenario)
    return HeraldedLink(a, b, half, half, Detector(efficiency=scenario.detector_efficiency, dark_count_probability=0.0),
                        scheme="double_click", multiplexing=multiplexing)


def mean_link_state(link: HeraldedLink) -> np.ndarray:
    """Heralded two-qubit state of one mode, averaged over the heralding outcomes."""
    return sum(h.probability * h.rho for h in link.heralded_states) / link.success_probability_per_mode


def link_fidelity(scenario: Scenario, emitted_state_fidelity: float) -> float:
    """Mean fidelity of qstack's heralded link state for this emitter fidelity."""
    node = _node(scenario, emitted_state_fidelity, 1, math.inf)
    return bell_fidelity(mean_link_state(_link(scenario, node, node)))


def emitter_fidelity_for(scenario: Scenario, tolerance: float = 1e-10) -> float:
    """``Emitter.emitted_state_fidelity`` whose heralded Barrett-Kok state has ``memory_fidelity``.

    Secant iteration from the guess that the four spin depolarizings (two nodes, two rounds)
    multiply the Werner parameter: ``w_link = w_emitter^4``.
    """
    target = scenario.memory_fidelity
    w_link = (4 * target - 1) / 3
    x0 = (3 * w_link ** 0.25 + 1) / 4
    x1 = min(1.0, x0 + 1e-3)
    f0, f1 = link_fidelity(scenario, x0) - target, link_fidelity(scenario, x1) - target
    for _ in range(30):
        if abs(f1) < tolerance or f1 == f0:
            return x1
        x0, x1 = x1, min(1.0, max(0.25, x1 - f1 * (x1 - x0) / (f1 - f0)))
        f0, f1 = f1, link_fidelity(scenario, x1) - target
    raise RuntimeError(f"no emitter fidelity gives a link fidelity of {target} (last {x1}, off by {f1:.2g})")


def swapped_fidelity(link_rho: np.ndarray, links: int) -> float:
    """Fidelity after ideal swapping of ``links`` copies of a link state: ``(1 + a^k + b^k + c^k)/4``.

    Ideal swaps with Pauli corrections compose the links' Pauli errors (weights ``p_I, p_Z, p_X,
    p_Y`` from the Bell-state populations); ``a, b, c`` are the characters of the Klein group on
    that distribution.
    """
    p_i, p_z, p_x, p_y = (float(np.real(b @ link_rho @ b)) for b in BELL_STATES)
    a = p_i + p_z - p_x - p_y
    b = p_i - p_z + p_x - p_y
    c = p_i - p_z - p_x + p_y
    return (1 + a**links + b**links + c**links) / 4


def werner_chain_fidelity(fidelity: float, links: int) -> float:
    """``1/4 + 3/4 w^k``, ``w = (4F - 1)/3``: SeQUeNCe's Werner links after ideal swaps."""
    return 0.25 + 0.75 * ((4 * fidelity - 1) / 3) ** links


def build_qstack_chain(nodes: int, scenario: Scenario, emitted_state_fidelity: float, seed: int, t2_s: float):
    """A chain of ``nodes`` nodes; returns ``(sim, network, names)``."""
    names = [f"r{i}" for i in range(nodes)]
    graph = nx.Graph()
    for i, name in enumerate(names):
        graph.add_node(name, hardware=_node(scenario, emitted_state_fidelity, (i > 0) + (i < nodes - 1), t2_s))
    for a, b in zip(names, names[1:]):
        link = _link(scenario, graph.nodes[a]["hardware"], graph.nodes[b]["hardware"],
                     multiplexing=scenario.memories_per_link_side)
        graph.add_edge(a, b, link=link)
    sim = Simulation(seed)
    network = Network(sim, graph, cutoff_s=scenario.coherence_time_s, swapping="nested")
    return sim, network, names


def warm_up_qstack(nodes: int, scenario: Scenario, emitted_state_fidelity: float, t2_s: float) -> None:
    """Untimed: the heralding table and the compiled channels are memoised per hardware."""
    sim, network, names = build_qstack_chain(nodes, scenario, emitted_state_fidelity, 0, t2_s)
    network.submit(Request(names[0], names[-1], pairs=10**12))
    sim.env.run(until=0.01)


def qstack_prediction(nodes: int, scenario: Scenario, emitted_state_fidelity: float) -> float:
    node = _node(scenario, emitted_state_fidelity, 1, math.inf)
    return swapped_fidelity(mean_link_state(_link(scenario, node, node)), nodes - 1)


def run_qstack(nodes: int, sim_time_s: float, scenario: Scenario, emitted_state_fidelity: float, seed: int,
               t2_s: float) -> RunSample:
    """Serve one end-to-end request for ``sim_time_s`` simulated seconds and time it."""
    sim, network, names = build_qstack_chain(nodes, scenario, emitted_state_fidelity, seed, t2_s)
    start, cpu_start = time.perf_counter(), time.process_time()
    network.submit(Request(names[0], names[-1], pairs=10**12))
    sim.env.run(until=sim_time_s)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return RunSample(tuple(r.fidelity for r in network.stats[0].records), sim_time_s, wall, cpu)


# ---------------------------------------------------------------------------------- SeQUeNCe
class SequenceUnavailable(RuntimeError):
    """SeQUeNCe could not be installed or run; the message says why."""


def _python_version(executable: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run([executable, "-c", "import sys; print(*sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def find_python(explicit: str | None) -> tuple[str, str]:
    """An interpreter for SeQUeNCe's environment and the release to install with it.

    SeQUeNCe 1.3.1 needs Python >= 3.12: the explicit one, this one, PATH, pyenv's versions.
    Without one, 0.8.5 (the last release for 3.11) on this interpreter.
    """
    if explicit:
        version = _python_version(explicit)
        if version is None:
            raise SequenceUnavailable(f"--sequence-python {explicit} is not a working Python")
        return explicit, SEQUENCE_REQUIREMENT if version >= SEQUENCE_MIN_PYTHON else SEQUENCE_FALLBACK_REQUIREMENT
    candidates = [sys.executable, "python3.13", "python3.12"]
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.1[2-9]*", "bin", "python")), reverse=True)
    candidates += ["/usr/bin/python3.13", "/usr/bin/python3.12", "/usr/local/bin/python3.12"]
    tried = []
    for candidate in candidates:
        version = _python_version(candidate)
        tried.append(f"{candidate}: {'.'.join(map(str, version)) if version else 'not runnable'}")
        if version is not None and version >= SEQUENCE_MIN_PYTHON:
            return candidate, SEQUENCE_REQUIREMENT
    print(f"no Python >= 3.12 for {SEQUENCE_REQUIREMENT} ({'; '.join(tried)}); falling back to "
          f"{SEQUENCE_FALLBACK_REQUIREMENT} on {sys.executable}", file=sys.stderr)
    return sys.executable, SEQUENCE_FALLBACK_REQUIREMENT


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def installed_sequence_version(venv: Path) -> str | None:
    python = _venv_python(venv)
    if not python.exists():
        return None
    out = subprocess.run([str(python), "-c", "import importlib.metadata as m, sequence; print(m.version('sequence'))"],
                         capture_output=True, text=True, timeout=120)
    return out.stdout.strip() if out.returncode == 0 else None


def ensure_sequence(venv: Path, python: str | None, install: bool) -> tuple[Path, str]:
    """The venv's interpreter with SeQUeNCe importable and SeQUeNCe's version, installing if allowed."""
    version = installed_sequence_version(venv)
    if version:
        return _venv_python(venv), version
    if not install:
        raise SequenceUnavailable(f"SeQUeNCe is not installed in {venv} and --no-install was given")
    interpreter, requirement = find_python(python)
    print(f"installing {requirement} into {venv} (Python {interpreter}) ...", file=sys.stderr, flush=True)
    steps = [[interpreter, "-m", "venv", str(venv)],
             [str(_venv_python(venv)), "-m", "pip", "install", "--quiet", requirement]]
    for step in steps:
        try:
            out = subprocess.run(step, capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SequenceUnavailable(f"`{' '.join(step)}` failed: {error}") from None
        if out.returncode != 0:
            lines = [line for line in (out.stdout + out.stderr).strip().splitlines() if "is ignored" not in line]
            raise SequenceUnavailable(f"`{' '.join(step)}` exited with {out.returncode}:\n" + "\n".join(lines[-8:]))
    version = installed_sequence_version(venv)
    if not version:
        raise SequenceUnavailable(f"{requirement} was installed into {venv} but `import sequence` fails there")
    return _venv_python(venv), version



def run_driver(python: Path, driver: Path, params: dict, timeout_s: float) -> subprocess.CompletedProcess:
    """Run a peer simulator's driver script with ``params`` (JSON) in its own interpreter: one
    BLAS thread (as qstack here), no user site packages, no inherited PYTHONPATH. Raises
    ``subprocess.TimeoutExpired`` past ``timeout_s``; vs_simqn.py uses it too."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(python), str(driver), json.dumps(params)], capture_output=True, text=True,
                          timeout=timeout_s, env=env)

def run_sequence(python: Path, nodes: int, sim_time_s: float, scenario: Scenario, seed: int, formalism: str,
                 timeout_s: float) -> RunSample:
    """One chain in SeQUeNCe through the driver, in its virtual environment."""
    params = {**asdict(scenario), "nodes": nodes, "sim_time_s": sim_time_s, "seed": seed, "formalism": formalism,
              "target_fidelity": 1e-9}
    try:
        out = run_driver(python, DRIVER, params, timeout_s)
    except subprocess.TimeoutExpired:
        raise SequenceUnavailable(f"SeQUeNCe run of {nodes} nodes exceeded --sequence-timeout {timeout_s:g} s") from None
    if out.returncode != 0:
        tail = "\n".join(out.stderr.strip().splitlines()[-8:])
        raise SequenceUnavailable(f"SeQUeNCe driver failed on {nodes} nodes (exit {out.returncode}):\n{tail}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    if not data["reservation_approved"]:
        raise SequenceUnavailable(f"SeQUeNCe rejected the reservation on {nodes} nodes")
    return RunSample(tuple(data["fidelities"]), data["sim_time_s"], data["wall_s"], data["cpu_s"],
                     data["reported_fidelity"])


# ---------------------------------------------------------------------------------- output
def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _fidelity_text(result: SimResult) -> str:
    if result.fidelity is None:
        return "-"
    if result.fidelity_stderr is None:
        return f"{result.fidelity:.4f}"
    return f"{result.fidelity:.4f}±{result.fidelity_stderr:.4f}"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    return f"{numerator / denominator:.0f}x" if numerator and denominator else "-"


def print_table(rows: list[Comparison], args, emitted_state_fidelity: float) -> None:
    scenario = Scenario()
    print(f"chains of {scenario.link_km:g} km links (station in the middle, {scenario.attenuation_db_per_km} dB/km), "
          f"Barrett-Kok, link fidelity {scenario.memory_fidelity}, emission eff. {scenario.emission_efficiency}, "
          f"detector eff. {scenario.detector_efficiency}, coherence {scenario.coherence_time_s:g} s, "
          f"{scenario.memories_per_link_side} memories per link side; {args.repeats} run(s) of {args.sim_time:g} "
          f"simulated s per simulator and chain, seeds {args.seed}..{args.seed + args.repeats - 1}")
    print(f"qstack: emitted_state_fidelity {emitted_state_fidelity:.5f} (link state F = {scenario.memory_fidelity}), "
          f"T2 {'= %g s' % scenario.coherence_time_s if args.t2_dephasing else '= inf'}, cut-off "
          f"{scenario.coherence_time_s:g} s; SeQUeNCe: "
          + (f"{args.sequence_version}, formalisms {', '.join(args.formalisms)}" if args.sequence_version else "unavailable"))
    header = (f"{'nodes':>5} {'simulator':<13} {'pairs':>6} {'fidelity (state)':>16} {'predicted':>9} {'reported':>8} "
              f"{'rate [Hz]':>9} {'wall/pair [ms]':>14} {'cpu/pair [ms]':>13} {'speedup':>8} {'cpu x':>6}")
    print(header)
    print("-" * len(header))
    for row in rows:
        q = row.qstack
        print(f"{row.nodes:>5} {'qstack':<13} {q.pairs:>6} {_fidelity_text(q):>16} {q.predicted_fidelity:>9.4f} "
              f"{'':>8} {q.rate_hz:>9.1f} {_ms(q.wall_s_per_pair):>14} {_ms(q.cpu_s_per_pair):>13}")
        if not row.sequence:
            print(f"{'':>5} {'SeQUeNCe':<13} unavailable: {row.sequence_error.splitlines()[0]}")
            continue
        for formalism, s in row.sequence.items():
            label = "SeQUeNCe " + FORMALISM_LABELS[formalism]
            print(f"{'':>5} {label:<13} {s.pairs:>6} {_fidelity_text(s):>16} {s.predicted_fidelity:>9.4f} "
                  f"{_fmt(s.reported_fidelity, '.4f'):>8} {s.rate_hz:>9.1f} {_ms(s.wall_s_per_pair):>14} "
                  f"{_ms(s.cpu_s_per_pair):>13} {_ratio(s.wall_s_per_pair, q.wall_s_per_pair):>8} "
                  f"{_ratio(s.cpu_s_per_pair, q.cpu_s_per_pair):>6}")
    print("pairs: delivered over all runs; fidelity (state): mean <Phi+|rho|Phi+> of the delivered states ± standard "
          "error;\npredicted: closed form for each model's link state (docstring, item 1); reported: SeQUeNCe's own "
          "bookkeeping number;\nwall/pair, cpu/pair: medians over the runs (qstack: submit + run after a warm-up; "
          "SeQUeNCe: Timeline.run);\nspeedup, cpu x: SeQUeNCe per pair / qstack per pair, wall and CPU time "
          "(SeQUeNCe dm: density matrix, ket: ket vector).")
    for row in rows:
        for formalism, s in row.sequence.items():
            _print_agreement(row, formalism, s, args)


def _print_agreement(row: Comparison, formalism: str, s: SimResult, args) -> None:
    """Whether the measured fidelity difference is the models' (docstring, item 1) within 3 sigma."""
    q = row.qstack
    if s.fidelity is None or q.fidelity is None:
        return
    model = q.predicted_fidelity - s.predicted_fidelity
    sigma = math.hypot(q.fidelity_stderr or 0.0, s.fidelity_stderr or 0.0)
    residual = (q.fidelity - s.fidelity) - model
    verdict = "agree" if abs(residual) <= max(3 * sigma, 1e-6) else "DIFFER"
    if args.t2_dephasing:
        verdict += " (qstack dephases with T2, SeQUeNCe does not: lower qstack fidelity expected)"
    print(f"{row.nodes:>3} nodes, {FORMALISM_LABELS[formalism]:>3}: F(qstack) - F(SeQUeNCe) = "
          f"{q.fidelity - s.fidelity:+.5f}; model difference {model:+.5f}; residual {residual:+.5f} vs 3 sigma {3 * sigma:.5f}: {verdict}")


def _nodes(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--nodes must be comma-separated integers, got {text!r}") from None
    if not values or any(v < 3 for v in values):
        raise argparse.ArgumentTypeError(f"--nodes needs chain lengths >= 3, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=_nodes, default=list(DEFAULT_NODES),
                        help="comma-separated chain lengths (default 3,5,9,17,33)")
    parser.add_argument("--sim-time", type=float, default=0.2, help="simulated seconds per run (default 0.2)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first run (default 1)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per simulator and chain, seeds seed, seed+1, ... (default 3)")
    parser.add_argument("--json", action="store_true", help="one JSON object per chain length instead of a table")
    parser.add_argument("--t2-dephasing", action="store_true",
                        help="give qstack's memories T2 = coherence time (SeQUeNCe has no such decay)")
    parser.add_argument("--sequence-formalism", choices=("both", *FORMALISM_LABELS), default="both",
                        help="SeQUeNCe formalism(s) to time (default both, interleaved with qstack)")
    parser.add_argument("--sequence-python", help="Python >= 3.12 for SeQUeNCe's virtual environment")
    parser.add_argument("--sequence-venv", type=Path, default=VENV, help=f"default {VENV}")
    parser.add_argument("--no-install", action="store_true", help="never install SeQUeNCe")
    parser.add_argument("--sequence-timeout", type=float, default=600.0, help="seconds per SeQUeNCe run (default 600)")
    args = parser.parse_args(argv)
    if not args.sim_time > 0:
        parser.error("--sim-time must be > 0")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")

    scenario = Scenario()
    emitted_state_fidelity = emitter_fidelity_for(scenario)
    t2_s = scenario.coherence_time_s if args.t2_dephasing else math.inf
    sequence_error = None
    python = None
    try:
        python, args.sequence_version = ensure_sequence(args.sequence_venv, args.sequence_python, not args.no_install)
    except SequenceUnavailable as error:
        sequence_error = str(error)
        args.sequence_version = None
        print(f"SeQUeNCe unavailable, running qstack only: {sequence_error}", file=sys.stderr)
    args.formalisms = tuple(FORMALISM_LABELS) if args.sequence_formalism == "both" else (args.sequence_formalism,)
    if args.sequence_version and args.sequence_version.startswith("0.") and "density_matrix" in args.formalisms:
        # 0.8's Barrett-Kok BSM fails on repeater chains in the density-matrix formalism (measured
        # qubits stay in the joint state and it raises "Unknown state").
        print(f"SeQUeNCe {args.sequence_version}: using the ket_vector formalism only (its density-matrix "
              "Barrett-Kok fails on chains); each pair's fidelity is then 0 or 1", file=sys.stderr)
        args.formalisms = ("ket_vector",)

    rows = []
    for nodes in args.nodes:
        warm_up_qstack(nodes, scenario, emitted_state_fidelity, t2_s)
        q_runs, error = [], sequence_error
        s_runs = {formalism: [] for formalism in args.formalisms}
        # Repeats alternate the simulators (qstack, then each formalism) so that load from other
        # processes hits all of them alike.
        for repeat in range(args.repeats):
            seed = args.seed + repeat
            print(f"{nodes} nodes, run {repeat + 1}/{args.repeats}: qstack ...", file=sys.stderr, flush=True)
            q_runs.append(run_qstack(nodes, args.sim_time, scenario, emitted_state_fidelity, seed, t2_s))
            for formalism in args.formalisms:
                if python is None or error is not None:
                    break
                print(f"{nodes} nodes, run {repeat + 1}/{args.repeats}: SeQUeNCe {formalism} ...", file=sys.stderr,
                      flush=True)
                try:
                    s_runs[formalism].append(run_sequence(python, nodes, args.sim_time, scenario, seed, formalism,
                                                          args.sequence_timeout))
                except SequenceUnavailable as failure:
                    error = str(failure)
                    print(f"SeQUeNCe failed: {error}", file=sys.stderr)
        q = SimResult.from_runs(q_runs, qstack_prediction(nodes, scenario, emitted_state_fidelity))
        sequence = {} if error is not None else {
            formalism: SimResult.from_runs(runs, werner_chain_fidelity(scenario.memory_fidelity, nodes - 1))
            for formalism, runs in s_runs.items() if runs}
        speedup = {formalism: s.wall_s_per_pair / q.wall_s_per_pair for formalism, s in sequence.items()
                   if s.wall_s_per_pair and q.wall_s_per_pair}
        row = Comparison(nodes, q, sequence, speedup, None if sequence else error, args.sequence_version)
        rows.append(row)
        if args.json:
            print(json.dumps(asdict(row)), flush=True)

    if not args.json:
        print_table(rows, args, emitted_state_fidelity)
    if any(not row.sequence for row in rows):
        print("SeQUeNCe results are missing: " + (rows[0].sequence_error or "see above").splitlines()[0],
              file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
