"""Held and rejected batches through a real `airflow dags test` run of the ingest DAG: the run
says what it did not make live and why, and the nightly console names it."""
from datetime import date

import pytest

from lienthong.config.settings import load_settings
from lienthong.landing.ingest import ingest
from lienthong.pipeline.airflow_env import airflow_environment
from lienthong.pipeline.nightly import not_built_from, run_dag
from lienthong.warehouse import connect

pytestmark = pytest.mark.airflow
DAY, NEXT = date(2026, 11, 25), date(2026, 11, 26)


def test_a_held_and_a_rejected_batch_in_one_ingest_run(csv_roll, warehouse_url, airflow_env, project_env):
    org, roster, write = csv_roll
    rules = org.quality_rules
    column = next((r["kwargs"]["column"] for r in rules.get("roster", [])
                   if r["type"] == "expect_column_values_to_not_be_null" and r["severity"] == "critical"
                   and r["kwargs"]["column"] not in roster.required), None)
    other = next((e for e in org.entities if e.kind != "roster" and e.connector.type == "file"), None)
    if column is None or other is None:
        pytest.skip("the organisation has no critical not-null rule on an optional roster field")
    write(DAY, 100)
    ingest(org.code, "roster", DAY)
    # NEXT: a roll whose critical field is empty everywhere (lands, fails its gate: rejected), and
    # another entity with only its header (no rows: held).
    native = next(k for k, v in roster.columns.items() if v == column)
    position = list(roster.columns).index(native)
    lines = [roster.connector.delimiter.join(
        "" if i == position else cell for i, cell in enumerate(write.line(n).split(roster.connector.delimiter)))
        for n in range(1, 101)]
    write(NEXT, lines)
    header_only = project_env / "drop" / other.connector.path.format(date=NEXT.isoformat())
    header_only.parent.mkdir(parents=True, exist_ok=True)
    header_only.write_text(other.connector.delimiter.join(other.columns) + "\n", encoding=other.connector.encoding)

    env = {**airflow_environment(load_settings(), warehouse_url),
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]}
    run = run_dag(f"ingest_{org.code}", NEXT, env, project_env / "logs")
    assert not run.ok, run.log.read_text()[-3000:]
    with connect(warehouse_url) as conn:
        statuses = dict(conn.execute("select entity, status from raw.batches where delivery_date = %s", (NEXT,)))
        live_roll = conn.execute("select delivery_date from raw.batches where entity = 'roster'"
                                 " and status = 'loaded'").fetchall()
    assert statuses == {"roster": "rejected", other.kind: "held"}
    assert live_roll == [(DAY,)]  # the previous roll stays what is built from
    said = "\n".join(not_built_from([run]))
    assert f"{org.code}/roster {NEXT}: batch" in said and "REJECTED" in said
    assert f"{org.code}/{other.kind} {NEXT}: HELD" in said and "lienthong batch release" in said
