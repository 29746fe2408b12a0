"""Fixtures of the homework kit's tests; the fixture project is data, not tests to collect."""
import shutil
from pathlib import Path

import pytest

from minigrad.homework.release import release

collect_ignore = ["fixture_project"]

FIXTURE = Path(__file__).resolve().parent / "fixture_project"


def copy_fixture(target: Path) -> Path:
    """A copy of the fixture project outside git (so the tools walk it)."""
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return target


@pytest.fixture(scope="session")
def fixture_root() -> Path:
    return FIXTURE


@pytest.fixture(scope="session")
def released(tmp_path_factory) -> Path:
    """The fixture project released with every assignment stubbed (do not modify: shared)."""
    out = tmp_path_factory.mktemp("release") / "student"
    release(FIXTURE, out)
    return out
