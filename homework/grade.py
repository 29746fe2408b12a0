"""Grade submissions: each problem's probes run on the student's code in a sandbox, and the
values that come back are compared with the bundle's reference in this (trusted) process.

Nothing here imports a submission's code or the engine. Per (submission, problem): a private
copy of the submission's Python files, a sandbox process (sandbox/), one call per case of the
problem's probe, a verdict per case (compare.py), then every process of the sandbox killed and
the copy deleted. A problem scores points * (cases passed) / (cases); whatever the student's
code does (raise, exit, hang, crash, print, skip, kill itself), a case without a matching
answer is a failed case. A class run gives one row per entry of the submissions folder,
whatever that entry is.
"""
from __future__ import annotations

import csv
import json
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .assignments import DEFAULT_MEMORY_LIMIT
from .compare import compare, sanitise
from .sandbox import SLOTS, CallFailed, Host, Limits, Sandbox

CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class GradingError(RuntimeError):
    """Grading cannot start (no bundle, no problems); one broken submission never raises this."""


@dataclass
class CaseResult:
    name: str
    passed: bool
    output: str                 # what the student may see (sanitised; generic when not visible)
    visibility: str
    max_score: float
    teacher_note: str = ""      # the full reason, for the teacher's table and gradebook

    @property
    def score(self) -> float:
        return self.max_score if self.passed else 0.0


@dataclass
class ProblemResult:
    task_id: str
    max_score: float
    tests: list = field(default_factory=list)       # CaseResult
    note: str = ""
    elapsed: float = 0.0

    @property
    def passed(self) -> int:
        return sum(t.passed for t in self.tests)

    @property
    def failed(self) -> int:
        return len(self.tests) - self.passed

    @property
    def score(self) -> float:
        # points * passed / cases, not a sum of the cases' shares: 14 shares of 10/14 add up
        # to 9.999999999999998, which is not full marks
        return self.max_score * self.passed / len(self.tests) if self.tests else 0.0


@dataclass
class Report:
    """The grade of one submission."""

    student: str
    path: str
    results: list = field(default_factory=list)     # ProblemResult
    note: str = ""
    protections: list = field(default_factory=list)  # lines saying which protections were off
    elapsed: float = 0.0

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
        rows.append(("total", f"{self.score:.1f} / {self.max_score:g}", "", "", self.note))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  "
                 f"{row[3]:>{widths[3]}}  {row[4]}".rstrip() for row in rows]
        return "\n".join(lines + self.protections)

    def gradescope(self) -> dict:
        """Gradescope's results.json: one test per probe case."""
        tests, number = [], 0
        for r in self.results:
            for i, t in enumerate(r.tests, start=1):
                number += 1
                tests.append({"score": round(t.score, 4), "max_score": round(t.max_score, 4),
                              "status": "passed" if t.passed else "failed",
                              "name": f"{r.task_id}: {t.name}", "number": f"{r.task_id}.{i}",
                              "output": t.output, "visibility": t.visibility})
        output = "\n".join(filter(None, [self.note, *self.protections]))
        return {"score": round(self.score, 4), "execution_time": round(self.elapsed, 2),
                "output": output, "stdout_visibility": "hidden", "tests": tests}


def _submission_root(path: Path, files) -> Path:
    """The folder that holds the graded files: path itself, or its only subfolder that does
    (an archive often unpacks into one folder, e.g. 'minigrad-main/')."""
    tops = {f.split("/")[0] for f in files}

    def holds(folder):
        return any((folder / t).exists() for t in tops)
    if holds(path):
        return path
    inner = [d for d in path.iterdir() if d.is_dir() and not d.is_symlink()
             and not d.name.startswith((".", "__"))]
    if len(inner) == 1 and holds(inner[0]):
        return inner[0]
    return path


def _shown(case, passed: bool, detail: str) -> str:
    """What the student sees of one case: the detail for a visible case, nothing more than the
    outcome for a hidden one (its inputs, the student's error text and the values stay out)."""
    if passed:
        return "passed"
    return f"failed: {detail}" if case.visibility == "visible" else "failed"


def _error_detail(header, secrets) -> str:
    text = sanitise(header.get("error", ""), secrets)
    where = sanitise("; ".join(map(str, header.get("where") or [])), secrets, 300)
    return text + (f"\n  at {where}" if where else "")


def grade_problem(host: Host, slot: int, root: Path, spec, bundle, limits: Limits,
                  timeout=None) -> ProblemResult:
    """One problem of one submission: a sandbox on a private copy, one call per case."""
    result = ProblemResult(spec.task_id, spec.points)
    started = time.monotonic()
    share = spec.points / max(1, len(spec.cases))
    timeout = timeout or spec.timeout
    sandbox = None

    def record(case, passed, detail="", note=""):
        result.tests.append(CaseResult(case.name, passed, _shown(case, passed, detail),
                                       case.visibility, share, note))

    def fail_the_rest(note):
        result.note = note
        for case in spec.cases[len(result.tests):]:
            record(case, False, note, note)
    try:
        sandbox = Sandbox(host, slot, root, limits)
        missing = [f for f in spec.files if not (sandbox.code / f).is_file()]
        if missing:
            skipped = f" ({'; '.join(sandbox.notes[:3])})" if sandbox.notes else ""
            fail_the_rest(f"missing file {', '.join(missing)}{skipped}")
            return result
        deadline = started + timeout
        for case, reference in zip(spec.cases, spec.reference):
            try:
                header, arrays = sandbox.call(spec.probe, case.name, case.params, case.inputs,
                                              deadline)
            except CallFailed as failure:
                if failure.reason == "timed out":
                    fail_the_rest(f"timed out after {timeout:g} s")
                    return result
                log = sanitise(sandbox.log_tail()[-600:], bundle.secrets)
                record(case, False, f"{failure.reason}\n{log}".strip(), failure.reason)
                continue
            if not header.get("ok"):
                kind = str(header.get("error_type", "error"))[:60]
                note = "not implemented" if kind == "NotImplementedError" else f"raised {kind}"
                record(case, False, _error_detail(header, bundle.secrets), note)
                continue
            problems = compare(arrays, reference, case.rtol, case.atol)
            record(case, not problems, "values differ from the reference:\n  "
                   + "\n  ".join(problems[:8]), "wrong values" if problems else "")
        result.note = "; ".join(sorted({t.teacher_note for t in result.tests if not t.passed})
                                + sandbox.notes[:3])
    except Exception as error:     # noqa: BLE001 - a grader bug on one run must not stop the rest
        fail_the_rest(f"grader error: {type(error).__name__}: {error}")
    finally:
        if sandbox is not None:
            sandbox.close()
        result.elapsed = time.monotonic() - started
    return result


def grade_many(bundle, submissions, jobs=4, timeout=None, memory_limit=DEFAULT_MEMORY_LIMIT,
               hide=(), drop=None) -> list:
    """Reports for [(student, path or None, note), ...], in that order; all (student, problem)
    runs share `jobs` sandbox slots. `hide`: folders the sandboxes must not see."""
    if not bundle.problems:
        raise GradingError("no problems to grade")
    host = Host(bundle.probes, hide=hide, drop=drop)
    cpu = int(max(p.timeout for p in bundle.problems) * 2) + 10 if timeout is None else int(timeout * 2) + 10
    limits = Limits(cpu_s=cpu, memory=memory_limit or 0)
    protections = host.protection_notes()
    jobs = max(1, min(jobs, SLOTS))
    slots = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)
    reports, work = [], []
    try:
        for student, path, note in submissions:
            report = Report(student, str(path), note=note, protections=protections)
            reports.append(report)
            if path is None:
                report.results = [ProblemResult(p.task_id, p.points, note=note) for p in bundle.problems]
                for r, p in zip(report.results, bundle.problems):
                    r.tests = [CaseResult(c.name, False, f"failed: {note}", c.visibility,
                                          p.points / max(1, len(p.cases)), note) for c in p.cases]
                continue
            root = _submission_root(Path(path), [f for p in bundle.problems for f in p.files])
            report.results = [None] * len(bundle.problems)
            for index, spec in enumerate(bundle.problems):
                work.append((report, index, spec, root))

        def run(item):
            report, index, spec, root = item
            slot = slots.get()
            try:
                report.results[index] = grade_problem(host, slot, root, spec, bundle, limits, timeout)
            finally:
                slots.put(slot)

        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(run, work))
        for report in reports:
            report.elapsed = sum(r.elapsed for r in report.results)
    finally:
        host.close()
    return reports


def list_submissions(folder) -> list:
    """(student, path or None, note) for each entry of a class folder: folders are graded,
    anything else (a .zip, a file, an unreadable folder) gets a row of zeros and a note."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GradingError(f"--submissions {folder}: not a folder")
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            try:
                next(iter(entry.iterdir()), None)
            except OSError as error:
                found.append((entry.name, None, f"unreadable folder ({error.strerror})"))
                continue
            found.append((entry.name, entry, ""))
        elif entry.suffix.lower() in (".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar"):
            found.append((entry.name, None, "an archive, not a folder: unpack it and grade again"))
        else:
            found.append((entry.name, None, "not a folder"))
    return found


def escape_cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP's advice: prefix a quote)."""
    text = str(value)
    return "'" + text if text.startswith(CSV_FORMULA_START) else text


def write_gradebook(reports, csv_file) -> None:
    """One row per submission: a column per problem, the total and the notes."""
    task_ids = [r.task_id for r in reports[0].results] if reports else []
    with open(csv_file, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *task_ids, "total", "notes"])
        for report in reports:
            notes = "; ".join(filter(None, [report.note] + [f"{r.task_id}: {r.note}"
                                                             for r in report.results if r.note]))
            row = [report.student, *(f"{r.score:.2f}" for r in report.results),
                   f"{report.score:.2f}", notes]
            writer.writerow([escape_cell(cell) for cell in row])


def write_results(report: Report, json_file) -> None:
    Path(json_file).write_text(json.dumps(report.gradescope(), indent=2) + "\n")
