"""What every benchmark script shares: the BLAS it runs on, timing each framework alone,
torch, thread limits.

    from _common import blas_info, median_times, import_torch, limit_threads, print_header

Benchmarks run as scripts (``python benchmarks/x.py``), so this file is found as a plain
module beside them.

Timing rules.  Each framework is timed ALONE, in a block of its own: a pause (``PAUSE``
seconds, so the thread pools of the block before have gone idle), one warm-up, then
``repeats`` runs; the median is reported.  Interleaving minigrad and torch run by run (as
these scripts once did) flatters whichever runs second-best at sharing: each torch run then
started while OpenBLAS's worker threads were still spinning from the minigrad run before it,
and torch looked slower than it is.  Two clocks are read: wall time, and this process's CPU
time over all its threads.  On a machine shared with other jobs, the CPU time of
single-threaded work is the steadier figure (it does not count waiting for a core); at
several threads it also counts threads spinning while they wait, so read wall time there.
The project is found from ``PYTHONPATH`` first (to time another checkout:
``PYTHONPATH=/path/to/checkout python benchmarks/recurrent.py``), else from this folder's parent.
"""
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:          # run from anywhere: the project is not pip-installed
    sys.path.append(ROOT)         # (after PYTHONPATH, so another checkout can be timed)

__all__ = ["blas_info", "best_of", "best_times", "host_array", "median_of", "median_times",
           "time_alone", "median",
           "import_torch", "limit_threads", "thread_settings", "threads_label", "print_header",
           "report_line", "CLOCKS", "PAUSE", "ROOT"]

# --clock choices: wall time, or this process's CPU time summed over all its threads
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
# seconds between two timed blocks: OpenBLAS's idle workers spin for well under this, and
# OpenMP's (torch) for 200 ms by default, before they sleep
PAUSE = 1.0


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


def host_array(value):
    """A state_dict value (a NumPy array, or a Tensor in later versions) as a NumPy array."""
    if hasattr(value, "detach"):
        value = value.detach().numpy()
    return value


def import_torch():
    """The torch module, or None where it is not installed (the benchmark then runs alone)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def time_alone(run, repeats, clocks=CLOCKS, pause=PAUSE):
    """Time ``run`` alone: one warm-up, then ``repeats`` runs back to back.

    Returns ``{clock name: [seconds of each run]}``.  Before the warm-up the process sleeps
    ``pause`` seconds, so the BLAS/OpenMP worker threads of whatever ran before (the other
    framework) have stopped spinning and gone to sleep, and do not steal a core from this one.
    """
    time.sleep(pause)
    run()
    times = {label: [] for label in clocks}
    for _ in range(repeats):
        start = {label: clock() for label, clock in clocks.items()}
        run()
        for label, clock in clocks.items():
            times[label].append(clock() - start[label])
    return times


def median(values):
    return statistics.median(values)


def median_times(runners, repeats, clocks=CLOCKS, pause=PAUSE):
    """Each of ``{name: callable}`` timed alone, one block after the other (time_alone);
    ``{name: {clock name: median seconds}}``."""
    return {name: {label: median(values) for label, values in
                   time_alone(run, repeats, clocks, pause).items()}
            for name, run in runners.items()}


def best_times(runners, repeats, clocks=CLOCKS, pause=PAUSE):
    """As median_times, with the best (minimum) run of each block."""
    return {name: {label: min(values) for label, values in
                   time_alone(run, repeats, clocks, pause).items()}
            for name, run in runners.items()}


def best_of(runners, repeats, clock=time.perf_counter):
    """Each runner timed alone (blocks with a pause between); the best time of each."""
    return {name: times["t"] for name, times in
            best_times(runners, repeats, {"t": clock}).items()}


def median_of(runners, repeats, clock=time.process_time):
    """Each runner timed alone (blocks with a pause between); the median time of each."""
    return {name: times["t"] for name, times in
            median_times(runners, repeats, {"t": clock}).items()}


def thread_settings(spec):
    """``"1,all"`` -> [1, None]: the thread counts to run at (None: every core)."""
    return [None if part.strip() == "all" else int(part) for part in spec.split(",")]


def threads_label(threads):
    return f"{os.cpu_count()} threads (all cores)" if threads is None else f"{threads} thread" + (
        "" if threads == 1 else "s")


def limit_threads(threads=None, torch=None, torch_threads="same"):
    """Set NumPy's BLAS/OpenMP pools to ``threads`` (None: one per core) and torch's
    intra-op pool to ``torch_threads`` (by default the same).

    Call it after torch is imported: threadpoolctl only reaches libraries already loaded.
    """
    from threadpoolctl import threadpool_limits
    threads = os.cpu_count() if threads is None else threads
    threadpool_limits(threads)               # stays in force until the next call
    torch_threads = threads if torch_threads == "same" else torch_threads
    if torch is not None and torch_threads is not None:
        torch.set_num_threads(torch_threads)


def report_line(label, minigrad_times, torch_times=None, target=None):
    """One line per clock: minigrad's median, torch's, and the ratio minigrad / torch."""
    lines = []
    for clock in ("wall", "cpu"):
        line = f"  {label:18s} {clock:4s} minigrad {minigrad_times[clock] * 1e3:8.1f} ms"
        if torch_times is not None:
            ratio = minigrad_times[clock] / torch_times[clock]
            line += (f"   torch {torch_times[clock] * 1e3:8.1f} ms   ratio {ratio:.2f}x"
                     + (f" (target <= {target}x at 1 thread)" if target else ""))
        lines.append(line)
    return "\n".join(lines)


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
