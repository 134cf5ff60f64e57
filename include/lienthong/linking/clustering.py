"""Clustering scored pairs into people without chaining unrelated people through one weak link.

Written by hand because Splink 4.0.17 clusters by connected components only: one wrong edge joins
two whole families of records. Here the pairs are taken strongest first (Kruskal-like, union-find,
near-linear) and a merge is refused when it would put together:

- two well-formed CCCDs (or two CMNDs) more than two typos or transpositions apart: an id
  belongs to one person, so such a cluster is two people however similar their names;
- two records a reviewer decided are different people.

Reviewer "same" decisions are merged first and only "different" decisions can stop them. Every
refused pair is returned with its reason for the review queue.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


# Two records of one person can each carry a typo of the same id, so up to two edits apart is
# still one id; two random ids with the same province, sex and year prefix are that close ~0.2 %
# of the time, and the model must have linked them first.
MAX_ID_EDITS = 2


def id_edits(a: str, b: str) -> int:
    """Edits between two ids: substitutions, insertions, deletions, adjacent transpositions (OSA distance)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


@dataclass
class _Group:
    members: list[str]
    ids: set[str] = field(default_factory=set)  # "cccd:..." / "cmnd:..."


@dataclass(frozen=True)
class Refusal:
    uid_a: str
    uid_b: str
    match_probability: float
    reason: str


class Clusterer:
    def __init__(self, ids: dict[str, str | None], cannot_link: Iterable[tuple[str, str]] = ()):
        """``ids``: record uid -> "kind:digits" or None, for every record to cluster."""
        self.parent = {uid: uid for uid in ids}
        self.groups = {uid: _Group([uid], {i} if i else set()) for uid, i in ids.items()}
        self.cannot: dict[str, set[str]] = {}
        for a, b in cannot_link:
            if a in self.parent and b in self.parent:
                self.cannot.setdefault(a, set()).add(b)
                self.cannot.setdefault(b, set()).add(a)
        self.refused: list[Refusal] = []

    def find(self, uid: str) -> str:
        root = uid
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[uid] != root:
            self.parent[uid], uid = root, self.parent[uid]
        return root

    def _conflict(self, a: _Group, b: _Group, check_ids: bool) -> str | None:
        small, large = (a, b) if len(a.members) <= len(b.members) else (b, a)
        large_members = set(large.members)
        for uid in small.members:
            if self.cannot.get(uid, set()) & large_members:
                return "reviewer decided different people"
        if check_ids:
            for x in a.ids:
                for y in b.ids:
                    (kind_x, _, digits_x), (kind_y, _, digits_y) = x.partition(":"), y.partition(":")
                    if kind_x == kind_y and id_edits(digits_x, digits_y) > MAX_ID_EDITS:
                        return "different ID numbers"
        return None

    def link(self, uid_a: str, uid_b: str, probability: float, *, check_ids: bool = True) -> bool:
        ra, rb = self.find(uid_a), self.find(uid_b)
        if ra == rb:
            return True
        reason = self._conflict(self.groups[ra], self.groups[rb], check_ids)
        if reason:
            self.refused.append(Refusal(uid_a, uid_b, probability, reason))
            return False
        if len(self.groups[ra].members) < len(self.groups[rb].members):
            ra, rb = rb, ra
        self.parent[rb] = ra
        absorbed = self.groups.pop(rb)
        self.groups[ra].members.extend(absorbed.members)
        self.groups[ra].ids |= absorbed.ids
        return True

    def clusters(self) -> dict[str, str]:
        """Record uid -> a representative uid of its cluster."""
        return {uid: self.find(uid) for uid in self.parent}


def cluster(ids: dict[str, str | None], edges: Iterable[tuple[str, str, float]],
            must_link: Iterable[tuple[str, str]] = (), cannot_link: Iterable[tuple[str, str]] = ()
            ) -> tuple[dict[str, str], list[Refusal]]:
    """Cluster records given scored edges (any order; only those meant to link) and review decisions."""
    clusterer = Clusterer(ids, cannot_link)
    for a, b in must_link:
        if a in clusterer.parent and b in clusterer.parent:
            clusterer.link(a, b, 1.0, check_ids=False)
    for a, b, probability in sorted(edges, key=lambda e: -e[2]):
        clusterer.link(a, b, probability)
    return clusterer.clusters(), clusterer.refused
