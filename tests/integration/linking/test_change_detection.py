"""A night reads only the new or changed source rows: the content hash a run stores (Python) and the
one PostgreSQL computes over the source (``records.content_hash_sql``) agree, diacritics, blanks and
missing values included."""
from __future__ import annotations

import psycopg
import pytest

from lienthong.linking.records import INPUT_COLUMNS, content_hash, content_hash_sql

pytestmark = [pytest.mark.integration]

ROWS = [
    {"org_code": "org_a", "source_record_key": "1", "full_name": "Nguyễn Thị Ánh Tuyết", "birth_date": "05/03/1988",
     "sex": "F", "id_number": "079188012345", "phone": "0901 234 567", "hamlet": "Ấp Đình Bàu", "commune": "Xã Tân Phú"},
    {"org_code": "org_a", "source_record_key": "2", "full_name": "Lê Văn An", "birth_date": None, "sex": None,
     "id_number": "", "phone": None, "hamlet": "KP3", "commune": None},
]


def test_postgresql_computes_the_content_hash_python_stores(warehouse_url):
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(f"create temp table src ({', '.join(c + ' text' for c in INPUT_COLUMNS)})")
        with conn.cursor().copy(f"copy src ({', '.join(INPUT_COLUMNS)}) from stdin") as copy:
            for row in ROWS:
                copy.write_row([row[c] for c in INPUT_COLUMNS])
        hashes = dict(conn.execute(f"select source_record_key, {content_hash_sql('s')} from src s").fetchall())
    assert hashes == {row["source_record_key"]: content_hash(row) for row in ROWS}
    assert len(set(hashes.values())) == 2
