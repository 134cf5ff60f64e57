"""A new province's communes (Tây Ninh by default), the old communes they were made of, and
generated hamlets.

Unit names and codes come from the data files shipped in ``vietnamadminunits`` (read offline, never
its converter, which calls an online geocoder for split communes). Hamlets are not in any package:
they are generated (names typical of the South) and each belongs to exactly one old commune, which is
what makes a split old commune resolvable at hamlet level.
"""

from __future__ import annotations

import functools
import json
import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import vietnamadminunits

_DATA = Path(vietnamadminunits.__file__).parent / "data"
NEW_PROVINCE_KEY = "tinhtayninh"  # the sample's province unless a scale names others (scales.yml)

_HAMLET_WORDS = (
    "Bình Thủy Long Thạnh Tân Lập Phước Hòa Bàu Sen Trảng Sa Rạch Sơn Bến Cừ Hiệp Thành Cầu Xe "
    "Mỹ Lợi An Thới Voi Đình Chánh Hội Lộc Trung Bình Hưng Tân Định Phú Thuận Hậu Nghĩa Gò Đen "
    "Cây Da Đức Ninh Suối Ông Trà Vinh Tây Đông Nam Bắc Thượng Hạ Chợ Kinh Xáng Ngã Bàu Tre"
).split()


@dataclass(frozen=True)
class OldCommune:
    code: str
    name: str  # "Xã Mỹ Yên"
    short: str  # "Mỹ Yên"
    kind: str  # "Xã" | "Phường" | "Thị trấn"
    district: str  # "Huyện Bến Lức"
    district_short: str
    district_kind: str  # "Huyện" | "Thị xã" | "Thành phố"
    province: str  # "Tỉnh Long An"
    cccd_province: str  # "080": birth-registration code of the old province
    split: bool  # this old commune went to several new communes


@dataclass(frozen=True)
class Hamlet:
    code: str  # "<new commune code>-<nn>", stable
    name: str  # "Ấp Bến Cừ" | "Khu phố 3"
    old: OldCommune
    province_code: str = ""  # of the new province: "80"


@dataclass(frozen=True)
class Commune:
    code: str
    name: str  # "Xã Mỹ Yên" (new scheme)
    short: str
    kind: str
    area_km2: float
    hamlets: tuple[Hamlet, ...]
    province_code: str = ""  # "80"
    province: str = ""  # "Tỉnh Tây Ninh"

    @property
    def urban(self) -> bool:
        return self.kind == "Phường"


def _query(sql: str, *args) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{_DATA / 'dataset.db'}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, args).fetchall()


@functools.cache
def communes(province: str = NEW_PROVINCE_KEY) -> tuple[Commune, ...]:
    """The communes of a new province (its key in the package: "tinhtayninh", 96 communes),
    ordered by code, each with its hamlets."""
    converter = json.loads((_DATA / "converter_2025.json").read_text(encoding="utf-8"))
    whole = converter["DICT_PROVINCE_WARD_NO_DIVIDED"][province]
    divided = converter["DICT_PROVINCE_WARD_DIVIDED"].get(province, {})
    # The old provinces it was made of: the first part of the converter's old keys.
    olds_of = sorted({old.split("_")[0] for olds in whole.values() for old in olds})
    old_by_key = _old_communes(olds_of, split_keys=set(divided))
    parts: dict[str, list[OldCommune]] = {key: [old_by_key[k] for k in olds] for key, olds in whole.items()}
    whole_provinces = {key: {o.province for o in olds} for key, olds in parts.items()}
    for old_key in sorted(divided):
        old = old_by_key[old_key]
        for target in divided[old_key]:
            # The package's table sends both cities' "Phường 4" to the same two wards (a name-key
            # collision); a split part is kept only where the new commune has whole parts of the
            # same old province.
            provinces = whole_provinces.get(target["newWardKey"])
            if not provinces or old.province in provinces:
                parts.setdefault(target["newWardKey"], []).append(old)
    rows = _query(
        "SELECT DISTINCT ward, wardShort, wardType, wardCode, wardKey, wardAreaKm2, provinceCode, province "
        "FROM admin_units WHERE provinceKey = ? ORDER BY wardCode",
        province,
    )
    result = []
    for row in rows:
        olds = sorted(parts[row["wardKey"]], key=lambda o: o.code)
        result.append(
            Commune(
                code=row["wardCode"],
                name=row["ward"],
                short=row["wardShort"],
                kind=row["wardType"],
                area_km2=float(row["wardAreaKm2"] or 50.0),
                hamlets=_hamlets(row["wardCode"], row["wardType"] == "Phường", olds, row["provinceCode"]),
                province_code=row["provinceCode"],
                province=row["province"],
            )
        )
    return tuple(result)


def _old_communes(provinces: list[str], split_keys: set[str]) -> dict[str, OldCommune]:
    rows = _query(
        "SELECT DISTINCT provinceKey, province, provinceCode, district, districtShort, districtType, districtKey, "
        f"ward, wardShort, wardType, wardCode, wardKey FROM admin_units_legacy WHERE provinceKey IN "
        f"({', '.join('?' * len(provinces))})",
        *provinces,
    )
    result = {}
    for row in rows:
        key = f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey']}"
        # The old province's code is also the birth-registration code of a CCCD (3 digits).
        province, cccd = row["province"], row["provinceCode"].zfill(3)
        result[key] = OldCommune(
            code=row["wardCode"],
            name=row["ward"],
            short=row["wardShort"],
            kind=row["wardType"],
            district=row["district"],
            district_short=row["districtShort"],
            district_kind=row["districtType"],
            province=province,
            cccd_province=cccd,
            split=key in split_keys,
        )
    return result


def _hamlets(code: str, urban: bool, olds: list[OldCommune], province_code: str) -> tuple[Hamlet, ...]:
    # Fixed per commune (not per run seed): hamlets are geography, the same in every sample.
    rng = random.Random(int(code))
    hamlets: list[Hamlet] = []
    used: set[str] = set()
    for old in olds:
        for _ in range(rng.randint(2, 4) if old.split else rng.randint(3, 7)):
            number = len(hamlets) + 1
            if urban or old.kind != "Xã" or rng.random() < 0.35:
                name = f"{'Khu phố' if urban or old.kind != 'Xã' else 'Ấp'} {number}"
            else:
                name = ""
                while not name or name in used:
                    name = "Ấp " + " ".join(rng.sample(_HAMLET_WORDS, 2))
            used.add(name)
            hamlets.append(Hamlet(code=f"{code}-{number:02d}", name=name, old=old, province_code=province_code))
    return tuple(hamlets)
