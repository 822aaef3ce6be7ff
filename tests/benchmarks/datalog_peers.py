"""The reasoning benchmark's workloads and the engines that run them, one run per process.

    python -m tests.benchmarks.datalog_peers ENGINE WORKLOAD

builds the workload's facts as a list of int pairs, imports the engine, then times, as one
span: loading the facts (and the rules) into the engine, evaluating to the fixpoint and
counting the rows of the derived relation. It prints one JSON line: seconds, count and
peak_rss_mb, the process's peak resident memory (interpreter, engine and facts included).

The process imports the engine and nothing of Django, so what it holds is that engine's.
"""

import importlib
import json
import random
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Pair = tuple[int, int]

RANDOM_SEED = 4  # of seeds 0-5, the one whose closure (2,492,191 rows) is nearest 2.5M
RANDOM_NODES = 2000
RANDOM_EDGES = 4000


@dataclass(frozen=True)
class Rules:
    """One recursive query, written for each engine."""

    base: str  # the input relation, rows (a, b)
    derived: str  # the relation counted
    datalog: str  # our engine and clingo read the same text
    sql: str  # a WITH RECURSIVE query returning count(*); the base table has columns a, b
    pydatalog: Callable[[], object]  # declares the rules, returns the query to count


def _closure_pydatalog() -> object:
    from pyDatalog import pyDatalog

    edge, path, X, Y, Z = pyDatalog.create_terms("edge, path, X, Y, Z")
    path(X, Y) <= edge(X, Y)
    path(X, Z) <= path(X, Y) & edge(Y, Z)
    return path(X, Y)


def _same_generation_pydatalog() -> object:
    from pyDatalog import pyDatalog

    parent, sg, A, B, P, X, Y = pyDatalog.create_terms("parent, sg, A, B, P, X, Y")
    sg(X, Y) <= parent(P, X) & parent(P, Y) & (X != Y)
    sg(X, Y) <= parent(A, X) & sg(A, B) & parent(B, Y)
    return sg(X, Y)


CLOSURE = Rules(
    base="edge",
    derived="path",
    datalog="path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n",
    sql="""
        WITH RECURSIVE path(x, y) AS (
            SELECT a, b FROM edge
            UNION
            SELECT path.x, edge.b FROM path JOIN edge ON edge.a = path.y
        )
        SELECT count(*) FROM path
    """,
    pydatalog=_closure_pydatalog,
)

SAME_GENERATION = Rules(
    base="parent",
    derived="sg",
    datalog=(
        "sg(X, Y) :- parent(P, X), parent(P, Y), X != Y.\n"
        "sg(X, Y) :- parent(A, X), sg(A, B), parent(B, Y).\n"
    ),
    sql="""
        WITH RECURSIVE sg(x, y) AS (
            SELECT p.b, q.b FROM parent p JOIN parent q ON q.a = p.a WHERE p.b != q.b
            UNION
            SELECT p.b, q.b FROM sg JOIN parent p ON p.a = sg.x JOIN parent q ON q.a = sg.y
        )
        SELECT count(*) FROM sg
    """,
    pydatalog=_same_generation_pydatalog,
)


def chain(nodes: int) -> list[Pair]:
    """Edges i -> i+1 over nodes 0..nodes-1."""
    return [(node, node + 1) for node in range(nodes - 1)]


def random_graph(
    nodes: int = RANDOM_NODES, edges: int = RANDOM_EDGES, seed: int = RANDOM_SEED
) -> list[Pair]:
    """`edges` distinct edges between distinct nodes, drawn uniformly with a fixed seed."""
    rng = random.Random(seed)
    drawn: set[Pair] = set()
    while len(drawn) < edges:
        a, b = rng.randrange(nodes), rng.randrange(nodes)
        if a != b:
            drawn.add((a, b))
    return sorted(drawn)


def ternary_tree(depth: int) -> list[Pair]:
    """parent(P, C) of a complete ternary tree whose leaves are `depth` edges below the root;
    nodes are numbered level by level, the children of n being 3n+1, 3n+2 and 3n+3."""
    nodes = (3 ** (depth + 1) - 1) // 2
    return [((child - 1) // 3, child) for child in range(1, nodes)]


@dataclass(frozen=True)
class Workload:
    label: str
    rules: Rules
    facts: Callable[[], list[Pair]]
    expected: int  # rows of the derived relation, known independently of every engine


def _chain(nodes: int) -> Workload:
    return Workload(f"closure, chain of {nodes:,} nodes", CLOSURE, lambda: chain(nodes),
                    expected=nodes * (nodes - 1) // 2)


def _tree(depth: int) -> Workload:
    nodes = (3 ** (depth + 1) - 1) // 2
    # Every ordered pair of distinct nodes on one level below the root is in sg.
    pairs = sum(3**level * (3**level - 1) for level in range(1, depth + 1))
    return Workload(f"same generation, ternary tree of depth {depth} ({nodes:,} nodes)",
                    SAME_GENERATION, lambda: ternary_tree(depth), expected=pairs)


RANDOM_GRAPH = Workload(
    f"closure, random graph, {RANDOM_NODES:,} nodes, {RANDOM_EDGES:,} edges, seed {RANDOM_SEED}",
    CLOSURE, random_graph,
    expected=2_492_191,  # by a breadth-first search from every node, when the seed was chosen
)

WORKLOADS: dict[str, Workload] = {
    "chain-200": _chain(200),
    "chain-500": _chain(500),
    "chain-1000": _chain(1000),
    "random-2000": RANDOM_GRAPH,
    "sg-tree-5": _tree(5),
    "sg-tree-6": _tree(6),
}


def run_ours(rules: Rules, facts: list[Pair]) -> int:
    from reasoning.engine import Program

    db = Program.parse(rules.datalog).evaluate(facts={rules.base: facts})
    return db.count(rules.derived)


def run_clingo(rules: Rules, facts: list[Pair]) -> int:
    import clingo

    control = clingo.Control()
    text = "".join(f"{rules.base}({a},{b}).\n" for a, b in facts)
    # clingo counts in its own aggregate: reading 2.5M atoms out one by one through the Python
    # API (symbolic_atoms.by_signature) would add about 60% to its time on the random graph.
    count_rule = (
        f"derived_count(N) :- N = #count {{ X, Y : {rules.derived}(X, Y) }}.\n"
        "#show derived_count/1.\n"
    )
    control.add("base", [], text + rules.datalog + count_rule)
    control.ground([("base", [])])
    counts: list[int] = []
    control.solve(on_model=lambda model: counts.extend(
        symbol.arguments[0].number for symbol in model.symbols(shown=True)))
    (count,) = counts
    return count


def run_pydatalog(rules: Rules, facts: list[Pair]) -> int:
    from pyDatalog import pyDatalog

    base = pyDatalog.create_terms(rules.base)
    for a, b in facts:
        +base(a, b)
    return len(rules.pydatalog())


def run_sqlite(rules: Rules, facts: list[Pair]) -> int:
    connection = sqlite3.connect(":memory:")
    connection.execute(f"CREATE TABLE {rules.base} (a INTEGER NOT NULL, b INTEGER NOT NULL)")
    connection.executemany(f"INSERT INTO {rules.base} VALUES (?, ?)", facts)
    connection.execute(f"CREATE INDEX {rules.base}_a ON {rules.base} (a)")
    (count,) = connection.execute(rules.sql).fetchone()
    return count


MODULES = {
    "ours": "reasoning.engine",
    "clingo": "clingo",
    "pyDatalog": "pyDatalog.pyDatalog",
    "SQLite": "sqlite3",
}
ENGINES: dict[str, Callable[[Rules, list[Pair]], int]] = {
    "ours": run_ours,
    "clingo": run_clingo,
    "pyDatalog": run_pydatalog,
    "SQLite": run_sqlite,
}


def peak_rss_mb() -> float:
    """The process's VmHWM. Not ru_maxrss: Linux carries that over exec from the parent, so
    every run started by pytest would report at least pytest's own size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # the line reads "VmHWM:  13548 kB"
    raise RuntimeError("no VmHWM in /proc/self/status")


def main(engine: str, workload_name: str) -> None:
    workload = WORKLOADS[workload_name]
    facts = workload.facts()
    importlib.import_module(MODULES[engine])  # imported before the clock starts
    started = time.perf_counter()
    count = ENGINES[engine](workload.rules, facts)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "count": count, "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
