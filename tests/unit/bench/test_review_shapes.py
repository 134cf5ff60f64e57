"""bench/review.py's delivery shapes (issue #20 tenth pass): a setting's `withheld` takes entities out
of one organisation's deliveries only (a sender of its roll and activities but no dues), roll-only
keeps every organisation's roll alone, and the roll itself cannot be withheld."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lienthong.config.organisations import load_organisations


def _sent(folder: Path) -> dict[str, list[str]]:
    configs = (yaml.safe_load(p.read_text(encoding="utf-8")) for p in folder.glob("*.yml"))
    return {c["code"]: [e["kind"] for e in c["entities"]] for c in configs}


def _quality(folder: Path, code: str) -> set[str]:
    config = yaml.safe_load((folder / f"{code}.yml").read_text(encoding="utf-8"))
    return set(yaml.safe_load((folder / config["quality_rules"]).read_text(encoding="utf-8")))


def test_withheld_dues_leave_one_organisation_without_dues(bench, tmp_path):
    review = bench("review")
    package = {org.code: [e.kind for e in org.entities] for org in load_organisations()}
    one = sorted(code for code, kinds in package.items() if "dues" in kinds)[0]
    setting = {"deliveries": "full", "withheld": {one: ["dues"]}}
    assert review._shaped(setting)
    sent = _sent(review._shaped_configs(tmp_path / "configs", setting))
    assert sent[one] == [k for k in package[one] if k != "dues"]
    assert "activities" in sent[one]
    assert {code: kinds for code, kinds in sent.items() if code != one} == {
        code: kinds for code, kinds in package.items() if code != one}
    assert "dues" not in _quality(tmp_path / "configs", one)


def test_roll_only_keeps_the_roll_alone_and_full_is_not_shaped(bench, tmp_path):
    review = bench("review")
    assert not review._shaped({"deliveries": "full"})
    sent = _sent(review._shaped_configs(tmp_path / "configs", {"deliveries": "roll_only"}))
    assert sent and all(set(kinds) <= set(review.ROLL) and "roster" in kinds for kinds in sent.values())


def test_the_roll_cannot_be_withheld_nor_an_unknown_organisation(bench, tmp_path):
    review = bench("review")
    code = load_organisations()[0].code
    with pytest.raises(ValueError, match="roll"):
        review._shaped_configs(tmp_path / "a", {"deliveries": "full", "withheld": {code: ["roster"]}})
    with pytest.raises(ValueError, match="no organisation"):
        review._shaped_configs(tmp_path / "b", {"deliveries": "full", "withheld": {"not_an_org": ["dues"]}})
