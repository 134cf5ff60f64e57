"""The environment as `make env` installs it."""
import importlib.util
from pathlib import Path

import pytest


# Every DAG run's process, dbt call and site worker imports these anew. Where the machine forbids
# writing bytecode (PYTHONDONTWRITEBYTECODE=1), an install without it compiles them from source in
# every process: 3.5 s of each start-up (docs/warehouse.md, "Bytecode compiled at install").
@pytest.mark.parametrize("module", ["airflow.models.dag", "great_expectations.core", "dbt.cli.main",
                                    "matplotlib.pyplot", "xlsxwriter.worksheet"])
def test_installed_packages_are_compiled_ahead(module):
    source = importlib.util.find_spec(module).origin
    assert Path(importlib.util.cache_from_source(source)).exists(), (
        f"{module} has no compiled bytecode beside {source}: run `make env` (uv sync --compile-bytecode)")
