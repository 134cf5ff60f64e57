"""Access: least-privilege roles, grants, row-level security and the pseudonym key (see docs/bi.md)."""
from lienthong.access.roles import AccessConfigError, RoleSet, SyncReport, role_set, sync_roles

__all__ = ["AccessConfigError", "RoleSet", "SyncReport", "role_set", "sync_roles"]
