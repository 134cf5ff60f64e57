"""What-if for the suspicion score (docs/review.md, "Eighth pass"): each rule's rate among real
members estimated from the delivered roll itself instead of the fitting samples', evaluated offline
on warehouses kept by `bench/review.py --keep` and `bench/fit_review_weights.py`. Not what the
pipeline scores: measured in the eighth pass and not adopted.

    uv run python bench/review_roll_rates.py --only NAME ... [--prior 100] [--floor 0.003]
        [--group organisation|delivery] [--refit] [--rounds 2]

For each scored rule whose rate among the fitting samples' real members is at least `--floor`
(within the stratum: records without / with a valid ID; `no_identity` over all records), a record
that fired it gets log(fitted rate / roll rate) added to the rule's weight, where the roll rate is
the rule's rate over the records of the same organisation (`--group organisation`) or of the whole
delivery, in the same stratum, each record counted by 1 - its score under the seed (so ghosts the
score already sees do not count as real members), drawn towards the fitted rate by `--prior`
pseudo-records. Without `--refit` the seed's weights are kept; with it the weights are refitted as
fit_review_weights.py fits them (same samples, penalty, calibration), with those adjustments as an
offset, `--rounds` times (each round's adjustments weigh records by the previous round's score).
Prints per setting the score at the seed's threshold for the seed and for the adaptation:
flagged · precision · recall (precision at recall 0.9) [best recall at precision 0.9 at any threshold].
"""
from __future__ import annotations

import argparse
import csv
import math
import sys
from pathlib import Path

import numpy as np
import psycopg
import yaml

sys.path.insert(0, str(Path(__file__).parent))
import fit_review_weights as fitting  # noqa: E402
import review  # noqa: E402


def load(conn, sample: Path, kinds: list[str]) -> dict:
    """Each reviewed record's organisation, rule booleans and planted label (scoring.ghost_labels plus the organisation)."""
    from lienthong.sample.scoring import SCORE_TRUTH, true_records, truth_ghosts

    period = conn.execute("select max(period_key) from intermediate.int_review__record_flags").fetchone()[0]
    expected = set().union(*(truth_ghosts(sample).get(t, set()) for t in SCORE_TRUTH))
    records = true_records(conn, sample, period)
    columns = ", ".join(f"coalesce({kind}, false)::int" for kind in kinds)
    rows = [(org, row, int(records[key] in expected)) for key, org, *row in conn.execute(
        f"select source_record_key, org_code, {columns} from intermediate.int_review__record_flags"
        " where period_key = %s", (period,)) if key in records]
    return {"org": np.array([r[0] for r in rows]), "x": np.array([r[1] for r in rows], dtype=float),
            "y": np.array([r[2] for r in rows], dtype=float)}


class Score:
    def __init__(self, kinds: list[str], scored: set[str], tells: tuple[str, ...], delivery_rules: tuple[str, ...]):
        self.kinds, self.scored, self.delivery_rules = kinds, scored, delivery_rules
        self.no_id = kinds.index("no_identity")
        self.tells = [kinds.index(k) for k in tells]

    @classmethod
    def from_project(cls) -> tuple["Score", float]:
        """The score as dbt_project.yml's rules define it, and the suspicion threshold."""
        project = yaml.safe_load((fitting.WEIGHTS.parents[1] / "dbt_project.yml").read_text(encoding="utf-8"))
        rules = project["vars"]["review_flags"]
        kinds = [rule["kind"] for rule in rules]
        scored = {rule["kind"] for rule in rules if rule["suggests"] in fitting.SCORED_SUGGESTIONS}
        delivery_rules = tuple(rule["kind"] for rule in rules if rule.get("reads") == "deliveries")
        score = cls(kinds, scored, tuple(k for k in delivery_rules if k in scored), delivery_rules)
        return score, float(project["vars"]["review"]["suspicion_threshold"])

    def roll_only(self, s: dict) -> dict:
        x = s["x"].copy()
        x[:, [self.kinds.index(k) for k in self.delivery_rules]] = 0
        return {**s, "x": x, "roll_only": True}

    def log_odds(self, s: dict, w: dict, adjust: np.ndarray | None = None) -> np.ndarray:
        """As rpt_member_flags: the shape's intercept, seen_in_deliveries, the fired rules' weights in their
        stratum; a partial sender's records (`partial`) with their own (score_weights.partial_weights)."""
        from lienthong.sample.score_weights import partial_weights

        partial = s.get("partial")
        if partial is not None and partial.any() and not s.get("roll_only"):
            rest = {**s, "partial": None}
            return np.where(partial, self.log_odds(rest, partial_weights(w), adjust), self.log_odds(rest, w, adjust))
        x, lacks = s["x"], s["x"][:, self.no_id] == 1
        if s.get("roll_only"):
            z = np.full(len(x), w["intercept_roll_only"][0])
        else:
            z = w["intercept"][0] + np.where(x[:, self.tells].sum(axis=1) == 0, w["seen_in_deliveries"][0], 0.0)
        weights = np.where(lacks[:, None], [w[k][0] for k in self.kinds], [w[k][1] for k in self.kinds])
        return z + (x * (weights + (0 if adjust is None else adjust))).sum(axis=1)

    def real_rates(self, fitting_samples: list[dict]) -> np.ndarray:
        """Per stratum (0: no valid ID, 1: with one) each rule's rate among the fitting samples' real members."""
        x = np.vstack([s["x"][s["y"] == 0] for s in fitting_samples])
        lacks = x[:, self.no_id] == 1
        rates = np.vstack([x[lacks].mean(axis=0), x[~lacks].mean(axis=0)])
        rates[0, self.no_id], rates[1, self.no_id] = lacks.mean(), 0.0
        return rates

    def adjustments(self, s: dict, rates: np.ndarray, w: dict | None, prior: float, floor: float,
                    group: str) -> np.ndarray:
        x, lacks = s["x"], s["x"][:, self.no_id] == 1
        real = np.ones(len(x)) if w is None else 1 / (1 + np.exp(self.log_odds(s, w)))
        groups = s["org"] if group == "organisation" else np.zeros(len(x))
        adjust = np.zeros_like(x)
        for g in np.unique(groups):
            in_group = groups == g
            for stratum, members in ((0, in_group & lacks), (1, in_group & ~lacks)):
                for k, kind in enumerate(self.kinds):
                    fitted = rates[stratum, k]
                    if (kind not in self.scored and k != self.no_id) or fitted < floor or not members.any():
                        continue
                    counted = in_group if k == self.no_id else members
                    roll = ((x[counted, k] * real[counted]).sum() + prior * fitted) / (real[counted].sum() + prior)
                    adjust[members, k] = math.log(fitted / roll)
        return adjust

    def fit(self, samples: list[dict], adjust: list[np.ndarray], l2: float) -> dict:
        """score_weights.fit_joint's two stages, with the adjustments of the rules in each stage as an offset."""
        from lienthong.sample.score_weights import _logistic, _rule_columns

        x, y, a = np.vstack([s["x"] for s in samples]), np.concatenate([s["y"] for s in samples]), np.vstack(adjust)
        lacks, kinds = x[:, self.no_id], self.kinds
        roll = [k for k, kind in enumerate(kinds) if kind in self.scored and k != self.no_id and k not in self.tells]
        weights = {term: (0.0, 0.0) for term in ("intercept", "intercept_roll_only", *kinds, "seen_in_deliveries")}

        def place(beta, names):
            for b, (k, part) in zip(beta, names):
                without, with_id = weights[kinds[k]]
                weights[kinds[k]] = (without + b, with_id + b) if part == "shared" else (without + b, with_id)

        offset = (x[:, [self.no_id, *roll]] * a[:, [self.no_id, *roll]]).sum(axis=1)
        columns, names = _rule_columns(x, lacks, roll)
        design = np.column_stack([np.ones(len(y)), lacks, columns])
        beta = _logistic(design, y, offset, np.r_[0.0, 0.0, np.ones(len(names))], l2)
        weights["intercept_roll_only"], weights["no_identity"] = (beta[0], beta[0]), (beta[1], 0.0)
        place(beta[2:], names)
        roll_score = design @ np.r_[0.0, beta[1:]] + offset + (x[:, self.tells] * a[:, self.tells]).sum(axis=1)
        columns, names = _rule_columns(x, lacks, self.tells)
        seen = (x[:, self.tells].sum(axis=1) == 0).astype(float)
        beta = _logistic(np.column_stack([np.ones(len(y)), seen, columns]), y, roll_score,
                         np.r_[0.0, np.ones(1 + len(names))], l2)
        weights["intercept"], weights["seen_in_deliveries"] = (beta[0], beta[0]), (beta[1], beta[1])
        place(beta[2:], names)
        return {term: (float(u), float(v)) for term, (u, v) in weights.items()}

    def scored_rows(self, s: dict, w: dict, adjust: np.ndarray | None, boost: float = 1) -> list[tuple]:
        """(score, label, weight) of the records any rule fired on, as score_weights.scores gives them."""
        p = 1 / (1 + np.exp(-self.log_odds(s, w, adjust)))
        fired = s["x"].sum(axis=1) > 0
        return [(float(q), int(label), 1 / boost if label else 1.0) for q, label in zip(p[fired], s["y"][fired])]


def figures(rows: list[tuple], ghosts: int, threshold: float) -> dict:
    """flagged, precision, recall at the threshold; precision at recall 0.9; best recall at precision 0.9."""
    ranked = sorted(rows, key=lambda r: -r[0])
    flagged = [r for r in ranked if r[0] >= threshold]
    hits = sum(r[1] for r in flagged)
    at_recall, best, found = None, 0.0, 0
    for rank, (_, label, _) in enumerate(ranked, start=1):
        found += label
        if at_recall is None and ghosts and found >= 0.9 * ghosts:
            at_recall = round(found / rank, 3)
        if ghosts and found / rank >= 0.9:
            best = max(best, found / ghosts)
    return {"flagged": len(flagged), "precision": round(hits / len(flagged), 3) if flagged else None,
            "recall": round(hits / ghosts, 3) if ghosts else None, "precision_at_recall_0_9": at_recall,
            "best_recall_at_precision_0_9": round(best, 3)}


def cell(f: dict) -> str:
    return (f"{f['flagged']} · {f['precision']} · {f['recall']} ({f['precision_at_recall_0_9']})"
            f" [{f['best_recall_at_precision_0_9']}]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", required=True, help="a setting kept by bench/review.py --keep")
    parser.add_argument("--prior", type=float, default=100.0, help="pseudo-records at the fitted rate")
    parser.add_argument("--floor", type=float, default=0.003, help="rules rarer among real members are not adapted")
    parser.add_argument("--group", choices=("organisation", "delivery"), default="organisation")
    parser.add_argument("--refit", action="store_true", help="refit and recalibrate the weights with the adaptation")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--l2", type=float, default=0.1, help="the joint fit's penalty (the seed's: 0.1)")
    args = parser.parse_args()
    from lienthong.config.settings import load_settings
    from lienthong.sample.score_weights import cross_validated_threshold
    from lienthong.warehouse import resolve_url

    score, threshold = Score.from_project()
    kinds = score.kinds
    with fitting.WEIGHTS.open(encoding="utf-8") as handle:
        seed = {row["term"]: (float(row["weight"]), float(row["weight_with_id"])) for row in csv.DictReader(handle)}
    settings = load_settings()
    server_url = resolve_url(settings, start=True)

    def kept(base: Path, name: str) -> dict:
        with psycopg.connect(review._database_url(server_url, name)) as conn:
            return load(conn, base / name / "sample", kinds)

    fits = [kept(settings.state_dir / "bench-review-fit", fitting.sample_name(*fit_on)) for fit_on in fitting.FIT_ON]
    rates = score.real_rates(fits)
    weights, options = seed, (args.prior, args.floor, args.group)
    if args.refit:
        rolls = [score.roll_only(s) for s in fits]
        weights = None
        for _ in range(args.rounds):
            previous = weights
            adjust = [score.adjustments(s, rates, previous, *options) for s in fits]
            weights = score.fit(fits, adjust, args.l2)
        held_out = [score.fit(fits[:i] + fits[i + 1:], adjust[:i] + adjust[i + 1:], args.l2) for i in range(len(fits))]
        logit = lambda p: math.log(p / (1 - p))  # noqa: E731
        for term, shaped in (("intercept", fits), ("intercept_roll_only", rolls)):
            folds = [score.scored_rows(s, w, score.adjustments(s, rates, previous, *options), fitting.GHOST_BOOST)
                     for s, w in zip(shaped, held_out)]
            at = cross_validated_threshold(folds, 0.9, 0.9)
            weights[term] = tuple(v + logit(threshold) - logit(at) for v in weights[term])
            print(f"  {term}: cross-validated threshold {at:.4f} before the shift", flush=True)
    declared = yaml.safe_load(review.SETTINGS_FILE.read_text(encoding="utf-8"))["settings"]
    for name in args.only:
        s = kept(settings.state_dir / "bench-review", name)
        if declared[name]["deliveries"] == "roll_only":
            s = score.roll_only(s)
        ghosts = int(s["y"].sum())
        adapted = score.adjustments(s, rates, weights, *options)
        print(f"{name:22} seed {cell(figures(score.scored_rows(s, seed, None), ghosts, threshold)):38}"
              f" adapted {cell(figures(score.scored_rows(s, weights, adapted), ghosts, threshold))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
