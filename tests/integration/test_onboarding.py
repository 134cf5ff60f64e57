"""Onboarding organisations the project has never seen, by configuration alone, the way a new user
does it: configs in a folder of their own (LIENTHONG_ORG_CONFIG_DIR), `lienthong config check` on a
delivered file, then `lienthong run` from a read-only copy of the checkout into a fresh warehouse.

The files are written here, in shapes used nowhere else: rolls only (no dues, activities or
totals); their own headers; UTF-8, UTF-8 with BOM and Windows-1258; ';' and ','; a year-only birth
column; sex as 1/0; an organisation of women with no sex column (and d.m.yyyy dates); IDs with
Excel's apostrophe; and a header typo in a first config that `config check` must report.

Person linking trains on pairs with the same name and full birth date; the elderly association and
the women's group share such people (with year-only births everywhere, training finds no pair and
linking fails: the matching engine's to handle, not onboarding's).
"""
from __future__ import annotations

import csv
import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from lienthong.config.organisations import CONFIG_DIR, load_organisations
from lienthong.text.legacy_encodings import encode_cp1258
from lienthong.warehouse import connect

pytestmark = pytest.mark.airflow

REPO = Path(__file__).resolve().parents[2]
# People of one commune; several belong to two or three of the new organisations.
PEOPLE = [
    # name, day, month, year, sex, hamlet, commune
    ("Nguyễn Thị Hồng", 4, 3, 1952, "F", "Ấp Long Bình", "Xã Tân Lập"),
    ("Trần Văn Phúc", 19, 7, 1948, "M", "Ấp Long Bình", "Xã Tân Lập"),
    ("Lê Thị Ngọc Ánh", 30, 1, 1961, "F", "Ấp Bến Cừ", "Xã Tân Lập"),
    ("Phạm Văn Lộc", 2, 12, 1955, "M", "Ấp Bến Cừ", "Xã Tân Lập"),
    ("Võ Thị Thu Trang", 11, 6, 1958, "F", "Khu phố 2", "Phường Tân Ninh"),
    ("Đặng Văn Tư", 23, 9, 1950, "M", "Khu phố 2", "Phường Tân Ninh"),
    ("Huỳnh Thị Mỹ", 8, 8, 1963, "F", "Khu phố 4", "Phường Tân Ninh"),
    ("Bùi Văn Sáng", 15, 2, 1957, "M", "Khu phố 4", "Phường Tân Ninh"),
    ("Dương Thị Lụa", 27, 10, 1949, "F", "Ấp Long Bình", "Xã Tân Lập"),
    ("Lý Văn Thành", 6, 5, 1962, "M", "Ấp Bến Cừ", "Xã Tân Lập"),
    ("Mai Thị Kim Cúc", 13, 4, 1960, "F", "Khu phố 2", "Phường Tân Ninh"),
    ("Tô Thị Bé", 21, 11, 1954, "F", "Khu phố 4", "Phường Tân Ninh"),
]


def cccd(n: int) -> str:
    """A 12-digit citizen ID consistent with the person's sex and birth year (Tây Ninh, 072)."""
    _, _, _, year, sex, _, _ = PEOPLE[n]
    return f"072{(1 if sex == 'F' else 0)}{year % 100:02d}{100000 + 7919 * n:06d}"


RED_CROSS_HEADER = ["Mã TV", "Họ và tên", "Năm sinh", "Giới tính (1 = Nam, 0 = Nữ)", "CCCD", "Địa chỉ", "Chi hội"]
ELDERLY_HEADER = ["Họ tên", "Ngày sinh", "Giới tính", "Số CCCD", "Ấp", "Xã", "Chi hội"]
WOMEN_HEADER = ["Họ và tên", "Ngày sinh", "Thôn", "Xã", "Tổ"]


def red_cross_rows() -> list[list[str]]:
    rows = []
    for n in range(10):
        name, _, _, year, sex, hamlet, commune = PEOPLE[n]
        rows.append([f"CTD-{n + 1:03d}", name, str(year), "1" if sex == "M" else "0",
                     f"'{cccd(n)}" if n % 4 else cccd(n), f"{hamlet}, {commune}", f"Chi hội {commune}"])
    return rows


def elderly_rows() -> list[list[str]]:
    rows = []
    for n in range(4, 12):
        name, day, month, year, sex, hamlet, commune = PEOPLE[n]
        rows.append([name, f"{day:02d}/{month:02d}/{year}", "Nữ" if sex == "F" else "Nam",
                     f"'{cccd(n)}", hamlet, commune, f"Chi hội NCT {hamlet}"])
    rows[1][3] = "0721S0ABC123"   # letters in the ID: the record lands, the ID set aside
    rows[2][1] = "31/02/1950"     # no 31 February: quarantined, with the reason
    return rows


def women_rows() -> list[list[str]]:
    return [[name, f"{day}.{month}.{year}", hamlet, commune, f"Tổ {hamlet}"]
            for name, day, month, year, sex, hamlet, commune in PEOPLE if sex == "F"]


CONFIGS = {
    "hoi_chu_thap_do": """
code: hoi_chu_thap_do
name: Hội Chữ thập đỏ
short_name: Hội CTĐ
member_word: hội viên
owner: chu_thap_do_data
sex_codes: {"1": M, "0": F}
eligibility: {min_age: 16}
entities:
- kind: roster
  connector: {type: file, path: "chu_thap_do/{date}/thanh_vien.csv", format: csv, encoding: utf-8, delimiter: ";"}
  record_id: Mã TV
  columns:
    Họ và tên: full_name
    Năm sinh: birth_year
    Giới tính (1 = Nam, 0 = Nữ): sex
    CCCD: id_number
    Địa chỉ: address
    Chi hội: unit_name
  required: [full_name]
""",
    "hoi_nguoi_cao_tuoi": """
code: hoi_nguoi_cao_tuoi
name: Hội Người cao tuổi
short_name: Hội NCT
member_word: hội viên
owner: nguoi_cao_tuoi_data
eligibility: {min_age: 60}
quality_rules:
  roster:
  - {type: expect_table_row_count_to_be_between, kwargs: {min_value: 1}, severity: critical}
entities:
- kind: roster
  connector: {type: file, path: "nct/{date}/DS_HOI_VIEN.csv", format: csv, encoding: utf-8-sig}
  columns: {Họ tên: full_name, Ngày sinh: birth_date, Giới tính: sex, Số CCCD: id_number, Ấp: hamlet, Xã: commune,
            Chi hội: unit_name}
  required: [full_name]
""",
    "phu_nu_to_tu_quan": """
code: phu_nu_to_tu_quan
name: Tổ phụ nữ tự quản
short_name: Tổ PN tự quản
member_word: thành viên
owner: to_tu_quan_data
eligibility: {min_age: 18, sex: F}
entities:
- kind: roster
  connector: {type: file, path: "to_tu_quan/{date}/danhsach.csv", format: csv, encoding: cp1258, delimiter: ";"}
  columns: {Họ và tên: full_name, Ngày sinh: birth_date, Thôn: hamlet, Xã: commune, Tổ: unit_name}
  constants: {sex: F}
  required: [full_name]
""",
}
FILES = {  # org -> (path under the drop folder, header, rows, encoder, delimiter)
    "hoi_chu_thap_do": ("chu_thap_do/{date}/thanh_vien.csv", RED_CROSS_HEADER, red_cross_rows,
                        lambda t: t.encode("utf-8"), ";"),
    "hoi_nguoi_cao_tuoi": ("nct/{date}/DS_HOI_VIEN.csv", ELDERLY_HEADER, elderly_rows,
                           lambda t: t.encode("utf-8-sig"), ","),
    "phu_nu_to_tu_quan": ("to_tu_quan/{date}/danhsach.csv", WOMEN_HEADER, women_rows, encode_cp1258, ";"),
}


def write_delivery(drop: Path, day: str, files: dict[str, tuple]) -> dict[str, Path]:
    written = {}
    for code, (path, header, rows, encode, delimiter) in files.items():
        target = drop / path.format(date=day)
        target.parent.mkdir(parents=True, exist_ok=True)
        lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows()]
        target.write_bytes(encode("\r\n".join(lines) + "\r\n"))
        written[code] = target
    return written


def read_only_checkout(base: Path) -> Path:
    """The tracked files dbt, Airflow and GX read (DAGs, dbt project, mart suites), read-only."""
    copy = base / "checkout"
    tracked = subprocess.run(["git", "ls-files", "dags", "dbt_project", "expectations"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, copy / name)
    for path in sorted(copy.rglob("*"), reverse=True):
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return copy


def fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in folder.rglob("*")}


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout


def lienthong(*args: str, env: dict[str, str], timeout: int = 1800, cwd: Path | None = None
              ) -> subprocess.CompletedProcess:
    return subprocess.run([shutil.which("lienthong"), *args], env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, cwd=cwd)


def onboard(base: Path, url: str, airflow_env: dict, day: str, configs: dict[str, str], files: dict) -> dict:
    """Configs and files in their own folders, then `lienthong run` from a read-only checkout copy."""
    config_dir, drop = base / "configs", base / "drop"
    config_dir.mkdir()
    for code, text in configs.items():
        (config_dir / f"{code}.yml").write_text(text, encoding="utf-8")
    written = write_delivery(drop, day, files)
    checkout = read_only_checkout(base)
    env = {**os.environ,
           "LIENTHONG_HOME": str(checkout), "LIENTHONG_ORG_CONFIG_DIR": str(config_dir),
           "LIENTHONG_DROP_DIR": str(drop), "LIENTHONG_STATE_DIR": str(base / "state"),
           "LIENTHONG_SAMPLE_DIR": str(base / "no_sample"), "LIENTHONG_REFERENCE_DIR": str(base / "no_reference"),
           "LIENTHONG_OUTPUT_DIR": str(base / "output"), "LIENTHONG_WAREHOUSE_URL": url,
           # A read-only checkout gets no bytecode next to its DAG files; say so for root, who could write.
           "PYTHONDONTWRITEBYTECODE": "1",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]}
    before, status = fingerprint(checkout), git_status()
    # Run from inside the checkout, as a user would: anything written to the working folder shows.
    done = lienthong("run", "--date", day, env=env, cwd=checkout)
    return {"done": done, "env": env, "files": written, "config_dir": config_dir, "base": base,
            "unchanged": fingerprint(checkout) == before and git_status() == status}


def delivered_rows(path: Path) -> int:
    return sum(1 for line in path.read_bytes().splitlines() if line.strip()) - 1


@pytest.fixture(scope="module")
def new_organisations(fresh_database, airflow_env, tmp_path_factory):
    base = tmp_path_factory.mktemp("onboarding")
    with fresh_database("onboarding") as url:
        yield {**onboard(base, url, airflow_env, "2026-10-15", CONFIGS, FILES), "url": url}


def test_config_check_reports_a_header_typo_then_shows_how_the_file_lands(tmp_path):
    config_dir = tmp_path / "configs"
    config_dir.mkdir()
    for code, text in CONFIGS.items():
        (config_dir / f"{code}.yml").write_text(text.replace("Giới tính (1 = Nam, 0 = Nữ)", "Giới tính (1=Nam, 0=Nữ)"),
                                                encoding="utf-8")
    [red_cross] = write_delivery(tmp_path / "drop", "2026-10-15", {"hoi_chu_thap_do": FILES["hoi_chu_thap_do"]}).values()
    typo = lienthong("config", "check", str(config_dir), "--sample-file", str(red_cross), env=dict(os.environ))
    assert typo.returncode == 1, typo.stdout + typo.stderr
    assert "Giới tính (1=Nam, 0=Nữ)" in typo.stdout and "not in the file" in typo.stdout

    (config_dir / "hoi_chu_thap_do.yml").write_text(CONFIGS["hoi_chu_thap_do"], encoding="utf-8")
    fixed = lienthong("config", "check", str(config_dir), "--sample-file", str(red_cross), env=dict(os.environ))
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    print(fixed.stdout)  # the closing note of the issue quotes it
    lines = {line.split()[0]: line for line in fixed.stdout.splitlines()[1:] if line.startswith("  ")}
    assert "100.0 %" in lines["member_code"] and "100.0 %" in lines["sex"] and "'1' -> M" in lines["sex"]
    assert "<12 digits>" in lines["id_number"]  # apostrophes gone; personal values by shape only
    assert "Nguyễn" not in fixed.stdout  # no name from the roll is printed
    assert "no row would be quarantined" in fixed.stdout


def test_new_organisations_land_link_and_are_reviewed_from_a_read_only_checkout(new_organisations):
    done, url = new_organisations["done"], new_organisations["url"]
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
    assert new_organisations["unchanged"], "the run wrote into the checkout"
    codes = sorted(CONFIGS)
    with connect(url) as conn:
        landed = dict(conn.execute("select org_code, sum(row_count + quarantined_count) from raw.batches"
                                   " where status = 'loaded' group by 1").fetchall())
        reasons = conn.execute("select org_code, reason_code, reason from raw.quarantine").fetchall()
        ids = [i for (i,) in conn.execute("select id_number from raw.hoi_chu_thap_do__roster")]
        set_aside = conn.execute("select count(*) from raw.hoi_nguoi_cao_tuoi__roster"
                                 " where id_number is null and extra ? 'id_number_unreadable'").fetchone()[0]
        roll = dict(conn.execute("select org_code, count(*) from marts.fct_membership group by 1").fetchall())
        unlinked = conn.execute("select count(*) from marts.fct_membership f left join identity.record_person r"
                                " on r.person_id = f.person_id where r.person_id is null").fetchone()[0]
        people, records = conn.execute("select count(distinct person_id), count(*) from marts.fct_membership"
                                       ).fetchone()
        sexes = dict(conn.execute("select org_code, string_agg(distinct sex, '' order by sex) from"
                                  " intermediate.int_people__source_records group by 1").fetchall())
        haves = conn.execute("select distinct org_code, has_dues, has_attendance, dues_rate"
                             " from review.rpt_five_haves order by 1").fetchall()
        ghost_dues = conn.execute("select count(*) from review.rpt_member_flags"
                                  " where flag_kind in ('no_dues', 'no_attendance')").fetchone()[0]
    # Every delivered row landed or was quarantined with a reason.
    assert landed == {code: delivered_rows(path) for code, path in new_organisations["files"].items()}
    assert [(org, code) for org, code, _ in reasons] == [("hoi_nguoi_cao_tuoi", "unreadable_birth_date")]
    assert all("'" not in (i or "") for i in ids) and all(len(i) == 12 for i in ids)
    assert set_aside == 1
    # Every landed record is on its roll with a linked person id; people in several organisations are one.
    assert roll == {code: landed[code] - (1 if code == "hoi_nguoi_cao_tuoi" else 0) for code in codes}
    assert unlinked == 0 and people < records
    # Linking saw F/M as each organisation's codes say (1/0; a constant for the women's group).
    assert sexes == {"hoi_chu_thap_do": "FM", "hoi_nguoi_cao_tuoi": "FM", "phu_nu_to_tu_quan": "F"}
    # Roll-only organisations: dues and attendance "not reported", never a flag per member.
    assert [(org, d, a, r) for org, d, a, r in haves] == [(code, None, None, None) for code in codes]
    assert ghost_dues == 0

    review = sorted((new_organisations["base"] / "output" / "reviews" / "2026-10").glob("bao_cao_ra_soat_*"))
    assert {p.suffix for p in review} == {".html", ".xlsx"}
    html = next(p for p in review if p.suffix == ".html").read_text(encoding="utf-8")
    assert "Hội Chữ thập đỏ" in html or "Hội CTĐ" in html
    assert "chưa báo cáo" in html


def test_persons_export_gives_each_record_its_person_and_other_organisations(new_organisations):
    out = new_organisations["base"] / "export" / "chu_thap_do.csv"
    done = lienthong("persons", "export", "--org", "hoi_chu_thap_do", "--out", str(out),
                     env=new_organisations["env"], timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["record_id"] for r in rows) == [f"CTD-{n:03d}" for n in range(1, 11)]
    assert all(r["person_id"] for r in rows)
    # Person 4 (CTD-005) is also in the elderly association, with the same ID.
    shared = {r["record_id"]: set(filter(None, r["other_organisations"].split(";"))) for r in rows}
    assert "hoi_nguoi_cao_tuoi" in shared["CTD-005"]
    assert shared["CTD-002"] == set()  # a man of the first commune, in no other organisation


def test_replacing_the_bundled_organisations_by_new_ones_with_their_codes(fresh_database, airflow_env,
                                                                          tmp_path_factory):
    """The bundled configs replaced (not joined) by new ones whose codes collide with theirs: nothing
    of the bundled organisations (their rule files, staging, settings) applies to the new ones."""
    bundled = [org.code for org in load_organisations(CONFIG_DIR)]
    shapes = list(CONFIGS.items())
    # Batch expectations each shape's own config gives (column set, required fields, its own rules).
    expectations = {"hoi_chu_thap_do": 2, "hoi_nguoi_cao_tuoi": 3, "phu_nu_to_tu_quan": 2}
    configs, files, expected = {}, {}, {}
    for n, code in enumerate(bundled):
        own_code, text = shapes[n % len(shapes)]
        expected[code] = expectations[own_code]
        configs[code] = text.replace(f"code: {own_code}", f"code: {code}")
        files[code] = FILES[own_code]
        # Each its own drop folder: two organisations in one shape must not read each other's file.
        configs[code] = configs[code].replace(f'path: "{FILES[own_code][0].split("/")[0]}/',
                                              f'path: "{code}/')
        files[code] = (f"{code}/" + FILES[own_code][0].split("/", 1)[1], *FILES[own_code][1:])
    base = tmp_path_factory.mktemp("collide")
    with fresh_database("collide") as url:
        result = onboard(base, url, airflow_env, "2026-10-16", configs, files)
        done = result["done"]
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-3000:]
        assert result["unchanged"], "the run wrote into the checkout"
        with connect(url) as conn:
            landed = dict(conn.execute("select org_code, sum(row_count + quarantined_count) from raw.batches"
                                       " where status = 'loaded' group by 1").fetchall())
            roll = dict(conn.execute("select org_code, count(*) from marts.fct_membership group by 1").fetchall())
            sent = {e for (e,) in conn.execute("select distinct entity from raw.batches")}
            checked = dict(conn.execute("select org_code, count(*) from dq.validation_results"
                                        " where batch_id is not null group by 1").fetchall())
    assert landed == {code: delivered_rows(path) for code, path in result["files"].items()}
    assert set(roll) == set(bundled) and sent == {"roster"}
    # Only the new configs' rules ran: none of the bundled organisations' rule files.
    assert checked == expected
