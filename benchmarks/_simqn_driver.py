"""One linear chain in SimQN, for ``benchmarks/vs_simqn.py``.

Runs inside SimQN's own virtual environment (it never imports qstack). Usage::

    python _simqn_driver.py '{"nodes": 9, "mode": "shipped", "sim_time_s": 0.2, ...}'

and prints one JSON object: the fidelity of every end-to-end pair the destination received,
simulated, wall and CPU seconds of ``Simulator.run`` (topology build and install excluded), and
SimQN's event count.

The chain is SimQN's own: ``LineTopology`` (nodes ``n1 .. nN``), quantum and classical channels
with the link's fibre delay, memories of unlimited capacity without decoherence, one request from
``n1`` to ``nN`` with ``send_rate`` new distributions per second, and on every node

* ``mode = "shipped"``: SimQN's ``EntanglementDistributionApp`` as shipped. The source makes a
  Werner pair of ``init_fidelity`` and sends one half over the first link; every node on the way
  makes a new Werner pair, sends half of it on, and the previous node swaps (``w = w_1 w_2``).
  A link never fails: the qubit always arrives.
* ``mode = "per_attempt"``: the same application, but each hop's half is sent only after a
  heralded success: attempts every ``attempt_time_s``, each one SimQN event that succeeds with
  probability ``success_probability`` (drawn from SimQN's seeded generator), as qstack's links
  (whose attempts qstack fast-forwards with one geometric draw).

Both keep one Werner parameter per pair, so every delivered pair of an ``N``-node chain has
``F = 1/4 + 3/4 w^(N-1)``, ``w = (4 init_fidelity - 1)/3``.
"""

from __future__ import annotations

import json
import sys
import time

from qns.network.network import QuantumNetwork
from qns.network.protocol.entanglement_distribution import EntanglementDistributionApp
from qns.network.topology import LineTopology
from qns.network.topology.topo import ClassicTopology
from qns.simulator.event import func_to_event
from qns.simulator.simulator import Simulator
from qns.simulator.ts import Time
from qns.utils.rnd import get_rand, set_seed


class PerAttemptDistributionApp(EntanglementDistributionApp):
    """The shipped application with every link attempt simulated: a hop's half is sent on the
    first success of attempts made every ``attempt_time_s`` with ``success_probability`` each."""

    def __init__(self, init_fidelity: float, success_probability: float, attempt_time_s: float):
        super().__init__(init_fidelity=init_fidelity)
        self.success_probability = success_probability
        self.attempt_time_s = attempt_time_s
        self.attempts = 0

    def request_distrbution(self, transmit_id: str):  # SimQN's spelling
        self._schedule_attempt(transmit_id)

    def _schedule_attempt(self, transmit_id: str) -> None:
        t = self._simulator.tc + Time(sec=self.attempt_time_s)
        self._simulator.add_event(func_to_event(t, self._attempt, None, self, transmit_id))

    def _attempt(self, transmit_id: str) -> None:
        self.attempts += 1
        if get_rand() < self.success_probability:
            EntanglementDistributionApp.request_distrbution(self, transmit_id)
        else:
            self._schedule_attempt(transmit_id)


def run(p: dict) -> dict:
    set_seed(p["seed"])
    simulator = Simulator(0, p["sim_time_s"])  # SimQN's default accuracy: 1e6 slots per second
    if p["mode"] == "shipped":
        app = EntanglementDistributionApp(init_fidelity=p["link_fidelity"])
    else:
        app = PerAttemptDistributionApp(p["link_fidelity"], p["success_probability"], p["attempt_time_s"])
    delay_s = p["link_delay_s"]
    topo = LineTopology(nodes_number=p["nodes"], nodes_apps=[app],
                        qchannel_args={"delay": delay_s, "bandwidth": 0},  # 0: unlimited (default 1 qubit/s)
                        cchannel_args={"delay": delay_s, "bandwidth": 0},
                        memory_args={"capacity": 0})
    net = QuantumNetwork(topo=topo, classic_topo=ClassicTopology.Follow)
    net.build_route()
    src, dst = net.get_node("n1"), net.get_node(f"n{p['nodes']}")
    net.add_request(src=src, dest=dst, attr={"send_rate": p["send_rate_hz"]})
    net.install(simulator)
    start, cpu_start = time.perf_counter(), time.process_time()
    simulator.run()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    received = dst.get_apps(type(app))[0].success
    attempts = sum(getattr(node.get_apps(type(app))[0], "attempts", 0) for node in net.nodes)
    return {"fidelities": [float(epr.fidelity) for epr in received], "sim_time_s": p["sim_time_s"],
            "wall_s": wall, "cpu_s": cpu, "events": simulator.total_events, "attempts": attempts}


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
