"""Make a student release: a copy of the project with solution regions replaced by stubs.

    release(project_root, out_dir, assignment=None)

copies the tree (tracked and untracked-but-not-ignored files when the root is in git, else a
walk that skips version control, virtualenvs, caches, build and lesson outputs; never .git,
so no history), stubs the regions of one assignment (all of them when None), leaves every
other byte as it was, writes HOMEWORK.md, then checks the copy: each stub sits inside a
function, the stubbed modules import, and no solution line is left anywhere in it.
"""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .assignments import MINIGRAD
from .markers import apply_stubs, make_stub
from .project import group_problems, list_files, normalize_assignment, scan_regions, tests_naming

MIN_LEAK_CHARS = 12     # shorter solution lines ("return dx") are too common to count as a leak
MIN_QUOTED_CHARS = 20   # a line this long found *inside* another (a hint quoting it) is a leak too
WARN_DUPLICATE_CHARS = 30


class ReleaseError(RuntimeError):
    """The release cannot be made or failed its checks; the message says where and why."""


@dataclass
class ReleaseResult:
    out_dir: Path
    problems: list                      # the stubbed Problems
    files: int = 0                      # files copied
    warnings: list = field(default_factory=list)


def _check_inside_function(source: str, regions, path: str):
    """Each region's code must sit in a function body: its stub raises when called, not on import."""
    tree = ast.parse(source, filename=path)
    scopes = [node for node in ast.walk(tree)
              if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    for region in regions:
        first = next(region.begin_line + 1 + len(region.todo) + i  # past BEGIN and the hint
                     for i, line in enumerate(region.solution)
                     if line.strip() and not line.strip().startswith("#"))
        enclosing = [s for s in scopes if s.body[0].lineno <= first <= s.end_lineno]
        innermost = max(enclosing, key=lambda s: s.body[0].lineno, default=None)
        if not isinstance(innermost, (ast.FunctionDef, ast.AsyncFunctionDef)):
            raise ReleaseError(f"{region.location}: region {region.task_id} is not inside a function "
                               "body, so its stub would raise on import; move the markers into the function")


def _check_out_dir(root: Path, out: Path, force: bool):
    if out == root or out in root.parents:
        raise ReleaseError(f"--out {out} is the project or holds it: choose a separate folder")
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"--out {out} exists and is not a folder")
    if (out / ".git").exists():
        raise ReleaseError(f"--out {out} is a git work tree: refusing to replace it")
    if out.exists() and any(out.iterdir()) and not force:
        raise ReleaseError(f"--out {out} is not empty: choose an empty folder or pass force=True (--force)")


def _prepare_out_dir(out: Path):
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def _text_lines(path: Path):
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (UnicodeDecodeError, OSError):
        return None


def _check_no_leak(out: Path, regions, allowed: dict, warnings: list):
    """Raise if a non-trivial solution line is found in the copy other than where the original
    tree has the same line outside the stubbed regions (a `return grad`-like common line)."""
    solution = {}
    for region in regions:
        for line in region.solution:
            code = line.strip()
            if len(code) >= MIN_LEAK_CHARS and not code.startswith("#"):
                solution.setdefault(code, region)
    for code, region in solution.items():
        if code in allowed and len(code) >= WARN_DUPLICATE_CHARS:
            warnings.append(f"solution line of {region.task_id} ({region.location}) also appears "
                            f"outside any region at {allowed[code]}: {code!r}")
    leaks = []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        for lineno, line in enumerate(_text_lines(path) or (), start=1):
            text = line.strip()
            if text in allowed or not text:
                continue
            for code, region in solution.items():
                if code == text or (len(code) >= MIN_QUOTED_CHARS and code in text):
                    leaks.append(f"{path.relative_to(out)}:{lineno} holds a solution line of "
                                 f"{region.task_id} ({region.location}): {code!r}")
    if leaks:
        raise ReleaseError("solution text left in the release:\n  " + "\n  ".join(leaks[:20]))


def _check_imports(out: Path, stubbed_files):
    """Import every stubbed module that lives in a package, with only the copy on the path."""
    modules = []
    for rel in stubbed_files:
        parts = rel[:-3].split("/")
        if all((out.joinpath(*parts[:i]) / "__init__.py").exists() for i in range(1, len(parts))) \
                and len(parts) > 1:
            modules.append(".".join(p for p in parts if p != "__init__"))
    if not modules:
        return
    code = "import importlib\nfor name in %r:\n    importlib.import_module(name)\n" % sorted(modules)
    env = dict(os.environ, PYTHONPATH=str(out), PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    with tempfile.TemporaryDirectory() as cwd:
        result = subprocess.run([sys.executable, "-B", "-c", code], cwd=cwd, env=env,
                                capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise ReleaseError(f"the release does not import ({', '.join(sorted(modules))}):\n"
                           + result.stderr[-2000:])


def _homework_md(out: Path, problems, stub_lines: dict) -> str:
    has_plugin = (out / "homework" / "pytest_plugin.py").exists()
    lines = ["# Homework", "",
             "Each problem below is a piece of the code replaced by `raise NotImplementedError`.",
             "Read the hint (the `# TODO:` comment above it), write the code, and run its tests",
             "from this folder. The tests are there to help you: grading does not run them, it",
             "calls your functions on its own inputs and compares what they return (values and",
             "gradients) with the teacher's solution.", ""]
    assignment = None
    for problem in problems:
        if problem.assignment != assignment:
            assignment = problem.assignment
            lines += [f"## {assignment}: {problem.title}", ""]
        lines += [f"### {problem.task_id} ({problem.points:g} points)", ""]
        for region in problem.regions:
            lines.append(f"- `{region.path}` line {stub_lines[region]}: {region.todo_text or '(no hint)'}")
        test_files = [f"tests/{f}" for f in tests_naming(out / "tests", problem.task_id)]
        if has_plugin:
            command = (f"python -m pytest -p homework.pytest_plugin "
                       f"--homework-problem {problem.task_id} {' '.join(test_files) or 'tests'}")
        else:
            command = f"python -m pytest {' '.join(test_files) or 'tests'}"
        lines += ["", f"Run its tests: `{command}`", ""]
    return "\n".join(lines)


def release(project_root, out_dir, assignment=None, force=False, manifest=MINIGRAD) -> ReleaseResult:
    """Write the student copy of project_root to out_dir; see the module docstring."""
    root, out = Path(project_root).resolve(), Path(out_dir).resolve()
    wanted = normalize_assignment(assignment)
    _check_out_dir(root, out, force)
    files = list_files(root, exclude=[out])
    regions = scan_regions(root, files)
    problems = group_problems(regions, manifest, wanted)
    if not problems:
        which = f" of {wanted}" if wanted else ""
        raise ReleaseError(f"no homework regions{which} found in {root}")
    _prepare_out_dir(out)

    stubbed = {}
    for problem in problems:
        for region in problem.regions:
            stubbed.setdefault(region.path, []).append(region)
    result = ReleaseResult(out, problems)
    allowed, stub_lines = {}, {}
    for rel in files:
        source, target = root / rel, out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        inside = set()
        if rel in stubbed:
            text = source.read_text(encoding="utf-8")
            _check_inside_function(text, stubbed[rel], rel)
            target.write_text(apply_stubs(text, stubbed[rel]), encoding="utf-8", newline="")
            shutil.copymode(source, target)
            shift = 0
            for region in sorted(stubbed[rel], key=lambda r: r.begin_line):
                inside.update(range(region.begin_line, region.end_line + 1))
                stub_lines[region] = region.begin_line + shift
                shift += len(make_stub(region)) - (region.end_line - region.begin_line + 1)
        else:
            shutil.copy2(source, target)
        for lineno, line in enumerate(_text_lines(source) or (), start=1):
            if lineno not in inside:
                allowed.setdefault(line.strip(), f"{rel}:{lineno}")
        result.files += 1

    (out / "HOMEWORK.md").write_text(_homework_md(out, problems, stub_lines), encoding="utf-8")
    _check_no_leak(out, [r for p in problems for r in p.regions], allowed, result.warnings)
    _check_imports(out, sorted(stubbed))
    return result
