"""Start a sandbox worker: limits, a private mount namespace, the privilege drop, then exec.

Run by the grader as ``python -I -S -B launch.py CONFIG_JSON`` in a new session, with the
worker's channel on stdin/stdout. Trusted code (it runs with the grader's privileges until
the exec), standard library only. In order:

1. resource limits: CPU seconds, address space, file size, and (when dropping to a uid of its
   own) the number of processes of that uid;
2. as root, when the kernel allows it: a private mount namespace in which each folder of
   ``hide`` (the teacher's tree, the tests, the class's submissions) is covered by an empty
   read-only tmpfs, so the sandbox cannot even see them, and /tmp, /var/tmp and /dev/shm by
   fresh ones of its own;
3. as root: no supplementary groups, then the sandbox gid and uid (never 0);
4. exec the worker. Any failure before the exec exits with code 121 and a line on stderr:
   the grader never runs a student's code with the privileges it failed to drop.
"""
import ctypes
import json
import os
import resource
import sys

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE = 4096, 0x4000, 1 << 18
LAUNCH_FAILED = 121


def _mount(libc, source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else s.encode()   # noqa: E731
    if libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        raise OSError(ctypes.get_errno(), f"mount {fstype or 'bind'} on {target}: "
                      f"{os.strerror(ctypes.get_errno())}")


def blocked_ancestor(path):
    """The outermost folder above (or at) path that others may not enter, or None."""
    parts = os.path.realpath(path).split(os.sep)
    for i in range(2, len(parts) + 1):
        folder = os.sep.join(parts[:i])
        if not os.stat(folder).st_mode & 0o001:
            return folder
    return None


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _namespace(hide, expose, staging, private=()):
    """A private mount namespace in which each folder of `hide` is an empty read-only tmpfs,
    each folder of `private` (/tmp, /var/tmp, /dev/shm) a fresh, empty tmpfs of its own, and
    each folder of `expose` (the interpreter, NumPy) still reachable: when it lies under a
    folder that others may not enter (such as /root, mode 0700) or under a private folder (a
    virtual environment in /tmp, as CI makes), it is bound aside first and bound back into
    the fresh tmpfs that covers that folder."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) refused")
    _mount(libc, "none", "/", None, MS_REC | MS_PRIVATE)   # our mounts stay ours
    private = [os.path.realpath(p) for p in private]
    blocked = [b for b in (blocked_ancestor(p) for p in expose) if b is not None]
    covers = {}                   # folder -> (tmpfs options), outermost folders only
    for folder in sorted(set(private) | set(blocked), key=len):
        if not any(_inside(folder, c) for c in covers):
            covers[folder] = ("size=256m,mode=1777" if folder in private
                              else "size=64k,mode=0755")
    stages = {}
    for i, path in enumerate(sorted(p for p in expose if any(_inside(p, c) for c in covers))):
        stages[path] = os.path.join(staging, f"stage-{os.getpid()}-{i}")
        os.makedirs(stages[path], exist_ok=True)
        _mount(libc, path, stages[path], None, MS_BIND | MS_REC)
    for folder, options in covers.items():
        _mount(libc, "tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for path, stage in stages.items():
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(libc, stage, path, None, MS_BIND | MS_REC)
    for path in hide:
        if os.path.isdir(path):
            _mount(libc, "tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                   "size=4k,mode=0555")


def main():
    config = json.loads(sys.argv[1])
    limits = config["limits"]
    for name, value in limits.items():
        kind = getattr(resource, name)
        hard = resource.getrlimit(kind)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)  # never raise one
        resource.setrlimit(kind, (value, value))
    drop = config.get("uid") is not None
    if drop:
        if config.get("namespace"):
            _namespace(config["hide"], config["expose"], config["staging"], config["private"])
        os.setgroups([])
        os.setgid(config["gid"])
        os.setuid(config["uid"])
        if os.getuid() == 0 or os.geteuid() == 0:
            raise RuntimeError("still root after setuid")
    os.chdir(config["home"])
    python = config["python"]
    os.execve(python, [python, "-I", "-S", "-B", config["worker"],
                       json.dumps(config["worker_config"])], config["env"])


if __name__ == "__main__":
    try:
        main()
    except BaseException as error:                  # noqa: BLE001
        sys.stderr.write(f"sandbox launch failed: {type(error).__name__}: {error}\n")
        sys.stderr.flush()
        os._exit(LAUNCH_FAILED)
