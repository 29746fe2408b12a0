"""LSTM and GRU, forward + backward over a whole sequence: minigrad against PyTorch on the CPU.

    python benchmarks/recurrent.py [--repeats 9] [--seq 128] [--batch 32] [--input 256] [--hidden 256]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/recurrent.py --threads 1,all

One layer, float32, the same weights in both frameworks, upstream gradient on the output.
Each framework is timed alone (a block of its own after a pause: see _common.py), at each
thread count of ``--threads`` (default: 1 thread, then all cores); the median of
``--repeats`` (wall time, and process CPU time over all threads) is reported with the ratio
minigrad / torch, and the BLAS and thread count in force.  Targets at one thread (OpenBLAS on
its native kernel): LSTM and GRU at most 1.1x of PyTorch.  At all cores torch also spreads
its elementwise work over the cores and NumPy does not, so the ratio is larger there.
``--impl autograd`` times the op-composed path instead (slow: it exists for checks).
"""
import argparse

import numpy as np

from _common import (blas_info, host_array, import_torch, limit_threads, median_times,
                     print_header, report_line, thread_settings, threads_label)

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
            getattr(torch_module, name).copy_(torch.from_numpy(host_array(value)))
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
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--input", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--impl", default="explicit", choices=["explicit", "autograd"])
    parser.add_argument("--kinds", default="LSTM,GRU")
    parser.add_argument("--threads", default="1,all",
                        help="thread counts to run at, comma-separated ('all': one per core)")
    args = parser.parse_args()
    torch = import_torch()
    print_header(f"T={args.seq} N={args.batch} D={args.input} H={args.hidden} float32, "
                 f"forward + backward, each framework alone, median of {args.repeats}, "
                 f"impl={args.impl}", torch)
    if torch is None:
        print("  torch not installed: minigrad timings only")
    targets = {"LSTM": 1.1, "GRU": 1.1}
    for threads in thread_settings(args.threads):
        limit_threads(threads, torch)
        print(f"\n{threads_label(threads)}:  " + ";  ".join(blas_info()))
        for kind in args.kinds.split(","):
            rng = np.random.default_rng(0)
            times = median_times(runners_for(kind, args, rng, torch), args.repeats)
            print(report_line(kind, times["minigrad"], times.get("torch"),
                              targets.get(kind) if threads == 1 else None))


if __name__ == "__main__":
    main()
