"""bench/matching_ceiling.py (issue #13's twelfth round): the best pairwise recall at precision 0.998
any decision on whole comparison patterns reaches without linking a ghost's false pair."""
from __future__ import annotations


def _table(*cells):
    """Rows for ``tabulate`` from (pattern, true, true without a shared ID, false, of which a ghost's)."""
    for pattern, true, no_id, false, ghost in cells:
        yield from [(pattern, True, False, i < no_id, i % 2 == 0) for i in range(true)]
        yield from [(pattern, False, i < ghost, False, False) for i in range(false)]


def test_patterns_are_taken_by_falling_purity_while_precision_holds(bench):
    module = bench("matching_ceiling")
    cells = module.tabulate(_table(("exact", 600, 10, 0, 0), ("near", 400, 40, 1, 0),
                                   ("name and year", 50, 50, 10, 0)))
    assert cells["near"] == module.Cell(true=400, true_no_id=40, false=1, ghost=0, linker_missed=200)
    best = module.ceiling(cells, true_pairs=1100, true_pairs_no_id=120)
    # 1000 of 1001 hold 0.998; adding the namesake-like pattern (1050 of 1061) does not
    # the bound: about a tenth of the namesake-like pattern (5.07 true, 1.01 false pairs) brings the
    # precision down to 0.998: (1000 + 5.07) / 1100
    assert best == {"patterns": ["exact", "near"], "true_linked": 1000, "false_linked": 1,
                    "recall_bound": 0.9137, "precision": 0.999, "recall": 0.90909, "recall_no_shared_id": 0.41667}


def test_a_pattern_holding_a_ghosts_false_pair_is_never_taken(bench):
    module = bench("matching_ceiling")
    cells = module.tabulate(_table(("exact", 100, 0, 0, 0), ("bare entry", 900, 900, 1, 1)))
    # the bare entries would keep precision (900 of 901) but one of them is a ghost copying a member
    best = module.ceiling(cells, true_pairs=1000, true_pairs_no_id=900)
    assert best["patterns"] == ["exact"] and best["recall"] == 0.1 and best["recall_no_shared_id"] == 0.0


def test_nothing_is_taken_when_no_pattern_holds_the_precision(bench):
    module = bench("matching_ceiling")
    cells = module.tabulate(_table(("namesakes", 10, 10, 10, 0)))
    assert module.ceiling(cells, true_pairs=20, true_pairs_no_id=10) == {
        "patterns": [], "true_linked": 0, "false_linked": 0, "recall_bound": 0.0, "precision": None, "recall": 0.0,
        "recall_no_shared_id": 0.0}


def test_a_decision_taken_on_pooled_samples_is_applied_to_another(bench):
    module = bench("matching_ceiling")

    def output(cells, true_pairs, no_id):
        return {"true_pairs": true_pairs, "true_pairs_no_shared_id": no_id,
                "cells": [{"pattern": p, "true": t, "true_no_id": n, "false": f, "ghost": g, "linker_missed": 0}
                          for p, t, n, f, g in cells]}

    # pooled, "bare year" holds 700 true pairs and a ghost's false pair: it is not taken
    cells, true_pairs, no_id = module.pooled([output([("exact", 500, 0, 0, 0), ("bare year", 300, 300, 0, 0)], 900, 350),
                                              output([("exact", 500, 0, 1, 0), ("bare year", 400, 400, 1, 1)], 1000, 450)])
    assert cells["bare year"] == module.Cell(true=700, true_no_id=700, false=1, ghost=1)
    learned = module.ceiling(cells, true_pairs, no_id)["patterns"]
    assert learned == ["exact"]
    here = module.tabulate(_table(("exact", 100, 0, 1, 1), ("bare year", 50, 50, 0, 0), ("new", 5, 5, 0, 0)))
    assert module.apply(here, learned, true_pairs=160, true_pairs_no_id=60) == {
        "true_linked": 100, "false_linked": 1, "ghost_pairs_linked": 1, "precision": 0.9901, "recall": 0.625,
        "recall_no_shared_id": 0.0}
