"""Check that each problem is graded on its own region only.

    python -m homework check-isolation [--problem ID ...] [--jobs N]

For each problem P: release the project with every assignment stubbed, paste P's solution
back into that copy (the region's lines from the teacher's tree in place of its stub), and
grade every problem. P must get full marks and every other problem 0; anything else means a
probe of P leans on another region (or a probe of another problem passes on a stub).

An assignment named in the manifest's ``builds_on_earlier`` (the capstone, hw4) is checked
in a release of that assignment alone: its problems may use the earlier assignments' code,
which ``release --assignment N`` leaves solved, but not each other's.

The reference values are computed once (one bundle) and every pasted tree is graded against
them in one class run. Run it after adding or moving a region or a probe.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .assignments import MINIGRAD
from .bundle import build
from .grade import grade_many
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


def check_isolation(root, only=None, manifest=MINIGRAD, jobs=4, report=print,
                    probes_dir=None) -> list:
    """Print one line per problem; return the task ids that are not isolated."""
    root = Path(root).resolve()
    problems = [p for p in find_problems(root, manifest) if not only or p.task_id in only]
    bundle = build(root, probes_dir, manifest, only=[p.task_id for p in problems], jobs=jobs)
    with tempfile.TemporaryDirectory(prefix="homework-isolation-") as tmp:
        bases, entries = {}, []
        for problem in problems:
            key = problem.assignment if problem.assignment in manifest.builds_on_earlier else None
            if key not in bases:
                bases[key] = Path(tmp) / f"base-{key or 'all'}"
                release(root, bases[key], key, manifest=manifest)
            tree = Path(tmp) / problem.task_id
            shutil.copytree(bases[key], tree)
            paste_solution(tree, problem)
            entries.append((problem.task_id, tree, ""))
        reports = grade_many(bundle, entries, jobs=jobs, hide=[root])
    failures = []
    for problem, graded in zip(problems, reports):
        key = problem.assignment if problem.assignment in manifest.builds_on_earlier else None
        own = next(r for r in graded.results if r.task_id == problem.task_id)
        # in a release of one assignment only its own problems count
        wrong = [r.task_id for r in graded.results if r.score > 0 and r.task_id != problem.task_id
                 and (key is None or r.task_id.startswith(key + "."))]
        ok = own.score == own.max_score and not wrong
        if not ok:
            failures.append(problem.task_id)
        where = f"release of {key}" if key else "release of all"
        report(f"{problem.task_id:<26} {own.score:5.1f} / {own.max_score:g} ({where})  "
               f"{'ok' if ok else 'NOT ISOLATED'}"
               + (f"; own note: {own.note}" if own.score < own.max_score else "")
               + (f"; also scored: {', '.join(wrong)}" if wrong else ""))
    return failures
