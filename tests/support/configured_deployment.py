"""A generated sample whose branches' organisation configs are the deployment (LIENTHONG_ORG_CONFIG_DIR
alone), its first delivery day landed, linked and built in a fresh database: the night's pieces as
the DAGs run them, without Airflow (as bench/review.py does)."""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psycopg
import pytest


@contextmanager
def first_day_built(fresh_database, base: Path, scale: str, **generate_options) -> Iterator[dict]:
    """``{"conn", "sample", "linked", "settings", "orgs"}`` of the sample ``scale`` (seed 42) in ``base``."""
    from lienthong.sample import generate

    sample = base / "sample"
    generate(scale, 42, sample, **generate_options)
    day = date.fromisoformat(json.loads((sample / "manifest.json").read_text())["deliveries"]["from"])
    with fresh_database(base.name) as url, pytest.MonkeyPatch.context() as patch:
        for key, value in {"LIENTHONG_WAREHOUSE_URL": url, "LIENTHONG_STATE_DIR": str(base / "state"),
                           "LIENTHONG_SAMPLE_DIR": str(sample), "LIENTHONG_DROP_DIR": str(sample / "deliveries"),
                           "LIENTHONG_ORG_CONFIG_DIR": str(sample / "configs")}.items():
            patch.setenv(key, value)
        from lienthong.config.organisations import load_organisations
        from lienthong.config.settings import load_settings
        from lienthong.landing.ingest import ingest
        from lienthong.pipeline.dbt_env import build_warehouse
        from lienthong.pipeline.sample_sources import sample_api_connections

        settings = load_settings()
        with sample_api_connections(settings, dict(os.environ)) as served:
            for key, value in served.items():
                patch.setenv(key, value)
            for org in load_organisations():
                for entity in org.entities:
                    ingest(org.code, entity.kind, day, settings=settings)
        linked = build_warehouse(settings, url)
        with psycopg.connect(url) as conn:
            yield {"conn": conn, "sample": sample, "linked": linked, "settings": settings,
                   "orgs": load_organisations()}
