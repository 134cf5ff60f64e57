"""The public pages render from the aggregates alone: Vietnamese formats, hidden cells as "–", links
between pages, the offline search index; and nothing in the site package names an organisation."""
import copy
import json
import os
import re
import time
from datetime import date
from pathlib import Path

from lienthong.config.organisations import load_organisations
from lienthong.site.build import write_site
from lienthong.site.data import ALL, MEASURES, Commune, SiteData

SITE_PACKAGE = Path(__file__).resolve().parents[3] / "include" / "lienthong" / "site"


def sample_data() -> tuple[SiteData, dict[str, str], dict[str, str]]:
    orgs = load_organisations()[:2]
    names = {o.code: o.name for o in orgs}
    shorts = {o.code: o.short_name for o in orgs}
    months = [date(2026, 10, 1), date(2026, 11, 1)]
    communes = [Commune("new:1", "00001", "Phường Tân Ninh", ("Phường 1 (Thành phố Tây Ninh)", "Xã Ninh Sơn (Thành phố Tây Ninh)")),
                Commune("new:2", "00002", "Xã Hòa Hội", ())]
    data = SiteData("2026-11", months[-1], months, communes=communes, org_codes=sorted(names))
    a, b = sorted(names)
    values = {(a, "new:1"): 1234, (a, "new:2"): None, (b, "new:1"): None, (b, "new:2"): 60,
              (a, ALL): 1300, (b, ALL): 70, (ALL, "new:1"): 1240, (ALL, "new:2"): 130, (ALL, ALL): 1370}
    for key, members in values.items():
        cell = dict.fromkeys(MEASURES)
        cell.update(members=members, people=members, gathering_rate=None if members is None else 0.1234,
                    sessions_held=None if members is None else 12)
        data.cells[key] = cell
        data.series[key] = {m: [cell[m], cell[m]] for m in MEASURES}
    return data, names, shorts


def test_pages_render_in_vietnamese_with_hidden_cells_and_links(tmp_path):
    data, names, shorts = sample_data()
    pages = write_site(data, tmp_path / "site", names, shorts)
    relative = sorted(p.relative_to(tmp_path / "site").as_posix() for p in pages)
    assert relative == sorted(["index.html", "tim-kiem.html", "xa/00001.html", "xa/00002.html",
                               *(f"to-chuc/{code}.html" for code in names)])
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in index and "tháng 11/2026" in index
    assert "1.370" in index and "1.240" in index and "12,3%" in index  # Vietnamese number formats
    assert '<abbr title="Số liệu được ẩn để không thể nhận ra cá nhân">–</abbr>' in index
    assert 'id="chart-members"' in index and "<caption>" in index
    for name in names.values():
        assert name in index
    # Every link points at a page that was written.
    for page in pages:
        html = page.read_text(encoding="utf-8")
        for href in re.findall(r'href="([^"#]+)"', html):
            assert (page.parent / href).resolve().exists(), (page, href)
    commune = (tmp_path / "site" / "xa" / "00001.html").read_text(encoding="utf-8")
    assert "Phường 1 (Thành phố Tây Ninh)" in commune


def test_search_index_lists_communes_with_their_old_names(tmp_path):
    data, names, shorts = sample_data()
    write_site(data, tmp_path / "site", names, shorts)
    script = (tmp_path / "site" / "search-index.js").read_text(encoding="utf-8")
    entries = json.loads(script.split("=", 1)[1].rstrip().rstrip(";"))
    tan_ninh = next(e for e in entries if e["n"] == "Phường Tân Ninh")
    assert "Xã Ninh Sơn" in tan_ninh["o"] and tan_ninh["u"] == "xa/00001.html"


def test_rebuilding_gives_the_same_bytes_in_one_process_or_several_and_leaves_no_stale_page(tmp_path):
    data, names, shorts = sample_data()
    write_site(data, tmp_path / "a", names, shorts, workers=1)
    (tmp_path / "a" / "stale.html").write_text("old")
    write_site(data, tmp_path / "a", names, shorts, workers=1)
    write_site(data, tmp_path / "b", names, shorts, workers=2)  # pages rendered in worker processes
    assert not (tmp_path / "a" / "stale.html").exists()
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    for path in files:
        assert (tmp_path / "a" / path).read_bytes() == (tmp_path / "b" / path).read_bytes(), path


def _files(folder: Path) -> dict[Path, bytes]:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_chart_cache_gives_a_full_builds_bytes_and_redraws_only_the_changed_charts(tmp_path, caplog):
    caplog.set_level("INFO", logger="lienthong.site.build")
    data, names, shorts = sample_data()
    cache = tmp_path / "cache"
    write_site(data, tmp_path / "first", names, shorts, workers=1, chart_cache=cache)
    kept = sorted(cache.glob("*.svg"))
    assert kept and _files(tmp_path / "first") == _files(write_site(data, tmp_path / "full", names, shorts,
                                                                    workers=1)[0].parent)
    # The next night: one organisation's figures in one commune changed; every chart drawn before is
    # older than the build (so one no longer asked for is removed after it).
    night = copy.deepcopy(data)
    b = sorted(names)[1]
    night.series[b, "new:2"]["members"] = [60, 61]
    night.cells[b, "new:2"]["members"] = 61
    for path in kept:
        os.utime(path, (time.time() - 60, time.time() - 60))
    caplog.clear()
    write_site(night, tmp_path / "cached", names, shorts, workers=1, chart_cache=cache)
    # The commune's chart of members by organisation is the only one that shows that cell's series.
    assert "1 with charts to draw (1 drawn, in 1 process(es))" in caplog.text
    write_site(night, tmp_path / "cached_in_workers", names, shorts, workers=2, chart_cache=cache)
    full = _files(write_site(night, tmp_path / "night_full", names, shorts, workers=1)[0].parent)
    assert _files(tmp_path / "cached") == full == _files(tmp_path / "cached_in_workers")
    assert _files(tmp_path / "cached") != _files(tmp_path / "first")
    assert len(list(cache.glob("*.svg"))) == len(kept)  # the replaced chart removed, the new one kept
    # Nothing changed since: every page renders in this process, no worker started, no chart drawn.
    caplog.clear()
    write_site(night, tmp_path / "again", names, shorts, chart_cache=cache)
    assert _files(tmp_path / "again") == full
    assert "0 with charts to draw (0 drawn, in 1 process(es))" in caplog.text


def test_the_site_package_names_no_organisation():
    codes = [o.code for o in load_organisations()]
    for path in SITE_PACKAGE.rglob("*"):
        if path.is_file() and path.suffix in (".py", ".j2", ".js", ".css"):
            text = path.read_text(encoding="utf-8")
            assert not [c for c in codes if c in text], path


def test_serve_previews_the_site_on_a_free_local_port(tmp_path):
    import shutil
    import subprocess
    import urllib.request

    data, names, shorts = sample_data()
    write_site(data, tmp_path / "site", names, shorts)
    server = subprocess.Popen([shutil.which("lienthong"), "site", "serve", "--port", "0", "--dir", str(tmp_path / "site")],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url + "xa/00001.html", timeout=30) as answer:
            assert answer.headers.get_content_charset() in (None, "utf-8")
            assert "Phường Tân Ninh" in answer.read().decode("utf-8")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_says_what_to_do_when_nothing_was_built(tmp_path):
    import shutil
    import subprocess

    done = subprocess.run([shutil.which("lienthong"), "site", "serve", "--port", "0", "--dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "lienthong site build --period" in done.stderr
