"""Local TCP ports: the embedded PostgreSQL, Airflow's services and the sample API all bind 127.0.0.1."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (the OS picks it), for a server about to start."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    """True when something accepts connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
