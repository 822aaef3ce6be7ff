"""Incremental sessions: assert and retract facts, and the derived facts follow.

    program = Program.parse("path(X, Y) :- edge(X, Y). path(X, Z) :- edge(X, Y), path(Y, Z).")
    session = program.session(facts={"edge": [(1, 2)]})
    session.assert_facts("edge", [(2, 3)])   # Change(added={"edge": 1, "path": 2}, removed={})
    session.retract_facts("edge", [(1, 2)])  # Change(added={}, removed={"edge": 1, "path": 2})
    session.query("path(X, 3)")              # [{"X": 2}]

The session starts from the fast evaluator's model and builds a matching network over it
(network.py, chains.py). A change then only touches what it reaches:
- the base rows are updated first; a relation no rule defines holds exactly its base rows;
- then each stratum in order, every lower one being settled by then. A batch for a relation
  goes at once to every node reading it, so a stratum finds the support counts of its rows
  already changed by what happened below it;
- a non-recursive relation settles by counting: a row is present while it is asserted or at
  least one derivation produces it;
- a recursive stratum settles by delete-and-rederive. Every row that lost a derivation, and
  every retracted base row, is removed (overdeleted), which cascades through the stratum's
  rules; a count alone cannot be trusted there, since rows on a cycle derive each other.
  Once the cascade is over, every derivation that uses a removed row is gone with it, so an
  overdeleted row whose count is still above zero is derivable from rows that stand: it is
  put back, and what it derives follows as an ordinary insertion;
- aggregates are recomputed whole when something under them changed (see network.py).

A row both asserted and derived stays while either holds. Retracting a row that is not an
asserted base fact changes nothing, and the summary shows no change for it.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .agenda import Activation, ConflictStrategy
from .analysis import Stratum
from .change import Change
from .database import Database
from .errors import ArityError
from .firing import Event, Firing, Productions
from .network import AggregateMemory, Network, Support
from .provenance import Proof
from .relation import Row
from .store import Store
from .syntax import Production, Query, Value, literal_variables


class Session:
    """A model kept up to date as base facts come and go. Build it with Program.session()."""

    def __init__(
        self,
        database: Database,
        *,
        strata: list[Stratum],
        productions: Sequence[Production] = (),
        tools: Mapping[str, Callable[..., Any]] | None = None,
        strategy: ConflictStrategy | None = None,
    ):
        # The evaluator's own parts: the session goes on from exactly the model it computed.
        self._store: Store = database._store
        self._rules = database._rules
        self._base: dict[str, set[Row]] = database._base
        self._arities = dict(database._arities)
        for relation in self._store.relations.values():
            relation.rows  # a relation held grouped (linear.py) becomes rows now, not mid-change
        self._strata = strata
        self._network = Network(self._store)
        self._support: dict[str, Support] = {}
        self._stratum_aggregates: list[list[AggregateMemory]] = []
        for stratum in strata:
            self._stratum_aggregates.append(self._add_stratum(stratum))
        self._productions = Productions(
            productions, self._network, self._store.symbols, tools or {}, strategy
        )
        self._view: Database | None = None

    def _add_stratum(self, stratum: Stratum) -> list[AggregateMemory]:
        used: list[AggregateMemory] = []
        for rule in stratum.rules:
            terminal = self._support.setdefault(rule.head.relation, Support())
            used += self._network.add_chain(
                rule.body, outside=literal_variables(rule.head), output=rule.head.args,
                terminal=terminal,
            )
        return used

    @property
    def relation_names(self) -> list[str]:
        return self._database().relation_names

    @property
    def events(self) -> list[Event]:
        """Every event emitted by a production so far, oldest first."""
        return self._productions.events

    def relation(self, name: str) -> frozenset[tuple[Value, ...]]:
        """The rows of a relation now, as Python values; empty for an unknown relation."""
        return self._database().relation(name)

    def count(self, name: str) -> int:
        return self._database().count(name)

    def query(self, query: str | Query, *, limit: int | None = None) -> list[dict[str, Value]]:
        """Answers as {variable: value}, sorted, as Database.query."""
        return self._database().query(query, limit=limit)

    def explain(self, relation: str, row: Sequence[Value]) -> Proof:
        """A shallowest proof over the facts now; raises FactNotFoundError if absent."""
        return self._database().explain(relation, row)

    def pending(self) -> list[Activation]:
        """The production matches waiting to fire, in firing order."""
        return self._productions.agenda.pending()

    def assert_facts(self, relation: str, rows: Iterable[Iterable[Value]]) -> Change:
        """Adds base facts; asserting a fact that is already asserted changes nothing."""
        encode = self._store.symbols.encode_row
        found = {encode(row) for row in self._checked(relation, rows, "assert_facts")}
        return self._apply({relation: found}, {})

    def retract_facts(self, relation: str, rows: Iterable[Iterable[Value]]) -> Change:
        """Withdraws base facts; what they derived goes unless derivable without them."""
        if relation not in self._arities:
            return Change()  # a relation never seen has no base facts, and gets no arity here
        lookup = self._store.symbols.lookup
        found: set[Row] = set()
        for row in self._checked(relation, rows, "retract_facts"):
            encoded = tuple(lookup(value) for value in row)
            # A constant never seen cannot be in a base fact.
            if None not in encoded:
                found.add(encoded)  # type: ignore[arg-type]
        return self._apply({}, {relation: found})

    def fire(self, limit: int = 10_000) -> list[Firing]:
        """Fires matches in agenda order until none is left or `limit` have fired.

        Reaching the limit is not an error: the firings so far are returned and what is still
        waiting stays on the agenda (see pending()), to be fired by the next call.
        """
        return self._productions.fire(self.assert_facts, self.retract_facts, limit)

    def _checked(
        self, relation: str, rows: Iterable[Iterable[Value]], verb: str
    ) -> list[tuple[Value, ...]]:
        checked = []
        for row in rows:
            if isinstance(row, (str, bytes)) or not isinstance(row, Iterable):
                raise TypeError(f"a fact is a tuple of values, not {row!r}")
            values = tuple(row)
            known = self._arities.setdefault(relation, (len(values), None, None))[0]
            if known != len(values):
                raise ArityError(
                    f"relation {relation} has arity {known} but a fact passed to {verb}() has "
                    f"{len(values)} values: {relation}{values!r}"
                )
            checked.append(values)
        return checked

    def _database(self) -> Database:
        """A read-only view of the facts now, with its caches, until the next change."""
        if self._view is None:
            # A fresh Store: stores cache aggregates, which a change makes stale.
            store = Store(self._store.symbols, relations=self._store.relations)
            self._view = Database(
                store=store, rules=self._rules, base=self._base, arities=self._arities
            )
        return self._view

    def _apply(self, asserted: dict[str, set[Row]], retracted: dict[str, set[Row]]) -> Change:
        self._view = None
        added: dict[str, int] = {}
        removed: dict[str, int] = {}

        def record(name: str, came: set[Row], gone: set[Row]) -> None:
            if came:
                added[name] = len(came)
            if gone:
                removed[name] = len(gone)

        for name in sorted(asserted.keys() | retracted.keys()):
            if name not in self._support:
                came, gone = self._rebase(name, asserted, retracted)
                self._network.remove(name, gone)
                self._network.insert(name, came)
                record(name, came, gone)
        for stratum, aggregates in zip(self._strata, self._stratum_aggregates):
            for memory in aggregates:
                if memory.dirty:
                    memory.refresh(self._network)
            if stratum.recursive:
                self._settle_recursive(sorted(stratum.relations), asserted, retracted, record)
            else:
                (name,) = stratum.relations
                self._settle_counting(name, asserted, retracted, record)
        self._productions.settle()
        return Change(added, removed)

    def _rebase(
        self, name: str, asserted: dict[str, set[Row]], retracted: dict[str, set[Row]]
    ) -> tuple[set[Row], set[Row]]:
        """Updates the base rows of a relation; returns the rows newly asserted and those
        retracted that were asserted."""
        base = self._base.setdefault(name, set())
        self._store.relation(name, self._arities[name][0])
        came = asserted.get(name, set()) - base
        gone = retracted.get(name, set()) & base
        base |= came
        base -= gone
        return came, gone

    def _settle_counting(
        self, name: str, asserted: dict[str, set[Row]], retracted: dict[str, set[Row]],
        record: Callable[[str, set[Row], set[Row]], None],
    ) -> None:
        support = self._support[name]
        came_base, gone_base = self._rebase(name, asserted, retracted)
        touched = support.appeared | support.reduced | came_base | gone_base
        if not touched:
            return
        support.appeared.clear()
        support.reduced.clear()
        rows, base, counts = self._store.relations[name].rows, self._base[name], support.counts
        gone = {row for row in touched if row in rows and row not in base and row not in counts}
        came = {row for row in touched if row not in rows and (row in base or row in counts)}
        self._network.remove(name, gone)
        self._network.insert(name, came)
        record(name, came, gone)

    def _settle_recursive(
        self, names: list[str], asserted: dict[str, set[Row]], retracted: dict[str, set[Row]],
        record: Callable[[str, set[Row], set[Row]], None],
    ) -> None:
        seeds: dict[str, set[Row]] = {}
        fresh: dict[str, set[Row]] = {}
        for name in names:
            fresh[name], seeds[name] = self._rebase(name, asserted, retracted)
        over = self._cascade(names, seeds, removing=True)
        back = self._cascade(names, {name: over[name] | fresh[name] for name in names},
                             removing=False)
        for name in names:
            record(name, back[name] - over[name], over[name] - back[name])

    def _cascade(
        self, names: list[str], pending: dict[str, set[Row]], *, removing: bool
    ) -> dict[str, set[Row]]:
        """Removes or inserts batches of the stratum's rows until none is left; returns them."""
        done: dict[str, set[Row]] = {name: set() for name in names}
        progressed = True
        while progressed:
            progressed = False
            for name in names:
                batch = self._next_batch(name, pending, removing)
                if batch:
                    (self._network.remove if removing else self._network.insert)(name, batch)
                    done[name] |= batch
                    progressed = True
        return done

    def _next_batch(self, name: str, pending: dict[str, set[Row]], removing: bool) -> set[Row]:
        """Removing: the rows still there, not asserted, that lost a derivation (overdeletion).
        Inserting: the rows not there that are asserted or have a derivation."""
        support = self._support[name]
        rows, base = self._store.relations[name].rows, self._base.get(name, ())
        if removing:
            reached, support.reduced = pending.pop(name, set()) | support.reduced, set()
            return {row for row in reached if row in rows and row not in base}
        reached, support.appeared = pending.pop(name, set()) | support.appeared, set()
        counts = support.counts
        return {row for row in reached if row not in rows and (row in counts or row in base)}
