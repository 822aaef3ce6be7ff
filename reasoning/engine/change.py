"""What one change to a session did, relation by relation."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Change:
    """How many rows of each relation appeared and disappeared (relations with none omitted).

    Adding two changes sums them, so a row added by one and removed by the other counts in
    both `added` and `removed`.
    """

    added: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)

    def __add__(self, other: "Change") -> "Change":
        return Change(_sum(self.added, other.added), _sum(self.removed, other.removed))


def _sum(left: dict[str, int], right: dict[str, int]) -> dict[str, int]:
    total = dict(left)
    for name, count in right.items():
        total[name] = total.get(name, 0) + count
    return total
