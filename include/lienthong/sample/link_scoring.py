"""Scoring person linking against the sample's ground truth (tests and benchmarks only).

Pairwise figures over record pairs: precision, recall, F1; recall on true pairs that share no
exact ID (the pairs an ID join cannot find); precision and recall per noise kind (a pair counts
for a kind when either record has it); per hard-negative kind (households, twins, name-copying
ghosts from ``truth/hard_cases.csv``) how many related people were merged; and how many ghost
records (made-up people, residents padded into a roll) were merged into someone else, in all and
per kind of ghost.
"""
from __future__ import annotations

import csv
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

GHOST_PLANTS = {"fabricated", "ghost_copy", "non_member"}
HARD_NEGATIVE_KINDS = ("household", "twin", "ghost_copy")


@dataclass(frozen=True)
class TruthRecord:
    person: str
    noise: frozenset[str]
    ghost: bool
    planted: frozenset[str] = frozenset()  # the ghost kinds (fabricated, ghost_copy, non_member)


def read_truth(sample: Path) -> dict[str, TruthRecord]:
    """Record uid (``org|record_id``) -> its person, noise kinds and whether it is a ghost record."""
    truth = {}
    with (sample / "truth" / "records.csv").open(encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            planted = set(filter(None, r["planted"].split(";")))
            truth[f"{r['org']}|{r['record_id']}"] = TruthRecord(
                r["person_id"], frozenset(filter(None, r["noise"].split(";"))), bool(planted & GHOST_PLANTS),
                frozenset(planted & GHOST_PLANTS))
    return truth


def read_hard_negatives(sample: Path) -> dict[str, set[frozenset[str]]]:
    """Hard-negative kind -> pairs of distinct people a linker must keep apart.

    Households: the man, his wife and children, every pair of them (siblings included)."""
    path = sample / "truth" / "hard_cases.csv"
    pairs: dict[str, set[frozenset[str]]] = {kind: set() for kind in HARD_NEGATIVE_KINDS}
    if not path.exists():
        return pairs
    households: dict[str, set[str]] = defaultdict(set)
    with path.open(encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if r["kind"] in ("spouse", "child"):
                households[r["related_person_id"]] |= {r["person_id"], r["related_person_id"]}
            else:
                pairs[r["kind"]].add(frozenset((r["person_id"], r["related_person_id"])))
    for members in households.values():
        pairs["household"] |= {frozenset(p) for p in itertools.combinations(sorted(members), 2)}
    return pairs


def _pairs_within(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(a, b) for members in groups.values() if len(members) > 1
            for a, b in itertools.combinations(sorted(members), 2)}


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 5) if denominator else None


def score_linking(clusters: dict[str, str], truth: dict[str, TruthRecord], ids: dict[str, str | None],
                  hard_negatives: dict[str, set[frozenset[str]]] | None = None) -> dict:
    """Figures for ``clusters`` (record uid -> cluster) of the records in ``truth``.

    ``ids``: record uid -> its ID as delivered, digits only (None when blank)."""
    uids = [u for u in clusters if u in truth]
    by_cluster: dict[str, list[str]] = defaultdict(list)
    by_person: dict[str, list[str]] = defaultdict(list)
    for u in uids:
        by_cluster[clusters[u]].append(u)
        by_person[truth[u].person].append(u)
    predicted, actual = _pairs_within(by_cluster), _pairs_within(by_person)
    correct = predicted & actual
    precision = len(correct) / len(predicted) if predicted else 1.0
    recall = len(correct) / len(actual) if actual else 1.0
    no_id = {(a, b) for a, b in actual if not ids.get(a) or ids.get(a) != ids.get(b)}

    per_noise: dict[str, dict] = {}
    kinds = sorted({k for u in uids for k in truth[u].noise})
    for kind in kinds:
        has = lambda pair: kind in truth[pair[0]].noise or kind in truth[pair[1]].noise  # noqa: E731
        kind_actual = {p for p in actual if has(p)}
        kind_predicted = {p for p in predicted if has(p)}
        per_noise[kind] = {"true_pairs": len(kind_actual),
                           "precision": _ratio(len(kind_predicted & actual), len(kind_predicted)),
                           "recall": _ratio(len(kind_actual & predicted), len(kind_actual))}

    people_in_cluster: dict[str, set[str]] = {c: {truth[u].person for u in members} for c, members in by_cluster.items()}
    per_hard: dict[str, dict] = {}
    on_rolls = set(by_person)
    for kind, pairs in (hard_negatives or {}).items():
        at_risk = [p for p in pairs if p <= on_rolls]
        involved = {person for p in at_risk for person in p}
        merged = sum(1 for p in at_risk if any(p <= people for people in
                                               (people_in_cluster[clusters[u]] for u in by_person[min(p)])))
        kind_predicted = {(a, b) for a, b in predicted if truth[a].person in involved or truth[b].person in involved}
        kind_actual = {(a, b) for a, b in actual if truth[a].person in involved}
        per_hard[kind] = {"people_pairs": len(at_risk), "merged": merged,
                          "precision": _ratio(len(kind_predicted & actual), len(kind_predicted)),
                          "recall": _ratio(len(kind_actual & predicted), len(kind_actual))}

    ghosts = [u for u in uids if truth[u].ghost]
    ghosts_merged = sum(1 for u in ghosts if len(people_in_cluster[clusters[u]]) > 1)
    per_ghost_kind = {kind: {"records": sum(1 for u in ghosts if kind in truth[u].planted),
                             "merged": sum(1 for u in ghosts if kind in truth[u].planted
                                           and len(people_in_cluster[clusters[u]]) > 1)}
                      for kind in sorted(GHOST_PLANTS)}
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5),
        "recall_no_shared_id": _ratio(len(no_id & predicted), len(no_id)), "true_pairs_no_shared_id": len(no_id),
        "ghost_records": len(ghosts), "ghosts_merged": ghosts_merged,
        "people_found": len(by_cluster), "people_true": len(by_person), "records": len(uids),
        "true_pairs": len(actual), "predicted_pairs": len(predicted),
        "per_noise_kind": per_noise, "per_hard_negative": per_hard, "ghosts_merged_per_kind": per_ghost_kind,
    }


def noise_mix(truth: dict[str, TruthRecord]) -> dict[str, int]:
    """Records per noise kind (how much of each the sample holds)."""
    return dict(sorted(Counter(k for r in truth.values() for k in r.noise).items()))
