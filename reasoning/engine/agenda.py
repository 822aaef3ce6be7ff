"""The agenda: matched productions waiting to fire, in the order a conflict strategy sets.

A strategy maps an activation to a key; the activation with the largest key fires first, and
equal keys fire in the order they were added. Refraction: a production fires at most once per
distinct match (its name and bindings) for the life of the agenda, even if the match
disappears and comes back.

Pending activations sit in a heap ordered by key. remove() only forgets the activation and
leaves its heap entry behind, to be skipped by pop() or swept when such entries outnumber the
live ones, so add, remove and pop all stay logarithmic.
"""

import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .syntax import Aggregate, Atom, Constant, Literal, Negation, Production, Value

Bindings = tuple[tuple[str, Value], ...]
MatchKey = tuple[str, Bindings]

# Sweep stale heap entries only past this many, so a small agenda never pays for a rebuild.
_SWEEP_FLOOR = 1024


@dataclass(frozen=True)
class Activation:
    """One match of a production's body: the production, its bindings and how recent it is."""

    production: Production
    bindings: Bindings
    sequence: int  # higher = more recent

    def __post_init__(self) -> None:
        # Refraction compares bindings as tuples, so their order must not depend on the caller.
        object.__setattr__(self, "bindings", tuple(sorted(self.bindings)))


ConflictStrategy = Callable[[Activation], tuple]


def specificity(production: Production) -> int:
    """How narrowly a body matches: one per condition, plus one per constant it tests.

    `account("acme", B), B < 0` (two conditions, one constant) is more specific than
    `account(A, B)`. Conditions inside an aggregate count as well.
    """
    return _conditions(production.body)


def _conditions(body: Iterable[Literal]) -> int:
    total = 0
    for literal in body:
        total += 1
        atom = literal.atom if isinstance(literal, Negation) else literal
        if isinstance(atom, Atom):
            total += sum(1 for arg in atom.args if isinstance(arg, Constant))
        elif isinstance(atom, Aggregate):
            total += _conditions(atom.body)
    return total


def salience_recency_specificity(activation: Activation) -> tuple[int, int, int]:
    """The default: highest salience, then the most recent match, then the most specific."""
    production = activation.production
    return (production.salience, activation.sequence, specificity(production))


def salience_fifo(activation: Activation) -> tuple[int, int]:
    """Highest salience, then the oldest match first (breadth first)."""
    return (activation.production.salience, -activation.sequence)


def fifo(activation: Activation) -> tuple[int]:
    """The oldest match first, salience ignored."""
    return (-activation.sequence,)


def lifo(activation: Activation) -> tuple[int]:
    """The most recent match first, salience ignored (depth first)."""
    return (activation.sequence,)


class _Entry:
    """A heap entry; heapq keeps the smallest first, so "less" here means "fires earlier"."""

    __slots__ = ("activation", "match", "rank")

    def __init__(self, activation: Activation, rank: tuple, match: MatchKey):
        self.activation = activation
        self.rank = rank
        self.match = match

    def __lt__(self, other: "_Entry") -> bool:
        return self.rank > other.rank


class Agenda:
    """Activations waiting to fire, ordered by a pluggable conflict strategy."""

    def __init__(self, strategy: ConflictStrategy | None = None):
        self.strategy = strategy or salience_recency_specificity
        self._heap: list[_Entry] = []
        self._pending: dict[MatchKey, _Entry] = {}
        self._fired: set[MatchKey] = set()
        self._added = itertools.count()

    def add(self, activation: Activation) -> None:
        """Queues the activation, unless that match is already pending or has fired."""
        match = (activation.production.name, activation.bindings)
        if match in self._pending or match in self._fired:
            return
        # The negated counter makes equal keys fire in the order they were added.
        rank = (self.strategy(activation), -next(self._added))
        entry = _Entry(activation, rank, match)
        self._pending[match] = entry
        heapq.heappush(self._heap, entry)

    def remove(self, production_name: str, bindings: Bindings) -> None:
        """Drops a pending activation whose match disappeared before it fired."""
        self._pending.pop((production_name, tuple(sorted(bindings))), None)
        if len(self._heap) > max(_SWEEP_FLOOR, 2 * len(self._pending)):
            self._heap = list(self._pending.values())
            heapq.heapify(self._heap)

    def pop(self) -> Activation | None:
        """The next activation to fire, now marked as fired; None when nothing is pending."""
        while self._heap:
            entry = heapq.heappop(self._heap)
            if self._pending.get(entry.match) is entry:
                del self._pending[entry.match]
                self._fired.add(entry.match)
                return entry.activation
        return None

    def pending(self) -> list[Activation]:
        """The pending activations in firing order."""
        return [entry.activation for entry in sorted(self._pending.values())]

    def __len__(self) -> int:
        return len(self._pending)
