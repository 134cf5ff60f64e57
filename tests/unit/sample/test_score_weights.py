"""The suspicion score's naive-Bayes weights (lienthong.sample.score_weights) on made-up samples."""
import math

from lienthong.sample.score_weights import (GRID, best_threshold, calibrate_intercepts, cross_validated_threshold, fit,
                                            implying_rules, precision_bound, precision_recall_at, rule_weight, scores)

KINDS = ["no_identity", "placeholder_phone", "impossible_age", "ineligible_age", "no_dues"]
SCORED = {"no_identity", "placeholder_phone", "impossible_age", "ineligible_age"}


def _sample(groups):
    """(count, no_identity, placeholder_phone, impossible_age, ineligible_age, no_dues, ghost) rows."""
    features, labels = [], []
    for count, *row, ghost in groups:
        features += [list(row)] * count
        labels += [ghost] * count
    return {"features": features, "labels": labels}


SAMPLE = _sample([
    (900, 0, 0, 0, 0, 0, 0),    # real members with an ID
    (40, 0, 0, 0, 1, 1, 0),     # ... ineligible by age, not paying
    (100, 1, 0, 0, 0, 0, 0),    # real members without an ID
    (10, 1, 0, 0, 0, 0, 1),     # ghosts without an ID and no other tell
    (5, 1, 1, 0, 0, 1, 1),      # ... with a placeholder phone
    (10, 1, 0, 1, 1, 1, 1),     # ... too old for any organisation (so also ineligible)
])


def test_a_rule_never_seen_on_a_real_member_weighs_much_but_finitely():
    assert 3 < rule_weight(5, 25, 0, 1040, strength=2) < 10
    assert abs(rule_weight(10, 100, 100, 1000, strength=2)) < 0.05  # as often on both: no evidence
    assert rule_weight(0, 25, 0, 1040, strength=2) == 0.0           # never fires: no evidence


def test_a_missing_id_alone_stays_below_even_odds_and_other_problems_weigh_nothing():
    weights = fit([SAMPLE], KINDS, SCORED, strength=2)
    intercept, _ = weights["intercept"]
    assert math.isclose(intercept + weights["no_identity"][0], math.log(25.5 / 100.5)) and intercept < -5
    assert weights["no_dues"] == (0.0, 0.0)  # inactivity is not scored
    assert weights["placeholder_phone"][0] > 3 and weights["placeholder_phone"][1] == 0.0


def test_a_rule_implied_by_a_stronger_one_is_weighed_on_what_it_adds():
    rows = list(zip(SAMPLE["features"], SAMPLE["labels"]))
    assert implying_rules(rows, KINDS, KINDS.index("ineligible_age"), SCORED) == [KINDS.index("impossible_age")]
    weights = fit([SAMPLE], KINDS, SCORED, strength=2)
    # Beside impossible_age the ghosts show no ineligibility of their own: it weighs nothing
    # (counted with impossible_age's records it would double its evidence).
    assert weights["ineligible_age"][0] == 0.0
    assert weights["impossible_age"][0] > 3


def test_the_threshold_maximises_f1_on_the_fitting_data():
    weights = fit([SAMPLE], KINDS, SCORED, strength=2)
    threshold, f1 = best_threshold(scores([SAMPLE], KINDS, weights))
    assert 0 < threshold < 1
    assert math.isclose(f1, 2 * 15 / (15 + 25))  # the 15 ghosts with a tell, none of the real members


def test_a_sample_with_boosted_ghosts_keeps_the_rates_and_the_demos_odds():
    # Five times the ghosts (each rule firing on them as often): the same per-rule weights, and the
    # intercept of the sample without the boost, since each ghost stands for a fifth of one.
    boosted = _sample([
        (900, 0, 0, 0, 0, 0, 0), (40, 0, 0, 0, 1, 1, 0), (100, 1, 0, 0, 0, 0, 0),
        (50, 1, 0, 0, 0, 0, 1), (25, 1, 1, 0, 0, 1, 1), (50, 1, 0, 1, 1, 1, 1),
    ]) | {"boost": 5}
    plain, more = fit([SAMPLE], KINDS, SCORED, strength=2), fit([boosted], KINDS, SCORED, strength=2)
    assert math.isclose(more["intercept"][0] + more["no_identity"][0], math.log(25.5 / 100.5))
    assert math.isclose(more["intercept"][0], plain["intercept"][0])
    # the placeholder phone's rate among ghosts is the same; more ghosts shrink it less towards 0
    assert plain["placeholder_phone"][0] < more["placeholder_phone"][0] < plain["placeholder_phone"][0] + 0.5
    precision, recall = precision_recall_at(scores([boosted], KINDS, more), 0.5)
    assert precision == 1.0 and math.isclose(recall, 15 / 25)  # weighted: 75 / 5 of 125 / 5


def test_the_default_threshold_is_the_lowest_that_keeps_the_precision():
    # 0.9 and up: only ghosts; from 0.6: two real members among ten ghosts; from 0.3: ten more
    scored = [(0.95, 1, 1.0)] * 8 + [(0.7, 1, 1.0)] * 2 + [(0.7, 0, 1.0)] * 2 + [(0.4, 0, 1.0)] * 10
    assert cross_validated_threshold([scored], precision=0.8, confidence=0.9, grid=GRID) == 0.45
    assert cross_validated_threshold([scored], precision=0.9, confidence=0.9, grid=GRID) == 0.75
    # never reached: flag nothing
    assert cross_validated_threshold([[(0.5, 0, 1.0)]], precision=0.9, confidence=0.9, grid=GRID) == 0.55


def test_a_stronger_rule_and_the_one_it_implies_add_up_to_the_stronger_rules_evidence():
    # ineligible by age: 20 real members and 10 ghosts; 10 of those ghosts also too old for any
    # organisation (never a real member): the two weights together are impossible_age's own evidence.
    sample = _sample([
        (900, 0, 0, 0, 0, 0, 0), (20, 0, 0, 0, 1, 0, 0), (100, 1, 0, 0, 0, 0, 0),
        (10, 1, 0, 0, 1, 0, 1), (10, 1, 0, 1, 1, 0, 1), (5, 1, 0, 0, 0, 0, 1),
    ])
    weights = fit([sample], KINDS, SCORED, strength=2)
    own = rule_weight(10, 25, 0, 100, strength=2)  # impossible_age on its own, among records without an ID
    assert weights["ineligible_age"][0] > 1
    assert math.isclose(weights["impossible_age"][0] + weights["ineligible_age"][0], own)


def test_each_delivery_shape_gets_the_intercept_that_puts_its_precise_threshold_at_the_default():
    # Full deliveries: no_dues fires beside the ghosts' tells (weighs nothing: inactivity is not
    # scored). Seen as roll-only, the same records; the ghosts without a tell score as a missing ID.
    weights = fit([SAMPLE], KINDS, SCORED, strength=2)
    assert weights["intercept_roll_only"] == weights["intercept"]
    roll_only = [{**SAMPLE, "roll_only": True,
                  "features": [[*x[:4], 0] for x in SAMPLE["features"]]}]
    found = calibrate_intercepts(weights, {"intercept": [(weights, [SAMPLE])], "intercept_roll_only": [(weights, roll_only)]},
                                 KINDS, precision=0.95, threshold=0.9)
    assert set(found) == {"intercept", "intercept_roll_only"}
    for samples in ([SAMPLE], roll_only):
        scored = scores(samples, KINDS, weights)
        precision, recall = precision_recall_at(scored, 0.9)
        assert precision == 1.0 and math.isclose(recall, 15 / 25)  # the 15 ghosts with a tell, no real member
        # the threshold sits just above the missing-ID-alone records (10 ghosts, 100 real members)
        assert max(p for p, y, _ in scored if not y) < 0.9
    # a missing ID alone stays below the threshold
    assert 1 / (1 + math.exp(-(weights["intercept_roll_only"][0] + weights["no_identity"][0]))) < 0.9


def test_paying_or_attending_where_it_is_delivered_weighs_against_a_ghost_and_not_on_a_roll_only_delivery():
    kinds, scored = ["no_identity", "never_attended"], {"no_identity", "never_attended"}
    features = [[0, 0]] * 900 + [[1, 0]] * 100 + [[0, 1]] * 50 + [[1, 1]] * 20 + [[1, 0]] * 1
    labels = [0] * 1050 + [1] * 21
    sample = {"features": features, "labels": labels}
    weights = fit([sample], kinds, scored, strength=2, delivery_rules=("never_attended",))
    absent = rule_weight(1, 21, 1000, 1050, strength=2)  # none of the delivery rules fired
    assert weights["seen_in_deliveries"] == (absent, absent) and absent < -2
    roll_only = {**sample, "roll_only": True, "features": [[x[0], 0] for x in features]}
    full_score = scores([sample], kinds, weights, ("never_attended",))
    roll_score = scores([roll_only], kinds, weights, ("never_attended",))
    # the first scored record: a real member without an ID who attends; the absence weight applies
    # where attendance is delivered only (records that fired nothing are not scored)
    assert math.isclose(math.log(full_score[0][0] / (1 - full_score[0][0])),
                        weights["intercept"][0] + weights["no_identity"][0] + absent)
    assert math.isclose(math.log(roll_score[0][0] / (1 - roll_score[0][0])),
                        weights["intercept_roll_only"][0] + weights["no_identity"][0])
    # without delivery rules the term is not fitted
    assert fit([sample], kinds, scored, strength=2)["seen_in_deliveries"] == (0.0, 0.0)


def _fold(ghosts_high, real_high):
    """A held-out sample: at 0.7 and up `ghosts_high` ghosts and `real_high` real members, below
    that ten ghosts and ten real members at 0.4."""
    return [(0.8, 1, 1.0)] * ghosts_high + [(0.7, 0, 1.0)] * real_high + [(0.4, 1, 1.0), (0.4, 0, 1.0)] * 10


def test_the_margin_over_the_precision_grows_with_how_far_the_held_out_samples_disagree():
    agree = [_fold(19, 1), _fold(19, 1)]          # 0.95 at 0.7 on both
    disagree = [_fold(20, 0), _fold(18, 2)]       # 1.0 and 0.9: the same mean, spread 0.07
    assert math.isclose(precision_bound(agree, 0.7, 0.9), 0.95)
    spread = math.sqrt(0.05 ** 2 * 2)             # their standard deviation
    assert math.isclose(precision_bound(disagree, 0.7, 0.9), 0.95 - 1.2816 * spread * math.sqrt(1.5), abs_tol=1e-3)
    # precision 0.9: the agreeing folds allow 0.7 (and the recall above it); the disagreeing ones
    # hold the threshold above the real members at 0.7, since one more sample may well fall under 0.9
    assert cross_validated_threshold(agree, 0.9, 0.9, grid=GRID) == 0.45
    assert cross_validated_threshold(disagree, 0.9, 0.9, grid=GRID) == 0.75
    # at a lower confidence the same spread leaves less margin
    assert cross_validated_threshold(disagree, 0.9, 0.5, grid=GRID) == 0.45


def test_a_shapes_threshold_comes_from_its_held_out_folds():
    weights = fit([SAMPLE], KINDS, SCORED, strength=2)
    strict = {**weights, "intercept": (weights["intercept"][0] + 3, weights["intercept"][1] + 3)}  # scores higher
    alone = calibrate_intercepts(dict(weights), {"intercept": [(weights, [SAMPLE])]}, KINDS, 0.95, 0.9)
    both = calibrate_intercepts(dict(weights), {"intercept": [(weights, [SAMPLE]), (strict, [SAMPLE])]}, KINDS, 0.95, 0.9)
    assert both["intercept"] > alone["intercept"]


def test_of_two_rules_implying_each_other_only_the_one_firing_on_fewer_records_is_the_stronger():
    # placeholder_phone fires on 20 records, impossible_age (its graded kin here) on 19 of them: each
    # implies the other at 90 %. Both taken as stronger, each would be weighed on the few records the
    # other missed; only the rarer one is.
    kinds, scored = ["no_identity", "placeholder_phone", "impossible_age"], {"no_identity", "placeholder_phone", "impossible_age"}
    rows = [([1, 1, 1], 1)] * 19 + [([1, 1, 0], 0)] + [([1, 0, 0], 0)] * 50
    assert implying_rules(rows, kinds, 1, scored) == [2]
    assert implying_rules(rows, kinds, 2, scored) == []
    # the same records in both: the later rule is the stronger
    same = [([1, 1, 1], 1)] * 20 + [([1, 0, 0], 0)] * 50
    assert implying_rules(same, kinds, 1, scored) == [2] and implying_rules(same, kinds, 2, scored) == []
