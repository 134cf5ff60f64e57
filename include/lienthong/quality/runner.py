"""Run a Great Expectations suite file against a warehouse table and keep every result in ``dq``.

Each expectation carries GX's own ``severity``: ``critical`` stops the pipeline, ``warning`` and
``info`` are reported and kept but let the run go on.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from lienthong.warehouse import connect

log = logging.getLogger(__name__)
DQ_SCHEMA_SQL = Path(__file__).with_name("dq_schema.sql")


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
    if "." not in spec.get("meta", {}).get("table", ""):
        raise ValueError(f"{path}: meta.table must name the table as schema.table")
    return spec


def validate(url: str, suite_path: Path, run_id: str) -> ValidationOutcome:
    """Validate the suite's table; store the results; return the outcome (never raises on failures)."""
    import great_expectations as gx  # heavy: import only when a validation runs

    spec = load_suite_file(suite_path)
    schema, table = spec["meta"]["table"].split(".", 1)
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Progress bars would interleave with task logs line by line.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_postgres(
        name="warehouse", connection_string=url.replace("postgresql://", "postgresql+psycopg://", 1))
    batch = source.add_table_asset(name=table, table_name=table, schema_name=schema) \
        .add_batch_definition_whole_table("whole_table").get_batch()
    suite = gx.ExpectationSuite(name=spec["name"], expectations=spec["expectations"])
    result = batch.validate(suite)

    outcome = ValidationOutcome(suite=spec["name"], table=f"{schema}.{table}", run_id=run_id)
    rows = []
    for item in result.results:
        config = item.expectation_config
        severity = str(getattr(config.severity, "value", config.severity) or "critical")
        kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
        label = f"{config.type}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
        outcome.evaluated += 1
        if not item.success:
            (outcome.failed_critical if severity == "critical" else outcome.failed_other).append(label)
        observed = item.result.get("observed_value", item.result.get("unexpected_percent"))
        rows.append((run_id, spec["name"], outcome.table, config.type, json.dumps(kwargs, default=str),
                     severity, bool(item.success), json.dumps(observed, default=str)))
    with connect(url) as conn:
        conn.execute(DQ_SCHEMA_SQL.read_text())
        with conn.cursor() as cur:
            cur.executemany(
                "insert into dq.validation_results (run_id, suite, table_name, expectation, kwargs, severity,"
                " success, observed) values (%s, %s, %s, %s, %s, %s, %s, %s)", rows)
    log.info("%s", outcome.summary())
    return outcome


def run_gate(url: str, suite_paths: list[Path], run_id: str) -> list[ValidationOutcome]:
    """Validate every suite; raise QualityGateError after all ran if any critical expectation failed."""
    outcomes = [validate(url, path, run_id) for path in suite_paths]
    failed = [o.summary() for o in outcomes if not o.passed]
    if failed:
        raise QualityGateError("Data quality gate failed (fix the data or the model, then rerun):\n"
                               + "\n".join(failed))
    return outcomes
