"""The homework kit on minigrad itself: release, stubs, solution leaks and grading, end to end.

The kit's other tests use a toy fixture project; these run it on the real tree. A release of
every assignment is made once per module (~3 s) and shared; the student's side of each check
runs in a subprocess with only the release on PYTHONPATH (this process has the solution
tree's minigrad imported). Grading runs the real command line on one cheap problem
(hw1.relu), so the whole file stays well under 30 s.
"""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from homework.bundle import BundleError, build
from homework.markers import make_stub
from homework.probes import probe_file
from homework.project import find_problems, list_files

ROOT = Path(__file__).resolve().parents[2]
CHEAP = "hw1.relu"          # one gradcheck of one op: the fastest problem to grade


def run_python(code, release, timeout=120):
    """Run code with only `release` importable (PYTHONPATH) from a neutral cwd."""
    env = dict(os.environ, PYTHONPATH=str(release), PYTHONDONTWRITEBYTECODE="1",
               MPLBACKEND="Agg")
    return subprocess.run([sys.executable, "-B", "-c", code], cwd=release.parent, env=env,
                          capture_output=True, text=True, timeout=timeout)


def homework(*args, timeout=240):
    """`python -m homework ARGS` from the solution tree."""
    return subprocess.run([sys.executable, "-m", "homework", *map(str, args)],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def stub_message(task_id):
    """What the stub of task_id raises: its id and its hint (see markers.make_stub)."""
    (problem,) = [p for p in find_problems(ROOT) if p.task_id == task_id]
    return f"{task_id}: {problem.regions[0].todo_text}"


@pytest.fixture(scope="module")
def problems():
    return find_problems(ROOT)


@pytest.fixture(scope="module")
def release_all(tmp_path_factory):
    out = tmp_path_factory.mktemp("real") / "student"
    result = homework("release", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def release_hw2(tmp_path_factory):
    out = tmp_path_factory.mktemp("real") / "student_hw2"
    result = homework("release", "--out", out, "--assignment", 2)
    assert result.returncode == 0, result.stderr
    return out


# Calls a stub of each kind straight from the student's side and prints what it raised:
# a Function's backward reached through gradcheck, and a plain step kernel.
PROBE = r"""
import json
import numpy as np
import minigrad as mg
from layers.lstm import lstm_step_backward, lstm_step_forward

def raised(call):
    try:
        call()
    except NotImplementedError as error:
        return str(error)
    return None

rng = np.random.default_rng(0)
x = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
a = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
b = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
N, H = 2, 3
h, c, cache = lstm_step_forward(rng.standard_normal((N, 4 * H)), rng.standard_normal((N, H)),
                                rng.standard_normal((N, H)), rng.standard_normal((H, 4 * H)))
print(json.dumps({
    "relu": raised(lambda: mg.gradcheck(mg.relu, [x])),
    "mul": raised(lambda: mg.gradcheck(lambda p, q: p * q, [a, b])),
    "lstm_step": raised(lambda: lstm_step_backward(np.ones((N, H)), np.ones((N, H)), cache)),
}))
"""


def probe(release):
    result = run_python(PROBE, release)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_release_of_everything_imports_and_has_no_history(release_all):
    result = run_python("import minigrad, layers, lessons; print(minigrad.__file__)", release_all)
    assert result.returncode == 0, result.stderr[-3000:]
    assert Path(result.stdout.strip()).is_relative_to(release_all)   # not the solution tree
    assert not (release_all / ".git").exists()
    assert (release_all / "HOMEWORK.md").is_file()


def test_every_region_is_replaced_by_its_stub(release_all, problems):
    for problem in problems:
        for region in problem.regions:
            text = (release_all / region.path).read_text()
            assert "\n".join(make_stub(region)) + "\n" in text, region.location
            assert f"### BEGIN SOLUTION {problem.task_id}" not in text, region.location


def test_stubs_raise_with_their_hint(release_all):
    raised = probe(release_all)
    assert raised == {"relu": stub_message("hw1.relu"), "mul": stub_message("hw1.mul_div"),
                      "lstm_step": stub_message("hw2.lstm_step")}


def test_no_solution_line_in_the_release(release_all, problems):
    # A solution line is a leak unless the project has the same line outside every region
    # (a common line like "return grad_x, None" that students see anyway).
    regions = [r for p in problems for r in p.regions]
    outside = set()
    for rel in list_files(ROOT):
        try:
            lines = (ROOT / rel).read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            continue
        inside = {n for r in regions if r.path == rel for n in range(r.begin_line, r.end_line + 1)}
        outside.update(line.strip() for n, line in enumerate(lines, 1) if n not in inside)
    secret = {line.strip() for r in regions for line in r.solution
              if len(line.strip()) >= 12 and not line.strip().startswith("#")}
    secret -= outside
    assert len(secret) > 100           # the check has something to find
    leaks = []
    for path in release_all.rglob("*"):
        if path.is_file():
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except UnicodeDecodeError:
                continue
            leaks += [f"{path.relative_to(release_all)}:{n}" for n, line in enumerate(lines, 1)
                      if line.strip() in secret]
    assert leaks == []


def test_release_of_one_assignment_keeps_the_others_working(release_hw2):
    raised = probe(release_hw2)
    assert raised["relu"] is None and raised["mul"] is None       # hw1 solutions kept
    assert raised["lstm_step"] == stub_message("hw2.lstm_step")
    text = (release_hw2 / "HOMEWORK.md").read_text()
    assert "hw2.lstm_step" in text and "hw1.relu" not in text


def test_grader_scores_release_zero_and_solution_full(release_all, tmp_path):
    """The real command line, one cheap problem: a class of two (stubbed and solved) to CSV,
    and the stubbed release alone to Gradescope JSON."""
    class_dir = tmp_path / "class"
    class_dir.mkdir()
    (class_dir / "stubbed").symlink_to(release_all, target_is_directory=True)
    (class_dir / "solved").symlink_to(ROOT, target_is_directory=True)
    book = tmp_path / "gradebook.csv"
    result = homework("grade", "--submissions", class_dir, "--problem", CHEAP, "--csv", book,
                      "--jobs", 2)
    assert result.returncode == 0, result.stderr
    rows = {row["student"]: row for row in csv.DictReader(book.open())}
    assert rows["solved"][CHEAP] == "10.00" and rows["solved"]["total"] == "10.00"
    assert rows["stubbed"][CHEAP] == "0.00"
    assert "not implemented" in rows["stubbed"]["notes"]

    results = tmp_path / "results.json"
    result = homework("grade", "--path", release_all, "--problem", CHEAP, "--json", results)
    assert result.returncode == 0, result.stderr
    gradescope = json.loads(results.read_text())
    assert gradescope["score"] == 0
    assert sum(t["max_score"] for t in gradescope["tests"]) == pytest.approx(10)
    tests = gradescope["tests"]
    assert tests and all(t["name"].startswith(CHEAP) and t["score"] == 0 for t in tests)
    visible = [t for t in tests if t["visibility"] == "visible"]
    hidden = [t for t in tests if t["visibility"] != "visible"]
    assert visible and all("NotImplementedError" in t["output"] for t in visible)
    assert hidden and all(t["output"] == "failed" for t in hidden)


def test_grader_refuses_an_unknown_problem():
    with pytest.raises(BundleError, match=rf"no problem hw1\.no_such_op .*{CHEAP}"):
        build(ROOT, only=["hw1.no_such_op"])


def test_every_problem_has_a_probe(problems):
    """Adding a problem (hw5.reverse_scan, ...) means adding homework/probes/hw5_reverse_scan.py."""
    kit_probes = ROOT / "homework" / "probes"
    assert [p.task_id for p in problems if not probe_file(kit_probes, p.task_id).is_file()] == []
