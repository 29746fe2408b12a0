"""The Gradescope zip, run locally: run_autograder against a fake /autograder in a temp root."""
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURE, IS_ROOT, replace_stubs

from homework.gradescope import build_zip


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    return build_zip(FIXTURE, 1, tmp_path_factory.mktemp("zip") / "autograder.zip", seed=5)


def test_zip_holds_the_kit_the_bundle_and_the_scripts_but_no_solution(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {info.filename: info.external_attr >> 16 for info in archive.infolist()}
        text = b"".join(archive.read(n) for n in names)
    assert {"setup.sh", "run_autograder", "bundle/bundle.json", "bundle/bundle.npz",
            "homework/__main__.py", "homework/sandbox/launch.py", "homework/sandbox/worker.py",
            "homework/probes/__init__.py"} <= names
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert not any(n.startswith(("toygrad/", "tests/")) for n in names)
    assert b"scale = 1.0 - y * y" not in text and b"grad * 2.0 * x" not in text
    bundle = json.loads(zipfile.ZipFile(autograder_zip).read("bundle/bundle.json"))
    assert [p["task_id"] for p in bundle["problems"]] == ["hw1.square", "hw1.tanh"]
    assert "hw1_tanh.py" in bundle["probes"] and bundle["secrets"] == []
    setup = zipfile.ZipFile(autograder_zip).read("setup.sh").decode()
    assert "pip install" in setup and "numpy" in setup


def fake_autograder(tmp_path, autograder_zip, submission: Path) -> Path:
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(autograder_zip) as archive:
        for info in archive.infolist():
            target = root / "source" / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            os.chmod(target, (info.external_attr >> 16) & 0o777)
    shutil.copytree(submission, root / "submission")
    (root / "results").mkdir()
    return root


def run_autograder(root: Path):
    env = dict(os.environ, HOMEWORK_AUTOGRADER_ROOT=str(root), HOMEWORK_PYTHON=sys.executable)
    return subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("who,score", [("solution", 20.0), ("stubs", 0.0), ("half", 10.0)])
def test_run_autograder_grades_the_submission_into_results_json(
        tmp_path, autograder_zip, released, who, score):
    if who == "solution":
        submission = FIXTURE
    else:
        submission = Path(shutil.copytree(released, tmp_path / "student"))
        if who == "half":
            replace_stubs(submission, "hw1.tanh")
    root = fake_autograder(tmp_path, autograder_zip, submission)
    done = run_autograder(root)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == score
    assert {"score", "execution_time", "output", "tests"} <= set(results)
    for test in results["tests"]:
        assert {"score", "max_score", "status", "name", "number", "output", "visibility"} <= set(test)
    assert sum(t["max_score"] for t in results["tests"]) == pytest.approx(20)
    if IS_ROOT:   # only the grader may read the bundle and write the results
        assert stat.S_IMODE(os.stat(root / "source").st_mode) == 0o700
        assert stat.S_IMODE(os.stat(root / "results").st_mode) == 0o700
    else:
        assert "OFF: sandbox runs as an unprivileged uid" in results["output"]
