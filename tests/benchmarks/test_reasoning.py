"""Reasoning: our Datalog engine against clingo, pyDatalog and SQLite's recursive CTE.

Every engine runs every workload of tests/benchmarks/datalog_peers.py in a fresh process
(OMP/MKL/OpenBLAS threads 1), which times one span: loading the facts and rules into the
engine, evaluating to the fixpoint and counting the derived relation; importing the engine and
building the facts as Python int pairs come before it. Peak RSS is that process's VmHWM.
A run shorter than REPEAT_BELOW seconds is made REPEATS times, each in its own process, and
the median is kept. Prints a table, writes it to test-results/bench-reasoning.md, then asserts
the targets of the issue.

To add a peer comparison, add a workload to datalog_peers.WORKLOADS. A measurement without a
peer (the platform alone) returns its own `Row`s, with the target and verdict it judges.
"""

import json
import os
import platform
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.benchmarks.datalog_peers import WORKLOADS, random_graph, ternary_tree
from tests.stack import ROOT

REPORT = ROOT / "test-results" / "bench-reasoning.md"
OURS = "ours"
PEERS = ("clingo", "pyDatalog", "SQLite")
# The targets: ours at least this many times faster. SQLite is reported, not judged.
MIN_RATIO = {"clingo": 2.0, "pyDatalog": 100.0}
# pyDatalog took 190-220 s and 3.8 GB for the random graph here; 300 s still proves 100x
# for any case where ours takes under 3 s.
TIMEOUT = {"pyDatalog": 300.0}
DEFAULT_TIMEOUT = 600.0
# Other work on the two vCPUs moves a 10 ms run by 20%: short runs take the median of 5.
REPEATS = 5
REPEAT_BELOW = 5.0  # seconds: longer runs are made once, which keeps the file near 7 minutes
THREADS_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Run:
    """One engine on one workload, in its own process; `seconds` None means it timed out."""

    seconds: float | None
    count: int | None
    peak_rss_mb: float | None
    timeout: float


@dataclass(frozen=True)
class Row:
    case: str
    engine: str
    seconds: str
    ratio: str  # the peer's time over ours
    count: str
    peak_rss_mb: str
    target: str = "-"
    passed: bool | None = None  # None: reported, not judged

    def cells(self) -> list[str]:
        verdict = {True: "PASS", False: "FAIL", None: "info"}[self.passed]
        return [self.case, self.engine, self.seconds, self.ratio, self.count, self.peak_rss_mb,
                self.target, verdict]


def _run_once(engine: str, workload: str, timeout: float) -> Run:
    command = [sys.executable, "-m", "tests.benchmarks.datalog_peers", engine, workload]
    try:
        done = subprocess.run(command, cwd=ROOT, env={**os.environ, **THREADS_ENV},
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Run(seconds=None, count=None, peak_rss_mb=None, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"{engine} failed on {workload}:\n{done.stderr}")
    result = json.loads(done.stdout.splitlines()[-1])
    return Run(seconds=result["seconds"], count=result["count"],
               peak_rss_mb=result["peak_rss_mb"], timeout=timeout)


def _run(engine: str, workload: str) -> Run:
    """The median of REPEATS fresh processes when a run is short, else the one run."""
    timeout = TIMEOUT.get(engine, DEFAULT_TIMEOUT)
    runs = [_run_once(engine, workload, timeout)]
    if runs[0].seconds is not None and runs[0].seconds < REPEAT_BELOW:
        runs += [_run_once(engine, workload, timeout) for _ in range(REPEATS - 1)]
    counts = {run.count for run in runs}
    assert len(counts) == 1, f"{engine} counted {counts} on {workload} in different runs"
    return sorted(runs, key=lambda run: run.seconds or float("inf"))[len(runs) // 2]


def _ratio(peer: Run, ours: Run) -> tuple[str, float | None]:
    """The ratio as shown, and the value judged: a timeout's is a lower bound."""
    if ours.seconds is None:
        return "-", None
    if peer.seconds is None:
        bound = peer.timeout / ours.seconds
        return f">x{bound:,.0f}", bound
    ratio = peer.seconds / ours.seconds
    return f"x{ratio:,.1f}", ratio


def _engine_row(case: str, engine: str, run: Run, ours: Run, *, expected: int,
                counts_agree: bool) -> Row:
    timed_out = run.seconds is None
    seconds = f"timeout {run.timeout:.0f} s" if timed_out else f"{run.seconds:.4f}"
    count = "timeout" if timed_out else f"{run.count:,}"
    rss = "-" if run.peak_rss_mb is None else f"{run.peak_rss_mb:,.0f}"
    if engine == OURS:
        return Row(case, engine, seconds, "x1", count, rss, f"all counts {expected:,}",
                   passed=counts_agree and not timed_out)
    shown, judged = _ratio(run, ours)
    minimum = MIN_RATIO.get(engine)
    if minimum is None:
        return Row(case, engine, seconds, shown, count, rss)
    return Row(case, engine, seconds, shown, count, rss, f">= x{minimum:g}",
               passed=judged is not None and judged >= minimum)


def _case_rows(name: str) -> list[Row]:
    workload = WORKLOADS[name]
    runs = {engine: _run(engine, name) for engine in (OURS, *PEERS)}
    counts = {run.count for run in runs.values() if run.seconds is not None}
    agree = counts == {workload.expected}
    return [_engine_row(workload.label, engine, run, runs[OURS], expected=workload.expected,
                        counts_agree=agree) for engine, run in runs.items()]


NOTES = f"""\
- seconds: loading the facts and rules into the engine, evaluating to the fixpoint and
  counting the derived relation, in a process of its own that does nothing else; importing
  the engine and building the facts (Python int pairs) come before the clock starts. Runs
  under {REPEAT_BELOW:g} s are the median of {REPEATS} fresh processes.
- ours: Program.parse(rules).evaluate(facts=...) then db.count(). clingo: facts and rules as
  one program text (ctl.add), ground, solve, counted by a #count aggregate in the program.
  pyDatalog: create_terms, `+ edge(a, b)` per fact, the rules, len() of the query.
  SQLite: in-memory, executemany, an index on the join column, WITH RECURSIVE ... UNION,
  count(*).
- ratio: the peer's seconds over ours. A run stopped at its timeout shows its count as
  "timeout" and its ratio as a lower bound, the timeout over our time.
- peak RSS: the high-water mark (VmHWM) of the engine's process, the interpreter, the
  engine's module and the facts included. Python with the random graph's facts holds 14 MB;
  importing our engine brings it to 17 MB, clingo to 23 MB, pyDatalog to 52 MB.
- Trees are complete ternary trees; depth counts edges from the root to a leaf.
- "all counts N" (on the ours row): every engine that finished derived N rows, the number
  known in advance (closed form for chains and trees, a breadth-first search from every node
  for the random graph). Chains count path(X, Y), trees sg(X, Y).
"""


def _table(rows: list[Row], load: tuple[float, float]) -> str:
    header = ["case", "engine", "seconds", "ratio (peer / ours)", "derived count",
              "peak RSS MB", "target", "result"]
    lines = ["| " + " | ".join(cells) + " |"
             for cells in [header, ["---"] * len(header), *(row.cells() for row in rows)]]
    return "\n".join([
        "# Reasoning: our Datalog engine vs clingo, pyDatalog, SQLite",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} vCPU, load average "
        f"{load[0]:.2f} before / {load[1]:.2f} after, Python {platform.python_version()}, "
        f"clingo {version('clingo')}, pyDatalog {version('pyDatalog')}, "
        f"SQLite {sqlite3.sqlite_version}",
        "",
        *lines,
        "",
        NOTES,
    ])


def _report(table: str, capsys: pytest.CaptureFixture, path: Path = REPORT) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_text(table)
    with capsys.disabled():
        sys.stdout.write(f"\n\n{table}\n")


@pytest.mark.timeout(1800)
def test_it_reasons_faster_than_its_peers_with_the_same_counts(capsys):
    load_before = os.getloadavg()[0]
    rows = [row for name in WORKLOADS for row in _case_rows(name)]
    _report(_table(rows, (load_before, os.getloadavg()[0])), capsys)
    missed = [f"{row.case} / {row.engine}" for row in rows if row.passed is False]
    assert not missed, f"targets missed: {missed} (see {REPORT})"


def test_it_builds_the_workloads_the_table_names():
    edges = random_graph()
    assert len(set(edges)) == 4000
    assert all(a != b and 0 <= a < 2000 and 0 <= b < 2000 for a, b in edges)
    assert len(ternary_tree(5)) == 364 - 1
    assert len(ternary_tree(6)) == 1093 - 1
    assert {child for _, child in ternary_tree(6)} == set(range(1, 1093))
