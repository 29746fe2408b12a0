"""Homework kit: cut solution regions out of the project and grade students' work.

    python -m minigrad.homework list
    python -m minigrad.homework release --out DIR [--assignment N]
    python -m minigrad.homework grade --path DIR [--assignment N] [--json FILE]
    python -m minigrad.homework grade --submissions DIR [--csv FILE]
    python -m minigrad.homework check-isolation [--problem ID]

See docs/teaching.md. This package imports nothing from the rest of minigrad, so it works on
a tree whose engine is half written (or stubbed).
"""
from .assignments import MINIGRAD, Manifest
from .grade import GradingError, Report, grade, grade_submissions
from .markers import MarkerError, Region, make_stub, parse_file, parse_source
from .release import ReleaseError, release

__all__ = ["MINIGRAD", "Manifest", "GradingError", "Report", "grade", "grade_submissions",
           "MarkerError", "Region", "make_stub", "parse_file", "parse_source", "ReleaseError",
           "release"]
