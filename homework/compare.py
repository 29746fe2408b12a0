"""Verdicts: a case's arrays from the sandbox against the reference, in the grader's process.

The reference is what the same probe returned on the teacher's solution. A case passes when,
for every reference array, the student returned an array of the same shape whose values are
within the tolerances (``|got - want| <= atol + rtol |want|``, NaN only where the reference
has NaN). Extra arrays are ignored. Messages name the array and the size of the error, never
the reference values.
"""
from __future__ import annotations

import re

import numpy as np

DEFAULT_RTOL, DEFAULT_ATOL = 1e-7, 1e-9
MAX_SHOWN = 1500
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def compare(got: dict, want: dict, rtol=DEFAULT_RTOL, atol=DEFAULT_ATOL) -> list:
    """Problems found (empty when the case passes)."""
    problems = []
    for name, reference in want.items():
        if name not in got:
            problems.append(f"{name}: not returned")
            continue
        value = got[name]
        if value.dtype.kind not in "biuf" or reference.dtype.kind not in "biuf":
            problems.append(f"{name}: dtype {value.dtype}, expected a number array")
            continue
        if value.shape != reference.shape:
            problems.append(f"{name}: shape {value.shape}, expected {reference.shape}")
            continue
        value, reference = value.astype(np.float64), reference.astype(np.float64)
        nan_ok = np.isnan(value) == np.isnan(reference)
        inf_ok = np.where(np.isinf(reference), value == reference, True)
        with np.errstate(invalid="ignore"):
            error = np.abs(value - reference)
            close = (error <= atol + rtol * np.abs(reference)) | np.isnan(reference) | np.isinf(reference)
        bad = ~(close & nan_ok & inf_ok)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            finite = np.isfinite(error) & bad
            size = f"max abs error {error[finite].max():.1e}" if finite.any() else "NaN or inf"
            problems.append(f"{name}: {int(bad.sum())} of {bad.size} values off ({size}; first at "
                            f"index {where}; tolerance rtol {rtol:g}, atol {atol:g})")
    return problems


def sanitise(text: str, secrets=(), limit: int = MAX_SHOWN) -> str:
    """Student-side text made fit to show: no control characters, no line of the teacher's
    solution or other secret string in it, bounded length."""
    text = _CONTROL.sub("?", str(text))
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, "[removed]")
    return text if len(text) <= limit else text[:limit] + " [...]"
