"""Which data tests a warehouse build runs: a night's, or every test on every row."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from lienthong.pipeline.dbt_in_airflow import FULL_TESTS, WEEKLY_TESTS_WEEKDAY, NIGHT_TESTS, data_test_flags

WEEKLY = next(date(2026, 11, 23) + timedelta(days=n) for n in range(7)
              if (date(2026, 11, 23) + timedelta(days=n)).weekday() == WEEKLY_TESTS_WEEKDAY)
OTHER = WEEKLY + timedelta(days=1)


def test_a_night_leaves_the_weekly_tests_out_and_the_restricted_ones_read_its_rows():
    assert data_test_flags(False, OTHER) == NIGHT_TESTS == ["--exclude", "tag:weekly"]
    assert data_test_flags(False, OTHER, {"data_tests": "night"}) == NIGHT_TESTS


def test_the_weekly_night_runs_the_weekly_tests_and_a_run_asking_for_it_tests_every_row():
    assert data_test_flags(False, WEEKLY) == []
    assert data_test_flags(False, OTHER, {"data_tests": "full"}) == FULL_TESTS == ["--vars", "{data_tests: full}"]
    assert data_test_flags(False, WEEKLY, {"data_tests": "full"}) == FULL_TESTS


def test_a_first_build_runs_every_test_without_reparsing_for_a_var():
    # The restricted tests read every row when nothing was built yet (macros/testing.sql).
    assert data_test_flags(True, OTHER) == []
    assert data_test_flags(True, WEEKLY, {"data_tests": "full"}) == []


@pytest.mark.parametrize("choice", ["FULL", "all", ""])
def test_an_unknown_choice_fails_the_task_and_names_the_choices(choice):
    with pytest.raises(ValueError, match="is not one of night, full"):
        data_test_flags(False, OTHER, {"data_tests": choice})


def test_no_lineage_is_parsed_after_a_run_unless_something_reads_it(tmp_path, monkeypatch):
    """Cosmos' OpenLineage events of a run are read only by Airflow's OpenLineage provider (or to emit
    datasets, which these tasks do not): without it the task skips parsing the run's artifacts."""
    from cosmos.operators.local import DbtBuildLocalOperator

    from lienthong.config.settings import load_settings
    from lienthong.pipeline import dbt_in_airflow

    assert not dbt_in_airflow.openlineage_listener_installed()  # this project's environment
    monkeypatch.setenv("LIENTHONG_STATE_DIR", str(tmp_path / "state"))
    parsed = []
    monkeypatch.setattr(DbtBuildLocalOperator, "calculate_openlineage_events_completes",
                        lambda self, *args, **kwargs: parsed.append(args) or True)
    operator = dbt_in_airflow.dbt_build("dbt_test", load_settings())
    for installed, expected in ((False, False), (True, True)):
        monkeypatch.setattr(dbt_in_airflow, "openlineage_listener_installed", lambda: installed)
        assert operator.calculate_openlineage_events_completes({}, tmp_path, ["build"]) is expected
    assert len(parsed) == 1
