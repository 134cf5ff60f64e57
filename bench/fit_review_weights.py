"""Refit the suspicion score's weights (dbt_project/seeds/review_score_weights.csv) on the planted
truth of the fitting settings of bench/review_settings.yml (the demo seed and rates, full and
roll-only, with --people people), never on the untuned settings.

    uv run python bench/fit_review_weights.py [--penalty 0.1] [--people 20000] [--reuse]

A logistic regression of "planted ghost" on the rules' booleans (int_review__record_flags), fitted
by Newton's method with an L2 penalty (no penalty on the intercept) so that a rule that never fires
on a ghost gets a weight near 0 rather than minus infinity. The weights are log-odds: +1 multiplies
the odds of a ghost by e. Prints the weights, then writes the seed and one JSON line.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import psycopg
import yaml

sys.path.insert(0, str(Path(__file__).parent))
import review  # noqa: E402  (bench/review.py: building one setting)

WEIGHTS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "review_score_weights.csv"
FIT_ON = ("demo_full", "demo_roll_only")


def fit_logistic(x: np.ndarray, y: np.ndarray, penalty: float, steps: int = 50) -> np.ndarray:
    """Intercept first, then one weight per column of x."""
    design = np.hstack([np.ones((len(x), 1)), x])
    beta = np.zeros(design.shape[1])
    ridge = np.full(design.shape[1], penalty)
    ridge[0] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ beta))
        gradient = design.T @ (y - p) - ridge * beta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + np.diag(ridge) + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Few planted ghosts per sample: a light penalty lets a rare but telling rule earn its weight.
    parser.add_argument("--penalty", type=float, default=0.1, help="L2 penalty on the rule weights")
    parser.add_argument("--reuse", action="store_true", help="refit on the rules' booleans kept by the last build")
    parser.add_argument("--people", type=int, default=20000,
                        help="people in the fitting samples (the demo settings' seed and rates, more people:"
                             " more planted ghosts to fit on)")
    args = parser.parse_args()
    from lienthong.config.settings import load_settings
    from lienthong.sample.scoring import ghost_labels
    from lienthong.warehouse import resolve_url

    declared = yaml.safe_load(review.SETTINGS_FILE.read_text(encoding="utf-8"))["settings"]
    project = yaml.safe_load((WEIGHTS.parents[1] / "dbt_project.yml").read_text(encoding="utf-8"))
    kinds = [rule["kind"] for rule in project["vars"]["review_flags"]]
    settings = load_settings()
    server_url = resolve_url(settings, start=True)
    base = settings.state_dir / "bench-review-fit"
    base.mkdir(parents=True, exist_ok=True)
    features, labels = [], []
    for name in FIT_ON:
        # The rules' booleans and labels of a built setting are kept, so another --penalty refits in seconds.
        cache = base / f"fit_{name}.json"
        if not (args.reuse and cache.exists()):
            setting = {**declared[name], "people": args.people}
            url, sample, period = review.build_setting(f"fit_{name}", setting, base, server_url)
            with psycopg.connect(url) as conn:
                x, y = ghost_labels(conn, sample, period, kinds)
            cache.write_text(json.dumps({"kinds": kinds, "people": args.people, "features": x, "labels": y}))
            with psycopg.connect(server_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
                conn.execute(f'drop database if exists "{url.rsplit("/", 1)[1]}" with (force)')
            shutil.rmtree(base / f"fit_{name}", ignore_errors=True)
        cached = json.loads(cache.read_text())
        if cached["kinds"] != kinds:
            raise SystemExit(f"{cache} was built with other rules; run without --reuse")
        features += cached["features"]
        labels += cached["labels"]
    beta = fit_logistic(np.array(features, dtype=float), np.array(labels, dtype=float), args.penalty)
    weights = {"intercept": round(float(beta[0]), 3), **{k: round(float(b), 3) for k, b in zip(kinds, beta[1:])}}
    with WEIGHTS.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["term", "weight"])
        writer.writerows(weights.items())
    for term, weight in weights.items():
        print(f"  {term:20} {weight:+.3f}")
    print(json.dumps({"bench": "fit_review_weights", "fitted_on": FIT_ON, "people": args.people, "records": len(labels),
                      "ghosts": int(sum(labels)), "penalty": args.penalty, "weights": weights}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
