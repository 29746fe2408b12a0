"""The project tree as the homework tools see it: its files, its regions, its problems.

Shared by release, grade and the `list` command. Regions are searched in the ``.py`` files of
the tree except under a ``tests`` folder: tests hold no solutions, and the homework kit's own
fixture project (``tests/homework/fixture_project``) must not count as homework of the
project around it.
"""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .assignments import MINIGRAD, Manifest
from .markers import TASK_ID, MarkerError, parse_file

# Folders never copied nor scanned: version control, virtualenvs, caches, build and lesson outputs.
SKIP_DIRS = {
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", ".pytest_cache",
    ".mypy_cache", ".ruff_cache", ".hypothesis", ".ipynb_checkpoints", "build", "dist",
    "node_modules", "lesson_output", "minigrad_output",
}
# Notebooks are never released: their saved outputs may show a solution's results or code.
SKIP_SUFFIXES = (".pyc", ".pyo", ".egg-info", ".ipynb")
PYTEST_CONFIGS = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


def _skipped_dir(path: Path) -> bool:
    # A folder holding pyvenv.cfg is a virtualenv whatever its name.
    return (path.name in SKIP_DIRS or path.name.endswith(".egg-info")
            or (path / "pyvenv.cfg").exists())


def _skipped_parts(rel: str) -> bool:
    return any(part in SKIP_DIRS or part.endswith(".egg-info") for part in rel.split("/")[:-1])


def _git_files(root: Path):
    """Tracked and untracked-but-not-ignored files under root, or None if root is not in git."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    names = [n for n in result.stdout.decode("utf-8", "surrogateescape").split("\0") if n]
    # A tracked file deleted from the working tree is listed but absent: skip it.
    return sorted({n for n in names if (root / n).is_file()})


def _walk_files(root: Path):
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not _skipped_dir(here / d))
        for name in sorted(filenames):
            if not name.endswith(SKIP_SUFFIXES):
                files.append((here / name).relative_to(root).as_posix())
    return files


def list_files(root, exclude=()) -> list:
    """Relative POSIX paths of the project's files: `git ls-files` when root is in a git
    work tree (ignored files left out), else a walk; skipped folders and `exclude` removed."""
    root = Path(root).resolve()
    files = _git_files(root)
    if files is None:
        files = _walk_files(root)
    excluded = [Path(e).resolve() for e in exclude]
    kept = []
    for rel in files:
        if _skipped_parts(rel) or rel.endswith(SKIP_SUFFIXES):
            continue
        full = root / rel
        if any(full == e or e in full.parents for e in excluded):
            continue
        kept.append(rel)
    return kept


def is_source_file(rel: str) -> bool:
    """Whether regions are looked for in this file (see the module docstring)."""
    return rel.endswith(".py") and "tests" not in rel.split("/")[:-1]


def scan_regions(root, files=None) -> list:
    """All Regions of the tree, in file order; one MarkerError listing every bad file."""
    root = Path(root).resolve()
    files = list_files(root) if files is None else files
    regions, errors = [], []
    for rel in files:
        if not is_source_file(rel):
            continue
        try:
            regions.extend(parse_file(root / rel, rel))
        except MarkerError as error:
            errors.append(str(error))
        except UnicodeDecodeError:
            errors.append(f"{rel}: not UTF-8 text")
    if errors:
        raise MarkerError("malformed homework regions:\n  " + "\n  ".join(errors))
    return regions


def normalize_assignment(assignment):
    """'2', 2, 'hw2' -> 'hw2'; None stays None."""
    if assignment is None:
        return None
    text = str(assignment).strip().lower()
    if re.fullmatch(r"[0-9]+", text):
        text = "hw" + text
    if not re.fullmatch(r"hw[0-9]+", text):
        raise ValueError(f"assignment {assignment!r}: expected a number like 2 or a name like hw2")
    return text


@dataclass
class Problem:
    """All regions of one task id, with what the manifest says about it."""

    task_id: str
    title: str        # the assignment's title
    points: float
    timeout: float
    regions: list

    @property
    def assignment(self) -> str:
        return self.task_id.split(".", 1)[0]

    @property
    def todo_text(self) -> str:
        return " / ".join(r.todo_text for r in self.regions if r.todo_text)


def _sort_key(task_id: str):
    match = TASK_ID.fullmatch(task_id)
    return (int(match.group("number")), task_id)


def group_problems(regions, manifest: Manifest = MINIGRAD, assignment=None) -> list:
    """Problems (sorted by assignment number, then name) of the regions, optionally of one assignment."""
    wanted = normalize_assignment(assignment)
    by_task = {}
    for region in regions:
        if wanted is None or region.assignment == wanted:
            by_task.setdefault(region.task_id, []).append(region)
    return [Problem(task, manifest.title(task.split(".")[0]), manifest.points_for(task),
                    manifest.timeout_for(task), by_task[task])
            for task in sorted(by_task, key=_sort_key)]


def find_problems(root, manifest: Manifest = MINIGRAD, assignment=None) -> list:
    return group_problems(scan_regions(root), manifest, assignment)


def tests_naming(tests_root, task_id: str) -> list:
    """Test files (relative POSIX paths) with a literal homework("...", task_id) marker.

    A cheap static look-up: the plugin does the exact selection by marker, this only picks
    the files worth collecting (so a problem's run does not import the whole test suite, and
    a module that merely mentions the id, like the kit's own tests, is left out).
    """
    tests_root = Path(tests_root)
    marker = re.compile(r"homework\([^)]*['\"]" + re.escape(task_id) + r"['\"]")
    found = []
    for path in sorted(tests_root.rglob("test*.py")):
        rel = path.relative_to(tests_root)
        # A folder with its own pytest config is another project (the kit's fixture): skip it.
        nested = any((tests_root / parent / name).exists() for parent in rel.parents
                     if parent != Path(".") for name in PYTEST_CONFIGS)
        if _skipped_parts(rel.as_posix()) or nested:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if marker.search(text):
            found.append(rel.as_posix())
    return found
