"""The matching network of a session: alpha memories, beta chains and production nodes.

Alpha memories are the relations of the store themselves, with their hash indexes (a node's
constants are checked by the generated join, so nodes over one relation share its memory).
Beta chains are described in chains.py. A production node (`Support`) counts, for each row it
produces, the complete tokens producing it across every chain that feeds it.

Changes move as batches: rows inserted into or removed from one relation. A batch must look
to every chain as if the world changed that one relation and nothing else, so the batch
updates the relation and activates every node that reads it, in every chain, before any other
batch starts. Within one chain, nodes reading the batch's relation are activated one after
the other, each seeing the batch on its own side of the chain and:
- inserting: the relation already grown, nodes from last to first, so level k-1 (not yet
  activated) is old and the nodes below k (already activated) are new;
- removing: the relation still whole, nodes from first to last, so level k-1 (already
  activated) is new and the nodes below k (not yet) are old.
Either way a token using batch rows at several nodes is counted once: at its last batch node
when inserting, at its first when removing.

A negated atom's node keeps nothing of its own: its left level is indexed by the atom's key
and its relation's index counts the rows under each key. A batch flips the keys whose count
goes from or to zero; the tokens under them are removed (blocked) or inserted (unblocked)
below the node.

An aggregate reads its groups, recomputed whole (aggregates.py) when a relation under it has
changed and the stratum that reads it comes up; the difference to the groups held before is a
batch like any other. Count and sum looked up with the whole key bound see a missing group as
0, so those nodes are fed the change of that looked-up value instead.
"""

from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from typing import Any

from .aggregates import group_aggregate
from .analysis import atoms_of
from .chains import Chain, ChainBuilder, Port
from .planner import plan_body
from .relation import Relation, Row
from .store import Store
from .syntax import Aggregate, Literal, Term, Variable

AggregateKey = tuple[Aggregate, tuple[str, ...]]


class Support:
    """A production node: how many complete tokens produce each row, and which rows the last
    changes touched (`appeared`: from none to some; `reduced`: lost a token)."""

    __slots__ = ("counts", "appeared", "reduced")

    def __init__(self) -> None:
        self.counts: dict[tuple[int, ...], int] = {}
        self.appeared: set[tuple[int, ...]] = set()
        self.reduced: set[tuple[int, ...]] = set()

    def change(self, rows: list[tuple[int, ...]], sign: int) -> None:
        counts = self.counts
        if sign > 0:
            appeared = self.appeared
            for row in rows:
                count = counts.get(row, 0)
                counts[row] = count + 1
                if not count:
                    appeared.add(row)
            return
        self.reduced.update(rows)
        for row in rows:
            count = counts[row] - 1
            if count:
                counts[row] = count
            else:
                del counts[row]


class _Sources:
    """What generated joins read: pseudo-relations of the network by name, else the store."""

    def __init__(self, network: "Network"):
        self.symbols = network.store.symbols
        self._network = network

    def positive(self, relation: str, arity: int) -> Relation:
        found = self._network.memories.get(relation)
        return found if found is not None else self._network.store.relation(relation, arity)

    def negative(self, relation: str, arity: int) -> Relation:
        return self.positive(relation, arity)

    def grouped(self, aggregate: Aggregate, keys: tuple[str, ...]) -> Relation:
        return self._network.aggregates[(aggregate, keys)].groups


class AggregateMemory:
    """The groups of one aggregate, and the names its nodes know them by."""

    def __init__(self, aggregate: Aggregate, keys: tuple[str, ...], name: str, store: Store):
        self.aggregate = aggregate
        self.keys = keys
        self.name = name  # nodes reading the groups
        self.looked_up = name + "="  # nodes looking up count or sum, a missing group being 0
        self.reads = frozenset(atom.relation for atom in atoms_of(aggregate.body))
        self.dirty = False
        self.groups = Relation(name, len(keys) + 1, self._compute(store))

    def _compute(self, store: Store) -> set[Row]:
        # A fresh Store: it caches aggregates, and nested ones must be as current as this one.
        fresh = Store(store.symbols, relations=store.relations)
        rows = group_aggregate(self.aggregate, self.keys, fresh).rows
        if not rows and not self.keys and self.aggregate.function in ("count", "sum"):
            rows = {(store.symbols.encode(0),)}
        return rows

    def refresh(self, network: "Network") -> None:
        """Recomputes the groups and feeds the difference to the nodes reading them."""
        self.dirty = False
        old, new = self.groups.rows, self._compute(network.store)
        gone, came = old - new, new - old
        if not gone and not came:
            return
        zero = (network.store.symbols.encode(0),)
        looked_gone, looked_came = _looked_up_change(gone, came, zero)
        network.activate(self.name, gone, -1)
        network.activate(self.looked_up, looked_gone, -1)
        self.groups.remove(gone)
        self.groups.add(came)
        network.activate(self.name, came, 1)
        network.activate(self.looked_up, looked_came, 1)


def _looked_up_change(
    gone: set[Row], came: set[Row], zero: tuple[int]
) -> tuple[set[Row], set[Row]]:
    """The change of the value a lookup sees per key, a missing group reading as 0."""
    old = {row[:-1]: row[-1:] for row in gone}
    new = {row[:-1]: row[-1:] for row in came}
    looked_gone, looked_came = set(), set()
    for key in old.keys() | new.keys():
        before, after = old.get(key, zero), new.get(key, zero)
        if before != after:
            looked_gone.add(key + before)
            looked_came.add(key + after)
    return looked_gone, looked_came


class Network:
    def __init__(self, store: Store):
        self.store = store
        self.memories: dict[str, Relation] = {}
        self.ports: dict[str, list[Port]] = {}
        self.aggregates: dict[AggregateKey, AggregateMemory] = {}
        self._readers: dict[str, list[AggregateMemory]] = {}
        self._sources = _Sources(self)
        self._chains = 0

    def add_chain(
        self, body: Sequence[Literal], *, outside: Iterable[Variable], output: Sequence[Term],
        terminal: Support,
    ) -> list[AggregateMemory]:
        """Compiles a body into a chain feeding `terminal`, counts what it produces now, and
        returns the aggregates it reads."""
        relations = self.store.relations
        plan = plan_body(body, outside=outside, size=lambda name: len(relations.get(name, ())))
        self._chains += 1
        used: list[AggregateMemory] = []

        def aggregate_name(aggregate: Aggregate, keys: tuple[str, ...], lookup: bool) -> str:
            memory = self._aggregate(aggregate, keys)
            used.append(memory)
            return memory.looked_up if lookup else memory.name

        chain = ChainBuilder(
            name=str(self._chains), steps=plan.steps, output=output, sources=self._sources,
            memory=self._memory, aggregate_name=aggregate_name,
        ).build()
        self._start(chain, terminal)
        return used

    def _start(self, chain: Chain, terminal: Support) -> None:
        tokens = chain.initial()
        for memory, left in chain.stored:
            memory.add(set(tokens))
            tokens = left(tokens)
        terminal.change(tokens, 1)
        terminal.appeared.clear()
        for port in chain.ports:
            self.ports.setdefault(port.relation, []).append(_Runner(port, terminal))

    def _memory(self, name: str, arity: int) -> Relation:
        found = self.memories.get(name)
        if found is None:
            found = self.memories[name] = Relation(name, arity)
        return found

    def _aggregate(self, aggregate: Aggregate, keys: tuple[str, ...]) -> AggregateMemory:
        found = self.aggregates.get((aggregate, keys))
        if found is None:
            name = f"α#{len(self.aggregates)}"
            found = self.aggregates[(aggregate, keys)] = AggregateMemory(
                aggregate, keys, name, self.store)
            self.memories[name] = found.groups
            self._memory(found.looked_up, len(keys) + 1)
            for relation in found.reads:
                self._readers.setdefault(relation, []).append(found)
        return found

    def insert(self, relation: str, rows: set[Row]) -> None:
        """Adds rows absent from `relation`, then activates its nodes."""
        self.store.relations[relation].add(rows)
        self.activate(relation, rows, 1)

    def remove(self, relation: str, rows: set[Row]) -> None:
        """Activates the nodes of `relation`, then removes rows present in it."""
        self.activate(relation, rows, -1)
        self.store.relations[relation].remove(rows)

    def activate(self, relation: str, rows: set[Row], sign: int) -> None:
        if not rows:
            return
        for memory in self._readers.get(relation, ()):
            memory.dirty = True
        runners = self.ports.get(relation)
        if not runners:
            return
        excluded = self.memories.get(f"Δ#{relation}")
        if excluded is not None:
            excluded.rows.clear()
            excluded.rows.update(rows)
        for runner in reversed(runners) if sign > 0 else runners:
            runner.run(rows, sign)


class _Runner:
    """Runs a batch through one port: its right activation, then the stored levels below."""

    __slots__ = ("right", "tail", "change", "negation")

    def __init__(self, port: Port, terminal: Support):
        self.right = port.right
        self.tail = port.tail
        self.change = terminal.change
        self.negation: Callable[[set[Row]], list[Any]] | None = None
        if port.negation is not None:
            self.negation = _flipped_keys(*port.negation)

    def run(self, rows: Iterable[Any], sign: int) -> None:
        if self.negation is not None:
            # A key gaining its first row blocks the tokens under it; losing its last frees them.
            rows, sign = self.negation(rows), -sign  # type: ignore[arg-type]
            if not rows:
                return
        out = self.right(rows)
        for memory, left in self.tail:
            if not out:
                return
            tokens = set(out)
            if sign > 0:
                memory.add(tokens)
            else:
                memory.remove(tokens)
            out = left(tokens)
        if out:
            self.change(out, sign)


def _flipped_keys(
    columns: tuple[int, ...], index: dict[object, list[object]]
) -> Callable[[set[Row]], list[Any]]:
    """The keys (as tuples) under which a batch holds every row of the relation: inserted,
    they had none before; removed, they will have none after."""
    key_of: Callable[[Row], object] = itemgetter(*columns) if columns else (lambda row: ())
    as_tuple: Callable[[object], tuple] = (
        (lambda key: (key,)) if len(columns) == 1 else (lambda key: key))  # type: ignore

    def flipped(rows: set[Row]) -> list[tuple]:
        counts: dict[object, int] = {}
        for row in rows:
            key = key_of(row)
            counts[key] = counts.get(key, 0) + 1
        return [as_tuple(key) for key, count in counts.items() if len(index.get(key, ())) == count]

    return flipped
