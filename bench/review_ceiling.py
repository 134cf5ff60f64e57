"""How far any suspicion score could go on the review's evidence (docs/review.md, "Twelfth pass"):
on warehouses kept by `bench/review.py --keep --sample DIR`, which tells each planted made-up member
(the `fabricated` truth the score is scored against: invented members and copies of another roll's
member) carries in what was delivered, how many carry none beyond a missing ID, and how many real
members carry the same combination; then the best recall at precision >= 0.9 reachable by ANY score
of those tells.

    uv run python bench/review_ceiling.py --sample DIR [--sample DIR ...]

A score is a function of the record's tells, so it ranks the records of one combination of tells
(a cell) alike. Taking cells by falling share of made-up members, the first cells whose records hold
made-up members at precision >= 0.9 give the highest recall any score on those tells reaches; counted
on the sample itself (the cells' shares are the sample's own, not estimated elsewhere), an upper
bound, the more optimistic the more cells. Three sets of tells: `tells` (one per kind of evidence
named in issue #20, each the OR of the rules reading it), `rules` (every rule's boolean), and
`planted` (`tells` with each made-up member also given every tell the generator planted on it, as if
every rule caught every planted tell: the bound with perfect rules, real members as they are).
Prints the tables, then one JSON line.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).parent))
import review  # noqa: E402

# One tell per kind of evidence a made-up member can carry, each the OR of the rules that read it.
TELLS = {
    "no_id": ("no_identity",),
    "impossible_id": ("impossible_id",),
    "odd_age": ("impossible_age", "very_old"),
    "placeholder_phone": ("placeholder_phone",),
    "unknown_hamlet": ("unknown_hamlet",),
    "name_copy_unit": ("name_copy",),
    "copy_other_roll": ("name_copy_commune", "name_copy_hamlet"),
    "no_dues_attendance": ("never_attended", "seen_nowhere_else"),
}
# The generator's planted tells (truth/records.csv `planted`) and the tell that would show each.
PLANTED = {"odd_age": "odd_age", "placeholder_phone": "placeholder_phone", "unknown_hamlet": "unknown_hamlet",
           "name_copy": "name_copy_unit", "ghost_copy": "copy_other_roll"}


def load(conn, sample: Path, kinds: list[str]) -> dict:
    from lienthong.sample.scoring import SCORE_TRUTH, true_records, truth_ghosts

    period = json.loads((sample / "manifest.json").read_text(encoding="utf-8"))["deliveries"]["from"][:7]
    expected = set().union(*(truth_ghosts(sample).get(t, set()) for t in SCORE_TRUTH))
    records = true_records(conn, sample, period)
    with (sample / "truth" / "records.csv").open(encoding="utf-8") as handle:
        planted = {row["record_id"]: row["planted"].split(";") for row in csv.DictReader(handle)}
    columns = ", ".join(f"coalesce({kind}, false)::int" for kind in kinds)
    rows = [(org, records[key], row) for key, org, *row in conn.execute(
        f"select source_record_key, org_code, {columns} from intermediate.int_review__record_flags"
        " where period_key = %s", (period,)) if key in records]
    return {"org": np.array([r[0] for r in rows]), "x": np.array([r[2] for r in rows], dtype=int),
            "y": np.array([r[1] in expected for r in rows]),
            "planted": [planted.get(r[1], []) if r[1] in expected else [] for r in rows]}


def tells(s: dict, kinds: list[str]) -> np.ndarray:
    return np.column_stack([s["x"][:, [kinds.index(k) for k in rules if k in kinds]].max(axis=1)
                            for rules in TELLS.values()])


def ceiling(features: np.ndarray, y: np.ndarray, precision: float = 0.9) -> dict:
    """Best recall at precision >= `precision` of any score of `features` (whole cells, best share first)."""
    cells: dict[bytes, list[int]] = {}
    for row, label in zip(features, y):
        cell = cells.setdefault(row.tobytes(), [0, 0])
        cell[0] += int(label)
        cell[1] += 1
    ghosts, taken, found, best = int(y.sum()), 0, 0, (0, 0)
    for hits, size in sorted(cells.values(), key=lambda c: (-c[0] / c[1], -c[1])):
        taken, found = taken + size, found + hits
        if found / taken >= precision:
            best = (found, taken)
    return {"cells": len(cells), "recall": round(best[0] / ghosts, 3) if ghosts else None,
            "found": best[0], "flagged": best[1], "planted": ghosts}


def analyse(s: dict, kinds: list[str]) -> dict:
    t = tells(s, kinds)
    names = list(TELLS)
    y = s["y"]
    no_id = t[:, names.index("no_id")] == 1
    beyond = t[:, 1:].sum(axis=1) > 0
    combos = Counter(tuple(n for n, v in zip(names, row) if v) or ("none",) for row in t[y])
    real_by_combo = Counter(tuple(n for n, v in zip(names, row) if v) or ("none",) for row in t[~y])
    kinds_planted = Counter("copy" if "ghost_copy" in p else "invented" for p, g in zip(s["planted"], y) if g)
    # Made-up members carrying no tell beyond a missing ID, by what the generator planted on them.
    bare = [p for p, g, nid, b in zip(s["planted"], y, no_id, beyond) if g and nid and not b]
    oracle = t.copy()
    for i, p in enumerate(s["planted"]):
        for tell in p:
            if tell in PLANTED:
                oracle[i, names.index(PLANTED[tell])] = 1
    return {
        "records": int(len(y)), "planted": int(y.sum()), "planted_kinds": dict(kinds_planted),
        "carries": {n: int(t[y, i].sum()) for i, n in enumerate(names)},
        "real_carries": {n: int(t[~y, i].sum()) for i, n in enumerate(names)},
        "only_missing_id": {"made_up": int((y & no_id & ~beyond).sum()), "real": int((~y & no_id & ~beyond).sum())},
        "no_tell_at_all": {"made_up": int((y & ~no_id & ~beyond).sum()), "real": int((~y & ~no_id & ~beyond).sum())},
        "bare_by_planted": dict(Counter(";".join(p[1:]) if p and p[0] == "fabricated" else ";".join(p) for p in bare)),
        "combinations": [{"tells": "+".join(c), "made_up": n, "real": real_by_combo[c]}
                         for c, n in combos.most_common()],
        "ceiling": {"tells": ceiling(t, y), "rules": ceiling(s["x"], y), "planted": ceiling(oracle, y)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", action="append", type=Path, required=True,
                        help="a bench/xgen.py sample kept by bench/review.py --sample DIR --keep")
    args = parser.parse_args()
    from lienthong.config.settings import load_settings
    from lienthong.warehouse import resolve_url
    from review_roll_rates import Score

    score, _ = Score.from_project()
    server_url = resolve_url(load_settings(), start=True)
    results = {}
    for path in args.sample:
        with psycopg.connect(review._database_url(server_url, path.name)) as conn:
            s = load(conn, path, score.kinds)
        results[path.name] = {"all": analyse(s, score.kinds)}
        for org in sorted(set(s["org"])):
            mine = s["org"] == org
            results[path.name][org] = analyse({k: (v[mine] if isinstance(v, np.ndarray) else
                                                   [p for p, m in zip(v, mine) if m]) for k, v in s.items()},
                                              score.kinds)
        for group, r in results[path.name].items():
            c = r["ceiling"]
            print(f"{path.name:8} {group:22} planted {r['planted']:4} ({r['planted_kinds']}) "
                  f"only a missing ID: {r['only_missing_id']['made_up']} made-up / {r['only_missing_id']['real']} real; "
                  f"no tell: {r['no_tell_at_all']['made_up']} / {r['no_tell_at_all']['real']}; "
                  f"ceiling recall at precision 0.9: tells {c['tells']['recall']} ({c['tells']['cells']} cells), "
                  f"rules {c['rules']['recall']} ({c['rules']['cells']}), planted {c['planted']['recall']}", flush=True)
        r = results[path.name]["all"]
        print(f"  made-up / real carrying each tell: "
              + ", ".join(f"{n} {r['carries'][n]} / {r['real_carries'][n]}" for n in TELLS))
        print(f"  bare made-up members (only a missing ID) by planted tells: {r['bare_by_planted']}")
        print("  combinations (made-up / real): " + "; ".join(
            f"{c['tells']} {c['made_up']} / {c['real']}" for c in r["combinations"][:14]))
    print(json.dumps({"bench": "review_ceiling", "samples": results}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
