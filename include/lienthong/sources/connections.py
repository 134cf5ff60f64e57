"""Credentials for API and database sources, by Airflow connection id.

Inside Airflow the task passes a lookup backed by Airflow's connections (any secrets backend);
elsewhere connections come from the same ``AIRFLOW_CONN_<ID>`` URIs in the environment.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from lienthong.sources.base import SourceError


@dataclass(frozen=True)
class ConnectionInfo:
    conn_type: str
    host: str
    port: int | None = None
    schema: str = ""
    login: str = ""
    password: str = ""

    def base_url(self) -> str:
        scheme = "https" if self.conn_type == "https" else "http"
        port = f":{self.port}" if self.port else ""
        path = f"/{self.schema.strip('/')}" if self.schema else ""
        return f"{scheme}://{self.host}{port}{path}"

    def postgres_url(self) -> str:
        auth = quote(self.login, safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        return f"postgresql://{auth}@{self.host}:{self.port or 5432}/{self.schema}"


ConnectionLookup = Callable[[str], ConnectionInfo]


def from_environment(conn_id: str) -> ConnectionInfo:
    uri = os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
    if not uri:
        raise SourceError(f"no connection {conn_id!r}: set AIRFLOW_CONN_{conn_id.upper()} "
                          "(e.g. http://:TOKEN@host:port) or create it in Airflow.")
    parts = urlsplit(uri)
    return ConnectionInfo(conn_type=parts.scheme, host=parts.hostname or "", port=parts.port,
                          schema=parts.path.lstrip("/"), login=unquote(parts.username or ""),
                          password=unquote(parts.password or ""))


def from_airflow(conn_id: str) -> ConnectionInfo:
    from airflow.sdk import Connection

    conn = Connection.get(conn_id)
    return ConnectionInfo(conn_type=conn.conn_type or "", host=conn.host or "", port=conn.port,
                          schema=conn.schema or "", login=conn.login or "", password=conn.password or "")
