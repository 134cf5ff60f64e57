"""Candidate weights for the suspicion score compared offline (docs/review.md, "Ninth pass"): the
rule booleans of warehouses kept by `bench/review.py --keep` scored with each given seed file as
rpt_member_flags scores them (the shape's intercept, `seen_in_deliveries`, each fired rule's weight
in its stratum), against the planted truth.

    uv run python bench/review_seeds.py --seed-file A.csv [--seed-file B.csv ...] \
        [--only NAME ...] [--sample DIR ...]

`--only` names settings of bench/review_settings.yml, `--sample` folders of bench/xgen.py, both
kept by `bench/review.py --keep` (the same `--sample` folders). Per setting and seed file: flagged ·
precision · recall at vars.review.suspicion_threshold (precision at recall 0.9) [best recall at
precision ≥ 0.9 at any threshold], counted per reviewed record; then one JSON line. No database is
written: a rescore with the chosen seed (`bench/review.py --rescore`) gives the bench's figures.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np
import psycopg
import yaml

sys.path.insert(0, str(Path(__file__).parent))
import fit_review_weights as fitting  # noqa: E402
import review  # noqa: E402
from review_roll_rates import Score, cell, figures  # noqa: E402


def load(conn, sample: Path, period: str, kinds: list[str]) -> dict:
    """Each reviewed record's rule booleans and planted label in the bench's period (scoring.ghost_labels)."""
    from lienthong.sample.scoring import ghost_labels

    features, labels, partial = ghost_labels(conn, sample, period, kinds)
    return {"x": np.array(features, dtype=float).reshape(len(labels), len(kinds)), "y": np.array(labels, dtype=float),
            "partial": np.array(partial, dtype=bool)}


def read_seed(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return {row["term"]: (float(row["weight"]), float(row["weight_with_id"])) for row in csv.DictReader(handle)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-file", action="append", type=Path, required=True, help="a review_score_weights.csv")
    parser.add_argument("--only", action="append", default=[], help="a setting kept by bench/review.py --keep")
    parser.add_argument("--sample", action="append", type=Path, default=[],
                        help="a bench/xgen.py sample kept by bench/review.py --sample DIR --keep")
    args = parser.parse_args()
    from lienthong.config.settings import load_settings
    from lienthong.warehouse import resolve_url

    score, threshold = Score.from_project()
    kinds = score.kinds
    seeds = {str(path): read_seed(path) for path in args.seed_file}
    settings = load_settings()
    server_url = resolve_url(settings, start=True)
    base = settings.state_dir / "bench-review"
    declared = yaml.safe_load(review.SETTINGS_FILE.read_text(encoding="utf-8"))["settings"]
    chosen = [(name, base / name / "sample", declared[name]["deliveries"] == "roll_only") for name in args.only]
    for path in args.sample:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        chosen.append((path.name, path, bool(manifest.get("roll_only"))))
    results = {}
    for name, sample, roll_only in chosen:
        period = json.loads((sample / "manifest.json").read_text(encoding="utf-8"))["deliveries"]["from"][:7]
        with psycopg.connect(review._database_url(server_url, name)) as conn:
            s = load(conn, sample, period, kinds)
        if roll_only:
            s = score.roll_only(s)
        ghosts = int(s["y"].sum())
        results[name] = {seed: figures(score.scored_rows(s, weights, None), ghosts, threshold)
                         for seed, weights in seeds.items()}
        print(f"{name:22} " + " | ".join(cell(f) for f in results[name].values()), flush=True)
    print(json.dumps({"bench": "review_seeds", "threshold": threshold, "seed_files": list(seeds),
                      "settings": results}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
