"""Homework kit: cut solution regions out of the project and grade students' work safely.

    python -m homework list
    python -m homework release --out DIR [--assignment N]
    python -m homework grade --path DIR [--assignment N] [--json FILE]
    python -m homework grade --submissions DIR [--csv FILE]
    python -m homework gradescope --assignment N --out autograder.zip
    python -m homework check-isolation [--problem ID]

Student code only ever runs in sandbox processes (homework/sandbox/); the grader compares the
values they return with reference values in its own process. See docs/teaching.md. This
package imports nothing from minigrad or layers, so it works on a tree whose engine is half
written (or stubbed).
"""
from .assignments import MINIGRAD, Manifest
from .bundle import Bundle, BundleError, build
from .grade import GradingError, Report, grade_many, list_submissions, write_gradebook
from .markers import MarkerError, Region, make_stub, parse_file, parse_source
from .release import ReleaseError, release

__all__ = ["MINIGRAD", "Manifest", "Bundle", "BundleError", "build", "GradingError", "Report",
           "grade_many", "list_submissions", "write_gradebook", "MarkerError", "Region",
           "make_stub", "parse_file", "parse_source", "ReleaseError", "release"]
