"""Transformer encoder layer, forward + backward: minigrad against PyTorch on the CPU.

    python benchmarks/transformer.py [--repeats 7] [--batch 8] [--seq 256] [--d-model 256]
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/transformer.py

One TransformerEncoderLayer (batch 8, T 256, d_model 256, 4 heads, dim_feedforward 1024,
float32, dropout 0, train mode, post-norm), the same weights in both frameworks.  Each
framework is timed alone (a block of its own after a pause: see _common.py), at each thread
count of ``--threads`` (default: 1 thread, then all cores); the median of ``--repeats``
(wall time, and process CPU time over all threads) is reported with the ratio
minigrad / torch, and the BLAS and thread count in force.  Target at one thread: at most
1.0x of PyTorch.  At all cores torch also spreads its elementwise work (softmax, GELU/ReLU,
LayerNorm) over the cores and NumPy does not; read wall time there (CPU time then also
counts threads spinning while they wait).
"""
import argparse

import numpy as np

from _common import (blas_info, host_array, import_torch, limit_threads, median_times,
                     print_header, report_line, thread_settings, threads_label)

import minigrad  # noqa: E402  (_common put the project on sys.path)
import layers  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--d-model", type=int, default=256)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--ff", type=int, default=1024)
    parser.add_argument("--norm-first", action="store_true")
    parser.add_argument("--threads", default="1,all",
                        help="thread counts to run at, comma-separated ('all': one per core)")
    args = parser.parse_args()
    torch = import_torch()
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
        torch_layer.load_state_dict({k: torch.from_numpy(host_array(v))
                                     for k, v in layer.state_dict().items()})
        tx = torch.tensor(x_host, requires_grad=True)
        tgrad = torch.tensor(grad_host)

        def step_torch():
            torch_layer.zero_grad()
            tx.grad = None
            torch_layer(tx).backward(tgrad)
        runners["torch"] = step_torch

    print_header(f"TransformerEncoderLayer forward+backward: N={N} T={T} E={E} "
                 f"nh={args.heads} F={args.ff} float32 dropout=0 "
                 f"norm_first={args.norm_first}, each framework alone, median of "
                 f"{args.repeats}", torch)
    for threads in thread_settings(args.threads):
        limit_threads(threads, torch)
        print(f"\n{threads_label(threads)}:  " + ";  ".join(blas_info()))
        times = median_times(runners, args.repeats)
        print(report_line("encoder layer", times["minigrad"], times.get("torch"),
                          1.0 if threads == 1 else None))


if __name__ == "__main__":
    main()
