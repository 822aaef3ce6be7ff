"""Productions in a session: their matches go on the agenda, and fire() runs their actions.

Each production body is a chain of the session's network (network.py) ending in a node that
counts the tokens of each match, a match being the values of the body's variables (those a
query would report, and any an action uses). When a change settles, a match that appeared is
added to the agenda and one that disappeared is removed; the agenda never fires a match twice
(refraction, agenda.py). Recency is that of the change: every match that one assert or
retract brings (or the session's start) gets the same, next sequence number, so that the
conflict strategy's later keys (specificity, by default) order them.

fire() pops matches in agenda order and runs their actions in order, with the match's values:
`assert` and `retract` change base facts through the session, which may change the agenda at
once; `emit` records an Event; `call` calls a tool given to the session and records what it
returned, or the exception it raised, without stopping.
"""

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .agenda import Activation, Agenda, ConflictStrategy
from .change import Change
from .errors import DatalogError, position
from .network import AggregateMemory, Network, Support
from .symbols import Symbols, order_key
from .syntax import Aggregate, Atom, Comparison, Production, Value, Variable, literal_variables


class UnknownToolError(DatalogError):
    """A production calls a tool that the session was not given."""


@dataclass(frozen=True)
class Event:
    name: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Call:
    """One tool call: its result, or `error` ("Type: message") if it raised."""

    tool: str
    args: tuple[Value, ...]
    result: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Firing:
    """What one activation did: its events, its calls and the change its facts made."""

    production: str
    bindings: dict[str, Value]
    events: tuple[Event, ...]
    calls: tuple[Call, ...]
    change: Change


FactAction = Callable[[str, list[tuple[Value, ...]]], Change]


@dataclass
class _Matches:
    """A production's terminal node, and the matches the agenda was last told of."""

    production: Production
    names: list[str]
    terminal: Support
    told: set[tuple[int, ...]] = field(default_factory=set)


class Productions:
    """The productions of a session: their chains, the agenda they feed, what they emitted."""

    def __init__(
        self,
        productions: Sequence[Production],
        network: Network,
        symbols: Symbols,
        tools: Mapping[str, Callable[..., Any]],
        strategy: ConflictStrategy | None,
    ):
        _check_tools(productions, tools)
        self.agenda = Agenda(strategy)
        self.events: list[Event] = []
        self._tools = tools
        self._symbols = symbols
        self._sequence = itertools.count(1)
        self._matches: list[_Matches] = []
        self._aggregates: list[AggregateMemory] = []
        for production in productions:
            names = match_variables(production)
            terminal = Support()
            self._aggregates += network.add_chain(
                production.body, outside=[Variable(name) for name in names],
                output=[Variable(name) for name in names], terminal=terminal,
            )
            self._matches.append(_Matches(production, names, terminal))
            terminal.appeared.update(terminal.counts)
        self._network = network
        self.settle()

    def settle(self) -> None:
        """Brings the agenda in line with the matches now."""
        for memory in self._aggregates:
            if memory.dirty:
                memory.refresh(self._network)
        sequence = next(self._sequence)
        for matches in self._matches:
            terminal, told, name = matches.terminal, matches.told, matches.production.name
            touched = terminal.appeared | terminal.reduced
            terminal.appeared.clear()
            terminal.reduced.clear()
            for row in sorted(touched, key=self._order):
                now = row in terminal.counts
                if now == (row in told):
                    continue
                bindings = tuple(zip(matches.names, map(self._symbols.decode, row)))
                if now:
                    told.add(row)
                    self.agenda.add(Activation(matches.production, bindings, sequence))
                else:
                    told.discard(row)
                    self.agenda.remove(name, bindings)

    def _order(self, row: tuple[int, ...]) -> list[tuple[int, Value]]:
        return [order_key(self._symbols.decode(value)) for value in row]

    def fire(self, assert_facts: FactAction, retract_facts: FactAction, limit: int) -> list[Firing]:
        firings: list[Firing] = []
        while len(firings) < limit:
            activation = self.agenda.pop()
            if activation is None:
                break
            firings.append(self._run(activation, assert_facts, retract_facts))
        return firings

    def _run(
        self, activation: Activation, assert_facts: FactAction, retract_facts: FactAction
    ) -> Firing:
        binding = dict(activation.bindings)
        change, events, calls = Change(), [], []
        for action in activation.production.actions:
            values = tuple(
                binding[arg.name] if isinstance(arg, Variable) else arg.value
                for arg in action.args
            )
            if action.kind == "assert":
                change += assert_facts(action.name, [values])
            elif action.kind == "retract":
                change += retract_facts(action.name, [values])
            elif action.kind == "emit":
                events.append(Event(action.name, values))
            else:
                calls.append(self._call(action.name, values))
        self.events += events
        return Firing(
            activation.production.name, binding, tuple(events), tuple(calls), change
        )

    def _call(self, tool: str, args: tuple[Value, ...]) -> Call:
        try:
            return Call(tool, args, result=self._tools[tool](*args))
        except Exception as error:  # a tool's failure is reported on its firing, not raised
            return Call(tool, args, error=f"{type(error).__name__}: {error}")


def match_variables(production: Production) -> list[str]:
    """The variables whose values make a match: those bound outside any aggregate's braces
    that a query would report, and any an action uses; sorted by name."""
    names: set[str] = set()
    for literal in production.body:
        if isinstance(literal, Atom | Comparison):
            names.update(var.name for var in literal_variables(literal))
        elif isinstance(literal, Aggregate):
            names.add(literal.result.name)
    names = {name for name in names if not name.startswith("_")}
    for action in production.actions:
        names.update(arg.name for arg in action.args if isinstance(arg, Variable))
    return sorted(names)


def _check_tools(productions: Sequence[Production], tools: Mapping[str, Any]) -> None:
    for production in productions:
        for action in production.actions:
            if action.kind == "call" and action.name not in tools:
                raise UnknownToolError(
                    f"production {production.name} calls the tool {action.name} at "
                    f"{position(action.line, action.column)}, but the session has no such "
                    f"tool (it has: {', '.join(sorted(tools)) or 'none'})",
                    line=action.line,
                    column=action.column,
                )
