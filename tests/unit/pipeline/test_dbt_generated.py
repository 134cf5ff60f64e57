"""The admin seeds rendered into the dbt project for the deployed provinces (the organisation
configs' ``province:``), and rendered again only when what they are made from changes."""
from __future__ import annotations

import csv
import io

import pytest

from lienthong.config.organisations import load_organisations
from lienthong.pipeline import dbt_generated
from lienthong.pipeline.dbt_generated import ADMIN_SEEDS, ADMIN_STAMP, render_admin_seeds, write_generated
from lienthong.text.addresses import DEFAULT_PROVINCES, crosswalk, national_provinces, province_codes, resolve_commune

# A province no default or sample names: any of the 34 deploys by its configs alone.
ELSEWHERE = next(p for p in national_provinces() if p not in DEFAULT_PROVINCES)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def seeds(provinces: tuple[str, ...]) -> dict[str, list[dict[str, str]]]:
    return {path.stem: rows(text) for path, text in render_admin_seeds(provinces).items()}


def in_province(org, province):
    return org.model_copy(update={"province": province})


def test_the_default_deployments_seeds_hold_tay_ninhs_communes_new_and_old():
    units = seeds(DEFAULT_PROVINCES)["admin_units"]
    assert sum(u["scheme"] == "new" for u in units) == 96 and sum(u["scheme"] == "old" for u in units) == 280
    assert {u["province_code"] for u in units if u["scheme"] == "new"} == set(province_codes(DEFAULT_PROVINCES).values())


@pytest.mark.parametrize("provinces", [(ELSEWHERE,), (*DEFAULT_PROVINCES, ELSEWHERE)])
def test_the_seeds_hold_the_deployed_provinces_units_and_what_the_parser_reads_of_them(provinces):
    rendered = seeds(provinces)
    units = {u["admin_unit_key"]: u for u in rendered["admin_units"]}
    pairs = crosswalk(provinces)
    new = {n.key for _, news in pairs for n in news}
    assert {k for k, u in units.items() if u["scheme"] == "new"} == new
    assert {k for k, u in units.items() if u["scheme"] == "old"} == {old.key for old, _ in pairs}
    assert {units[k]["province_code"] for k in new} == set(province_codes(provinces).values())
    links = rendered["admin_crosswalk"]
    assert len(links) == sum(len(news) for _, news in pairs)
    assert all(x["old_admin_unit_key"] in units and x["new_admin_unit_key"] in units for x in links)
    assert all(a["admin_unit_key"] in units for a in rendered["admin_unit_aliases"])
    assert set(province_codes(provinces).values()) <= {p["province_code"] for p in rendered["admin_provinces"]}
    # A commune the parser reads in these provinces is a unit of the seeds, under a name they carry.
    aliased = {a["admin_unit_key"] for a in rendered["admin_unit_aliases"]}
    for key in sorted(new)[::25]:
        match = resolve_commune(units[key]["name"], provinces=provinces)
        # (a name two deployed provinces have is left ambiguous, never guessed)
        assert key in aliased and (match.ambiguous or f"new:{match.new_code}" == key), (key, match)


def test_the_admin_seeds_are_rendered_once_then_again_only_when_the_provinces_change(tmp_path, monkeypatch):
    orgs = load_organisations()
    write_generated(tmp_path, orgs)
    first = {path: (tmp_path / path).read_text(encoding="utf-8") for path in ADMIN_SEEDS}
    assert f"provinces: {' '.join(DEFAULT_PROVINCES)}\n" in (tmp_path / ADMIN_STAMP).read_text(encoding="utf-8")

    calls = []
    render = dbt_generated.render_admin_seeds
    monkeypatch.setattr(dbt_generated, "render_admin_seeds", lambda provinces: calls.append(provinces) or render(provinces))
    write_generated(tmp_path, orgs)  # a night: same configs
    assert calls == [] and {p: (tmp_path / p).read_text(encoding="utf-8") for p in ADMIN_SEEDS} == first

    moved = (in_province(orgs[0], ELSEWHERE), *orgs[1:])
    write_generated(tmp_path, moved)  # a config names a province: the deployment's only one
    assert calls == [(ELSEWHERE,)]
    codes = {u["province_code"] for u in rows((tmp_path / ADMIN_SEEDS[0]).read_text(encoding="utf-8"))
             if u["scheme"] == "new"}
    assert codes == set(province_codes((ELSEWHERE,)).values())

    (tmp_path / ADMIN_SEEDS[2]).unlink()  # a seed gone (removed by hand): rendered again
    write_generated(tmp_path, moved)
    assert len(calls) == 2 and all((tmp_path / p).exists() for p in ADMIN_SEEDS)
