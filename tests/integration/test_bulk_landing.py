"""The bulk landing (a file's cells COPYed as they are, checks in SQL) lands exactly what the
row-by-row path lands, row for row and reason for reason, on a file with every kind of mess."""
import dataclasses
import datetime as dt
import json
from datetime import date

import pytest

from lienthong.config.organisations import get_organisation
from lienthong.landing.raw import land_delivery
from lienthong.sources.files import open_file
from lienthong.warehouse import connect

from tests.conftest import WOMEN_HEADER

HEADER = WOMEN_HEADER + ",Ghi chú"  # one column the config does not map
MESSY = [
    "1,Trần Thị Thúy,05/03/1990,Nữ,072190001234,0912345678,Ấp 1,Phường Tân Ninh,Chi hội Ấp 1,01/01/2015,ghi chú",
    "2, Lê Thị  Hoa ,1985,Nữ,'079185001234,,Ấp 2,Xã Tân Lập,Chi hội Ấp 2,,",       # spaces kept, Excel marker
    "3,Trần Thị Bé,\u00a0,Nữ, ,,\u3000,Xã Tân Lập,Chi hội Ấp 2,\t, ",                 # whitespace-only cells
    "4,,1970,Nữ,,,Ấp 2,Xã Tân Lập,Chi hội Ấp 2,,",                                    # no name
    "5,Lê Thị Mai,31/02/1990,Nữ,,,Ấp 3,Xã Tân Lập,Chi hội Ấp 3,,",                    # no such day
    "6,Phạm Thị Hoa,1988,Nữ,07218800ABCD,,Ấp 3,Xã Tân Lập,Chi hội Ấp 3,,",            # ID set aside
    "7,Võ Thị Sáu,32245,Nữ",                                                          # short row
    "8,Đỗ Thị Hà,1991,Nữ,080089687442,,Ấp 3,Xã Tân Lập,Chi hội Ấp 3,,x,thừa 1, ,thừa 2",  # overflow
    "",
    ",,,,,,,,,,",
    '11,"Nguyễn, Thị Lan",1985,Nữ,,,"Ấp ""5""",Xã Tân Lập,Chi hội Ấp 5,2020,',       # quoted values
    "12,Hồ\x00ng Thị Nga,1985,Nữ,,,Ấp 6,Xã Tân Lập,Chi hội Ấp 6,,",                  # NUL byte
    '"13,Mở ngoặc,1980,Nữ,,,Ấp 7,Xã Tân Lập,Chi hội Ấp 7,,',                          # a quote left open…
    "14,Giữa,1981,Nữ,,,Ấp 7,Xã Tân Lập,Chi hội Ấp 7,,",
    '15,Đóng",1982,Nữ,,,Ấp 7,Xã Tân Lập,Chi hội Ấp 7,,',                              # …closed two lines on
    "16,\u201c080089687443\u201d,1990,Nữ,\u201c080089687443\u201d,,Ấp 8,Xã Tân Lập,Chi hội Ấp 8,,",  # quotes
    "17,Nguye\u0302\u0303n Thị Hương,2099,Nữ,,,Ấp 9,Xã Tân Lập,Chi hội Ấp 9,12/2019,",  # NFD; future year
    "18,Lâm Thị Kiều,1990-13-45,Nữ,1234567890123,,Ấp 9,Xã Tân Lập,Chi hội Ấp 9,,",
]
CUT = "19,Cắt Ngang,1990,Nữ,,,Ấp 9,Xã Tân"  # the last line, without a line break


def landed(url, batch_id: int, table: str) -> tuple[list, list]:
    with connect(url) as conn:
        rows = conn.execute(f'select to_jsonb(r) - \'batch_id\' - \'delivery_date\' from raw."{table}" r'
                            " where batch_id = %s", (batch_id,)).fetchall()
        quarantined = conn.execute("select row_number, reason_code, reason, original from raw.quarantine"
                                   " where batch_id = %s", (batch_id,)).fetchall()
    return (sorted(json.dumps(r, ensure_ascii=False, sort_keys=True) for (r,) in rows),
            sorted(json.dumps(q, ensure_ascii=False, sort_keys=True) for q in quarantined))


@pytest.mark.parametrize("mapped", [False, True], ids=["unmapped_column", "every_column_mapped"])
def test_the_bulk_landing_lands_what_the_row_path_lands(project_env, warehouse_url, women_roster, mapped):
    """With an unmapped column every row goes through the stage; with every column mapped the
    regular lines go straight into the raw table and the messy ones among them are taken back out."""
    # (A NUL in a read chunk sends all its lines to the reader: not in the second file.)
    lines = [line.rsplit(",", 1)[0] if mapped else line for line in MESSY if not (mapped and "\x00" in line)]
    path = women_roster("2026-11-27", lines, header=WOMEN_HEADER if mapped else HEADER)
    path.write_bytes(path.read_bytes() + CUT.encode())
    org = get_organisation("hoi_lhpn")
    entity = org.entity("roster")
    assert open_file(path, entity).cells() is not None  # this header takes the bulk path
    if mapped:  # most lines go to COPY as they are
        from lienthong.sources.base import LineRun

        runs = [b for b in open_file(path, entity).cells().blocks if isinstance(b, LineRun)]
        assert sum(r.text.count("\n") for r in runs) >= 9
    by_row = dataclasses.replace(open_file(path, entity), cells=None, checksum="the row path")
    with connect(warehouse_url) as conn:
        bulk = land_delivery(conn, org, open_file(path, entity), date(2026, 11, 27))
        rows = land_delivery(conn, org, by_row, date(2026, 11, 28))
    assert (bulk.status, bulk.row_count, bulk.quarantined_count, bulk.note) == \
        (rows.status, rows.row_count, rows.quarantined_count, rows.note)
    # Every line accounted for: 19 lines after the header, two of them blank; the cut last line holds the batch.
    assert (bulk.status, bulk.row_count + bulk.quarantined_count) == ("held", 16 if mapped else 17)
    assert landed(warehouse_url, bulk.batch_id, "hoi_lhpn__roster") == \
        landed(warehouse_url, rows.batch_id, "hoi_lhpn__roster")


def test_lines_sent_as_they_are_and_lines_the_reader_takes_land_alike(project_env, warehouse_url, women_roster):
    """Over more than one read chunk: regular lines go to COPY as they are (LineRun), irregular
    ones (a blank line, a short row, a quote inside a value, a quote left open across the chunk
    boundary, a chunk with mixed line ends) to the csv reader; both land as the row path does."""
    from lienthong.sources.base import LineRun
    from lienthong.sources.files import _text_chunks

    regular = ['{n},Nguyễn Thị Lan {n},05/03/1990,Nữ,"0721900{n:05d}",,"Ấp 1, Khu ""A""",Xã Tân Lập,"",01/01/2015',
               "{n},Trần Thị Bé {n},1985,Nữ,,0912345678,Ấp 2,Xã Tân Lập,Chi hội Ấp 2,"]
    lines = [regular[n % 2].format(n=n) for n in range(1, 36_001)]
    path = women_roster("2026-11-27", lines)
    boundary = len(next(_text_chunks(path, "utf-8-sig")))  # lines in the first chunk, header included
    assert boundary < len(lines) - 100
    lines[9] = ""
    lines[10] = "11,Võ Thị Sáu,32245,Nữ"
    lines[11] = '12,Đóng",1982,Nữ,,,Ấp 7,Xã Tân Lập,Chi hội Ấp 7,,'
    lines[boundary - 31:boundary + 31] = [regular[1].format(n=n) for n in range(boundary - 31, boundary + 31)]
    lines[boundary - 30] = '"9001,Mở ngoặc,1980,Nữ,,,Ấp 7,Xã Tân Lập,Chi hội Ấp 7,,'  # closed 60 lines on
    lines[boundary + 30] = '9002,Đóng",1982,Nữ,,,Ấp 7,Xã Tân Lập,Chi hội Ấp 7,,'
    text = "\n".join([WOMEN_HEADER, *lines]) + "\n"
    tail = text.rfind("\n", 0, len(text) - 2000)
    path.write_bytes(codecs_bom() + (text[:tail] + text[tail:].replace("\n", "\r\n", 3)).encode())  # mixed ends
    org = get_organisation("hoi_lhpn")
    entity = org.entity("roster")
    blocks = list(open_file(path, entity).cells().blocks)
    runs = [b for b in blocks if isinstance(b, LineRun)]
    assert sum(r.text.count("\n") for r in runs) > 20_000
    # (line numbers: lines[i] is line i + 2) the runs resume after each irregular record, in the
    # next chunk after the quote left open across the boundary.
    assert [r.first for r in runs] == [2, 14, boundary + 33]
    assert any(isinstance(b, str) for b in blocks)  # and some lines went through the reader
    by_row = dataclasses.replace(open_file(path, entity), cells=None, checksum="the row path")
    with connect(warehouse_url) as conn:
        bulk = land_delivery(conn, org, open_file(path, entity), date(2026, 11, 27))
        rows = land_delivery(conn, org, by_row, date(2026, 11, 28))
    assert (bulk.status, bulk.row_count, bulk.quarantined_count) == (rows.status, rows.row_count, rows.quarantined_count)
    assert bulk.quarantined_count == 61 + 1  # the open quote's lines; the short row has no commune
    assert bulk.row_count + bulk.quarantined_count == len(lines) - 1  # every line but the blank one
    assert landed(warehouse_url, bulk.batch_id, "hoi_lhpn__roster") == \
        landed(warehouse_url, rows.batch_id, "hoi_lhpn__roster")


def codecs_bom() -> bytes:
    import codecs

    return codecs.BOM_UTF8


def api_delivery(tmp_path, entity, pages: list[list], name: str, bulk: bool = True, rows: bool = True):
    """A delivery of these pages of items, as the API connector spools them (rows=False: its rows()
    fail, so that only the bulk path can land it)."""
    from lienthong.sources import api
    from lienthong.sources.base import Delivery

    with api.PageSpool(tmp_path / f"{name}.json") as spool:
        for items in pages:
            spool.add(json.dumps({entity.connector.paging.items_key: items}, ensure_ascii=False).encode("utf-8"))
    counts = [len(items) for items in pages]
    def read():
        assert rows, "the row path was taken"
        return api._spooled_rows(spool, counts, entity)

    return Delivery(source=name, checksum=name, entity=entity, read=read,
                    json_pages=api.spooled_pages(spool, counts, entity.connector.paging.items_key) if bulk else None)


ITEMS = [
    {"memberCode": "CD001", "fullName": "Nguye\u0302\u0303n Văn An", "dateOfBirth": "05/03/1990", "gender": "Nam",
     "idNumber": 72190001234, "phone": " ", "unionCode": 12.0, "unionName": "", "joinedOn": None,
     "note": "ghi chú", "score": 12.50, "active": True, "blank": "\u3000"},
    {"memberCode": "CD002", "fullName": "Trần Thị Bé", "dateOfBirth": "31/02/1990", "idNumber": "'079185001234",
     "employer": False, "unionCode": -0.5},
    {"memberCode": "CD003", "fullName": "  ", "dateOfBirth": 1985},
    {"memberCode": "CD004", "fullName": "Lê Văn Cường", "dateOfBirth": "2099", "unionCode": 1e3, "Ghi chú": 7},
    {},  # an item without any value is a row (a file's blank line is none)
]


def test_api_items_mapped_in_sql_land_as_the_row_path_maps_them(project_env, warehouse_url, tmp_path):
    org = get_organisation("cong_doan")
    entity = org.entity("roster")
    pages = [ITEMS[:3], ITEMS[3:]]
    with connect(warehouse_url) as conn:
        bulk = land_delivery(conn, org, api_delivery(tmp_path, entity, pages, "bulk", rows=False), date(2026, 11, 27))
        rows = land_delivery(conn, org, api_delivery(tmp_path, entity, pages, "rows", bulk=False), date(2026, 11, 28))
    assert (bulk.row_count, bulk.quarantined_count) == (rows.row_count, rows.quarantined_count) == (1, 4)
    assert landed(warehouse_url, bulk.batch_id, "cong_doan__roster") == \
        landed(warehouse_url, rows.batch_id, "cong_doan__roster")


def test_api_pages_only_the_row_path_maps_alike_fall_back_to_it(project_env, warehouse_url, tmp_path):
    """A nested value, a number Python writes with an exponent, a NUL (no jsonb holds it): the
    delivery takes the row path, whole, and lands as it would have."""
    org = get_organisation("cong_doan")
    entity = org.entity("roster")
    odd = [{"memberCode": "CD010", "fullName": {"ho": "Lê"}}, {"memberCode": "CD011", "fullName": "An", "x": 1.5e-7},
           {"memberCode": "CD012", "fullName": "Hồ\u0000ng"}, "not an object"]
    with connect(warehouse_url) as conn:
        for number, item in enumerate(odd):
            pages = [ITEMS[:2], [item, ITEMS[3]]]
            bulk = land_delivery(conn, org, api_delivery(tmp_path, entity, pages, f"odd-{number}"), date(2026, 12, 1 + number))
            rows = land_delivery(conn, org, api_delivery(tmp_path, entity, pages, f"odd-rows-{number}", bulk=False),
                                 date(2026, 12, 11 + number))
            assert (bulk.row_count, bulk.quarantined_count) == (rows.row_count, rows.quarantined_count)
            assert landed(warehouse_url, bulk.batch_id, "cong_doan__roster") == \
                landed(warehouse_url, rows.batch_id, "cong_doan__roster")


FORMS = {
    # The name over three columns, the birth over day, month and year columns.
    "split": ({"Họ": "family_name", "Chữ lót": "middle_name", "Tên": "given_names", "Ngày": "birth_day",
               "Tháng": "birth_month", "Năm sinh": "birth_year"},
              ["Nguyễn,Văn,An,5,3,1990", "Lê,Thị,Hoa,,,1985", "Trần,, Bé ,31,2,1990", "Võ,Văn,Sáu,7,,1971",
               "Đỗ,Thị,Hà, 07 , 11 , 1966 ", "Phạm,Văn,Tư,1,1,"]),
    # The classic form: the birth written under "Nam" or under "Nữ".
    "by_sex": ({"Họ và tên": "full_name", "Nam": "birth_date_male", "Nữ": "birth_date_female"},
               ["Nguyễn Văn An,1958,", "Lê Thị Hoa,,12/03/1961", "Trần Thị Bé,, ", "Võ Văn Sáu,30/02/1950,",
                "Đỗ Thị Hà,,1966"]),
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_form_s_split_columns_land_derived_alike_on_both_paths(project_env, warehouse_url, form):
    """A birth date derived from a form's split columns (and the sex, from the column written in)
    lands the same on the bulk path as on the row path, and an impossible date made of the parts is
    quarantined with its line, not landed."""
    from lienthong.config.organisations import OrganisationConfig

    columns, lines = FORMS[form]
    org = OrganisationConfig.model_validate({
        "code": f"org_{form}", "name": "Tổ chức thử", "short_name": "TC thử", "member_word": "hội viên",
        "owner": "test", "entities": [{"kind": "roster", "columns": columns, "required": ["birth_date"],
                                        "connector": {"type": "file", "path": "f/{date}/ds.csv", "format": "csv"}}]})
    entity = org.entity("roster")
    path = project_env / "drop" / "f" / "2026-11-27" / "ds.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join([",".join(columns), *lines]) + "\n", encoding="utf-8")
    assert open_file(path, entity).cells() is not None  # the bulk path takes it
    by_row = dataclasses.replace(open_file(path, entity), cells=None, checksum="the row path")
    with connect(warehouse_url) as conn:
        bulk = land_delivery(conn, org, open_file(path, entity), date(2026, 11, 27))
        rows = land_delivery(conn, org, by_row, date(2026, 11, 28))
        births = dict(conn.execute(f"select row_number, concat_ws(' ', birth_date, to_jsonb(r) ->> 'sex') from raw.org_{form}__roster r"
                                   " where batch_id = %s", (bulk.batch_id,)).fetchall())
        reasons = conn.execute("select row_number, reason_code from raw.quarantine where batch_id = %s"
                               " order by row_number", (bulk.batch_id,)).fetchall()
    assert landed(warehouse_url, bulk.batch_id, f"org_{form}__roster") == \
        landed(warehouse_url, rows.batch_id, f"org_{form}__roster")
    if form == "split":
        assert births == {2: "1990-3-5", 3: "1985", 5: "1971", 6: "1966-11-07"}
        assert reasons == [(4, "unreadable_birth_date"), (7, "missing_required")]
    else:
        assert births == {2: "1958 M", 3: "12/03/1961 F", 6: "1966 F"}
        assert reasons == [(4, "missing_required"), (5, "unreadable_birth_date")]


FARMERS_HEADER = ["TT", "Mã hội viên", "Họ", "Tên đệm và tên", "Ngày tháng năm sinh", "Nam/Nữ", "CMND/CCCD",
                  "Điện thoại", "Địa chỉ", "Chi hội", "Ngày kết nạp"]
FARMERS = [
    [1.0, "ND001", "Nguyễn", "Văn An", date(1990, 3, 5), "Nam", "072190001234", 912345678.0, "Ấp 1", "Chi hội 1",
     date(2015, 1, 1)],
    [2.0, "ND002", "Lê", "Thị  Hoa ", "1985", "Nữ", "'079185001234", "", "Ấp 2, \"Xóm\" 3", "Chi hội 2", ""],
    [3.0, "ND003", "Trần", "   ", "1970", "Nam", "", "", "Ấp 2", "Chi hội 2", ""],          # no given names
    [4.0, "ND004", "Phạm", "Văn Tư", "31/02/1990", "Nam", "07218800ABCD", "", "Ấp 3", "", ""],  # no such day; ID aside
    ["", "", "", "", "", "", "", "", "", "", ""],                                          # a blank row
    [6.0, "ND006", "Võ", "Nguye\u0302\u0303n Sáu", 1971.0, "Nam", "\u00a0", "", "Ấp 4", "Chi hội 4", 2.5],  # NFD; 2.5
]


def test_a_sheet_s_rows_land_on_the_bulk_path_as_on_the_row_path(project_env, warehouse_url):
    """An XLSX sheet's rows (of the header's width: calamine gives every row the sheet's) go
    straight into the raw table as NumberedRows, the messy ones taken back out; they land as the
    row path lands them."""
    import xlsxwriter

    from lienthong.sources.base import NumberedRows

    org = get_organisation("hoi_nd")
    entity = org.entity("roster")
    path = project_env / "drop" / "hoi_nd" / "2026-11-27" / "danh_sach_hoi_vien.xlsx"
    path.parent.mkdir(parents=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet(entity.connector.sheet)
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, FARMERS_HEADER)
    for number, row in enumerate(FARMERS, start=1):
        for column, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(number, column, dt.datetime(value.year, value.month, value.day), dates)
            else:
                sheet.write(number, column, value)
    book.close()
    assert all(isinstance(b, NumberedRows) for b in open_file(path, entity).cells().blocks)
    by_row = dataclasses.replace(open_file(path, entity), cells=None, checksum="the row path")
    with connect(warehouse_url) as conn:
        bulk = land_delivery(conn, org, open_file(path, entity), date(2026, 11, 27))
        rows = land_delivery(conn, org, by_row, date(2026, 11, 28))
    assert (bulk.row_count, bulk.quarantined_count) == (rows.row_count, rows.quarantined_count) == (2, 3)
    assert landed(warehouse_url, bulk.batch_id, "hoi_nd__roster") == landed(warehouse_url, rows.batch_id, "hoi_nd__roster")
