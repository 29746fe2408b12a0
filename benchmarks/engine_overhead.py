"""The engine's own cost: many small elementwise ops, forward and backward, against PyTorch.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/engine_overhead.py
    python benchmarks/engine_overhead.py --quick          # fewer ops and repeats

Two workloads, each a chain y <- op(y) of the ops below, in a cycle, then one backward with
a fixed upstream gradient:

  * small: 10,000 ops on a (32, 256) float32 tensor (each op does 8,192 multiply-adds:
    the math is a fraction of a microsecond, so this is mostly bookkeeping);
  * chain: 200,000 ops on a (4,) tensor: nothing but overhead (recording the node,
    wrapping the output, Kahn's walk in backward), and a 200,000-deep graph.

The cycle: y + b, y * a, tanh(y), y - c, y * 0.9 (a Python number), with a, b, c leaves
that require grad, so every op records a node and backward sends gradients to a, b, c too.

Per op: the median of --repeats runs, each framework timed alone (a block of its own after
a pause, see _common.py), divided by the number of ops; "forward" times the forward alone
(graph recorded, then dropped), and "backward" is the rest.  Both run on one thread (torch's
small ops would otherwise wake its OpenMP pool).  Target: at most 1.2x PyTorch's per-op
overhead.
"""
import argparse
import gc

import numpy as np

from _common import CLOCKS, median_of, import_torch, limit_threads, print_header

import minigrad  # noqa: E402  (_common put the project on sys.path)


def make_inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    x, a, b, c, upstream = (rng.standard_normal(shape).astype(np.float32) for _ in range(5))
    return {"x": x, "a": 0.5 * a, "b": b, "c": 0.1 * c, "upstream": upstream}


def chain(y, a, b, c, n_ops, tanh):
    """n_ops ops in the cycle y + b, y * a, tanh(y), y - c, y * 0.9."""
    for i in range(n_ops):
        step = i % 5
        if step == 0:
            y = y + b
        elif step == 1:
            y = y * a
        elif step == 2:
            y = tanh(y)
        elif step == 3:
            y = y - c
        else:
            y = y * 0.9
    return y


def minigrad_runners(arrays, n_ops):
    leaves = {k: minigrad.tensor(arrays[k], requires_grad=True) for k in ("x", "a", "b", "c")}
    upstream = minigrad.tensor(arrays["upstream"])

    def forward():
        return chain(leaves["x"], leaves["a"], leaves["b"], leaves["c"], n_ops, minigrad.tanh)

    def both():
        for t in leaves.values():
            t.grad = None
        forward().backward(upstream)

    return forward, both


def torch_runners(torch, arrays, n_ops):
    leaves = {k: torch.tensor(arrays[k], requires_grad=True) for k in ("x", "a", "b", "c")}
    upstream = torch.tensor(arrays["upstream"])

    def forward():
        return chain(leaves["x"], leaves["a"], leaves["b"], leaves["c"], n_ops, torch.tanh)

    def both():
        for t in leaves.values():
            t.grad = None
        forward().backward(upstream)

    return forward, both


def check_same(torch, arrays, n_ops):
    """Both frameworks compute the same thing (so the timings compare like with like)."""
    forward, _ = minigrad_runners(arrays, n_ops)
    t_forward, _ = torch_runners(torch, arrays, n_ops)
    np.testing.assert_allclose(forward().detach().numpy(), t_forward().detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def run(name, shape, n_ops, repeats, torch, clock):
    arrays = make_inputs(shape)
    runners = {}
    runners["minigrad forward"], runners["minigrad fwd+bwd"] = minigrad_runners(arrays, n_ops)
    if torch is not None:
        check_same(torch, arrays, min(n_ops, 1000))
        runners["torch forward"], runners["torch fwd+bwd"] = torch_runners(torch, arrays, n_ops)
    best = median_of(runners, repeats, clock)
    gc.collect()
    print(f"\n{name}: {n_ops:,} ops on {shape} float32, each framework alone, median of "
          f"{repeats} ({clock.__name__})")
    print(f"  {'':10} {'total s':>9} {'us/op':>8} {'fwd us/op':>10} {'bwd us/op':>10}")
    per_op = {}
    for lib in ("minigrad", "torch"):
        if f"{lib} fwd+bwd" not in best:
            continue
        total, fwd = best[f"{lib} fwd+bwd"], best[f"{lib} forward"]
        per_op[lib] = 1e6 * total / n_ops
        print(f"  {lib:10} {total:9.3f} {per_op[lib]:8.2f} {1e6 * fwd / n_ops:10.2f} "
              f"{1e6 * (total - fwd) / n_ops:10.2f}")
    if "torch" in per_op:
        print(f"  ratio minigrad / torch: {per_op['minigrad'] / per_op['torch']:.2f}x "
              "(target <= 1.2)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a tenth of the ops, 2 repeats")
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--torch-threads", type=int, default=1)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                        help="cpu: process CPU time, steadier on a shared machine (torch's "
                             "small ops run on one thread, so the two compare)")
    args = parser.parse_args()
    clock = CLOCKS[args.clock]
    torch = None if args.no_torch else import_torch()
    if torch is not None:
        torch.set_grad_enabled(True)
        # one thread, as NumPy's elementwise kernels: on a busy 2-core machine torch's
        # OpenMP pool made one tanh of (32, 256) take milliseconds (threads waiting on each other)
        limit_threads(1, torch, torch_threads=args.torch_threads)
    print_header("engine overhead: chains of small elementwise ops, forward + backward", torch)
    scale, repeats = (10, 2) if args.quick else (1, args.repeats)
    run("small", (32, 256), 10_000 // scale, repeats, torch, clock)
    run("chain", (4,), 200_000 // scale, max(1, repeats - 2), torch, clock)


if __name__ == "__main__":
    main()
