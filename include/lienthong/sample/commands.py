"""Click commands: ``generate`` and ``serve-sample-api`` (wired into the ``lienthong`` CLI group)."""

from __future__ import annotations

import contextlib

import datetime as dt
import json
from pathlib import Path

import click

from lienthong.config.settings import load_settings
from lienthong.sample.api_server import DEFAULT_PORT, DEFAULT_TOKEN, make_server
from lienthong.sample.generator import generate as generate_sample
from lienthong.sample.generator import scales


@click.command("generate")
@click.option("--scale", type=click.Choice(sorted(scales())), default="tiny", show_default=True,
              help="tiny (tests), demo (~50k people), province (~3.2M), custom (with --people).")
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: the project's sample folder, .lienthong/sample).")
@click.option("--end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last delivery day (default 2026-11-27).")
@click.option("--days", type=int, default=None, help="Number of daily deliveries up to --end.")
@click.option("--people", type=int, default=None, help="Population size (custom scale, or override).")
@click.option("--noise", "noise_config", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="A noise.yml with other rates.")
def generate(scale, seed, out, end, days, people, noise_config):
    """Generate the sample province: deliveries, reference statistics and ground truth."""
    out = out or load_settings().sample_dir
    summary = generate_sample(scale, seed, out, end=end.date() if isinstance(end, dt.datetime) else end,
                              days=days, people=people, noise_config=noise_config)
    click.echo(f"Sample written to {out}: {summary['people']} people, {summary['roster_records']} roster records, "
               f"{summary['files']} delivery files")
    click.echo(json.dumps({k: summary[k] for k in ("records", "units", "rows")}, ensure_ascii=False))


@click.command("serve-sample-api")
@click.option("--data", type=click.Path(file_okay=False, exists=True, path_type=Path), default=Path(".lienthong/sample"),
              show_default=True, help="A directory written by `lienthong generate`.")
@click.option("--port", type=int, default=DEFAULT_PORT, show_default=True)
@click.option("--token", default=DEFAULT_TOKEN, show_default=True, help="Bearer token the clients must send.")
def serve_sample_api(data, port, token):
    """Serve the Youth Union and Trade Union APIs of a generated sample on 127.0.0.1."""
    server = make_server(data, port, token)
    click.echo(f"Serving sample APIs from {data} on http://127.0.0.1:{server.server_port} (Ctrl-C to stop)")
    with server, contextlib.suppress(KeyboardInterrupt):  # Ctrl+C ends serving; the socket closes
        server.serve_forever()
