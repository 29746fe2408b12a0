"""Command line of the homework kit: list, release, grade, check-isolation. Exit codes: 0 done, 1 error, 2 usage."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .assignments import DEFAULT_MEMORY_LIMIT, MINIGRAD
from .grade import GradingError, default_tests_root, grade, grade_submissions
from .isolation import check_isolation
from .markers import MarkerError
from .project import find_problems, tests_naming
from .release import ReleaseError, release

DEFAULT_ROOT = Path(__file__).resolve().parents[2]


def _gib(text: str) -> int:
    return int(float(text) * 2**30)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minigrad.homework",
                                     description="Cut homework out of minigrad and grade it.")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="assignments, problems, points and regions found")
    listing.add_argument("--root", default=DEFAULT_ROOT, help="project root (default: this minigrad's)")
    listing.add_argument("--assignment", help="only this assignment (2 or hw2)")

    rel = commands.add_parser("release", help="write the student copy with solutions stubbed")
    rel.add_argument("--out", required=True, help="output folder (empty, or use --force)")
    rel.add_argument("--assignment", help="stub only this assignment (2 or hw2); default all")
    rel.add_argument("--root", default=DEFAULT_ROOT, help="project root (default: this minigrad's)")
    rel.add_argument("--force", action="store_true", help="replace a non-empty output folder")

    gr = commands.add_parser("grade", help="grade one submission or a folder of them")
    gr.add_argument("--path", default=".", help="the submission folder (default: cwd)")
    gr.add_argument("--submissions", help="a folder with one subfolder per student")
    gr.add_argument("--assignment", help="only this assignment (2 or hw2); default all")
    gr.add_argument("--problem", action="append", metavar="ID",
                    help="only this problem (e.g. hw2.lstm_step); repeatable")
    gr.add_argument("--json", help="write Gradescope results JSON here (single submission)")
    gr.add_argument("--csv", default="gradebook.csv", help="gradebook for --submissions")
    gr.add_argument("--timeout", type=float, help="seconds per problem (default: manifest, 60)")
    gr.add_argument("--memory", type=_gib, default=DEFAULT_MEMORY_LIMIT, metavar="GIB",
                    help="address-space cap per problem in GiB (default 4; 0 for none)")
    gr.add_argument("--tests", help="the grader's tests folder (default: tests/ beside minigrad)")
    gr.add_argument("--root", help="teacher's tree with the solutions (default: the tests' parent)")
    gr.add_argument("--jobs", type=int, default=4, help="problem runs at once (default 4)")

    iso = commands.add_parser("check-isolation", help="slow: paste each problem's solution into "
                              "a stubbed release and grade all; only that one may score")
    iso.add_argument("--root", default=DEFAULT_ROOT, help="project root (default: this minigrad's)")
    iso.add_argument("--problem", action="append", metavar="ID", help="only this problem; repeatable")
    iso.add_argument("--jobs", type=int, default=4, help="problem runs at once (default 4)")
    return parser


def _list(args) -> int:
    root = Path(args.root)
    problems = find_problems(root, MINIGRAD, args.assignment)
    if not problems:
        print(f"no homework regions in {root}")
        return 0
    assignment = None
    for problem in problems:
        if problem.assignment != assignment:
            assignment = problem.assignment
            print(f"{assignment}: {problem.title}")
        tests = tests_naming(root / "tests", problem.task_id)
        print(f"  {problem.task_id:<24} {problem.points:>5g} points  "
              f"{len(problem.regions)} region(s), tests in {', '.join(tests) or 'NONE FOUND'}")
        for region in problem.regions:
            print(f"      {region.location}  {region.todo_text}")
    print(f"{len(problems)} problems, {sum(p.points for p in problems):g} points")
    return 0


def _release(args) -> int:
    result = release(args.root, args.out, args.assignment, force=args.force)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"released {len(result.problems)} problems ({result.files} files) to {result.out_dir}; "
          f"see {result.out_dir / 'HOMEWORK.md'}")
    return 0


def _grade(args) -> int:
    options = dict(assignment=args.assignment, tests_root=args.tests or default_tests_root(),
                   timeout=args.timeout, memory_limit=args.memory, source_root=args.root,
                   jobs=args.jobs, only=args.problem)
    if args.submissions:
        reports = grade_submissions(args.submissions, csv_file=args.csv, **options)
        for report in reports:
            print(f"{report.student:<30} {report.score:7.2f} / {report.max_score:g}")
        print(f"gradebook: {args.csv} ({len(reports)} students)")
        return 0
    if not Path(args.path).is_dir():
        raise GradingError(f"--path {args.path}: not a folder")
    report = grade(args.path, json_file=args.json, **options)
    print(report.table())
    if args.json:
        print(f"Gradescope results: {args.json}")
    return 0


def _check_isolation(args) -> int:
    failures = check_isolation(args.root, only=args.problem, jobs=args.jobs)
    print(f"not isolated: {', '.join(failures)}" if failures else "every problem is isolated")
    return 1 if failures else 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"list": _list, "release": _release, "grade": _grade,
                "check-isolation": _check_isolation}[args.command](args)
    except (MarkerError, ReleaseError, GradingError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
