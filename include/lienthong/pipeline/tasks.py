"""Task bodies for the DAGs: the thin Airflow-facing layer over the Airflow-free package.

Each function takes the run's dates from the Airflow context and prints what it did, so a
`dags test` or a task log reads as a story of the night.
"""
from __future__ import annotations

from datetime import date

from lienthong.config.settings import TIMEZONE, load_settings


def _logical_local(context):
    # Scheduled runs and backfills have logical date = data interval start (the day or month they
    # cover); `dags test DAG D` and manual runs for D have logical date D. Both mean "about D".
    moment = context.get("logical_date") or context["data_interval_start"]
    return moment.in_timezone(TIMEZONE)


def delivery_date(context) -> date:
    """The day a run is about (local date)."""
    return _logical_local(context).date()


def review_period(context, kind: str = "month") -> str:
    """The period key a review run covers: YYYY-MM, YYYY-Qn or YYYY."""
    moment = _logical_local(context)
    if kind == "quarter":
        return f"{moment.year}-Q{(moment.month - 1) // 3 + 1}"
    return moment.strftime("%Y") if kind == "year" else moment.strftime("%Y-%m")


def land(org_code: str, kind: str, **context) -> dict:
    """Land an organisation's delivery for the run's day; skip the task when nothing was sent."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from lienthong.config.organisations import OrganisationConfigError
    from lienthong.landing.ingest import ingest
    from lienthong.sources.base import SourceError
    from lienthong.sources.connections import from_airflow

    day = delivery_date(context)
    try:
        result = ingest(org_code, kind, day, lookup=from_airflow)
    except (SourceError, OrganisationConfigError) as err:
        # A bad file, config or token fails the same way on every retry: fail now, say why.
        # (A source that is down raises SourceUnavailableError and is retried by Airflow.)
        print(f"[ingest] {org_code}/{kind} {day}: FAILED, nothing landed: {err}")
        raise AirflowFailException(str(err)) from err
    if result is None:
        raise AirflowSkipException(f"{org_code} sent no {kind} delivery for {day}")
    print(f"[ingest] {result.summary()}")
    if result.status == "held":
        print(f"[ingest] {org_code}/{kind} {day}: HELD, not built from until an operator runs "
              f"`lienthong batch release {result.batch_id}` (or `lienthong batch reject {result.batch_id}`)")
    if result.status == "rejected":  # the same content was rejected before: it stays rejected
        raise AirflowFailException(f"{result.summary()}; release it with `lienthong batch release "
                                   f"{result.batch_id}` if it is in fact good")
    if result.status == "loaded":
        _gate_batch(result, context["run_id"])
    return {"status": result.status, "rows": result.row_count, "quarantined": result.quarantined_count}


def _gate_batch(result, run_id: str) -> None:
    """The batch's Great Expectations suite: warnings are reported; a critical failure rejects the
    batch (staging reads only loaded batches) and fails the task at once, so its asset is not
    published and the warehouse is not rebuilt on it."""
    from airflow.sdk.exceptions import AirflowFailException

    from lienthong.landing.raw import reject_batch
    from lienthong.quality.batches import gate_batch
    from lienthong.quality.runner import QualityGateError
    from lienthong.warehouse import connect, resolve_url

    try:
        outcome = gate_batch(resolve_url(), result.org_code, result.entity, result.batch_id, run_id)
    except QualityGateError as err:
        with connect(resolve_url()) as conn:
            reject_batch(conn, result.batch_id, "failed a critical quality check", allowed=("loaded",))
        print(f"[quality] {result.org_code}/{result.entity} {result.delivery_date}: batch {result.batch_id} "
              f"REJECTED, not built from: {err}")
        raise AirflowFailException(str(err)) from err
    print(f"[quality] {outcome.summary()}")


def prepare_warehouse(**context) -> None:
    """Extensions, every organisation's raw tables (so a night when one sent nothing still builds),
    the reference tables (population statistics, the population database's changes), and the roles
    that own the schemas dbt is about to write."""
    from lienthong.access import sync_roles
    from lienthong.config.organisations import load_organisations
    from lienthong.landing.raw import ensure_raw_tables
    from lienthong.warehouse import connect, ensure_ready, resolve_url

    from lienthong.landing.reference import REFERENCES, ensure_table, load_reference
    from lienthong.pipeline.dbt_env import dbt_project
    from lienthong.quality.runner import ensure_dq_schema

    url = resolve_url()
    ensure_ready(url)
    settings = load_settings()
    reference_dir = settings.reference_dir
    # dbt builds the organisations configured now: their staging is rendered outside the checkout.
    print(f"[warehouse] dbt project with the configured organisations' staging: {dbt_project(settings)}")
    with connect(url) as conn:
        for org in load_organisations():
            ensure_raw_tables(conn, org)
        ensure_dq_schema(conn)  # the scorecard model reads validation history
        # The staging views join the batch bookkeeping; autovacuum leaves a table of fewer than ~50
        # rows unanalysed, and the planner then expects a few dozen rows a view and caches none of
        # its per-value readers (per_value's Memoize), running every reader on every row.
        conn.execute("analyze raw.batches")
        for reference in REFERENCES:
            ensure_table(conn, reference)  # the models read it even when no file was ever loaded
            path = reference_dir / reference.file
            if path.exists():
                print(f"[warehouse] {reference.label}: {load_reference(conn, reference, path)} rows from {path}")
            else:
                print(f"[warehouse] {reference.label}: no {path}; raw.{reference.table} kept as it was"
                      " (empty until a file is loaded)")
    sync_roles(url)
    print("[warehouse] extensions, raw tables and roles ready")


# The linking input, built by dbt before the person linking runs: the records as delivered, with an ID
# number or birth date a unit corrected on a verification list taking the delivered one's place for
# linking only (int_review__corrections is a side table; the delivered rolls are never changed).
LINKING_INPUT = """
    select s.org_code, s.source_record_key, s.full_name,
           coalesce(to_char(c.corrected_birth_date, 'YYYY-MM-DD'), s.birth_date) as birth_date, s.sex,
           coalesce(c.corrected_id_number, s.id_number) as id_number, s.phone, s.hamlet, s.commune
    from intermediate.int_people__source_records as s
    left join intermediate.int_review__corrections as c using (source_record_key)
"""
# The dbt selection that builds what LINKING_INPUT reads (and everything under it): built before
# linking, excluded from the build after it.
LINKING_INPUT_MODELS = ("+int_people__source_records", "+int_review__corrections")


def link_people(**context) -> dict:
    """Link every current roster record to a stable person (incremental once a model exists)."""
    from lienthong.linking import link_new
    from lienthong.warehouse import resolve_url

    summary = link_new(resolve_url(), LINKING_INPUT)
    shown = {k: summary[k] for k in ("records", "changed", "persons") if k in summary}
    print(f"[linking] {shown}")
    return summary


def plan_linking(**context) -> list[dict]:
    """Partitioned linking's first step: the records prepared, the stored model kept (trained when
    there is none), each record placed in a partition. Returns one ``link_partition`` call's
    arguments per partition (Airflow maps over them)."""
    from lienthong.linking.partitions import plan
    from lienthong.warehouse import resolve_url

    planned = plan(resolve_url(), LINKING_INPUT, reuse_model=True)
    print(f"[linking] run {planned['run_id']}: {planned['records']} records, {planned['changed']} changed, "
          f"partitions {[(p['partition'], p['records']) for p in planned['partitions']]}")
    return [{"run_id": planned["run_id"], "partition": p["partition"]} for p in planned["partitions"]]


def link_partition(run_id: int, partition: str, **context) -> dict:
    """Score and cluster one partition of a planned linking run."""
    from lienthong.linking.partitions import link_partition as link
    from lienthong.warehouse import resolve_url

    summary = link(resolve_url(), run_id, partition)
    print(f"[linking] partition {partition}: {summary['records']} records, {summary['people']} people")
    return summary


def finish_linking(planned: list[dict], **context) -> dict:
    """The cross-partition pass, stable person ids and the identity tables of the planned run."""
    from lienthong.linking.partitions import finish
    from lienthong.warehouse import resolve_url

    summary = finish(resolve_url(), planned[0]["run_id"])
    shown = {k: summary[k] for k in ("records", "changed", "persons", "cross_partition_links")}
    print(f"[linking] {shown}")
    return summary


def sync_access(**context) -> None:
    """Grants and row-level security again: dbt replaced the tables they were on."""
    from lienthong.access import sync_roles
    from lienthong.warehouse import resolve_url

    report = sync_roles(resolve_url())
    print(f"[access] roles and grants in step ({len(report.lines())} changes)")


def validate_marts(**context) -> None:
    """Run every mart suite under expectations/marts; critical failures fail the task."""
    from lienthong.quality.runner import run_gate
    from lienthong.warehouse import resolve_url

    settings = load_settings()
    suites = sorted((settings.expectations_dir / "marts").glob("*.json"))
    data_docs = settings.output_dir / "data_docs"
    for outcome in run_gate(resolve_url(), suites, run_id=context["run_id"], data_docs_dir=data_docs):
        print(f"[quality] {outcome.summary()}")
    print(f"[quality] Data Docs: {data_docs / 'index.html'}")


def render_review(kind: str = "month", **context) -> dict:
    """Render the period's HTML report and Excel workbook from the review marts."""
    from lienthong.review.report import render
    from lienthong.warehouse import resolve_url

    settings = load_settings()
    paths = render(resolve_url(), review_period(context, kind), settings.output_dir)
    for label, path in paths.items():
        print(f"[review] {label} written: {path}")
    return {label: str(path) for label, path in paths.items()}


def build_site(**context) -> dict:
    """Render the public information pages for the month the review covered (bi aggregates only)."""
    from lienthong.site import build_site as build
    from lienthong.warehouse import resolve_url

    period = review_period(context, "month")
    settings = load_settings()
    # A night changes few communes' figures: the other charts are taken as drawn the night before.
    pages = build(resolve_url(), period, settings.output_dir, chart_cache=settings.state_dir / "cache" / "site_charts")
    print(f"[site] {len(pages)} pages written for {period}: {pages[0]}")
    return {"pages": len(pages), "index": str(pages[0])}
