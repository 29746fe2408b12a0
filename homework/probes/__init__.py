"""Probes: how the grader asks a submission for values, one file per homework problem.

A probe file is named after its problem (``hw2.lstm_step`` -> ``hw2_lstm_step.py``) and has

    def cases(rng) -> list of dict      # runs in the grader (trusted): the inputs
    def run(case, params, arrays) -> dict of arrays   # runs in the sandbox, on the student's code

Each case dict: ``name`` (shown to the student), ``inputs`` (name -> NumPy array, sent to the
sandbox), optional ``params`` (JSON values, e.g. ``{"dim": 1}``), ``visibility`` (Gradescope's:
``visible`` by default, ``hidden``, ``after_due_date``, ``after_published``), ``rtol`` and
``atol`` (default 1e-7 and 1e-9). ``run`` imports the student's packages *inside* the
function, computes every forward output and every gradient the problem is about, and returns
them by name. The grader runs the same probe on the teacher's solution and compares each
returned array to that reference: shapes, finiteness and values within the tolerances. A case
passes when every reference array is matched.

``cases`` must not import the project (it runs in the grader, which never imports student or
engine code); ``run`` must not rely on any file other than the student's copy and this folder.
Helpers shared by the probes sit in files starting with ``_``.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


def module_name(task_id: str) -> str:
    """'hw2.lstm_step' -> 'hw2_lstm_step': the probe file's name without .py."""
    return task_id.replace(".", "_")


def probe_file(probes_dir: Path, task_id: str) -> Path:
    return Path(probes_dir) / f"{module_name(task_id)}.py"


def load(probes_dir: Path, task_id: str):
    """The probe module of task_id, imported in the grader under a private package name
    (only ``cases`` is ever called here)."""
    probes_dir = Path(probes_dir).resolve()
    package = "_homework_trusted_probes_" + re.sub(r"\W", "_", str(probes_dir))
    if package not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            package, probes_dir / "__init__.py", submodule_search_locations=[str(probes_dir)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{package}.{module_name(task_id)}")
