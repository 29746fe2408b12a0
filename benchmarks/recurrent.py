"""LSTM and GRU, forward + backward over a whole sequence: minigrad against PyTorch on the CPU.

    python benchmarks/recurrent.py [--repeats 7] [--seq 128] [--batch 32] [--input 256] [--hidden 256]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/recurrent.py

One layer, float32, the same weights in both frameworks, upstream gradient on the output.
Runs are interleaved (minigrad, torch, minigrad, ...) so both see the same machine state;
the best of ``--repeats`` (wall time, and process CPU time over all threads) is reported
with the ratio minigrad / torch and the BLAS each one uses.  Targets (OpenBLAS on its native kernel): LSTM within 1.1x of PyTorch, GRU at most
0.8x.  ``--impl autograd`` times the op-composed path instead (slow: it exists for checks).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import minigrad  # noqa: E402
import layers  # noqa: E402


def blas_info():
    """Each BLAS/OpenMP pool in this process: library, kernel (architecture), threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["threadpoolctl not installed"]
    return [f"{i['internal_api']} {i.get('version')} kernel={i.get('architecture') or i.get('corename', '-')} "
            f"threads={i['num_threads']} [{os.path.basename(i['filepath'])}]"
            for i in threadpool_info()] or ["none found"]


def best_of(runners, repeats):
    """Interleaved runs; the best wall time and the best process CPU time (all threads) of
    each runner, in seconds.  On a busy machine the CPU time is the steadier figure."""
    best = {name: [float("inf"), float("inf")] for name in runners}
    for name, run in runners.items():        # one warm-up each (allocations, BLAS threads)
        run()
    for _ in range(repeats):
        for name, run in runners.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            best[name] = [min(best[name][0], wall), min(best[name][1], cpu)]
    return best


def runners_for(kind, args, rng):
    T, N, D, H = args.seq, args.batch, args.input, args.hidden
    module = getattr(layers, kind)(D, H, impl=args.impl)
    x_host = rng.standard_normal((T, N, D)).astype(np.float32)
    grad_host = rng.standard_normal((T, N, H)).astype(np.float32)
    x, grad = minigrad.tensor(x_host, requires_grad=True), minigrad.tensor(grad_host)

    def step_minigrad():
        module.zero_grad()
        x.grad = None
        output = module(x)[0]
        output.backward(grad)

    runners = {"minigrad": step_minigrad}
    try:
        import torch
    except ImportError:
        return runners
    torch_module = getattr(torch.nn, kind)(D, H)
    with torch.no_grad():
        for name, value in module.state_dict().items():
            getattr(torch_module, name).copy_(torch.from_numpy(value))
    x_t = torch.from_numpy(x_host).requires_grad_()
    grad_t = torch.from_numpy(grad_host)

    def step_torch():
        torch_module.zero_grad()
        x_t.grad = None
        torch_module(x_t)[0].backward(grad_t)

    runners["torch"] = step_torch
    return runners


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--input", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--impl", default="explicit", choices=["explicit", "autograd"])
    parser.add_argument("--kinds", default="LSTM,GRU")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit BLAS and torch to this many threads (default: as found)")
    args = parser.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    print(f"T={args.seq} N={args.batch} D={args.input} H={args.hidden} float32, "
          f"forward + backward, best of {args.repeats}, impl={args.impl}")
    for line in blas_info():
        print("  BLAS:", line)
    try:
        import torch
        print(f"  torch {torch.__version__}: {torch.get_num_threads()} threads")
    except ImportError:
        print("  torch not installed: minigrad timings only")
    rng = np.random.default_rng(0)
    targets = {"LSTM": 1.1, "GRU": 0.8}
    for kind in args.kinds.split(","):
        best = best_of(runners_for(kind, args, rng), args.repeats)
        for column, label in ((0, "wall"), (1, "cpu ")):
            line = f"{kind:5s} {label} minigrad {best['minigrad'][column] * 1e3:8.1f} ms"
            if "torch" in best:
                ratio = best["minigrad"][column] / best["torch"][column]
                target = targets.get(kind)
                line += (f"   torch {best['torch'][column] * 1e3:8.1f} ms   ratio {ratio:.2f}x"
                         + (f" (target <= {target}x)" if target else ""))
            print(line)


if __name__ == "__main__":
    main()
