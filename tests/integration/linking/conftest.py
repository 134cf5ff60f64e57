"""A tiny sample linked once per module on its own database (training takes seconds, so tests share it)."""
from __future__ import annotations

import psycopg
import pytest

from lienthong.sample.linking_input import delivery_dates, latest_records, write_source_table
from lienthong.sample import generate

SOURCE = "src.records"


@pytest.fixture(scope="session")
def tiny_sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny_sample")
    generate("tiny", 42, out)
    return out


@pytest.fixture(scope="module")
def module_url(fresh_database):
    with fresh_database("test_link") as url:
        yield url


def load(url: str, rows: list[dict]) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists src")
        write_source_table(conn, SOURCE, rows)


@pytest.fixture(scope="session")
def load_source():
    """(Re)write the source table (src.records) the tests link: ``load_source(url, rows)``."""
    return load


@pytest.fixture(scope="module")
def first_night(tiny_sample, module_url, load_source):
    """Records delivered up to the day before the last, linked by a full run."""
    from lienthong.linking import link

    days = delivery_dates(tiny_sample)
    rows = latest_records(tiny_sample, days[-2])
    load_source(module_url, rows)
    summary = link(module_url, f"select * from {SOURCE}")
    return {"rows": rows, "summary": summary, "days": days}
