"""The warehouse resolves every commune text to the new commune the linker's parser resolves it to.

The linker reads a record's commune with lienthong.text.addresses; the review, the BI tables and the
reported totals read it with int_admin__communes (resolve_commune_texts). A way of writing a commune
that only one of the two understands puts one member in a commune for the linker and in none (or
another) for the review. Every commune of the deployed province is written the ways rolls write it,
old names with their district, and read both ways on the real server."""
from __future__ import annotations

import json

from lienthong.config.settings import load_settings
from lienthong.pipeline.dbt_env import run_dbt
from lienthong.text.addresses import crosswalk, resolve_commune
from lienthong.text.errors import ParseError
from lienthong.text.names import name_key
from lienthong.warehouse import connect

SHORT = {"Xã": "X.", "Phường": "P.", "Thị trấn": "TT.", "Huyện": "H.", "Thị xã": "TX.", "Thành phố": "TP."}


def _short(name: str) -> str:
    for word, short in SHORT.items():
        if name.startswith(word + " "):
            return short + " " + name[len(word) + 1:]
    return name


def _bare(name: str) -> str:
    for word in SHORT:
        if name.startswith(word + " "):
            return name[len(word) + 1:]
    return name


def texts() -> list[str]:
    """Each commune as rolls write it: new names alone, old ones with their district."""
    out: list[str] = []
    pairs = crosswalk()
    for new in {n for _, targets in pairs for n in targets}:
        name = new.name
        out += [name, name.upper(), name_key(name), _short(name), f"Ấp 3, {name}", f"{name}, Tỉnh Tây Ninh",
                f"Ấp 3 {name}", f"Khu phố 2 {name}", f"{name} - Tây Ninh", f"{name}; tỉnh Tây Ninh",
                f"Bắc Hòa, {name}", f"Bắc Hòa - {name}, Tây Ninh", f"{name}, Tỉnh Đồng Tháp", f"{name}, Quảng Trị"]
    for old, _ in pairs:
        name, district = old.name, old.district
        out += [f"{name}, {district}", f"{_short(name)}, {_short(district)}", name_key(f"{name}, {district}"),
                f"{name} - {district}", f"{name}; {district}", f"{name}, {_bare(district)}",
                f"{name}, {district}, Tỉnh Tây Ninh", f"Ấp 1 {name} {district}", name_key(f"kp 4 {name}")]
    out += ["Ấp 3", "Khu phố 5, ", "Huyện Tân Biên", "Tỉnh Tây Ninh", "không rõ", "Xã Không Có"]  # no commune
    return sorted(set(out))


def python_reads(text: str) -> str | None:
    try:
        return resolve_commune(text).new_code
    except ParseError:
        return None


RESOLVE = ("select commune_raw, new_admin_unit_key from ({{ resolve_commune_texts('commune_texts') }}) as r")


def test_the_warehouse_resolves_every_commune_text_as_the_linker_does(warehouse_url, tmp_path, monkeypatch):
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(tmp_path / "state"))
    settings = load_settings()
    run_dbt(settings, warehouse_url, "--quiet", "seed", "--select", "admin_units admin_unit_aliases "
            "admin_crosswalk admin_provinces")
    run = run_dbt(settings, warehouse_url, "--quiet", "compile", "--inline", RESOLVE, "--output", "json")
    query = json.loads(run.stdout[run.stdout.index("{"):])["compiled"]
    corpus = texts()
    with connect(warehouse_url) as conn:
        conn.execute("create temp table commune_texts (commune_raw text, roll_province text)")
        with conn.cursor() as cur, cur.copy("copy commune_texts from stdin") as copy:
            for text in corpus:
                copy.write_row((text, ""))
        in_sql = {t: (key.removeprefix("new:") if key else None) for t, key in conn.execute(query).fetchall()}
    differ = {t: (python_reads(t), in_sql[t]) for t in corpus if python_reads(t) != in_sql[t]}
    assert len(corpus) > 2_000
    assert not differ, f"{len(differ)} of {len(corpus)} texts (python, sql): {dict(list(differ.items())[:30])}"
