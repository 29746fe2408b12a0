"""Gradescope: the autograder zip, and what its run_autograder does.

    python -m homework gradescope --assignment 2 --out autograder.zip

The zip holds the homework kit (this package), a grading bundle of that assignment (its
probes, inputs and reference values, never the solutions: see bundle.py), ``setup.sh``
(installs Python and NumPy, the project's only runtime dependency) and ``run_autograder``,
which runs ``python3 -m homework autograde``: grade ``/autograder/submission`` into
``/autograder/results/results.json``. Gradescope runs it as root, so the sandbox drops to a uid
of its own, and all of ``/autograder`` (the bundle, the results, the original submission) is
hidden from it; only this trusted process writes results.json, after every sandbox is dead.

``HOMEWORK_AUTOGRADER_ROOT`` replaces ``/autograder`` (the kit's tests run a fake layout).
"""
from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from pathlib import Path

from .assignments import MINIGRAD
from .bundle import Bundle, build
from .grade import grade_many, write_results
from .project import normalize_assignment

KIT = Path(__file__).resolve().parent
ROOT_VARIABLE = "HOMEWORK_AUTOGRADER_ROOT"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-pip
python3 -m pip install -q {requirements} || python3 -m pip install -q --break-system-packages {requirements}
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission, as root: grade /autograder/submission into
# /autograder/results/results.json (the student's code only ever runs in the sandbox).
set -uo pipefail
root="${HOMEWORK_AUTOGRADER_ROOT:-/autograder}"
cd "$root/source" && exec "${HOMEWORK_PYTHON:-python3}" -E -s -m homework autograde
"""


def _requirements(root: Path) -> str:
    """The runtime requirements from setup.cfg's install_requires (numpy), quoted for a shell."""
    requirements = []
    cfg = Path(root) / "setup.cfg"
    if cfg.is_file():
        lines = cfg.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.strip().startswith("install_requires"):
                for more in lines[i + 1:]:
                    if not more.startswith((" ", "\t")) or not more.strip():
                        break
                    requirements.append(more.strip())
    return " ".join(f"'{r}'" for r in requirements or ["numpy>=1.23"])


def build_zip(root, assignment, out, seed=None, manifest=MINIGRAD) -> Path:
    """Write the autograder zip of one assignment; returns its path."""
    root, out = Path(root).resolve(), Path(out).resolve()
    wanted = normalize_assignment(assignment)
    bundle = build(root, None, manifest, wanted, seed=seed)
    # The solution lines are only kept to scrub them from output when the teacher's tree sits
    # beside the grader; Gradescope's machine has no solution to leak, so the zip has none.
    bundle.secrets = []
    with tempfile.TemporaryDirectory() as tmp:
        bundle.save(Path(tmp) / "bundle")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            def add(name, text, mode=0o644):
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, text)
            add("setup.sh", SETUP_SH.format(requirements=_requirements(root)), 0o755)
            add("run_autograder", RUN_AUTOGRADER, 0o755)
            for path in sorted(KIT.rglob("*.py")):
                rel = path.relative_to(KIT).as_posix()
                # the probes travel in the bundle (the ones of the assignment's own project)
                if "__pycache__" not in path.parts and (
                        not rel.startswith("probes/") or rel == "probes/__init__.py"):
                    add(f"homework/{rel}", path.read_bytes())
            for name in ("bundle.json", "bundle.npz"):
                add(f"bundle/{name}", (Path(tmp) / "bundle" / name).read_bytes())
    return out


def autograde(root=None, jobs=2) -> dict:
    """What run_autograder does: grade root/submission into root/results/results.json."""
    root = Path(root or os.environ.get(ROOT_VARIABLE) or "/autograder").resolve()
    source, results = root / "source", root / "results"
    results.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:             # only root (this process) may read the bundle and results
        for folder in (source, results):
            os.chmod(folder, 0o700)
    bundle = Bundle.load(source / "bundle")
    (report,) = grade_many(bundle, [("submission", root / "submission", "")], jobs=jobs,
                           hide=[root])
    write_results(report, results / "results.json")
    return report.gradescope()
