"""The nightly run shared by the integration tests that read what it leaves (test_nightly.py, test_site.py):
one `lienthong run` per test session, however many of them are selected."""
import json
import shutil
import subprocess
from datetime import date

import pytest

from lienthong.config.settings import load_settings
from lienthong.pipeline.airflow_env import airflow_environment
from lienthong.sample import generate


@pytest.fixture(scope="session")
def nightly(fresh_database, airflow_env, tmp_path_factory):
    """One `lienthong run` (what `make demo` calls) on the tiny sample, in its own database."""
    base = tmp_path_factory.mktemp("nightly")
    sample = base / "sample"
    generate(scale="tiny", seed=7, out=sample)
    day = date.fromisoformat(json.loads((sample / "manifest.json").read_text())["deliveries"]["from"])
    # The environment is patched for the run only: the fixture lives for the session, other modules' tests
    # must not inherit its settings. Tests that start DAG runs themselves use its "env".
    with fresh_database("nightly") as url:
        with pytest.MonkeyPatch.context() as patch:
            for key, value in {
                "LIENTHONG_WAREHOUSE_URL": url, "LIENTHONG_STATE_DIR": str(base / "state"),
                "LIENTHONG_SAMPLE_DIR": str(sample), "LIENTHONG_OUTPUT_DIR": str(base / "output"),
                # One migrated Airflow metadata database for the session saves a migration.
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"],
            }.items():
                patch.setenv(key, value)
            patch.delenv("LIENTHONG_DROP_DIR", raising=False)
            done = subprocess.run([shutil.which("lienthong"), "run", "--date", day.isoformat()], capture_output=True,
                                  text=True, timeout=1800, stdin=subprocess.DEVNULL)
            settings = load_settings()
            env = airflow_environment(settings, url)
        yield {"done": done, "day": day, "url": url, "sample": sample, "settings": settings, "env": env}
