"""Landing a delivery into raw: quarantine, reruns, duplicates, failures that leave nothing."""
from datetime import date

import pytest

from lienthong.landing.ingest import ingest
from lienthong.sources.files import SourceFileError
from lienthong.warehouse import connect

DAY = date(2026, 11, 27)
GOOD = [
    "1,Trần Thị Thúy,05/03/1990,Nữ,072190001234,0912345678,Ấp 1,Phường Tân Ninh,Chi hội Ấp 1,01/01/2015",
    "2,Nguyễn Thị Lan,1985,Nữ,,,Ấp 2,Xã Tân Lập,Chi hội Ấp 2,",
]
NO_NAME = "3,,1970,Nữ,,,Ấp 2,Xã Tân Lập,Chi hội Ấp 2,"


def counts(url):
    with connect(url) as conn:
        rows = conn.execute("select count(*) from raw.hoi_lhpn__roster").fetchone()[0]
        live = conn.execute("select count(*) from raw.batches where status = 'loaded'").fetchone()[0]
        quarantined = conn.execute("select count(*) from raw.quarantine").fetchone()[0]
    return rows, live, quarantined


def test_rows_land_and_a_bad_row_goes_to_quarantine_with_line_and_reason(project_env, warehouse_url, women_roster):
    women_roster(DAY.isoformat(), [*GOOD, NO_NAME])
    result = ingest("hoi_lhpn", "roster", DAY)
    assert (result.status, result.row_count, result.quarantined_count) == ("loaded", 2, 1)
    with connect(warehouse_url) as conn:
        row_number, code, reason, original = conn.execute(
            "select row_number, reason_code, reason, original from raw.quarantine").fetchone()
        names = conn.execute("select full_name from raw.hoi_lhpn__roster order by row_number").fetchall()
    assert (row_number, code) == (4, "missing_required")
    assert "full_name" in reason and original["commune"] == "Xã Tân Lập"
    assert [n for (n,) in names] == ["Trần Thị Thúy", "Nguyễn Thị Lan"]


def test_rerunning_a_day_never_duplicates(project_env, warehouse_url, women_roster):
    women_roster(DAY.isoformat(), GOOD)
    assert ingest("hoi_lhpn", "roster", DAY).status == "loaded"
    assert ingest("hoi_lhpn", "roster", DAY).status == "unchanged"
    assert counts(warehouse_url) == (2, 1, 0)
    # A corrected file for the same day replaces the day's batch.
    women_roster(DAY.isoformat(), GOOD[:1])
    assert ingest("hoi_lhpn", "roster", DAY).status == "loaded"
    assert counts(warehouse_url) == (1, 1, 0)


def test_the_same_file_sent_on_another_day_is_recognised(project_env, warehouse_url, women_roster):
    women_roster("2026-11-26", GOOD)
    women_roster("2026-11-27", GOOD)
    ingest("hoi_lhpn", "roster", date(2026, 11, 26))
    result = ingest("hoi_lhpn", "roster", date(2026, 11, 27))
    assert result.status == "duplicate"
    assert counts(warehouse_url) == (2, 1, 0)
    assert ingest("hoi_lhpn", "roster", date(2026, 11, 27)).status == "duplicate"
    with connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.batches").fetchone()[0] == 2


def test_a_duplicate_day_goes_live_as_the_newest_batch_when_its_original_is_replaced(
        project_env, warehouse_url, women_roster):
    # The 27th sent the 26th's file again; then a corrected file replaces the 26th's: the 27th's
    # roll (the first file) goes live under a new batch id, above every earlier one, because the
    # warehouse's incremental nights read only batches above the highest they have read.
    women_roster("2026-11-26", GOOD)
    women_roster("2026-11-27", GOOD)
    ingest("hoi_lhpn", "roster", date(2026, 11, 26))
    assert ingest("hoi_lhpn", "roster", date(2026, 11, 27)).status == "duplicate"
    women_roster("2026-11-26", GOOD[:1])
    assert ingest("hoi_lhpn", "roster", date(2026, 11, 26)).status == "loaded"
    with connect(warehouse_url) as conn:
        live = conn.execute(
            "select b.batch_id, b.delivery_date, count(r.row_number) from raw.batches b"
            " left join raw.hoi_lhpn__roster r using (batch_id) where b.status = 'loaded'"
            " group by 1, 2 order by 2").fetchall()
        states = conn.execute("select batch_id, status from raw.batches order by batch_id").fetchall()
    assert [(day.day, rows) for _, day, rows in live] == [(26, 1), (27, len(GOOD))]
    assert live[1][0] == max(batch_id for batch_id, _ in states)
    assert [status for _, status in states][:2] == ["replaced", "replaced"]


def test_a_file_that_breaks_midway_leaves_no_partial_batch(project_env, warehouse_url, women_roster):
    women_roster(DAY.isoformat(), GOOD)
    ingest("hoi_lhpn", "roster", DAY)
    path = women_roster(DAY.isoformat(), [*GOOD, GOOD[0].replace("1", "3", 1)])
    path.write_bytes(path.read_bytes() + b"4,Ph\xe1m Th\xef Mai,1990,N\xff,,,,X\xe3,,\n")
    with pytest.raises(SourceFileError, match=str(path)):
        ingest("hoi_lhpn", "roster", DAY)
    # The previous good batch for the day is still there, untouched.
    assert counts(warehouse_url) == (2, 1, 0)


def test_unreadable_dates_go_to_quarantine_ids_are_cleaned_or_set_aside(project_env, warehouse_url, women_roster):
    women_roster(DAY.isoformat(), [
        *GOOD,
        "3,Lê Thị Mai,31/02/1990,Nữ,,,Ấp 3,Xã Tân Lập,Chi hội Ấp 3,",      # no 31 February
        "4,Phạm Thị Hoa,1988,Nữ,07218800ABCD,,Ấp 3,Xã Tân Lập,Chi hội Ấp 3,",  # letters in the ID: set aside
        "5,Võ Thị Sáu,32245,Nữ,0721880012,,Ấp 3,Xã Tân Lập,Chi hội Ấp 3,",   # Excel serial; short ID: lands
        "6,Đỗ Thị Hà,1991,Nữ,'080089687442,,Ấp 3,Xã Tân Lập,Chi hội Ấp 3,",   # Excel's text marker: cleaned
    ])
    result = ingest("hoi_lhpn", "roster", DAY)
    assert (result.row_count, result.quarantined_count) == (5, 1)
    with connect(warehouse_url) as conn:
        rows = conn.execute("select row_number, reason_code, reason from raw.quarantine order by row_number").fetchall()
        ids = dict(conn.execute("select row_number, id_number from raw.hoi_lhpn__roster where row_number >= 5"))
        aside = conn.execute("select extra ->> 'id_number_unreadable' from raw.hoi_lhpn__roster"
                             " where row_number = 5").fetchone()[0]
    assert [(r[0], r[1]) for r in rows] == [(4, "unreadable_birth_date")]
    # The reason names the field and the problem, never the value from the roll.
    assert "birth_date" in rows[0][2] and "impossible_date" in rows[0][2] and "31/02/1990" not in rows[0][2]
    # The record with the unreadable ID still lands (matchable by name, birth and place); its text is kept.
    assert ids == {5: None, 6: "0721880012", 7: "080089687442"}
    assert aside == "07218800ABCD"


def test_a_landing_leaves_its_raw_table_analysed_for_the_build_that_follows(project_env, warehouse_url, women_roster):
    # Autovacuum would analyse it a minute or more later: the build that follows would plan on a guess.
    women_roster(DAY.isoformat(), GOOD)
    assert ingest("hoi_lhpn", "roster", DAY).status == "loaded"
    with connect(warehouse_url) as conn:
        estimate = conn.execute("select reltuples from pg_class where oid = 'raw.hoi_lhpn__roster'::regclass").fetchone()[0]
    assert estimate == 2


def test_a_table_is_analysed_only_when_it_grew_by_a_tenth(warehouse_url):
    from lienthong.warehouse.statistics import analyse_if_grown

    def estimate(conn):
        return conn.execute("select reltuples from pg_class where oid = 'public.grown'::regclass").fetchone()[0]

    with connect(warehouse_url) as conn:
        conn.execute("drop table if exists public.grown")
        conn.execute("create table public.grown (n int)")
        conn.execute("insert into public.grown select generate_series(1, 1000)")
        assert analyse_if_grown(conn, "public", "grown", 1000) and estimate(conn) == 1000
        conn.execute("insert into public.grown select generate_series(1, 50)")
        assert not analyse_if_grown(conn, "public", "grown", 50) and estimate(conn) == 1000
        assert not analyse_if_grown(conn, "public", "grown", 0)
        conn.execute("insert into public.grown select generate_series(1, 100)")
        assert analyse_if_grown(conn, "public", "grown", 100) and estimate(conn) == 1150
        conn.execute("drop table public.grown")
