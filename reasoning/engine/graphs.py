"""Strongly connected components, shared by stratification and the closure fast path."""

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def strongly_connected(
    nodes: Iterable[Node], successors: Callable[[Node], Sequence[Node]]
) -> list[list[Node]]:
    """Tarjan's components, each listed after every component it reaches. Iterative: a
    recursive walk would overflow Python's stack on a long chain."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    stack: list[Node] = []
    on_stack: set[Node] = set()
    components: list[list[Node]] = []
    for root in nodes:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, next_edge = work.pop()
            if next_edge == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = successors(node)
            if next_edge < len(targets):
                work.append((node, next_edge + 1))
                target = targets[next_edge]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                components.append(_pop_component(stack, on_stack, node))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _pop_component(stack: list[Node], on_stack: set[Node], node: Node) -> list[Node]:
    component = []
    while True:
        member = stack.pop()
        on_stack.discard(member)
        component.append(member)
        if member == node:
            return component
