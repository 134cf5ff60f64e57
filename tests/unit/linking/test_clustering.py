from lienthong.linking.clustering import AMBIGUOUS, UNCORROBORATED, YEAR_ALONE, cluster
from lienthong.linking.conflicts import RecordFacts, RollHabits, given_spelling, id_edits, roll_habits
from lienthong.linking.policy import load_policy


def _ids(**ids):
    return {uid: RecordFacts(id=number, birth_year=1980) for uid, number in ids.items()}


def test_id_edits_count_typos_and_transpositions():
    assert id_edits("072182947378", "072182947378") == 0
    assert id_edits("072182947378", "072182947379") == 1  # one digit
    assert id_edits("072182947378", "072182943778") == 1  # adjacent swap
    assert id_edits("072208266175", "072208266716") == 2  # a swap in one record, a typo in the other
    assert id_edits("072182947378", "072182749318") > 2


def test_strongest_links_first_and_no_chaining_through_a_weak_link():
    ids = _ids(a1="cccd:072182947378", a2="cccd:072182947739", b1="cccd:080185111222", x=None)
    edges = [("a1", "a2", 0.999), ("b1", "x", 0.9999), ("a2", "x", 0.96)]
    clusters, refused = cluster(ids, edges)
    assert clusters["a1"] == clusters["a2"]          # typo'd CCCD still links
    assert clusters["b1"] == clusters["x"] != clusters["a1"]  # the weak link would join two ids
    assert [(r.uid_a, r.uid_b, r.reason) for r in refused] == [("a2", "x", "different ID numbers")]


def test_cccd_and_cmnd_of_one_person_do_not_conflict():
    clusters, refused = cluster(_ids(a="cccd:072182947378", b="cmnd:295392225"), [("a", "b", 0.99)])
    assert clusters["a"] == clusters["b"] and not refused


def test_reviewer_decisions_win():
    ids = _ids(a=None, b=None, c=None)
    clusters, refused = cluster(ids, [("a", "b", 0.999)], must_link=[("b", "c")], cannot_link=[("a", "b")])
    assert clusters["b"] == clusters["c"] != clusters["a"]
    assert refused[0].reason == "reviewer decided different people"


def test_reviewer_same_overrides_an_id_conflict():
    ids = _ids(a="cccd:072182947378", b="cccd:080185111222")
    clusters, _ = cluster(ids, [], must_link=[("a", "b")])
    assert clusters["a"] == clusters["b"]


def _person(given: str, birth: str | None, number: str | None = None, *, marked: str | None = None,
            phone: bool = False) -> RecordFacts:
    return RecordFacts(id=number, birth_date=birth, birth_year=int(birth[:4]) if birth else None,
                       given_key=given, given_marked=marked, has_phone=phone)


COUNTS = {"tam": 900, "tan": 400, "lan": 800, "laan": 2, "hung": 700, "dung": 650}


def test_twins_stay_apart_however_strong_the_link():
    """Same family, middle name, birth date, hamlet and phone: Splink is sure; the given names are not."""
    facts = {"a": _person("tam", "1990-04-02", marked="tâm"), "b": _person("tan", "1990-04-02", marked="tân"),
             "c": _person("hung", "1990-04-02"), "d": _person("minh", "1990-04-02"),
             "e": _person("tam", "1990-04-02", marked="tâm"), "f": _person("tam", "1990-04-02", marked="tám")}
    edges = [("a", "b", 0.9999), ("c", "d", 0.9999), ("e", "f", 0.9999)]
    clusters, refused = cluster(facts, edges, name_counts=COUNTS)
    assert len(set(clusters.values())) == 6
    assert [r.reason for r in refused] == ["given names one letter apart, both common names",
                                           "different given names", "given names differ by a mark"]


def test_a_typo_of_a_common_name_still_links_and_an_agreeing_id_overrides_the_rules():
    facts = {"a": _person("lan", "1970-01-15"), "b": _person("laan", None, "cccd:072170111222"),
             "c": _person("lan", "1970-01-15", "cccd:072170111222"), "d": _person("tam", "1990-04-02", "cccd:1"),
             "e": _person("tan", "1990-04-02", "cccd:1")}
    clusters, refused = cluster(facts, [("a", "c", 0.99), ("b", "c", 0.99), ("d", "e", 0.99)], name_counts=COUNTS)
    assert clusters["a"] == clusters["b"] == clusters["c"] and clusters["d"] == clusters["e"] and not refused


def test_conflicting_full_dates_refuse_but_swaps_and_placeholders_do_not():
    facts = {"a": _person("lan", "1970-03-05"), "b": _person("lan", "1970-05-03"),  # day and month swapped
             "c": _person("lan", "1970-01-01", phone=True),  # 01/01: a placeholder, the year only
             "x": _person("lan", "1970-03-06")}
    clusters, refused = cluster(facts, [("a", "b", 0.99), ("a", "c", 0.9999), ("c", "x", 0.97)], name_counts=COUNTS)
    assert clusters["a"] == clusters["b"] == clusters["c"] != clusters["x"]
    assert [(r.uid_a, r.uid_b, r.reason) for r in refused] == [("c", "x", "different dates of birth")]


def test_a_record_without_birth_date_or_id_is_left_to_a_reviewer():
    """The ghost copying a member's name; a member's own record without a date still has an ID."""
    facts = {"member": _person("lan", "1970-03-05", "cccd:072170111222"), "ghost": _person("lan", None),
             "blank_date": _person("lan", None, "cmnd:291234567")}
    edges = [("member", "ghost", 0.999), ("member", "blank_date", 0.999)]
    clusters, refused = cluster(facts, edges, name_counts=COUNTS)
    assert clusters["member"] == clusters["blank_date"] != clusters["ghost"]
    assert [r.reason for r in refused] == ["no date of birth and no ID on one side"]


def test_no_record_chains_two_people_it_agrees_with_each():
    """A year-only record fits two namesakes born apart in its year, or twins: it never joins both.
    When it fits both about as well, it joins neither and both links wait for a reviewer (its links
    taken out, the rest clustered again); when one link is much the stronger, it joins that one."""
    facts = {"one": _person("lan", "1970-03-05"), "other": _person("lan", "1970-06-05"),
             "year_only": RecordFacts(birth_year=1970, given_key="lan", has_phone=True),
             "one_again": _person("lan", "1970-03-05"),
             "twin": _person("minh", "1988-09-09", "cccd:072188000111"),
             "twin_too": _person("minh", "1988-09-09", "cccd:072188000111"),
             "twin_other": _person("minh", "1988-09-09", "cccd:072188999222"),
             "strong": RecordFacts(birth_year=1988, given_key="minh", has_phone=True)}
    edges = [("one", "year_only", 0.99), ("other", "year_only", 0.98), ("one", "one_again", 0.97),
             ("twin", "twin_too", 0.99), ("twin_other", "strong", 0.99999), ("twin", "strong", 0.97)]
    clusters, refused = cluster(facts, edges, name_counts=COUNTS)
    assert clusters["one"] == clusters["one_again"] != clusters["other"]
    assert clusters["year_only"] not in {clusters["one"], clusters["other"]}
    assert sorted((r.uid_a, r.uid_b) for r in refused if r.reason == AMBIGUOUS) == [
        ("one", "year_only"), ("other", "year_only")]
    assert clusters["twin"] == clusters["twin_too"] != clusters["twin_other"] == clusters["strong"]


def test_facts_from_a_feature_row():
    row = {"record_uid": "x", "id_number": "072170111222", "id_kind": "cccd", "birth_date": None,
           "birth_year": float("nan"), "given_key": "hanh", "name": "Lê Thị Hạnh"}
    facts = RecordFacts.from_features(row)
    assert facts == RecordFacts("cccd:072170111222", None, None, "hanh", "hạnh")
    assert RecordFacts.from_features({**row, "name": "Le Thi Hanh"}).given_marked is None


def test_a_year_that_disagrees_refuses_the_ghost_and_a_cccd_without_a_date_speaks_for_its_year():
    """Ghosts copying a member's name: one with a year-only date of another year, one with no date
    and an invented CCCD whose year digits say 1986. The member's own record without a date links
    through the year its CCCD carries."""
    facts = {"member": _person("trinh", "1977-12-29", "cmnd:302031014"),
             "ghost_year": RecordFacts(birth_year=1970, given_key="trinh"),
             "ghost_cccd": RecordFacts(id="cccd:095186903367", given_key="trinh"),
             "own_cccd": RecordFacts(id="cccd:072177123456", given_key="trinh"),
             "own_year": RecordFacts(birth_year=1977, given_key="trinh")}
    edges = [("member", "ghost_year", 0.998), ("member", "ghost_cccd", 0.999), ("member", "own_cccd", 0.99),
             ("member", "own_year", 0.99)]
    clusters, refused = cluster(facts, edges, name_counts=COUNTS)
    assert clusters["member"] == clusters["own_cccd"] == clusters["own_year"]
    assert clusters["ghost_year"] != clusters["member"] != clusters["ghost_cccd"]
    assert [r.reason for r in refused] == ["different years of birth"] * 2


def test_an_id_one_typo_away_vouches_for_a_record_without_a_date():
    """A typo in the CCCD's year digits ("1906") makes it implausible and gives it another year:
    one typo from the member's CCCD, it is still theirs. Not so for a full date that differs."""
    facts = {"member": _person("hieu", "1996-08-19", "cccd:072096054957"),
             "typo_year": RecordFacts(id="cccd:072006054957", given_key="hieu"),
             "namesake": _person("hieu", "1996-03-02", "cccd:072096054958"),
             "other": _person("minh", "1997-03-06", "cccd:083097794078"),
             "typo_province": RecordFacts(id="cccd:883097794078", given_key="minh")}
    edges = [("member", "typo_year", 0.999), ("other", "typo_province", 0.999), ("member", "namesake", 0.99)]
    clusters, refused = cluster(facts, edges, name_counts=COUNTS)
    assert clusters["member"] == clusters["typo_year"] != clusters["namesake"]
    assert clusters["other"] == clusters["typo_province"]
    assert [r.reason for r in refused] == ["different dates of birth"]


def test_a_typo_does_not_change_the_tone_so_twins_with_a_typo_stay_apart():
    """Twins "Quỳnh" / "Quỵnh", one written "Quỳỳnh": one letter apart (a typo, not a name) but the
    tones differ. A true typo ("Bíích" for "Bích") keeps the tone and links."""
    facts = {"a": _person("quyynh", "1995-11-27", marked="quỳỳnh"), "b": _person("quynh", "1995-11-27", marked="quỵnh"),
             "c": _person("biich", "1974-03-17", marked="bíích"), "d": _person("bich", "1974-03-17", marked="bích")}
    clusters, refused = cluster(facts, [("a", "b", 0.9999), ("c", "d", 0.999)], name_counts=COUNTS)
    assert clusters["a"] != clusters["b"] and clusters["c"] == clusters["d"]
    assert [r.reason for r in refused] == ["given names one letter apart, different tones"]


def test_a_link_needs_more_than_name_and_place():
    """Records padded into a roll with a member's name, hamlet and phone: one with a made-up date and
    no ID next to the member's entry without a date; one whose invented CCCD says 1936 while its own
    date says 1968. Neither shares an ID, a date or a year with the member, so the merge waits for a
    reviewer. One person's records share at least one: an agreeing year, or each its own ID (the
    old CMND in one roll, the new CCCD in another)."""
    facts = {"member": RecordFacts(id="cmnd:290577410", given_key="dung"),
             "padded": RecordFacts(birth_date="1984-09-19", birth_year=1984, given_key="dung"),
             "other_member": RecordFacts(id="cmnd:021741653", given_key="minh"),
             "invented_id": RecordFacts(id="cccd:054136581317", birth_date="1968-03-29", birth_year=1968,
                                        given_key="minh", id_consistent=False),
             "cmnd_entry": RecordFacts(id="cmnd:293605933", given_key="lan"),
             "cccd_entry": _person("lan", "1933-08-25", "cccd:072133491726"),
             "year_entry": RecordFacts(id="cmnd:309530660", birth_year=1983, given_key="hien"),
             "date_entry": RecordFacts(birth_date="1983-01-24", birth_year=1983, given_key="hien")}
    edges = [("member", "padded", 0.9992), ("other_member", "invented_id", 0.9992),
             ("cmnd_entry", "cccd_entry", 0.9999), ("year_entry", "date_entry", 0.9999)]
    clusters, refused = cluster(facts, edges, name_counts=COUNTS)
    assert clusters["member"] != clusters["padded"] and clusters["other_member"] != clusters["invented_id"]
    assert clusters["cmnd_entry"] == clusters["cccd_entry"] and clusters["year_entry"] == clusters["date_entry"]
    assert [(r.uid_a, r.uid_b, r.reason) for r in refused] == [("member", "padded", UNCORROBORATED),
                                                                ("other_member", "invented_id", UNCORROBORATED)]


def test_a_bare_entry_needs_more_than_the_year_against_a_documented_record():
    """A copy padded into a roll with a member's name and hamlet, no ID, no phone and a made-up date
    whose year happens to be the member's (one time in fifty) agrees with the member's full date and
    ID on the year alone: the merge waits for a reviewer. An entry with a phone or its own ID, one
    next to a record with a date and no ID, or two entries that both know only the year, still link."""
    facts = {"member": _person("thu", "1988-06-05", "cmnd:293939857"),
             "copy": RecordFacts(birth_year=1988, given_key="thu"),
             "lan": _person("lan", "1974-07-29", "cccd:072174261083"),
             "lan_phone": RecordFacts(birth_year=1974, given_key="lan", has_phone=True),
             "hoa": _person("hoa", "1980-02-11", "cccd:072180123456"),
             "hoa_cmnd": RecordFacts(id="cmnd:291234567", birth_year=1980, given_key="hoa"),
             "minh": RecordFacts(birth_year=1990, given_key="minh"),
             "minh_too": RecordFacts(birth_date="1990-01-01", birth_year=1990, given_key="minh"),
             "tam": _person("tam", "1966-06-07"), "tam_bare": RecordFacts(birth_year=1966, given_key="tam")}
    edges = [("member", "copy", 0.9985), ("lan", "lan_phone", 0.999), ("hoa", "hoa_cmnd", 0.999),
             ("minh", "minh_too", 0.999), ("tam", "tam_bare", 0.999)]
    clusters, refused = cluster(facts, edges, name_counts=COUNTS)
    assert clusters["member"] != clusters["copy"]
    assert clusters["lan"] == clusters["lan_phone"] and clusters["hoa"] == clusters["hoa_cmnd"]
    assert clusters["minh"] == clusters["minh_too"] and clusters["tam"] == clusters["tam_bare"]
    assert [(r.uid_a, r.uid_b, r.reason) for r in refused] == [("member", "copy", YEAR_ALONE)]
    assert RecordFacts.from_features({"given_key": "thu", "birth_year": 1988, "phone": "0912345678"}).has_phone


def test_a_bare_entry_is_judged_against_what_its_roll_writes():
    """A roll that writes only the year and has no phone column (most records without either) writes
    every member without an ID as name, place and year: such an entry lacks nothing its roll gives
    the others, so it links to the member's documented record on the year. The same entry on a roll
    that writes phones and full dates for most of its records, or on one that writes full dates but
    no phones, is still refused: there it lacks what the others have."""
    habits = roll_habits({"year_only_roll": (0.0, 0.0), "documented_roll": (0.7, 0.9),
                          "dates_no_phones": (0.0, 0.85)}, load_policy())
    assert habits["year_only_roll"] == RollHabits(phones=False, full_dates=False)
    assert habits["documented_roll"] == RollHabits() and habits["dates_no_phones"] == RollHabits(False, True)

    def entry(org: str) -> RecordFacts:
        return RecordFacts.from_features({"org_code": org, "birth_year": 1995, "given_key": "dung",
                                          "name": "HUỲNH TUYẾT DUNG"}, habits)

    facts = {"member": _person("dung", "1995-06-01", "cccd:072195001234"), "year_only": entry("year_only_roll"),
             "documented": entry("documented_roll"), "dates_no_phones": entry("dates_no_phones")}
    assert not facts["year_only"].bare and facts["documented"].bare and facts["dates_no_phones"].bare
    for uid in ("year_only", "documented", "dates_no_phones"):
        clusters, refused = cluster({"member": facts["member"], uid: facts[uid]}, [("member", uid, 0.9999)],
                                    name_counts=COUNTS)
        assert (clusters["member"] == clusters[uid]) is (uid == "year_only")
        assert [r.reason for r in refused] == ([] if uid == "year_only" else [YEAR_ALONE])
    # A source the habits do not know (no records read yet) is read as writing both, as before.
    assert RecordFacts.from_features({"org_code": "new_roll", "birth_year": 1995}, habits).bare


def test_an_id_that_contradicts_its_own_record_is_not_taken_for_the_persons():
    row = {"record_uid": "x", "id_number": "054136581317", "id_kind": "cccd", "birth_date": "1968-03-29",
           "birth_year": 1968, "given_key": "minh", "name": "Lê Hữu Minh", "id_consistent": False}
    assert not RecordFacts.from_features(row).plausible_id
    assert RecordFacts.from_features({**row, "id_consistent": None}).plausible_id
    assert RecordFacts.from_features({**row, "id_consistent": True}).plausible_id


def test_a_typo_keeps_the_marks_of_the_letters_it_does_not_touch():
    """Twins "Lan" / "Lành" and "Quân" / "Quang", each second name rare in the input (so not caught as
    two common names): a typo drops, doubles, swaps or replaces letters, but the letters it leaves
    keep their vowel marks and the syllable keeps its tone (unless the typo took the letter carrying
    it). Typos of the same names ("Lnh", "Quâng", "Hoàn" for "Hòa") still link."""
    counts = {"lan": 800, "lanh": 3, "quan": 700, "quang": 20, "lnh": 1, "hoa": 600, "hoan": 4}
    facts = {"lan": _person("lan", "1990-04-02", marked="lan"), "lanh": _person("lanh", "1990-04-02", marked="lành"),
             "quan": _person("quan", "1985-07-09", marked="quân"),
             "quang": _person("quang", "1985-07-09", marked="quang"),
             "lanh2": _person("lanh", "1971-02-03", marked="lành"), "lnh": _person("lnh", "1971-02-03", marked="lnh"),
             "quan2": _person("quan", "1966-05-06", marked="quân"),
             "quang2": _person("quang", "1966-05-06", marked="quâng"),
             "hoa": _person("hoa", "1979-08-30", marked="hòa"), "hoan": _person("hoan", "1979-08-30", marked="hoàn")}
    edges = [("lan", "lanh", 0.9999), ("quan", "quang", 0.9999), ("lanh2", "lnh", 0.999), ("quan2", "quang2", 0.999),
             ("hoa", "hoan", 0.999)]
    clusters, refused = cluster(facts, edges, name_counts=counts)
    assert clusters["lan"] != clusters["lanh"] and clusters["quan"] != clusters["quang"]
    assert clusters["lanh2"] == clusters["lnh"] and clusters["quan2"] == clusters["quang2"]
    assert clusters["hoa"] == clusters["hoan"]
    assert [r.reason for r in refused] == ["given names one letter apart, different tones",
                                           "given names one letter apart, different vowel marks"]



def test_a_spelling_is_a_name_when_common_as_written_not_by_its_unaccented_key():
    """"Hơng" (a typo of Hương) has the key of Hồng, a common name: as written it is rare, so the
    typo links; twins "Tâm" / "Tân" are both common as written and stay apart. Without marks on
    one side the keys decide, as before."""
    keys = {"huong": 900, "hong": 800, "tam": 900, "tan": 400}
    spellings = {"hương": 880, "hồng": 780, "hơng": 6, "tâm": 870, "tân": 390}
    facts = {"a": _person("huong", "1972-10-02", marked="hương"), "b": _person("hong", "1972-10-02", marked="hơng"),
             "c": _person("tam", "1990-04-02", marked="tâm"), "d": _person("tan", "1990-04-02", marked="tân"),
             "e": _person("huong", "1968-08-24", marked="hương"), "f": _person("hong", "1968-08-24")}
    edges = [("a", "b", 0.9999), ("c", "d", 0.9999), ("e", "f", 0.9999)]
    clusters, refused = cluster(facts, edges, name_counts=keys, spelling_counts=spellings)
    assert clusters["a"] == clusters["b"]
    assert clusters["c"] != clusters["d"] and clusters["e"] != clusters["f"]
    assert [r.reason for r in refused] == ["given names one letter apart, both common names"] * 2
    clusters, _ = cluster(facts, edges, name_counts=keys)  # by keys alone the typo looks like Hồng
    assert clusters["a"] != clusters["b"]


def test_the_given_name_as_written():
    assert given_spelling("Huỳnh Thị Hơng") == "hơng" and given_spelling("Nguyễn Thị Lan") == "lan"
    assert given_spelling("Nguyen Thi Lan") is None and given_spelling(None) is None and given_spelling(" ") is None


def test_a_typo_repeated_on_a_sloppy_roll_is_still_no_name():
    """"Khiêmm" (a doubled letter) and "Khiêm" are one letter apart and, on a roll that repeats the
    typo, both common enough to count as names; but "Khiêmm" is no Vietnamese syllable, so it is a
    typo and links. "Tâm" / "Tân" (twins) are both syllables and stay apart; so do "Thư" / "Tư"
    (a typo that makes another real name still goes to review). By keys alike ("laan" / "lan")."""
    spellings = {"khiêm": 20, "khiêmm": 3, "tâm": 870, "tân": 390, "thư": 500, "tư": 300}
    keys = {"khiem": 20, "khiemm": 3, "tam": 900, "tan": 400, "thu": 520, "tu": 310, "lan": 40, "laan": 4}
    facts = {"a": _person("khiem", "1980-03-05", marked="khiêm"), "b": _person("khiemm", "1980-03-05", marked="khiêmm"),
             "c": _person("tam", "1990-04-02", marked="tâm"), "d": _person("tan", "1990-04-02", marked="tân"),
             "e": _person("thu", "1975-06-07", marked="thư"), "f": _person("tu", "1975-06-07", marked="tư"),
             "g": _person("lan", "1966-02-03"), "h": _person("laan", "1966-02-03")}
    edges = [("a", "b", 0.9999), ("c", "d", 0.9999), ("e", "f", 0.9999), ("g", "h", 0.9999)]
    clusters, refused = cluster(facts, edges, name_counts=keys, spelling_counts=spellings)
    assert clusters["a"] == clusters["b"] and clusters["g"] == clusters["h"]
    assert clusters["c"] != clusters["d"] and clusters["e"] != clusters["f"]
    assert [r.reason for r in refused] == ["given names one letter apart, both common names"] * 2


def test_which_words_can_be_vietnamese_syllables():
    from lienthong.text import is_syllable

    for word in ("Hương", "Quỳnh", "huong", "Nguyệt", "Khuyên", "Thủy", "Gì", "Hoè", "Khuya", "Ý", "ĐÀO"):
        assert is_syllable(word), word
    for word in ("Hươngg", "Laan", "Quỳỳnh", "Hơng", "Lnah", "Tââm", "Hùnng", ""):
        assert not is_syllable(word), word


def test_two_entries_of_one_roll_a_letter_replaced_apart_are_two_people():
    """Twins "Vinh" / "Ving" on one roll, same date: the second spelling is rare and no syllable, so
    across rolls it reads as a typo and links; on one roll, which lists a member once, it is a twin.
    A dropped, doubled or swapped letter ("Trag", "Thuuy", "Ahnh") on one roll is still a slip of the
    same entry, and an ID shared by both entries lifts the rule."""
    def entry(roll: str, given: str, number: str | None = None) -> RecordFacts:
        return RecordFacts(id=number, birth_date="2000-09-29", birth_year=2000, given_key=given, source=roll)

    counts = {"vinh": 500, "ving": 1, "trang": 400, "trag": 1, "hanh": 600, "ahnh": 1}
    for other_roll, linked in (("youth", False), ("red_cross", True)):
        facts = {"a": entry("youth", "vinh"), "b": entry(other_roll, "ving")}
        clusters, refused = cluster(facts, [("a", "b", 0.9999)], name_counts=counts)
        assert (clusters["a"] == clusters["b"]) is linked
        assert [r.reason for r in refused] == ([] if linked else ["one roll, given names a letter replaced apart"])
    facts = {"a": entry("youth", "trang"), "b": entry("youth", "trag"),
             "c": entry("women", "vinh", "cccd:072200192916"), "d": entry("women", "ving", "cccd:072200192916"),
             "e": entry("women", "hanh"), "f": entry("women", "ahnh")}
    clusters, refused = cluster(facts, [("a", "b", 0.9999), ("c", "d", 0.9999), ("e", "f", 0.9999)],
                                name_counts=counts)
    assert clusters["a"] == clusters["b"] and clusters["c"] == clusters["d"] and clusters["e"] == clusters["f"]
    assert not refused
    row = {"record_uid": "x", "org_code": "youth", "sex": "male", "given_key": "vinh"}
    assert RecordFacts.from_features(row).source == "youth" and RecordFacts.from_features(row).sex == "male"


def test_a_brother_and_sister_born_together_stay_apart():
    """"Huỳnh Văn Dy" and "Huỳnh Thị Ly", same date, hamlet and household phone: one person's records
    agree on the sex; an ID both carry lifts the rule, a record without a sex says nothing."""
    def twin(given: str, sex: str | None, number: str | None = None) -> RecordFacts:
        return RecordFacts(id=number, birth_date="1998-05-18", birth_year=1998, given_key=given, sex=sex,
                           has_phone=True)

    facts = {"dy": twin("dy", "male", "cccd:072098750252"), "ly": twin("ly", "female"),
             "dy_again": twin("dy", None), "ly_id": twin("ly", "female", "cccd:072098750252")}
    clusters, refused = cluster({k: facts[k] for k in ("dy", "ly")}, [("dy", "ly", 0.9999)],
                                name_counts={"dy": 50, "ly": 300})
    assert clusters["dy"] != clusters["ly"] and [r.reason for r in refused] == ["different sexes"]
    clusters, refused = cluster(facts, [("dy", "dy_again", 0.9999), ("dy", "ly_id", 0.9998)],
                                name_counts={"dy": 50, "ly": 300})
    assert clusters["dy"] == clusters["dy_again"] == clusters["ly_id"] and not refused


def test_a_sex_the_name_contradicts_says_nothing_against_a_pair():
    """A clerical slip ("Nguyễn Thị Lan" written male) or a roll whose 1/0 sex codes were configured the
    wrong way round must not keep one person's records apart; a sister beside her brother still does."""
    def facts(name: str, sex: str) -> RecordFacts:
        return RecordFacts.from_features({"record_uid": name, "name": name, "sex": sex, "given_key": name.split()[-1]})

    assert facts("Nguyễn Thị Lan", "male").sex is None and facts("Trần Văn Bé", "female").sex is None
    assert facts("Nguyễn Thị Lan", "female").sex == "female" and facts("Lê Minh Tú", "male").sex == "male"
    assert facts("Huỳnh Thị Ly", "female").sex == "female" and facts("Huynh Van Dy", "male").sex == "male"


def test_twins_whose_names_differ_in_the_first_letter_stay_apart():
    """"Bùi Mỹ Châu" / "Bùi Mỹ Thâu", same date and hamlet, on two rolls: a slip keeps a name's first
    letter, so another first letter is another name however rare; a letter replaced further on
    ("Huyền" / "Huuền") is still a typo, and an ID both carry lifts the rule."""
    def entry(roll: str, given: str, number: str | None = None) -> RecordFacts:
        return RecordFacts(id=number, birth_date="2004-02-13", birth_year=2004, given_key=given, source=roll)

    counts = {"chau": 500, "thau": 1, "huyen": 600, "huuen": 1}
    facts = {"chau": entry("women", "chau"), "thau": entry("farmers", "thau"),
             "huyen": entry("youth", "huyen"), "huuen": entry("farmers", "huuen"),
             "chau_id": entry("women", "chau", "cccd:072304872726"), "thau_id": entry("farmers", "thau", "cccd:072304872726")}
    clusters, refused = cluster(facts, [("chau", "thau", 0.9994), ("huyen", "huuen", 0.9999),
                                        ("chau_id", "thau_id", 0.9999)], name_counts=counts)
    assert clusters["chau"] != clusters["thau"] and [r.reason for r in refused] == ["given names with different first letters"]
    assert clusters["huyen"] == clusters["huuen"] and clusters["chau_id"] == clusters["thau_id"]


def test_a_name_a_letter_apart_with_another_phone_is_two_people():
    """Twins "Oanh" / "Oang", same date and hamlet, each with their own number: a typo is one slip, not a
    typo and another phone. The same name with another number (a changed phone), a letter apart with the
    same number or with a placeholder number (one no one has) on one side still link."""
    def entry(given: str, phone: str | None, number: str | None = None) -> RecordFacts:
        return RecordFacts.from_features({"given_key": given, "birth_date": "2007-05-27", "birth_year": 2007,
                                          "phone": phone, "id_kind": "cccd" if number else None, "id_number": number})

    counts = {"oanh": 300, "oang": 1}
    facts = {"a": entry("oanh", "0897193134", "080307717896"), "b": entry("oang", "0704896307"),
             "c": entry("oanh", "0897193134", "080307717896"), "d": entry("oanh", "0704896307"),
             "e": entry("oanh", "0938851207", "080307717897"), "f": entry("oang", "0938851207"),
             "g": entry("oanh", "0900000000", "080307717898"), "h": entry("oang", "0704896308")}
    assert facts["g"].has_phone and facts["g"].phone is None
    clusters, refused = cluster(facts, [("a", "b", 0.9985), ("c", "d", 0.9985), ("e", "f", 0.9985), ("g", "h", 0.9985)],
                                name_counts=counts)
    assert clusters["a"] != clusters["b"] and [r.reason for r in refused] == ["given names a letter apart, different phones"]
    assert clusters["c"] == clusters["d"] and clusters["e"] == clusters["f"] and clusters["g"] == clusters["h"]


def test_siblings_with_other_middle_names_stay_apart():
    """"Võ Bảo Phút" / "Võ Thanh Phút", same date and hamlet: siblings. One of two middle names written
    ("Thị Ngọc" / "Ngọc"), none written, or a typo in it says nothing; an ID both carry lifts the rule."""
    def entry(middle: str | None, number: str | None = None) -> RecordFacts:
        return RecordFacts.from_features({"given_key": "phut", "middle_key": middle, "birth_date": "2008-01-31",
                                          "birth_year": 2008, "id_kind": "cccd" if number else None,
                                          "id_number": number})

    facts = {"bao": entry("bao"), "thanh": entry("thanh"), "thi_ngoc": entry("thi ngoc"), "ngoc": entry("ngoc"),
             "none": entry(None), "thi": entry("thi"), "thii": entry("thii"),
             "bao_id": entry("bao", "080308577534"), "thanh_id": entry("thanh", "080308577534")}
    edges = [("bao", "thanh", 0.9949), ("thi_ngoc", "ngoc", 0.999), ("ngoc", "none", 0.999), ("thi", "thii", 0.999),
             ("bao_id", "thanh_id", 0.999)]
    clusters, refused = cluster(facts, edges, name_counts={"phut": 10})
    assert clusters["bao"] != clusters["thanh"] and [r.reason for r in refused] == ["different middle names"]
    assert clusters["thi_ngoc"] == clusters["ngoc"] == clusters["none"] and clusters["thi"] == clusters["thii"]
    assert clusters["bao_id"] == clusters["thanh_id"]
