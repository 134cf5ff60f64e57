"""bench/review_ceiling.py (issue #20's twelfth pass): the best recall at precision 0.9 any score of
the records' tells reaches, and the tells as the OR of the rules reading them."""
from __future__ import annotations

import numpy as np


def test_the_ceiling_takes_whole_cells_by_falling_share_while_precision_holds(bench):
    ceiling = bench("review_ceiling").ceiling
    # cell (1, 0): 5 made-up, 0 real; (1, 1): 4 made-up, 1 real; (0, 1): 1 made-up, 9 real
    features = np.array([[1, 0]] * 5 + [[1, 1]] * 5 + [[0, 1]] * 10)
    y = np.array([True] * 5 + [True] * 4 + [False] + [True] + [False] * 9)
    assert ceiling(features, y) == {"cells": 3, "recall": 0.9, "found": 9, "flagged": 10, "planted": 10}
    # one more real member in the second cell: 9 of 11 is under 0.9, so only the first cell is taken
    features, y = np.vstack([features, [1, 1]]), np.append(y, False)
    assert ceiling(features, y)["recall"] == 0.5


def test_a_record_that_cannot_be_told_apart_from_many_real_ones_is_out_of_reach(bench):
    ceiling = bench("review_ceiling").ceiling
    features = np.array([[1]] * 100 + [[0]] * 10)  # one tell carried by 10 made-up and 90 real
    y = np.array([True] * 10 + [False] * 90 + [False] * 10)
    assert ceiling(features, y) == {"cells": 2, "recall": 0.0, "found": 0, "flagged": 0, "planted": 10}


def test_a_tell_is_carried_when_any_rule_reading_it_fired(bench):
    module = bench("review_ceiling")
    kinds = [rule for rules in module.TELLS.values() for rule in rules]
    x = np.zeros((2, len(kinds)), dtype=int)
    x[0, kinds.index("very_old")] = 1
    x[1, kinds.index("name_copy_hamlet")] = 1
    tells = module.tells({"x": x}, kinds)
    names = list(module.TELLS)
    assert tells[0].tolist() == [int(n == "odd_age") for n in names]
    assert tells[1].tolist() == [int(n == "copy_other_roll") for n in names]
