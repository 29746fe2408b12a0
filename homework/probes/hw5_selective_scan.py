"""hw5.selective_scan: selective_scan_forward then selective_scan_backward, each mode.

As in Mamba, delta > 0 and A < 0 (A_bar = exp(delta A) in (0, 1)). Besides y and the six
gradients, run returns grad_y and every input after the backward (a backward that changes
one in place fails).
"""
from ._engine import case

N, Di, n = 2, 3, 4
# (mode, T, chunk_size, visibility): chunked with a ragged last chunk and with one that
# divides T; T = 1 hidden.
CONFIGS = [("loop", 6, 64, "visible"), ("scan", 6, 64, "visible"), ("chunked", 7, 3, "visible"),
           ("scan", 5, 64, "hidden"), ("chunked", 8, 4, "hidden"), ("loop", 1, 64, "hidden")]
INPUTS = ("u", "delta", "A", "B", "C", "D")


def cases(rng):
    found = []
    for mode, T, chunk_size, visibility in CONFIGS:
        inputs = dict(u=rng.standard_normal((N, T, Di)), delta=rng.uniform(0.05, 1.0, (N, T, Di)),
                      A=-rng.uniform(0.5, 2.0, (Di, n)), B=rng.standard_normal((N, T, n)),
                      C=rng.standard_normal((N, T, n)), D=rng.standard_normal(Di),
                      grad_y=rng.standard_normal((N, T, Di)))
        chunks = f" chunk_size={chunk_size}" if mode == "chunked" else ""
        found.append(case(f"{mode}{chunks}, N={N} T={T} Di={Di} n={n}", inputs,
                          {"mode": mode, "chunk_size": chunk_size}, visibility=visibility))
    return found


def run(case, params, arrays):
    from layers.selective_scan import selective_scan_backward, selective_scan_forward
    given = {name: arrays[name].copy() for name in INPUTS}
    grad_y = arrays["grad_y"].copy()
    y, cache = selective_scan_forward(*(given[name] for name in INPUTS), params["mode"],
                                      params["chunk_size"])
    grads = selective_scan_backward(grad_y, cache)
    result = {"y": y, "grad_y_after": grad_y}
    result.update({f"grad_{name}": grad for name, grad in zip(INPUTS, grads)})
    result.update({f"{name}_after": value for name, value in given.items()})
    return result
