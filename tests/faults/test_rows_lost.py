"""Issue 14, "rows lost with no error": each case through the real landing (files in the drop
folder, a real HTTP source, the session's PostgreSQL). Every row that came in is landed,
quarantined or held; a delivery that looks incomplete is held, never made live."""
from datetime import date

import pytest

from lienthong.landing.ingest import ingest
from lienthong.landing.raw import BatchStateError, reject_batch, release_batch
from lienthong.sources.base import SourceError
from lienthong.warehouse import connect

from .conftest import accounted, batches, live_rows

DAY = date(2026, 11, 25)
NEXT = date(2026, 11, 26)


def test_an_api_that_answers_empty_pages_before_its_total_is_held(api_roster, warehouse_url):
    org, entity, source = api_roster
    size = entity.connector.paging.page_size
    source.items = [source.item(n) for n in range(1, 3 * size + 101)]
    source.empty_from = 4  # 200 OK with no rows from page 4 on
    result = ingest(org.code, entity.kind, DAY)
    assert (result.status, result.row_count) == ("held", 3 * size)
    assert f"declares {3 * size + 100} rows" in result.note
    assert live_rows(warehouse_url, org.code, entity.kind) == []
    # The source is fixed; the rerun lands everything and the held batch is superseded.
    source.empty_from = None
    result = ingest(org.code, entity.kind, DAY)
    assert (result.status, result.row_count) == ("loaded", 3 * size + 100)
    assert [b[1] for b in batches(warehouse_url, org.code, entity.kind)] == ["replaced", "loaded"]


def test_a_roll_cut_mid_line_is_held_with_its_partial_row_quarantined(csv_roll, warehouse_url):
    org, entity, write = csv_roll
    write(DAY, 1146)
    assert ingest(org.code, entity.kind, DAY).status == "loaded"
    path = write(NEXT, 1146)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])  # cut in the middle of a line
    lines_in = data[:len(data) // 2].count(b"\n")  # the header's line break and the complete rows'
    result = ingest(org.code, entity.kind, NEXT)
    assert result.status == "held"
    assert result.row_count + result.quarantined_count == lines_in  # every line, the cut one quarantined
    assert "without a line break" in result.note and "fewer than the 1146" in result.note
    assert accounted(warehouse_url, result.batch_id) == (result.row_count, 1, lines_in)
    # The previous roll stays what staging reads.
    assert {d for d, _ in live_rows(warehouse_url, org.code, entity.kind)} == {DAY}


def test_a_corrected_day_never_leaves_another_days_rows_nowhere(csv_roll, warehouse_url):
    org, entity, write = csv_roll
    write(DAY, 10)
    write(NEXT, 10)  # the same content: recorded as a duplicate of DAY's batch
    ingest(org.code, entity.kind, DAY)
    assert ingest(org.code, entity.kind, NEXT).status == "duplicate"
    write(DAY, 11)  # DAY corrected: its old batch (which NEXT stood on) is replaced
    assert ingest(org.code, entity.kind, DAY).status == "loaded"
    live = live_rows(warehouse_url, org.code, entity.kind)
    assert sum(1 for d, _ in live if d == NEXT) == 10 and sum(1 for d, _ in live if d == DAY) == 11
    # Rerunning NEXT finds its rows where they now are.
    result = ingest(org.code, entity.kind, NEXT)
    assert (result.status, result.row_count) == ("unchanged", 10)


def test_spooled_pages_never_outlive_their_attempt(api_roster, warehouse_url, project_env):
    org, entity, source = api_roster
    size = entity.connector.paging.page_size
    source.items = [source.item(n) for n in range(1, 2 * size + 11)]
    source.failing_page = 3
    with pytest.raises(SourceError, match="page 3"):
        ingest(org.code, entity.kind, DAY)
    spool = project_env / "state" / "spool"
    assert not [p for p in spool.rglob("*") if p.is_file()]
    # The source changed before the rerun: every row comes from the new state, none from the old.
    source.items = [source.item(n) for n in range(5, 2 * size + 15)]
    source.failing_page = None
    result = ingest(org.code, entity.kind, DAY)
    assert (result.status, result.row_count) == ("loaded", 2 * size + 10)
    with connect(warehouse_url) as conn:
        names = {n for (n,) in conn.execute(f'select full_name from raw."{org.code}__{entity.kind}"')}
    assert names == {source.item(n)[next(k for k, v in entity.columns.items() if v == "full_name")]
                     for n in range(5, 2 * size + 15)}
    # A page that cannot be read fails its attempt only: the next run is not poisoned by it.
    source.raw_pages[1] = b'{"du_lieu": [\x00'
    with pytest.raises(SourceError, match="page 1"):
        ingest(org.code, entity.kind, NEXT)
    source.raw_pages.clear()
    assert ingest(org.code, entity.kind, NEXT).status == "duplicate"  # the same content as DAY's
    assert not [p for p in spool.rglob("*") if p.is_file()]


def test_an_unbalanced_quote_swallows_no_line(csv_roll, warehouse_url):
    org, entity, write = csv_roll
    lines = [write.line(n) for n in range(1, 23)]
    lines[4] = '"' + lines[4]  # line 6 of the file opens a quote that closes nowhere before line 11
    lines[9] = lines[9] + '"'
    result = ingest(org.code, entity.kind, DAY) if write(DAY, lines) else None
    assert result.row_count + result.quarantined_count == 22
    with connect(warehouse_url) as conn:
        quarantined = conn.execute("select row_number, reason_code from raw.quarantine order by 1").fetchall()
    assert quarantined == [(n, "unbalanced_quote") for n in range(6, 12)]
    assert accounted(warehouse_url, result.batch_id)[2] == 22


def test_a_header_only_roll_is_held_not_live(csv_roll, warehouse_url):
    org, entity, write = csv_roll
    write(DAY, 0)
    result = ingest(org.code, entity.kind, DAY)
    assert (result.status, result.row_count) == ("held", 0)
    assert "no rows" in result.note
    assert live_rows(warehouse_url, org.code, entity.kind) == []


@pytest.mark.parametrize("rows, status", [(95, "loaded"), (80, "held")])
def test_a_roll_shrinking_past_the_limit_is_held(csv_roll, warehouse_url, rows, status):
    org, entity, write = csv_roll
    assert org.roll_shrink_limit == 0.10  # the default
    write(DAY, 100)
    ingest(org.code, entity.kind, DAY)
    write(NEXT, rows)
    result = ingest(org.code, entity.kind, NEXT)
    assert result.status == status
    live_days = {d for d, _ in live_rows(warehouse_url, org.code, entity.kind)}
    assert live_days == ({DAY, NEXT} if status == "loaded" else {DAY})


def test_an_operator_releases_or_rejects_a_held_batch(csv_roll, warehouse_url):
    org, entity, write = csv_roll
    write(DAY, 100)
    ingest(org.code, entity.kind, DAY)
    write(NEXT, 50)
    held = ingest(org.code, entity.kind, NEXT)
    with connect(warehouse_url) as conn:
        released = release_batch(conn, held.batch_id)
        with pytest.raises(BatchStateError, match=f"replaced .*live as batch {released.batch_id}"):
            release_batch(conn, held.batch_id)
        with pytest.raises(BatchStateError, match="is loaded"):
            release_batch(conn, released.batch_id)
    assert released.status == "loaded"
    assert sum(1 for d, _ in live_rows(warehouse_url, org.code, entity.kind) if d == NEXT) == 50
    # It goes live as the newest batch, so that the warehouse's next incremental night reads it.
    assert released.batch_id > held.batch_id and released.row_count == 50
    # A smaller roll again the day after: held, then rejected; the released roll stays live.
    later = date(2026, 11, 27)
    write(later, 10)
    held = ingest(org.code, entity.kind, later)
    with connect(warehouse_url) as conn:
        assert reject_batch(conn, held.batch_id).status == "rejected"
    assert {d for d, _ in live_rows(warehouse_url, org.code, entity.kind)} == {DAY, NEXT}
    # The same file again stays rejected rather than landing a second time.
    assert ingest(org.code, entity.kind, later).status == "rejected"
    assert [b[1] for b in batches(warehouse_url, org.code, entity.kind)] == ["loaded", "replaced", "loaded", "rejected"]
