"""The grader's side of the sandbox: private copies, the privilege drop, limits, clean-up.

One Sandbox runs one problem of one submission:

- ``private_copy`` copies the submission's Python files (regular files only: a symlink is
  never followed, whatever it points to) into a folder only this sandbox's uid may read;
- ``Sandbox.start`` runs launch.py, which applies the limits, hides the teacher's folders in a
  private mount namespace, drops to the sandbox uid and execs worker.py;
- ``Sandbox.call`` sends one probe request and reads the answer with a deadline and size bounds;
- ``Sandbox.close`` kills the worker's session and, when a uid was dropped to, every process
  of that uid (so a double-forked ``setsid`` daemon dies too), then deletes the copy.

Each sandbox running at once has a uid of its own (``Host.uid_for(slot)``), drawn from a range
tied to the grader's pid, so killing "every process of the uid" never reaches another sandbox.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import rpc
from .cleanup import WORLD_WRITABLE, kill_uid, remove_files_of
from .files import private_copy, read_tail

__all__ = ["Host", "Limits", "Sandbox", "CallFailed", "private_copy", "read_tail", "kill_uid",
           "remove_files_of", "SLOTS", "UID_BASE"]

HERE = Path(__file__).resolve().parent
UID_BASE = 200_000                  # sandbox uids: UID_BASE + SLOTS * (pid % 100000) + slot
SLOTS = 256                         # sandboxes at once, at most, per grader
WORLD_WRITABLE_PRESENT = tuple(d for d in WORLD_WRITABLE if os.path.isdir(d))


@dataclass
class Limits:
    cpu_s: int = 120                # RLIMIT_CPU of each process
    memory: int = 4 << 30           # RLIMIT_AS of each process
    processes: int = 64             # RLIMIT_NPROC of the sandbox uid (threads count)
    file_bytes: int = 16 << 20      # RLIMIT_FSIZE: no file the sandbox writes grows past this

    def rlimits(self, own_uid: bool) -> dict:
        """name -> value for launch.py; a memory of 0 means no address-space cap."""
        limits = {"RLIMIT_CPU": self.cpu_s, "RLIMIT_FSIZE": self.file_bytes, "RLIMIT_CORE": 0}
        if self.memory:
            limits["RLIMIT_AS"] = self.memory
        if own_uid:                 # NPROC counts every process of the real uid: ours alone
            limits["RLIMIT_NPROC"] = self.processes
        return limits


def _reachable_by_others(path: Path) -> bool:
    parts = path.resolve().parts
    return all(os.stat(Path(*parts[:i])).st_mode & 0o001 for i in range(2, len(parts) + 1))


def _namespace_works(staging: Path) -> bool:
    """Whether launch.py can make its mount namespace here (root with CAP_SYS_ADMIN, a kernel
    that allows it): tried once in a throwaway child."""
    code = ("import sys; sys.path.insert(0, %r); import launch; "
            "launch._namespace([], [], %r)" % (str(HERE), str(staging)))
    try:
        return subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code], timeout=30,
                              capture_output=True).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def numpy_dir() -> str:
    """The site-packages folder holding NumPy: the only one the sandbox gets on sys.path."""
    import numpy
    return str(Path(numpy.__file__).resolve().parents[1])


class Host:
    """What this machine allows, found once per grading run, and the folders sandboxes share.

    `probe_sources`: file name -> text of the probes package (see homework/probes);
    `hide`: folders the sandbox must not see (the teacher's tree, the tests, the submissions).
    """

    def __init__(self, probe_sources: dict, hide=(), drop=None):
        self.probe_sources = probe_sources
        self.is_root = os.geteuid() == 0
        self.drop = self.is_root if drop is None else (drop and self.is_root)
        # As root the shared folder goes under /run (root's own), so that /tmp can be replaced
        # by a private one in each sandbox's mount namespace.
        run = "/run" if self.drop and os.path.isdir("/run") and os.access("/run", os.W_OK) else None
        self.base = Path(tempfile.mkdtemp(prefix="homework-sandbox-", dir=run))
        self.python = sys.executable
        self.numpy_dir = numpy_dir()
        prefixes = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
                    Path(self.numpy_dir)}
        self.expose = sorted(str(p) for p in prefixes)
        # HOMEWORK_NO_NAMESPACE=1 turns the mount namespace off (to see what a machine without
        # one gets, e.g. in the kit's tests); the protections listed then say it is off.
        self.namespace = self.drop and not os.environ.get("HOMEWORK_NO_NAMESPACE") and \
            _namespace_works(self.base)
        reachable = all(_reachable_by_others(Path(p)) for p in self.expose) and \
            _reachable_by_others(Path(self.python).parent)
        if self.drop and not self.namespace and not reachable:
            self.drop = False       # the sandbox uid could not even start Python here
            self.unreachable_python = True
        else:
            self.unreachable_python = False
        wanted = [Path(h).resolve() for h in hide if h]
        self.hide = sorted({str(h) for h in wanted if h.is_dir() and not any(
            Path(e) == h or h in Path(e).parents for e in self.expose + [str(self.base)])})
        self.hide_skipped = sorted({str(h) for h in wanted} - set(self.hide))
        # The exposed folders (a virtual environment in /tmp) are bound back into the fresh
        # /tmp by launch.py; only the shared folder itself must stay outside a private one.
        self.private = [d for d in WORLD_WRITABLE if os.path.isdir(d) and not (
            Path(d) == self.base or Path(d) in self.base.parents)]
        self._grader_dir()
        os.chmod(self.base, 0o711)  # others may pass through, never list
        self._pid_block = UID_BASE + SLOTS * (os.getpid() % 100_000)

    def _grader_dir(self):
        """The worker, the wire format and the probes, readable by every sandbox (not secret)."""
        self.grader_dir = self.base / "grader"
        self.grader_dir.mkdir()
        shutil.copyfile(HERE / "worker.py", self.grader_dir / "_homework_worker.py")
        shutil.copyfile(HERE / "rpc.py", self.grader_dir / "_homework_rpc.py")
        probes = self.grader_dir / "_homework_probes"
        probes.mkdir()
        for name, text in self.probe_sources.items():
            (probes / name).write_text(text, encoding="utf-8")
        for path in [self.grader_dir, *self.grader_dir.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)

    def uid_for(self, slot: int) -> int:
        if not 0 <= slot < SLOTS:
            raise ValueError(f"sandbox slot {slot}: expected 0 to {SLOTS - 1} (--jobs at most {SLOTS})")
        return self._pid_block + slot

    def protections(self) -> list:
        """(protection, on?) for the output and the results."""
        return [
            ("student code in a separate process, verdicts in the grader's", True),
            ("sandbox runs as an unprivileged uid of its own (cannot signal the grader, "
             "read its files or other submissions)", self.drop),
            ("teacher's tree, tests and submissions hidden by a private mount namespace",
             self.drop and self.namespace and bool(self.hide)),
            ("every process of the sandbox uid killed after each problem", self.drop),
            ("a private /tmp, /var/tmp and /dev/shm in each sandbox (nothing written there "
             "reaches another problem or submission)",
             self.drop and self.namespace and len(self.private) == len(WORLD_WRITABLE_PRESENT)),
            ("process-count limit", self.drop),
            ("CPU time, address space and file size limits, wall-clock timeout", True),
        ]

    def protection_notes(self) -> list:
        notes = [f"OFF: {name}" for name, on in self.protections() if not on]
        if notes and not self.is_root:
            notes.append("(the grader is not root: run it as root for the privilege drop)")
        if self.unreachable_python:
            notes.append(f"(the interpreter {self.python} is in a folder others cannot enter "
                         "and no mount namespace is allowed here)")
        if self.hide_skipped and self.namespace:
            notes.append(f"not hidden (they hold the interpreter or NumPy): "
                         f"{', '.join(self.hide_skipped)}")
        return notes

    def close(self):
        shutil.rmtree(self.base, ignore_errors=True)


@dataclass
class CallFailed(Exception):
    """The sandbox gave no answer: it died, hung, or sent something malformed."""
    reason: str


@dataclass
class Sandbox:
    """One problem of one submission: its private copy, its worker process, its uid (slot)."""

    host: Host
    slot: int
    submission: Path
    limits: Limits = field(default_factory=Limits)
    notes: list = field(default_factory=list)

    def __post_init__(self):
        self.uid = self.host.uid_for(self.slot) if self.host.drop else None
        self.dir = Path(tempfile.mkdtemp(prefix=f"run{self.slot}-", dir=self.host.base))
        os.chmod(self.dir, 0o711)
        self.code = self.dir / "code"
        self.home = self.dir / "home"
        self.notes = private_copy(self.submission, self.code, self.uid)
        self.home.mkdir(mode=0o700)
        if self.uid is not None:
            os.chown(self.home, self.uid, self.uid)
        self.log_path = self.host.base / f"{self.dir.name}.log"   # in the trusted 0711 base
        self.proc = None

    def start(self):
        worker_config = {"grader_dir": str(self.host.grader_dir),
                         "code_dir": str(self.code), "numpy_dir": self.host.numpy_dir}
        env = {"PATH": "/usr/bin:/bin", "HOME": str(self.home), "TMPDIR": str(self.home),
               "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
               "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):     # probes run on NumPy
            if name in os.environ:
                env[name] = os.environ[name]
        config = {"limits": self.limits.rlimits(self.uid is not None), "uid": self.uid,
                  "gid": self.uid, "namespace": self.host.namespace and self.uid is not None,
                  "hide": self.host.hide, "expose": self.host.expose,
                  "private": self.host.private,
                  "staging": str(self.host.base), "home": str(self.home),
                  "python": self.host.python, "worker": str(self.host.grader_dir / "_homework_worker.py"),
                  "worker_config": worker_config, "env": env}
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            self.proc = subprocess.Popen(
                [self.host.python, "-I", "-S", "-B", str(HERE / "launch.py"), json.dumps(config)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=str(self.dir),
                env={"PATH": "/usr/bin:/bin"}, start_new_session=True, close_fds=True)
        finally:
            os.close(log)
        self.reader = rpc.Reader(self.proc.stdout.fileno())

    def call(self, probe: str, case: str, params: dict, arrays: dict, deadline: float):
        """(answer header, arrays) of one probe call; CallFailed when there is no answer."""
        if self.proc is None or self.proc.poll() is not None:
            self.stop()
            self.start()
        try:
            rpc.write(self.proc.stdin.fileno(), {"probe": probe, "case": case, "params": params},
                      arrays)
            return self.reader.read(deadline)
        except TimeoutError:
            self.stop()
            raise CallFailed("timed out") from None
        except (rpc.ProtocolError, BrokenPipeError, OSError) as error:
            code = self.proc.poll()
            if code is None:
                try:
                    code = self.proc.wait(timeout=1)
                except subprocess.TimeoutExpired:
                    code = None
            self.stop()
            if code is None:
                raise CallFailed(f"sent a malformed answer ({error})") from None
            raise CallFailed(_exit_reason(code, read_tail(self.log_path))) from None

    def stop(self):
        """Kill the worker's session and every process of the sandbox uid."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self.proc.wait()
            self.proc = None
        if self.uid is not None:
            kill_uid(self.uid)

    def log_tail(self) -> str:
        return read_tail(self.log_path)

    def close(self):
        self.stop()
        if self.uid is not None and not self.host.namespace:
            remove_files_of(self.uid)       # (with the namespace, its /tmp died with it)
        shutil.rmtree(self.dir, ignore_errors=True)
        try:
            os.unlink(self.log_path)
        except OSError:
            pass


def _exit_reason(code: int, log: str) -> str:
    if code == 121 and "sandbox launch failed" in log:
        return "grader error: " + log.strip().splitlines()[-1]
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGXCPU":
            return "ran out of CPU time"
        return f"the sandbox process was killed by {name}"
    if "MemoryError" in log:
        return "ran out of memory"
    return f"the sandbox process exited with code {code}"
