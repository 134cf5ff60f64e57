"""``link`` commands: run the linker, list the review queue, record a decision, explain a pair."""
from __future__ import annotations

import json

import click

from lienthong.linking import clerical
from lienthong.linking.partitions import link_partitioned
from lienthong.linking.policy import PolicyError, load_policy, parse_overrides
from lienthong.linking.run import link, link_new
from lienthong.warehouse import resolve_url


def _url(url: str | None) -> str:
    return url or resolve_url()


@click.group("link")
def link_commands() -> None:
    """Conformed persons: link every roster record of every organisation to one person."""


@link_commands.command("run")
@click.option("--source-sql", required=True, help="Query or table giving the input records (see linking.records).")
@click.option("--incremental", is_flag=True, help="Link only new or changed records with the stored model "
              "(partitioned: every partition again, with the stored model).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a value of the linking policy for this run (e.g. link_threshold=0.97, "
                   "'partitions={by: commune_group, count: 8}' to link partition by partition).")
@click.option("--url", default=None, help="Warehouse URL (default: the configured one).")
def run_command(source_sql: str, incremental: bool, overrides: tuple[str, ...], url: str | None) -> None:
    """Link the records and print the run's summary as JSON."""
    if " " not in source_sql.strip():
        source_sql = f"select * from {source_sql}"
    try:
        policy = load_policy().replace(**parse_overrides(overrides))
    except PolicyError as err:
        raise click.BadParameter(str(err), param_hint="--set") from err
    if policy.partitioned:  # the partitions one after the other here; Airflow runs them in parallel
        summary = link_partitioned(_url(url), source_sql, policy=policy, reuse_model=incremental)
    else:
        summary = (link_new if incremental else link)(_url(url), source_sql, policy=policy)
    click.echo(json.dumps(summary, ensure_ascii=False))


@link_commands.command("explain")
@click.argument("record_a")
@click.argument("record_b")
@click.option("--url", default=None)
def explain_command(record_a: str, record_b: str, url: str | None) -> None:
    """Why RECORD_A and RECORD_B (org_code|source_record_key) are or are not one person."""
    try:
        result = clerical.explain(_url(url), record_a, record_b)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    click.echo(result["verdict"])
    for name, comparison in result["comparisons"].items():
        click.echo(f"  {name:<10} {comparison['level']:<40} x{comparison['bayes_factor']}")
    click.echo(json.dumps(result, ensure_ascii=False, default=str))


@link_commands.command("review-queue")
@click.option("--limit", default=50, show_default=True)
@click.option("--url", default=None)
def review_queue_command(limit: int, url: str | None) -> None:
    """Pairs waiting for a reviewer, the most uncertain first (one JSON object per line)."""
    for row in clerical.review_queue(_url(url), limit):
        click.echo(json.dumps(row, ensure_ascii=False, default=str))


@link_commands.command("decide")
@click.argument("record_a")
@click.argument("record_b")
@click.argument("decision", type=click.Choice(clerical.DECISIONS))
@click.option("--reviewer", required=True)
@click.option("--note", default=None)
@click.option("--url", default=None)
def decide_command(record_a: str, record_b: str, decision: str, reviewer: str, note: str | None,
                   url: str | None) -> None:
    """Record that RECORD_A and RECORD_B are the same or different people; it wins from the next run on."""
    try:
        clerical.decide(_url(url), record_a, record_b, decision, reviewer, note)
    except ValueError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"{decision}: {record_a} / {record_b} (applied at the next run)")
