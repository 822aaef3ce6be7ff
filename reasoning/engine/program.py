"""A parsed and checked program, ready to evaluate."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .analysis import (
    Arities,
    Clause,
    Stratum,
    check_arities,
    check_production_names,
    check_safety,
    clause_uses,
    stratify,
)
from .database import Database
from .errors import ArityError
from .evaluate import evaluate_strata
from .parser import parse_program
from .relation import Row
from .session import Session
from .store import Store
from .symbols import Symbols
from .syntax import Constant, GroundFact, Production, Query, Rule, Value

Facts = Mapping[str, Iterable[Iterable[Value]]]


class Program:
    """Rules, facts, queries and productions that passed every static check (syntax, arity,
    safety, stratification), so evaluation cannot fail on the program itself.

    Productions take no part in evaluate(): a session matches them between evaluations.
    """

    def __init__(
        self,
        *,
        rules: list[Rule],
        facts: dict[str, list[tuple[Value, ...]]],
        queries: list[Query],
        arities: Arities,
        strata: list[Stratum],
        productions: Iterable[Production] = (),
    ):
        self.rules = rules
        self.facts = facts
        self.queries = queries
        self.productions: list[Production] = list(productions)
        self._arities = arities
        self._strata = strata

    @classmethod
    def parse(cls, text: str) -> "Program":
        """Raises a DatalogError subclass, with .line and .column, for any defect."""
        clauses, ground, queries, productions = parse_program(text)
        uses = [(fact.relation, len(fact.row), fact.line, fact.column) for fact in ground]
        everything: list[Clause] = [*clauses, *queries, *productions]
        for clause in everything:
            uses += clause_uses(clause)
        # Text order, so that an arity clash names the first use as the reference.
        uses.sort(key=lambda use: (use[2], use[3]))
        arities: Arities = {}
        check_arities(uses, arities)
        rules: list[Rule] = []
        for clause in clauses:
            if not clause.body and all(isinstance(arg, Constant) for arg in clause.head.args):
                row = tuple(arg.value for arg in clause.head.args)  # type: ignore[union-attr]
                ground.append(GroundFact(clause.head.relation, row, clause.line, clause.column))
            else:
                rules.append(clause)
        checked: list[Clause] = [*rules, *queries, *productions]
        for clause in checked:
            check_safety(clause)
        check_production_names(productions)
        facts: dict[str, list[tuple[Value, ...]]] = {}
        for fact in ground:
            facts.setdefault(fact.relation, []).append(fact.row)
        return cls(
            rules=rules, facts=facts, queries=queries, arities=arities, strata=stratify(rules),
            productions=productions,
        )

    @property
    def arities(self) -> dict[str, int]:
        """The number of arguments of every relation the program mentions."""
        return {name: known[0] for name, known in self._arities.items()}

    @property
    def derived_relations(self) -> list[str]:
        """The relations some rule defines, sorted."""
        return sorted({rule.head.relation for rule in self.rules})

    def evaluate(
        self,
        facts: Facts | None = None,
        *,
        progress: Callable[[int, int], None] | None = None,
    ) -> Database:
        """The model of the program over its own facts plus `facts` (relation -> rows);
        `progress(strata_done, strata_total)` is called as evaluation advances."""
        symbols = Symbols()
        store = Store(symbols)
        base: dict[str, set[Row]] = {}
        arities = dict(self._arities)
        for source in (self.facts, facts or {}):
            for name, rows in source.items():
                values = [_row(row) for row in rows]
                if not values:
                    continue  # nothing to add, and no arity to learn from
                _check_input_arity(name, values, arities)
                base.setdefault(name, set()).update(map(symbols.encode_row, values))
        for name, rows in base.items():
            store.relation(name, arities[name][0]).add(set(rows))
        evaluate_strata(self._strata, store, progress)
        return Database(store=store, rules=self.rules, base=base, arities=arities)

    def session(self, facts: Facts | None = None, **options: Any) -> Session:
        """An incremental session (session.py) over the program's facts plus `facts`.

        Options: `tools` (name -> callable) for the productions' `call` actions, `strategy`
        for the agenda's conflict resolution (agenda.py).
        """
        return Session(
            self.evaluate(facts), strata=self._strata, productions=self.productions, **options
        )


def _row(row: Iterable[Value]) -> tuple[Value, ...]:
    if isinstance(row, (str, bytes)) or not isinstance(row, Iterable):
        raise TypeError(f"a fact is a tuple of values, not {row!r}")
    return tuple(row)


def _check_input_arity(name: str, rows: list[tuple[Value, ...]], arities: Arities) -> None:
    for row in rows:
        known = arities.setdefault(name, (len(row), None, None))
        if known[0] != len(row):
            raise ArityError(
                f"relation {name} has arity {known[0]} but a fact passed to evaluate() has "
                f"{len(row)} values: {name}{row!r}"
            )
