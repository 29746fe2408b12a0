"""Check that each problem is graded on its own region only.

    python -m minigrad.homework check-isolation [--problem ID ...] [--jobs N]

For each problem P: release the project with every assignment stubbed, paste P's solution
back into that copy (the region's lines from the teacher's tree in place of its stub), and
grade every problem. P must get full marks and every other problem 0; anything else means a
test of P leans on another region (or a test of another problem passes on a stub).

An assignment named in the manifest's ``builds_on_earlier`` (the capstone, hw4) is checked
in a release of that assignment alone: its problems may use the earlier assignments' code,
which ``release --assignment N`` leaves solved, but not each other's.

Slow (one full grading per problem, ~30 s each on 2 cores): run it after adding or moving a
region, not in CI.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .assignments import MINIGRAD
from .grade import grade
from .markers import make_stub
from .project import find_problems
from .release import release


def paste_solution(tree: Path, problem) -> None:
    """Put the solution lines of each region of `problem` in place of its stub in `tree`."""
    for region in problem.regions:
        path = tree / region.path
        text = path.read_text(encoding="utf-8")
        stub = "\n".join(make_stub(region)) + "\n"
        if stub not in text:
            raise ValueError(f"{region.location}: the stub of {problem.task_id} is not in {path}")
        path.write_text(text.replace(stub, "\n".join(region.solution) + "\n", 1), encoding="utf-8")


def check_isolation(root, only=None, manifest=MINIGRAD, jobs=4, report=print) -> list:
    """Rows (task_id, release kind, {task_id: score}, problems) and the failures found."""
    root = Path(root).resolve()
    problems = find_problems(root, manifest)
    failures = []
    with tempfile.TemporaryDirectory(prefix="minigrad-isolation-") as tmp:
        bases = {}

        def base_for(assignment):
            key = assignment if assignment in manifest.builds_on_earlier else None
            if key not in bases:
                bases[key] = Path(tmp) / f"base-{key or 'all'}"
                release(root, bases[key], key, manifest=manifest)
            return key, bases[key]

        for problem in problems:
            if only and problem.task_id not in only:
                continue
            key, base = base_for(problem.assignment)
            tree = Path(tmp) / problem.task_id
            shutil.copytree(base, tree)
            paste_solution(tree, problem)
            graded = grade(tree, assignment=key, tests_root=root / "tests", source_root=root,
                           manifest=manifest, jobs=jobs)
            shutil.rmtree(tree)
            scored = {r.task_id: r for r in graded.results if r.score > 0}
            own = next(r for r in graded.results if r.task_id == problem.task_id)
            wrong = [t for t in scored if t != problem.task_id]
            ok = own.score == own.max_score and not wrong
            if not ok:
                failures.append(problem.task_id)
            where = f"release of {key}" if key else "release of all"
            report(f"{problem.task_id:<26} {own.score:5.1f} / {own.max_score:g} ({where})  "
                   f"{'ok' if ok else 'NOT ISOLATED'}"
                   + (f"; own note: {own.note}" if own.score < own.max_score else "")
                   + (f"; also scored: {', '.join(wrong)}" if wrong else ""))
    return failures
