"""LSTM and GRU, forward + backward over a whole sequence: minigrad against PyTorch on the CPU.

    python benchmarks/recurrent.py [--repeats 7] [--seq 128] [--batch 32] [--input 256] [--hidden 256]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/recurrent.py

One layer, float32, the same weights in both frameworks, upstream gradient on the output.
Runs are interleaved (minigrad, torch, minigrad, ...) so both see the same machine state;
the best of ``--repeats`` (wall time, and process CPU time over all threads) is reported
with the ratio minigrad / torch and the BLAS each one uses.  Targets (OpenBLAS on its native
kernel): LSTM within 1.1x of PyTorch, GRU at most 0.8x.  ``--threads 1`` caps both NumPy's
BLAS and torch at one thread (the fair comparison on a busy machine).  ``--impl autograd``
times the op-composed path instead (slow: it exists for checks).
"""
import argparse

import numpy as np

from _common import best_times, import_torch, limit_threads, print_header

import minigrad  # noqa: E402  (_common put the project on sys.path)
import layers  # noqa: E402


def runners_for(kind, args, rng, torch):
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
    if torch is None:
        return runners
    torch_module = getattr(torch.nn, kind)(D, H)
    with torch.no_grad():
        for name, value in module.state_dict().items():
            getattr(torch_module, name).copy_(torch.from_numpy(value.cpu().numpy()))
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
    torch = import_torch()
    limit_threads(args.threads, torch)
    print_header(f"T={args.seq} N={args.batch} D={args.input} H={args.hidden} float32, "
                 f"forward + backward, best of {args.repeats}, impl={args.impl}", torch)
    if torch is None:
        print("  torch not installed: minigrad timings only")
    rng = np.random.default_rng(0)
    targets = {"LSTM": 1.1, "GRU": 0.8}
    for kind in args.kinds.split(","):
        best = best_times(runners_for(kind, args, rng, torch), args.repeats)
        for clock in ("wall", "cpu"):
            line = f"{kind:5s} {clock:4s} minigrad {best['minigrad'][clock] * 1e3:8.1f} ms"
            if "torch" in best:
                ratio = best["minigrad"][clock] / best["torch"][clock]
                target = targets.get(kind)
                line += (f"   torch {best['torch'][clock] * 1e3:8.1f} ms   ratio {ratio:.2f}x"
                         + (f" (target <= {target}x)" if target else ""))
            print(line)


if __name__ == "__main__":
    main()
