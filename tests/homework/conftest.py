"""Fixtures of the homework kit's tests; the fixture project is data, not tests to collect."""
import os
import shutil
from pathlib import Path

import pytest

from homework.bundle import build
from homework.markers import make_stub
from homework.project import find_problems
from homework.release import release
from homework.sandbox import Host

collect_ignore = ["fixture_project"]

FIXTURE = Path(__file__).resolve().parent / "fixture_project"
IS_ROOT = os.geteuid() == 0


def _sandbox_abilities():
    """(privilege drop, mount namespace) as the grader will find them on this machine."""
    host = Host({})
    try:
        return host.drop, host.drop and host.namespace
    finally:
        host.close()


CAN_DROP, CAN_HIDE = _sandbox_abilities()
needs_drop = pytest.mark.skipif(
    not CAN_DROP, reason="the privilege drop needs root (CI and Gradescope run as root) and an "
                         "interpreter an unprivileged user can run; without it the sandbox runs "
                         "as the grader's own user, and the grader says so in its output")
needs_namespace = pytest.mark.skipif(
    not CAN_HIDE, reason="hiding the teacher's tree needs a mount namespace (root with "
                         "CAP_SYS_ADMIN); without one a world-readable teacher tree stays "
                         "readable to the sandbox uid, as docs/teaching.md says")


def copy_fixture(target: Path) -> Path:
    """A copy of the fixture project outside git (so the tools walk it)."""
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return target


def replace_stubs(root: Path, task_id: str, code=None):
    """Put code (a list of lines, or the solution when None) in place of each stub of task_id."""
    for region in next(p for p in find_problems(FIXTURE) if p.task_id == task_id).regions:
        path = root / region.path
        text = path.read_text()
        stub = "\n".join(make_stub(region)) + "\n"
        body = region.solution if code is None else [region.indent + line for line in code]
        assert stub in text
        path.write_text(text.replace(stub, "\n".join(body) + "\n", 1))


@pytest.fixture(scope="session")
def fixture_root() -> Path:
    return FIXTURE


@pytest.fixture(scope="session")
def released(tmp_path_factory) -> Path:
    """The fixture project released with every assignment stubbed (do not modify: shared)."""
    out = tmp_path_factory.mktemp("release") / "student"
    release(FIXTURE, out)
    return out


@pytest.fixture(scope="session")
def bundle():
    """Problems, probe inputs and reference values of the fixture project (shared, read-only)."""
    return build(FIXTURE, seed=1234)
