"""Placing the logical qubits on nodes: few two-qubit gates across nodes, sizes within capacities."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import networkx as nx

from .logical import LogicalCircuit, interaction_graph


def cut_gates(logical: LogicalCircuit, partition: Mapping[int, str]) -> int:
    """Two-qubit gates whose qubits sit on different nodes (with no qubit moving)."""
    return sum(partition[g.qubits[0]] != partition[g.qubits[1]] for g in logical.two_qubit_gates)


def partition_qubits(
    logical: LogicalCircuit,
    nodes: Sequence[str],
    capacities: Mapping[str, int | None] | None = None,
    seed: int = 0,
) -> dict[int, str]:
    """Place every qubit on one of ``nodes``, few two-qubit gates across nodes, sizes balanced.

    Recursive bisection: the node list is halved (first half, second half), the qubits are split
    in proportion to the halves' capacities (equal shares when some capacity is unbounded,
    ``None``) and the split refined by ``networkx.community.kernighan_lin_bisection`` on the
    interaction graph, which keeps the sizes. Starts from a depth-first order of the graph, so
    that neighbours begin together. Raises ``ValueError`` when the qubits do not fit.
    """
    nodes = list(nodes)
    if not nodes:
        raise ValueError("partition needs at least one node")
    if len(set(nodes)) != len(nodes):
        raise ValueError(f"nodes must be distinct, got {nodes}")
    capacities = dict(capacities or {})
    caps = [capacities.get(n) for n in nodes]
    bounded = all(c is not None for c in caps)
    total = sum(caps) if bounded else math.inf
    if logical.num_qubits > total:
        raise ValueError(f"{logical.num_qubits} qubits do not fit on nodes {nodes} with capacities {caps}")
    graph = interaction_graph(logical)
    bisection = _Bisection(graph, _depth_first_order(graph), capacities, bounded, seed)
    result: dict[int, str] = {}
    bisection.split(bisection.order, nodes, result)
    return dict(sorted(result.items()))


def check_partition(
    logical: LogicalCircuit, partition: Mapping[int, str], capacities: Mapping[str, int | None] | None = None
) -> dict[int, str]:
    """``partition`` checked: every qubit on one node, no node above its capacity."""
    if not isinstance(partition, Mapping):
        raise ValueError(f"partition must map qubit index -> node name (or be 'auto'), got {type(partition).__name__}")
    expected = set(range(logical.num_qubits))
    given = set(partition)
    if given != expected:
        missing, extra = sorted(expected - given), sorted(given - expected)
        raise ValueError(
            f"partition must place each qubit 0..{logical.num_qubits - 1} once (missing {missing}, unknown {extra})"
        )
    capacities = capacities or {}
    load: dict[str, int] = {}
    for node in partition.values():
        load[node] = load.get(node, 0) + 1
    for node, count in load.items():
        cap = capacities.get(node)
        if cap is not None and count > cap:
            raise ValueError(f"partition puts {count} qubits on node {node!r}, whose capacity is {cap}")
    return {q: partition[q] for q in sorted(partition)}


def _depth_first_order(graph: nx.Graph) -> list[int]:
    """The qubits component by component (by lowest qubit), each in depth-first preorder."""
    order: list[int] = []
    for component in sorted(nx.connected_components(graph), key=min):
        order.extend(nx.dfs_preorder_nodes(graph.subgraph(component), source=min(component)))
    return order


@dataclass(frozen=True)
class _Bisection:
    """The recursive bisection of :func:`partition_qubits`."""

    graph: nx.Graph
    order: list[int]
    capacities: Mapping[str, int | None]
    bounded: bool
    seed: int

    def capacity(self, group: list[str]) -> float:
        values = [self.capacities.get(n) for n in group]
        return math.inf if any(v is None for v in values) else float(sum(values))

    def split(self, qubits: list[int], group: list[str], result: dict[int, str]) -> None:
        """Place ``qubits`` on the nodes of ``group`` into ``result``."""
        if len(group) == 1:
            for q in qubits:
                result[q] = group[0]
            return
        left_nodes, right_nodes = group[: len(group) // 2], group[len(group) // 2:]
        size = self._left_size(len(qubits), left_nodes, right_nodes)
        left, right = qubits[:size], qubits[size:]
        if left and right:
            first, second = nx.community.kernighan_lin_bisection(
                self.graph.subgraph(qubits), partition=(set(left), set(right)), weight="weight", seed=self.seed
            )
            if len(first) != size:  # the sides come back in no promised order; sizes are kept
                first, second = second, first
            left, right = sorted(first, key=self.order.index), sorted(second, key=self.order.index)
        self.split(left, left_nodes, result)
        self.split(right, right_nodes, result)

    def _left_size(self, count: int, left_nodes: list[str], right_nodes: list[str]) -> int:
        """Qubits for the left half: its share of the capacity (of the nodes when unbounded),
        within what each half holds."""
        cap_left, cap_right = self.capacity(left_nodes), self.capacity(right_nodes)
        nodes = len(left_nodes) + len(right_nodes)
        share = cap_left / (cap_left + cap_right) if self.bounded else len(left_nodes) / nodes
        size = int(round(count * share))
        return int(min(max(size, count - cap_right, 0), cap_left, count))


__all__ = ["check_partition", "cut_gates", "partition_qubits"]
