"""Generate the reference seeds (no personal data, no organisation); run when the crosswalk changes.

    uv run python dbt_project/scripts/generate.py

Writes, from lienthong.text.addresses.crosswalk() of every province the project knows
(``KNOWN_PROVINCES``: Tây Ninh, Đồng Tháp):
  seeds/admin_units.csv, seeds/admin_crosswalk.csv, seeds/admin_unit_aliases.csv, seeds/admin_provinces.csv
The output is committed; a test checks it is up to date. (The organisation-specific parts of the
project are rendered at run time into the state folder: lienthong.pipeline.dbt_generated.)
"""
from __future__ import annotations

import sys
from pathlib import Path

from lienthong.pipeline.dbt_generated import csv_text, vn_key
from lienthong.text.addresses import KNOWN_PROVINCES, crosswalk, former_names, province_names

PROJECT = Path(__file__).resolve().parents[1]


def render() -> dict[Path, str]:
    files: dict[Path, str] = {}
    units, links = {}, []
    for old, news in crosswalk(KNOWN_PROVINCES):
        units[old.key] = [old.key, old.scheme, old.code, old.name, old.district or "", old.province_code]
        for new in news:
            units[new.key] = [new.key, new.scheme, new.code, new.name, "", new.province_code]
            links.append([old.key, new.key, len(news) > 1])
    files[PROJECT / "seeds" / "admin_units.csv"] = csv_text(
        ["admin_unit_key", "scheme", "code", "name", "district_name", "province_code"], sorted(units.values()))
    files[PROJECT / "seeds" / "admin_crosswalk.csv"] = csv_text(
        ["old_admin_unit_key", "new_admin_unit_key", "old_is_split"], sorted(links))
    files[PROJECT / "seeds" / "admin_unit_aliases.csv"] = csv_text(
        ["name_key", "district_key", "admin_unit_key"],
        # Names as written ("xa my binh") and the package's former names as the parser keys them,
        # without spaces ("xamybinh"): int_admin__communes compares keys without spaces.
        sorted({(vn_key(u[3]), vn_key(u[4]), u[0]) for u in units.values()}
               | {(key, vn_key(ref.district or ""), ref.key) for key, ref in former_names(KNOWN_PROVINCES)}))
    # A province as an address names it, with its unit word ("tinh long an"; a bare "Tây Ninh" is
    # also a district's name), and the new province it is in now.
    files[PROJECT / "seeds" / "admin_provinces.csv"] = csv_text(
        ["name_key", "province_code"],
        sorted([vn_key(name), code] for name, code in province_names(KNOWN_PROVINCES).items()))
    return files


def main(check: bool = False) -> int:
    stale = []
    for path, text in render().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    for path in stale:
        print(("stale: " if check else "wrote: ") + str(path.relative_to(PROJECT)))
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(check="--check" in sys.argv))
