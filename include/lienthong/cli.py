"""`lienthong …`: the command line for data engineers."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from lienthong.config.settings import DEFAULT_SEED, keep_private, load_settings


class LazyGroup(click.Group):
    """Command groups that live with their package, imported only when invoked: their packages
    pull in pandas, Splink or the sample geography, which `lienthong db status` should not wait for."""

    LAZY = {
        "generate": ("lienthong.sample.commands", "generate", "Generate the sample province."),
        "serve-sample-api": ("lienthong.sample.commands", "serve_sample_api",
                             "Serve the Youth Union and Trade Union sample APIs on 127.0.0.1."),
        "link": ("lienthong.linking.commands", "link_commands", "Conformed persons: link, explain, review queue, decide."),
        "access": ("lienthong.access.commands", "access", "Roles, grants, row-level security: sync and list."),
        "site": ("lienthong.site.commands", "site", "Public information pages: build for a month, preview."),
    }

    def list_commands(self, ctx):
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx, name):
        if name in self.LAZY:
            import importlib

            module, attribute, _ = self.LAZY[name]
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def format_commands(self, ctx, formatter):
        rows = [(name, (self.commands[name].get_short_help_str() if name in self.commands else self.LAZY[name][2]))
                for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Liên Thông: the membership data warehouse for Vietnam's mass organisations."""
    keep_private()


# -- warehouse -------------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """The warehouse PostgreSQL (embedded unless LIENTHONG_WAREHOUSE_URL is set)."""


def _fail(err: Exception) -> None:
    raise click.ClickException(str(err)) from err


@db.command("start")
def db_start() -> None:
    """Start the embedded PostgreSQL (reused if already running) and prepare the database."""
    from lienthong.warehouse import ensure_ready, resolve_url
    from lienthong.warehouse.connection import mask

    try:
        url = resolve_url(start=True)
        ensure_ready(url)
    except RuntimeError as err:
        _fail(err)
    click.echo(f"warehouse ready at {mask(url)}")


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL."""
    from lienthong.warehouse.connection import embedded_server

    settings = load_settings()
    if settings.warehouse_url:
        raise click.ClickException("LIENTHONG_WAREHOUSE_URL is set: that server is not ours to stop.")
    stopped = embedded_server(settings).stop()
    click.echo("stopped" if stopped else "was not running")


@db.command("status")
def db_status() -> None:
    """Say which warehouse is configured and whether it answers."""
    from lienthong.warehouse import connect
    from lienthong.warehouse.connection import embedded_server, mask

    settings = load_settings()
    if settings.warehouse_url:
        try:
            with connect(settings.warehouse_url) as conn:
                version = conn.execute("show server_version").fetchone()[0]
        except RuntimeError as err:
            _fail(err)
        click.echo(f"external warehouse {mask(settings.warehouse_url)}: up (PostgreSQL {version})")
        return
    status = embedded_server(settings).status()
    state = f"running (pid {status.pid}) on 127.0.0.1:{status.port}" if status.running else "stopped"
    click.echo(f"embedded warehouse in {status.pgdata}: {state}")
    if not status.running:
        sys.exit(3)


@db.command("url")
@click.option("--show-password", is_flag=True, help="Print the password too (for a BI tool's setup).")
def db_url(show_password: bool) -> None:
    """Print the warehouse URL."""
    from lienthong.warehouse import resolve_url
    from lienthong.warehouse.connection import mask

    try:
        url = resolve_url()
    except RuntimeError as err:
        _fail(err)
    click.echo(url if show_password else mask(url))


@db.command("reset")
@click.confirmation_option(prompt="This deletes the embedded warehouse and all its data. Continue?")
def db_reset() -> None:
    """Delete and recreate the embedded PostgreSQL (its data is lost)."""
    import shutil

    from lienthong.warehouse.connection import embedded_server

    settings = load_settings()
    server = embedded_server(settings)
    if server.status().running:
        server.stop()
    shutil.rmtree(settings.pgdata, ignore_errors=True)
    server.secret_file.unlink(missing_ok=True)
    click.echo(f"started afresh at {server.start().split('@')[-1]}")


# -- organisation configs --------------------------------------------------------------------------
@main.group("config")
def config_group() -> None:
    """Organisation configs: check a folder of them before pointing LIENTHONG_ORG_CONFIG_DIR at it."""


@config_group.command("check")
@click.argument("config_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--sample-file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A delivered file to dry-run through its mapping (nothing lands).")
@click.option("--org", "org_code", help="The organisation the sample file is from (default: by its path).")
@click.option("--entity", "kind", help="The entity the sample file is (default: by its path).")
def config_check(config_dir: Path, sample_file: Path | None, org_code: str | None, kind: str | None) -> None:
    """Validate every config in CONFIG_DIR; with --sample-file, show how that file would land."""
    from lienthong.config.check import check_file, describe, find_entity
    from lienthong.config.organisations import OrganisationConfigError, load_organisations
    from lienthong.sources.base import SourceError

    try:
        orgs = load_organisations(config_dir)
    except OrganisationConfigError as err:
        _fail(err)
    for org in orgs:
        for line in describe(org):
            click.echo(line)
    click.echo(f"{len(orgs)} organisation config(s) valid in {config_dir}")
    if sample_file is None:
        return
    try:
        if org_code and kind:
            org = next((o for o in orgs if o.code == org_code), None)
            if org is None:
                raise ValueError(f"no organisation {org_code!r} in {config_dir}")
            entity = org.entity(kind)
        else:
            org, entity = find_entity(orgs, sample_file)
        report = check_file(org, entity, sample_file)
    except (ValueError, KeyError, SourceError) as err:
        _fail(err)
    click.echo("")
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@config_group.command("schema")
@click.option("--check", is_flag=True, help="Only check that the committed schema is up to date.")
def config_schema(check: bool) -> None:
    """Write the organisation config's JSON Schema (generated from the pydantic model)."""
    from lienthong.config.schema import SCHEMA_PATH, render_schema, schema_is_current

    if check:
        if not schema_is_current():
            raise click.ClickException(f"{SCHEMA_PATH} is stale: run `lienthong config schema`.")
        click.echo(f"{SCHEMA_PATH} is up to date")
        return
    SCHEMA_PATH.write_text(render_schema(), encoding="utf-8")
    click.echo(f"wrote {SCHEMA_PATH}")


# -- persons ---------------------------------------------------------------------------------------
@main.group()
def persons() -> None:
    """Conformed persons as the organisations get them back."""


@persons.command("export")
@click.option("--org", "org_code", required=True, help="Organisation code.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="CSV file to write.")
def persons_export(org_code: str, out: Path) -> None:
    """For each record of ORG's current roll: its record id as delivered, its person id, and the
    other organisations the person is in (the liên thông feedback to the organisation)."""
    from lienthong.config.organisations import OrganisationConfigError, get_organisation
    from lienthong.warehouse import resolve_url
    from lienthong.warehouse.persons_export import export_persons

    try:
        org = get_organisation(org_code)
        count = export_persons(resolve_url(start=True), org.code, out)
    except (OrganisationConfigError, RuntimeError) as err:
        _fail(err)
    click.echo(f"{count} records of {org.code} written to {out}")


# -- the pipeline ------------------------------------------------------------------------------------
@main.command("run")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The day to process (default: the sample's first delivery day, when every "
                   "organisation sends its full roll).")
@click.option("--scale", default="demo", show_default=True, help="Sample size to generate if none exists.")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, help="Sample generator seed.")
def run(day, scale: str, seed: int) -> None:
    """Run the nightly pipeline end to end: ingest every organisation, build, validate, review."""
    from lienthong.pipeline.nightly import run_nightly

    settings = load_settings()
    ensure_sample(settings, scale, seed)
    day = day.date() if day else default_day(settings)
    click.echo(f"Nightly pipeline for {day}")
    try:
        result = run_nightly(day, settings, echo=click.echo)
    except RuntimeError as err:
        _fail(err)
    if result.failed:
        names = ", ".join(r.dag_id for r in result.failed)
        raise click.ClickException(f"finished with failures in: {names}. The logs named above say why.")
    click.echo(f"Done. Review report (HTML and Excel): {result.review_folder}")
    for path in sorted(result.review_folder.glob("bao_cao_ra_soat_*")):
        click.echo(f"  {path}")


@main.command("backfill")
@click.option("--org", "orgs", multiple=True, help="Organisation code (repeatable; default: all).")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First day.")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True, help="Last day (inclusive).")
@click.option("--build/--no-build", default=False, help="Also run warehouse_build after each day.")
def backfill_command(orgs, first, last, build: bool) -> None:
    """Re-ingest a range of days with the same DAG code, without a scheduler (safe to repeat)."""
    from datetime import timedelta

    from lienthong.config.organisations import get_organisation, load_organisations
    from lienthong.pipeline.nightly import backfill

    if last < first:
        raise click.BadParameter("--to is before --from")
    try:
        codes = [get_organisation(code).code for code in orgs] or [o.code for o in load_organisations()]
    except ValueError as err:
        _fail(err)
    days = [(first + timedelta(days=n)).date() for n in range((last - first).days + 1)]
    dag_ids = [f"ingest_{code}" for code in codes] + (["warehouse_build"] if build else [])
    click.echo(f"Backfilling {', '.join(dag_ids)} for {days[0]} … {days[-1]} ({len(days)} days)")
    runs = backfill(dag_ids, days, echo=click.echo)
    failed = [r for r in runs if not r.ok]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(runs)} runs failed; their logs are named above.")
    click.echo(f"Done: {len(runs)} runs.")


# -- landed batches -------------------------------------------------------------------------------
@main.group()
def batch() -> None:
    """Landed batches: list the held ones, release or reject them (write-audit-publish)."""


@batch.command("list")
@click.option("--status", default="held", show_default=True,
              type=click.Choice(["held", "rejected", "loaded", "replaced", "duplicate", "all"]))
def batch_list(status: str) -> None:
    """Batches with a status (held ones wait for an operator), newest first."""
    from lienthong.warehouse import connect, resolve_url

    with connect(resolve_url(load_settings(), start=True)) as conn:
        rows = conn.execute(
            "select batch_id, org_code, entity, delivery_date, status, row_count, quarantined_count, note"
            " from raw.batches where %s = 'all' or status = %s order by batch_id desc limit 200",
            (status, status)).fetchall()
    for batch_id, org, entity, day, state, rows_, quarantined, note in rows:
        click.echo(f"{batch_id:>6} {org}/{entity} {day} {state}: {rows_} rows, {quarantined} quarantined"
                   + (f" — {note}" if note else ""))
    if not rows:
        click.echo(f"No {status} batches." if status != "all" else "No batches.")


def _batch_decision(batch_id: int, release: bool, reason: str) -> None:
    from lienthong.landing.raw import BatchStateError, reject_batch, release_batch
    from lienthong.warehouse import connect, resolve_url

    try:
        with connect(resolve_url(load_settings(), start=True)) as conn:
            result = release_batch(conn, batch_id, reason) if release else reject_batch(conn, batch_id, reason)
    except BatchStateError as err:
        _fail(err)
    click.echo(f"batch {batch_id} ({result.org_code}/{result.entity} {result.delivery_date}): {result.status}, "
               f"{result.row_count} rows, {result.quarantined_count} quarantined")
    if release:
        click.echo("The next warehouse build reads it (`lienthong run` or the warehouse_build DAG).")


@batch.command("release")
@click.argument("batch_id", type=int)
@click.option("--reason", default="released by an operator", show_default=True, help="Kept in the batch's note.")
def batch_release(batch_id: int, reason: str) -> None:
    """Make a held (or rejected) batch live; it replaces its day's live batch."""
    _batch_decision(batch_id, True, reason)


@batch.command("reject")
@click.argument("batch_id", type=int)
@click.option("--reason", default="rejected by an operator", show_default=True, help="Kept in the batch's note.")
def batch_reject(batch_id: int, reason: str) -> None:
    """Reject a held batch for good: it is never built from (its rows stay in raw for inspection)."""
    _batch_decision(batch_id, False, reason)


def ensure_sample(settings, scale: str, seed: int) -> None:
    """Generate the sample province once, when the drop folder is the sample's and it is empty."""
    from lienthong.sample import generate

    if settings.drop_dir.exists() or settings.drop_dir != settings.sample_dir / "deliveries":
        return
    click.echo(f"Generating the {scale} sample province (seed {seed}) in {settings.sample_dir} …")
    generate(scale=scale, seed=seed, out=settings.sample_dir)


def default_day(settings):
    """The sample's first delivery day, or yesterday when the drop folder is a real one."""
    import json
    from datetime import date, timedelta

    manifest = settings.sample_dir / "manifest.json"
    if settings.drop_dir == settings.sample_dir / "deliveries" and manifest.exists():
        return date.fromisoformat(json.loads(manifest.read_text())["deliveries"]["from"])
    return date.today() - timedelta(days=1)


# -- tools run with the project's environment --------------------------------------------------------
# --help goes to the wrapped tool, not to this wrapper.
@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def airflow(args: tuple[str, ...]) -> None:
    """Run `airflow ARGS` with this project's Airflow home, DAGs and warehouse connection."""
    from lienthong.pipeline.airflow_env import airflow_environment, airflow_executable
    from lienthong.warehouse import resolve_url

    settings = load_settings()
    env = airflow_environment(settings, resolve_url(settings, start=True))
    sys.exit(subprocess.call([airflow_executable(), *args], env=env))


# --help goes to the wrapped tool, not to this wrapper.
@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt(args: tuple[str, ...]) -> None:
    """Run `dbt ARGS` on the project's dbt project (with the configured organisations) against the warehouse."""
    from lienthong.pipeline.dbt_env import dbt_environment, dbt_project
    from lienthong.warehouse import resolve_url

    settings = load_settings()
    env = dbt_environment(resolve_url(settings, start=True))
    project = str(dbt_project(settings))  # in the state folder: the checkout is never written
    dbt_bin = str(Path(sys.executable).with_name("dbt"))
    command = [dbt_bin, *args]
    if args and args[0] not in ("--version", "-h", "--help"):
        command += ["--project-dir", project, "--profiles-dir", project]
    sys.exit(subprocess.call(command, env=env, cwd=project))


if __name__ == "__main__":  # pragma: no cover
    main()
