"""The sandbox's files: the private copy of a submission, and bounded reads of its output."""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

MAX_FILE_BYTES = 4 << 20            # a .py file bigger than this is left out of the copy
MAX_COPY_BYTES = 64 << 20
MAX_COPY_FILES = 5000
LOG_TAIL_BYTES = 4000


def private_copy(source: Path, target: Path, gid=None) -> list:
    """Copy the .py files of `source` (but its top-level tests/) into `target`; returns notes on
    what was left out.

    Only regular files are copied; symlinks (to files or folders, inside or outside the
    submission) are skipped, never followed. With `gid`, the copy is root-owned and readable
    by that group only: the sandbox may read it, not change it, and no other sandbox may.
    """
    notes, total, count = [], 0, 0
    target.mkdir(mode=0o750)
    for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
        here = Path(dirpath)
        rel = here.relative_to(source)
        keep = []
        for d in sorted(dirnames):
            if (here / d).is_symlink():
                notes.append(f"symlink {(rel / d).as_posix()}/ ignored")
            elif not d.startswith(".") and d not in ("__pycache__", "node_modules") \
                    and not (here == source and d == "tests"):   # probes never use the tests
                keep.append(d)
        dirnames[:] = keep
        for d in keep:
            (target / rel / d).mkdir(mode=0o750)
        for name in sorted(filenames):
            if not name.endswith(".py"):
                continue
            path = here / name
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISLNK(info.st_mode):
                notes.append(f"symlink {(rel / name).as_posix()} ignored")
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                notes.append(f"{(rel / name).as_posix()} left out (not a regular file or over "
                             f"{MAX_FILE_BYTES >> 20} MiB)")
                continue
            total += info.st_size
            count += 1
            if total > MAX_COPY_BYTES or count > MAX_COPY_FILES:
                notes.append("submission too large: copy stopped")
                return notes
            dest = target / rel / name
            try:
                # O_NOFOLLOW: a file swapped for a symlink after the walk is refused too.
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                with os.fdopen(fd, "rb") as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out, MAX_FILE_BYTES)
            except OSError as error:
                notes.append(f"{(rel / name).as_posix()} unreadable ({error.strerror})")
                continue
            os.chmod(dest, 0o640)
    if gid is not None:
        for path in [target, *target.rglob("*")]:
            os.chown(path, 0, gid, follow_symlinks=False)
    return notes


def read_tail(path: Path, limit: int = LOG_TAIL_BYTES) -> str:
    """The last `limit` bytes of a file, whatever its (possibly sparse, huge) size."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - limit))
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return ""
