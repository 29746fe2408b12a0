"""The lessons CLI.

    python -m lessons                  # list the lessons, one line each
    python -m lessons 4 --quick        # run lesson 4 (04_*.py) in quick mode
    python -m lessons all --quick --out runs/   # every lesson in turn, results under runs/NN_topic/

``--quick``, ``--out DIR``, ``--device cpu|cuda`` and ``--seed N`` are handed to the lesson, which
reads them in ``lessons._shared.setup``. Any other word is an error that names it: a mistyped
``--qiuck`` must not quietly start the full run, which can take hours. A lesson runs with
``runpy.run_path(..., run_name="__main__")`` and ``sys.argv[0]`` set to its file, exactly as
``python lessons/NN_topic.py`` would run it.
"""

import argparse
import runpy
import sys
import time
import traceback
from pathlib import Path

from lessons._shared import (LESSONS_DIR, add_lesson_arguments, forwarded_arguments,
                             lesson_files, lesson_number, lesson_summary, markdown_table)

USAGE_ERROR = 2   # argparse's exit code for a bad command line


def main(argv=None, lessons_dir=None):
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    ``lessons_dir`` (default: this package) lets tests point the CLI at a folder of fake lessons.
    """
    lessons_dir = Path(lessons_dir) if lessons_dir is not None else LESSONS_DIR
    parser = argparse.ArgumentParser(
        prog="python -m lessons",
        description="List or run the minigrad lessons. Options after the lesson go to the lesson.")
    parser.add_argument("lesson", nargs="?", help="lesson number (4 or 04), or 'all'; leave out to list")
    add_lesson_arguments(parser)
    args, extra = parser.parse_known_args(argv)
    if extra:
        parser.print_usage(sys.stderr)
        print(f"python -m lessons: error: unknown option {' '.join(extra)} (the options are "
              "--quick, --out DIR, --device cpu|cuda, --seed N)", file=sys.stderr)
        return USAGE_ERROR
    files = lesson_files(lessons_dir)

    if args.lesson is None:
        print(listing(files))
        return 0
    if not files:
        print(f"python -m lessons: no lessons (files NN_topic.py) in {lessons_dir}", file=sys.stderr)
        return USAGE_ERROR
    lesson_argv = forwarded_arguments(args)
    if args.lesson == "all":
        return run_all(files, lesson_argv)

    numbers = [path.name[:2] for path in files]
    try:
        number = lesson_number(args.lesson)
    except ValueError:
        number = None
    if number not in numbers:
        print(f"python -m lessons: no lesson {args.lesson!r}; valid lessons are "
              f"{', '.join(str(int(n)) for n in numbers)} or 'all'", file=sys.stderr)
        return USAGE_ERROR
    return run_lesson(files[numbers.index(number)], lesson_argv)


def listing(files):
    """The text ``python -m lessons`` prints: number and summary of each lesson."""
    if not files:
        return "No lessons yet (files lessons/NN_topic.py)."
    lines = ["minigrad lessons. Run one with: python -m lessons N [--quick] [--out DIR] "
             "[--device cpu|cuda] [--seed N]", ""]
    lines += [f"  {path.name[:2]}  {lesson_summary(path)}" for path in files]
    lines += ["  all  every lesson in turn (python -m lessons all --quick: the quick run of all)"]
    return "\n".join(lines)


def run_lesson(path, lesson_argv):
    """Run one lesson file as ``__main__`` with ``lesson_argv``; returns its exit code.

    An exception inside the lesson propagates (its traceback is what a student needs to see).
    """
    saved_argv = sys.argv
    sys.argv = [str(path), *lesson_argv]
    try:
        runpy.run_path(str(path), run_name="__main__")
    except SystemExit as stop:        # a lesson (or setup's extras check) may exit on purpose
        return _exit_code(stop.code)
    finally:
        sys.argv = saved_argv
        _close_figures()
    return 0


def run_all(files, lesson_argv):
    """Run every lesson in turn, go on past failures, and print a summary table."""
    rows, failed = [], 0
    for path in files:
        print(f"\n=== {path.stem} ===", flush=True)
        start = time.perf_counter()
        try:
            code = run_lesson(path, lesson_argv)
        except Exception:             # report and go on: one broken lesson should not hide the rest
            traceback.print_exc()
            code = 1
        failed += code != 0
        rows.append([path.stem, "ok" if code == 0 else f"failed ({code})",
                     f"{time.perf_counter() - start:.1f}"])
    print("\n" + markdown_table(["lesson", "status", "seconds"], rows))
    return 0 if failed == 0 else 1


def _exit_code(code):
    """SystemExit.code as a process exit code: None -> 0, int -> itself, message -> 1 (printed)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _close_figures():
    """Free the figures a lesson left open, so the next lesson in ``all`` starts clean."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")


if __name__ == "__main__":
    sys.exit(main())
