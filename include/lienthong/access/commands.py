"""``lienthong access …``: keep the warehouse's roles, grants and row-level security in step."""
from __future__ import annotations

import click

from lienthong.access.roles import AccessConfigError, role_set, sync_roles


@click.group("access")
def access() -> None:
    """Roles, grants and row-level security of the warehouse."""


@access.command("sync")
@click.option("--url", default=None, help="Warehouse URL of its owner (default: the configured one).")
@click.option("--prefix", default=None, help="Role name prefix (default: LIENTHONG_ROLE_PREFIX or lienthong).")
def sync_command(url: str | None, prefix: str | None) -> None:
    """Create or update every role, grant and policy (idempotent). Passwords come from
    LIENTHONG_<ROLE>_PASSWORD variables, e.g. LIENTHONG_BI_PASSWORD; roles without one stay group roles."""
    try:
        report = sync_roles(url, prefix=prefix)
    except (AccessConfigError, RuntimeError) as err:
        raise click.ClickException(str(err)) from err
    for line in report.lines():
        click.echo(line)


@access.command("roles")
@click.option("--prefix", default=None, help="Role name prefix (default: LIENTHONG_ROLE_PREFIX or lienthong).")
def roles_command(prefix: str | None) -> None:
    """List the role names and the variable that gives each its password (no server needed)."""
    try:
        roles = role_set(prefix)
    except (AccessConfigError, ValueError) as err:
        raise click.ClickException(str(err)) from err
    for name, password_env in roles.all_roles().items():
        click.echo(f"{name}\t{password_env}")
