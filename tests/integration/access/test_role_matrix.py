"""What every role can and cannot read or write, against the real PostgreSQL (docs/bi.md, role matrix)."""
from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from lienthong.access import sync_roles

from .conftest import PASSWORD_ENV, ROWS_PER_ORG, attempt

# Each check: an action and the statement that tries it (run as the role, then rolled back).
CHECKS = {
    "read raw.batches": "select * from raw.batches",
    "read raw roster": "select * from raw.hoi_lhpn__roster",
    "read staging": "select * from staging.stg_hoi_lhpn__members",
    "read reference": "select * from reference.admin_units",
    "read marts.dim_person": "select * from marts.dim_person",
    "read review": "select * from review.rpt_members_by_commune",
    "read identity.person": "select * from identity.person",
    "read identity.review_queue": "select * from identity.review_queue",
    "read bi.persons": "select * from bi.persons",
    "read bi.memberships": "select * from bi.memberships",
    "read bi.agg_*": "select * from bi.agg_organisation_overlap, bi.agg_members_by_commune",
    "read access.pseudonym_key": "select * from access.pseudonym_key",
    "write raw.batches": "insert into raw.batches (org_code, entity, delivery_date, source, checksum, status)"
                         " values ('hoi_lhpn', 'roster', '2026-01-01', 'x', 'x', 'loaded')",
    "write marts": "delete from marts.fct_membership",
    "write bi": "delete from bi.memberships",
    "write identity.review_decisions": "insert into identity.review_decisions (record_key_a, record_key_b,"
                                       " decision, reviewer) values ('a', 'b', 'same', 'test')",
    "create in bi": "create table bi.mine (x int)",
    "create in public": "create table public.mine (x int)",
}
Y, N = True, False
# role suffix -> allowed?, in the order of CHECKS
MATRIX = {
    "loader":           [Y, Y, N, N, N, N, N, N, N, N, N, N, Y, N, N, N, N, N],
    "transformer":      [Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, N, Y, Y, N, Y, N],
    "linker":           [N, N, Y, N, N, N, Y, Y, N, N, N, N, N, N, N, Y, N, N],
    "bi":               [N, N, N, N, N, N, N, N, Y, Y, Y, N, N, N, N, N, N, N],
    "reviewer":         [N, N, N, N, Y, Y, Y, Y, Y, Y, Y, N, N, N, N, Y, N, N],
    "analyst_hoi_lhpn": [N, N, N, N, N, N, N, N, N, Y, Y, N, N, N, N, N, N, N],
    "analyst_hoi_nd":   [N, N, N, N, N, N, N, N, N, Y, Y, N, N, N, N, N, N, N],
}
CASES = [(role, action, allowed) for role, row in MATRIX.items() for action, allowed in zip(CHECKS, row)]


def visible_orgs(url: str, role: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
        return dict(conn.execute("select org_code, count(*) from bi.memberships group by 1").fetchall())


@pytest.mark.parametrize(("suffix", "action", "allowed"), CASES, ids=[f"{r}-{a}" for r, a, _ in CASES])
def test_role_matrix(warehouse, suffix, action, allowed):
    assert attempt(warehouse.url, warehouse.role(suffix), CHECKS[action]) is allowed


@pytest.mark.parametrize("suffix", ["bi", "reviewer"])
def test_bi_and_reviewer_see_every_organisation(warehouse, suffix):
    assert visible_orgs(warehouse.url, warehouse.role(suffix)) == ROWS_PER_ORG


@pytest.mark.parametrize("org", ["hoi_lhpn", "hoi_nd", "doan_tn"])
def test_an_analyst_sees_only_their_organisations_members(warehouse, org):
    expected = {org: ROWS_PER_ORG[org]} if org in ROWS_PER_ORG else {}
    assert visible_orgs(warehouse.url, warehouse.role(f"analyst_{org}")) == expected


def test_analysts_see_cross_organisation_figures_only_as_aggregates(warehouse):
    with psycopg.connect(warehouse.url) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(warehouse.role("analyst_hoi_nd"))))
        overlap = conn.execute("select org_code, other_org_code, people, suppressed from bi.agg_organisation_overlap "
                               "where org_code <> other_org_code order by 1").fetchall()
    # One person on both rolls: the pair is listed, its count hidden (it would name that person).
    assert overlap == [("hoi_ccb", "hoi_nd", None, True), ("hoi_nd", "hoi_ccb", None, True)]


def test_no_aggregate_shows_a_count_small_enough_to_single_people_out(warehouse):
    with psycopg.connect(warehouse.url) as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(warehouse.role("analyst_hoi_nd"))))
        small = conn.execute(
            "select count(*) from bi.agg_members_by_commune where members between 1 and 4 or people between 1 and 4"
            " or people_in_other_organisations between 1 and 4").fetchone()[0]
        small += conn.execute("select count(*) from bi.agg_organisation_overlap where people between 1 and 4").fetchone()[0]
        hidden = conn.execute("select count(*) from bi.agg_members_by_commune where suppressed and members is null"
                              ).fetchone()[0]
    assert small == 0
    assert hidden > 0  # the fixture's communes are all small: suppressed, flagged, still listed


def test_no_managed_role_bypasses_row_level_security_or_administers(warehouse):
    with psycopg.connect(warehouse.url) as conn:
        powers = conn.execute(
            "select rolname from pg_roles where rolname like %s and (rolsuper or rolbypassrls or "
            "rolcreaterole or rolcreatedb or rolreplication)", (warehouse.prefix + r"\_%",)).fetchall()
    assert powers == []


def test_login_only_with_a_password_from_the_environment(warehouse):
    with psycopg.connect(warehouse.url) as conn:
        logins = dict(conn.execute("select rolname, rolcanlogin from pg_roles where rolname like %s",
                                   (warehouse.prefix + r"\_%",)).fetchall())
    assert {r for r, login in logins.items() if login} == {warehouse.role("bi"), warehouse.role("analyst_hoi_lhpn")}
    bi_url = warehouse.login_url(warehouse.role("bi"), PASSWORD_ENV["LIENTHONG_BI_PASSWORD"])
    with psycopg.connect(bi_url) as conn:
        assert conn.execute("select count(*) from bi.persons").fetchone()[0] == 3
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from raw.batches")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(warehouse.login_url(warehouse.role("bi"), "wrong")).close()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(warehouse.login_url(warehouse.role("reviewer"), "anything")).close()


def test_a_rebuilt_table_is_closed_to_analysts_until_the_next_sync(warehouse):
    # What a dbt rebuild does: a new table, without grants or policies.
    with psycopg.connect(warehouse.url) as conn:
        conn.execute("create table bi.memberships__new (like bi.memberships)")
        conn.execute("insert into bi.memberships__new select * from bi.memberships")
        conn.execute("drop table bi.memberships")
        conn.execute("alter table bi.memberships__new rename to memberships")
    analyst = warehouse.role("analyst_hoi_lhpn")
    assert attempt(warehouse.url, analyst, CHECKS["read bi.memberships"]) is False
    assert visible_orgs(warehouse.url, warehouse.role("bi")) == ROWS_PER_ORG  # default privileges
    report = sync_roles(warehouse.url, prefix=warehouse.prefix, environ=PASSWORD_ENV)
    assert "memberships" in report.row_secured
    assert visible_orgs(warehouse.url, analyst) == {"hoi_lhpn": 2}


def test_sync_is_idempotent_and_keeps_logins_without_the_secret(warehouse):
    first = sync_roles(warehouse.url, prefix=warehouse.prefix, environ=PASSWORD_ENV)
    again = sync_roles(warehouse.url, prefix=warehouse.prefix, environ={})
    assert again.roles == first.roles
    assert again.row_secured == first.row_secured == ["memberships"]
    assert again.aggregates == ["agg_members_by_commune", "agg_organisation_overlap"]
    assert again.bi_only == ["persons"]
    assert all(attempt(warehouse.url, warehouse.role(s), CHECKS[a]) is ok for s, a, ok in CASES)


def test_a_role_the_account_cannot_take_says_what_to_run(server_url):
    """The reviewer's and the analyst's readers switch roles through one helper; its refusal names the
    role and the command that grants it, and leaves the connection usable."""
    from lienthong.access.roles import assume_role
    from lienthong.warehouse import connect

    class Refused(RuntimeError):
        pass

    with connect(server_url) as conn:
        with pytest.raises(Refused, match=r"cannot read the lists as 'no_such_role_x'.*lienthong access sync"):
            assume_role(conn, "no_such_role_x", Refused, reading="the lists", account="reading them")
        conn.rollback()
        before = conn.execute("select current_user").fetchone()[0]
        conn.execute("create role assume_role_probe")
        conn.commit()
        try:
            assume_role(conn, "assume_role_probe", Refused, reading="the lists", account="reading them", local=True)
            assert conn.execute("select current_user").fetchone()[0] == "assume_role_probe"
            conn.rollback()  # `local`: the role ends with the transaction
            assert conn.execute("select current_user").fetchone()[0] == before
        finally:
            conn.rollback()
            conn.execute("drop role if exists assume_role_probe")
            conn.commit()
