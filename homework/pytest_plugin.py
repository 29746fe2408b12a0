"""pytest plugin: run only the tests of one homework problem.

Tests of a problem carry ``@pytest.mark.homework("hw2.lstm_step")`` (or a module-level
``pytestmark = pytest.mark.homework(...)``). With this plugin loaded,
``--homework-problem ID`` (repeatable) keeps the tests whose marker names one of the ids:

    python -m pytest -p homework.pytest_plugin --homework-problem hw1.tanh tests

It is for students and teachers running a problem's tests by hand; the grader does not use
pytest at all (it runs probes in a sandbox, see homework/grade.py). ``--homework-student-dir
DIR`` puts DIR first on sys.path before any conftest is imported. This module imports nothing
from minigrad.
"""
import sys

import pytest

MARKER_HELP = "homework(task_id, ...): the test checks the homework problem task_id (e.g. hw1.tanh)"


def pytest_addoption(parser):
    group = parser.getgroup("homework", "minigrad homework")
    group.addoption("--homework-problem", action="append", default=[], metavar="ID",
                    help="run only the tests marked homework(ID); repeatable")
    group.addoption("--homework-student-dir", default=None, metavar="DIR",
                    help="put DIR first on sys.path before conftests are imported (grader use)")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    student_dir = early_config.known_args_namespace.homework_student_dir
    if student_dir:
        sys.path.insert(0, student_dir)


def pytest_configure(config):
    config.addinivalue_line("markers", MARKER_HELP)


def problems_of(item) -> set:
    """Task ids named by the item's homework markers (its own, its class's and its module's)."""
    return {arg for marker in item.iter_markers("homework") for arg in marker.args}


def pytest_collection_modifyitems(config, items):
    wanted = set(config.getoption("homework_problem"))
    if not wanted:
        return
    kept, dropped = [], []
    for item in items:
        (kept if problems_of(item) & wanted else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept
