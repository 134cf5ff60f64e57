"""Great Expectations suites for one landed batch: generated from the organisation's config
(every configured field present, required fields filled: critical) plus the organisation's own
quality rules (its config's ``quality_rules``, embedded or a rule file next to it: formats and
eligibility, each with its severity). An organisation's rules apply to that organisation only.

The DAG calls :func:`validate_batch` after landing, or :func:`gate_batch` to also stop on a
critical failure.
"""
from __future__ import annotations

from lienthong.config.organisations import get_organisation
from lienthong.quality.runner import QualityGateError, ValidationOutcome, validate_spec


def batch_suite(org_code: str, entity: str, batch_id: int) -> dict:
    """The suite spec for one batch of one organisation's entity (a query on that batch's rows)."""
    org = get_organisation(org_code)
    config = org.entity(entity)
    fields = list(config.fields)
    expectations = [
        {"type": "expect_table_columns_to_match_set",
         "kwargs": {"column_set": ["batch_id", "delivery_date", "row_number", "extra", *fields], "exact_match": True},
         "severity": "critical"},
        *({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": name}, "severity": "critical"}
          for name in config.required),
    ]
    expectations += org.quality_rules.get(entity, [])
    table = f"raw.{org_code}__{entity}"
    return {
        "name": f"batches.{org_code}__{entity}",
        "meta": {"label": f"{table} batch {batch_id}",
                 # batch_id is an int from raw.batches, never user text.
                 "query": f"select * from {table} where batch_id = {int(batch_id)}"},
        "expectations": expectations,
    }


def validate_batch(url: str, org_code: str, entity: str, batch_id: int, run_id: str) -> ValidationOutcome:
    """Validate one landed batch; results go to dq.validation_results with org, entity and batch."""
    spec = batch_suite(org_code, entity, batch_id)
    return validate_spec(url, spec, run_id, org_code=org_code, entity=entity, batch_id=batch_id)


def gate_batch(url: str, org_code: str, entity: str, batch_id: int, run_id: str) -> ValidationOutcome:
    """validate_batch, raising QualityGateError when a critical expectation failed (warnings pass)."""
    outcome = validate_batch(url, org_code, entity, batch_id, run_id)
    if not outcome.passed:
        raise QualityGateError(f"Landed batch failed its quality gate: {outcome.summary()}")
    return outcome
