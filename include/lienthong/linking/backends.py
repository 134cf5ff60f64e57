"""Where Splink runs: DuckDB in this process (the default) or Spark (``local[*]`` or a cluster).

The model is the same on both (``settings`` renders its SQL for either); a backend only holds the
records where Splink's SQL reads them: table ``records`` (with a CCCD's year standing in for a
missing year of birth, see ``records.id_birth_years``) and, for incremental scoring, ``new_records``.

Why Spark: past one machine (docs/scale.md). The Spark session is opened once per linking run and
stopped after it; it never opens a port of its own beyond the driver's (no Spark UI) and keeps its
shuffle and checkpoint files in a temporary folder of its own.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from typing import Union
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
from splink import DuckDBAPI

from lienthong.linking.policy import LinkingPolicy
from lienthong.linking.records import id_birth_years

log = logging.getLogger(__name__)

# DuckDB spills to "./.tmp" by default, i.e. into whatever folder the task runs in.
DUCKDB_TEMP = Path(tempfile.gettempdir()) / "lienthong-duckdb"
# Spark settings a linking run starts from; the policy's ``spark_conf`` adds or overrides.
# 200 shuffle partitions (Spark's default) cost more than they bring below a few million records.
SPARK_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.driver.memory": "4g",
    # Splink's SQL expects NULL from a division by zero or a failed cast (as DuckDB gives), not
    # Spark 4's ANSI errors.
    "spark.sql.ansi.enabled": "false",
    # pyarrow is not in the lock: convert pandas frames without Arrow rather than try it and warn each time.
    "spark.sql.execution.arrow.pyspark.enabled": "false",
}
_LOCAL_ONLY = {"spark.driver.bindAddress": "127.0.0.1", "spark.driver.host": "127.0.0.1"}


def _scored_records(records: pd.DataFrame) -> pd.DataFrame:
    """The records as scoring reads them: without a year of birth, the year their CCCD carries."""
    years = id_birth_years(records).set_index("record_uid")["birth_year"]
    return records.assign(birth_year=records["birth_year"].fillna(records["record_uid"].map(years)).astype("Int64"))


class DuckDBBackend:
    dialect = "duckdb"

    def __init__(self, memory_limit: str | None = None, threads: int = 0):
        """``memory_limit``: DuckDB's buffers (it spills past it; None: DuckDB's default, 80 % of the
        machine's memory); ``threads``: 0 for one per core."""
        self.config = {"temp_directory": str(DUCKDB_TEMP),
                       **({"memory_limit": memory_limit} if memory_limit else {}),
                       **({"threads": threads} if threads else {})}

    def api(self, records: pd.DataFrame, new_uids: list[str] = ()) -> DuckDBAPI:
        """A fresh in-process DuckDB holding ``records`` (and ``new_records``, those of ``new_uids``)."""
        con = duckdb.connect(config=self.config)
        con.register("records_frame", _scored_records(records))
        con.execute("create table records as select * from records_frame")
        con.unregister("records_frame")
        if new_uids:
            con.execute("create table new_records as select * from records where list_contains(?, record_uid)",
                        [list(new_uids)])
        return DuckDBAPI(connection=con)


class SparkBackend:
    dialect = "spark"

    def __init__(self, session):
        self.session = session

    def api(self, records: pd.DataFrame, new_uids: list[str] = ()):
        """Splink's SparkAPI on this session, with ``records`` (and ``new_records``) as temporary views."""
        from splink.backends.spark import SparkAPI

        scored = _scored_records(records)
        frame = self.session.createDataFrame(_plain(scored), schema=_spark_schema(scored))
        frame.createOrReplaceTempView("records")
        if new_uids:
            frame.where(frame["record_uid"].isin(list(new_uids))).createOrReplaceTempView("new_records")
        return SparkAPI(spark_session=self.session)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing values as None in object columns: Spark's schema, not pandas', types the columns."""
    return frame.astype(object).where(frame.notna(), None)


def _spark_schema(records: pd.DataFrame):
    """Text for every feature but the year (long) and the ID's consistency (boolean): typed up front, so
    a column that is empty in this input (no phones yet) is still the right type."""
    from pyspark.sql.types import BooleanType, LongType, StringType, StructField, StructType

    kinds = {"birth_year": LongType(), "id_consistent": BooleanType()}
    return StructType([StructField(c, kinds.get(c, StringType()), True) for c in records.columns])


Backend = Union[DuckDBBackend, SparkBackend]
DUCKDB = DuckDBBackend()


@contextmanager
def open_backend(policy: LinkingPolicy) -> Iterator[Backend]:
    """The backend of ``policy.engine`` for one linking run; a Spark session is started here and
    stopped on the way out."""
    if policy.engine == "duckdb":
        yield DuckDBBackend(policy.duckdb_memory_limit, policy.duckdb_threads)
        return
    with spark_session(policy.spark_master, policy.spark_conf) as session:
        yield SparkBackend(session)


@contextmanager
def spark_session(master: str, conf: Mapping[str, str] = {}) -> Iterator:
    """A Spark session with Splink's Scala UDF jar, no UI, its files in a temporary folder, stopped on exit."""
    try:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location
    except ImportError as error:  # pragma: no cover - pyspark is in the lock
        raise RuntimeError("linking engine spark needs pyspark: run `uv sync --locked`") from error
    if not shutil.which("java"):
        raise RuntimeError("linking engine spark needs a Java runtime (17 or newer) on the PATH: "
                           "`apt-get install default-jre-headless`, or set `engine: duckdb`")
    scratch = Path(tempfile.mkdtemp(prefix="lienthong-spark-"))
    # On a cluster, spark.checkpoint.dir must be storage every executor reaches (spark_conf).
    settings = {**SPARK_DEFAULTS, **(_LOCAL_ONLY if master.startswith("local") else {}),
                "spark.local.dir": str(scratch / "local"), "spark.checkpoint.dir": str(scratch / "checkpoints"),
                "spark.sql.warehouse.dir": str(scratch / "warehouse"), "spark.jars": similarity_jar_location(),
                **conf}
    # py4j logs its connections closing at INFO from finalisers, at interpreter exit too, when
    # logging's streams may already be closed ("--- Logging error ---" after a test session).
    logging.getLogger("py4j").setLevel(logging.WARNING)
    builder = SparkSession.builder.master(master).appName("lienthong-linking")
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    try:
        session.sparkContext.setLogLevel("ERROR")
        # Splink writes its intermediate tables as parquet under the checkpoint folder.
        session.sparkContext.setCheckpointDir(settings["spark.checkpoint.dir"])
        log.info("linking on Spark %s (%s)", session.version, master)
        yield session
    finally:
        session.stop()
        shutil.rmtree(scratch, ignore_errors=True)
