"""Every connector against the sample province's deliveries and the local sample API."""
import csv
import io
import json
import threading
from datetime import date
from pathlib import Path

import psycopg
import pytest

from lienthong.config.organisations import get_organisation, load_organisations
from lienthong.config.settings import load_settings
from lienthong.landing.ingest import ingest
from lienthong.sample import generate
from lienthong.sample.api_server import DEFAULT_TOKEN, serve_in_background
from lienthong.sources import api as api_source
from lienthong.sources.base import SourceError, SourceUnavailableError
from lienthong.warehouse import connect


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(scale="tiny", seed=11, out=out)
    return out


@pytest.fixture
def first_day(sample) -> date:
    return date.fromisoformat(json.loads((sample / "manifest.json").read_text())["deliveries"]["from"])


@pytest.fixture
def sample_env(project_env, sample, monkeypatch):
    """Drop folder = the sample's deliveries; API connections = a local sample server."""
    monkeypatch.setenv("LIENTHONG_DROP_DIR", str(sample / "deliveries"))
    server = serve_in_background(sample)
    for conn_id in ("doan_tn_api", "cong_doan_api"):
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", f"http://:{DEFAULT_TOKEN}@127.0.0.1:{server.server_port}")
    yield server
    server.shutdown()


def delivered_rows(sample: Path, org: str, day: date, name: str, encoding: str, delimiter: str) -> int:
    path = sample / "deliveries" / org / day.isoformat() / name
    if path.suffix == ".jsonl":
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        return len(CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()) - 1
    # Latin-1 maps every byte to one character, so rows count the same in every encoding used.
    raw = io.StringIO(path.read_bytes().decode("latin-1"), newline="")
    return sum(1 for row in csv.reader(raw, delimiter=delimiter) if any(row)) - 1


def test_every_organisation_and_entity_lands_everything_it_sent(sample_env, sample, first_day, warehouse_url):
    for org in load_organisations():
        for entity in org.entities:
            result = ingest(org.code, entity.kind, first_day)
            connector = entity.connector
            if connector.type == "file":
                path = Path(connector.path.format(date=first_day.isoformat()))
                if not (sample / "deliveries" / path).exists():
                    assert result is None
                    continue
                sent = delivered_rows(sample, org.code, first_day, path.name, connector.encoding, connector.delimiter)
            else:
                resource = connector.resource.rsplit("/", 1)[-1]
                name = {"doan-vien": "doan_vien", "doan-phi": "doan_phi", "sinh-hoat": "sinh_hoat",
                        "bao-cao": "bao_cao", "members": "members", "dues": "dues", "activities": "activities",
                        "reported-totals": "reported_totals"}[resource] + ".jsonl"
                sent = delivered_rows(sample, org.code, first_day, name, "utf-8", ",")
            assert result is not None, f"{org.code}/{entity.kind}"
            assert result.row_count + result.quarantined_count == sent, f"{org.code}/{entity.kind}"


def test_legacy_encodings_and_excel_come_out_as_vietnamese_text(sample_env, first_day, warehouse_url):
    for org, kind in (("hoi_ccb", "roster"), ("hoi_nd", "roster"), ("hoi_nd", "dues"), ("hoi_ccb", "reported_totals")):
        ingest(org, kind, first_day)
    with connect(warehouse_url) as conn:
        veterans = [n for (n,) in conn.execute("select full_name from raw.hoi_ccb__roster")]
        farmers_dob = [d for (d,) in conn.execute("select birth_date from raw.hoi_nd__roster where birth_date ~ '-'")]
        farmers_dues = [n for (n,) in conn.execute("select full_name from raw.hoi_nd__dues")]
        units = [u for (u,) in conn.execute("select unit_name from raw.hoi_ccb__reported_totals")]
    vietnamese = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")
    for names in (veterans, farmers_dues, units):
        assert sum(any(c in vietnamese for c in n.lower()) for n in names) > 0.5 * len(names)
        assert not any("\ufffd" in n for n in names)
    # XLSX date cells arrive as ISO dates, not Excel serial numbers.
    assert farmers_dob and all(len(d) == 10 and d[4] == "-" for d in farmers_dob)


def test_api_with_a_wrong_token_fails_clearly(sample_env, first_day, warehouse_url, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_DOAN_TN_API", f"http://:wrong@127.0.0.1:{sample_env.server_port}")
    with pytest.raises(SourceError, match="HTTP 401.*doan_tn_api"):
        ingest("doan_tn", "roster", first_day)


@pytest.mark.timing
def test_api_down_is_retried_then_fails_leaving_what_landed(sample_env, first_day, warehouse_url, monkeypatch):
    ingest("cong_doan", "roster", first_day)
    monkeypatch.setenv("AIRFLOW_CONN_CONG_DOAN_API", "http://:x@127.0.0.1:9")  # nothing listens there
    monkeypatch.setattr(api_source.time, "sleep", lambda seconds: None)
    with pytest.raises(SourceUnavailableError, match="no answer after 5 attempts"):
        ingest("cong_doan", "roster", first_day)
    with connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.batches where status = 'loaded'").fetchone()[0] == 1


@pytest.mark.timing
def test_a_failed_attempt_leaves_no_pages_for_the_next(sample, first_day, tmp_path):
    """Page 2 fails on the first attempt; the next attempt (its own spool folder) fetches every page
    again, since the source may have changed in between, and gets the whole declared total."""
    entity = get_organisation("doan_tn").entity("roster").model_copy(deep=True)
    paging = entity.connector.paging.model_copy(update={"page_size": 100})
    connector = entity.connector.model_copy(update={"paging": paging, "max_attempts": 1})
    entity = entity.model_copy(update={"connector": connector})
    server = serve_in_background(sample)
    requested: list[int] = []
    real_get = api_source._get

    def flaky_get(client, url, params, conn, sleep, where):
        requested.append(params["trang"])
        if params["trang"] == 2 and requested.count(2) == 1:
            raise SourceUnavailableError("simulated outage on page 2")
        return real_get(client, url, params, conn, sleep, where)

    endpoint = api_source.ApiEndpoint(f"http://127.0.0.1:{server.server_port}", DEFAULT_TOKEN)
    try:
        api_source._get = flaky_get
        with pytest.raises(SourceUnavailableError):
            api_source.fetch_delivery(entity, endpoint, first_day, tmp_path / "attempt-1")
        delivery = api_source.fetch_delivery(entity, endpoint, first_day, tmp_path / "attempt-2")
    finally:
        api_source._get = real_get
        server.shutdown()
    assert requested.count(1) == 2 and requested.count(2) == 2
    sent = len((sample / "deliveries" / "doan_tn" / first_day.isoformat() / "doan_vien.jsonl").read_text().splitlines())
    assert sum(1 for _ in delivery.rows()) == sent == delivery.declared_rows and not delivery.doubts


def test_database_source_reads_exactly_its_day(project_env, warehouse_url, server_url, tmp_path, monkeypatch):
    """A PostgreSQL source table, read by watermark; configured like any organisation (a YAML file)."""
    admin = server_url.rsplit("/", 1)[0] + "/postgres"
    source_db = f"src_{tmp_path.name[-8:].lower().replace('-', '_')}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{source_db}"')
        conn.execute(f'create database "{source_db}"')
    source_url = server_url.rsplit("/", 1)[0] + f"/{source_db}"
    with psycopg.connect(source_url) as conn:
        conn.execute("create schema roster; create table roster.members (code text, name text, updated_at timestamptz)")
        conn.execute("insert into roster.members values ('A1', 'Lê Văn Tám', '2026-11-26 23:30+07'),"
                     " ('A2', 'Võ Thị Sáu', '2026-11-27 08:00+07'), ('A3', 'Huỳnh Văn Nghệ', '2026-11-28 00:00+07')")
    config_dir = tmp_path / "orgs"
    config_dir.mkdir()
    (config_dir / "hoi_db.yml").write_text("""
code: hoi_db
name: Hội thử nghiệm
short_name: Hội TN
member_word: hội viên
owner: test
entities:
  - kind: roster
    connector: {type: database, conn_id: hoi_db_src, table: roster.members, watermark_column: updated_at}
    columns: {code: member_code, name: full_name}
    required: [full_name]
""", encoding="utf-8")
    monkeypatch.setenv("LIENTHONG_ORG_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("AIRFLOW_CONN_HOI_DB_SRC", source_url)
    result = ingest("hoi_db", "roster", date(2026, 11, 27), settings=load_settings())
    assert (result.status, result.row_count) == ("loaded", 1)
    with connect(warehouse_url) as conn:
        assert conn.execute("select member_code, full_name from raw.hoi_db__roster").fetchall() == [("A2", "Võ Thị Sáu")]
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{source_db}" with (force)')


@pytest.mark.timing
def test_two_organisations_land_at_the_same_time(sample_env, first_day, warehouse_url):
    errors = []

    def land(org, kind):
        try:
            ingest(org, kind, first_day)
        except Exception as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=land, args=a) for a in
               (("hoi_lhpn", "dues"), ("hoi_nd", "dues"), ("hoi_lhpn", "activities"), ("hoi_ccb", "roster"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with connect(warehouse_url) as conn:
        assert conn.execute("select count(*) from raw.batches where status = 'loaded'").fetchone()[0] == 4
