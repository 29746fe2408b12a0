"""Run one problem's tests against one submission, in a fresh, fenced-off pytest process.

How the process is set up, and why:

- ``python -E -s -B -m pytest`` from a fresh temporary cwd: ``-E`` ignores PYTHONPATH (so a
  ``sitecustomize.py`` or a fake ``pytest`` in the submission is never imported at start-up),
  ``-s`` ignores the user's site-packages, ``-B`` writes no ``__pycache__`` anywhere.
- The tests are the grader's own copy (see grade.py), run with ``--rootdir``/``-c``/
  ``--confcutdir`` pointing at that copy, so no conftest or ini file of the submission counts.
- The selection plugin is loaded with ``-p`` from the run's cwd (a copy the grader wrote), and
  it puts the submission first on sys.path only after pytest and its plugins are imported.
  Third-party plugins are not auto-loaded (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``): faster, and
  nothing installed by chance changes the outcome. PYTHONPATH is still set to the submission
  for any subprocess a test starts.
- A new session (process group) killed as a whole on timeout, and ``RLIMIT_AS`` as memory cap.
- Results come back through ``--junitxml`` in the temporary folder.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

try:
    import resource
except ImportError:        # Windows: no memory cap
    resource = None

PLUGIN_MODULE = "_minigrad_homework_plugin"   # the name the grader's copy of pytest_plugin.py gets
_RELATIVE_ERROR = re.compile(
    r"relative error\s*[=:]?\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|nan|inf)",
    re.IGNORECASE)
_OUT_OF_MEMORY = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")


@dataclass
class CaseOutcome:
    name: str
    outcome: str          # "passed", "failed", "skipped", "collection error"
    message: str = ""


@dataclass
class ProblemResult:
    task_id: str
    max_score: float
    score: float = 0.0
    passed: int = 0
    failed: int = 0
    note: str = ""
    tests: list = field(default_factory=list)
    log_tail: str = ""    # the end of the run's output, shown for crashes
    elapsed: float = 0.0  # seconds

    @property
    def output(self) -> str:
        """Text for a student: the note, then each failing test with the first lines of why."""
        parts = [self.note] if self.note else []
        for test in self.tests:
            if test.outcome in ("failed", "collection error"):
                parts.append(f"{test.outcome.upper()} {test.name}\n{_head(test.message, 12)}")
        if self.log_tail and not self.tests:
            parts.append("end of the test run's output:\n" + self.log_tail)
        return "\n\n".join(parts)[:6000]


def _head(text: str, lines: int) -> str:
    return "\n".join(text.strip().splitlines()[:lines])


def format_bytes(n: int) -> str:
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"


def relative_errors(text: str) -> list:
    """The floats after 'relative error' in a gradcheck failure message."""
    return [float(m) for m in _RELATIVE_ERROR.findall(text)]


def parse_junit(xml_path) -> list:
    """CaseOutcomes of a pytest junit file."""
    outcomes = []
    for case in ElementTree.parse(xml_path).getroot().iter("testcase"):
        name = ".".join(p for p in (case.get("classname"), case.get("name")) if p)
        failure, error, skipped = case.find("failure"), case.find("error"), case.find("skipped")
        if error is not None and error.get("message") == "collection failure":
            outcomes.append(CaseOutcome(name, "collection error", error.text or ""))
        elif failure is not None or error is not None:
            node = failure if failure is not None else error
            outcomes.append(CaseOutcome(name, "failed", (node.get("message") or "") + "\n" + (node.text or "")))
        elif skipped is not None:
            outcomes.append(CaseOutcome(name, "skipped", skipped.get("message") or ""))
        else:
            outcomes.append(CaseOutcome(name, "passed"))
    return outcomes


def _limit_memory(limit):
    """preexec_fn capping the child's address space. It runs between fork and exec while other
    grading threads live, so it only calls setrlimit (no import, no lock taken)."""
    if not limit or resource is None:
        return None
    def preexec():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return preexec


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _tail(path: Path, chars: int = 2000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


def _crash_reason(returncode: int, log: str, memory_limit) -> str:
    if any(sign in log for sign in _OUT_OF_MEMORY):
        return f"ran out of memory (limit {format_bytes(memory_limit)})" if memory_limit \
            else "ran out of memory"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"crashed: killed by {name}"
    fatal = [line for line in log.splitlines() if line.startswith("Fatal Python error")]
    detail = f" ({fatal[0]})" if fatal else ""
    return f"crashed: the test process exited with code {returncode} before reporting results{detail}"


def score_outcomes(result: ProblemResult, outcomes, memory_limit):
    """Proportional score: points * passed / (passed + failed + collection errors); skips don't count."""
    result.tests = outcomes
    result.passed = sum(o.outcome == "passed" for o in outcomes)
    result.failed = sum(o.outcome in ("failed", "collection error") for o in outcomes)
    notes = []
    if result.passed + result.failed == 0:
        notes.append("no tests ran for this problem" if not outcomes else "every test was skipped")
    else:
        result.score = result.max_score * result.passed / (result.passed + result.failed)
    broken = [o for o in outcomes if o.outcome == "collection error"]
    if broken:
        last = [line for line in broken[0].message.strip().splitlines() if line.strip()]
        notes.append(f"could not import {broken[0].name}: {last[-1].lstrip('E ').strip() if last else '?'}")
    failed_text = "\n".join(o.message for o in outcomes if o.outcome == "failed")
    errors = relative_errors(failed_text)
    if errors:
        notes.append(f"gradcheck relative error up to {max(errors):.1e}")
    if any(sign in failed_text for sign in _OUT_OF_MEMORY):
        notes.append(f"ran out of memory (limit {format_bytes(memory_limit)})" if memory_limit
                     else "ran out of memory")
    if "NotImplementedError" in failed_text and result.passed == 0:
        notes.append("not implemented")
    result.note = "; ".join(notes)


def run_problem(task_id, max_score, student_dir, tests_dir, test_files, config_file,
                plugin_source, timeout, memory_limit) -> ProblemResult:
    """Run the tests of task_id (test_files, relative to tests_dir; all of it when empty)."""
    result = ProblemResult(task_id, max_score)
    project_dir = Path(tests_dir).parent
    with tempfile.TemporaryDirectory(prefix="minigrad-grade-run-") as run_dir:
        run_dir = Path(run_dir)
        shutil.copyfile(plugin_source, run_dir / f"{PLUGIN_MODULE}.py")
        xml, log = run_dir / "results.xml", run_dir / "output.log"
        targets = [str(Path(tests_dir) / f) for f in test_files] or [str(tests_dir)]
        command = [sys.executable, "-E", "-s", "-B", "-m", "pytest", *targets,
                   "-p", "no:cacheprovider", "-p", PLUGIN_MODULE,
                   "--homework-problem", task_id, "--homework-student-dir", str(student_dir),
                   "--rootdir", str(project_dir), "-c", str(config_file),
                   "--confcutdir", str(project_dir), "--continue-on-collection-errors",
                   "--junitxml", str(xml), "-q", "--tb=short", "-o", "junit_family=xunit1"]
        env = dict(os.environ, PYTHONPATH=str(student_dir), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
                   PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1",
                   OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env.pop("PYTEST_ADDOPTS", None)
        with open(log, "wb") as out:
            proc = subprocess.Popen(command, cwd=run_dir, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=_limit_memory(memory_limit))
            started = time.monotonic()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                result.note = f"timed out after {timeout:g} s"
                result.log_tail = _tail(log)
                result.elapsed = time.monotonic() - started
                return result
            else:
                # Children a test left behind die with the group, even after a normal exit.
                _kill_group(proc)
        result.log_tail = _tail(log)
        if not xml.exists() and ("INTERNALERROR>" in result.log_tail or "ERROR: usage" in result.log_tail):
            result.note = f"grader error: pytest failed to start ({_head(result.log_tail[-500:], 3)})"
        elif not xml.exists():
            result.note = _crash_reason(proc.returncode, result.log_tail, memory_limit)
        else:
            score_outcomes(result, parse_junit(xml), memory_limit)
        result.elapsed = time.monotonic() - started
    return result
