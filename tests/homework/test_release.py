import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import copy_fixture

from homework.markers import parse_file
from homework.project import find_problems, list_files
from homework.release import ReleaseError, release


def run_python(code, pythonpath):
    env = dict(os.environ, PYTHONPATH=str(pythonpath), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=pythonpath,
                          capture_output=True, text=True, timeout=60)


def solution_lines(root):
    regions = [r for p in find_problems(root) for r in p.regions]
    return {line.strip() for r in regions for line in r.solution if line.strip()}


def test_release_imports_and_stubs_raise_their_hint(released):
    result = run_python(
        "import numpy as np, toygrad\n"
        "for call in (lambda: toygrad.square_backward(np.ones(2), np.ones(2)),\n"
        "             lambda: toygrad.tanh_backward(np.ones(2), np.ones(2))):\n"
        "    try:\n"
        "        call()\n"
        "    except NotImplementedError as error:\n"
        "        print(error)\n", released)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "hw1.square: the gradient of x^2 times grad, same shape as x.",
        "hw1.tanh: d tanh(x)/dx = 1 - tanh(x)^2; use the saved y.",
    ]


def test_release_holds_no_solution_text_history_or_caches(released, fixture_root):
    lines = solution_lines(fixture_root)
    assert "scale = 1.0 - y * y" in lines           # the fixture's solutions are what we look for
    for path in released.rglob("*"):
        assert not {".git", "__pycache__", ".pytest_cache"} & set(path.parts)
        if path.is_file():
            text = path.read_text()
            leaked = [line for line in lines if line in text and len(line) > 3]
            assert not leaked, f"{path}: {leaked}"
    assert not find_problems(released)                # no region left in the copy


def test_release_leaves_everything_else_byte_identical(released, fixture_root):
    for rel in list_files(fixture_root):
        if not rel.startswith("toygrad/ops.py") and not rel.startswith("toygrad/affine.py"):
            assert (released / rel).read_bytes() == (fixture_root / rel).read_bytes(), rel
    original = (fixture_root / "toygrad" / "affine.py").read_text().splitlines()
    stubbed = (released / "toygrad" / "affine.py").read_text().splitlines()
    assert stubbed[:10] == original[:10]               # up to the first region
    assert stubbed[-5:-2] == original[-8:-5]           # the check before the second region


def test_homework_md_lists_problems_hints_and_commands(released):
    text = (released / "HOMEWORK.md").read_text()
    for expected in ["## hw1:", "### hw1.square (10 points)", "### hw1.tanh (10 points)",
                     "### hw2.affine (10 points)", "`toygrad/affine.py` line 12",
                     "d tanh(x)/dx = 1 - tanh(x)^2; use the saved y.",
                     "python -m pytest tests/test_toy_affine.py"]:
        assert expected in text


def test_release_of_one_assignment_keeps_the_other_working(tmp_path, fixture_root):
    out = tmp_path / "hw1"
    result = release(fixture_root, out, assignment="1")
    assert [p.task_id for p in result.problems] == ["hw1.square", "hw1.tanh"]
    assert [r.task_id for r in parse_file(out / "toygrad" / "affine.py")] == ["hw2.affine"] * 2
    # dx = dout @ w.T: with dout = ones (1, 2) and w = [[1, 2], [3, 4]], dx = [[3, 7]]
    check = run_python("import numpy as np, toygrad\n"
                       "w = np.array([[1., 2.], [3., 4.]])\n"
                       "dx, dw, db = toygrad.affine_backward(np.ones((1, 2)), (np.ones((1, 2)), w))\n"
                       "print(dx.tolist())\n", out)
    assert check.stdout.strip() == "[[3.0, 7.0]]", check.stderr


def test_out_dir_must_be_empty_unless_forced(tmp_path, fixture_root):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(ReleaseError, match="not empty"):
        release(fixture_root, out)
    release(fixture_root, out, force=True)
    assert not (out / "old.txt").exists() and (out / "toygrad" / "ops.py").exists()
    with pytest.raises(ReleaseError, match="holds it"):
        release(fixture_root, fixture_root.parent, force=True)


def test_walk_without_git_skips_vcs_venvs_caches_and_the_out_dir(tmp_path):
    root = copy_fixture(tmp_path / "project")
    for junk in [".git/config", "myenv/pyvenv.cfg", "toygrad/__pycache__/ops.pyc",
                 "build/lib.py", "lesson_output/plot.png", "toygrad.egg-info/PKG-INFO"]:
        (root / junk).parent.mkdir(parents=True, exist_ok=True)
        (root / junk).write_text("junk")
    (root / "notes.txt").write_text("kept")
    (root / "lesson.ipynb").write_text('{"cells": [], "outputs": "a solution\'s results"}')
    release(root, root / "release")          # the out dir may live inside the project
    copied = {p.relative_to(root / "release").as_posix()
              for p in (root / "release").rglob("*") if p.is_file()}
    probes = {f"homework/probes/{name}" for name in
              ("__init__.py", "hw1_square.py", "hw1_tanh.py", "hw2_affine.py")}
    # no notebook: its saved outputs could show a solution (issue 10)
    assert copied == {"HOMEWORK.md", "notes.txt", "setup.cfg", "toygrad/__init__.py",
                      "toygrad/affine.py", "toygrad/gradcheck.py", "toygrad/ops.py",
                      "tests/conftest.py", "tests/test_toy_ops.py", "tests/test_toy_affine.py",
                      *probes}


def test_git_tree_copies_tracked_and_untracked_but_not_ignored(tmp_path):
    root = copy_fixture(tmp_path / "project")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("secret_notes.txt\n")
    (root / "secret_notes.txt").write_text("answers")
    (root / "lesson.ipynb").write_text("{}")
    subprocess.run(["git", "-C", str(root), "add", "toygrad", "lesson.ipynb"], check=True)
    release(root, tmp_path / "out")                       # tests left untracked: copied too
    assert not (tmp_path / "out" / "lesson.ipynb").exists()   # tracked, but a notebook
    assert (tmp_path / "out" / "tests" / "test_toy_ops.py").exists()
    assert not (tmp_path / "out" / "secret_notes.txt").exists()
    assert not (tmp_path / "out" / ".git").exists()


def test_hint_quoting_the_solution_is_caught(tmp_path):
    root = copy_fixture(tmp_path / "project")
    ops = root / "toygrad" / "ops.py"
    ops.write_text(ops.read_text().replace("### use the saved y.", "### write return grad * scale"))
    ops.write_text(ops.read_text().replace("return grad * scale\n", "return grad * scale  # done\n"))
    with pytest.raises(ReleaseError, match=r"HOMEWORK.md:\d+ holds a solution line of hw1.tanh"):
        release(root, tmp_path / "out")


def test_region_outside_a_function_is_refused(tmp_path):
    root = copy_fixture(tmp_path / "project")
    (root / "toygrad" / "consts.py").write_text(
        "### BEGIN SOLUTION hw1.const\nSCALE = 2.0 * 3.0\n### END SOLUTION\n")
    with pytest.raises(ReleaseError, match=r"toygrad/consts.py:1: region hw1.const is not inside a function"):
        release(root, tmp_path / "out")


def test_region_opening_a_function_body_with_its_hint_is_accepted(tmp_path):
    # the hint lines sit between BEGIN and the code: the first code line is found past them
    root = copy_fixture(tmp_path / "project")
    (root / "toygrad" / "cube.py").write_text(
        "def cube_backward(x, grad):\n"
        "    ### BEGIN SOLUTION hw1.cube\n"
        "    ### TODO: d(x^3)/dx = 3 x^2\n"
        "    ###       times the upstream gradient\n"
        "    return 3 * x * x * grad\n"
        "    ### END SOLUTION\n")
    release(root, tmp_path / "out")
    stubbed = (tmp_path / "out" / "toygrad" / "cube.py").read_text()
    assert "NotImplementedError" in stubbed and "3 * x * x" not in stubbed


def test_release_that_does_not_import_is_refused(tmp_path):
    root = copy_fixture(tmp_path / "project")
    init = root / "toygrad" / "__init__.py"
    init.write_text(init.read_text() + "from .ops import square_backward as _s\n_s(1.0, 1.0)\n")
    with pytest.raises(ReleaseError, match="does not import"):
        release(root, tmp_path / "out")


def test_command_line_release_and_list(tmp_path, fixture_root):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "homework", *args],
                              capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2])
    listing = cli("list", "--root", str(fixture_root))
    assert listing.returncode == 0
    assert ("hw2.affine                  10 points  2 region(s), probe hw2_affine.py, "
            "tests in test_toy_affine.py") in listing.stdout
    ok = cli("release", "--root", str(fixture_root), "--out", str(tmp_path / "a"), "--assignment", "hw2")
    assert ok.returncode == 0 and "released 1 problems" in ok.stdout
    again = cli("release", "--root", str(fixture_root), "--out", str(tmp_path / "a"))
    assert again.returncode == 1 and again.stderr.startswith("error: --out") and "not empty" in again.stderr
    bad = cli("release", "--root", str(fixture_root), "--out", str(tmp_path / "b"), "--assignment", "x")
    assert bad.returncode == 1 and "expected a number like 2" in bad.stderr
