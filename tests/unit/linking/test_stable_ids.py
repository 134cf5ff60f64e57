import itertools

from lienthong.linking.stable_ids import assign


def minter():
    counter = itertools.count(100)
    return lambda n: [f"LT{next(counter)}" for _ in range(n)]


def test_unchanged_clusters_keep_their_ids_and_new_records_join():
    previous = {"r1": "LT1", "r2": "LT1", "r3": "LT2"}
    clusters = {"r1": "k", "r2": "k", "new": "k", "r3": "m"}
    assignment, events = assign(clusters, previous, minter())
    assert assignment == {"r1": "LT1", "r2": "LT1", "new": "LT1", "r3": "LT2"}
    assert events == []


def test_new_person_gets_a_new_id():
    assignment, events = assign({"r1": "k", "n1": "z", "n2": "z"}, {"r1": "LT1"}, minter())
    assert assignment["n1"] == assignment["n2"] == "LT100"
    assert [(e.event, e.person_id) for e in events] == [("created", "LT100")]


def test_merge_keeps_the_larger_person_and_records_the_absorbed_one():
    previous = {"a1": "LT2", "a2": "LT2", "b1": "LT1"}
    assignment, events = assign({"a1": "k", "a2": "k", "b1": "k"}, previous, minter())
    assert set(assignment.values()) == {"LT2"}
    assert [(e.event, e.person_id, e.other_person_id, e.record_uids) for e in events] == [
        ("merged", "LT2", "LT1", ("b1",))]


def test_split_keeps_the_id_on_the_larger_part():
    previous = {"a1": "LT1", "a2": "LT1", "a3": "LT1"}
    assignment, events = assign({"a1": "k", "a2": "k", "a3": "m"}, previous, minter())
    assert assignment == {"a1": "LT1", "a2": "LT1", "a3": "LT100"}
    assert [(e.event, e.person_id, e.other_person_id) for e in events] == [("split", "LT100", "LT1")]


def test_equal_parts_leave_the_id_with_the_records_that_held_it_longest():
    previous = {"old": "LT1", "recent": "LT1"}
    assignment, _ = assign({"old": "z", "recent": "a"}, previous, minter(), since={"old": 1, "recent": 2})
    assert assignment == {"old": "LT1", "recent": "LT100"}
