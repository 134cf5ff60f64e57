"""Charts for the review report, as inline SVG (matplotlib, offline, text kept as text).

SVG scales to any screen, prints sharply and needs no JavaScript or network; keeping glyphs as
text (svg.fonttype none) lets the browser draw Vietnamese with its own fonts and keeps the words
searchable.

A chart is a pure function of its arguments (stable ids, no dates in the file), so a ``ChartCache``
keeps each chart in its folder under a digest of what drew it (the function, its arguments, this
module's and the number formats' code, matplotlib's version) and takes it from there when it is asked
for again: a night that changes a few communes' figures redraws their charts only, and the bytes are
those a full drawing gives. The chart functions themselves always draw; only a caller holding a cache
(the site build) goes through it, so no other caller in the process is affected.
"""
from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.ticker import FuncFormatter  # noqa: E402

from lienthong.text import numbers as number_formats  # noqa: E402
from lienthong.text.numbers import vn_percent, vn_number  # noqa: E402

plt.rcParams.update({
    "svg.fonttype": "none",
    "svg.hashsalt": "lienthong",  # stable ids: the same data gives the same file
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
})
PALETTE = ["#1f5fa8", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#5b5b5b"]
# What else decides a chart's bytes: the drawing code, the tick formats, matplotlib (and its fonts).
_CODE = hashlib.sha256(Path(__file__).read_bytes() + Path(number_formats.__file__).read_bytes()
                       + matplotlib.__version__.encode()).hexdigest()


class NotCached(LookupError):
    """A chart not in the folder, asked of a ``ChartCache`` made with ``draw_missing=False``."""


class ChartCache:
    """Charts kept in ``folder`` between builds. ``draw_missing=False``: a chart not there raises
    NotCached instead of being drawn (a caller sorting out the pages that need drawing). ``drawn``:
    the charts this object drew (not taken from the folder), which a build reports."""

    def __init__(self, folder: Path, draw_missing: bool = True):
        self.folder = folder
        self.draw_missing = draw_missing
        self.drawn = 0
        folder.mkdir(parents=True, exist_ok=True)

    def chart(self, draw, *args, **kwargs) -> str:
        """``draw(*args, **kwargs)`` (one of this module's chart functions), taken from the folder
        when kept there, else drawn and kept."""
        key = hashlib.sha256(repr((draw.__name__, args, sorted(kwargs.items()), _CODE)).encode()).hexdigest()
        path = self.folder / f"{key}.svg"
        try:
            svg = path.read_text(encoding="utf-8")
            os.utime(path)  # asked for by this build: kept by its pruning
            return svg
        except FileNotFoundError:
            if not self.draw_missing:
                raise NotCached(key) from None
        self.drawn += 1
        svg = draw(*args, **kwargs)
        partial = path.with_name(f"{key}.{os.getpid()}.{time.monotonic_ns()}.part")
        partial.write_text(svg, encoding="utf-8")
        partial.replace(path)  # whole or absent: a reader never sees half a chart
        return svg

    def prune(self, unused_since: float) -> int:
        """Remove the charts no build asked for since ``unused_since`` (time.time()); how many. (A
        file's time comes from the kernel's coarse clock, a few ms behind: give a margin.)"""
        old = [path for path in self.folder.glob("*.svg") if path.stat().st_mtime < unused_since]
        for path in old:
            path.unlink(missing_ok=True)
        return len(old)


def _vn_tick(value, _position) -> str:
    """Axis labels the Vietnamese way: 1.200, 2,5."""
    return vn_number(int(value)) if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


def _svg(fig, chart_id: str, title: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]  # drop the XML prolog and doctype: the SVG is inlined in HTML
    return svg.replace("<svg ", f'<svg id="{chart_id}" role="img" aria-label="{title}" '
                       'preserveAspectRatio="xMinYMin meet" ', 1)


def heatmap(chart_id: str, title: str, labels: list[str], matrix: list[list[int]]) -> str:
    """A square matrix of counts (organisation × organisation overlap), annotated."""
    size = max(3.5, 0.9 * len(labels) + 1.5)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    image = ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    top = max((v for row in matrix for v in row), default=0)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            ax.text(j, i, f"{value:,}".replace(",", "."), ha="center", va="center",
                    color="white" if value > top * 0.6 else "#222", fontsize=9)
    fig.colorbar(image, ax=ax, shrink=0.7)
    ax.set_title(title)
    return _svg(fig, chart_id, title)


def bars(chart_id: str, title: str, labels: list[str], values: list[float], xlabel: str,
         percent: bool = False) -> str:
    """Horizontal bars, one per label, in the order given."""
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.28 * len(labels) + 1)))
    ax.barh(range(len(labels)), values, color=PALETTE[0])
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: vn_percent(v)) if percent else FuncFormatter(_vn_tick))
    ax.set_title(title)
    return _svg(fig, chart_id, title)


def lines(chart_id: str, title: str, months: list[str], series: dict[str, list[float]], ylabel: str) -> str:
    """One line per series over the months."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for colour, (name, values) in zip(PALETTE * 3, series.items()):
        ax.plot(months, values, marker="o", markersize=3, label=name, color=colour)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_formatter(FuncFormatter(_vn_tick))
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    ax.set_title(title)
    return _svg(fig, chart_id, title)
