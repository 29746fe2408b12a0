"""Grade submissions: run each problem's tests from the grader's own copy of the tests.

The tests always come from the teacher's tree (``tests/`` next to the ``minigrad`` package
running this, or ``tests_root``), copied to a temporary folder; the submission only provides
the code under test. Each problem runs in its own pytest process (runner.py), so a problem
that hangs, crashes or eats memory scores 0 with a reason and the others are unaffected.

Score of a problem: points * passed / (passed + failed), proportional rather than
all-or-nothing so partial work counts; a test error (setup failure, import error of a test
module) counts as a failure, a skipped test not at all. The problems are found from the
solution regions of the teacher's tree (``source_root``, by default the folder holding the
tests), so grading must run from the teacher's copy, not from a release.
"""
from __future__ import annotations

import csv
import json
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .assignments import DEFAULT_MEMORY_LIMIT, MINIGRAD
from .project import find_problems, tests_naming
from .runner import ProblemResult, run_problem

CONFIG_FILES = {"pytest.ini": None, ".pytest.ini": None, "pyproject.toml": "[tool.pytest.ini_options]",
                "tox.ini": "[pytest]", "setup.cfg": "[tool:pytest]"}


class GradingError(RuntimeError):
    """Grading cannot start (no tests, no problems); one broken submission never raises this."""


def default_tests_root() -> Path:
    """The `tests/` folder beside the `minigrad` package this module belongs to."""
    return Path(__file__).resolve().parents[2] / "tests"


@dataclass
class Report:
    """The grade of one submission."""

    student: str
    path: str
    results: list = field(default_factory=list)   # ProblemResult per problem

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)

    def table(self) -> str:
        rows = [("problem", "score", "passed", "failed", "note")]
        for r in self.results:
            rows.append((r.task_id, f"{r.score:.1f} / {r.max_score:g}", str(r.passed),
                         str(r.failed), r.note))
        rows.append(("total", f"{self.score:.1f} / {self.max_score:g}", "", "", ""))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  "
                 f"{row[3]:>{widths[3]}}  {row[4]}".rstrip() for row in rows]
        return "\n".join(lines)

    def gradescope(self) -> dict:
        """Gradescope's results.json: one "test" per problem."""
        return {
            "score": round(self.score, 4),
            "max_score": self.max_score,
            "stdout_visibility": "visible",
            "tests": [{"name": r.task_id, "score": round(r.score, 4), "max_score": r.max_score,
                       "output": r.output, "visibility": "visible"} for r in self.results],
        }


class _GraderFiles:
    """A temporary copy of the tests (and their pytest config) that submissions cannot touch."""

    def __init__(self, tests_root: Path):
        self._tmp = tempfile.TemporaryDirectory(prefix="minigrad-grade-")
        project = Path(self._tmp.name) / "project"
        self.tests_dir = project / "tests"
        shutil.copytree(tests_root, self.tests_dir,
                        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", "*.pyc"))
        self.config_file = project / "pytest.ini"
        for name, section in CONFIG_FILES.items():
            candidate = tests_root.parent / name
            if candidate.is_file() and (section is None or section in candidate.read_text(errors="replace")):
                self.config_file = project / name
                shutil.copyfile(candidate, self.config_file)
                break
        else:
            self.config_file.write_text("[pytest]\n")
        self.plugin_source = Path(__file__).with_name("pytest_plugin.py")

    def close(self):
        self._tmp.cleanup()


def _submission_root(path: Path, packages) -> Path:
    """The folder that holds the graded packages: path itself, or its only subfolder that does
    (an archive often unpacks into one folder, e.g. 'minigrad-main/')."""
    def holds(folder):
        return all((folder / p).exists() or (folder / f"{p}.py").exists() for p in packages)
    if holds(path):
        return path
    inner = [d for d in path.iterdir() if d.is_dir() and not d.name.startswith((".", "__"))] \
        if path.is_dir() else []
    if len(inner) == 1 and holds(inner[0]):
        return inner[0]
    return None


def grade_many(submissions, assignment=None, tests_root=None, source_root=None, timeout=None,
               memory_limit=DEFAULT_MEMORY_LIMIT, manifest=MINIGRAD, jobs=4, only=None) -> list:
    """Reports for [(student, path), ...]; all (student, problem) runs share a pool of `jobs`.
    `only`: task ids to grade (e.g. one problem regraded), default every problem found."""
    tests_root = Path(tests_root or default_tests_root()).resolve()
    if not tests_root.is_dir():
        raise GradingError(f"no tests folder at {tests_root} (give one with --tests DIR)")
    source_root = Path(source_root or tests_root.parent).resolve()
    problems = find_problems(source_root, manifest, assignment)
    if not problems:
        which = f" of assignment {assignment}" if assignment else ""
        raise GradingError(f"no homework regions{which} in {source_root}: grade from the teacher's "
                           "copy with the solutions, not from a release")
    if only:
        unknown = sorted(set(only) - {p.task_id for p in problems})
        if unknown:
            raise GradingError(f"no problem {', '.join(unknown)} in {source_root} (known: "
                               f"{', '.join(p.task_id for p in problems)})")
        problems = [p for p in problems if p.task_id in set(only)]
    packages = {r.path.split("/")[0].removesuffix(".py") for p in problems for r in p.regions}
    files = _GraderFiles(tests_root)
    try:
        reports, jobs_to_run = [], []
        for student, path in submissions:
            report = Report(student, str(path))
            reports.append(report)
            root = _submission_root(Path(path).resolve(), packages)
            for problem in problems:
                if root is None:
                    report.results.append(ProblemResult(problem.task_id, problem.points, note=(
                        f"submission has no {', '.join(sorted(packages))} in {path}")))
                    continue
                report.results.append(None)   # filled in when its run ends
                slot = (report, len(report.results) - 1)
                jobs_to_run.append((slot, problem, root))

        def run(job):
            (report, index), problem, root = job
            try:
                result = run_problem(problem.task_id, problem.points, root, files.tests_dir,
                                     tests_naming(files.tests_dir, problem.task_id),
                                     files.config_file, files.plugin_source,
                                     timeout or problem.timeout, memory_limit)
            except Exception as error:   # a grader bug on one run must not stop the others
                result = ProblemResult(problem.task_id, problem.points,
                                       note=f"grader error: {type(error).__name__}: {error}")
            report.results[index] = result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(run, jobs_to_run))
    finally:
        files.close()
    return reports


def grade(path=".", assignment=None, json_file=None, tests_root=None, timeout=None,
          memory_limit=DEFAULT_MEMORY_LIMIT, source_root=None, manifest=MINIGRAD, jobs=4,
          only=None) -> Report:
    """Grade the submission at `path`; write Gradescope JSON to json_file when given."""
    (report,) = grade_many([(Path(path).resolve().name, path)], assignment, tests_root, source_root,
                           timeout, memory_limit, manifest, jobs, only)
    if json_file:
        Path(json_file).write_text(json.dumps(report.gradescope(), indent=2) + "\n")
    return report


def grade_submissions(submissions_dir, assignment=None, csv_file="gradebook.csv", tests_root=None,
                      timeout=None, memory_limit=DEFAULT_MEMORY_LIMIT, source_root=None,
                      manifest=MINIGRAD, jobs=4, only=None) -> list:
    """Grade every subfolder of submissions_dir (one per student) and write a CSV gradebook."""
    folder = Path(submissions_dir)
    if not folder.is_dir():
        raise GradingError(f"--submissions {folder}: not a folder")
    students = sorted((d.name, d) for d in folder.iterdir()
                      if d.is_dir() and not d.name.startswith((".", "__")))
    reports = grade_many(students, assignment, tests_root, source_root, timeout, memory_limit,
                         manifest, jobs, only)
    write_gradebook(reports, csv_file)
    return reports


def write_gradebook(reports, csv_file):
    """One row per student: a column per problem, the total, and the notes of the problems."""
    task_ids = [r.task_id for r in reports[0].results] if reports else []
    with open(csv_file, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *task_ids, "total", "notes"])
        for report in reports:
            notes = "; ".join(f"{r.task_id}: {r.note}" for r in report.results if r.note)
            writer.writerow([report.student, *(f"{r.score:.2f}" for r in report.results),
                             f"{report.score:.2f}", notes])
