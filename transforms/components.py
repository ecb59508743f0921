"""Connected components of a graph given as edges, in Beam, without pulling the graph onto one worker.

The alternating Large-Star / Small-Star algorithm (Kiveris, Lattanzi, Mirrokni, Rastogi and
Vassilvitskii, "Connected Components in MapReduce and Beyond", SoCC 2014): each step groups the
edges by node, and after O(log^2 n) alternations (in practice a handful) every component is a star
whose centre is its smallest node. Nodes are plain strings; the label of a component is its
smallest node, so the result does not depend on the runner, the bundles or the number of workers.

The pipeline is a DAG, so the number of alternations is fixed (``rounds``). If a component has not
become a star by then (a very long chain), the labels read off it split it into parts instead of
joining anything that is not connected: precision never suffers. Every input edge is then checked:
an edge whose two ends got different labels is counted
(``Metrics.counter(namespace, 'components_split_edges')``) and logged, so a split never goes unseen.
"""
from __future__ import annotations

import logging
from typing import Iterable, Iterator

import apache_beam as beam
from apache_beam.metrics import Metrics

LOG = logging.getLogger("newsbeam.components")

Edge = tuple[str, str]


def _both_ways(edge: Edge) -> list[Edge]:
    u, v = edge
    return [(u, v), (v, u)] if u != v else []


def large_star(node_neighbours: tuple[str, Iterable[str]]) -> Iterator[Edge]:
    """Connect every larger neighbour of ``u`` to the smallest node of u's neighbourhood."""
    u, neighbours = node_neighbours
    seen = set(neighbours)
    smallest = min(seen | {u})
    for v in sorted(seen):
        if v > u:
            yield v, smallest


def small_star(node_smaller: tuple[str, Iterable[str]]) -> Iterator[Edge]:
    """Connect ``u`` and its smaller neighbours to the smallest of them."""
    u, smaller = node_smaller
    group = set(smaller) | {u}
    smallest = min(group)
    for v in sorted(group):
        if v != smallest:
            yield v, smallest


def _larger_first(edge: Edge) -> Edge:
    u, v = edge
    return (u, v) if u > v else (v, u)


def components_of(edges: Iterable[Edge]) -> dict[str, str]:
    """Reference answer on one machine (union-find): node -> smallest node of its component."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v in edges:
        ru, rv = root(u), root(v)
        if ru != rv:
            parent[max(ru, rv)] = min(ru, rv)
    return {node: root(node) for node in parent}


class _CheckEdges(beam.PTransform):
    """(second node, label of the first) against the label of the second: counts split edges."""

    def __init__(self, labels, namespace: str):
        super().__init__()
        self._labels, self._namespace = labels, namespace

    def expand(self, firsts):
        namespace = self._namespace

        def check(key_group):
            _, group = key_group
            for label in group["label"]:
                for other in group["first"]:
                    if other != label:
                        Metrics.counter(namespace, "components_split_edges").inc()
                        LOG.warning("connected components did not converge: an edge joins labels %s and %s; "
                                    "its component is reported in parts (raise the number of rounds)", other, label)
            return []

        return ({"first": firsts, "label": self._labels}
                | "Join Second Label" >> beam.CoGroupByKey()
                | "Count Split Edges" >> beam.FlatMap(check))


class ConnectedComponents(beam.PTransform):
    """PCollection of (u, v) edges -> PCollection of (node, label) for every node of an edge, where
    the label is the smallest node of its component."""

    def __init__(self, rounds: int = 8, namespace: str = "components"):
        super().__init__()
        if rounds < 1:
            raise ValueError("rounds must be at least 1")
        self._rounds = rounds
        self._namespace = namespace

    def expand(self, edges):
        current = edges | "Drop Self Loops" >> beam.Filter(lambda e: e[0] != e[1])
        for i in range(1, self._rounds + 1):
            current = (
                current
                | f"Large Star {i} Both Ways" >> beam.FlatMap(_both_ways)
                | f"Large Star {i} Group" >> beam.GroupByKey()
                | f"Large Star {i}" >> beam.FlatMap(large_star)
                | f"Small Star {i} Orient" >> beam.Map(_larger_first)
                | f"Small Star {i} Group" >> beam.GroupByKey()
                | f"Small Star {i}" >> beam.FlatMap(small_star)
            )
        namespace = self._namespace

        def label(node_smaller):
            node, smaller = node_smaller
            return node, min(smaller)

        labelled = (current
                    | "Orient Final Edges" >> beam.Map(_larger_first)
                    | "Group Final Edges" >> beam.GroupByKey()
                    | "Label Leaves" >> beam.Map(label))
        centres = (labelled
                   | "Centres" >> beam.Map(lambda nl: (nl[1], nl[1]))
                   | "One Per Centre" >> beam.Distinct())
        # A centre that is itself a leaf of another star has not converged: follow it one step.
        labels = ((labelled, centres) | "All Labels" >> beam.Flatten()
                  | "Group Labels" >> beam.GroupByKey()
                  | "Smallest Label" >> beam.MapTuple(lambda node, labels: (node, min(labels))))
        _ = (
            {"edge": edges | "Edges By First" >> beam.Filter(lambda e: e[0] != e[1]), "label": labels}
            | "Join First Label" >> beam.CoGroupByKey()
            | "Label Of First" >> beam.FlatMap(
                lambda kg: [(v, label) for label in kg[1]["label"] for v in kg[1]["edge"]])
            | "Check Edges" >> _CheckEdges(labels, namespace)
        )
        return labels
