"""Data Docs: GX's own HTML page renderer applied to validation results, offline (no GX project)."""
from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def render_data_docs(outcomes: Iterable, out_dir: Path) -> Path:
    """One HTML page per validation (GX's ValidationResultsPageRenderer), and an index; returns the index."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    renderer, view = ValidationResultsPageRenderer(), DefaultJinjaPageView()
    lines = []
    for outcome in outcomes:
        if outcome.result is None:
            continue
        folder = out_dir / _slug(outcome.run_id)
        folder.mkdir(parents=True, exist_ok=True)
        page = folder / f"{_slug(outcome.suite)}.html"
        page.write_text(view.render(renderer.render(outcome.result)), encoding="utf-8")
        verdict = "PASSED" if outcome.passed else "FAILED (critical)"
        if outcome.passed and outcome.failed_other:
            verdict = "PASSED with warnings"
        lines.append(f'<li><a href="{html.escape(page.relative_to(out_dir).as_posix())}">'
                     f"{html.escape(outcome.suite)}</a> — {html.escape(outcome.table)}: {verdict}</li>")
    index = out_dir / "index.html"
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = index.read_text(encoding="utf-8").split("<ul>", 1)[1].rsplit("</ul>", 1)[0] if index.exists() else ""
    index.write_text("<!doctype html><meta charset='utf-8'><title>Liên Thông — Data Docs</title>"
                     "<h1>Kiểm tra chất lượng dữ liệu (Data Docs)</h1><ul>" + "\n".join(lines) + previous
                     + "</ul>", encoding="utf-8")
    return index
