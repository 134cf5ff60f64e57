"""The warehouse reads every date, dues period and ID number the landing lets through as the
landing's parsers read them.

The landing's check (lienthong.text.dates) is the gate: a date it cannot read is quarantined, any
other lands as written. dbt reads the landed text with vn_date / vn_birth_year; a layout only one of
the two knows would land and then be read as no date (a roll's whole birth column, an activity
list's session days). Every layout is rendered for a few hundred days and read both ways on the
real server."""
from __future__ import annotations

import datetime as dt
import json
import random
import re
import unicodedata
from pathlib import Path

import pytest

from lienthong.config.settings import load_settings
from lienthong.pipeline.dbt_env import run_dbt
from lienthong.text.dates import parse_birth_date
from lienthong.landing.checks import id_problem
from lienthong.text.errors import ParseError
from lienthong.text.ids import parse_person_id
from lienthong.text.periods import parse_period
from lienthong.warehouse import connect

LAYOUTS = [
    "{d}/{m}/{y}", "{dd}/{mm}/{y}", "{dd}.{mm}.{y}", "{dd}-{mm}-{y}", "{d} / {m} / {y}", " {dd}/{mm}/{y} ",
    "{dd}/{mm}/{y} 0:00:00", "{dd}/{mm}/{y}T08:30", "{mm}/{dd}/{y}",
    "{y}-{mm}-{dd}", "{y}/{m}/{d}", "{y}.{mm}.{dd}", "{y}-{mm}-{dd} 00:00:00", "{y}-{mm}-{dd}T00:00:00.000",
    "{y}-{dd}-{mm}",
    "ngày {d} tháng {m} năm {y}", "Ngày {dd}, tháng {mm}, năm {y}", "NGÀY {d} THÁNG {m} NĂM {y}",
    "{y}", "{y}.0", "{serial}", "{serial}.0",
]


DAY_FIRST = re.compile(r"(\s*)(\d{1,2})(\s*[/.-]\s*)(\d{1,2})(\s*[/.-]\s*\d{4}.*)")
REFUSED = ["31/02/1990", "29/02/1900", "1990-13-45", "05/03/90", "3/1990", "abc", "60", "2027"]  # by the gate


def texts() -> list[str]:
    rng = random.Random(20261206)
    days = [dt.date(1920, 1, 1) + dt.timedelta(days=rng.randrange(33_000)) for _ in range(300)]
    days += [dt.date(2000, 2, 29), dt.date(1996, 12, 12), dt.date(1990, 1, 13), dt.date(1985, 11, 3)]
    out = []
    for day in days:
        serial = (day - dt.date(1899, 12, 30)).days
        for layout in LAYOUTS:
            out.append(layout.format(d=day.day, m=day.month, dd=f"{day.day:02d}", mm=f"{day.month:02d}",
                                     y=day.year, serial=serial))
    out += [unicodedata.normalize("NFD", t) for t in out if t.lower().startswith("ng")][:50]
    out += ["1899", "2101", "61"]  # Excel serials, not years
    return list(dict.fromkeys(out + REFUSED))


def read_in_python(text: str) -> tuple[dt.date | None, int] | None:
    try:
        parsed = parse_birth_date(text, today=dt.date(2026, 12, 6))
    except ParseError:
        return None
    return parsed.date, parsed.year


DATES = ("select t, {{ vn_date('t') }} as day_dmy, {{ vn_date('t', 'mdy') }} as day_mdy,"
         " {{ vn_birth_year('t') }} as year from date_texts")
PERIODS = "select t, {{ vn_period_start('t') }}, {{ vn_period_months('t') }} from date_texts"


@pytest.fixture(scope="module")
def dbt_state(tmp_path_factory) -> Path:
    """One dbt state folder for the module: the compiles after the first reuse its parse (dbt parses
    again when the profile changes, the database's name included: hence one database, macro_url)."""
    return tmp_path_factory.mktemp("text_macros") / "state"


@pytest.fixture(scope="module")
def macro_url(fresh_database) -> str:
    """The module's database: the tests read their texts in temporary tables of their own."""
    with fresh_database("text_macros") as url:
        yield url


def compiled(url: str, state: Path, monkeypatch, inline: str) -> str:
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(state))
    run = run_dbt(load_settings(), url, "--quiet", "compile", "--inline", inline, "--output", "json")
    return json.loads(run.stdout[run.stdout.index("{"):])["compiled"]


def read_in_sql(url: str, query: str, corpus: list[str]) -> list[tuple]:
    with connect(url) as conn:  # connect() creates the extensions the macros use (unaccent)
        conn.execute("create temp table date_texts (t text)")
        with conn.cursor() as cur, cur.copy("copy date_texts from stdin") as copy:
            for text in corpus:
                copy.write_row((text,))
        return conn.execute(query).fetchall()


def test_dbt_reads_every_date_the_landing_lets_through_as_the_landing_reads_it(macro_url, dbt_state, monkeypatch):
    corpus = texts()
    read = {t: (dmy, mdy, year) for t, dmy, mdy, year in
            read_in_sql(macro_url, compiled(macro_url, dbt_state, monkeypatch, DATES), corpus)}
    wrong, gated = [], []
    for text in corpus:
        expected = read_in_python(text)
        if expected is None:
            gated.append(text)
            continue
        day, year = expected
        dmy, mdy, sql_year = read[text]
        if (dmy, sql_year) != (day, year):
            wrong.append((text, "dmy", (dmy, sql_year), expected))
        # Month first (date_order mdy): the first two numbers of a day-first text read the other way.
        if first := DAY_FIRST.fullmatch(text):
            lead, a, sep, b, rest = first.groups()
            day = read_in_python(lead + b + sep + a + rest)[0]
        if mdy != day:
            wrong.append((text, "mdy", mdy, day))
    assert gated == REFUSED  # and nothing else
    assert not wrong, wrong[:20]
    assert len(read) > 6000


PERIOD_LAYOUTS = ["{m}/{y}", "{mm}/{y}", "{mm}-{y}", "{m}.{y}", "{y}-{mm}", "{y}/{m}", "{y}-{mm}-01", " {mm} / {y} ",
                  "tháng {m}/{y}", "Tháng {mm} năm {y}", "THÁNG {m}-{y}", "T{m}/{y}", "t{mm}-{y}", "T {m}/{y}"]
QUARTER_LAYOUTS = ["Quý {q}/{y}", "quý {q} năm {y}", "Q{q}-{y}", "Q {q}/{y}", "QUÝ {r}/{y}", "quý {r} năm {y}"]
PERIODS_REFUSED = ["13/2026", "0/2026", "Q5/2026", "quý V/2026", "2026-10-32", "1899", "10/26", "abc", "tháng 10"]


def test_dbt_reads_every_dues_period_the_landing_lets_through_as_the_landing_reads_it(macro_url, dbt_state,
                                                                                      monkeypatch):
    romans = ["I", "II", "III", "IV"]
    corpus = [layout.format(m=m, mm=f"{m:02d}", y=y) for y in (1999, 2025, 2026) for m in range(1, 13)
              for layout in PERIOD_LAYOUTS]
    corpus += [layout.format(q=q, r=romans[q - 1], y=y) for y in (2025, 2026) for q in range(1, 5)
               for layout in QUARTER_LAYOUTS]
    corpus += ["2026", "Năm 2026", "năm 2025", *PERIODS_REFUSED]
    read = {t: (start, months) for t, start, months in
            read_in_sql(macro_url, compiled(macro_url, dbt_state, monkeypatch, PERIODS), corpus)}
    wrong, refused = [], []
    for text in corpus:
        try:
            period = parse_period(text)
        except ParseError:
            refused.append(text)
            continue
        if read[text] != (period.start, period.months):
            wrong.append((text, read[text], period))
    assert refused == PERIODS_REFUSED
    assert not wrong, wrong[:20]


IDS = ["072190001234", "72190001234", "072 190 001 234", "072.190.001.234", "072-190-001-234", "72190001234.0",
       "024123456", "24123456", "24123456.0", "290521251", " 080089687442 ", "0801234", "12345678901234",
       "072_190_001_234", "CCCD 072190001234", "7.2190001234E+10"]


def test_dbt_reads_every_id_number_the_landing_lets_through_as_the_linker_reads_it(macro_url, dbt_state,
                                                                                  monkeypatch):
    """The linker reads IDs with lienthong.text.ids (a leading zero put back, separators dropped); the
    review reads dbt's id_number: a roll whose IDs lost their zero in Excel must not look ID-less there."""
    read = dict(read_in_sql(macro_url, compiled(macro_url, dbt_state, monkeypatch,
                                                    "select t, {{ vn_person_id('t') }} from date_texts"), IDS))
    landed = [text for text in IDS if id_problem(text) is None]
    assert [text for text in IDS if text not in landed] == ["CCCD 072190001234", "7.2190001234E+10"]  # set aside
    wrong = []
    for text in landed:
        try:
            expected = parse_person_id(text).digits
        except ParseError:  # a wrong length lands as written, for the review to flag
            expected = re.sub(r"\D", "", text)
        if read[text] != expected:
            wrong.append((text, read[text], expected))
    assert not wrong


def phones() -> list[str]:
    from lienthong.text.phones import _OLD_PREFIXES, MOBILE_PREFIXES

    out = []
    for n, prefix in enumerate(MOBILE_PREFIXES):
        national = f"{prefix}{n + 1}2345678"
        out += [national, national[1:], national[1:] + ".0", f"+84 {national[1:4]} {national[4:7]} {national[7:]}",
                f"84{national[1:]}", f"0084{national[1:]}", f"+84 (0) {national[1:]}", f"{national[:4]}.{national[4:7]}.{national[7:]}",
                f"({national[:4]}) {national[4:]}", f"{national[:4]}-{national[4:]}"]
    out += [f"{old}1234567" for old in _OLD_PREFIXES] + [f"{old[1:]}1234567" for old in _OLD_PREFIXES]
    return out + ["0912345678 / 0987654321", "0912345678; ", "02763812345", "091234567", "0612345678", "0912 ABC 678",
                  "0000000000", "0123456789", "1234567", ""]


def test_dbt_reads_every_phone_as_the_linker_reads_it(macro_url, dbt_state, monkeypatch):
    """The review's placeholder-phone rule reads dbt's phone: a roll whose phones lost their zero in
    Excel, or still write a retired 11-digit number, must not look like a roll of made-up phones."""
    from lienthong.text.errors import PhoneParseError
    from lienthong.text.phones import normalise_phone

    corpus = phones()
    read = dict(read_in_sql(macro_url, compiled(macro_url, dbt_state, monkeypatch,
                                                    "select t, {{ vn_phone('t') }} from date_texts"), corpus))
    wrong = []
    for text in corpus:
        try:
            expected = normalise_phone(text)
        except PhoneParseError:  # kept as its digits, for the review to flag
            expected = re.sub(r"^84(\d{9})$", r"0\1", re.sub(r"\D", "", text)) or None
        if read[text] != expected:
            wrong.append((text, read[text], expected))
    assert not wrong, wrong


def test_the_review_takes_a_phone_for_a_placeholder_as_the_linker_does(macro_url, dbt_state, monkeypatch):
    """The linker does not take a placeholder phone as person evidence; the review flags it. A number
    one of them reads as a placeholder and the other as someone's would merge what the review flags,
    or flag what the linker trusted."""
    from lienthong.sample.memberships import placeholder_phone
    from lienthong.text.phones import MOBILE_PREFIXES, is_placeholder_phone

    rng = random.Random(61206)
    corpus = [placeholder_phone(rng) for _ in range(200)]
    corpus += [rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8)) for _ in range(2000)]
    corpus += ["0900000012", "0911111234", "0901111123", "0976543219", "0934567890", "0912312312", "0988888881"]
    corpus = list(dict.fromkeys(corpus))
    read = dict(read_in_sql(macro_url, compiled(macro_url, dbt_state, monkeypatch,
                                                    "select t, {{ vn_placeholder_phone('t') }} from date_texts"),
                            corpus))
    assert sum(read.values()) >= 20 and sum(not v for v in read.values()) >= 1000  # both kinds are read
    assert [t for t in corpus if read[t] != is_placeholder_phone(t)] == []
