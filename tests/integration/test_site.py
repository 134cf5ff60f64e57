"""The public information pages built from the nightly run's warehouse (the review_monthly DAG's
build_site task), opened in headless Chromium at desktop and phone widths, and scanned for personal
data: the sample's names, ID numbers and phones, and any count small enough to single people out."""
import csv
import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

from lienthong.config.organisations import load_organisations
from lienthong.warehouse import connect

pytestmark = [pytest.mark.airflow, pytest.mark.slow]  # reads the shared nightly run

WIDTHS = {"desktop": (1280, False), "phone": (412, True)}
# What the browser reports about a page once it has loaded.
PAGE_FACTS = """(() => ({
  text: document.body.innerText,
  h1: document.querySelectorAll('h1').length,
  charts: [...document.querySelectorAll('figure.chart svg')].map(svg => ({
    id: svg.id, label: svg.getAttribute('aria-label'), width: svg.getBoundingClientRect().width,
    marks: svg.querySelectorAll('path, rect, line, use').length})),
  tables: [...document.querySelectorAll('table')].map(t => !!t.querySelector('caption')),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  overflow: document.documentElement.scrollWidth - window.innerWidth,
}))()"""


@pytest.fixture(scope="module")
def site(nightly) -> Path:
    assert nightly["done"].returncode == 0, nightly["done"].stdout[-4000:] + nightly["done"].stderr[-3000:]
    folder = nightly["settings"].output_dir / "site"
    assert (folder / "index.html").exists(), nightly["done"].stdout[-3000:]
    return folder


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_the_monthly_review_builds_the_site_for_its_month(nightly, site):
    assert "[site] " in nightly["done"].stdout
    organisations = [o for o in load_organisations()]
    with connect(nightly["url"]) as conn:
        communes = conn.execute("select count(*) from bi.agg_communes").fetchone()[0]
        in_data = {c for (c,) in conn.execute("select distinct org_code from bi.agg_activity_by_commune"
                                              " where org_code <> '*'")}
    assert communes > 0 and in_data
    assert len(list((site / "xa").glob("*.html"))) == communes
    assert {p.stem for p in (site / "to-chuc").glob("*.html")} == in_data
    index = (site / "index.html").read_text(encoding="utf-8")
    assert f"tháng {nightly['day']:%m/%Y}" in index
    for org in organisations:
        if org.code in in_data:
            assert org.name in index


def test_site_build_command_gives_the_same_site(nightly, site, tmp_path):
    env = {**nightly["env"], "LIENTHONG_OUTPUT_DIR": str(tmp_path)}
    done = subprocess.run([shutil.which("lienthong"), "site", "build", "--period", f"{nightly['day']:%Y-%m}"],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(pages(site))} pages written" in done.stdout
    for page in pages(site):
        assert (tmp_path / "site" / page.relative_to(site)).read_bytes() == page.read_bytes(), page
    wrong = subprocess.run([shutil.which("lienthong"), "site", "build", "--period", "2019-01"],
                           env=env, capture_output=True, text=True, timeout=600)
    assert wrong.returncode != 0 and "no month 2019-01" in wrong.stderr


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_loads_without_errors_with_charts_and_working_links(site, chromium, width, tmp_path):
    pixels, mobile = WIDTHS[width]
    links: set[str] = set()
    with chromium.session(pixels, mobile=mobile) as browser:
        for page in pages(site):
            problems = browser.open(page.as_uri())
            assert problems == [], (page, problems)
            facts = browser.evaluate(PAGE_FACTS)
            assert facts["h1"] == 1 and all(facts["tables"]), page  # one heading, every table captioned
            assert "\ufffd" not in facts["text"] and "Ã" not in facts["text"], page  # no mojibake
            for chart in facts["charts"]:
                assert chart["label"] and chart["width"] > 100 and chart["marks"] > 10, (page, chart)
            if page.parent == site and page.name == "index.html" or page.parent.name == "to-chuc":
                assert {c["id"] for c in facts["charts"]} >= {"chart-members", "chart-sessions"}, page
            if mobile:
                assert facts["overflow"] <= 1, (page, facts["overflow"])  # wide tables scroll in their box
            links.update(facts["links"])
        browser.open((site / "index.html").as_uri())
        shot = browser.screenshot(tmp_path / f"index-{width}.png")
        print(f"screenshot: {shot}")
    assert "Thành viên" in (site / "index.html").read_text(encoding="utf-8")
    for link in links:
        assert link.startswith("file://"), link  # nothing on the network
        target = Path(link.removeprefix("file://").split("?")[0].split("#")[0])
        assert target.is_file(), link


def test_search_finds_a_commune_by_its_new_and_its_old_name(nightly, site, chromium):
    with connect(nightly["url"]) as conn:
        new_name, code, old_names = conn.execute(
            "select commune_name, commune_code, old_names from bi.agg_communes where old_names <> ''"
            " order by length(old_names) desc, commune_code limit 1").fetchone()
    # An old name that is not part of the new one, typed without diacritics.
    old = next(n.split(" (")[0] for n in old_names.split("; ") if n.split(" (")[0] not in new_name)
    from lienthong.text import name_key

    with chromium.session(412, mobile=True) as browser:
        for query in (new_name, old, name_key(old)):
            assert browser.open((site / "tim-kiem.html").as_uri() + "?q=" + quote(query)) == []
            found = browser.evaluate("[...document.querySelectorAll('#ket-qua a')].map(a => [a.textContent, a.href])")
            assert [new_name, (site / "xa" / f"{code}.html").as_uri()] in found, (query, found)
        # Typing in the box searches as well.
        browser.evaluate(f"(() => {{ const box = document.getElementById('tim'); box.value = {json.dumps(old)};"
                         f" box.dispatchEvent(new Event('input')); }})()")
        assert new_name in browser.evaluate("document.getElementById('ket-qua').innerText")


def test_no_personal_data_and_no_count_that_singles_people_out(nightly, site):
    texts = {path: path.read_text(encoding="utf-8") for path in site.rglob("*") if path.is_file()}
    everything = "\n".join(texts.values())
    with (nightly["sample"] / "truth" / "persons.csv").open(encoding="utf-8", newline="") as handle:
        people = list(csv.DictReader(handle))
    assert people
    for person in people:
        for field in ("full_name", "cccd", "cmnd", "phone"):
            value = person[field].strip()
            if value:
                assert value not in everything, (field, person["person_id"])  # position, not the value
    counted = 0
    for path, text in texts.items():
        if path.suffix != ".html":
            continue
        for cell in re.findall(r"<td([^>]*)>(.*?)</td>", text, re.S):
            attributes, content = cell
            bare = re.sub(r"<[^>]+>", "", content).strip()
            if re.fullmatch(r"[\d.,%]+", bare):
                assert 'class="num' in attributes, (path, bare)  # every figure is marked as one
        figures = re.findall(r'<td class="num">([^<]*)</td>', text) + re.findall(r'<span class="so-lieu">([^<]*)</span>', text)
        for figure in figures:
            if figure.endswith("%"):
                continue
            counted += 1
            assert not re.fullmatch(r"[1-4]", figure), (path, figure)
    assert counted > 100


def test_the_site_reads_only_what_the_analyst_role_may_read(nightly, tmp_path):
    from psycopg import sql

    from lienthong.access import role_set, sync_roles
    from lienthong.site import SiteDataError, build_site

    analyst = role_set().name("analyst")
    with connect(nightly["url"]) as conn:
        conn.execute(sql.SQL("revoke select on bi.agg_communes from {}").format(sql.Identifier(analyst)))
    try:
        with pytest.raises(SiteDataError, match="may not read"):
            build_site(nightly["url"], f"{nightly['day']:%Y-%m}", tmp_path)
    finally:
        sync_roles(nightly["url"])
    assert not (tmp_path / "site").exists()
