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
