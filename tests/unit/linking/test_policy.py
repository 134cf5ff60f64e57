"""The linking policy: read from its file, overridden per run, refused with a clear message when wrong,
and obeyed by the clusterer."""
import shutil

import pytest

from lienthong.config.organisations import CONFIG_DIR
from lienthong.linking.clustering import cluster
from lienthong.linking.conflicts import RecordFacts
from lienthong.linking.policy import DEFAULT_FILE, PolicyError, load_policy, parse_overrides

POLICY = load_policy()


def test_the_default_file_holds_every_value():
    assert POLICY.link_threshold == 0.9 and POLICY.review_floor == 0.5 and POLICY.max_id_edits == 2
    assert POLICY.u_sample_pairs(10) == POLICY.u_sample_min_pairs
    assert POLICY.u_sample_pairs(10**9) == POLICY.u_sample_max_pairs


def test_a_deployment_file_is_read_from_the_environment(tmp_path, monkeypatch):
    own = tmp_path / "linking.yml"
    own.write_text(DEFAULT_FILE.read_text(encoding="utf-8").replace("link_threshold: 0.9 ", "link_threshold: 0.97 "),
                   encoding="utf-8")
    monkeypatch.setenv("LIENTHONG_LINKING_POLICY", str(own))
    assert load_policy().link_threshold == 0.97


@pytest.mark.parametrize("text, message", [
    ("link_threshold: 0.95\n", "missing keys"),
    ("{}\n", "missing keys"),
    ("- 1\n", "must be a mapping"),
    ("link_threshold: [0.9\n", "not valid YAML"),
])
def test_a_broken_file_names_itself_and_the_problem(tmp_path, text, message):
    path = tmp_path / "policy.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=message) as err:
        load_policy(path)
    assert str(path) in str(err.value)


def test_a_missing_file_says_how_to_fix_it(tmp_path):
    with pytest.raises(PolicyError, match="LIENTHONG_LINKING_POLICY"):
        load_policy(tmp_path / "absent.yml")


def test_overrides_are_checked():
    assert POLICY.replace(**parse_overrides(["link_threshold=0.97"])).link_threshold == 0.97
    with pytest.raises(PolicyError, match="no link_treshold"):
        POLICY.replace(link_treshold=0.97)
    with pytest.raises(PolicyError, match="review_floor <= link_threshold"):
        POLICY.replace(link_threshold=0.4)
    with pytest.raises(PolicyError, match="max_id_edits must be a number"):
        POLICY.replace(max_id_edits=1.5)
    with pytest.raises(PolicyError, match="0 < roll_habit_share < 1"):
        POLICY.replace(roll_habit_share=1)
    with pytest.raises(PolicyError, match="KEY=VALUE"):
        parse_overrides(["link_threshold"])


def test_a_recorded_policy_keeps_todays_values_for_keys_it_did_not_know():
    recorded = {**POLICY.as_dict(), "link_threshold": 0.9, "a_key_since_removed": 1}
    del recorded["review_floor"]
    policy = POLICY.with_recorded(recorded)
    assert policy.link_threshold == 0.9 and policy.review_floor == POLICY.review_floor


def test_the_clusterer_obeys_the_id_edit_limit():
    # One person's two records, their CCCDs one transposition apart; a linked edge.
    facts = {"a": RecordFacts(id="cccd:072185012345", birth_date="1985-03-04", birth_year=1985, given_key="lan"),
             "b": RecordFacts(id="cccd:072185012354", birth_date="1985-03-04", birth_year=1985, given_key="lan")}
    edges = [("a", "b", 0.99)]
    clusters, refused = cluster(facts, edges, policy=POLICY)
    assert clusters["a"] == clusters["b"] and not refused
    clusters, refused = cluster(facts, edges, policy=POLICY.replace(near_id_edits=0, max_id_edits=0))
    assert clusters["a"] != clusters["b"] and refused[0].reason == "different ID numbers"


def test_provinces_are_the_organisation_configs_and_tay_ninh_when_none_says_one(tmp_path, monkeypatch):
    assert load_policy().provinces == ("tinhtayninh",)
    configs = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, configs)
    first = sorted(configs.glob("*.yml"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "province: tinhdongthap\n", encoding="utf-8")
    monkeypatch.setenv("LIENTHONG_ORG_CONFIG_DIR", str(configs))
    assert load_policy().provinces == ("tinhdongthap",)
    assert load_policy().replace(provinces=["tinhtayninh", "tinhdongthap"]).provinces == ("tinhtayninh", "tinhdongthap")
    for value in ("tinhtayninh", [], ["tinhlongan"]):  # a string, none, an old province
        with pytest.raises(PolicyError, match="provinces"):
            load_policy().replace(provinces=value)


def test_a_policy_file_does_not_set_the_provinces(tmp_path):
    own = tmp_path / "linking.yml"
    own.write_text(DEFAULT_FILE.read_text(encoding="utf-8") + "provinces: [tinhtayninh]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="organisation configs"):
        load_policy(own)
