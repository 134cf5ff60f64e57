"""Great Expectations suites for one landed batch: generated from the organisation's config
(every configured field present, required fields filled: critical) plus the organisation's rule
file ``expectations/batches/<org>.yml`` (formats and eligibility, each with its severity).

The DAG calls :func:`validate_batch` after landing, or :func:`gate_batch` to also stop on a
critical failure.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from lienthong.config.organisations import get_organisation
from lienthong.quality.runner import QualityGateError, ValidationOutcome, validate_spec



def rules_path(org_code: str, expectations_dir: Path | None = None) -> Path:
    """The organisation's rule file (expectations_dir defaults to the project setting)."""
    if expectations_dir is None:
        from lienthong.config.settings import load_settings

        expectations_dir = load_settings().expectations_dir
    return expectations_dir / "batches" / f"{org_code}.yml"


def batch_suite(org_code: str, entity: str, batch_id: int, expectations_dir: Path | None = None) -> dict:
    """The suite spec for one batch of one organisation's entity (a query on that batch's rows)."""
    org = get_organisation(org_code)
    config = org.entity(entity)
    fields = list(dict.fromkeys(config.columns.values()))
    expectations = [
        {"type": "expect_table_columns_to_match_set",
         "kwargs": {"column_set": ["batch_id", "delivery_date", "row_number", "extra", *fields], "exact_match": True},
         "severity": "critical"},
        *({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": name}, "severity": "critical"}
          for name in config.required),
    ]
    path = rules_path(org_code, expectations_dir)
    rules = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.exists() else {}
    expectations += rules.get(entity, [])
    table = f"raw.{org_code}__{entity}"
    return {
        "name": f"batches.{org_code}__{entity}",
        "meta": {"label": f"{table} batch {batch_id}",
                 # batch_id is an int from raw.batches, never user text.
                 "query": f"select * from {table} where batch_id = {int(batch_id)}"},
        "expectations": expectations,
    }


def validate_batch(url: str, org_code: str, entity: str, batch_id: int, run_id: str,
                   expectations_dir: Path | None = None) -> ValidationOutcome:
    """Validate one landed batch; results go to dq.validation_results with org, entity and batch."""
    spec = batch_suite(org_code, entity, batch_id, expectations_dir)
    return validate_spec(url, spec, run_id, org_code=org_code, entity=entity, batch_id=batch_id)


def gate_batch(url: str, org_code: str, entity: str, batch_id: int, run_id: str,
               expectations_dir: Path | None = None) -> ValidationOutcome:
    """validate_batch, raising QualityGateError when a critical expectation failed (warnings pass)."""
    outcome = validate_batch(url, org_code, entity, batch_id, run_id, expectations_dir)
    if not outcome.passed:
        raise QualityGateError(f"Landed batch failed its quality gate: {outcome.summary()}")
    return outcome
