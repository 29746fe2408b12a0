"""Command line of the homework kit. Exit codes: 0 done, 1 error, 2 usage."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .assignments import DEFAULT_MEMORY_LIMIT, MINIGRAD
from .bundle import Bundle, BundleError, build, default_probes_dir
from .grade import GradingError, grade_many, list_submissions, write_gradebook, write_results
from .markers import MarkerError
from .probes import probe_file
from .project import find_problems, tests_naming
from .release import ReleaseError, release

DEFAULT_ROOT = Path(__file__).resolve().parents[1]


def _gib(text: str) -> int:
    return int(float(text) * 2**30)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m homework",
                                     description="Cut homework out of minigrad and grade it.")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="assignments, problems, points, regions and probes")
    listing.add_argument("--root", default=DEFAULT_ROOT, help="project root (default: this one)")
    listing.add_argument("--assignment", help="only this assignment (2 or hw2)")

    rel = commands.add_parser("release", help="write the student copy with solutions stubbed")
    rel.add_argument("--out", required=True, help="output folder (empty, or use --force)")
    rel.add_argument("--assignment", help="stub only this assignment (2 or hw2); default all")
    rel.add_argument("--root", default=DEFAULT_ROOT, help="project root (default: this one)")
    rel.add_argument("--force", action="store_true", help="replace a non-empty output folder")

    gr = commands.add_parser("grade", help="grade one submission or a folder of them")
    gr.add_argument("--path", default=".", help="the submission folder (default: cwd)")
    gr.add_argument("--submissions", help="a folder with one subfolder per student")
    gr.add_argument("--assignment", help="only this assignment (2 or hw2); default all")
    gr.add_argument("--problem", action="append", metavar="ID",
                    help="only this problem (e.g. hw2.lstm_step); repeatable")
    gr.add_argument("--json", help="write Gradescope's results.json here (single submission)")
    gr.add_argument("--csv", default="gradebook.csv", help="gradebook for --submissions")
    gr.add_argument("--timeout", type=float, help="seconds per problem (default: manifest, 60)")
    gr.add_argument("--memory", type=_gib, default=DEFAULT_MEMORY_LIMIT, metavar="GIB",
                    help="address-space cap per sandbox process in GiB (default 4; 0 for none)")
    gr.add_argument("--root", default=None, help="teacher's tree with the solutions "
                    "(default: this one); not used with --bundle")
    gr.add_argument("--bundle", help="a saved grading bundle (see `bundle`) instead of --root")
    gr.add_argument("--probes", help="probes folder (default: ROOT/homework/probes)")
    gr.add_argument("--seed", type=int, help="seed of the probe inputs (default: a fresh one)")
    gr.add_argument("--jobs", type=int, default=4, help="sandboxes at once (default 4)")

    bu = commands.add_parser("bundle", help="save problems, inputs and reference values")
    bu.add_argument("--out", required=True, help="output folder")
    bu.add_argument("--assignment", help="only this assignment")
    bu.add_argument("--root", default=DEFAULT_ROOT, help="teacher's tree (default: this one)")
    bu.add_argument("--seed", type=int, help="seed of the probe inputs (default: a fresh one)")

    gs = commands.add_parser("gradescope", help="build the autograder zip for one assignment")
    gs.add_argument("--assignment", required=True, help="the assignment (2 or hw2)")
    gs.add_argument("--out", required=True, help="the zip to write, e.g. autograder.zip")
    gs.add_argument("--root", default=DEFAULT_ROOT, help="teacher's tree (default: this one)")
    gs.add_argument("--seed", type=int, help="seed of the probe inputs (default: a fresh one)")

    commands.add_parser("autograde", help="(inside Gradescope) grade /autograder/submission "
                        "into /autograder/results/results.json; HOMEWORK_AUTOGRADER_ROOT moves it")

    iso = commands.add_parser("check-isolation", help="slow: paste each problem's solution into "
                              "a stubbed release and grade all; only that one may score")
    iso.add_argument("--root", default=DEFAULT_ROOT, help="project root (default: this one)")
    iso.add_argument("--problem", action="append", metavar="ID", help="only this problem; repeatable")
    iso.add_argument("--jobs", type=int, default=4, help="sandboxes at once (default 4)")
    return parser


def _list(args) -> int:
    root = Path(args.root)
    problems = find_problems(root, MINIGRAD, args.assignment)
    if not problems:
        print(f"no homework regions in {root}")
        return 0
    probes = default_probes_dir(root)
    assignment = None
    for problem in problems:
        if problem.assignment != assignment:
            assignment = problem.assignment
            print(f"{assignment}: {problem.title}")
        tests = tests_naming(root / "tests", problem.task_id)
        probe = probe_file(probes, problem.task_id)
        print(f"  {problem.task_id:<24} {problem.points:>5g} points  {len(problem.regions)} region(s), "
              f"probe {probe.name if probe.is_file() else 'MISSING'}, "
              f"tests in {', '.join(tests) or 'NONE FOUND'}")
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


def _bundle_for(args):
    if getattr(args, "bundle", None):
        return Bundle.load(args.bundle).select(args.assignment, args.problem), [args.bundle]
    root = Path(args.root or DEFAULT_ROOT).resolve()
    bundle = build(root, getattr(args, "probes", None), MINIGRAD, args.assignment,
                   getattr(args, "problem", None), args.seed)
    return bundle, [root]


def _grade(args) -> int:
    bundle, hide = _bundle_for(args)
    options = dict(jobs=args.jobs, timeout=args.timeout, memory_limit=args.memory)
    if args.submissions:
        entries = list_submissions(args.submissions)
        reports = grade_many(bundle, entries, hide=[*hide, args.submissions], **options)
        write_gradebook(reports, args.csv)
        for report in reports:
            print(f"{report.student:<30} {report.score:7.2f} / {report.max_score:g}")
        for line in reports[0].protections if reports else []:
            print(line)
        print(f"gradebook: {args.csv} ({len(reports)} submissions)")
        return 0
    path = Path(args.path)
    if not path.is_dir():
        raise GradingError(f"--path {args.path}: not a folder")
    (report,) = grade_many(bundle, [(path.resolve().name, path.resolve(), "")], hide=hide, **options)
    print(report.table())
    if args.json:
        write_results(report, args.json)
        print(f"Gradescope results: {args.json}")
    return 0


def _bundle(args) -> int:
    bundle = build(Path(args.root).resolve(), None, MINIGRAD, args.assignment, None, args.seed)
    bundle.save(args.out)
    print(f"bundle of {len(bundle.problems)} problems written to {args.out}")
    return 0


def _gradescope(args) -> int:
    from .gradescope import build_zip
    out = build_zip(args.root, args.assignment, args.out, seed=args.seed)
    print(f"Gradescope autograder: {out} (upload it as the assignment's autograder)")
    return 0


def _autograde(args) -> int:
    from .gradescope import autograde
    results = autograde()
    print(f"score {results['score']:g}; {len(results['tests'])} tests")
    return 0


def _check_isolation(args) -> int:
    from .isolation import check_isolation
    failures = check_isolation(args.root, only=args.problem, jobs=args.jobs)
    print(f"not isolated: {', '.join(failures)}" if failures else "every problem is isolated")
    return 1 if failures else 0


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"list": _list, "release": _release, "grade": _grade, "bundle": _bundle,
                "gradescope": _gradescope, "autograde": _autograde, "check-isolation": _check_isolation}[args.command](args)
    except (MarkerError, ReleaseError, GradingError, BundleError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
