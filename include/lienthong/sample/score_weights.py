"""The suspicion score's weights, fitted on a sample's planted truth (bench/fit_review_weights.py;
docs/review.md, "The suspicion score"): jointly, by an L2-penalised logistic regression
(fit_joint, the seed's since the seventh pass), or each rule alone as naive-Bayes (Fellegi-Sunter)
weights (fit, kept to compare against). A sample is the rules'
booleans per review record (`features`, in `kinds` order) and whether the record is a planted ghost
(`labels`), as lienthong.sample.scoring.ghost_labels reads them, optionally `boost`: how many
times the demo's rate of ghosts were planted in it, and `roll_only`: its organisations deliver only
their rolls (the score's `intercept_roll_only` applies), and `partial`: per record 1 where its
organisation delivers dues or activities but not both (the score's `<term>_partial` weights apply,
partial_weights). More ghosts give the per-rule rates more to
count; each ghost then stands for 1/boost of one, so the intercept (the odds of a ghost) and the
precision a threshold is chosen on are the demo's."""
from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np


def rule_weight(fired_ghosts: int, ghosts: int, fired_real: int, real: int, strength: float) -> float:
    """log(P(fires | ghost) / P(fires | real)). The real members' rate adds half a record to the
    count (Jeffreys), so a rule never seen on one gets a large but finite weight; the ghosts' rate
    is an m-estimate drawn towards the real members' by `strength` pseudo-ghosts, so a rule seen on
    few ghosts weighs near 0. 0 when the rule never fires (no evidence either way)."""
    if fired_ghosts + fired_real == 0 or ghosts == 0 or real == 0:
        return 0.0
    real_rate = (fired_real + 0.5) / (real + 1)
    return math.log((fired_ghosts + strength * real_rate) / (ghosts + strength) / real_rate)


def implying_rules(rows: list, kinds: list[str], k: int, scored: set[str], share: float = 0.9,
                   least: int = 5) -> list[int]:
    """The other scored rules that (nearly) imply rule k: fired on `least`+ records, and where they
    fired, k fired too on `share` of them. Two rules that imply each other (a graded rule over its
    base where nearly every base record is graded too) are not both stronger: the one firing on
    fewer records is (on a tie the later one), or each would be weighed on the few records the other
    missed (a held-out fit gave `name_copy` 8.2 and `name_copy_rare` -4.7 that way)."""
    found = []
    fired_k = sum(1 for x, _ in rows if x[k])
    for j, kind in enumerate(kinds):
        fired = [x[k] for x, _ in rows if x[j]]
        if j == k or kind not in scored or len(fired) < least or sum(fired) < share * len(fired):
            continue
        implied_back = sum(x[j] for x, _ in rows if x[k]) >= share * fired_k
        if implied_back and (len(fired), -j) >= (fired_k, -k):
            continue
        found.append(j)
    return found


def fit(samples: list[dict], kinds: list[str], scored: set[str], strength: float,
        delivery_rules: tuple[str, ...] = ()) -> dict[str, tuple[float, float]]:
    """term -> (weight without a valid ID, weight with one); samples hold `features` and `labels`.
    Rules outside `scored` (what points to another problem than a ghost) get 0. `delivery_rules`:
    the scored rules that read dues or attendance; where they can fire and none did (the person paid
    or attended), that absence is evidence too: the term `seen_in_deliveries`."""
    rows = [(x, y) for s in samples for x, y in zip(s["features"], s["labels"])]
    no_id = kinds.index("no_identity")

    def log_odds(lacks: int) -> float:
        ghosts = sum(y / s.get("boost", 1) for s in samples for x, y in zip(s["features"], s["labels"])
                     if x[no_id] == lacks)
        real = sum(1 - y for x, y in rows if x[no_id] == lacks)
        return math.log((ghosts + 0.5) / (real + 0.5))

    # One intercept per delivery shape (calibrated apart by calibrate_intercepts); both start at the prior.
    weights = {"intercept": (log_odds(0), log_odds(0)), "intercept_roll_only": (log_odds(0), log_odds(0)),
               "no_identity": (log_odds(1) - log_odds(0), 0.0)}
    implied_by: dict[str, list[str]] = {}
    for k, kind in enumerate(kinds):
        if kind == "no_identity":
            continue
        if kind not in scored:
            weights[kind] = (0.0, 0.0)
            continue
        # Only samples whose deliveries can fire the rule (dues, attendance: not roll-only), and only
        # records no stronger rule implying this one fired on (an age over 100 is also implausible and
        # ineligible: those two weigh what they say beyond it, or the score counts one tell thrice).
        stronger = implying_rules(rows, kinds, k, scored)
        implied_by[kind] = [kinds[j] for j in stronger]
        usable = [(x, y) for s in samples if any(x[k] for x in s["features"])
                  for x, y in zip(s["features"], s["labels"]) if not any(x[j] for j in stronger)]
        # Whether a record has an ID says nothing about a phone, an age or a hamlet, of a real member
        # (a missing ID is noise) or of a ghost (each tell is its own), so a rule that can fire in
        # both strata is counted over both (far more records; the strata keep their own intercept);
        # a rule that needs a missing ID is counted among records without one.
        both = any(x[k] and x[no_id] for x, _ in usable) and any(x[k] and not x[no_id] for x, _ in usable)
        per_stratum = []
        for lacks in (1, 0):
            counted = [(x[k], y) for x, y in usable if both or x[no_id] == lacks]
            if not any(x[k] for x, _ in usable if x[no_id] == lacks):
                per_stratum.append(0.0)
                continue
            ghosts = sum(y for _, y in counted)
            per_stratum.append(rule_weight(sum(f for f, y in counted if y), ghosts,
                                           sum(f for f, y in counted if not y), len(counted) - ghosts, strength))
        weights[kind] = tuple(per_stratum)
    # A record the stronger rule fired on fires the implied one too and the score adds both: the
    # stronger rule weighs its own evidence less what the implied ones already add.
    for kind, stronger in implied_by.items():
        for other in stronger:
            weights[other] = tuple(a - b for a, b in zip(weights[other], weights[kind]))
    weights["seen_in_deliveries"] = (0.0, 0.0)
    delivered = [i for i, kind in enumerate(kinds) if kind in delivery_rules and kind in scored]
    # Nearly every ghost fires a dues or attendance rule where those are delivered, few real members
    # do: a rule's weight says what its firing adds, this term what none firing takes away (naive
    # Bayes' other half, over the rules together since they fire together). Only on samples whose
    # deliveries can fire them; over both strata (paying or attending has nothing to do with the ID).
    counted = [(not any(x[i] for i in delivered), y) for s in samples if not s.get("roll_only")
               if any(x[i] for x in s["features"] for i in delivered) for x, y in zip(s["features"], s["labels"])]
    if delivered and counted:
        ghosts = sum(y for _, y in counted)
        absent = rule_weight(sum(a for a, y in counted if y), ghosts, sum(a for a, y in counted if not y),
                             len(counted) - ghosts, strength)
        weights["seen_in_deliveries"] = (absent, absent)
    return weights


def _logistic(X: np.ndarray, y: np.ndarray, offset: np.ndarray, penalised: np.ndarray, l2: float) -> np.ndarray:
    """Coefficients of an L2-penalised logistic regression (Newton's method: a few dozen columns, so
    each step solves the Hessian exactly; halved until the penalised loss falls, so rules that
    separate ghosts from real members outright do not throw it off). `penalised` marks the columns
    shrunk towards 0 by `l2` (the intercepts are not); a tiny ridge on every column bounds the rest."""
    ridge = l2 * penalised + 1e-6

    def loss(beta: np.ndarray) -> float:
        z = offset + X @ beta
        return float(np.sum(np.logaddexp(0, z) - y * z) + 0.5 * np.sum(ridge * beta ** 2))

    beta = np.zeros(X.shape[1])
    current = loss(beta)
    for _ in range(200):
        p = 1 / (1 + np.exp(-np.clip(offset + X @ beta, -700, 700)))
        step = np.linalg.solve(X.T @ (X * (p * (1 - p))[:, None]) + np.diag(ridge), X.T @ (y - p) - ridge * beta)
        while (candidate := loss(beta + step)) > current and np.abs(step).max() > 1e-12:
            step = step / 2
        beta, improved, current = beta + step, current - candidate, candidate
        if np.abs(step).max() < 1e-9 or improved < 1e-12:
            break
    return beta


def _rule_columns(x: np.ndarray, lacks: np.ndarray, rules: list[int]) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Per rule a column shared by both strata where it fires on records with an ID, plus one for
    what it adds beside a missing ID where it fires on records without one (the interaction with
    the missing ID, shrunk towards the shared weight by the penalty like any other weight)."""
    columns, names = [], []
    for k in rules:
        if (x[:, k] * (1 - lacks)).any():
            columns.append(x[:, k])
            names.append((k, "shared"))
        if (x[:, k] * lacks).any():
            columns.append(x[:, k] * lacks)
            names.append((k, "no_id"))
    return (np.column_stack(columns) if columns else np.zeros((len(x), 0))), names


def fit_joint(samples: list[dict], kinds: list[str], scored: set[str], l2: float,
              delivery_rules: tuple[str, ...] = ()) -> dict[str, tuple[float, float]]:
    """The weights of fit() fitted jointly: an L2-penalised logistic regression on the rules'
    booleans, so two rules that fire on the same records share their evidence instead of each
    counting it (naive Bayes adds both). Same terms as fit(): per rule a weight without a valid ID
    and one with (the shared weight plus, beside a missing ID, a penalised step), `no_identity`'s
    step between the strata, an intercept per delivery shape, `seen_in_deliveries`. In two stages,
    since the seed has one weight per rule for both shapes: the roll's rules and `intercept_roll_only`
    on every sample seen as roll-only (what a roll alone says); then, on the samples whose
    deliveries can fire them, the rules reading dues or attendance, `seen_in_deliveries` and
    `intercept` on top of that roll score; (3) where samples hold records of a sender of dues or
    activities but not both (`partial`), the same terms again for those records, as penalised steps
    from stage 2's on top of the roll score and stage 2's weights (the intercept's too: a step
    between shapes learned on few senders, drawn towards none like the missing ID's): `<term>_partial`, what never attending or being seen nowhere else says where attendance
    (or dues) is the only delivered source. Without such records there are no `_partial` terms and
    such a sender is scored with stage 2's (partial_weights). Ghosts count whole (the boost changes
    only the intercepts, which calibrate_intercepts sets)."""
    no_id = kinds.index("no_identity")
    delivered = [i for i, kind in enumerate(kinds) if kind in delivery_rules and kind in scored]
    roll = [k for k, kind in enumerate(kinds) if kind in scored and k != no_id and k not in delivered]
    x = np.array([f for s in samples for f in s["features"]], dtype=float).reshape(-1, len(kinds))
    y = np.array([label for s in samples for label in s["labels"]], dtype=float)
    lacks = x[:, no_id]
    weights = {term: (0.0, 0.0) for term in ("intercept", "intercept_roll_only", *kinds, "seen_in_deliveries")}

    def place(beta: np.ndarray, names: list[tuple[int, str]]) -> None:
        for b, (k, part) in zip(beta, names):
            without, with_id = weights[kinds[k]]
            weights[kinds[k]] = (without + b, with_id + b) if part == "shared" else (without + b, with_id)

    columns, names = _rule_columns(x, lacks, roll)
    design_roll = design = np.column_stack([np.ones(len(y)), lacks, columns])
    beta_roll = beta = _logistic(design, y, np.zeros(len(y)), np.r_[0.0, 0.0, np.ones(len(names))], l2)
    weights["intercept_roll_only"] = (float(beta[0]), float(beta[0]))
    weights["no_identity"] = (float(beta[1]), 0.0)
    place(beta[2:], names)
    delivering = np.array([not s.get("roll_only") and any(f[i] for f in s["features"] for i in delivered)
                           for s in samples for _ in s["labels"]], dtype=bool)
    partial = delivering & np.array([p for s in samples for p in _partial(s)], dtype=bool)
    full = delivering & ~partial
    if not delivered or not full.any():
        weights["intercept"] = weights["intercept_roll_only"]
        return {term: (float(a), float(b)) for term, (a, b) in weights.items()}
    roll_score = design[full] @ np.r_[0.0, beta[1:]]
    columns, names = _rule_columns(x[full], lacks[full], delivered)
    seen = (x[full][:, delivered].sum(axis=1) == 0).astype(float)
    design = np.column_stack([np.ones(int(full.sum())), seen, columns])
    beta = _logistic(design, y[full], roll_score, np.r_[0.0, np.ones(1 + len(names))], l2)
    weights["intercept"] = (float(beta[0]), float(beta[0]))
    weights["seen_in_deliveries"] = (float(beta[1]), float(beta[1]))
    place(beta[2:], names)
    if partial.any():
        shape = ["intercept", "seen_in_deliveries", *(kinds[i] for i in delivered)]
        stage_two = {term: weights[term] for term in shape}
        seen = (x[partial][:, delivered].sum(axis=1) == 0).astype(float)
        stratum = (1 - lacks[partial]).astype(int)
        offset = (design_roll[partial] @ np.r_[0.0, beta_roll[1:]] + stage_two["intercept"][0]
                  + seen * stage_two["seen_in_deliveries"][0]
                  + sum(x[partial][:, i] * np.choose(stratum, stage_two[kinds[i]]) for i in delivered))
        columns, names = _rule_columns(x[partial], lacks[partial], delivered)
        step = _logistic(np.column_stack([np.ones(int(partial.sum())), seen, columns]), y[partial], offset,
                         np.ones(2 + len(names)), l2)
        weights.update({"intercept": (stage_two["intercept"][0] + step[0],) * 2,
                        "seen_in_deliveries": (stage_two["seen_in_deliveries"][0] + step[1],) * 2})
        for kind in shape[2:]:
            weights[kind] = stage_two[kind]
        place(step[2:], names)
        for term in shape:
            weights[f"{term}_partial"], weights[term] = weights[term], stage_two[term]
    return {term: (float(a), float(b)) for term, (a, b) in weights.items()}


def partial_weights(weights: dict) -> dict:
    """The weights a record of a sender of dues or activities but not both is scored with
    (vars.review.partial_deliveries `own`, as rpt_member_flags): each term's `<term>_partial` where
    the weights have one, the term's own otherwise."""
    return {term: weights.get(f"{term}_partial", w) for term, w in weights.items()}


def _log_odds(sample: dict, x: list[int], kinds: list[str], weights: dict, delivered: list[int],
              partial: int = 0) -> float:
    """A record's log-odds as rpt_member_suspicion computes it: its shape's intercept (and
    seen_in_deliveries where dues or activities are delivered and none of their rules fired) plus
    the weights of the rules it fired, in its stratum; a partial sender's record with its own."""
    if partial and not sample.get("roll_only"):
        weights = partial_weights(weights)
    stratum = 0 if x[kinds.index("no_identity")] else 1
    if sample.get("roll_only"):
        intercept = weights["intercept_roll_only"][0]
    else:
        intercept = weights["intercept"][0] + (weights.get("seen_in_deliveries", (0.0,))[0]
                                               if delivered and not any(x[i] for i in delivered) else 0.0)
    return intercept + sum(weights[k][stratum] for k, f in zip(kinds, x) if f)


def scores(samples: list[dict], kinds: list[str], weights: dict,
           delivery_rules: tuple[str, ...] = ()) -> list[tuple[float, int, float]]:
    """(score, label, weight) of every record that fired a rule (what rpt_member_suspicion scores);
    weight 1/boost for a ghost of a boosted sample, else 1."""
    delivered = [i for i, kind in enumerate(kinds) if kind in delivery_rules]
    return [(1 / (1 + math.exp(-_log_odds(s, x, kinds, weights, delivered, p))), y, 1 / s.get("boost", 1) if y else 1.0)
            for s in samples for x, y, p in zip(s["features"], s["labels"], _partial(s)) if any(x)]


def _partial(sample: dict) -> list[int]:
    return sample.get("partial") or [0] * len(sample["labels"])


def log_loss(samples: list[dict], kinds: list[str], weights: dict, delivery_rules: tuple[str, ...] = ()) -> float:
    """Negative log-likelihood of the samples' labels under the weights (every record, ghosts whole,
    as fit_joint counts them): what leave-one-sample-out folds choose fit_joint's penalty by."""
    delivered = [i for i, kind in enumerate(kinds) if kind in delivery_rules]
    total = 0.0
    for s in samples:
        for x, y, p in zip(s["features"], s["labels"], _partial(s)):
            z = _log_odds(s, x, kinds, weights, delivered, p)
            # -log(sigmoid(z)) for a ghost, -log(1 - sigmoid(z)) for a real member, without overflow.
            total += math.log1p(math.exp(-abs(z))) + max(-z if y else z, 0.0)
    return total


GRID = [step / 20 for step in range(1, 20)]  # thresholds considered: 0.05 ... 0.95
# Finer where it matters, for calibrating an intercept: log-odds -3 ... +8 in steps of 0.25.
LOGIT_GRID = [1 / (1 + math.exp(-step / 4)) for step in range(-12, 33)]


def precision_recall_at(scored: list[tuple[float, int, float]], threshold: float) -> tuple[float | None, float]:
    """Weighted precision (None when nothing is flagged) and recall of the records scoring >= threshold."""
    ghosts = sum(w for _, y, w in scored if y)
    hits = sum(w for p, y, w in scored if y and p >= threshold)
    flagged = hits + sum(w for p, y, w in scored if not y and p >= threshold)
    return (hits / flagged if flagged else None), (hits / ghosts if ghosts else 0.0)


def best_threshold(scored: list[tuple[float, int, float]]) -> tuple[float, float]:
    """The threshold (on the grid) maximising F1 on the fitting data, and that F1."""
    best = (0.5, -1.0)
    for threshold in GRID:
        precision, recall = precision_recall_at(scored, threshold)
        f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
        if f1 > best[1] + 1e-9:
            best = (threshold, f1)
    return best


def precision_bound(folds: list[list[tuple[float, int, float]]], threshold: float, confidence: float) -> float:
    """What precision a sample not fitted on should keep at `threshold`, from the held-out folds (each
    sample scored by weights fitted on the others): their mean less z * sd * sqrt(1 + 1/k), the
    one-sided normal prediction bound at `confidence` for one more sample (k folds, sd their spread).
    A fold that flags nothing counts as precise. How far the folds disagree sets the margin, which a
    fixed margin over the goal cannot: samples that differ more leave more room below the goal."""
    values = [p if p is not None else 1.0 for p, _ in (precision_recall_at(f, threshold) for f in folds)]
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return mean - NormalDist().inv_cdf(confidence) * spread * math.sqrt(1 + 1 / len(values))


def cross_validated_threshold(folds: list[list[tuple[float, int, float]]], precision: float, confidence: float,
                              grid: list[float] = LOGIT_GRID) -> float:
    """The lowest threshold (on the grid) whose precision bound (precision_bound) reaches `precision`
    there and at every higher one (one that flags nothing counts as precise): as much recall as that
    precision allows on samples not fitted on. With one fold: that fold's own precision."""
    chosen = grid[-1]
    for threshold in reversed(grid):
        if precision_bound(folds, threshold, confidence) < precision:
            break
        chosen = threshold
    return chosen


def calibrate_intercepts(weights: dict, shapes: dict[str, list[tuple[dict, list[dict]]]], kinds: list[str],
                         precision: float, threshold: float, delivery_rules: tuple[str, ...] = (),
                         confidence: float = 0.9) -> dict[str, float]:
    """Shift each delivery shape's intercept so that a record reaches `threshold` where that shape's
    cross-validated threshold (cross_validated_threshold on LOGIT_GRID) lies: full deliveries hold
    more evidence (dues, attendance) than a roll alone, so one intercept for both trades the one's
    precision for the other's recall. shapes: intercept term -> its folds, each (weights fitted
    without a sample, before calibration; that sample seen in that shape). A shape's partial
    sender (`<term>_partial`) moves with it: its records are scored in that shape's folds. Changes
    `weights` in place; returns each shape's threshold before the shift."""
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    found = {term: cross_validated_threshold([scores(samples, kinds, scoring, delivery_rules) for scoring, samples in folds],
                                             precision, confidence)
             for term, folds in shapes.items()}
    for term, at in found.items():
        for shifted in (term, f"{term}_partial"):
            if shifted in weights:
                weights[shifted] = tuple(w + logit(threshold) - logit(at) for w in weights[shifted])
    return found
