"""The linear recurrence h_t = a_t h_{t-1} + b_t: loop, scan and chunked against T and D.

    python benchmarks/linear_recurrence.py [--quick] [--repeats 3] [--batch 1]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/linear_recurrence.py

What is timed: forward + backward of one (N, T, D) recurrence in float32 through the raw
kernels (``scan_forward`` then ``scan_backward``, the work the ``linear_recurrence``
Function does), best of ``--repeats`` interleaved rounds, in process CPU time (steadier than
wall time on a shared machine; these kernels are single-threaded NumPy).  Peak memory is the
largest extra NumPy allocation during one forward + backward (tracemalloc, measured in a
separate run so that it does not slow the timed ones).

Modes: loop (T Python steps), scan (Hillis-Steele, log2 T passes over the whole (N, T, D)
array), chunked C=64 and chunked C=sqrt(T) (C + T/C Python steps).  Beside them, at the same
T, for reference: a torch loop with autograd (the plain way to write it in PyTorch; where T D <= 2^18), causal
memory-efficient attention (nh=1, hd=D, forward + backward; only to T = 8,192, it is O(T^2))
and minigrad's LSTM (H = D, N as given, forward + backward).

Why a NumPy loop can beat the scan: a NumPy step costs ~1-2 us of Python and dispatch
whatever its size, then memory traffic.  At small D the loop is all overhead (T x a few us),
which the scan's log2 T whole-array passes remove.  At large D each loop step is real work,
done once; the scan does that work log2 T times (16 times at T = 65,536, each pass streaming
several (N, T, D) arrays through memory) and loses.  The chunked form keeps the work at about
three passes and the steps at C + T/C, so it wins at every size measured here.

Targets (issue 14): the best mode at every (T, D) no slower than the loop; at T >= 4,096 and
D <= 64 at least 3x faster than the loop.  The script prints both checks.
"""
import argparse
import math
import tracemalloc

import numpy as np

from _common import best_times, import_torch, limit_threads, print_header

import minigrad  # noqa: E402  (_common put the project on sys.path)
from layers import LSTM, memory_efficient_attention  # noqa: E402
from layers.linear_recurrence import scan_backward, scan_forward  # noqa: E402

MODES = [("loop", None), ("scan", None), ("chunked", 64), ("chunked", "sqrt")]


def mode_name(mode, C):
    return mode if C is None else f"chunk{C}" if C != "sqrt" else "chunk√T"


def recurrence_runner(a, b, grad, mode, C):
    T = a.shape[1]
    chunk = 2 ** round(math.log2(T) / 2) if C == "sqrt" else (C or 64)

    def run():
        h, cache = scan_forward(a, b, None, mode, chunk)
        scan_backward(grad, cache)
    return run


def torch_loop_runner(torch, a, b, grad):
    ta, tb = (torch.from_numpy(v).requires_grad_() for v in (a, b))
    tg = torch.from_numpy(grad)

    def run():
        h, states = torch.zeros(a.shape[0], a.shape[2]), []
        for t in range(a.shape[1]):
            h = ta[:, t] * h + tb[:, t]
            states.append(h)
        torch.stack(states, dim=1).backward(tg)
    return run


def attention_runner(rng, N, T, D):
    q, k, v = (minigrad.tensor(rng.standard_normal((N, 1, T, D)).astype(np.float32),
                               requires_grad=True) for _ in range(3))
    g = minigrad.tensor(rng.standard_normal((N, 1, T, D)).astype(np.float32))

    def run():
        memory_efficient_attention(q, k, v, is_causal=True, workers=1).backward(g)
    return run


def lstm_runner(rng, N, T, D):
    lstm = LSTM(D, D, batch_first=True)
    x = minigrad.tensor(rng.standard_normal((N, T, D)).astype(np.float32), requires_grad=True)
    g = minigrad.tensor(rng.standard_normal((N, T, D)).astype(np.float32))

    def run():
        lstm(x)[0].backward(g)
    return run


def peak_bytes(run):
    tracemalloc.start()
    tracemalloc.reset_peak()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="T <= 4,096, ~1 minute")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1, help="N")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the torch loop, attention and LSTM columns")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS and torch threads (default 1: the kernels are serial)")
    args = parser.parse_args()
    torch = None if args.no_reference else import_torch()
    limit_threads(args.threads, torch)
    Ts = [256, 1024, 4096] if args.quick else [256, 1024, 4096, 16384, 65536]
    Ds = [16, 64, 512] if args.quick else [16, 64, 128, 512]
    N = args.batch
    print_header(f"linear recurrence, N={N} float32, forward + backward, best of "
                 f"{args.repeats}, CPU time (ms); peak extra memory (MiB)", torch)
    rng = np.random.default_rng(0)
    names = [mode_name(m, c) for m, c in MODES]
    refs = [] if args.no_reference else (["torch loop"] if torch else []) + ["attention", "LSTM"]
    print(f"{'T':>6} {'D':>4} | " + " ".join(f"{n:>9}" for n in names) + " | "
          + " ".join(f"{n:>10}" for n in refs) + " | best (x loop)   | peak MiB "
          + "/".join(names))
    results = {}
    for T in Ts:
        for D in Ds:
            a = rng.uniform(0.5, 1.0, (N, T, D)).astype(np.float32)
            b = rng.standard_normal((N, T, D)).astype(np.float32)
            grad = rng.standard_normal((N, T, D)).astype(np.float32)
            runners = {n: recurrence_runner(a, b, grad, m, c) for n, (m, c) in zip(names, MODES)}
            if refs and torch and T * D <= 2 ** 18:                 # it is slow: ~6 s at 2^18
                runners["torch loop"] = torch_loop_runner(torch, a, b, grad)
            if refs and D == 64 and T <= 8192:
                runners["attention"] = attention_runner(rng, N, T, D)
            if refs and D == 64:
                runners["LSTM"] = lstm_runner(rng, N, T, D)
            cpu = {n: t["cpu"] for n, t in best_times(runners, args.repeats).items()}
            peaks = [peak_bytes(runners[n]) / 2 ** 20 for n in names]
            best = min(names, key=cpu.get)
            results[T, D] = (cpu, best)
            cells = " ".join(f"{cpu[n] * 1e3:9.1f}" for n in names)
            ref_cells = " ".join(f"{cpu[n] * 1e3:10.1f}" if n in cpu else f"{'-':>10}"
                                 for n in refs)
            print(f"{T:6d} {D:4d} | {cells} | {ref_cells} | {best:>8} {cpu['loop'] / cpu[best]:5.1f}x"
                  f" | " + "/".join(f"{p:.1f}" for p in peaks), flush=True)

    print("\ncrossover: the fastest mode at each (T, D), and its speed-up over the loop")
    print("     D \\ T " + "".join(f"{T:>16}" for T in Ts))
    for D in Ds:
        row = "".join(f"{results[T, D][1]:>10} {results[T, D][0]['loop'] / results[T, D][0][results[T, D][1]]:4.1f}x"
                      for T in Ts)
        print(f"{D:>10} {row}")
    for mode in names[1:]:
        wins = []
        for D in Ds:
            Tw = [T for T in Ts if results[T, D][0][mode] < results[T, D][0]["loop"]]
            wins.append(f"D={D}: " + ("every T" if len(Tw) == len(Ts) else
                                      ",".join(map(str, Tw)) if Tw else "never"))
        print(f"{mode:>8} faster than the loop at  " + "; ".join(wins))
    slower = [(T, D) for (T, D), (cpu, best) in results.items() if cpu[best] > cpu["loop"]]
    long_small = [(T, D) for (T, D) in results if T >= 4096 and D <= 64]
    short = [(T, D) for (T, D) in long_small
             if results[T, D][0]["loop"] / results[T, D][0][results[T, D][1]] < 3]
    print(f"target 1, best mode never slower than the loop: "
          f"{'met' if not slower else 'MISSED at ' + str(slower)}")
    print(f"target 2, >= 3x the loop at T >= 4096, D <= 64: "
          f"{'met' if not short else 'MISSED at ' + str(short)} ({len(long_small)} cells)")


if __name__ == "__main__":
    main()
