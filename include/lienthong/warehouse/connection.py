"""Connections to the warehouse, whichever server it is, and the setup every server needs."""
from __future__ import annotations

import re

import psycopg

from lienthong.config.settings import Settings, load_settings

# Extensions the models need: trigram similarity and accent folding for Vietnamese matching keys.
EXTENSIONS = ("pg_trgm", "unaccent", "fuzzystrmatch")


class WarehouseError(RuntimeError):
    """The warehouse cannot be reached or prepared; the message says what to do next."""


def mask(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def embedded_server(settings: Settings):
    from lienthong.warehouse.embedded import EmbeddedPostgres

    return EmbeddedPostgres(settings.pgdata, settings.pg_port)


def resolve_url(settings: Settings | None = None, *, start: bool = False) -> str:
    """The warehouse URL: the configured one, else the embedded server's (started when asked)."""
    settings = settings or load_settings()
    if settings.warehouse_url:
        return settings.warehouse_url
    server = embedded_server(settings)
    if start:
        return server.start()
    if not server.status().running:
        raise WarehouseError(
            "No warehouse is configured (LIENTHONG_WAREHOUSE_URL is unset) and the embedded PostgreSQL "
            "is not running; start it with `lienthong db start`."
        )
    return server.url()


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    """Open a psycopg connection, turning failures into an actionable WarehouseError."""
    url = url or resolve_url()
    try:
        return psycopg.connect(url, connect_timeout=10, **kwargs)
    except (psycopg.OperationalError, psycopg.ProgrammingError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise WarehouseError(
            f"Cannot connect to the warehouse at {mask(url)}: {reason}. Check LIENTHONG_WAREHOUSE_URL "
            "(postgresql://user:password@host:port/database), or unset it to use the embedded "
            "PostgreSQL (`lienthong db start`)."
        ) from err


def ensure_ready(url: str) -> None:
    """Create the extensions the models need (idempotent)."""
    with connect(url, autocommit=True) as conn:
        for name in EXTENSIONS:
            try:
                conn.execute(f'create extension if not exists "{name}"')
            except psycopg.Error as err:
                raise WarehouseError(
                    f"The warehouse at {mask(url)} lacks the extension {name!r} or the right to create it "
                    f"({err.diag.message_primary}); ask its administrator to run "
                    f"`create extension {name};` in that database."
                ) from err
