"""Transformer encoder layer, forward + backward: minigrad against PyTorch on the CPU.

    python benchmarks/transformer.py [--repeats 7] [--batch 8] [--seq 256] [--d-model 256]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/transformer.py

One TransformerEncoderLayer (batch 8, T 256, d_model 256, 4 heads, dim_feedforward 1024,
float32, dropout 0, train mode, post-norm), the same weights in both frameworks.  Runs are
interleaved (minigrad, torch, minigrad, ...) so both see the same machine state; the best of
``--repeats`` (wall time, and process CPU time over all threads) is reported, with the ratio
minigrad / torch and the BLAS each one uses.  Target: at most 0.9x of PyTorch.
``--threads 1`` caps both NumPy's BLAS and torch at one thread (the fair comparison on a busy
machine; at 2 threads the CPU time also counts threads spinning while they wait).
"""
import argparse

import numpy as np

from _common import best_times, import_torch, limit_threads, print_header

import minigrad  # noqa: E402  (_common put the project on sys.path)
import layers  # noqa: E402


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
    torch = import_torch()
    limit_threads(args.threads, torch)
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
    if torch is not None:
        torch_layer = torch.nn.TransformerEncoderLayer(E, args.heads, args.ff, dropout=0.0,
                                                       batch_first=True,
                                                       norm_first=args.norm_first)
        torch_layer.load_state_dict({k: torch.from_numpy(v.cpu().numpy())
                                     for k, v in layer.state_dict().items()})
        tx = torch.tensor(x_host, requires_grad=True)
        tgrad = torch.tensor(grad_host)

        def step_torch():
            torch_layer.zero_grad()
            tx.grad = None
            torch_layer(tx).backward(tgrad)
        runners["torch"] = step_torch

    best = best_times(runners, args.repeats)
    print_header(f"TransformerEncoderLayer forward+backward: N={N} T={T} E={E} "
                 f"nh={args.heads} F={args.ff} float32 dropout=0 "
                 f"norm_first={args.norm_first}, best of {args.repeats}", torch)
    for clock in ("wall", "cpu"):
        line = f"  {clock:4s} minigrad {best['minigrad'][clock] * 1e3:8.1f} ms"
        if torch is not None:
            ratio = best["minigrad"][clock] / best["torch"][clock]
            line += (f"   torch {best['torch'][clock] * 1e3:8.1f} ms   "
                     f"ratio minigrad / torch: {ratio:.2f}x (target <= 0.9x)")
        print(line)


if __name__ == "__main__":
    main()
