"""The set of relations a plan reads and writes during one evaluation."""

from .aggregates import group_aggregate
from .relation import Relation, Row
from .symbols import Symbols
from .syntax import Aggregate


class Store:
    """Relations by name; negations and aggregates read `complete`, which may be another store
    (the provenance pass grows its own relations but checks negations against the result)."""

    def __init__(
        self,
        symbols: Symbols,
        *,
        complete: "Store | None" = None,
        relations: dict[str, Relation] | None = None,
    ):
        self.symbols = symbols
        self.relations: dict[str, Relation] = {} if relations is None else relations
        self.complete = complete or self
        self._grouped: dict[tuple[Aggregate, tuple[str, ...]], Relation] = {}

    def relation(self, name: str, arity: int) -> Relation:
        found = self.relations.get(name)
        if found is None:
            found = self.relations[name] = Relation(name, arity)
        return found

    def positive(self, relation: str, arity: int) -> Relation:
        return self.relation(relation, arity)

    def negative(self, relation: str, arity: int) -> Relation:
        return self.complete.relation(relation, arity)

    def grouped(self, aggregate: Aggregate, keys: tuple[str, ...]) -> Relation:
        found = self._grouped.get((aggregate, keys))
        if found is None:
            found = self._grouped[(aggregate, keys)] = group_aggregate(aggregate, keys, self)
        return found


def merge_new(store: Store, produced: dict[str, set[Row]]) -> dict[str, set[Row]]:
    """Adds what is new to each relation and returns exactly that (the next delta)."""
    fresh: dict[str, set[Row]] = {}
    for name, rows in produced.items():
        relation = store.relations[name]
        rows -= relation.rows
        relation.add(rows)
        fresh[name] = rows
    return fresh
