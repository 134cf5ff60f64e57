"""When the pipeline runs on the generated sample, the API organisations are served locally."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lienthong.config.organisations import load_organisations
from lienthong.config.settings import Settings


def api_conn_ids() -> list[str]:
    return sorted({e.connector.conn_id for org in load_organisations() for e in org.entities
                   if e.connector.type == "api"})


@contextmanager
def sample_api_connections(settings: Settings, env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Serve the sample's APIs on 127.0.0.1 and point unconfigured API connections at them.

    Connections already set (a real national system) are left alone; with a real drop folder
    nothing is served."""
    missing = [c for c in api_conn_ids() if f"AIRFLOW_CONN_{c.upper()}" not in env]
    if not missing or settings.drop_dir != settings.sample_dir / "deliveries":
        yield env
        return
    from lienthong.sample.api_server import DEFAULT_TOKEN, serve_in_background

    server = serve_in_background(settings.sample_dir)
    try:
        uri = f"http://:{DEFAULT_TOKEN}@127.0.0.1:{server.server_port}"
        yield {**env, **{f"AIRFLOW_CONN_{c.upper()}": uri for c in missing}}
    finally:
        server.shutdown()
