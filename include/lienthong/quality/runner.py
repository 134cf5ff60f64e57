"""Run Great Expectations suites against the warehouse and keep every result in ``dq``.

Each expectation carries GX's own ``severity``: ``critical`` stops the pipeline, ``warning`` and
``info`` are reported and kept but let the run go on. Every suite has one shape: a name, a
``meta.label`` for people, a ``meta.query`` giving the rows it checks, and its expectations. Mart
suites are JSON files under ``expectations/marts/`` (the cross-table plausibility gates; keys,
relationships and value ranges are dbt tests); landed-batch suites are built by
:mod:`lienthong.quality.batches`.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from lienthong.warehouse import connect

log = logging.getLogger(__name__)
DQ_SCHEMA_SQL = Path(__file__).with_name("dq_schema.sql")
# Batches landed side by side are validated, and their results written, at the same moment; on a new
# warehouse each writer makes the dq tables, and `create ... if not exists` is not safe between racing
# transactions (the loser fails on the catalog's unique key). The writers take their turn.
_DQ_DDL_LOCK = 7_180_201  # advisory lock id (landing's DDL lock is 7_180_001)


def ensure_dq_schema(conn) -> None:
    """Make (or bring up to date) the dq tables, one transaction at a time: call inside a transaction."""
    conn.execute("select pg_advisory_xact_lock(%s)", (_DQ_DDL_LOCK,))
    conn.execute(DQ_SCHEMA_SQL.read_text())


class QualityGateError(RuntimeError):
    """A critical expectation failed: the pipeline must stop here."""


@dataclass
class ValidationOutcome:
    suite: str
    table: str
    run_id: str
    evaluated: int = 0
    failed_critical: list[str] = field(default_factory=list)
    failed_other: list[str] = field(default_factory=list)
    result: object = field(default=None, repr=False)  # GX's ExpectationSuiteValidationResult, for Data Docs

    @property
    def passed(self) -> bool:
        return not self.failed_critical

    def summary(self) -> str:
        verdict = "PASSED" if self.passed else "FAILED"
        text = f"{self.suite} on {self.table}: {verdict}, {self.evaluated} expectations"
        if self.failed_critical:
            text += f"; critical failures: {'; '.join(self.failed_critical)}"
        if self.failed_other:
            text += f"; warnings: {'; '.join(self.failed_other)}"
        return text


def load_suite_file(path: Path) -> dict:
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a readable suite file: {err}") from err
    meta = spec.get("meta", {})
    missing = [key for key in ("label", "query") if not str(meta.get(key, "")).strip()]
    if missing:
        raise ValueError(f"{path}: meta.{' and meta.'.join(missing)} missing: a suite names what it checks"
                         " (meta.label) and gives the rows to check (meta.query, a SELECT)")
    return spec


def validate(url: str, suite_path: Path, run_id: str) -> ValidationOutcome:
    """Validate the suite's table or query; store the results; return the outcome (never raises on failures)."""
    return validate_spec(url, load_suite_file(suite_path), run_id)


def validate_spec(url: str, spec: dict, run_id: str, *, org_code: str | None = None,
                  entity: str | None = None, batch_id: int | None = None) -> ValidationOutcome:
    """Validate an in-memory suite spec (name, meta.label, meta.query, expectations with severity)."""
    import great_expectations as gx  # heavy: import only when a validation runs
    from great_expectations.data_context.types.base import ProgressBarsConfig

    meta = spec["meta"]
    label = meta["label"]
    context = gx.get_context(mode="ephemeral")
    # Progress bars would interleave with task logs line by line.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_postgres(
        name="warehouse", connection_string=url.replace("postgresql://", "postgresql+psycopg://", 1))
    # GX takes only "SELECT …" queries; wrapping also allows WITH and UNION.
    asset = source.add_query_asset(name="query", query=f"SELECT * FROM ({meta['query']}) AS q")
    batch = asset.add_batch_definition_whole_table("whole_table").get_batch()
    suite = gx.ExpectationSuite(name=spec["name"], expectations=spec["expectations"])
    result = batch.validate(suite)

    outcome = ValidationOutcome(suite=spec["name"], table=label, run_id=run_id, result=result)
    rows = []
    for item in result.results:
        config = item.expectation_config
        severity = str(getattr(config.severity, "value", config.severity) or "critical")
        kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
        text = f"{config.type}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
        outcome.evaluated += 1
        if not item.success:
            (outcome.failed_critical if severity == "critical" else outcome.failed_other).append(text)
        observed = item.result.get("observed_value", item.result.get("unexpected_percent"))
        rows.append((run_id, spec["name"], label, config.type, json.dumps(kwargs, default=str),
                     severity, bool(item.success), json.dumps(observed, default=str), org_code, entity, batch_id))
    with connect(url) as conn:
        ensure_dq_schema(conn)
        with conn.cursor() as cur:
            cur.executemany(
                "insert into dq.validation_results (run_id, suite, table_name, expectation, kwargs, severity,"
                " success, observed, org_code, entity, batch_id)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
    log.info("%s", outcome.summary())
    return outcome


def run_gate(url: str, suite_paths: list[Path], run_id: str,
             data_docs_dir: Path | None = None) -> list[ValidationOutcome]:
    """Validate every suite; raise QualityGateError after all ran if any critical expectation failed.

    With ``data_docs_dir``, the run's Data Docs are rendered there first (also when the gate fails)."""
    outcomes = [validate(url, path, run_id) for path in suite_paths]
    if data_docs_dir is not None:
        from lienthong.quality.data_docs import render_data_docs

        render_data_docs(outcomes, data_docs_dir)
    failed = [o.summary() for o in outcomes if not o.passed]
    if failed:
        raise QualityGateError("Data quality gate failed (fix the data or the model, then rerun):\n"
                               + "\n".join(failed))
    return outcomes
