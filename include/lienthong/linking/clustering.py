"""Clustering scored pairs into people without chaining unrelated people through one weak link.

Written by hand because Splink 4.0.17 clusters by connected components only: one wrong edge joins
two whole families of records. Here the pairs are taken strongest first (Kruskal-like, union-find,
near-linear) and a merge is refused when it would put together:

- two well-formed CCCDs (or two CMNDs) more than ``max_id_edits`` typos or transpositions apart
  (the linking policy): an id belongs to one person, so such a cluster is two people however
  similar their names;
- two records that ``conflicts.pair_conflict`` says cannot be one person (different full dates
  or years of birth, given names of siblings and twins, no date of birth at all), unless an ID
  of one side agrees with an ID of the other; checked across the whole of both clusters, so that no record links
  two people by agreeing with each of them (a name without a middle name, a year-only date);
- two clusters of which no pair agrees on more than name and place (``conflicts.corroborated``:
  an ID up to one typo, a full date, a year both know, or each side its own plausible ID): what
  a record padded into a roll with a member's name, hamlet and phone, no ID or an invented one,
  and a made-up date shares with the member's entry that has no date; a person's own records
  share at least one of these (one person's two entries on one roll are copied from the same
  papers);
- two records a reviewer decided are different people.

Reviewer "same" decisions are merged first and only "different" decisions can stop them. Every
refused pair is returned with its reason for the review queue.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lienthong.linking.conflicts import RecordFacts, corroborated, id_edits, ids_agree, pair_conflict
from lienthong.linking.policy import LinkingPolicy, load_policy

UNCORROBORATED = "nothing agrees but name and place"


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
    def __init__(self, facts: dict[str, RecordFacts], policy: LinkingPolicy,
                 cannot_link: Iterable[tuple[str, str]] = (), name_counts: dict[str, int] | None = None):
        """``facts``: record uid -> what the conflict rules read, for every record to cluster;
        ``name_counts``: given-name key -> records carrying it (all records, not only these)."""
        self.facts = facts
        self.policy = policy
        self.name_counts = name_counts or {}
        self.parent = {uid: uid for uid in facts}
        self.groups = {uid: _Group([uid], {f.id} if f.id else set()) for uid, f in facts.items()}
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
        if not check_ids:
            return None
        for x in a.ids:
            for y in b.ids:
                (kind_x, _, digits_x), (kind_y, _, digits_y) = x.partition(":"), y.partition(":")
                if kind_x == kind_y and id_edits(digits_x, digits_y) > self.policy.max_id_edits:
                    return "different ID numbers"
        if any(ids_agree(x, y, self.policy.agreeing_id_edits) for x in a.ids for y in b.ids):
            return None
        for x in small.members:
            for y in large.members:
                reason = pair_conflict(self.facts[x], self.facts[y], self.name_counts, self.policy)
                if reason:
                    return reason
        if not any(corroborated(self.facts[x], self.facts[y], self.policy)
                   for x in small.members for y in large.members):
            return UNCORROBORATED
        return None

    def merge(self, uid_a: str, uid_b: str, probability: float, *, check_ids: bool = True) -> bool:
        """Put the clusters of two records together unless a rule refuses (then recorded in ``refused``)."""
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


def cluster(facts: dict[str, RecordFacts], edges: Iterable[tuple[str, str, float]],
            must_link: Iterable[tuple[str, str]] = (), cannot_link: Iterable[tuple[str, str]] = (),
            name_counts: dict[str, int] | None = None, policy: LinkingPolicy | None = None,
            ) -> tuple[dict[str, str], list[Refusal]]:
    """Cluster records given scored edges (any order; only those meant to link) and review
    decisions, under ``policy`` (the configured one when None)."""
    clusterer = Clusterer(facts, policy or load_policy(), cannot_link, name_counts)
    for a, b in must_link:
        if a in clusterer.parent and b in clusterer.parent:
            clusterer.merge(a, b, 1.0, check_ids=False)
    for a, b, probability in sorted(edges, key=lambda e: -e[2]):
        clusterer.merge(a, b, probability)
    return clusterer.clusters(), clusterer.refused
