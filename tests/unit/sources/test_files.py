from datetime import date

import pytest

from lienthong.config.organisations import get_organisation
from lienthong.sources.files import SourceFileError, find_delivery

ROSTER = get_organisation("hoi_lhpn").entity("roster")


def test_rows_are_mapped_to_canonical_fields_nfc_with_line_numbers(tmp_path, women_roster):
    nfd_name = "Tra\u0302\u0300n Thi\u0323 Thu\u0301y"  # decomposed, as some old tools write it
    women_roster("2026-11-27", [f"1,{nfd_name},05/03/1990,Nữ,072190001234,,Ấp 1,Phường Tân Ninh,Chi hội 1,"])
    delivery = find_delivery(ROSTER, tmp_path / "drop", date(2026, 11, 27))
    [row] = list(delivery.rows())
    assert row.row_number == 2
    assert row.values["full_name"] == "Trần Thị Thúy"
    assert row.values["joined_on"] is None
    assert len(delivery.checksum) == 64


def test_no_file_for_the_day_is_no_delivery(tmp_path):
    assert find_delivery(ROSTER, tmp_path / "drop", date(2026, 11, 27)) is None


def test_unmapped_columns_are_kept_not_dropped(tmp_path, women_roster):
    header = "STT,Họ và tên,Ngày sinh,Giới tính,Số CCCD,Số điện thoại,Ấp/Khu phố,Xã/Phường,Chi hội,Ngày vào hội,Ghi chú"
    women_roster("2026-11-27", ["1,Lê Thị Hoa,,,,,,Xã Tân Lập,,,chuyển đến"], header=header)
    [row] = list(find_delivery(ROSTER, tmp_path / "drop", date(2026, 11, 27)).rows())
    assert row.extra == {"Ghi chú": "chuyển đến"}


def test_missing_required_column_names_the_file(tmp_path, women_roster):
    path = women_roster("2026-11-27", ["1,Lê Thị Hoa"], header="STT,Họ và tên")
    with pytest.raises(SourceFileError) as err:
        list(find_delivery(ROSTER, tmp_path / "drop", date(2026, 11, 27)).rows())
    assert str(path) in str(err.value) and "Xã/Phường" in str(err.value)


def test_a_configured_header_the_file_lacks_is_an_error_unless_optional(tmp_path, women_roster):
    header = "STT,Họ và tên,Ngày sinh,Giới tính,Số CCCD,Số điện thoại,Ấp/Khu phố,Xã/Phường,Chi hội,Ngày vào hội"
    path = women_roster("2026-11-27", ["1,Lê Thị Hoa,,,,,,Xã Tân Lập,"], header=header.replace(",Ngày vào hội", ""))
    with pytest.raises(SourceFileError) as err:
        list(find_delivery(ROSTER, tmp_path / "drop", date(2026, 11, 27)).rows())
    assert str(path) in str(err.value) and "Ngày vào hội" in str(err.value) and "optional" in str(err.value)

    lenient = ROSTER.model_copy(update={"optional": ("Ngày vào hội",)})
    [row] = list(find_delivery(lenient, tmp_path / "drop", date(2026, 11, 27)).rows())
    assert row.values["joined_on"] is None and row.values["commune"] == "Xã Tân Lập"


def test_undecodable_bytes_name_the_file_and_the_encoding(tmp_path, women_roster):
    path = women_roster("2026-11-27", ["1,Lê Thị Hoa,,,,,,Xã Tân Lập,,"], encoding="utf-16")
    with pytest.raises(SourceFileError) as err:
        list(find_delivery(ROSTER, tmp_path / "drop", date(2026, 11, 27)).rows())
    assert str(path) in str(err.value) and "utf-8-sig" in str(err.value)


@pytest.mark.parametrize("link", ["file", "day_folder", "dangling"])
def test_symbolic_links_in_the_drop_folder_are_refused_naming_the_file_not_its_content(tmp_path, link):
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:secret-first-line\n")
    day = tmp_path / "drop" / "hoi_lhpn" / "2026-11-27"
    if link == "day_folder":  # a linked folder: the file itself is regular
        (secret.parent / "hoi_vien.csv").write_text("STT,Họ và tên\n")
        day.parent.mkdir(parents=True)
        day.symlink_to(secret.parent, target_is_directory=True)
    else:
        day.mkdir(parents=True)
        (day / "hoi_vien.csv").symlink_to(secret if link == "file" else tmp_path / "gone.csv")
    with pytest.raises(SourceFileError) as err:
        find_delivery(ROSTER, tmp_path / "drop", date(2026, 11, 27))
    assert "symbolic link" in str(err.value) and str(tmp_path / "drop" / "hoi_lhpn") in str(err.value)
    assert "secret" not in str(err.value)


def test_anything_but_a_regular_file_is_refused(tmp_path):
    import os

    path = tmp_path / "drop" / "hoi_lhpn" / "2026-11-27" / "hoi_vien.csv"
    path.parent.mkdir(parents=True)
    os.mkfifo(path)  # reading a FIFO would hang the ingest
    with pytest.raises(SourceFileError, match="not a regular file"):
        find_delivery(ROSTER, tmp_path / "drop", date(2026, 11, 27))


TITLE_BLOCK = ["ỦY BAN MTTQ VIỆT NAM XÃ TÂN LẬP,,,,,CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
               '"DANH SÁCH HỘI VIÊN CHI HỘI ẤP 1, XÃ TÂN LẬP"', "", "(Cập nhật đến ngày 27/11/2026)"]


def test_a_title_block_above_the_header_is_read_past_and_lines_keep_their_numbers(tmp_path, women_roster):
    from tests.conftest import WOMEN_HEADER
    from lienthong.sources.files import file_header, open_file

    rows = ["1,Lê Thị Hoa,05/03/1990,Nữ,,,Ấp 1,Xã Tân Lập,Chi hội 1,", "2,Trần Thị Bé,1985,Nữ,,,Ấp 1,Xã Tân Lập,,"]
    path = women_roster("2026-11-27", rows, header="\n".join([*TITLE_BLOCK, WOMEN_HEADER]))
    delivery = find_delivery(ROSTER, tmp_path / "drop", date(2026, 11, 27))
    assert [(r.row_number, r.values["full_name"]) for r in delivery.rows()] == [(6, "Lê Thị Hoa"), (7, "Trần Thị Bé")]
    assert file_header(path, ROSTER) == WOMEN_HEADER.split(",")
    # The bulk path (the file's own lines, COPYed as they are) numbers the rows the same way.
    blocks = list(open_file(path, ROSTER).cells().blocks)
    assert [(b.first, b.text.splitlines()) for b in blocks] == [(6, rows)]


def test_no_header_among_the_first_rows_names_the_missing_headers(tmp_path, women_roster):
    path = women_roster("2026-11-27", ["1,Lê Thị Hoa"], header="\n".join(TITLE_BLOCK))
    with pytest.raises(SourceFileError) as err:
        list(find_delivery(ROSTER, tmp_path / "drop", date(2026, 11, 27)).rows())
    assert str(path) in str(err.value) and "Xã/Phường" in str(err.value) and "first 20" in str(err.value)


def test_an_xlsx_title_block_is_read_past_too(tmp_path):
    import xlsxwriter

    entity = get_organisation("hoi_nd").entity("roster")
    path = tmp_path / "drop" / entity.connector.path.format(date="2026-11-27")
    path.parent.mkdir(parents=True)
    header = list(entity.columns)
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet(entity.connector.sheet)
        sheet.merge_range(0, 0, 0, len(header) - 1, "DANH SÁCH HỘI VIÊN HỘI NÔNG DÂN XÃ TÂN LẬP")
        sheet.write_row(2, 0, header)
        sheet.write_row(3, 0, [1, "ND-1", "Nguyễn", "Văn An", "1970", "Nam", "", "", "Ấp 1", "Chi hội Ấp 1", ""])
    [row] = list(find_delivery(entity, tmp_path / "drop", date(2026, 11, 27)).rows())
    assert (row.row_number, row.values["given_names"], row.values["member_code"]) == (4, "Văn An", "ND-1")


FORM = {"Họ và tên": "full_name", "Nam": "birth_date_male", "Nữ": "birth_date_female", "Địa chỉ": "address"}


def _form_entity(fmt: str):
    from lienthong.config.organisations import EntityConfig

    return EntityConfig.model_validate({
        "kind": "roster", "columns": FORM,
        "connector": {"type": "file", "path": f"form/{{date}}/ds.{fmt}", "format": fmt}})


def test_a_header_over_two_rows_is_read_as_one_in_a_csv(tmp_path):
    """The Front's form: "Ngày sinh" over "Nam | Nữ", the other headers merged down both rows (their
    text in the upper row only); both paths read the rows under the second header row."""
    from lienthong.sources.files import file_header, open_file

    entity = _form_entity("csv")
    path = tmp_path / "drop" / "form" / "2026-11-27" / "ds.csv"
    path.parent.mkdir(parents=True)
    rows = ["1,Nguyễn Văn An,1958,,Ấp 1", "2,Lê Thị Hoa,,12/03/1961,Ấp 2"]
    path.write_text("\n".join(["DANH SÁCH HỘI VIÊN", "STT,Họ và tên,Ngày sinh,,Địa chỉ", ",,Nam,Nữ,", *rows]) + "\n",
                    encoding="utf-8")
    assert file_header(path, entity) == ["STT", "Họ và tên", "Nam", "Nữ", "Địa chỉ"]
    delivery = find_delivery(entity, tmp_path / "drop", date(2026, 11, 27))
    assert [(r.row_number, r.values["birth_date_male"], r.values["birth_date_female"]) for r in delivery.rows()] == \
        [(4, "1958", None), (5, None, "12/03/1961")]
    assert [(b.first, b.text.splitlines()) for b in open_file(path, entity).cells().blocks] == [(4, rows)]


def test_a_header_over_two_rows_with_merged_cells_is_read_in_an_xlsx(tmp_path):
    import xlsxwriter

    entity = _form_entity("xlsx")
    path = tmp_path / "drop" / "form" / "2026-11-27" / "ds.xlsx"
    path.parent.mkdir(parents=True)
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet()
        sheet.merge_range(0, 0, 0, 4, "DANH SÁCH HỘI VIÊN")
        sheet.merge_range(2, 0, 3, 0, "STT")
        sheet.merge_range(2, 1, 3, 1, "Họ và tên")
        sheet.merge_range(2, 2, 2, 3, "Ngày sinh")
        sheet.write_row(3, 2, ["Nam", "Nữ"])
        sheet.merge_range(2, 4, 3, 4, "Địa chỉ")
        sheet.write_row(4, 0, [1, "Nguyễn Văn An", 1958, "", "Ấp 1"])
        sheet.write_row(5, 0, [2, "Lê Thị Hoa", "", "12/03/1961", "Ấp 2"])
    rows = list(find_delivery(entity, tmp_path / "drop", date(2026, 11, 27)).rows())
    assert [(r.row_number, r.values["full_name"], r.values["birth_date_male"], r.values["birth_date_female"])
            for r in rows] == [(5, "Nguyễn Văn An", "1958", None), (6, "Lê Thị Hoa", None, "12/03/1961")]

