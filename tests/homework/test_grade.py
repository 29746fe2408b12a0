"""Grade a class of fake students of the fixture project in one batch, then check each grade.

One batch (about 20 short pytest runs, 4 at a time) keeps the file fast; every test below
reads its part of the result.
"""
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURE, copy_fixture

from minigrad.homework.grade import grade, grade_submissions
from minigrad.homework.markers import make_stub
from minigrad.homework.project import find_problems
from minigrad.homework.runner import relative_errors

TIMEOUT_S = 10      # the hanging student waits this long; lower risks timeouts on a loaded CI machine
PROBLEMS = ["hw1.square", "hw1.tanh", "hw2.affine"]


def replace_stubs(root: Path, task_id: str, code=None):
    """Put code (a list of lines, or the solution when None) in place of each stub of task_id."""
    for region in next(p for p in find_problems(FIXTURE) if p.task_id == task_id).regions:
        path = root / region.path
        text = path.read_text()
        stub = "\n".join(make_stub(region)) + "\n"
        body = region.solution if code is None else [region.indent + line for line in code]
        assert stub in text
        path.write_text(text.replace(stub, "\n".join(body) + "\n", 1))


def student_from_release(submissions: Path, name: str, released: Path) -> Path:
    return Path(shutil.copytree(released, submissions / name))


@pytest.fixture(scope="module")
def graded(tmp_path_factory, released):
    subs = tmp_path_factory.mktemp("submissions")
    # Full solution, unpacked into one inner folder as archives often are.
    copy_fixture(subs / "solution" / "toygrad-main")
    student_from_release(subs, "release", released)
    replace_stubs(student_from_release(subs, "pasted", released), "hw1.tanh")

    mixed = student_from_release(subs, "mixed", released)
    replace_stubs(mixed, "hw1.square", ["while True:", "    __import__('time').sleep(0.05)"])
    replace_stubs(mixed, "hw1.tanh")
    replace_stubs(mixed, "hw2.affine", ["__import__('os')._exit(3)"])

    faulty = student_from_release(subs, "faulty", released)
    replace_stubs(faulty, "hw1.square", ["__import__('ctypes').string_at(0)"])     # segfault
    replace_stubs(faulty, "hw1.tanh", ["return grad * (1 - y)"])                   # wrong grad
    replace_stubs(faulty, "hw2.affine", ["big = bytearray(2 * 2**30)"])             # over the cap

    broken = copy_fixture(subs / "broken_import")
    with open(broken / "toygrad" / "__init__.py", "a") as init:
        init.write("raise RuntimeError('broken on purpose')\n")

    # Edits the tests to pass and plants files that would cheat if the grader used them.
    cheat = student_from_release(subs, "edits_tests", released)
    for test_file in (cheat / "tests").glob("test_*.py"):
        names = [line.split("(")[0][4:] for line in test_file.read_text().splitlines()
                 if line.startswith("def test_")]
        test_file.write_text("".join(f"def {n}():\n    pass\n" for n in names))
    hook = ("import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
            "def pytest_runtest_makereport(item, call):\n"
            "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")
    (cheat / "conftest.py").write_text(hook)
    (cheat / "tests" / "conftest.py").write_text(hook)
    (cheat / "sitecustomize.py").write_text("import os\nos._exit(0)\n")
    (cheat / "pytest.py").write_text("raise SystemExit(0)\n")

    (subs / "empty").mkdir()
    (subs / "not_a_folder.txt").write_text("ignored")

    csv_file = tmp_path_factory.mktemp("out") / "gradebook.csv"
    reports = grade_submissions(subs, csv_file=csv_file, tests_root=FIXTURE / "tests",
                                timeout=TIMEOUT_S, memory_limit=2**30, jobs=4)
    return {r.student: r for r in reports}, csv_file


def scores(report):
    return {r.task_id: r.score for r in report.results}


def notes(report):
    return {r.task_id: r.note for r in report.results}


def test_solution_gets_full_marks(graded):
    report = graded[0]["solution"]
    assert scores(report) == {"hw1.square": 10, "hw1.tanh": 10, "hw2.affine": 10}
    # hw2.affine's tests are tagged by a module-level pytestmark: both counted
    assert [(r.passed, r.failed) for r in report.results] == [(2, 0), (2, 0), (2, 0)]


def test_release_gets_zero_everywhere(graded):
    report = graded[0]["release"]
    assert scores(report) == dict.fromkeys(PROBLEMS, 0)
    assert all(r.failed == 2 and r.note == "not implemented" for r in report.results)


def test_pasting_one_solution_scores_exactly_that_problem(graded):
    assert scores(graded[0]["pasted"]) == {"hw1.square": 0, "hw1.tanh": 10, "hw2.affine": 0}


def test_hang_and_exit_score_zero_without_stopping_the_rest(graded):
    report = graded[0]["mixed"]
    assert scores(report) == {"hw1.square": 0, "hw1.tanh": 10, "hw2.affine": 0}
    assert notes(report)["hw1.square"] == f"timed out after {TIMEOUT_S} s"
    assert notes(report)["hw2.affine"].startswith(
        "crashed: the test process exited with code 3 before reporting results")


def test_segfault_wrong_gradient_and_memory(graded):
    report = graded[0]["faulty"]
    assert scores(report) == {"hw1.square": 0, "hw1.tanh": 5, "hw2.affine": 0}
    assert notes(report)["hw1.square"] == "crashed: killed by SIGSEGV"
    # The first index gradcheck rejects is (0, 0): analytic g (1 - y), numeric g (1 - y^2).
    rng = np.random.default_rng(0)
    y, g = np.tanh(rng.standard_normal((3, 4))[0, 0]), rng.standard_normal((3, 4))[0, 0]
    analytic, numeric = g * (1 - y), g * (1 - y * y)
    expected = abs(analytic - numeric) / (abs(analytic) + abs(numeric))
    assert notes(report)["hw1.tanh"] == f"gradcheck relative error up to {expected:.1e}"
    assert "ran out of memory (limit 1 GiB)" in notes(report)["hw2.affine"]


def test_submission_that_fails_to_import_gets_zeros(graded):
    report = graded[0]["broken_import"]
    assert scores(report) == dict.fromkeys(PROBLEMS, 0)
    assert all("RuntimeError: broken on purpose" in r.note for r in report.results)


def test_editing_tests_or_planting_conftest_changes_nothing(graded):
    cheat, release = graded[0]["edits_tests"], graded[0]["release"]
    assert scores(cheat) == scores(release)
    assert notes(cheat) == notes(release)


def test_gradebook_has_one_row_per_student(graded):
    reports, csv_file = graded
    rows = list(csv.reader(open(csv_file)))
    assert rows[0] == ["student", *PROBLEMS, "total", "notes"]
    by_student = {row[0]: row for row in rows[1:]}
    assert sorted(by_student) == sorted(["broken_import", "edits_tests", "empty", "faulty",
                                         "mixed", "pasted", "release", "solution"])
    assert by_student["solution"][1:5] == ["10.00", "10.00", "10.00", "30.00"]
    assert by_student["faulty"][1:5] == ["0.00", "5.00", "0.00", "5.00"]
    assert by_student["empty"][4] == "0.00" and "submission has no toygrad" in by_student["empty"][5]


def test_gradescope_json_adds_up(graded, released, tmp_path):
    for report in graded[0].values():
        data = report.gradescope()
        assert {"score", "max_score", "tests"} <= set(data)
        assert [t["name"] for t in data["tests"]] == PROBLEMS
        assert all({"name", "score", "max_score", "output"} <= set(t) for t in data["tests"])
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
        assert data["max_score"] == sum(t["max_score"] for t in data["tests"]) == 30
    out = tmp_path / "results.json"
    report = grade(released, assignment=2, json_file=out, tests_root=FIXTURE / "tests", timeout=30)
    data = json.loads(out.read_text())
    assert (data["score"], data["max_score"]) == (0, 10) == (report.score, report.max_score)
    assert "NotImplementedError: hw2.affine" in data["tests"][0]["output"]


def test_relative_error_is_read_from_gradcheck_messages():
    message = ("gradcheck failed for input 0 (shape (3, 4)) at index (1, 2): analytic 0.1234, "
               "numeric 0.5678, relative error 6.4e-01")
    assert relative_errors(message) == [0.64]


def test_command_line_grade(tmp_path):
    (tmp_path / "subs" / "nobody").mkdir(parents=True)
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "minigrad.homework", "grade", *args,
                               "--tests", str(FIXTURE / "tests")], capture_output=True, text=True,
                              timeout=60, cwd=Path(__file__).parents[2])
    done = cli("--submissions", str(tmp_path / "subs"), "--csv", str(tmp_path / "book.csv"))
    assert done.returncode == 0, done.stderr
    assert list(csv.reader(open(tmp_path / "book.csv")))[1][:5] == ["nobody", "0.00", "0.00", "0.00", "0.00"]
    missing = cli("--path", str(tmp_path / "missing"))
    assert missing.returncode == 1 and "not a folder" in missing.stderr
    release_tree = cli("--path", str(tmp_path), "--root", str(tmp_path))
    assert release_tree.returncode == 1 and "not from a release" in release_tree.stderr
