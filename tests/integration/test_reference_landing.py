"""Reference files into raw: the population statistics and the population database's changes, each
replaced whole; a file without its columns loads nothing; the warehouse build loads what is there."""
import uuid

import psycopg
import pytest
from psycopg import sql

from lienthong.landing.reference import POPULATION, POPULATION_CHANGES, load_reference
from lienthong.sources.files import SourceFileError
from lienthong.warehouse import connect

CHANGES_HEADER = "citizen_id,full_name,birth_date,sex,change_kind,changed_on,commune_code"
CHANGES = [
    "072185001234,Nguyễn Thị Lan,1985-03-12,F,died,2026-10-02,25459",
    "080160004321,Trần Văn Hùng,1960-01-02,M,moved_away,2024-05-20,",
]


def write(path, header: str, lines: list[str]):
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def rows(url, table: str) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(sql.SQL("select * from {} order by 1").format(sql.Identifier("raw", table))).fetchall()


def test_population_changes_land_as_sent_and_are_replaced_whole(warehouse_url, tmp_path):
    path = write(tmp_path / "population_changes.csv", CHANGES_HEADER, CHANGES)
    with connect(warehouse_url) as conn:
        assert load_reference(conn, POPULATION_CHANGES, path) == 2
    assert rows(warehouse_url, "reference_population_changes") == [
        ("072185001234", "Nguyễn Thị Lan", "1985-03-12", "F", "died", "2026-10-02", "25459"),
        ("080160004321", "Trần Văn Hùng", "1960-01-02", "M", "moved_away", "2024-05-20", None),  # empty -> null
    ]
    # The next extract replaces the table; columns in another order and extra columns are fine.
    again = write(tmp_path / "again.csv", "change_kind,citizen_id,full_name,birth_date,sex,changed_on,commune_code,note",
                  ["died,079190000001,Lê Văn Tư,1990-02-03,M,2026-11-01,25585,ghi chú"])
    with connect(warehouse_url) as conn:
        assert load_reference(conn, POPULATION_CHANGES, again) == 1
    assert rows(warehouse_url, "reference_population_changes") == [
        ("079190000001", "Lê Văn Tư", "1990-02-03", "M", "died", "2026-11-01", "25585")]


def test_a_file_without_its_columns_names_them_and_loads_nothing(warehouse_url, tmp_path):
    good = write(tmp_path / "population_changes.csv", CHANGES_HEADER, CHANGES)
    bad = write(tmp_path / "bien_dong.csv", "citizen_id,full_name,birth_date,sex,commune_code", [
        "072185001234,Nguyễn Thị Lan,1985-03-12,F,25459"])
    with connect(warehouse_url) as conn:
        load_reference(conn, POPULATION_CHANGES, good)
        with pytest.raises(SourceFileError) as error:
            load_reference(conn, POPULATION_CHANGES, bad)
    assert str(bad) in str(error.value)
    assert "'change_kind'" in str(error.value) and "'changed_on'" in str(error.value)
    assert len(rows(warehouse_url, "reference_population_changes")) == 2  # the previous extract stays


def test_a_file_that_is_not_utf8_fails_by_name_and_keeps_the_table(warehouse_url, tmp_path):
    good = write(tmp_path / "population_changes.csv", CHANGES_HEADER, CHANGES)
    broken = tmp_path / "broken.csv"
    broken.write_bytes((CHANGES_HEADER + "\n").encode() + b"072185001234,Tr\xe2n Th\xd2 Lan\n")  # Windows-1258
    with connect(warehouse_url) as conn:
        load_reference(conn, POPULATION_CHANGES, good)
        with pytest.raises(SourceFileError, match=str(broken)):
            load_reference(conn, POPULATION_CHANGES, broken)
    assert len(rows(warehouse_url, "reference_population_changes")) == 2


def test_population_statistics_load_through_the_same_path(warehouse_url, tmp_path):
    path = write(tmp_path / "population.csv", "commune_code,commune_name,sex,age_band,people",
                 ["25459,Phường Tân Ninh,F,0-4,120", "25459,Phường Tân Ninh,M,85+,7"])
    with connect(warehouse_url) as conn:
        assert load_reference(conn, POPULATION, path) == 2
        assert conn.execute("select sum(people), pg_typeof(sum(people))::text from raw.reference_population"
                            ).fetchone() == (127, "bigint")


def test_the_warehouse_build_loads_the_reference_files_it_finds(project_env, warehouse_url, monkeypatch, capsys):
    from lienthong.pipeline.tasks import prepare_warehouse

    prefix = f"t{uuid.uuid4().hex[:8]}"  # role names are cluster-global
    monkeypatch.setenv("LIENTHONG_ROLE_PREFIX", prefix)
    reference = project_env / "sample" / "reference"
    reference.mkdir(parents=True)
    try:
        prepare_warehouse()
        said = capsys.readouterr().out
        # No files: empty tables (the models read them), and the log says so.
        assert f"no {reference / 'population_changes.csv'}" in said and f"no {reference / 'population.csv'}" in said
        assert rows(warehouse_url, "reference_population_changes") == [] == rows(warehouse_url, "reference_population")

        write(reference / "population_changes.csv", CHANGES_HEADER, CHANGES)
        prepare_warehouse()
        said = capsys.readouterr().out
        assert f"population changes extract: 2 rows from {reference / 'population_changes.csv'}" in said
        assert len(rows(warehouse_url, "reference_population_changes")) == 2
        with connect(warehouse_url) as conn:
            # Personal data: readable by the transformer (dbt's sources), by no reader of the outputs.
            can_read = dict(conn.execute(
                "select r, has_table_privilege(r, 'raw.reference_population_changes', 'select')"
                " from unnest(%s::text[]) as r",
                ([f"{prefix}_{s}" for s in ("transformer", "reviewer", "bi", "analyst", "linker")],)).fetchall())
        assert can_read == {f"{prefix}_transformer": True, f"{prefix}_reviewer": False, f"{prefix}_bi": False,
                            f"{prefix}_analyst": False, f"{prefix}_linker": False}
    finally:
        admin = warehouse_url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            owned = [r for (r,) in conn.execute("select rolname from pg_roles where rolname like %s", (prefix + r"\_%",))]
            for name in owned:  # the database is dropped afterwards; its objects must not hold the roles
                conn.execute(sql.SQL("drop owned by {} cascade").format(sql.Identifier(name)))
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in owned:
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(name)))
