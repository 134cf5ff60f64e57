"""``lienthong site …``: build the public information pages, preview them on 127.0.0.1."""
from __future__ import annotations

import contextlib

import functools
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click

from lienthong.config.settings import load_settings


@click.group("site")
def site() -> None:
    """The public information pages (static HTML, no personal data)."""


@site.command("build")
@click.option("--period", required=True, help="The month to publish, YYYY-MM (e.g. 2026-11).")
@click.option("--url", default=None, help="Warehouse URL (default: the configured one).")
def build_command(period: str, url: str | None) -> None:
    """Render the site for a month into LIENTHONG_OUTPUT_DIR/site, from the bi aggregates only."""
    from lienthong.site import SiteDataError, build_site, site_folder
    from lienthong.warehouse import resolve_url

    settings = load_settings()
    started = time.perf_counter()
    try:
        pages = build_site(url or resolve_url(), period, settings.output_dir)
    except SiteDataError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"{len(pages)} pages written in {time.perf_counter() - started:.1f} s: "
               f"{site_folder(settings.output_dir) / 'index.html'}")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        click.echo(f"{self.address_string()} {format % args}", err=True)


@site.command("serve")
@click.option("--port", default=8090, show_default=True, help="Port on 127.0.0.1; 0 picks a free one.")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to serve (default: LIENTHONG_OUTPUT_DIR/site).")
def serve_command(port: int, folder: Path | None) -> None:
    """Preview the built site on http://127.0.0.1:PORT (a preview: publish with any static web server)."""
    from lienthong.site import site_folder

    folder = folder or site_folder(load_settings().output_dir)
    if not (folder / "index.html").exists():
        raise click.ClickException(f"no site in {folder}: run `lienthong site build --period YYYY-MM` first")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as err:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port} ({err.strerror}): "
                                   "pick another --port, or --port 0 for a free one") from err
    click.echo(f"Serving {folder} on http://127.0.0.1:{server.server_address[1]}/ (Ctrl+C stops)")
    with server, contextlib.suppress(KeyboardInterrupt):  # Ctrl+C ends serving; the socket closes
        server.serve_forever()
