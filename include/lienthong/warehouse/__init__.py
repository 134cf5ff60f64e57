"""The warehouse: one PostgreSQL, embedded or external, reached through one URL."""
from lienthong.warehouse.connection import WarehouseError, connect, ensure_ready, resolve_url

__all__ = ["WarehouseError", "connect", "ensure_ready", "resolve_url"]
