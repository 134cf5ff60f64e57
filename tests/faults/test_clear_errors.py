"""Issue 14, "crashes instead of clear errors": every fault becomes a quarantined row or a clear
file-level error that says where (line, field, page, item, bytes), never a raw Python error."""
import os
import shutil
import signal
import threading
import time
from datetime import date
from pathlib import Path

import psycopg
import pytest
import yaml

from lienthong.config.organisations import CONFIG_DIR, OrganisationConfigError, load_organisation
from lienthong.landing.ingest import ingest
from lienthong.landing.raw import WarehouseGoneError
from lienthong.ports import free_port
from lienthong.sources.base import SourceError
from lienthong.sources.files import SourceFileError
from lienthong.warehouse import connect, ensure_ready
from lienthong.warehouse.embedded import EmbeddedPostgres

from .conftest import accounted

DAY = date(2026, 11, 25)


def reasons(url) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute("select row_number, reason_code, reason from raw.quarantine order by 1").fetchall()


def test_nul_bytes_in_a_csv_quarantine_their_row(csv_roll, warehouse_url):
    org, entity, write = csv_roll
    lines = [write.line(n) for n in range(1, 6)]
    lines[2] = lines[2].replace("Hồng", "Hồ\x00ng")
    result = ingest(org.code, entity.kind, DAY) if write(DAY, lines) else None
    assert (result.status, result.row_count, result.quarantined_count) == ("loaded", 4, 1)
    [(line, code, reason)] = reasons(warehouse_url)
    assert (line, code) == (4, "unstorable_text") and "full_name" in reason and "Hồ" not in reason


def test_json_nul_nesting_and_items_that_are_no_objects_are_quarantined(api_roster, warehouse_url):
    org, entity, source = api_roster
    name = next(k for k, v in entity.columns.items() if v == "full_name")
    source.items = [source.item(n) for n in range(1, 9)]
    source.items[1][name] = "Lê\x00Văn"
    source.items[2][name] = {"ho": "Lê", "ten": ["Văn"]}
    source.items[3] = 42
    source.items[4] = ["not", "an", "object"]
    result = ingest(org.code, entity.kind, DAY)
    assert (result.status, result.row_count, result.quarantined_count) == ("loaded", 4, 4)
    codes = [(n, c) for n, c, _ in reasons(warehouse_url)]
    assert codes == [(2, "unstorable_text"), (3, "nested_value"), (4, "not_an_object"), (5, "not_an_object")]
    assert all("page 1, item" in r for n, c, r in reasons(warehouse_url) if c != "unstorable_text")
    assert accounted(warehouse_url, result.batch_id) == (4, 4, 8)


def test_deeply_nested_json_is_a_clear_error_naming_the_page(api_roster, warehouse_url):
    org, entity, source = api_roster
    source.items = [source.item(1)]
    body = source.page(1, 500)
    source.raw_pages[1] = body.replace(b'"x"', b"[" * 100_000 + b"]" * 100_000, 1)
    with pytest.raises(SourceError, match="page 1: the answer nests JSON too deeply"):
        ingest(org.code, entity.kind, DAY)


@pytest.mark.parametrize("key, value, says", [
    ("path", "x/{date}/{0}", "only placeholder"),
    ("delimiter", ";;", "one character"),
    ("encoding", "rot13", "not a text encoding"),
    ("encoding", "no-such-codec", "unknown encoding"),
])
def test_config_values_that_would_fail_at_ingest_fail_validation(tmp_path, key, value, says):
    path = next(p for p in sorted(CONFIG_DIR.glob("*.yml"))
                if any(e["connector"]["type"] == "file" for e in yaml.safe_load(p.read_text())["entities"]))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    next(e for e in data["entities"] if e["connector"]["type"] == "file")["connector"][key] = value
    copy = tmp_path / path.name
    copy.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(OrganisationConfigError, match=says):
        load_organisation(copy)


def test_an_undecodable_byte_is_reported_with_line_field_bytes_and_true_offset(csv_roll, warehouse_url):
    org, entity, write = csv_roll
    path = write(DAY, 800)
    data = path.read_bytes()
    line_start = [i for i, b in enumerate(data) if b == 0x0A][758] + 1  # start of line 760
    at = line_start + data[line_start:].index(b",") + 3  # inside the second field
    path.write_bytes(data[:at] + b"\xff" + data[at:])
    second_field = list(entity.columns)[1]
    with pytest.raises(SourceFileError) as caught:
        ingest(org.code, entity.kind, DAY)
    message = str(caught.value)
    assert f"line 760, column " in message and f"field 2 ({second_field!r})" in message
    assert f"0xff at byte offset {at}" in message
    with connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.batches").fetchone()[0] == 0


def test_a_warehouse_that_crashes_mid_load_is_said_so_and_leaves_nothing(csv_roll, tmp_path, monkeypatch):
    """The server process running the batch's COPY is killed (SIGKILL: PostgreSQL then ends every
    session and recovers from its log, as after a crash); the load says the warehouse went away,
    and once the server has recovered nothing of the batch is there. A private server: the
    session's must not crash under the other tests."""
    org, entity, write = csv_roll
    write(DAY, 200_000)
    server = EmbeddedPostgres(Path(tmp_path) / "pgdata", free_port())
    url = server.start()
    try:
        ensure_ready(url)
        monkeypatch.setenv("LIENTHONG_WAREHOUSE_URL", url)
        killed = []

        def kill_when_copying():
            with psycopg.connect(url, autocommit=True) as watcher:
                for _ in range(6000):
                    found = watcher.execute("select pid from pg_stat_activity where state = 'active'"
                                            " and query ilike 'copy %%'").fetchone()
                    if found:
                        os.kill(found[0], signal.SIGKILL)
                        killed.append(found[0])
                        return
                    time.sleep(0.01)

        killer = threading.Thread(target=kill_when_copying)
        killer.start()
        with pytest.raises(WarehouseGoneError, match="the warehouse went away.*the load left nothing"):
            ingest(org.code, entity.kind, DAY)
        killer.join()
        assert killed
        for _ in range(600):  # crash recovery: the server refuses connections until it is done
            try:
                with psycopg.connect(url) as conn:
                    assert conn.execute("select count(*) from raw.batches").fetchone()[0] == 0
                    assert conn.execute(f'select count(*) from raw."{org.code}__{entity.kind}"').fetchone()[0] == 0
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not recover")
    finally:
        server.stop()
        shutil.rmtree(tmp_path / "pgdata", ignore_errors=True)
