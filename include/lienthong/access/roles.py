"""Least-privilege roles, grants and row-level security, kept in step with the organisation configs.

``sync_roles(url)`` is the one entry point (CLI: ``lienthong access sync``; DAGs: before and after
the dbt build). It is idempotent and declarative: in one transaction it creates the roles, hands
each writer its schemas, revokes every managed role's privileges on the managed schemas and grants
exactly what ``grants.sql`` and the per-table rules below say. A dbt rebuild drops a table's grants
and policies; analysts get no default privileges, so a rebuilt table stays closed to them until the
next sync re-applies its row-level security (fail closed).

Every identifier is composed with ``psycopg.sql.Identifier``; role names come from a validated
prefix and validated organisation codes, and anything else is refused with ``AccessConfigError``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from lienthong.config.organisations import CODE_PATTERN, OrganisationConfig, load_organisations
from lienthong.warehouse import connect, resolve_url

log = logging.getLogger(__name__)

GRANTS_SQL = Path(__file__).with_name("grants.sql")
RLS_GUARD_SQL = Path(__file__).with_name("row_security_guard.sql")
DEFAULT_PREFIX = "lienthong"
PREFIX_ENV = "LIENTHONG_ROLE_PREFIX"
PSEUDONYM_KEY_ENV = "LIENTHONG_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 32
# Short enough that prefix + "_analyst_" + a 31-character code fits PostgreSQL's 63-byte names.
PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,19}$")
_SYNC_LOCK = 7_180_101  # advisory lock id: one sync at a time per database

# Who owns (writes) each managed schema: a writer's privileges come from ownership.
SCHEMA_OWNERS: Mapping[str, str] = {
    "raw": "loader",
    "identity": "linker",
    "staging": "transformer",
    "intermediate": "transformer",
    "marts": "transformer",
    "review": "transformer",
    "dq": "history",  # the validation history: append-only for the roles that validate
    "bi": "transformer",
    "access": "transformer",  # the pseudonym key: readable by its owner only
    # dbt's seeds (admin units, the organisations, outcome kinds): the transformer's staging views
    # read them, and a view reads with its owner's privileges, so a selective dbt run after a sync works.
    "reference": "transformer",
}
BI_SCHEMA = "bi"
# bi relations every analyst may read (cross-organisation figures only): the models of the
# aggregates folder, whose declared sensitivity the project-rules test ties to this prefix.
AGGREGATE_PREFIX = "agg_"
ORG_COLUMN = "org_code"
# What the reviewer does in the linker's schema: read the evidence, decide pairs, clear the queue.
REVIEWER_IDENTITY: Mapping[str, tuple[str, ...]] = {
    "review_queue": ("select", "delete"),
    "review_decisions": ("select", "insert", "update"),
    "records": ("select",),
    "record_person": ("select",),
    "person": ("select",),
    "person_events": ("select",),
    "match_pairs": ("select",),
    "duplicate_memberships": ("select",),
}


class AccessConfigError(ValueError):
    """A role prefix, organisation code or setting that cannot safely become a role or policy."""


@dataclass(frozen=True)
class RoleSet:
    """The project's role names for one prefix and the configured organisations."""

    prefix: str
    org_codes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not PREFIX_PATTERN.match(self.prefix):
            raise AccessConfigError(
                f"role prefix {self.prefix!r} must be lower_snake_case, 2-20 characters, starting with a letter")
        for code in self.org_codes:
            if not isinstance(code, str) or not CODE_PATTERN.match(code):
                raise AccessConfigError(
                    f"organisation code {code!r} cannot name a role: it must be lower_snake_case, "
                    "2-31 characters, starting with a letter")

    def name(self, suffix: str) -> str:
        return f"{self.prefix}_{suffix}"

    def analyst_for(self, code: str) -> str:
        if code not in self.org_codes:
            raise AccessConfigError(f"no configured organisation {code!r}")
        return self.name(f"analyst_{code}")

    @property
    def functional(self) -> tuple[str, ...]:
        """Suffixes of the roles every deployment has."""
        return ("loader", "transformer", "linker", "history", "bi", "reviewer", "analyst")

    def all_roles(self) -> dict[str, str]:
        """Role name -> the environment variable holding its password (login roles only)."""
        suffixes = [*self.functional, *(f"analyst_{code}" for code in self.org_codes)]
        return {self.name(s): f"LIENTHONG_{s.upper()}_PASSWORD" for s in suffixes}


@dataclass
class SyncReport:
    roles: dict[str, bool] = field(default_factory=dict)  # role -> can log in
    row_secured: list[str] = field(default_factory=list)  # bi tables with per-organisation policies
    aggregates: list[str] = field(default_factory=list)  # bi relations open to every analyst
    bi_only: list[str] = field(default_factory=list)  # bi relations for the bi and reviewer roles only
    pseudonym_key: str = "unchanged"
    row_security_guard: bool = False  # the event trigger keeping bi's row-level security is installed
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"role {name}: {'login' if login else 'group (nologin)'}" for name, login in self.roles.items()]
        out += [f"row-level security: bi.{t}" for t in self.row_secured]
        out += [f"aggregate for all analysts: bi.{t}" for t in self.aggregates]
        out += [f"bi and reviewer only: bi.{t}" for t in self.bi_only]
        out.append(f"pseudonym key: {self.pseudonym_key}")
        out.append(f"row-level security guard: {'installed' if self.row_security_guard else 'not installed'}")
        out += [f"warning: {w}" for w in self.warnings]
        return out


def role_set(prefix: str | None = None, organisations: Iterable[OrganisationConfig] | None = None) -> RoleSet:
    orgs = load_organisations() if organisations is None else organisations
    return RoleSet(prefix or os.environ.get(PREFIX_ENV) or DEFAULT_PREFIX, tuple(o.code for o in orgs))


def assume_role(conn: psycopg.Connection, role: str, error: type[Exception], *, reading: str, account: str,
                local: bool = False) -> None:
    """Read what follows as `role` (a whole session, or with `local` the transaction only); `error`
    says what to do when the connecting account may not."""
    statement = "set local role {}" if local else "set role {}"
    try:
        conn.execute(sql.SQL(statement).format(sql.Identifier(role)))
    except psycopg.Error as err:
        raise error(f"cannot read {reading} as {role!r} ({err.diag.message_primary}): run `lienthong access sync` "
                    f"as the warehouse owner; the account {account} must be a member of that role") from err


def scram_verifier(password: str, iterations: int = 4096) -> str:
    """A SCRAM-SHA-256 verifier, so the clear password never reaches the server or its logs."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda raw: base64.b64encode(raw).decode("ascii")  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def sync_roles(url: str | None = None, *, prefix: str | None = None,
               organisations: Iterable[OrganisationConfig] | None = None,
               environ: Mapping[str, str] | None = None) -> SyncReport:
    """Create or update roles, schema ownership, grants, RLS policies and the pseudonym key."""
    roles = role_set(prefix, organisations)
    environ = os.environ if environ is None else environ
    report = SyncReport()
    with connect(url or resolve_url()) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_SYNC_LOCK,))
        admin, superuser, createrole = conn.execute(
            "select current_user, rolsuper, rolcreaterole from pg_roles where rolname = current_user").fetchone()
        if not (superuser or createrole):
            raise AccessConfigError(
                f"{admin!r} cannot create roles: run the sync as the warehouse owner with CREATEROLE "
                f"(`alter role {admin} createrole;` by an administrator)")
        _ensure_roles(conn, roles, environ, report)
        if not superuser:
            # The account running the pipeline keeps acting on what the writer roles own, and builds
            # the public pages as the analyst role (lienthong.site: `set role`, so only bi.agg_*).
            conn.execute(sql.SQL("grant {} to {}").format(
                sql.SQL(", ").join(sql.Identifier(roles.name(s))
                                   for s in sorted({*SCHEMA_OWNERS.values(), "analyst"})),
                sql.Identifier(admin)))
        _assign_owners(conn, roles)
        _revoke_managed(conn, roles)
        conn.execute(sql.SQL(GRANTS_SQL.read_text()).format(
            database=sql.Identifier(conn.info.dbname), admin=sql.Identifier(admin),
            **{s: sql.Identifier(roles.name(s)) for s in roles.functional}))
        _grant_reviewer_identity(conn, roles, report)
        _secure_bi(conn, roles, report)
        _guard_row_security(conn, roles, report, superuser)
        report.pseudonym_key = _store_pseudonym_key(conn, roles, environ)
    log.info("access sync: %s", "; ".join(report.lines()))
    return report


def _ensure_roles(conn: psycopg.Connection, roles: RoleSet, environ: Mapping[str, str], report: SyncReport) -> None:
    existing = {r for (r,) in conn.execute("select rolname from pg_roles where rolname like %s",
                                           (roles.prefix + r"\_%",))}
    for name, password_env in roles.all_roles().items():
        ident = sql.Identifier(name)
        if name not in existing:
            conn.execute(sql.SQL("create role {} nologin").format(ident))
        powerful = conn.execute("select rolsuper or rolbypassrls or rolcreaterole or rolcreatedb or rolreplication"
                                " from pg_roles where rolname = %s", (name,)).fetchone()[0]
        if powerful:
            # Nobody but an owner bypasses row-level security; none of these roles administers anything.
            conn.execute(sql.SQL("alter role {} nosuperuser nocreatedb nocreaterole noreplication nobypassrls")
                         .format(ident))
        password = environ.get(password_env)
        if password:
            conn.execute(sql.SQL("alter role {} login password {}").format(
                ident, sql.Literal(scram_verifier(password))))
        # Without a password a role keeps its login state: a sync from an environment lacking the
        # secret (a DAG task, a laptop) must not lock a running BI tool out.
    for code in roles.org_codes:
        conn.execute(sql.SQL("grant {} to {}").format(
            sql.Identifier(roles.name("analyst")), sql.Identifier(roles.analyst_for(code))))
    report.roles = dict(conn.execute(
        "select rolname, rolcanlogin from pg_roles where rolname = any(%s) order by rolname",
        (list(roles.all_roles()),)).fetchall())


def _assign_owners(conn: psycopg.Connection, roles: RoleSet) -> None:
    for schema, suffix in SCHEMA_OWNERS.items():
        owner = sql.Identifier(roles.name(suffix))
        conn.execute(sql.SQL("create schema if not exists {} authorization {}").format(sql.Identifier(schema), owner))
        conn.execute(sql.SQL("alter schema {} owner to {}").format(sql.Identifier(schema), owner))
        # Sequences behind identity/serial columns follow their table and cannot be moved alone.
        relations = conn.execute(
            """select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
                 and pg_get_userbyid(c.relowner) <> %s
                 and not exists (select 1 from pg_depend d where d.objid = c.oid
                                 and d.classid = 'pg_class'::regclass and d.deptype in ('a', 'i'))""",
            (schema, roles.name(suffix))).fetchall()
        for relname, relkind in relations:
            kind = {"v": "view", "m": "materialized view", "S": "sequence", "f": "foreign table"}.get(relkind, "table")
            conn.execute(sql.SQL("alter {} {} owner to {}").format(
                sql.SQL(kind), sql.Identifier(schema, relname), owner))


def _revoke_managed(conn: psycopg.Connection, roles: RoleSet) -> None:
    """Start from nothing: no managed role (nor PUBLIC) keeps a privilege it is not granted below."""
    for schema, owner_suffix in SCHEMA_OWNERS.items():
        grantees = [sql.Identifier(name) for name in roles.all_roles() if name != roles.name(owner_suffix)]
        targets = sql.SQL(", ").join([sql.SQL("public"), *grantees])
        ident = sql.Identifier(schema)
        conn.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(ident, targets))
        conn.execute(sql.SQL("revoke all on all sequences in schema {} from {}").format(ident, targets))
        conn.execute(sql.SQL("revoke all on schema {} from {}").format(ident, targets))


def _grant_reviewer_identity(conn: psycopg.Connection, roles: RoleSet, report: SyncReport) -> None:
    present = {r for (r,) in conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
        "where n.nspname = 'identity' and c.relname = any(%s)", (list(REVIEWER_IDENTITY),))}
    for table, privileges in REVIEWER_IDENTITY.items():
        if table not in present:
            report.warnings.append(f"identity.{table} does not exist yet: the reviewer gets it at the next sync")
            continue
        conn.execute(sql.SQL("grant {} on {} to {}").format(
            sql.SQL(", ").join(sql.SQL(p) for p in privileges),
            sql.Identifier("identity", table), sql.Identifier(roles.name("reviewer"))))


def _secure_bi(conn: psycopg.Connection, roles: RoleSet, report: SyncReport) -> None:
    """Per bi relation: aggregates to every analyst; organisation rows to that organisation's analysts
    under row-level security; anything else (person-level, across organisations) to bi/reviewer only."""
    relations = conn.execute(
        """select c.relname, c.relkind,
                  exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = %s
                          and not a.attisdropped) as has_org
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm') order by c.relname""",
        (ORG_COLUMN, BI_SCHEMA)).fetchall()
    for relname, relkind, has_org in relations:
        table = sql.Identifier(BI_SCHEMA, relname)
        if relname.startswith(AGGREGATE_PREFIX):
            conn.execute(sql.SQL("grant select on {} to {}").format(table, sql.Identifier(roles.name("analyst"))))
            report.aggregates.append(relname)
        elif has_org and relkind in ("r", "p"):
            _row_security(conn, roles, relname)
            report.row_secured.append(relname)
        else:
            report.bi_only.append(relname)
            if has_org:
                # A view runs with its owner's rights, which bypass the policies underneath.
                report.warnings.append(f"bi.{relname} has {ORG_COLUMN} but is not a table: "
                                       "analysts get no access (make it a table to secure its rows)")


def _row_security(conn: psycopg.Connection, roles: RoleSet, relname: str) -> None:
    table = sql.Identifier(BI_SCHEMA, relname)
    # Forced: the owner (the transformer, and so dbt) reads through the policies too.
    conn.execute(sql.SQL("alter table {} enable row level security, force row level security").format(table))
    ours = conn.execute("select policyname from pg_policies where schemaname = %s and tablename = %s "
                        "and policyname like %s", (BI_SCHEMA, relname, roles.prefix + r"\_%")).fetchall()
    for (policy,) in ours:
        conn.execute(sql.SQL("drop policy {} on {}").format(sql.Identifier(policy), table))
    conn.execute(sql.SQL("create policy {} on {} for select to {} using (true)").format(
        sql.Identifier(roles.name("all_organisations")), table,
        sql.SQL(", ").join(sql.Identifier(roles.name(s)) for s in ("bi", "reviewer", "transformer"))))
    for code in roles.org_codes:
        analyst = sql.Identifier(roles.analyst_for(code))
        conn.execute(sql.SQL("create policy {} on {} for select to {} using ({} = {})").format(
            sql.Identifier(roles.name(f"org_{code}")), table, analyst,
            sql.Identifier(ORG_COLUMN), sql.Literal(code)))
        conn.execute(sql.SQL("grant select on {} to {}").format(table, analyst))


def _guard_row_security(conn: psycopg.Connection, roles: RoleSet, report: SyncReport, superuser: bool) -> None:
    """Install the event trigger that keeps bi's row-level security as the sync set it (superuser only)."""
    if not superuser:
        report.warnings.append(
            "not a superuser: the guard keeping bi's row-level security is not installed, so the transformer "
            "(owner of the bi tables) could disable it until the next sync; run the sync once as a superuser")
        return
    conn.execute(sql.SQL(RLS_GUARD_SQL.read_text()).format(
        function=sql.Identifier("public", roles.name("keep_bi_row_security")),
        on_ddl=sql.Identifier(roles.name("keep_bi_row_security")),
        on_drop=sql.Identifier(roles.name("keep_bi_policies"))))
    report.row_security_guard = True


def _store_pseudonym_key(conn: psycopg.Connection, roles: RoleSet, environ: Mapping[str, str]) -> str:
    """Put LIENTHONG_PSEUDONYM_KEY into access.pseudonym_key, read by the bi models at build time.

    Without the variable the dbt model keeps (or creates) a random key inside the warehouse."""
    key = environ.get(PSEUDONYM_KEY_ENV)
    if not key:
        return "kept in the warehouse (LIENTHONG_PSEUDONYM_KEY unset)"
    if len(key) < MIN_KEY_LENGTH:
        raise AccessConfigError(f"{PSEUDONYM_KEY_ENV} must be at least {MIN_KEY_LENGTH} characters "
                                "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
    conn.execute(sql.SQL("create table if not exists access.pseudonym_key (pseudonym_key text not null)"))
    conn.execute(sql.SQL("alter table access.pseudonym_key owner to {}").format(
        sql.Identifier(roles.name("transformer"))))
    stored = [k for (k,) in conn.execute("select pseudonym_key from access.pseudonym_key")]
    if stored == [key]:
        return "from LIENTHONG_PSEUDONYM_KEY (unchanged)"
    conn.execute("delete from access.pseudonym_key")
    conn.execute("insert into access.pseudonym_key (pseudonym_key) values (%s)", (key,))
    return "from LIENTHONG_PSEUDONYM_KEY (changed: every person_key changes at the next dbt build)"
