"""Scoring the pairs in parts (``score_chunk_records``, ``engine.predict_chunks``) changes nothing:
a part of the tiny sample scored in several parts and at once gives the same pairs with the same
scores, the same people and the same person ids, after a full run and after a night of changes."""
from __future__ import annotations

import pytest

from lienthong.linking import load_policy
from support.linking_nights import full_and_night

pytestmark = [pytest.mark.integration]
PART = 80  # records per part: the ~500 records in six or more parts


@pytest.fixture(scope="module")
def runs(tiny_sample, fresh_database, load_source):
    policy = load_policy()
    return full_and_night(tiny_sample, fresh_database, load_source, {
        "at_once": policy, "in_parts": policy.replace(score_chunk_records=PART)})


def test_the_records_are_scored_in_several_parts(runs):
    records = runs["in_parts"]["full"]["records"]
    assert load_policy().replace(score_chunk_records=PART).chunks_for(records) >= 5
    assert load_policy().chunks_for(records) == 1


@pytest.mark.parametrize("moment", ["after_full", "after_night"])
def test_parts_score_the_same_pairs_alike(runs, moment):
    at_once, in_parts = runs["at_once"][moment][1], runs["in_parts"][moment][1]
    assert len(at_once) > 50
    assert in_parts == at_once


@pytest.mark.parametrize("moment", ["after_full", "after_night"])
def test_parts_link_the_same_people_with_the_same_ids(runs, moment):
    at_once, in_parts = runs["at_once"][moment], runs["in_parts"][moment]
    assert in_parts[0] == at_once[0], f"{len(in_parts[0] ^ at_once[0])} clusters differ"
    assert in_parts[2] == at_once[2]  # the same stable person ids
    assert len(at_once[0]) < len(at_once[2])  # people in two or more rolls were linked
