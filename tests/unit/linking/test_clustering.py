from lienthong.linking.clustering import cluster, id_edits


def test_id_edits_count_typos_and_transpositions():
    assert id_edits("072182947378", "072182947378") == 0
    assert id_edits("072182947378", "072182947379") == 1  # one digit
    assert id_edits("072182947378", "072182943778") == 1  # adjacent swap
    assert id_edits("072208266175", "072208266716") == 2  # a swap in one record, a typo in the other
    assert id_edits("072182947378", "072182749318") > 2


def test_strongest_links_first_and_no_chaining_through_a_weak_link():
    ids = {"a1": "cccd:072182947378", "a2": "cccd:072182947739", "b1": "cccd:080185111222", "x": None}
    edges = [("a1", "a2", 0.999), ("b1", "x", 0.99), ("a2", "x", 0.96)]
    clusters, refused = cluster(ids, edges)
    assert clusters["a1"] == clusters["a2"]          # typo'd CCCD still links
    assert clusters["b1"] == clusters["x"] != clusters["a1"]  # the weak link would join two ids
    assert [(r.uid_a, r.uid_b, r.reason) for r in refused] == [("a2", "x", "different ID numbers")]


def test_cccd_and_cmnd_of_one_person_do_not_conflict():
    clusters, refused = cluster({"a": "cccd:072182947378", "b": "cmnd:295392225"}, [("a", "b", 0.99)])
    assert clusters["a"] == clusters["b"] and not refused


def test_reviewer_decisions_win():
    ids = {"a": None, "b": None, "c": None}
    clusters, refused = cluster(ids, [("a", "b", 0.999)], must_link=[("b", "c")], cannot_link=[("a", "b")])
    assert clusters["b"] == clusters["c"] != clusters["a"]
    assert refused[0].reason == "reviewer decided different people"


def test_reviewer_same_overrides_an_id_conflict():
    ids = {"a": "cccd:072182947378", "b": "cccd:080185111222"}
    clusters, _ = cluster(ids, [], must_link=[("a", "b")])
    assert clusters["a"] == clusters["b"]
