"""Peak host memory of a piece of code, the way lessons 10 and 11 measure it: tracemalloc.

    result, peak = traced_peak(step, model, x)    # peak bytes alive at once during step(model, x)
    start_tracing(); ...several calls...; peak = stop_tracing()

Python's ``tracemalloc`` sees every NumPy allocation (NumPy reports them to it). The peak is
the most bytes alive at once while tracing, counting only what was allocated after the start:
inputs and weights made before are not in it. Tracing slows Python down (about 3x a step),
so time what you measure in separate, untraced runs. The memory is host memory: on a GPU
the arrays live elsewhere and this measures only Python's side.
"""

import gc
import tracemalloc

MiB = 2 ** 20
is_tracing = tracemalloc.is_tracing


def start_tracing():
    """Collect garbage first (so older garbage is not freed inside the measurement), then trace."""
    gc.collect()
    tracemalloc.start()


def stop_tracing():
    """Stop tracing; returns the peak bytes traced since ``start_tracing``."""
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def traced_peak(fn, *args):
    """(result of fn(*args), peak bytes traced while it ran): what fn allocated, at most, at once."""
    start_tracing()
    try:
        result = fn(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
