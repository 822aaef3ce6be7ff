"""A Datalog engine in pure Python: parse, check, evaluate bottom-up, query, explain.

    program = Program.parse('edge(1, 2). path(X, Y) :- edge(X, Y).')
    db = program.evaluate(facts={"edge": [(2, 3)]})
    db.relation("path")        # frozenset({(1, 2), (2, 3)})
    db.query("path(1, X)")     # [{"X": 2}]
    db.explain("path", (1, 2)) # Proof(fact="path(1, 2)", rule="path(X, Y) :- edge(X, Y).", ...)

The language, in short (Soufflé-like syntax):
- facts `parent("tom", "bob").`, rules `anc(X, Z) :- parent(X, Y), anc(Y, Z).`, queries
  `?- anc("tom", X).`; relations are declared by use and keep their first arity;
- constants: strings (escapes \\" \\\\ \\n \\t \\uXXXX), ints, floats; `_` is a wildcard;
  variables start with an uppercase letter or `_` (`_Name` is not reported by queries);
- comments `% ...`, `// ...`, `/* ... */`; `%` right after an operand is modulo;
- negation `!p(X)` or `not p(X)`, stratified; comparisons `= != < <= > >=`;
- arithmetic `Z = X * (Y + 1)`: int / int truncates toward zero, `%` takes the dividend's
  sign, a float operand gives float arithmetic, and a binding without value (division by
  zero, a string operand) derives nothing; numbers order before strings; 1 and 1.0 differ;
- aggregates `N = count : { p(X, _) }`, `S = sum A : { pay(_, D, A) }`, `min`, `max`, grouped
  by the body variables that also occur outside the braces; with the whole key bound outside,
  count and sum of no solutions are 0;
- productions `@salience(10) name: body ==> assert p(X), retract q(X), emit e(X), call t(X).`
  act on each match of their body, one at a time through an Agenda that orders them by a
  pluggable conflict strategy (salience, then recency, then specificity by default) and
  fires each match once; evaluate() ignores them.

Every defect is a DatalogError subclass raised by Program.parse with .line and .column.
"""

from .agenda import (
    Activation,
    Agenda,
    ConflictStrategy,
    fifo,
    lifo,
    salience_fifo,
    salience_recency_specificity,
)
from .change import Change
from .database import Database
from .errors import (
    ArityError,
    DatalogError,
    DatalogSyntaxError,
    DuplicateProductionError,
    FactNotFoundError,
    StratificationError,
    UnsafeRuleError,
)
from .firing import Call, Event, Firing, UnknownToolError
from .program import Program
from .provenance import Proof
from .session import Session
from .syntax import Action, Production, Query, Rule

__all__ = [
    "ArityError",
    "Database",
    "DatalogError",
    "DatalogSyntaxError",
    "FactNotFoundError",
    "Program",
    "Proof",
    "Query",
    "Rule",
    "StratificationError",
    "UnsafeRuleError",
    "Action",
    "Activation",
    "Agenda",
    "ConflictStrategy",
    "DuplicateProductionError",
    "Production",
    "fifo",
    "lifo",
    "salience_fifo",
    "salience_recency_specificity",
    "Call",
    "Change",
    "Event",
    "Firing",
    "Session",
    "UnknownToolError",
]
