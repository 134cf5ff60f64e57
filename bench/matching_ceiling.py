"""How far any decision on the linker's evidence could go (docs/linking.md, "Twelfth round"): on a
bench kept by `bench/matching.py --keep DIR` (with its sample), every blocked pair is scored again
with the stored model (no evidence floor) and grouped by its full comparison pattern: the gamma
level of each of the model's comparisons and the verdict of the clustering rules on the two
records alone (``Clusterer._conflict`` on two single records: evidence against, an ID too far
apart, nothing corroborating, a bare entry's year alone). Per pattern it counts true pairs, false
pairs and false pairs involving a planted ghost, then takes whole patterns by falling purity while
the pairwise precision stays >= 0.998, skipping every pattern holding a ghost's false pair: the
highest pairwise recall any decision on those patterns reaches (greedy by purity; counted on the
sample itself, so an upper bound). The same decision is clustered (connected components of the
pairs taken) and scored like the bench, and the linker's clusters are scored beside it. Where the
linker's missed true pairs are: never compared (no decision on patterns recovers a pair no chain
of compared true pairs joins), in a pattern holding a ghost's false pair, in a ghost-free pattern
the precision bound leaves out, or in a pattern the ceiling takes (recall the linker leaves).

    uv run python bench/matching_ceiling.py --keep DIR --sample DIR [--learn-from LOG ...]

``--learn-from``: this script's output on other samples (the development ones). Their cells are
pooled, the ceiling's decision is taken on the pool and applied to this sample's patterns: what
linking whole patterns chosen elsewhere does here (the ceiling itself is counted on the sample it
decides, so it is optimistic; this is not).

Prints the tables, then the figures as one JSON line (last line of output).
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from scipy.cluster.hierarchy import DisjointSet

sys.path.insert(0, str(Path(__file__).parent))
import matching  # noqa: E402

PRECISION = 0.998
# Pairs below the linker's evidence floor are scored too: a pattern's pairs straddle the floor
# (term frequencies move a pair's score within its pattern).
FLOOR = 1e-9


@dataclass
class Cell:
    """The pairs of one comparison pattern."""

    true: int = 0
    true_no_id: int = 0  # true pairs whose records share no exact ID
    false: int = 0
    ghost: int = 0  # false pairs one of whose records is a planted ghost
    linker_missed: int = 0  # true pairs the linker's clusters keep apart


def tabulate(pairs: Iterable[tuple[Hashable, bool, bool, bool, bool]]) -> dict[Hashable, Cell]:
    """Cells from ``(pattern, same person, a ghost on either side, no shared ID, linker missed)``."""
    cells: dict[Hashable, Cell] = defaultdict(Cell)
    for pattern, same, ghost, no_id, missed in pairs:
        cell = cells[pattern]
        if same:
            cell.true += 1
            cell.true_no_id += no_id
            cell.linker_missed += missed
        else:
            cell.false += 1
            cell.ghost += ghost
    return dict(cells)


def ceiling(cells: dict[Hashable, Cell], true_pairs: int, true_pairs_no_id: int,
            precision: float = PRECISION) -> dict:
    """The patterns to link for the highest pairwise recall at precision >= ``precision`` with no
    ghost's false pair: ghost-free patterns by falling purity (larger first among equals), the
    longest run of them whose pooled precision holds; ``recall_bound``: the recall no choice of whole
    ghost-free patterns passes at that precision (for all true pairs, not those without a shared ID). ``true_pairs``: all true pairs, compared or not."""
    order = sorted((p for p, c in cells.items() if c.ghost == 0 and c.true),
                   key=lambda p: (-cells[p].true / (cells[p].true + cells[p].false), -cells[p].true))
    found = found_no_id = linked = best = 0
    for i, pattern in enumerate(order, 1):
        cell = cells[pattern]
        found, found_no_id, linked = found + cell.true, found_no_id + cell.true_no_id, linked + cell.true + cell.false
        if found / linked >= precision:
            best = i
    taken = order[:best]
    found = sum(cells[p].true for p in taken)
    linked = found + sum(cells[p].false for p in taken)
    # Purity order is the fractional relaxation's order, so the first pattern left out, taken in the
    # share that brings precision down to the bound, gives a recall no choice of whole patterns passes
    # (one may skip that pattern for smaller, less pure ones and land between the two).
    bound = found
    if best < len(order):
        cell = cells[order[best]]
        bound += cell.true * max(0.0, found - precision * linked) / (precision * (cell.true + cell.false) - cell.true)
    return {"patterns": taken, "true_linked": found, "false_linked": linked - found,
            "recall_bound": round(bound / true_pairs, 5) if true_pairs else None,
            "precision": round(found / linked, 5) if linked else None,
            "recall": round(found / true_pairs, 5) if true_pairs else None,
            "recall_no_shared_id": round(sum(cells[p].true_no_id for p in taken) / true_pairs_no_id, 5)
            if true_pairs_no_id else None}


def apply(cells: dict[Hashable, Cell], patterns: Iterable[Hashable], true_pairs: int, true_pairs_no_id: int) -> dict:
    """Pairwise figures of linking ``patterns`` (chosen elsewhere) on ``cells``."""
    taken = [cells[p] for p in patterns if p in cells]
    found, false = sum(c.true for c in taken), sum(c.false for c in taken)
    return {"true_linked": found, "false_linked": false, "ghost_pairs_linked": sum(c.ghost for c in taken),
            "precision": round(found / (found + false), 5) if found + false else None,
            "recall": round(found / true_pairs, 5) if true_pairs else None,
            "recall_no_shared_id": round(sum(c.true_no_id for c in taken) / true_pairs_no_id, 5)
            if true_pairs_no_id else None}


def pooled(outputs: Iterable[dict]) -> tuple[dict[str, Cell], int, int]:
    """Cells summed by pattern over other runs of this script (their JSON lines), with their true pairs."""
    cells: dict[str, Cell] = defaultdict(Cell)
    true_pairs = true_pairs_no_id = 0
    for output in outputs:
        true_pairs, true_pairs_no_id = true_pairs + output["true_pairs"], true_pairs_no_id + output["true_pairs_no_shared_id"]
        for row in output["cells"]:
            cell = cells[row["pattern"]]
            for field in ("true", "true_no_id", "false", "ghost", "linker_missed"):
                setattr(cell, field, getattr(cell, field) + row[field])
    return dict(cells), true_pairs, true_pairs_no_id


def _components(uids: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    sets = DisjointSet(uids)
    for a, b in edges:
        sets.merge(a, b)
    return {u: sets[u] for u in sets}


def scored_pairs(url: str):
    """Every blocked pair scored with the stored model, and the clustering rules' verdict on each."""
    from lienthong.linking import engine, load_policy, store
    from lienthong.linking.clustering import Clusterer
    from lienthong.linking.conflicts import RecordFacts
    from lienthong.linking.run import FACT_COLUMNS, SCORED_COLUMNS, SHARED_COLUMNS, _counts, _spelling_counts, source_habits

    policy = load_policy()
    with psycopg.connect(url) as conn:
        records = store.read_frame(conn, f"select {', '.join(SCORED_COLUMNS)} from identity.records",
                                   shared=SHARED_COLUMNS)
        records["birth_year"] = records["birth_year"].astype("Int64")
        model = conn.execute("select settings from identity.model order by model_id desc limit 1").fetchone()[0]
        habits = source_habits(conn, policy)
        facts = {row[0]: RecordFacts.from_features(dict(zip(FACT_COLUMNS, row)), habits) for row in
                 conn.execute(f"select {', '.join(FACT_COLUMNS)} from identity.records").fetchall()}
        name_counts = dict(_counts(conn, "given_key").itertuples(index=False, name=None))
        spelling_counts = _spelling_counts(conn)
    pairs = engine.predict(records, model, policy.replace(evidence_floor=FLOOR))
    rules = Clusterer(facts, policy, name_counts=name_counts, spelling_counts=spelling_counts)
    pairs["verdict"] = [rules._conflict(rules.groups[a], rules.groups[b], True) or "-"
                        for a, b in zip(pairs["uid_a"], pairs["uid_b"])]
    return pairs, model


def analyse(url: str, sample: Path, learned: list[str] | None = None) -> dict:
    from lienthong.sample.link_scoring import read_hard_negatives, read_truth, score_linking

    truth = read_truth(sample)
    ids = matching._ids(url)
    with psycopg.connect(url) as conn:
        linker = dict(conn.execute("select record_uid, person_id from identity.record_person").fetchall())
    pairs, model = scored_pairs(url)
    labels = matching._level_labels(model)
    gammas = [f"gamma_{c}" for c in labels]
    uids = [u for u in linker if u in truth]
    by_person: dict[str, list[str]] = defaultdict(list)
    for u in uids:
        by_person[truth[u].person].append(u)
    true_pairs = {(a, b) for members in by_person.values() for a, b in itertools.combinations(sorted(members), 2)}
    no_id = {(a, b) for a, b in true_pairs if not ids.get(a) or ids.get(a) != ids.get(b)}
    missed = {(a, b) for a, b in true_pairs if linker[a] != linker[b]}

    def label(pattern) -> str:
        *levels, verdict = pattern
        return ", ".join(f"{c.removesuffix('_key')} {labels[c].get(g, '?')}"
                         for c, g in zip(labels, levels)) + f"; rules: {verdict}"

    rows, compared_true = [], set()
    for record in pairs[["uid_a", "uid_b", "verdict", *gammas]].itertuples(index=False, name=None):
        a, b, verdict, *levels = record
        if a not in truth or b not in truth or a not in linker or b not in linker:
            continue
        key = (min(a, b), max(a, b))
        same = truth[a].person == truth[b].person
        if same:
            compared_true.add(key)
        rows.append((label((*[int(g) for g in levels], verdict)), same, truth[a].ghost or truth[b].ghost,
                     key in no_id, key in missed, key))
    cells = tabulate(r[:5] for r in rows)
    best = ceiling(cells, len(true_pairs), len(no_id))
    taken = set(best["patterns"])

    hard_negatives = read_hard_negatives(sample)
    decided = _components(uids, (r[5] for r in rows if r[0] in taken))
    figures_ceiling = score_linking(decided, truth, ids, hard_negatives)
    figures_linker = score_linking(linker, truth, ids, hard_negatives)
    # The most any clustering of compared pairs reaches: true pairs joined by a chain of compared true pairs.
    oracle = _components(uids, compared_true)
    reachable = {p for p in true_pairs if oracle[p[0]] == oracle[p[1]]}

    def where(pair: tuple[str, str], pattern) -> str:
        if pattern is None:
            return "never compared, joined by compared true pairs" if pair in reachable else "never compared, unreachable"
        cell = cells[pattern]
        return ("ceiling links it" if pattern in taken else "pattern holds a ghost's false pair" if cell.ghost
                else "ghost-free pattern below the precision bound")

    pattern_of = {r[5]: r[0] for r in rows if r[1]}
    missed_where = {"all": Counter(), "no_shared_id": Counter()}
    for pair in missed:
        place = where(pair, pattern_of.get(pair))
        missed_where["all"][place] += 1
        if pair in no_id:
            missed_where["no_shared_id"][place] += 1

    def row(pattern) -> dict:
        return {"pattern": pattern, **asdict(cells[pattern]), "taken": pattern in taken}

    transfer = None
    if learned is not None:
        transfer = apply(cells, learned, len(true_pairs), len(no_id))
        chosen = set(learned)
        clustered = score_linking(_components(uids, (r[5] for r in rows if r[0] in chosen)), truth, ids, hard_negatives)
        transfer["clustered"] = {k: clustered[k] for k in ("precision", "recall", "recall_no_shared_id", "ghosts_merged")}
    leave = sorted((p for p in cells if cells[p].linker_missed), key=lambda p: -cells[p].linker_missed)
    return {
        "records": len(uids), "true_pairs": len(true_pairs), "true_pairs_no_shared_id": len(no_id),
        "compared_pairs": len(rows), "patterns": len(cells),
        "compared_true_pairs": len(compared_true), "reachable_recall": round(len(reachable) / len(true_pairs), 5),
        "reachable_recall_no_shared_id": round(len(reachable & no_id) / len(no_id), 5),
        "ceiling": {**{k: v for k, v in best.items() if k != "patterns"}, "patterns_taken": len(taken),
                    "clustered": {k: figures_ceiling[k] for k in ("precision", "recall", "recall_no_shared_id",
                                                                  "ghosts_merged", "predicted_pairs")}},
        "linker": {k: figures_linker[k] for k in ("precision", "recall", "f1", "recall_no_shared_id", "ghosts_merged")},
        "linker_missed": {k: dict(v.most_common()) for k, v in missed_where.items()},
        "linker_missed_by_pattern": [row(p) for p in leave[:15]],
        "taken_linker_missed": [row(p) for p in leave if p in taken][:10],
        "learned_elsewhere": transfer,
        "cells": [row(p) for p in sorted(cells, key=lambda p: -cells[p].true - cells[p].false)],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, required=True, help="a folder kept by bench/matching.py --keep")
    parser.add_argument("--sample", type=Path, required=True, help="the sample that bench ran on")
    parser.add_argument("--learn-from", type=Path, action="append", default=[],
                        help="this script's output (a log ending in its JSON line) on another sample")
    args = parser.parse_args()
    learned = None
    if args.learn_from:
        cells, true_pairs, true_pairs_no_id = pooled(json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
                                                     for path in args.learn_from)
        learned = ceiling(cells, true_pairs, true_pairs_no_id)["patterns"]
    from lienthong.ports import free_port
    from lienthong.warehouse.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(args.keep / "pgdata", free_port())
    url = server.start()
    try:
        r = analyse(url, args.sample, learned)
    finally:
        server.stop()
    c, lk = r["ceiling"], r["linker"]
    print(f"{args.sample.name}: {r['records']:,} records, {r['true_pairs']:,} true pairs "
          f"({r['true_pairs_no_shared_id']:,} without a shared ID), {r['compared_pairs']:,} compared pairs in "
          f"{r['patterns']:,} patterns; compared true pairs {r['compared_true_pairs']:,}")
    print(f"  reachable by any clustering of compared pairs: recall {r['reachable_recall']}, "
          f"without shared ID {r['reachable_recall_no_shared_id']}")
    print(f"  ceiling (pairwise, whole patterns, precision >= {PRECISION}, no ghost pair): precision {c['precision']}, "
          f"recall {c['recall']} (no choice of whole patterns above {c['recall_bound']}), without shared ID {c['recall_no_shared_id']} ({c['patterns_taken']} patterns); "
          f"clustered: {c['clustered']}")
    print(f"  linker: {lk}")
    if r["learned_elsewhere"]:
        print(f"  the ceiling's decision taken on {', '.join(p.name for p in args.learn_from)} ({len(learned)} patterns), "
              f"here: {r['learned_elsewhere']}")
    for subset, counts in r["linker_missed"].items():
        print(f"  linker missed ({subset}): " + ", ".join(f"{k} {n}" for k, n in counts.items()))
    for title, key in (("patterns holding the linker's misses", "linker_missed_by_pattern"),
                       ("patterns the ceiling takes where the linker misses", "taken_linker_missed")):
        print(f"  {title}:")
        for p in r[key]:
            print(f"    missed {p['linker_missed']:4} true {p['true']:5} false {p['false']:6} ghost {p['ghost']:3} "
                  f"{'taken' if p['taken'] else '-----'}  {p['pattern']}")
    print(json.dumps({"bench": "matching_ceiling", "sample": args.sample.name, **r}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
