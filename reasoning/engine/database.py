"""The result of evaluating a program: relations, queries and explanations."""

from collections.abc import Iterator, Sequence

from .analysis import Arities, check_arities, check_safety, clause_uses
from .compiler import compile_plan
from .limits import RowLimitError
from .parser import parse_query
from .planner import plan_body
from .provenance import Proof, Provenance
from .relation import Relation, Row
from .store import Store
from .symbols import order_key
from .syntax import Query, Rule, Value, Variable, literal_variables


class _QueryStore(Store):
    """Reads the database; a relation the program never mentions reads as empty, unstored."""

    def relation(self, name: str, arity: int) -> Relation:
        return self.relations.get(name) or Relation(name, arity)


class Database:
    """Every fact of the program's model. Do not mutate what `relation()` returns."""

    def __init__(
        self,
        *,
        store: Store,
        rules: list[Rule],
        base: dict[str, set[Row]],
        arities: Arities,
    ):
        self._store = store
        self._rules = rules
        self._base = base
        self._arities = arities
        self._decoded: dict[str, frozenset[tuple[Value, ...]]] = {}
        self._provenance: Provenance | None = None

    @property
    def relation_names(self) -> list[str]:
        return sorted(self._store.relations)

    def relation(self, name: str) -> frozenset[tuple[Value, ...]]:
        """The rows of a relation as Python values; empty for a relation never mentioned."""
        if name not in self._decoded:
            found = self._store.relations.get(name)
            symbols = self._store.symbols
            if found is None:
                self._decoded[name] = frozenset()
            elif symbols.is_identity:
                self._decoded[name] = found.frozen()
            else:
                self._decoded[name] = symbols.decode_rows(found.rows)
        return self._decoded[name]

    def count(self, name: str) -> int:
        """The number of rows of a relation, without converting them."""
        found = self._store.relations.get(name)
        return len(found) if found is not None else 0

    def query(self, query: str | Query, *, limit: int | None = None) -> list[dict[str, Value]]:
        """Answers as {variable: value}, sorted; `_` and `_Name` variables are not reported.

        A query without named variables answers [{}] when it holds and [] when it does not.
        With `limit`, more distinct answers than that raise RowLimitError, found as soon as
        the answer passes the cap (the rest is never computed).
        """
        parsed = parse_query(query) if isinstance(query, str) else query
        check_arities(clause_uses(parsed), dict(self._arities))
        check_safety(parsed)
        plan = plan_body(parsed.body)
        # Variables only inside an aggregate's braces are not answers; plan.bound excludes them.
        names = [
            var.name for var in dict.fromkeys(
                var for literal in parsed.body for var in literal_variables(literal)
            ) if not var.is_anonymous and var.name in plan.bound
        ]
        store = _QueryStore(self._store.symbols, relations=self._store.relations)
        output = [Variable(n) for n in names]
        run = compile_plan(plan.steps, sources=store, output=output, collect="iter")
        decode = self._store.symbols.decode
        answers = [tuple(map(decode, row)) for row in _distinct(run(), limit)]
        answers.sort(key=lambda answer: [order_key(value) for value in answer])
        return [dict(zip(names, answer)) for answer in answers]

    def explain(self, relation: str, row: Sequence[Value]) -> Proof:
        """A shallowest proof of the fact; raises FactNotFoundError (a KeyError) if absent."""
        if self._provenance is None:
            self._provenance = Provenance(self._rules, self._store, self._base)
        return self._provenance.explain(relation, tuple(row))


def _distinct(rows: Iterator[Row], limit: int | None) -> set[Row]:
    found: set[Row] = set()
    if limit is None:
        found.update(rows)
        return found
    add = found.add
    for row in rows:
        add(row)
        if len(found) > limit:
            raise RowLimitError(limit)
    return found
