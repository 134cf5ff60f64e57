"""Project settings, read from the environment once.

One setting names the warehouse: ``LIENTHONG_WAREHOUSE_URL``. When it is unset the project runs its
own embedded PostgreSQL under the state folder, so nothing downstream needs to know which it got.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

TIMEZONE = "Asia/Ho_Chi_Minh"
# The Airflow connection every DAG and Cosmos profile uses; built from the warehouse URL.
WAREHOUSE_CONN_ID = "lienthong_warehouse"
DEFAULT_PG_PORT = 54329
DEFAULT_SEED = 42

_REPO_ROOT = Path(__file__).resolve().parents[3]
# Rolls, logs quoting batches, the warehouse's data and the reviews name people: whatever the
# project writes is its owner's alone (folders 0700, files 0600).
PRIVATE_UMASK = 0o077


@dataclass(frozen=True)
class Settings:
    home: Path
    state_dir: Path
    warehouse_url: str | None
    pg_port: int
    sample_dir: Path
    drop_dir: Path
    reference_dir: Path
    output_dir: Path

    @property
    def dags_dir(self) -> Path:
        return self.home / "dags"

    @property
    def dbt_project_dir(self) -> Path:
        return self.home / "dbt_project"

    @property
    def expectations_dir(self) -> Path:
        return self.home / "expectations"

    @property
    def dbt_run_dir(self) -> Path:
        """Where dbt runs: the checkout's dbt project linked in, plus the configured organisations'
        staging rendered from their configs (lienthong.pipeline.dbt_generated); never the checkout."""
        return self.state_dir / "dbt_project"

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    @property
    def pgdata(self) -> Path:
        return self.state_dir / "pgdata"


def load_settings() -> Settings:
    """Read settings from the environment (paths default to the project checkout)."""
    home = Path(os.environ.get("LIENTHONG_HOME", _REPO_ROOT)).resolve()
    state_dir = Path(os.environ.get("LIENTHONG_STATE_DIR", home / ".lienthong")).resolve()
    port_text = os.environ.get("LIENTHONG_PG_PORT", str(DEFAULT_PG_PORT))
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"LIENTHONG_PG_PORT must be a TCP port number, got {port_text!r}")
    sample_dir = Path(os.environ.get("LIENTHONG_SAMPLE_DIR", state_dir / "sample")).resolve()
    return Settings(
        home=home,
        state_dir=state_dir,
        warehouse_url=os.environ.get("LIENTHONG_WAREHOUSE_URL") or None,
        pg_port=int(port_text),
        sample_dir=sample_dir,
        # Where organisations' files arrive; the generated sample's deliveries by default.
        drop_dir=Path(os.environ.get("LIENTHONG_DROP_DIR", sample_dir / "deliveries")).resolve(),
        # Official statistics (population by commune, sex and age band) for gathering rates.
        reference_dir=Path(os.environ.get("LIENTHONG_REFERENCE_DIR", sample_dir / "reference")).resolve(),
        output_dir=Path(os.environ.get("LIENTHONG_OUTPUT_DIR", home / "output")).resolve(),
    )


def make_private(folder: Path) -> Path:
    """Create ``folder`` (and missing parents) as 0700; an existing one loses every right of others.

    Group rights already there are kept: as root, the embedded server's own account reaches its data
    through the state folder's group (see ``warehouse.embedded``)."""
    old = os.umask(PRIVATE_UMASK)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    finally:
        os.umask(old)
    mode = stat.S_IMODE(folder.stat().st_mode)
    if mode & 0o007:
        folder.chmod(mode & ~0o007)
    return folder


def keep_private() -> None:
    """New files 0600 and folders 0700 for this process and all it starts (PostgreSQL, Airflow, dbt)."""
    os.umask(PRIVATE_UMASK)
