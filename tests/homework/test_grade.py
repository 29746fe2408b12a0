"""The grader's pieces: the wire format, private copies, bounded reads, verdicts, bundles,
gradebook cells and the command line. (The attacks are in test_attacks.py.)"""
import csv
import io
import os
import pickle
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURE, replace_stubs

from homework.bundle import Bundle, BundleError, build
from homework.compare import compare, sanitise
from homework.grade import CaseResult, ProblemResult, escape_cell, grade_many, list_submissions
from homework.sandbox import private_copy, read_tail
from homework.sandbox import rpc

KIT_ROOT = Path(__file__).resolve().parents[2]


def frame(*parts):
    return b"".join(struct.pack("<Q", len(p)) + p for p in parts)


def read_bytes(data, deadline=None):
    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    try:
        return rpc.Reader(r).read(deadline)
    finally:
        os.close(r)


def test_rpc_round_trip_keeps_names_dtypes_and_values():
    arrays = {"x": np.arange(6.0).reshape(2, 3), "mask": np.array([True, False]),
              "n": np.array(3)}
    header, back = read_bytes(rpc.encode({"ok": True, "note": "é"}, arrays))
    assert header["ok"] and header["note"] == "é" and list(back) == ["x", "mask", "n"]
    for name in arrays:
        assert back[name].dtype == arrays[name].dtype
        np.testing.assert_array_equal(back[name], arrays[name])


def test_rpc_refuses_pickles_oversized_parts_and_garbage():
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(rpc.ProtocolError, match="not plain .npy"):
        read_bytes(frame(b'{"arrays": ["o"]}', pickled.getvalue()))
    with pytest.raises(rpc.ProtocolError, match="not plain .npy"):
        read_bytes(frame(b'{"arrays": ["p"]}', pickle.dumps([1, 2])))
    with pytest.raises(rpc.ProtocolError, match="over the bound"):
        read_bytes(struct.pack("<Q", rpc.MAX_HEADER + 1))
    with pytest.raises(rpc.ProtocolError, match="over the bound"):
        read_bytes(frame(b'{"arrays": ["x"]}') + struct.pack("<Q", rpc.MAX_ARRAY + 1))
    with pytest.raises(rpc.ProtocolError, match="not JSON"):
        read_bytes(frame(b"\xff{"))
    with pytest.raises(rpc.ProtocolError, match="no list of array names"):
        read_bytes(frame(b'{"arrays": 3}'))
    with pytest.raises(rpc.ProtocolError, match="closed"):
        read_bytes(frame(b'{"arrays": ["x"]}'))


def test_rpc_read_gives_up_at_the_deadline():
    import time
    r, w = os.pipe()
    try:
        with pytest.raises(TimeoutError):
            rpc.Reader(r).read(time.monotonic() + 0.2)
    finally:
        os.close(r)
        os.close(w)


def test_private_copy_takes_regular_python_files_and_no_symlink(tmp_path):
    src = tmp_path / "src"
    (src / "pkg" / "__pycache__").mkdir(parents=True)
    (src / "pkg" / "a.py").write_text("A = 1\n")
    (src / "pkg" / "data.bin").write_bytes(b"\0" * 10)
    (src / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"x")
    (src / "pkg" / "b.py").symlink_to(FIXTURE / "toygrad" / "ops.py")
    (src / "outside").symlink_to(FIXTURE, target_is_directory=True)
    (src / "big.py").write_bytes(b"#" * (5 << 20))
    notes = private_copy(src, tmp_path / "copy")
    copied = sorted(p.relative_to(tmp_path / "copy").as_posix()
                    for p in (tmp_path / "copy").rglob("*") if p.is_file())
    assert copied == ["pkg/a.py"]
    assert "symlink outside/ ignored" in notes and "symlink pkg/b.py ignored" in notes
    assert any(n.startswith("big.py left out") for n in notes)


def test_read_tail_of_a_huge_sparse_file_is_bounded(tmp_path):
    log = tmp_path / "output.log"
    with open(log, "wb") as handle:
        handle.truncate(2 << 30)                  # 2 GiB of nothing, no disk used
        handle.seek(0, 2)
        handle.write(b"the end")
    text = read_tail(log, 100)
    assert len(text) == 100 and text.endswith("the end")


def test_compare_names_the_array_and_the_error_never_the_values():
    want = {"out": np.array([1.0, 2.0, 3.0]), "grad": np.ones((2, 2))}
    assert compare({"out": want["out"] + 1e-12, "grad": np.ones((2, 2)), "extra": np.zeros(1)},
                   want) == []
    problems = compare({"out": np.array([1.0, 2.5, np.nan])}, want)
    assert problems[0].startswith("out: 2 of 3 values off (max abs error 5.0e-01; first at index (1,)")
    assert problems[1] == "grad: not returned"
    assert "2.0" not in problems[0].split("(")[0]
    assert compare({"out": np.ones(2), "grad": np.ones((2, 2))}, want) == [
        "out: shape (2,), expected (3,)"]
    assert compare({"out": np.array(["a", "b", "c"]), "grad": np.ones((2, 2))}, want)[0].startswith(
        "out: dtype <U1")
    assert compare({"x": np.array([np.nan, np.inf])}, {"x": np.array([np.nan, np.inf])}) == []


def test_sanitise_scrubs_secrets_controls_and_length():
    text = sanitise("bad\x1b[2J scale = 1.0 - y * y " + "z" * 5000, ["scale = 1.0 - y * y"], 100)
    assert "\x1b" not in text and "[removed]" in text and "scale =" not in text
    assert len(text) <= 107


@pytest.mark.parametrize("cell,escaped", [("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"),
                                          ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
                                          ("alice", "alice"), ("10.00", "10.00")])
def test_gradebook_cells_that_look_like_formulas_are_escaped(cell, escaped):
    assert escape_cell(cell) == escaped


def test_bundle_round_trips_and_carries_no_solution_code(bundle, tmp_path):
    bundle.save(tmp_path / "b")
    loaded = Bundle.load(tmp_path / "b")
    assert [p.task_id for p in loaded.problems] == ["hw1.square", "hw1.tanh", "hw2.affine"]
    assert sorted(loaded.probes) == ["__init__.py", "hw1_square.py", "hw1_tanh.py", "hw2_affine.py"]
    for a, b in zip(bundle.problems, loaded.problems):
        assert [c.name for c in a.cases] == [c.name for c in b.cases]
        for ra, rb in zip(a.reference, b.reference):
            assert ra.keys() == rb.keys()
            for name in ra:
                np.testing.assert_array_equal(ra[name], rb[name])
    # the reference is the solution's values: tanh's gradient is g (1 - tanh(x)^2)
    (tanh,) = [p for p in loaded.problems if p.task_id == "hw1.tanh"]
    x, g = tanh.cases[0].inputs["x"], tanh.cases[0].inputs["g"]
    np.testing.assert_allclose(tanh.reference[0]["grad_x"], g * (1 - np.tanh(x) ** 2), rtol=1e-14)
    assert not any(p.suffix == ".py" for p in (tmp_path / "b").iterdir())


def test_bundle_needs_a_probe_per_problem_and_a_working_solution(tmp_path):
    import shutil
    root = Path(shutil.copytree(FIXTURE, tmp_path / "p"))
    (root / "homework" / "probes" / "hw2_affine.py").unlink()
    with pytest.raises(BundleError, match=r"no probe for hw2.affine .*hw2_affine.py"):
        build(root, seed=0)
    with pytest.raises(BundleError, match="no problem hw9.x"):
        build(FIXTURE, only=["hw9.x"])
    broken = Path(shutil.copytree(FIXTURE, tmp_path / "q"))
    replace_stubs_in_solution = broken / "toygrad" / "ops.py"
    replace_stubs_in_solution.write_text(replace_stubs_in_solution.read_text().replace(
        "scale = 1.0 - y * y", "raise RuntimeError('teacher typo')"))
    with pytest.raises(BundleError, match="failed on the solution: RuntimeError: teacher typo"):
        build(broken, only=["hw1.tanh"], seed=0)


def test_inputs_depend_on_the_seed(bundle):
    other = build(FIXTURE, only=["hw1.tanh"], seed=99)
    (mine,) = [p for p in bundle.problems if p.task_id == "hw1.tanh"]
    assert not np.array_equal(mine.cases[0].inputs["x"], other.problems[0].cases[0].inputs["x"])


def test_partial_work_scores_in_proportion(bundle, released, tmp_path):
    import shutil
    partial = Path(shutil.copytree(released, tmp_path / "partial"))
    replace_stubs(partial, "hw1.tanh")
    # a gradient that is right on the visible case's shape only would still fail the hidden
    # case; here the square backward is wrong everywhere
    replace_stubs(partial, "hw1.square", ["return grad * x"])
    (report,) = grade_many(bundle, [("partial", partial, "")], jobs=2)
    assert {r.task_id: r.score for r in report.results} == {
        "hw1.square": 0.0, "hw1.tanh": 10.0, "hw2.affine": 0.0}
    (square,) = [r for r in report.results if r.task_id == "hw1.square"]
    assert square.tests[0].output.startswith("failed: values differ from the reference:\n  grad_x:")
    assert square.tests[1].output == "failed"          # hidden: no detail


def cli(*args, cwd=KIT_ROOT):
    return subprocess.run([sys.executable, "-m", "homework", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def test_every_case_passed_is_exactly_full_marks():
    # 14 cases of 10/14 points each sum to 9.999999999999998 in floating point
    cases = [CaseResult(f"case {i}", True, "passed", "visible", 10 / 14) for i in range(14)]
    result = ProblemResult("hw5.reverse_scan", 10, cases)
    assert result.score == 10
    cases[3].passed = False
    assert result.score == pytest.approx(10 * 13 / 14)


def test_command_line_grade(tmp_path, released):
    import shutil
    subs = tmp_path / "subs"
    shutil.copytree(released, subs / "stubbed")
    shutil.copytree(FIXTURE, subs / "solved")
    done = cli("grade", "--root", FIXTURE, "--submissions", subs, "--csv", tmp_path / "book.csv",
               "--jobs", 2)
    assert done.returncode == 0, done.stderr
    rows = {row["student"]: row for row in csv.DictReader(open(tmp_path / "book.csv"))}
    assert rows["solved"]["total"] == "30.00" and rows["stubbed"]["total"] == "0.00"
    assert "not implemented" in rows["stubbed"]["notes"]
    single = cli("grade", "--root", FIXTURE, "--path", released, "--problem", "hw1.tanh",
                 "--json", tmp_path / "r.json")
    assert single.returncode == 0 and "hw1.tanh" in single.stdout
    missing = cli("grade", "--root", FIXTURE, "--path", tmp_path / "missing")
    assert missing.returncode == 1 and "not a folder" in missing.stderr
    release_tree = cli("grade", "--root", released, "--path", released)
    assert release_tree.returncode == 1 and "not from a release" in release_tree.stderr


def test_class_folder_entries_each_get_a_row(tmp_path, monkeypatch):
    (tmp_path / "alice").mkdir()
    (tmp_path / "bob").mkdir()
    (tmp_path / "carol.zip").write_bytes(b"PK")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / ".DS_Store").write_text("x")
    real_iterdir = Path.iterdir

    def iterdir(self):                      # root reads every folder: make bob's refuse
        if self.name == "bob":
            raise PermissionError(13, "Permission denied")
        return real_iterdir(self)
    monkeypatch.setattr(Path, "iterdir", iterdir)
    assert list_submissions(tmp_path) == [
        ("alice", tmp_path / "alice", ""),
        ("bob", None, "unreadable folder (Permission denied)"),
        ("carol.zip", None, "an archive, not a folder: unpack it and grade again"),
        ("notes.txt", None, "not a folder")]
