"""One tiny sample, generated once for the whole folder."""

from pathlib import Path

import pytest

from lienthong.sample import generate


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("tiny")
    return out, generate("tiny", 42, out)
