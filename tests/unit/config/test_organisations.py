from pathlib import Path

import pytest

from lienthong.config.organisations import (
    OrganisationConfigError,
    get_organisation,
    load_organisation,
    load_organisations,
)

GOOD = """
code: hoi_test
name: Hội Thử
short_name: Hội Thử
member_word: hội viên
owner: test
entities:
  - kind: roster
    connector: {type: file, path: "hoi_test/{date}/ds.csv", format: csv}
    columns: {Họ và tên: full_name}
    required: [full_name]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_configs_load_and_are_named_after_their_files():
    configs = load_organisations()
    assert "hoi_lhpn" in [c.code for c in configs]
    women = get_organisation("hoi_lhpn")
    assert women.entity("roster").columns["Họ và tên"] == "full_name"


def test_a_new_organisation_is_just_a_file(tmp_path):
    config = load_organisation(write(tmp_path, "hoi_test", GOOD))
    assert config.entity("roster").connector.encoding == "utf-8-sig"


@pytest.mark.parametrize(
    "change, expected",
    [
        (("code: hoi_test", "code: Hội-Thử"), "code"),
        (('path: "hoi_test/{date}/ds.csv"', 'path: "hoi_test/ds.csv"'), "entities.0.connector.file.path"),
        (('path: "hoi_test/{date}/ds.csv"', 'path: "../{date}/ds.csv"'), "entities.0.connector.file.path"),
        (("format: csv", "format: pdf"), "entities.0.connector"),
        (("owner: test", "owner: test\nshedule: daily"), "shedule"),
        (("{Họ và tên: full_name}", "{Họ và tên: Full Name}"), "entities.0.columns"),
    ],
)
def test_invalid_config_names_the_file_and_the_key(tmp_path, change, expected):
    path = write(tmp_path, "hoi_test", GOOD.replace(*change))
    with pytest.raises(OrganisationConfigError) as err:
        load_organisation(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_code_must_match_file_name(tmp_path):
    with pytest.raises(OrganisationConfigError, match="must equal the file name"):
        load_organisation(write(tmp_path, "other_name", GOOD))


def test_unknown_organisation_lists_the_known_ones():
    with pytest.raises(OrganisationConfigError, match="hoi_lhpn"):
        get_organisation("no_such_org")


RICH = GOOD.replace("""    columns: {Họ và tên: full_name}
""", """    record_id: Mã số
    columns: {Họ và tên: full_name, Năm sinh: birth_year, Ghi chú: end_reason}
    optional: [Ghi chú]
    constants: {sex: F}
    clean: {birth_year: [surrounding_quotes]}
""") + """sex_codes: {"1": M, "0": F}
eligibility: {min_age: 18, sex: F}
quality_rules: rules/hoi_test.yml
"""


def test_record_id_constants_and_rule_file_come_from_the_config(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "hoi_test.yml").write_text(
        "roster:\n- {type: expect_table_row_count_to_be_between, kwargs: {min_value: 1}, severity: critical}\n")
    config = load_organisation(write(tmp_path, "hoi_test", RICH))
    roster = config.entity("roster")
    assert roster.mapping["Mã số"] == "member_code"
    assert roster.fields == ("full_name", "birth_year", "end_reason", "member_code", "sex")
    assert config.quality_rules["roster"][0]["severity"] == "critical"
    assert config.eligibility.sex == "F" and config.sex_codes == {"1": "M", "0": "F"}
    assert not config.sends("dues")


@pytest.mark.parametrize(
    "change, expected",
    [
        (("optional: [Ghi chú]", "optional: [Ghi chu]"), "optional headers"),
        (("constants: {sex: F}", "constants: {full_name: X}"), "also mapped"),
        (("clean: {birth_year: [surrounding_quotes]}", "clean: {phone: [surrounding_quotes]}"), "no column maps"),
        (("clean: {birth_year: [surrounding_quotes]}", "clean: {birth_year: [strip_everything]}"), "clean"),
        (("eligibility: {min_age: 18, sex: F}", "eligibility: {min_age: 18, sex: X}"), "eligibility.sex"),
        (("kind: roster", "kind: dues"), "every organisation sends a roster"),
        (("quality_rules: rules/hoi_test.yml", "quality_rules: {dues: []}"), "does not send"),
        (("quality_rules: rules/hoi_test.yml", "quality_rules: rules/none.yml"), "cannot read"),
    ],
)
def test_config_mistakes_are_named(tmp_path, change, expected):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "hoi_test.yml").write_text("roster: []\n")
    with pytest.raises(OrganisationConfigError, match=expected):
        load_organisation(write(tmp_path, "hoi_test", RICH.replace(*change)))


def test_the_committed_json_schema_is_generated_from_the_model_and_accepts_the_bundled_configs():
    import json

    import jsonschema
    import yaml

    from lienthong.config.organisations import CONFIG_DIR
    from lienthong.config.schema import SCHEMA_PATH, schema_is_current

    assert schema_is_current(), "run `uv run lienthong config schema`"
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for path in sorted(CONFIG_DIR.glob("*.yml")):
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**yaml.safe_load(GOOD), "shedule": "daily"}, schema)


def test_every_canonical_field_the_warehouse_reads_is_documented():
    from lienthong.config.organisations import CANONICAL_FIELDS

    docs = (Path(__file__).resolve().parents[3] / "docs" / "onboarding.md").read_text(encoding="utf-8")
    for name in CANONICAL_FIELDS:
        assert f"`{name}`" in docs, name
    staging = (Path(__file__).resolve().parents[3] / "dbt_project" / "macros" / "staging.sql").read_text()
    for name in ("member_code", "birth_year", "hamlet", "commune", "address", "session_on", "reported_count"):
        assert name in staging and name in CANONICAL_FIELDS


def test_a_roll_may_say_its_province_any_new_province():
    from lienthong.config.organisations import OrganisationConfig, deployed_provinces
    from lienthong.text.addresses import national_provinces

    base = load_organisations()[0].model_dump()
    for province in national_provinces():  # the 34: a deployment anywhere is a config, no code
        assert OrganisationConfig.model_validate({**base, "province": province}).province == province
    elsewhere = OrganisationConfig.model_validate({**base, "province": national_provinces()[0]})
    assert deployed_provinces((elsewhere, *load_organisations()[1:])) == (national_provinces()[0],)
    # An old province (Long An became part of the new Tây Ninh) is no new province's key.
    with pytest.raises(ValueError, match="tinhtayninh"):
        OrganisationConfig.model_validate({**base, "province": "tinhlongan"})
