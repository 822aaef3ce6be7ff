"""A relation: a set of int tuples and its hash indexes.

An index maps the values of some bound columns to the list of the remaining columns of every
row that has them (a scalar when one column is bound or remains, a tuple otherwise), which
is exactly the shape the generated join loops unpack. Indexes are built on first use for a
(relation, bound columns) pair and then kept up to date as rows arrive and leave (a session
removes rows; see session.py). A key whose list empties is dropped, so `key in index` stays
the test "some row has these values" that negation relies on.

A binary relation computed by the linear-recursion fast path (linear.py) is held grouped,
{other column: set of carried-column values}, while it grows; its row set is only built when
something reads it, because building millions of tuples costs more than deriving them.
"""

from collections.abc import Callable, Iterable, Iterator
from functools import cache

Row = tuple[int, ...]
Index = dict[object, list[object]]
Groups = dict[int, set[int]]


class Relation:
    __slots__ = ("name", "arity", "_rows", "indexes", "_groups", "_carried")

    def __init__(self, name: str, arity: int, rows: Iterable[Row] = ()):
        self.name = name
        self.arity = arity
        self._rows: set[Row] | None = set(rows)
        self.indexes: dict[tuple[int, ...], Index] = {}
        self._groups: Groups | None = None
        self._carried = 1

    @property
    def rows(self) -> set[Row]:
        if self._rows is None:
            self._rows = set(self._grouped_rows())
            self._groups = None
        return self._rows

    def __len__(self) -> int:
        if self._rows is None:
            return sum(len(values) for values in (self._groups or {}).values())
        return len(self._rows)

    def frozen(self) -> frozenset[Row]:
        """The rows as a frozenset, built straight from the groups when they are held so."""
        return frozenset(self._grouped_rows() if self._rows is None else self._rows)

    def hold_grouped(self, groups: Groups, carried: int) -> None:
        """From now on `groups` (grown in place by the caller) is the content of the relation."""
        assert self.arity == 2 and not self.indexes
        self._groups, self._carried, self._rows = groups, carried, None

    def _grouped_rows(self) -> Iterator[Row]:
        groups = self._groups or {}
        if self._carried == 1:
            return ((key, value) for key, values in groups.items() for value in values)
        return ((value, key) for key, values in groups.items() for value in values)

    def index(self, columns: tuple[int, ...]) -> Index:
        found = self.indexes.get(columns)
        if found is None:
            found = self.indexes[columns] = {}
            index_extender(self.arity, columns)(found, self.rows)
        return found

    def add(self, rows: set[Row]) -> None:
        """Adds rows that are not in the relation yet (the caller has taken the difference)."""
        self.rows.update(rows)
        for columns, index in self.indexes.items():
            index_extender(self.arity, columns)(index, rows)

    def remove(self, rows: set[Row]) -> None:
        """Removes rows that are in the relation (the caller has taken the intersection)."""
        self.rows.difference_update(rows)
        for columns, index in self.indexes.items():
            index_shrinker(self.arity, columns)(index, rows)


def key_source(names: list[str]) -> str:
    """The source of an index key (or rest): a scalar for one column, else a tuple."""
    return names[0] if len(names) == 1 else tuple_source(names)


def tuple_source(names: list[str]) -> str:
    """The source of a tuple of the given expressions, as rows are stored."""
    return f"({', '.join(names)},)" if names else "()"


@cache
def index_extender(arity: int, columns: tuple[int, ...]) -> Callable[[Index, Iterable[Row]], None]:
    """A function adding rows to an index on `columns`, compiled once per shape."""
    row, key, rest = _index_sources(arity, columns)
    return _index_function("extend", arity, columns, (
        "def extend(index, rows):\n"
        "    get = index.get\n"
        f"    for {row} in rows:\n"
        f"        found = get({key})\n"
        "        if found is None:\n"
        f"            index[{key}] = [{rest}]\n"
        "        else:\n"
        f"            found.append({rest})\n"
    ))


@cache
def index_shrinker(arity: int, columns: tuple[int, ...]) -> Callable[[Index, Iterable[Row]], None]:
    """A function removing rows (all present) from an index on `columns`, compiled once per
    shape; a key goes with its last row."""
    row, key, rest = _index_sources(arity, columns)
    return _index_function("shrink", arity, columns, (
        "def shrink(index, rows):\n"
        f"    for {row} in rows:\n"
        f"        found = index[{key}]\n"
        "        if len(found) == 1:\n"
        f"            del index[{key}]\n"
        "        else:\n"
        f"            found.remove({rest})\n"
    ))


def _index_sources(arity: int, columns: tuple[int, ...]) -> tuple[str, str, str]:
    """The sources of a row's unpacking, its index key and the rest stored under the key."""
    names = [f"c{i}" for i in range(arity)]
    key = key_source([names[i] for i in columns])
    rest = key_source([name for i, name in enumerate(names) if i not in columns])
    return tuple_source(names), key, rest


def _index_function(
    name: str, arity: int, columns: tuple[int, ...], source: str
) -> Callable[[Index, Iterable[Row]], None]:
    namespace: dict[str, object] = {}
    exec(compile(source, f"<index {name} {arity}:{columns}>", "exec"), namespace)
    return namespace[name]  # type: ignore[return-value]
