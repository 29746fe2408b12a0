"""Transformer encoder layer, forward + backward: minigrad against PyTorch on the CPU.

    python benchmarks/transformer.py [--repeats 7] [--batch 8] [--seq 256] [--d-model 256]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/transformer.py

One TransformerEncoderLayer (batch 8, T 256, d_model 256, 4 heads, dim_feedforward 1024,
float32, dropout 0, train mode, post-norm), the same weights in both frameworks.  Runs are
interleaved (minigrad, torch, minigrad, ...) so both see the same machine state; the best of
``--repeats`` is reported, with the ratio minigrad / torch and the BLAS each one uses.
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
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    rows = [f"{i['internal_api']} {i.get('version')} ({i.get('architecture', '-')}), "
            f"{i['num_threads']} threads [{os.path.basename(i['filepath'])}]"
            for i in threadpool_info()]
    return "; ".join(rows) or "none found"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ff", type=int, default=1024)
    parser.add_argument("--norm-first", action="store_true")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit BLAS (threadpoolctl) and torch to this many threads")
    args = parser.parse_args()
    if args.threads is not None:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)
    N, T, E = args.batch, args.seq, args.d_model

    layer = layers.TransformerEncoderLayer(E, args.heads, args.ff, dropout=0.0,
                                           batch_first=True, norm_first=args.norm_first)
    rng = np.random.default_rng(0)
    x_host = rng.standard_normal((N, T, E)).astype(np.float32)
    grad_host = rng.standard_normal((N, T, E)).astype(np.float32)
    x, grad = minigrad.tensor(x_host, requires_grad=True), minigrad.tensor(grad_host)

    def step_minigrad():
        layer.zero_grad()
        x.grad = None
        layer(x).backward(grad)

    runners = {"minigrad": step_minigrad}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        if args.threads is not None:
            torch.set_num_threads(args.threads)
        torch_layer = torch.nn.TransformerEncoderLayer(E, args.heads, args.ff, dropout=0.0,
                                                       batch_first=True,
                                                       norm_first=args.norm_first)
        torch_layer.load_state_dict({k: torch.from_numpy(v)
                                     for k, v in layer.state_dict().items()})
        tx = torch.tensor(x_host, requires_grad=True)
        tgrad = torch.tensor(grad_host)

        def step_torch():
            torch_layer.zero_grad()
            tx.grad = None
            torch_layer(tx).backward(tgrad)
        runners["torch"] = step_torch

    for run in runners.values():                 # warm up: allocations, BLAS threads
        run()
    best = {name: float("inf") for name in runners}
    for _ in range(args.repeats):
        for name, run in runners.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)

    print(f"TransformerEncoderLayer forward+backward: N={N} T={T} E={E} nh={args.heads} "
          f"F={args.ff} float32 dropout=0 norm_first={args.norm_first}, best of {args.repeats}")
    print(f"numpy {np.__version__}; BLAS: {blas_info()}")
    env = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                       "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
           if k in os.environ}
    print(f"environment: {env or 'no BLAS variables set'}")
    print(f"  minigrad: {best['minigrad'] * 1e3:8.1f} ms")
    if torch is not None:
        print(f"  torch {torch.__version__} ({torch.get_num_threads()} threads): "
              f"{best['torch'] * 1e3:8.1f} ms")
        print(f"  ratio minigrad / torch: {best['minigrad'] / best['torch']:.2f}x "
              "(target <= 0.9x)")


if __name__ == "__main__":
    main()
