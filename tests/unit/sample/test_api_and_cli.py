"""The sample API server (bearer token, paging, date filter) and the click commands."""

import json
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from lienthong.sample.api_server import DEFAULT_TOKEN, serve_in_background
from lienthong.sample.commands import generate, serve_sample_api


@pytest.fixture(scope="module")
def api(tiny):
    out, _ = tiny
    server = serve_in_background(out, port=0)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _get(url, token=DEFAULT_TOKEN):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read().decode("utf-8"))


@pytest.mark.parametrize("token", [None, "wrong"])
def test_token_is_required(api, token):
    with pytest.raises(urllib.error.HTTPError) as error:
        _get(f"{api}/doan_tn/api/v1/doan-vien", token)
    assert error.value.code == 401


def test_youth_union_pages_cover_the_day(api, tiny):
    out, _ = tiny
    status, dates = _get(f"{api}/doan_tn/api/v1/dates")
    assert status == 200 and dates["dates"][0] == "2026-11-25"
    first = _get(f"{api}/doan_tn/api/v1/doan-vien?ngay=2026-11-25&trang=1&so_dong=50")[1]
    expected = sum(1 for _ in (out / "deliveries/doan_tn/2026-11-25/doan_vien.jsonl").open(encoding="utf-8"))
    assert first["tong_so"] == expected and len(first["du_lieu"]) == 50
    ids = []
    for page in range(1, first["tong_so_trang"] + 1):
        ids += [r["so_the_doan_vien"] for r in _get(f"{api}/doan_tn/api/v1/doan-vien?ngay=2026-11-25&trang={page}&so_dong=50")[1]["du_lieu"]]
    assert len(ids) == expected == len(set(ids))


def test_trade_union_offset_paging_follows_next(api):
    url = f"{api}/cong_doan/api/v2/dues?date=2026-11-25&limit=200"
    seen, total = 0, None
    while url:
        body = _get(url)[1]
        total = body["paging"]["total"]
        seen += len(body["data"])
        url = api + body["paging"]["next"] if body["paging"]["next"] else None
    assert seen == total > 0


def test_unknown_resource_and_bad_paging(api):
    with pytest.raises(urllib.error.HTTPError) as error:
        _get(f"{api}/cong_doan/api/v2/nothing")
    assert error.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as error:
        _get(f"{api}/cong_doan/api/v2/members?limit=0")
    assert error.value.code == 400


def test_generate_command(tmp_path):
    result = CliRunner().invoke(generate, ["--scale", "custom", "--people", "800", "--seed", "3",
                                           "--out", str(tmp_path), "--days", "2", "--end", "2026-06-01"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["deliveries"] == {"from": "2026-05-31", "to": "2026-06-01", "days": 2}
    assert manifest["people"] == 800


def test_serve_command_has_its_options():
    result = CliRunner().invoke(serve_sample_api, ["--help"])
    assert result.exit_code == 0 and "--token" in result.output and "--port" in result.output
