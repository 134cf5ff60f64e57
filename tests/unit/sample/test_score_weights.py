"""The suspicion score's weights (lienthong.sample.score_weights), naive-Bayes and joint, on made-up samples."""
import math

from lienthong.sample.score_weights import (GRID, best_threshold, calibrate_intercepts, cross_validated_threshold, fit,
                                            fit_joint, implying_rules, log_loss, precision_bound, precision_recall_at,
                                            rule_weight, scores)

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


# The joint fit (fit_joint): a penalised logistic regression on the same booleans.
TWINS = ["no_identity", "placeholder_phone", "unknown_hamlet", "no_dues"]


def _twins(hamlet_on_phone: int, hamlet_alone: int = 0):
    """Records without an ID (and 800 real members with one): a placeholder phone on 20 of 30 ghosts
    and 2 of 200 real members; unknown_hamlet on `hamlet_on_phone` of the ghosts and real members
    with that phone (the same records: 20 and 2) and on `hamlet_alone` other ghosts."""
    groups = [(800, 0, 0, 0, 0, 0), (198, 1, 0, 0, 0, 0),
              (2, 1, 1, int(hamlet_on_phone >= 22), 0, 0),
              (min(hamlet_on_phone, 20), 1, 1, 1, 1, 1), (20 - min(hamlet_on_phone, 20), 1, 1, 0, 1, 1),
              (hamlet_alone, 1, 0, 1, 1, 1), (10 - hamlet_alone, 1, 0, 0, 1, 1)]
    features, labels = [], []
    for count, *row, ghost in groups:
        features += [list(row)] * count
        labels += [ghost] * count
    return {"features": features, "labels": labels}


def test_two_rules_firing_on_the_same_records_share_their_evidence_in_the_joint_fit():
    scored = {"no_identity", "placeholder_phone", "unknown_hamlet"}
    alone = fit_joint([_twins(0)], TWINS, scored, l2=0.01)
    twins = fit_joint([_twins(22)], TWINS, scored, l2=0.01)
    one = alone["placeholder_phone"][0]
    assert one > 3 and alone["unknown_hamlet"] == (0.0, 0.0)  # never fired: no weight
    # the copy halves the weight instead of doubling the evidence
    assert math.isclose(twins["placeholder_phone"][0], twins["unknown_hamlet"][0], rel_tol=1e-6)
    assert math.isclose(twins["placeholder_phone"][0] + twins["unknown_hamlet"][0], one, rel_tol=0.02)


def test_correlated_rules_are_not_counted_as_independent_evidence_as_naive_bayes_counts_them():
    # unknown_hamlet fires beside 16 of the 20 ghosts' placeholder phones (under the 90 % at which
    # naive Bayes takes one rule as implied by the other) and on 2 ghosts without one
    scored = {"no_identity", "placeholder_phone", "unknown_hamlet"}
    sample = _twins(16, hamlet_alone=2)
    both = [x == [1, 1, 1, 1] for x in sample["features"]]
    ghosts = sum(y for y, b in zip(sample["labels"], both) if b)
    # the records both rules fired on: 16 ghosts, no real member
    assert ghosts == 16 and sum(both) == 16

    def log_odds(weights):
        return weights["intercept_roll_only"][0] + sum(weights[k][0] for k in TWINS[:3])

    joint = fit_joint([sample], TWINS, scored, l2=0.3)
    naive = fit([sample], TWINS, scored, strength=2)
    naive["intercept_roll_only"] = naive["intercept"]
    # a record with both tells: the joint weights add up to what the pair says, naive Bayes to more
    # (it adds the hamlet's evidence as if the phone had not already said most of it)
    phone_alone = joint["intercept_roll_only"][0] + joint["no_identity"][0] + joint["placeholder_phone"][0]
    assert log_odds(joint) - phone_alone < log_odds(naive) - (naive["intercept"][0] + naive["no_identity"][0]
                                                              + naive["placeholder_phone"][0]) - 1


def test_the_joint_fit_gives_the_log_odds_of_each_group_and_a_missing_id_alone_stays_low():
    weights = fit_joint([SAMPLE], KINDS, SCORED, l2=1e-4)
    log_odds = lambda g, r: math.log(g / r)  # noqa: E731
    # roll-only stage (no_dues is a delivery rule here, and not scored): each group's own log-odds
    missing_alone = weights["intercept_roll_only"][0] + weights["no_identity"][0]
    assert math.isclose(missing_alone, log_odds(10, 100), abs_tol=0.01)
    assert weights["intercept_roll_only"][0] < -8  # no ghost with an ID: as low as the penalty allows
    assert weights["no_dues"] == (0.0, 0.0)  # inactivity is not scored
    assert weights["placeholder_phone"][1] == 0.0  # never fired beside an ID: no weight there
    assert weights["placeholder_phone"][0] > 5  # only ever on ghosts: large, bounded by the penalty
    assert 1 / (1 + math.exp(-missing_alone)) < 0.5


def test_a_rules_step_beside_a_missing_id_is_shrunk_towards_its_shared_weight():
    kinds, scored = ["no_identity", "placeholder_phone"], {"no_identity", "placeholder_phone"}
    # with an ID: 1 in 2 records with a placeholder phone is a ghost; without one: 9 in 10
    rows = [([0, 0], 0)] * 1000 + [([0, 1], 0)] * 10 + [([0, 1], 1)] * 10 + [([0, 0], 1)] * 10 \
        + [([1, 0], 0)] * 200 + [([1, 1], 0)] * 2 + [([1, 1], 1)] * 18 + [([1, 0], 1)] * 10
    sample = {"features": [x for x, _ in rows], "labels": [y for _, y in rows]}
    loose, tight = fit_joint([sample], kinds, scored, l2=1e-4), fit_joint([sample], kinds, scored, l2=100.0)
    without, with_id = loose["placeholder_phone"]
    assert math.isclose(with_id, math.log((10 / 10) / (10 / 1000)), abs_tol=0.05)
    assert math.isclose(without, math.log((18 / 2) / (10 / 200)), abs_tol=0.05)
    assert abs(tight["placeholder_phone"][0] - tight["placeholder_phone"][1]) < 0.5 * (without - with_id)


def test_the_joint_fit_weighs_deliveries_on_top_of_the_roll_and_not_on_a_roll_only_delivery():
    kinds, scored = ["no_identity", "placeholder_phone", "never_attended"], {"no_identity", "placeholder_phone",
                                                                            "never_attended"}
    # ghosts never attend (30 of 30), few real members never do (50 of 1100)
    rows = [([0, 0, 0], 0)] * 900 + [([1, 0, 0], 0)] * 150 + [([1, 0, 1], 0)] * 50 + [([1, 1, 1], 1)] * 10 \
        + [([1, 0, 1], 1)] * 20
    sample = {"features": [x for x, _ in rows], "labels": [y for _, y in rows]}
    weights = fit_joint([sample], kinds, scored, l2=0.1, delivery_rules=("never_attended",))
    roll_only = fit_joint([{**sample, "features": [[a, b, 0] for a, b, _ in sample["features"]]}], kinds, scored,
                          l2=0.1)
    # the roll's weights are those fitted on the roll alone
    for term in ("intercept_roll_only", "no_identity", "placeholder_phone"):
        assert math.isclose(weights[term][0], roll_only[term][0], rel_tol=1e-6)
    assert weights["never_attended"][0] > 0 and weights["seen_in_deliveries"][0] < 0
    # a roll-only sample is scored without them
    roll = {**sample, "roll_only": True, "features": [[a, b, 0] for a, b, _ in sample["features"]]}
    first = scores([roll], kinds, weights, ("never_attended",))[0][0]
    assert math.isclose(math.log(first / (1 - first)), weights["intercept_roll_only"][0] + weights["no_identity"][0])


def test_log_loss_is_the_negative_log_likelihood_of_every_record():
    kinds = ["no_identity", "placeholder_phone"]
    weights = {"intercept": (-2.0, -2.0), "intercept_roll_only": (-3.0, -3.0), "no_identity": (1.0, 0.0),
               "placeholder_phone": (2.0, 0.5), "seen_in_deliveries": (0.0, 0.0)}
    sample = {"features": [[0, 0], [1, 1], [0, 1]], "labels": [0, 1, 0]}
    p = lambda z: 1 / (1 + math.exp(-z))  # noqa: E731
    expected = -(math.log(1 - p(-2)) + math.log(p(-2 + 1 + 2)) + math.log(1 - p(-2 + 0.5)))
    assert math.isclose(log_loss([sample], kinds, weights), expected)
    roll = {**sample, "roll_only": True}
    expected_roll = -(math.log(1 - p(-3)) + math.log(p(-3 + 1 + 2)) + math.log(1 - p(-3 + 0.5)))
    assert math.isclose(log_loss([roll], kinds, weights), expected_roll)


def test_a_partial_senders_delivery_weights_are_fitted_on_its_records_alone_and_used_on_them():
    kinds, scored = ["no_identity", "never_attended"], {"no_identity", "never_attended"}
    # a sender of both: most ghosts never attend (30 of 33), few real members do (50 of 1100); a
    # sender of attendance alone: the same ghosts, but 400 of 1100 real members never attend
    full = [([0, 0], 0)] * 900 + [([1, 0], 0)] * 150 + [([1, 1], 0)] * 50 + [([1, 1], 1)] * 30 + [([1, 0], 1)] * 3
    part = [([0, 0], 0)] * 600 + [([1, 0], 0)] * 100 + [([1, 1], 0)] * 400 + [([1, 1], 1)] * 30 + [([1, 0], 1)] * 3
    both = {"features": [x for x, _ in full + part], "labels": [y for _, y in full + part],
            "partial": [0] * len(full) + [1] * len(part)}
    weights = fit_joint([both], kinds, scored, l2=0.1, delivery_rules=("never_attended",))
    without = fit_joint([{**both, "partial": None}], kinds, scored, l2=0.1, delivery_rules=("never_attended",))
    # only the delivery terms have a partial sender's own; without such records, none
    assert {t for t in weights if t.endswith("_partial")} == {"intercept_partial", "seen_in_deliveries_partial",
                                                             "never_attended_partial"}
    assert not any(t.endswith("_partial") for t in without)
    # each record is scored with its sender's weights: never attending says less where attendance is
    # the only delivered source (the log-odds of 30 in 430, not of 30 in 80), and one weight for both
    # shapes lies in between
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    never = [([1, 1], 0, [0]), ([1, 1], 0, [1])]
    full_z, part_z = (logit(scores([{"features": [x], "labels": [y], "partial": p}], kinds, weights,
                                   ("never_attended",))[0][0]) for x, y, p in never)
    one_z = logit(scores([{"features": [[1, 1]], "labels": [0]}], kinds, without, ("never_attended",))[0][0])
    assert math.isclose(full_z, math.log(30 / 50), abs_tol=0.2)
    assert math.isclose(part_z, math.log(30 / 400), abs_tol=0.2)
    assert part_z < one_z < full_z
    # calibration moves a shape's partial intercept with it
    shifted = dict(weights)
    calibrate_intercepts(shifted, {"intercept": [(weights, [both])]}, kinds, 0.9, 0.95, ("never_attended",))
    assert math.isclose(shifted["intercept"][0] - weights["intercept"][0],
                        shifted["intercept_partial"][0] - weights["intercept_partial"][0])
