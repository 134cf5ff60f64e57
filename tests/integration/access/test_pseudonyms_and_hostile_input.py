"""The bi schema carries no identifiers; the key is secret; hostile codes, prefixes and paths are refused."""
from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from lienthong.access import AccessConfigError, RoleSet, sync_roles
from lienthong.access.commands import access
from lienthong.config.organisations import (
    FileConnector, OrganisationConfig, OrganisationConfigError, get_organisation, load_organisation)

from .conftest import PASSWORD_ENV

HOSTILE = 'x"; drop table raw.batches; --'
FORBIDDEN_COLUMNS = {"person_id", "full_name", "name_key", "birth_date", "id_number", "phone", "hamlet_name",
                     "religion", "ethnicity", "source_record_key"}


def test_bi_columns_carry_no_identifiers(warehouse):
    with psycopg.connect(warehouse.url) as conn:
        columns = {c for (c,) in conn.execute(
            "select column_name from information_schema.columns where table_schema = 'bi'")}
    assert columns and not columns & FORBIDDEN_COLUMNS


def test_person_key_is_a_keyed_hash_not_a_plain_one(warehouse):
    with psycopg.connect(warehouse.url) as conn:
        keys = {k for (k,) in conn.execute("select person_key from bi.persons")}
        (secret,) = conn.execute("select pseudonym_key from access.pseudonym_key").fetchone()
    assert len(secret) == 64
    assert keys == {hashlib.sha256(f"{secret}:{p}".encode()).hexdigest() for p in ("p1", "p2", "p3")}
    assert not keys & {hashlib.sha256(p.encode()).hexdigest() for p in ("p1", "p2", "p3")}


def test_the_key_comes_from_the_environment_when_set_and_must_be_long(warehouse):
    key = "k" * 40
    with pytest.raises(AccessConfigError, match="at least 32 characters"):
        sync_roles(warehouse.url, prefix=warehouse.prefix, environ={"LIENTHONG_PSEUDONYM_KEY": "short"})
    report = sync_roles(warehouse.url, prefix=warehouse.prefix, environ={**PASSWORD_ENV, "LIENTHONG_PSEUDONYM_KEY": key})
    assert "changed" in report.pseudonym_key
    again = sync_roles(warehouse.url, prefix=warehouse.prefix, environ={**PASSWORD_ENV, "LIENTHONG_PSEUDONYM_KEY": key})
    assert "unchanged" in again.pseudonym_key
    with psycopg.connect(warehouse.url) as conn:
        assert conn.execute("select array_agg(pseudonym_key) from access.pseudonym_key").fetchone()[0] == [key]


def test_hostile_organisation_codes_are_refused_by_config_validation():
    data = get_organisation("hoi_lhpn").model_dump()
    with pytest.raises(ValueError, match="lower_snake_case"):
        OrganisationConfig.model_validate({**data, "code": HOSTILE})


def test_a_config_file_named_unlike_its_code_is_refused(tmp_path):
    source = Path(__file__).parents[3] / "include/lienthong/config/organisations/hoi_lhpn.yml"
    hostile = tmp_path / 'x"; drop table raw.batches; --.yml'
    hostile.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(OrganisationConfigError, match="must equal the file name"):
        load_organisation(hostile)


@pytest.mark.parametrize("path", ["../../etc/{date}/passwd", "/etc/{date}.csv", "a/../../{date}.csv"])
def test_config_paths_leaving_the_drop_folder_are_refused(path):
    with pytest.raises(ValueError, match="stay inside it"):
        FileConnector(type="file", path=path, format="csv")


def test_role_names_are_built_only_from_validated_parts():
    with pytest.raises(AccessConfigError, match="organisation code"):
        RoleSet("lienthong", (HOSTILE,))
    with pytest.raises(AccessConfigError, match="role prefix"):
        RoleSet('lt"; drop role postgres; --', ("hoi_lhpn",))
    with pytest.raises(AccessConfigError, match="role prefix"):
        RoleSet("x" * 21, ("hoi_lhpn",))


def test_sync_refuses_an_unvalidated_organisation_before_touching_the_warehouse(warehouse):
    # model_construct skips pydantic validation: the access layer checks codes again itself.
    smuggled = OrganisationConfig.model_construct(code=HOSTILE)
    with pytest.raises(AccessConfigError, match="organisation code"):
        sync_roles(warehouse.url, prefix=warehouse.prefix, organisations=[smuggled])
    with psycopg.connect(warehouse.url) as conn:
        assert conn.execute("select to_regclass('raw.batches') is not null").fetchone()[0]


def test_cli_sync_reports_and_rejects_a_hostile_prefix(warehouse, monkeypatch):
    for name, value in PASSWORD_ENV.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    done = runner.invoke(access, ["sync", "--url", warehouse.url, "--prefix", warehouse.prefix])
    assert done.exit_code == 0, done.output
    assert f"role {warehouse.role('bi')}: login" in done.output
    assert "row-level security: bi.memberships" in done.output
    bad = runner.invoke(access, ["sync", "--url", warehouse.url, "--prefix", HOSTILE])
    assert bad.exit_code == 1 and "role prefix" in bad.output
    listed = runner.invoke(access, ["roles", "--prefix", warehouse.prefix])
    assert f"{warehouse.role('bi')}\tLIENTHONG_BI_PASSWORD" in listed.output
