"""The agenda: conflict strategies, refraction, removal, and its cost at scale."""

from reasoning.engine import (
    Activation,
    Agenda,
    Production,
    Program,
    fifo,
    lifo,
    salience_fifo,
    salience_recency_specificity,
)
from reasoning.engine.agenda import specificity

PRODUCTIONS = {
    production.name: production
    for production in Program.parse(
        """
        @salience(5) urgent: alarm(A) ==> emit page(A).
        plain: reading(S, V) ==> emit log(S, V).
        narrow: reading("boiler", V), V > 90 ==> emit hot(V).
        @salience(-1) late: reading(S, V) ==> emit archive(S, V).
        """
    ).productions
}


def activation(name: str, sequence: int, **bindings: str | int) -> Activation:
    return Activation(PRODUCTIONS[name], tuple(bindings.items()), sequence)


def fired(agenda: Agenda) -> list[tuple[str, int]]:
    order = []
    while (next_one := agenda.pop()) is not None:
        order.append((next_one.production.name, next_one.sequence))
    return order


def filled(strategy, activations: list[Activation]) -> Agenda:
    agenda = Agenda(strategy)
    for item in activations:
        agenda.add(item)
    return agenda


MIXED = [
    activation("plain", 1, S="a", V=1),
    activation("urgent", 2, A="x"),
    activation("late", 3, S="a", V=1),
    activation("plain", 4, S="b", V=2),
    activation("narrow", 4, V=95),
]


def test_it_orders_by_salience_then_recency_then_specificity_by_default():
    agenda = filled(None, MIXED)

    assert fired(agenda) == [
        ("urgent", 2), ("narrow", 4), ("plain", 4), ("plain", 1), ("late", 3),
    ]


def test_it_counts_conditions_and_constants_as_specificity():
    assert specificity(PRODUCTIONS["plain"]) == 1
    assert specificity(PRODUCTIONS["narrow"]) == 3


def test_it_orders_by_salience_then_the_oldest_with_salience_fifo():
    agenda = filled(salience_fifo, MIXED)

    assert fired(agenda) == [
        ("urgent", 2), ("plain", 1), ("plain", 4), ("narrow", 4), ("late", 3),
    ]


def test_it_ignores_salience_with_fifo_and_lifo():
    assert fired(filled(fifo, MIXED)) == [
        ("plain", 1), ("urgent", 2), ("late", 3), ("plain", 4), ("narrow", 4),
    ]
    assert fired(filled(lifo, MIXED)) == [
        ("plain", 4), ("narrow", 4), ("late", 3), ("urgent", 2), ("plain", 1),
    ]


def test_it_takes_any_function_of_the_activation_as_strategy():
    def alphabetical(item: Activation) -> tuple[int, ...]:
        return tuple(-ord(char) for char in item.production.name)

    agenda = filled(alphabetical, MIXED)

    assert [name for name, _ in fired(agenda)] == ["late", "narrow", "plain", "plain", "urgent"]


def test_it_lists_pending_activations_in_firing_order_without_firing_them():
    agenda = filled(salience_recency_specificity, MIXED)

    listed = [(item.production.name, item.sequence) for item in agenda.pending()]

    assert listed == fired(filled(salience_recency_specificity, MIXED))
    assert len(agenda) == 5


def test_it_fires_a_match_at_most_once():
    agenda = Agenda()
    agenda.add(activation("plain", 1, S="a", V=1))

    agenda.add(activation("plain", 2, S="a", V=1))
    assert len(agenda) == 1
    assert agenda.pop() is not None
    agenda.add(activation("plain", 3, S="a", V=1))

    assert len(agenda) == 0
    assert agenda.pop() is None


def test_it_keeps_the_first_activation_of_a_match_already_pending():
    agenda = Agenda()
    agenda.add(activation("plain", 1, S="a", V=1))
    agenda.add(activation("plain", 9, S="a", V=1))

    first = agenda.pop()

    assert first is not None and first.sequence == 1


def test_it_tells_matches_apart_by_production_and_bindings():
    agenda = Agenda()
    for item in (
        activation("plain", 1, S="a", V=1),
        activation("plain", 2, S="a", V=2),
        activation("late", 3, S="a", V=1),
    ):
        agenda.add(item)

    assert len(agenda) == 3


def test_it_keys_matches_on_bindings_whatever_their_order():
    agenda = Agenda()
    agenda.add(Activation(PRODUCTIONS["plain"], (("V", 1), ("S", "a")), 1))
    agenda.add(Activation(PRODUCTIONS["plain"], (("S", "a"), ("V", 1)), 2))

    only = agenda.pop()

    assert only is not None and only.bindings == (("S", "a"), ("V", 1))
    assert agenda.pop() is None


def test_it_drops_a_removed_activation_and_may_queue_it_again():
    agenda = filled(None, MIXED)

    agenda.remove("plain", (("V", 2), ("S", "b")))
    agenda.remove("plain", (("S", "zzz"), ("V", 0)))
    assert len(agenda) == 4
    assert ("plain", 4) not in fired(agenda)

    agenda.add(activation("plain", 7, S="b", V=2))
    assert fired(agenda) == [("plain", 7)]


def test_it_fires_equal_keys_in_the_order_they_were_added():
    agenda = Agenda(lambda item: (item.production.salience,))
    for value in range(5):
        agenda.add(activation("plain", 0, S="s", V=value))

    order = [item.bindings[1][1] for item in iter(agenda.pop, None)]

    assert order == [0, 1, 2, 3, 4]


class _Counted(int):
    """An int that counts how often the heap compares it."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        _Counted.comparisons += 1
        return int(self) == int(other)  # type: ignore[call-overload]

    def __gt__(self, other: int) -> bool:
        _Counted.comparisons += 1
        return int(self) > int(other)

    __hash__ = int.__hash__


def test_it_handles_many_thousands_of_activations_in_n_log_n_comparisons():
    count = 40_000
    agenda = Agenda(lambda item: (_Counted(item.sequence % 97), _Counted(item.sequence)))
    production: Production = PRODUCTIONS["plain"]
    _Counted.comparisons = 0

    for sequence in range(count):
        agenda.add(Activation(production, (("S", "s"), ("V", sequence)), sequence))
    for sequence in range(count):
        if sequence % 4:
            agenda.remove("plain", (("S", "s"), ("V", sequence)))
    order = [(item.sequence % 97, item.sequence) for item in iter(agenda.pop, None)]

    assert len(order) == count // 4
    assert order == sorted(order, reverse=True)
    # A binary heap needs about 2 log2(n) ≈ 31 comparisons per pop; a linear scan, thousands.
    assert _Counted.comparisons < count * 80
