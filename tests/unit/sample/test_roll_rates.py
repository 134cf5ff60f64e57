"""The eighth pass's what-if (bench/review_roll_rates.py): rule rates among real members estimated
from the delivered roll, on made-up rolls."""
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from lienthong.sample.score_weights import fit_joint

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
import review_roll_rates  # noqa: E402

KINDS = ["no_identity", "placeholder_phone", "unreachable", "never_attended"]
SCORE = review_roll_rates.Score(KINDS, set(KINDS), ("never_attended",), ("never_attended",))


def _roll(groups, org="org_a"):
    """(count, no_identity, placeholder_phone, unreachable, never_attended, ghost) rows."""
    x = [row[1:-1] for row in groups for _ in range(row[0])]
    y = [row[-1] for row in groups for _ in range(row[0])]
    return {"org": np.array([org] * len(y)), "x": np.array(x, dtype=float), "y": np.array(y, dtype=float)}


# Fitting-like: a tenth of real members without an ID, a fifth of those unreachable.
FITTING = _roll([(900, 0, 0, 0, 0, 0), (80, 1, 0, 0, 0, 0), (20, 1, 0, 1, 0, 0),
                 (10, 1, 1, 1, 1, 1), (10, 1, 0, 1, 1, 1)])


def test_a_roll_where_a_third_lack_an_id_weighs_the_missing_id_less_and_its_usual_companions_alike():
    rates = SCORE.real_rates([FITTING])
    assert math.isclose(rates[0, 0], 100 / 1000) and math.isclose(rates[0, 2], 20 / 100)
    roll = _roll([(2000, 0, 0, 0, 0, 0), (800, 1, 0, 0, 0, 0), (200, 1, 0, 1, 0, 0)])
    adjust = SCORE.adjustments(roll, rates, None, prior=100, floor=0.003, group="organisation")
    lacks = roll["x"][:, 0] == 1
    # A third of the roll lacks an ID, a tenth of the fitting samples' real members did.
    assert math.isclose(adjust[lacks, 0][0], math.log(0.1 / ((1000 + 100 * 0.1) / (3000 + 100))))
    assert adjust[lacks, 0][0] < -1
    # As many of them unreachable as in the fitting samples: no news either way.
    assert abs(adjust[lacks, 2][0]) < 1e-9
    # A rule the fitting samples' real members never fired (floor) is not adapted.
    assert not adjust[:, 1].any()
    assert not adjust[~lacks].any()


def test_ghosts_the_score_already_sees_do_not_count_as_real_members():
    rates = SCORE.real_rates([FITTING])
    roll = _roll([(2000, 0, 0, 0, 0, 0), (80, 1, 0, 0, 0, 0), (20, 1, 0, 1, 0, 0), (60, 1, 1, 1, 0, 1)])
    weights = {"intercept": (-6.0, -6.0), "intercept_roll_only": (-6.0, -6.0), "no_identity": (1.0, 0.0),
               "placeholder_phone": (12.0, 12.0), "unreachable": (1.0, 0.0), "never_attended": (0.0, 0.0),
               "seen_in_deliveries": (0.0, 0.0)}
    plain = SCORE.adjustments(roll, rates, None, 100, 0.003, "organisation")
    discounted = SCORE.adjustments(roll, rates, weights, 100, 0.003, "organisation")
    unreachable = roll["x"][:, 2] == 1
    # Counted plainly the 60 ghosts make `unreachable` look common among real members without an ID.
    assert plain[unreachable, 2][0] < -0.3
    assert abs(discounted[unreachable, 2][0]) < 0.05


def test_without_adjustments_the_refit_is_the_seeds_joint_fit():
    sample = {"features": FITTING["x"].astype(int).tolist(), "labels": FITTING["y"].astype(int).tolist()}
    expected = fit_joint([sample], KINDS, set(KINDS), 0.1, ("never_attended",))
    got = SCORE.fit([FITTING], [np.zeros_like(FITTING["x"])], 0.1)
    for term, (without, with_id) in expected.items():
        assert got[term] == pytest.approx((without, with_id), abs=1e-6), term
