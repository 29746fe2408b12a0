"""What every benchmark script shares: the BLAS it runs on, interleaved best-of timing, torch,
thread limits.

    from _common import blas_info, best_of, best_times, import_torch, limit_threads, print_header

Benchmarks run as scripts (``python benchmarks/x.py``), so this file is found as a plain
module beside them.  Timing rules: one warm-up per runner, then ``repeats`` rounds that run
every runner once each (minigrad, torch, minigrad, torch, ...), so both see the same machine
state (turbo, caches, other load); the best (minimum) wall time of each is reported, the
figure least disturbed by noise.  ``best_times`` reads several clocks at once (wall time and
process CPU time: on a machine shared with other jobs the CPU time of single-threaded work is
the steadier figure, since it does not count the time spent waiting for a core).
"""
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:          # run from anywhere: the project is not pip-installed
    sys.path.insert(0, ROOT)

__all__ = ["blas_info", "best_of", "best_times", "import_torch", "limit_threads",
           "print_header", "CLOCKS", "ROOT"]

# --clock choices: wall time, or this process's CPU time summed over all its threads
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def blas_info():
    """One line per BLAS/OpenMP pool in this process: library, kernel (architecture), threads.

    The kernel matters: OpenBLAS started with OPENBLAS_CORETYPE set to an older core runs
    several times slower than on its native one, which would make every figure meaningless.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpoolctl not installed"]
    return [f"{i['internal_api']} {i.get('version')} "
            f"kernel={i.get('architecture') or i.get('corename') or '-'} "
            f"threads={i['num_threads']} [{os.path.basename(i['filepath'])}]"
            for i in threadpool_info()] or ["none found"]


def import_torch():
    """The torch module, or None where it is not installed (the benchmark then runs alone)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def best_times(runners, repeats, clocks=CLOCKS):
    """Interleaved runs of ``{name: callable}``; ``{name: {clock name: best seconds}}``.

    clocks: ``{name: clock}``, read around every run (by default wall and CPU time).
    """
    best = {name: {label: float("inf") for label in clocks} for name in runners}
    for run in runners.values():             # one warm-up each (allocations, BLAS threads)
        run()
    for _ in range(repeats):
        for name, run in runners.items():
            start = {label: clock() for label, clock in clocks.items()}
            run()
            for label, clock in clocks.items():
                best[name][label] = min(best[name][label], clock() - start[label])
    return best


def best_of(runners, repeats, clock=time.perf_counter):
    """Interleaved runs of ``{name: callable}``; the best time of each, in seconds.

    clock: wall time by default; ``time.process_time`` (CPU time of this process) gives
    steadier figures for single-threaded work on a machine shared with other jobs.
    """
    return {name: times["t"] for name, times in
            best_times(runners, repeats, {"t": clock}).items()}


def limit_threads(threads=None, torch=None, torch_threads=None):
    """Cap NumPy's BLAS/OpenMP pools at ``threads`` and torch's intra-op pool at
    ``torch_threads`` (default: ``threads``); None leaves a pool as found.

    Call it after torch is imported: threadpoolctl only reaches libraries already loaded.
    """
    if threads is not None:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)           # stays in force for the whole run
    torch_threads = threads if torch_threads is None else torch_threads
    if torch is not None and torch_threads is not None:
        torch.set_num_threads(torch_threads)


def print_header(title, torch=None):
    """Title, Python/NumPy/torch versions, and the BLAS pools (after torch is imported)."""
    import numpy
    print(title)
    versions = f"python {platform.python_version()}, numpy {numpy.__version__}"
    if torch is not None:
        versions += f", torch {torch.__version__} (intra-op threads {torch.get_num_threads()})"
    print(versions)
    for line in blas_info():
        print("  BLAS:", line)
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS"):
        if os.environ.get(name):
            print(f"  note: {name}={os.environ[name]} is set (figures may not be native)")
