"""Every attack of issue 11, graded in one class run beside an honest student.

Each cheating submission starts from the fixture project's release (every stub untouched, or
a stub replaced by the attack) and must score 0; the honest submission (the solution) must
score full marks in the same run; the class run must end with one row per entry. Attacks that
only the privilege drop stops (signalling the grader, a daemon outliving its problem, writing
another student's files) join the class only when the grader can drop privileges (root, as in
CI); reading the teacher's tree joins only when a mount namespace hides it too. Without them
these attacks succeed (see the control test at the end), and the grader says so in its output.
"""
import csv
import json
import os
import shutil
import textwrap
import time
from pathlib import Path

import pytest
from conftest import (CAN_DROP, CAN_HIDE, FIXTURE, copy_fixture, needs_drop, needs_namespace,
                      replace_stubs)

from homework.grade import grade_many, list_submissions, write_gradebook, write_results
from homework.sandbox import SLOTS, UID_BASE

PROBLEMS = ["hw1.square", "hw1.tanh", "hw2.affine"]
ALL_STUBS = PROBLEMS
TIMEOUT_S = 6
# A world-writable place the daemon and the cross-student attacks report to: if a file shows
# up there after the run, the attack ran longer (or further) than it may.
LOOT = Path("/tmp") / f"homework-attack-loot-{os.getpid()}"


def on_import(root: Path, code: str):
    """Append code to the student's package __init__ (runs when any probe imports it)."""
    init = root / "toygrad" / "__init__.py"
    init.write_text(init.read_text() + "\n" + textwrap.dedent(code) + "\n")


def every_stub(root: Path, code: str):
    for task in ALL_STUBS:
        replace_stubs(root, task, textwrap.dedent(code).strip().splitlines())


def build_class(subs: Path, released: Path) -> dict:
    """{student: what the test expects}; the folders are made under subs."""
    expected = {}

    def student(name, total=0.0):
        expected[name] = total
        return Path(shutil.copytree(released, subs / name))

    honest = copy_fixture(subs / "honest")
    expected["honest"] = 30.0
    on_import(honest, "print('noise on stdout ' * 1000)\nimport sys; sys.stderr.write('e' * 10000)")

    # -- interrupting the run
    every_stub(student("keyboard_interrupt"), "raise KeyboardInterrupt")
    every_stub(student("pytest_exit"), "import pytest; pytest.exit('x', returncode=0)")
    every_stub(student("system_exit"), "raise SystemExit(0)")
    every_stub(student("os_exit"), "import os; os._exit(0)")
    every_stub(student("kills_itself"), "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    every_stub(student("skip"), "import pytest; pytest.skip('nothing to see')")
    every_stub(student("xfail"), "import pytest; pytest.xfail('expected')")

    # -- patching the harness from student code (stubs left as they are)
    on_import(student("patches_runtest"), """
        import _pytest.python
        _pytest.python.Function.runtest = lambda self: None""")
    on_import(student("patches_testreport"), """
        import _pytest.reports
        _real = _pytest.reports.TestReport.__init__
        def _init(self, *a, **k):
            _real(self, *a, **k)
            self.outcome = "passed"
        _pytest.reports.TestReport.__init__ = _init""")
    on_import(student("plugin_through_gc"), """
        import gc
        class _Pass:
            def pytest_runtest_call(self, item):
                return True
        for _obj in gc.get_objects():
            if type(_obj).__name__ == "Config" and hasattr(_obj, "pluginmanager"):
                _obj.pluginmanager.register(_Pass())""")
    shadow = student("shadows_hypothesis")
    (shadow / "hypothesis").mkdir()
    (shadow / "hypothesis" / "__init__.py").write_text("import os\nos._exit(0)\n")
    (shadow / "numpy.py").write_text("raise SystemExit(0)\n")
    (shadow / "sitecustomize.py").write_text("import os\nos._exit(0)\n")
    (shadow / "pytest.py").write_text("raise SystemExit(0)\n")
    (shadow / "conftest.py").write_text("def pytest_runtest_makereport(item, call):\n    pass\n")
    on_import(shadow, "import hypothesis")

    # -- editing the project's own helpers
    edits = student("edits_gradcheck")
    (edits / "toygrad" / "gradcheck.py").write_text("def gradcheck(*args, **kwargs):\n    return True\n")

    # -- rewriting the results
    on_import(student("atexit_rewrites"), f"""
        import atexit, glob, os
        def _rewrite():
            for path in glob.glob("/tmp/**/gradebook.csv", recursive=True) + glob.glob("/tmp/**/results.json", recursive=True):
                try:
                    open(path, "w").write("atexit,30,30,30,90\\n")
                except OSError:
                    pass
        atexit.register(_rewrite)""")

    # -- deleting or symlinking files
    deleted = student("deletes_files")
    (deleted / "toygrad" / "ops.py").unlink()
    (deleted / "toygrad" / "affine.py").unlink()
    linked = student("symlinks_package")
    shutil.rmtree(linked / "toygrad")
    (linked / "toygrad").symlink_to(FIXTURE / "toygrad", target_is_directory=True)
    linked_file = student("symlinks_file")
    (linked_file / "toygrad" / "ops.py").unlink()
    (linked_file / "toygrad" / "ops.py").symlink_to(FIXTURE / "toygrad" / "ops.py")

    # -- a forward that is wrong but consistent with its backward (hw2.affine)
    wrong = copy_fixture(subs / "self_consistent_forward")
    expected["self_consistent_forward"] = 20.0           # hw1 solved honestly, hw2 cheated
    affine = wrong / "toygrad" / "affine.py"
    text = affine.read_text().replace("return x @ w + b, (x, w)", "return 2 * (x @ w) + b, (x, w)")
    text = text.replace("dx = dout @ w.T", "dx = 2 * dout @ w.T")
    affine.write_text(text.replace("dw_total = x.T @ dout", "dw_total = 2 * x.T @ dout"))

    # -- output and resources
    every_stub(student("sparse_log"), """
        import os
        os.ftruncate(2, 2 << 30)
        os.lseek(2, 0, os.SEEK_END)
        print("x" * (64 << 20))
        raise RuntimeError("after a 2 GiB log")""")
    every_stub(student("hangs"), "import time; time.sleep(600)")
    every_stub(student("segfault"), "import ctypes; ctypes.string_at(0)")
    every_stub(student("eats_memory"), "big = bytearray(3 << 30)")

    # -- hidden tests and the solution in exception messages
    every_stub(student("leaks_in_errors"),
               "raise ValueError('LEAK ' + repr(locals()) + ' scale = 1.0 - y * y')")

    # -- CSV formula injection through the folder name
    student("=1+2")
    student("@SUM(A1)")
    # -- not folders
    (subs / "archive.zip").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    expected["archive.zip"] = 0.0
    (subs / "dangling").symlink_to(subs / "no_such_folder")
    expected["dangling"] = 0.0

    if CAN_DROP:
        add_root_only_attacks(subs, released, student)
    return expected


# The teacher's tree found through /proc/<ppid>/cwd, the command line or a known path.
READS_TEACHER_TREE = f"""
    import os
    _candidates = [{str(FIXTURE)!r}]
    try:
        _candidates.append(os.readlink(f"/proc/{{os.getppid()}}/cwd"))
        _candidates += open(f"/proc/{{os.getppid()}}/cmdline").read().split("\\0")
    except OSError:
        pass
    for _c in _candidates:
        _ops = os.path.join(_c, "toygrad", "ops.py")
        try:
            if "NotImplementedError" not in open(_ops).read():
                __path__[:] = [os.path.join(_c, "toygrad")]
                import sys
                for _name in [m for m in sys.modules if m.startswith(__name__ + ".")]:
                    del sys.modules[_name]
                break
        except OSError:
            pass
    from .ops import square_backward, tanh_backward, tanh_forward
    from .affine import affine_backward, affine_forward"""

# A double-forked setsid daemon that waits for the grader to finish, then writes its loot.
DAEMON = """
    import os, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(1.5)
            try:
                open({loot!r}, "w").write("daemon was here")
            except OSError:
                pass
        os._exit(0)"""


def add_root_only_attacks(subs, released, student):
    if CAN_HIDE:
        on_import(student("reads_teacher_tree"), READS_TEACHER_TREE)
        # Keep a hidden case's inputs in /tmp, show them in a later visible case's error.
        every_stub(student("carries_hidden_inputs"), f"""
            import os
            _path = {str(LOOT)!r} + ".carry"
            if os.path.exists(_path):
                raise ValueError("CARRIED " + open(_path).read())
            open(_path, "w").write(repr([a.tolist() for a in locals().values()
                                         if hasattr(a, "tolist")]))
            os.chmod(_path, 0o666)
            raise ValueError("first call")""")
    on_import(student("setsid_daemon"), DAEMON.format(loot=str(LOOT)))
    # A fork bomb: RLIMIT_NPROC stops it at 64 processes of the uid, the timeout ends it.
    every_stub(student("fork_bomb"), """
        import os, time
        for _ in range(10000):
            try:
                os.fork()
            except OSError:
                break
        time.sleep(600)""")
    # Stop or kill the grader, and everyone else it can reach.
    every_stub(student("signals_grader"), """
        import os, signal
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            try:
                os.kill(os.getppid(), sig)
            except OSError:
                pass
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        raise RuntimeError("still here")""")
    # Write over the honest student's files, the shared probes and a world-writable marker.
    every_stub(student("aaa_writes_other_students"), f"""
        import glob, os
        for path in glob.glob({str(subs)!r} + "/honest/toygrad/*.py") + glob.glob("/tmp/homework-sandbox-*/run*/code/toygrad/*.py"):
            try:
                open(path, "w").write("raise SystemExit(0)")
                open({str(LOOT)!r} + ".other", "w").write(path)
            except OSError:
                pass
        for path in glob.glob("/tmp/homework-sandbox-*/grader/_homework_probes/*.py"):
            try:
                open(path, "a").write("\\nimport os; os._exit(0)\\n")
                open({str(LOOT)!r} + ".probes", "w").write(path)
            except OSError:
                pass
        raise RuntimeError("done")""")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, released, bundle):
    subs = tmp_path_factory.mktemp("class")
    expected = build_class(subs, released)
    entries = list_submissions(subs)
    started = time.monotonic()
    reports = grade_many(bundle, entries, jobs=4, timeout=TIMEOUT_S, memory_limit=1 << 30,
                         hide=[FIXTURE, subs])
    elapsed = time.monotonic() - started
    out = tmp_path_factory.mktemp("out")
    write_gradebook(reports, out / "gradebook.csv")
    for report in reports:
        write_results(report, out / f"{report.student.replace('/', '_')}.json")
    snapshot = (out / "gradebook.csv").read_text()
    return {r.student: r for r in reports}, expected, out, snapshot, elapsed


def scores(report):
    return {r.task_id: r.score for r in report.results}


def test_honest_student_gets_full_marks_beside_the_cheats(graded):
    reports, expected, *_ = graded
    assert scores(reports["honest"]) == dict.fromkeys(PROBLEMS, 10.0)


def test_one_row_per_entry_whatever_it_is(graded):
    reports, expected, out, *_ = graded
    assert sorted(reports) == sorted(expected)
    rows = list(csv.reader((out / "gradebook.csv").open()))
    assert len(rows) == 1 + len(expected)


@pytest.mark.parametrize("name", [
    "keyboard_interrupt", "pytest_exit", "system_exit", "os_exit", "kills_itself", "skip", "xfail"])
def test_interruptions_are_failures(graded, name):
    report = graded[0][name]
    assert scores(report) == dict.fromkeys(PROBLEMS, 0.0)
    assert all(r.failed == len(r.tests) > 0 for r in report.results)


@pytest.mark.parametrize("name", [
    "patches_runtest", "patches_testreport", "plugin_through_gc", "shadows_hypothesis",
    "edits_gradcheck", "atexit_rewrites"])
def test_patching_the_harness_or_helpers_changes_nothing(graded, name):
    report = graded[0][name]
    assert scores(report) == dict.fromkeys(PROBLEMS, 0.0)


def test_atexit_handler_cannot_rewrite_results(graded):
    reports, expected, out, snapshot, _ = graded
    assert (out / "gradebook.csv").read_text() == snapshot
    assert "atexit" not in snapshot.replace("atexit_rewrites", "")


@pytest.mark.parametrize("name,note", [("deletes_files", "missing file toygrad/affine.py"),
                                       ("symlinks_package", "symlink toygrad/ ignored"),
                                       ("symlinks_file", "symlink toygrad/ops.py ignored")])
def test_deleted_or_symlinked_files_score_zero_with_a_note(graded, name, note):
    report = graded[0][name]
    assert scores(report) == dict.fromkeys(PROBLEMS, 0.0)
    assert any(note in r.note for r in report.results), [r.note for r in report.results]


def test_wrong_forward_consistent_with_its_backward_scores_zero(graded):
    report = graded[0]["self_consistent_forward"]
    assert scores(report) == {"hw1.square": 10.0, "hw1.tanh": 10.0, "hw2.affine": 0.0}
    (affine,) = [r for r in report.results if r.task_id == "hw2.affine"]
    assert "out: " in affine.tests[0].output and "dx: " in affine.tests[0].output


def test_huge_sparse_log_and_output_are_read_with_a_bound(graded):
    report = graded[0]["sparse_log"]
    assert scores(report) == dict.fromkeys(PROBLEMS, 0.0)
    assert all(len(t.output) < 5000 for r in report.results for t in r.tests)
    assert graded[4] < 120          # the whole class, on a loaded 2-core machine


def test_hang_segfault_and_memory(graded):
    reports = graded[0]
    assert scores(reports["hangs"]) == dict.fromkeys(PROBLEMS, 0.0)
    assert all(r.note == f"timed out after {TIMEOUT_S} s" for r in reports["hangs"].results)
    assert all("SIGSEGV" in r.note for r in reports["segfault"].results)
    assert all("MemoryError" in r.note for r in reports["eats_memory"].results)


def test_hidden_tests_and_the_solution_never_reach_the_student(graded):
    reports, expected, out, *_ = graded
    data = json.loads((out / "leaks_in_errors.json").read_text())
    assert data["score"] == 0
    hidden = [t for t in data["tests"] if t["visibility"] != "visible"]
    visible = [t for t in data["tests"] if t["visibility"] == "visible"]
    assert hidden and visible
    assert all(t["output"] == "failed" for t in hidden)
    assert all("LEAK" in t["output"] for t in visible)            # its own error text...
    assert not any("scale = 1.0 - y * y" in t["output"] for t in data["tests"])  # ...scrubbed
    assert all("[removed]" in t["output"] for t in visible)


def test_results_json_follows_gradescope(graded):
    reports, expected, out, *_ = graded
    data = json.loads((out / "honest.json").read_text())
    assert {"score", "execution_time", "output", "tests"} <= set(data)
    assert data["score"] == 30
    numbers = [t["number"] for t in data["tests"]]
    assert len(set(numbers)) == len(numbers)
    for test in data["tests"]:
        assert {"score", "max_score", "status", "name", "number", "output", "visibility"} <= set(test)
        assert test["status"] == "passed" and test["visibility"] in (
            "visible", "hidden", "after_due_date", "after_published")
    assert sum(t["max_score"] for t in data["tests"]) == pytest.approx(30)


def test_csv_cells_cannot_be_formulas(graded):
    reports, expected, out, *_ = graded
    rows = list(csv.reader((out / "gradebook.csv").open()))
    names = [row[0] for row in rows[1:]]
    assert "'=1+2" in names and "'@SUM(A1)" in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_archives_and_dangling_entries_get_a_row_and_a_note(graded):
    reports = graded[0]
    assert reports["archive.zip"].score == 0 and "archive" in reports["archive.zip"].note
    assert reports["dangling"].score == 0 and reports["dangling"].note == "not a folder"


def test_every_cheat_scores_zero(graded):
    reports, expected, *_ = graded
    wrong = {name: reports[name].score for name, total in expected.items()
             if reports[name].score != total}
    assert wrong == {}


def test_protections_are_reported(graded):
    report = graded[0]["honest"]
    if CAN_DROP:
        assert not any("sandbox runs as an unprivileged uid" in line for line in report.protections)
    else:
        assert any(line.startswith("OFF: sandbox runs as an unprivileged uid")
                   for line in report.protections)
        assert "OFF:" in report.gradescope()["output"]


@needs_drop
def test_daemon_dies_with_its_problem(graded):
    reports = graded[0]
    assert reports["setsid_daemon"].score == 0
    time.sleep(2.5)                                # past the daemon's sleep
    assert not LOOT.exists()
    assert graded[2].joinpath("gradebook.csv").read_text() == graded[3]
    # no process of any of this grader's sandbox uids is left
    block = UID_BASE + SLOTS * (os.getpid() % 100_000)
    left = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            uid = int(open(f"/proc/{entry}/status").read().split("Uid:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            continue
        if block <= uid < block + SLOTS:
            left.append(entry)
    assert left == []


@needs_namespace
def test_nothing_carries_from_a_hidden_case_to_a_visible_one(graded):
    reports, expected, out, *_ = graded
    data = json.loads((out / "carries_hidden_inputs.json").read_text())
    assert data["score"] == 0
    assert not any("CARRIED" in t["output"] for t in data["tests"])
    assert not Path(f"{LOOT}.carry").exists()


@needs_drop
def test_fork_bomb_is_capped_and_killed(graded):
    report = graded[0]["fork_bomb"]
    assert all(r.note == f"timed out after {TIMEOUT_S} s" for r in report.results)


@needs_drop
def test_grader_cannot_be_signalled(graded):
    # the run finished (we are here) and the honest student was graded after it
    assert graded[0]["signals_grader"].score == 0
    assert graded[0]["honest"].score == 30


@needs_drop
def test_students_cannot_write_each_others_files_or_the_probes(graded):
    assert graded[0]["aaa_writes_other_students"].score == 0
    assert graded[0]["honest"].score == 30
    assert graded[0]["release"].score == 0 if "release" in graded[0] else True
    assert not Path(f"{LOOT}.other").exists() and not Path(f"{LOOT}.probes").exists()


@needs_namespace
def test_teacher_tree_is_out_of_reach(graded):
    report = graded[0]["reads_teacher_tree"]
    assert scores(report) == dict.fromkeys(PROBLEMS, 0.0)


def test_control_the_same_attacks_succeed_without_the_privilege_drop(tmp_path, released, bundle):
    """With the drop off (as when the grader is not root), reading the teacher's tree gets full
    marks and the daemon outlives its problem: the zeros above are the drop's doing."""
    subs = tmp_path / "class"
    subs.mkdir()
    reader = Path(shutil.copytree(released, subs / "reads_teacher_tree"))
    on_import(reader, READS_TEACHER_TREE)
    loot = tmp_path / "loot"
    daemon = Path(shutil.copytree(released, subs / "setsid_daemon"))
    on_import(daemon, DAEMON.format(loot=str(loot)))
    reports = grade_many(bundle, list_submissions(subs), jobs=2, drop=False)
    assert {r.student: r.score for r in reports} == {"reads_teacher_tree": 30.0, "setsid_daemon": 0.0}
    deadline = time.monotonic() + 10
    while not loot.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert loot.read_text() == "daemon was here"
    assert any(line.startswith("OFF: sandbox runs as an unprivileged uid")
               for line in reports[0].protections)
