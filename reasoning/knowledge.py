"""Answering from a knowledge base: queries and proofs over a rule set's model.

The model (the latest version evaluated over the current facts) is built on first use and
kept per process for a few rule sets, keyed so that a new version or any fact change makes a
fresh one. The query's time budget covers building the model and answering; the row cap
stops an answer as soon as it passes the cap.
"""

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings

from reasoning.engine import Database, DatalogError, FactNotFoundError, Program, Proof, Query
from reasoning.engine.limits import BudgetExceededError, RowLimitError, time_budget
from reasoning.engine.parser import parse_query
from reasoning.engine.syntax import Atom, Constant, Variable
from reasoning.errors import ProgramError, QueryLimitError, ReasoningError
from reasoning.models import RuleSet, RuleSetVersion
from reasoning.selectors import facts_load, rule_set_version_latest
from reasoning.services import program_parse

T = TypeVar("T")
# Models kept per process: the few knowledge bases being worked on at once.
CACHED_MODELS = 4
Key = tuple[object, ...]
_models: OrderedDict[Key, Database] = OrderedDict()
# Parsed versions (immutable once saved), for what needs only the program: an agent's tool
# description is built on every chat turn, and parsing a large source each time would delay
# the first token.
_programs: OrderedDict[Key, Program] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class Answer:
    columns: list[str]
    rows: list[list[object]]
    version: int
    # The query's positive atoms whose every argument is a constant or a reported variable.
    atoms: list[Atom] = field(default_factory=list)

    def facts(self, index: int) -> list[tuple[str, tuple]]:
        """The facts answer `index` rests on: the query's atoms filled with its values."""
        binding = dict(zip(self.columns, self.rows[index]))
        return [(atom.relation, tuple(arg.value if isinstance(arg, Constant)
                                      else binding[arg.name] for arg in atom.args))
                for atom in self.atoms]


def _cached(cache: OrderedDict[Key, T], key: Key) -> T | None:
    with _lock:
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
        return found


def _remember(cache: OrderedDict[Key, T], key: Key, value: T) -> None:
    with _lock:
        cache[key] = value
        while len(cache) > CACHED_MODELS:
            cache.popitem(last=False)


def _program(version: RuleSetVersion) -> Program:
    # Creation times too, here and below: SQLite reuses the ids of deleted rows.
    key = (version.pk, version.created_at)
    found = _cached(_programs, key)
    if found is None:
        found = program_parse(version.source)
        _remember(_programs, key, found)
    return found


def _model(rule_set: RuleSet, version: RuleSetVersion, seconds: float) -> Database:
    key = (rule_set.pk, rule_set.created_at, version.pk, version.created_at,
           rule_set.facts_revision)
    found = _cached(_models, key)
    if found is not None:
        return found
    program = _program(version)
    facts = facts_load(rule_set=rule_set)  # outside the budget: never interrupt a DB read
    try:
        with time_budget(seconds):
            db = program.evaluate(facts)
    except BudgetExceededError:
        raise QueryLimitError(
            f"Evaluating the rule set took longer than {seconds:g} s; start an inference run "
            "to see its results, or simplify the rules") from None
    except DatalogError as exc:
        raise ReasoningError(f"The facts do not fit the rules: {exc.message}") from None
    _remember(_models, key, db)
    return db


def rule_set_query(*, rule_set: RuleSet, text: str, limit: int | None = None,
                   seconds: float | None = None) -> Answer:
    """Answers a query like `ancestor("tom", X)` (a leading `?-` and final `.` are optional).

    Raises ProgramError (with line and column) for an invalid query, QueryLimitError past
    the time budget or row cap."""
    limit = limit or settings.REASONING_QUERY_ROWS
    seconds = seconds or settings.REASONING_QUERY_SECONDS
    version = rule_set_version_latest(rule_set=rule_set, source=False)
    db = _model(rule_set, version, seconds)
    try:
        query = parse_query(text)
        with time_budget(seconds):
            found = db.query(query, limit=limit)
    except DatalogError as exc:
        raise ProgramError(exc.message, line=exc.line, column=exc.column) from None
    except BudgetExceededError:
        raise QueryLimitError(f"The query ran longer than its budget of {seconds:g} s; "
                              "bind more arguments or split it") from None
    except RowLimitError:
        raise QueryLimitError(f"The query has more than {limit:,} answers; bind more "
                              "arguments to narrow it") from None
    columns = list(found[0]) if found else []
    return Answer(columns=columns, rows=[list(row.values()) for row in found],
                  version=version.number, atoms=_fact_atoms(query, columns))


def _fact_atoms(query: Query, columns: list[str]) -> list[Atom]:
    return [literal for literal in query.body if isinstance(literal, Atom) and all(
        isinstance(arg, Constant) or isinstance(arg, Variable) and arg.name in columns
        for arg in literal.args)]


def rule_set_explain(*, rule_set: RuleSet, relation: str, args: Sequence[object],
                     seconds: float | None = None) -> Proof:
    """A shallowest proof of a fact of the rule set's model; 404-like error if it is absent."""
    seconds = seconds or settings.REASONING_QUERY_SECONDS
    version = rule_set_version_latest(rule_set=rule_set, source=False)
    db = _model(rule_set, version, seconds)
    try:
        with time_budget(seconds):
            return db.explain(relation, tuple(args))
    except FactNotFoundError as exc:
        raise FactAbsent(str(exc)) from None
    except BudgetExceededError:
        raise QueryLimitError(f"Finding a proof took longer than {seconds:g} s") from None


class FactAbsent(ReasoningError):
    status_code = 404


# What a model gets back from one knowledge-base query: enough rows to answer, few enough
# proofs to cite without flooding its context.
CITED_ROWS, CITED_PROOFS, PROOF_DEPTH = 20, 3, 4


def rule_set_describe(*, rule_set: RuleSet) -> str:
    """One line naming the relations a model can query, with their arities."""
    program = _program(rule_set_version_latest(rule_set=rule_set, source=False))
    arities = {**rule_set.relations, **program.arities}
    names = ", ".join(f"{name}/{arity}" for name, arity in sorted(arities.items()))
    return f"Knowledge base {rule_set.name!r}; relations: {names or 'none yet'}."


def rule_set_cite(*, rule_set: RuleSet, text: str) -> str:
    """Answers a query for a model: the rows, then short proofs of the first ones."""
    answer = rule_set_query(rule_set=rule_set, text=text)
    if not answer.rows:
        return "No answers."
    if not answer.columns:
        lines = ["Yes, it holds."]
    else:
        lines = [", ".join(f"{c}={v!r}" for c, v in zip(answer.columns, row))
                 for row in answer.rows[:CITED_ROWS]]
        if len(answer.rows) > CITED_ROWS:
            lines.append(f"… {len(answer.rows) - CITED_ROWS} more rows")
    cited = dict.fromkeys(fact for index in range(min(len(answer.rows), CITED_PROOFS))
                          for fact in answer.facts(index))
    proofs = [_proof_lines(rule_set_explain(rule_set=rule_set, relation=relation, args=row))
              for relation, row in list(cited)[:CITED_PROOFS]]
    if proofs:
        lines += ["", "Proofs (cite them):", *("\n".join(proof) for proof in proofs)]
    return "\n".join(lines)


def _proof_lines(proof: Proof, depth: int = 0) -> list[str]:
    how = f"by rule: {proof.rule}" if proof.rule else proof.kind
    lines = [f"{'  ' * depth}{proof.fact}   [{how}]"]
    if proof.premises and depth + 1 >= PROOF_DEPTH:
        return [*lines, f"{'  ' * (depth + 1)}…"]
    for premise in proof.premises:
        lines += _proof_lines(premise, depth + 1)
    return lines
