"""The API connector's page decoding and spool: msgspec where it reads the page, json where it refuses, so
that the same answers pass and fail as with json alone; pages read back exactly as received."""
import hashlib
import json

import pytest

from lienthong.sources.api import PageSpool, _decode


def test_a_page_msgspec_refuses_is_read_as_json_reads_it():
    page = b'{"du_lieu": [{"a": NaN, "b": "\\ud800"}], "tong_so": 1}'
    assert json.dumps(_decode(page)) == json.dumps(json.loads(page))


def test_a_page_that_is_no_json_fails_with_jsons_error():
    with pytest.raises(json.JSONDecodeError):
        _decode(b'{"du_lieu": [\x00')


def test_the_spool_gives_back_each_page_as_received_and_hashes_them(tmp_path):
    pages = [b'{"x": [1]}', b"", "{\"x\": [\"Nguyễn\"]}".encode()]
    with PageSpool(tmp_path / "pages.json") as spool:
        for page in pages:
            spool.add(page)
    assert list(spool) == pages == list(spool)
    assert spool.digest.hexdigest() == hashlib.sha256(b"".join(pages)).hexdigest()
