"""The bench/ scripts as modules (bench/ is no package: its scripts import each other by name)."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"


@pytest.fixture
def bench():
    """``bench("review")``: the bench script bench/review.py, imported."""
    def load(name: str):
        sys.path.insert(0, str(BENCH))
        try:
            return importlib.import_module(name)
        finally:
            sys.path.remove(str(BENCH))
    return load
