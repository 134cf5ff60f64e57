"""Clustering scored pairs into people without chaining unrelated people through one weak link.

Written by hand because Splink 4.0.17 clusters by connected components only: one wrong edge joins
two whole families of records. Here the pairs are taken strongest first (Kruskal-like, union-find,
near-linear) and a merge is refused when it would put together:

- two well-formed CCCDs (or two CMNDs) more than ``max_id_edits`` typos or transpositions apart
  (the linking policy): an id belongs to one person, so such a cluster is two people however
  similar their names;
- two records that ``conflicts.pair_conflict`` says cannot be one person (different full dates
  or years of birth, given names of siblings and twins (another first letter, or a letter apart with
  another phone), other middle names, two entries of one roll a letter apart,
  different sexes, no date of birth at all), unless an ID
  of one side agrees with an ID of the other; checked across the whole of both clusters, so that no record links
  two people by agreeing with each of them (a name without a middle name, a year-only date);
- two clusters of which no pair agrees on more than name and place (``conflicts.corroborated``:
  an ID up to one typo, a full date, a year both know, or each side its own plausible ID): what
  a record padded into a roll with a member's name, hamlet and phone, no ID or an invented one,
  and a made-up date shares with the member's entry that has no date; a person's own records
  share at least one of these (one person's two entries on one roll are copied from the same
  papers);
- two clusters whose only corroboration is the year of a bare entry (no plausible ID, no phone, no
  full date, on a roll that writes a phone or a full date for most of its records:
  ``conflicts.year_alone``) against a documented record (full date and ID): a copy padded with a
  member's name and a made-up date that has the member's year (one in fifty) looks so;
- two records a reviewer decided are different people.

A record that would fit both sides of a refused merge (no rule against it on the other side, its
link there within the policy's ``ambiguity_margin_bits`` of its strongest link taken, no ID shared
with its own cluster) is linked to neither: an unaccented name between twins, a record without an
ID between namesakes. Strongest-first would put it with whichever came first; its links wait in
the review queue instead (``fits two people kept apart``).

Reviewer "same" decisions are merged first and only "different" decisions can stop them. Every
refused pair is returned with its reason for the review queue.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from lienthong.linking.conflicts import (
    RecordFacts, corroborated, id_edits, ids_agree, pair_conflict, year_alone,
)
from lienthong.linking.policy import LinkingPolicy, load_policy

UNCORROBORATED = "nothing agrees but name and place"
YEAR_ALONE = "a bare entry: only the year agrees with a documented record"
AMBIGUOUS = "fits two people kept apart"


def _weight(probability: float) -> float:
    probability = min(max(probability, 1e-12), 1 - 1e-12)
    return math.log2(probability / (1 - probability))


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
                 cannot_link: Iterable[tuple[str, str]] = (), name_counts: dict[str, int] | None = None,
                 spelling_counts: dict[str, int] | None = None):
        """``facts``: record uid -> what the conflict rules read, for every record to cluster;
        ``name_counts``: given-name key -> records carrying it; ``spelling_counts``: given name as
        written with its marks -> records carrying it (both over all records, not only these)."""
        self.facts = facts
        self.policy = policy
        self.name_counts = name_counts or {}
        self.spelling_counts = spelling_counts
        self.parent = {uid: uid for uid in facts}
        self.groups = {uid: _Group([uid], {f.id} if f.id else set()) for uid, f in facts.items()}
        self.cannot: dict[str, set[str]] = {}
        for a, b in cannot_link:
            if a in self.parent and b in self.parent:
                self.cannot.setdefault(a, set()).add(b)
                self.cannot.setdefault(b, set()).add(a)
        self.refused: list[Refusal] = []
        self.ambiguous: set[str] = set()  # records that fit two clusters the rules keep apart
        self.bond: dict[str, float] = {}  # record uid -> match weight of its strongest link taken

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
                reason = pair_conflict(self.facts[x], self.facts[y], self.name_counts, self.policy, self.spelling_counts)
                if reason:
                    return reason
        corroborating = [(self.facts[x], self.facts[y]) for x in small.members for y in large.members
                         if corroborated(self.facts[x], self.facts[y], self.policy)]
        if not corroborating:
            return UNCORROBORATED
        if all(year_alone(x, y, self.policy) for x, y in corroborating):
            return YEAR_ALONE
        return None

    def merge(self, uid_a: str, uid_b: str, probability: float, *, check_ids: bool = True) -> bool:
        """Put the clusters of two records together unless a rule refuses (then recorded in ``refused``)."""
        ra, rb = self.find(uid_a), self.find(uid_b)
        if ra == rb:
            return True
        reason = self._conflict(self.groups[ra], self.groups[rb], check_ids)
        if reason:
            self.refused.append(Refusal(uid_a, uid_b, probability, reason))
            if check_ids and reason != "reviewer decided different people":
                self.ambiguous |= {uid for uid, other in ((uid_a, rb), (uid_b, ra))
                                   if self._fits_both(uid, other, _weight(probability))}
            return False
        for uid in (uid_a, uid_b):
            self.bond[uid] = max(self.bond.get(uid, -math.inf), _weight(probability))
        if len(self.groups[ra].members) < len(self.groups[rb].members):
            ra, rb = rb, ra
        self.parent[rb] = ra
        absorbed = self.groups.pop(rb)
        self.groups[ra].members.extend(absorbed.members)
        self.groups[ra].ids |= absorbed.ids
        return True

    def _fits_both(self, uid: str, other_root: str, weight: float) -> bool:
        """Whether ``uid``, already in a cluster with other records, would fit the cluster of
        ``other_root`` as well: its link there (``weight``) nearly as strong as its strongest link
        taken, no rule against it there, and no ID shared with its own cluster."""
        own = self.groups[self.find(uid)]
        if len(own.members) == 1 or weight < self.bond.get(uid, math.inf) - self.policy.ambiguity_margin_bits:
            return False
        fact = self.facts[uid]
        if fact.id and any(self.facts[m].id == fact.id for m in own.members if m != uid):
            return False
        return self._conflict(_Group([uid], {fact.id} if fact.id else set()), self.groups[other_root], True) is None

    def clusters(self) -> dict[str, str]:
        """Record uid -> a representative uid of its cluster."""
        return {uid: self.find(uid) for uid in self.parent}


def _components(uids: Iterable[str], pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Record uid -> a representative of its connected component over ``pairs``."""
    parent = {uid: uid for uid in uids}

    def find(uid: str) -> str:
        while parent[uid] != uid:
            parent[uid] = parent[parent[uid]]
            uid = parent[uid]
        return uid

    for a, b in pairs:
        if a in parent and b in parent:
            parent[find(a)] = find(b)
    return {uid: find(uid) for uid in parent}


def cluster(facts: dict[str, RecordFacts], edges: Iterable[tuple[str, str, float]],
            must_link: Iterable[tuple[str, str]] = (), cannot_link: Iterable[tuple[str, str]] = (),
            name_counts: dict[str, int] | None = None, policy: LinkingPolicy | None = None,
            spelling_counts: dict[str, int] | None = None) -> tuple[dict[str, str], list[Refusal]]:
    """Cluster records given scored edges (any order; only those meant to link) and review
    decisions, under ``policy`` (the configured one when None)."""
    policy = policy or load_policy()
    edges = sorted(edges, key=lambda e: -e[2])
    must_link, cannot_link = list(must_link), list(cannot_link)

    def run(edges: list[tuple[str, str, float]], must_link: list[tuple[str, str]], held_apart: set[str]) -> Clusterer:
        clusterer = Clusterer(facts, policy, cannot_link, name_counts, spelling_counts)
        for a, b in must_link:
            if a in clusterer.parent and b in clusterer.parent:
                clusterer.merge(a, b, 1.0, check_ids=False)
        for a, b, probability in edges:
            if a in held_apart or b in held_apart:
                clusterer.refused.append(Refusal(a, b, probability, AMBIGUOUS))
            else:
                clusterer.merge(a, b, probability)
        return clusterer

    # A record that fits two people the rules keep apart (an unaccented name between twins, a record
    # without an ID between two namesakes) is linked to neither: the first pass finds them; the
    # second clusters again, without their links (they wait in the review queue), the parts of the
    # link graph that hold them (the other parts cannot change).
    first = run(edges, must_link, set())
    if not first.ambiguous:
        return first.clusters(), first.refused
    component = _components(facts, [(a, b) for a, b, _ in edges] + must_link)
    again = {component[uid] for uid in first.ambiguous}
    second = run([e for e in edges if component.get(e[0]) in again],
                 [m for m in must_link if component.get(m[0]) in again], first.ambiguous)
    clusters = {uid: (second if component[uid] in again else first).find(uid) for uid in facts}
    refused = [r for r in first.refused if component.get(r.uid_a) not in again] + second.refused
    return clusters, refused
