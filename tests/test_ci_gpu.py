"""`.ci/gpu --dry-run` (the one-shot GPU check, docs/architecture.md) on a machine without a GPU:
it lists every step with its timeout and runs none of them."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, ".ci", "gpu")

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def _run(*args, **env):
    return subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env})


def test_dry_run_prints_every_step_and_runs_none(tmp_path):
    out = tmp_path / "report"
    result = _run("--dry-run", "--out", str(out), PYTHON="python-that-does-not-exist")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert str(out / "gpu_report.md") in lines[0] and "budget 450 s" in lines[0]
    steps = [line for line in lines[1:] if line.startswith("[")]
    text = "\n".join(steps)
    for expected in ("pip install", "cupy-cuda", "-k cuda", "MINIGRAD_DEVICE=cuda",
                     "engine_overhead.py", "recurrent.py", "transformer.py", "attention.py",
                     "largest T"):
        assert expected in text, expected
    assert all("(timeout " in step for step in steps) and len(steps) == 9
    assert not out.exists()                         # nothing written, nothing run


def test_budget_and_output_folder_come_from_the_environment(tmp_path):
    result = _run("--dry-run", OUT=str(tmp_path / "o"), GPU_BUDGET_S="300")
    assert result.returncode == 0
    assert str(tmp_path / "o") in result.stdout and "budget 300 s" in result.stdout


def test_unknown_arguments_are_refused():
    result = _run("--fast")
    assert result.returncode == 2 and "unknown argument --fast" in result.stderr


def test_without_a_gpu_a_real_run_stops_before_installing(tmp_path):
    if shutil.which("nvidia-smi"):
        pytest.skip("this machine has nvidia-smi")
    result = _run("--out", str(tmp_path / "o"), PATH="/usr/bin:/bin")
    assert result.returncode == 2 and "no NVIDIA GPU" in result.stderr
    assert not (tmp_path / "o").exists()
