"""Independent blocks of work spread over every CPU core (for the memory-efficient attention).

A loop of "one matrix product, then a few elementwise passes" leaves cores idle on the CPU:
BLAS runs a product on all cores, but NumPy runs an elementwise op (exp, max, ...) on one.
PyTorch's CPU attention instead gives each core its own blocks, each with a one-thread
product.  ``run_blocks`` does the same with Python threads (NumPy releases the GIL inside its
kernels) while BLAS is held to one thread per call (threadpoolctl): at T = 16,384 on two cores
that took the attention's forward + backward from 1.40 s to 1.07-1.12 s (benchmarks/attention.py).

Blocks are dealt like cards, back and forth (two workers: 0 1 1 0 0 1 1 0 ...): for causal
attention, where block i holds i + 1 tiles, each worker then gets the same number of tiles,
and the split is fixed, so a sum over workers adds in the same order on every run
(reproducible results).
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

__all__ = ["run_blocks", "deal", "default_workers", "cpu_count", "MAX_DEFAULT_WORKERS"]

_pool, _pool_size = None, 0    # made on first use, grown when more workers are asked for
_controller = False       # threadpoolctl's ThreadpoolController; None when not installed
_one_at_a_time = threading.Lock()   # BLAS's thread count is process-wide: one caller sets it


def _forget_pool():
    """In a forked child the pool's threads do not exist: start a new pool when needed."""
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def cpu_count():
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                   # macOS, Windows
        return os.cpu_count() or 1


def blas_controller():
    """threadpoolctl's controller of the BLAS libraries loaded, or None without threadpoolctl."""
    global _controller
    if _controller is False:
        try:
            from threadpoolctl import ThreadpoolController
            _controller = ThreadpoolController()
        except ImportError:
            _controller = None
    return _controller


# Each worker of the attention's backward keeps its own (N, nh, T, hd) share of dQ: on a
# 64-core server, one per core would make "memory-efficient" cost 64 copies of q.
MAX_DEFAULT_WORKERS = 8


def default_workers(xp, n_blocks):
    """Every core, up to MAX_DEFAULT_WORKERS, for NumPy arrays with threadpoolctl installed
    and 2+ blocks; else 1.

    Without threadpoolctl each thread's products would ask BLAS for every core at once,
    which is slower than one thread; CuPy runs blocks on the GPU, not on threads.
    """
    import numpy
    if xp is not numpy or n_blocks < 2 or blas_controller() is None:
        return 1
    return max(1, min(cpu_count(), n_blocks, MAX_DEFAULT_WORKERS))


def deal(blocks, workers):
    """``blocks`` split into ``workers`` hands, dealt back and forth: 0 1 2 2 1 0 0 1 2 ..."""
    hands = [[] for _ in range(workers)]
    for n, block in enumerate(blocks):
        turn, seat = divmod(n, workers)
        hands[seat if turn % 2 == 0 else workers - 1 - seat].append(block)
    return hands


def run_blocks(fn, blocks, workers=None, xp=None):
    """``[fn(hand) for hand in deal(blocks, workers)]``, the calls on ``workers`` threads
    (None: ``default_workers(xp, len(blocks))``).

    One worker runs ``fn(blocks)`` here, on this thread, with BLAS as it is.  Calls from
    several threads take turns (each holds BLAS to one thread while it runs), so ``fn`` must
    not call ``run_blocks`` itself.
    """
    if workers is None:
        workers = default_workers(xp, len(blocks))
    workers = max(1, min(int(workers), len(blocks)))
    if workers == 1:
        return [fn(blocks)]
    global _pool, _pool_size
    if _pool_size < workers:
        _pool_size = max(workers, cpu_count())
        _pool = ThreadPoolExecutor(max_workers=_pool_size, thread_name_prefix="minigrad-blocks")
    controller = blas_controller()
    one_blas_thread = (controller.limit(limits=1, user_api="blas") if controller is not None
                       else nullcontext())
    with _one_at_a_time, one_blas_thread:
        futures = [_pool.submit(fn, hand) for hand in deal(blocks, workers)]
        return [future.result() for future in futures]
