"""Planning partitioned linking: each record's partition from its commune, by the policy, stable."""
import pytest

from lienthong.linking.blocking import PREDICTION_KEYS
from lienthong.linking.partitions import (
    CROSS_PARTITION_KEYS, NO_COMMUNE, ONE_PARTITION, partition_of, plan_partitions, share_a_key, training_partitions,
)
from lienthong.linking.policy import PolicyError, load_policy, parse_overrides
from lienthong.text import crosswalk
from lienthong.text.addresses import _index

COMMUNES = sorted(_index().new)[:40]  # new-scheme commune codes of the reference
GROUPS = {"by": "commune_group", "count": 4}


def test_partitions_are_off_by_default_and_set_per_run():
    assert load_policy().partitions == {"by": "none"} and not load_policy().partitioned
    policy = load_policy().replace(**parse_overrides(["partitions={by: commune_group, count: 4}"]))
    assert policy.partitioned and policy.partitions == {**GROUPS, "train_records": 0}


@pytest.mark.parametrize("value", [{"by": "district"}, {"by": "commune_group"}, {"by": "commune_group", "count": 0},
                                   {"by": "province", "count": 2}, "province", {"by": "none", "train_records": 5},
                                   {"by": "province", "train_records": -1}])
def test_a_wrong_partitions_setting_is_refused(value):
    with pytest.raises(PolicyError, match="partitions"):
        load_policy().replace(partitions=value)


def test_commune_groups_are_stable_and_spread():
    groups = [partition_of(code, GROUPS) for code in COMMUNES]
    assert groups == [partition_of(code, dict(GROUPS)) for code in COMMUNES]  # a hash of the code only
    assert set(groups) == {"g0", "g1", "g2", "g3"}
    assert partition_of(None, GROUPS) == NO_COMMUNE


def test_the_new_communes_of_a_split_old_commune_share_a_partition():
    # A record naming the old commune resolves to all of them; its person's other records name one.
    split = [new for _, new in crosswalk() if len(new) > 1]
    assert split
    for new in split:
        assert len({partition_of(ref.code, {"by": "commune_group", "count": 8}) for ref in new}) == 1


def test_province_partitions_by_the_communes_province():
    assert {partition_of(code, {"by": "province"}) for code in COMMUNES} == {_index().new[COMMUNES[0]].province_code}
    assert partition_of("99999", {"by": "province"}) == NO_COMMUNE  # unknown to the reference
    assert partition_of(None, {"by": "province"}) == NO_COMMUNE


def test_the_plan_counts_each_partitions_records():
    counts = {code: i + 1 for i, code in enumerate(COMMUNES)} | {None: 7}
    units, planned = plan_partitions(counts, GROUPS)
    assert set(units) == set(COMMUNES)  # records without a commune need no entry: their partition is "none"
    assert [p["partition"] for p in planned] == ["g0", "g1", "g2", "g3", NO_COMMUNE]
    assert sum(p["records"] for p in planned) == sum(counts.values())
    assert planned[-1]["records"] == 7
    for p in planned[:-1]:
        assert p["records"] == sum(n for code, n in counts.items() if code and units[code] == p["partition"])


def test_one_partition_when_not_partitioned_and_never_none():
    assert plan_partitions({COMMUNES[0]: 3, None: 2}, {"by": "none"})[1] == [{"partition": ONE_PARTITION, "records": 5}]
    assert plan_partitions({}, GROUPS)[1] == [{"partition": NO_COMMUNE, "records": 0}]


def test_training_takes_whole_partitions_up_to_the_records_asked():
    planned = [{"partition": "g0", "records": 40}, {"partition": "g1", "records": 30}, {"partition": "g2", "records": 30}]
    assert training_partitions(planned, 0) == ["g0", "g1", "g2"]
    assert training_partitions(planned, 40) == ["g0"]
    assert training_partitions(planned, 41) == ["g0", "g1"]
    assert training_partitions(planned, 1000) == ["g0", "g1", "g2"]


def test_each_cross_partition_key_narrows_a_prediction_rule_that_names_no_place():
    """The pass across partitions scores only pairs a run in one partition scores too (a key holds
    every column of a prediction rule, a full date holding the year), on keys a mover keeps (no
    hamlet or commune), each with a rare part so that its blocks stay small whatever the records
    (an ID, a phone, a full date)."""
    places = {"hamlet_key", "commune_code", "commune_candidates", "commune_area"}
    assert ("id_number",) in CROSS_PARTITION_KEYS
    for keys in CROSS_PARTITION_KEYS:
        held = set(keys) | ({"birth_year"} if "birth_date" in keys else set())
        assert not places & held, keys
        assert any(set(rule) <= held for rule in PREDICTION_KEYS), keys
        assert {"id_number", "phone", "birth_date"} & set(keys), keys


def test_a_placeholder_date_is_no_full_date_across_partitions():
    """Namesakes of one year with 01/01 dates, IDs of two kinds and no common phone share no key;
    the same with one full date, or with one phone, do."""
    base = {"id_number": None, "phone": None, "given_key": "khue", "family_key": "nguyen"}
    a = {**base, "id_number": "080197361261", "birth_date": "1997-01-01", "phone": "0766075003"}
    b = {**base, "id_number": "021097777", "birth_date": "1997-01-01"}
    assert not share_a_key(a, b)
    assert share_a_key({**a, "birth_date": "1997-05-06"}, {**b, "birth_date": "1997-05-06"})
    assert share_a_key(a, {**b, "phone": "0766075003"})
    assert share_a_key(a, {**b, "id_number": "080197361261"})
    assert not share_a_key({**a, "birth_date": None}, {**b, "birth_date": None})
