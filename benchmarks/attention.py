"""Attention forward + backward against sequence length: plain, memory-efficient, PyTorch.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/attention.py
    python benchmarks/attention.py --quick            # T up to 4096
    python benchmarks/attention.py --tune 16384       # block sizes 128..1024 at one T

Causal, one head, batch 1, hd = 64, float32, a random upstream gradient.  For each T:

  * plain: ``layers.scaled_dot_product_attention`` (builds the (T, T) weights); skipped where
    one weight matrix, T*T*4 bytes, exceeds --plain-limit-gib (default 2 GiB: it keeps
    several such matrices alive);
  * efficient: ``layers.memory_efficient_attention`` (blocked, online softmax), its blocks
    shared by one thread per core, up to 8 (``workers=None``; the count is printed);
  * torch: ``torch.nn.functional.scaled_dot_product_attention`` where torch is installed.

Time: best wall time of --repeats runs, each variant timed alone (a block of its own after a
pause: see _common.py), after one warm-up, forward + backward.
Memory: for minigrad, the peak of tracemalloc (NumPy reports its buffers to it) during one
forward + backward, above what was allocated before (q, k, v and the upstream gradient are
made before and not counted).  For torch, whose allocator tracemalloc does not see, the peak
of the running sum of allocations minus frees that ``torch.profiler`` (profile_memory=True)
records per op, over one forward + backward (inputs not counted either).  Targets at
T = 16,384: efficient no slower than torch, and its peak under 32 MiB.
"""
import argparse
import tracemalloc

import numpy as np

from _common import best_of, import_torch, print_header

import minigrad  # noqa: E402  (_common put the project on sys.path)
import layers  # noqa: E402
from layers.efficient_attention import DEFAULT_BLOCK_SIZE  # noqa: E402
from layers.cpu_threads import default_workers  # noqa: E402

HD = 64


def inputs(T, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1, 1, T, HD)).astype(np.float32) for _ in range(4)]


def minigrad_step(fn, arrays, **kwargs):
    """One forward + backward through ``fn`` on fresh leaves; returns a callable."""
    q, k, v = (minigrad.tensor(a, requires_grad=True) for a in arrays[:3])
    grad = minigrad.tensor(arrays[3])

    def step():
        q.grad = k.grad = v.grad = None
        fn(q, k, v, is_causal=True, **kwargs).backward(grad)
    return step


def torch_step(arrays):
    import torch
    q, k, v = (torch.tensor(a, requires_grad=True) for a in arrays[:3])
    grad = torch.tensor(arrays[3])

    def clear():
        q.grad = k.grad = v.grad = None

    def step():
        clear()
        torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True).backward(grad)
    step.clear = clear         # torch_peak frees old grads before profiling starts
    return step


def traced_peak(step):
    """Peak bytes tracemalloc sees during ``step()``, above what was allocated before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        step()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def torch_peak(step):
    """Peak bytes torch's profiler sees during ``step()``: the running sum of each op's own
    allocations minus frees (``self_cpu_memory_usage``), in op start order."""
    from torch.profiler import profile, ProfilerActivity
    step.clear()
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    running = peak = 0
    for event in sorted(prof.events(), key=lambda e: e.time_range.start):
        running += event.self_cpu_memory_usage
        peak = max(peak, running)
    return peak


def mib(n):
    return "-" if n is None else f"{n / 2**20:.1f}"


def secs(t):
    return "-" if t is None else f"{t:.3f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T up to 4096 only")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--block-size", type=int, default=DEFAULT_BLOCK_SIZE)
    parser.add_argument("--plain-limit-gib", type=float, default=2.0)
    parser.add_argument("--tune", type=int, metavar="T", help="time block sizes at this T")
    args = parser.parse_args()
    torch = import_torch()
    print_header(f"attention: causal, N=1, nh=1, hd={HD}, float32, forward + backward, "
                 f"best of {args.repeats}", torch)
    print(f"memory-efficient attention: {default_workers(np, 65536 // args.block_size)} worker "
          "thread(s) at the largest T (layers/cpu_threads.py; 1 without threadpoolctl)")
    if torch is None:
        print("torch not installed: no torch column")

    if args.tune:
        arrays = inputs(args.tune)
        runners = {b: minigrad_step(layers.memory_efficient_attention, arrays, block_size=b)
                   for b in (128, 256, 512, 1024)}
        if torch is not None:
            runners["torch"] = torch_step(arrays)
        for b, t in best_of(runners, args.repeats).items():
            print(f"block_size {b:>5}: {t:.3f} s")
        return

    lengths = [1024, 2048, 4096] if args.quick else [1024, 2048, 4096, 8192, 16384, 65536]
    print(f"{'T':>6} | {'plain s':>8} {'eff s':>8} {'torch s':>8} | "
          f"{'plain MiB':>9} {'eff MiB':>8} {'torch MiB':>9} | eff/torch time")
    skipped = []
    for T in lengths:
        arrays = inputs(T)
        runners = {"efficient": minigrad_step(layers.memory_efficient_attention, arrays,
                                              block_size=args.block_size)}
        plain_ok = T * T * 4 <= args.plain_limit_gib * 2**30
        if plain_ok:
            runners["plain"] = minigrad_step(layers.scaled_dot_product_attention, arrays)
        else:
            skipped.append(T)
        if torch is not None and T <= 16384:
            runners["torch"] = torch_step(arrays)
        repeats = args.repeats if T <= 16384 else 1
        times = best_of(runners, repeats)
        memory = {name: traced_peak(runners[name]) for name in ("efficient", "plain")
                  if name in runners}
        if "torch" in runners:
            memory["torch"] = torch_peak(runners["torch"])
        ratio = (f"{times['efficient'] / times['torch']:.2f}" if "torch" in times else "-")
        print(f"{T:>6} | {secs(times.get('plain')):>8} {secs(times['efficient']):>8} "
              f"{secs(times.get('torch')):>8} | {mib(memory.get('plain')):>9} "
              f"{mib(memory['efficient']):>8} {mib(memory.get('torch')):>9} | {ratio}",
              flush=True)
    if skipped:
        print(f"plain skipped at T = {skipped}: one weight matrix alone is T*T*4 bytes > "
              f"{args.plain_limit_gib} GiB; torch only up to T = 16384")
    print("memory: minigrad = tracemalloc peak during forward+backward; torch = peak of the "
          "allocations its profiler records (profile_memory=True)")


if __name__ == "__main__":
    main()
