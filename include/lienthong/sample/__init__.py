"""Sample province generator: realistic, deterministic rosters, dues and activities with ground truth."""

from lienthong.sample.generator import generate

__all__ = ["generate"]
