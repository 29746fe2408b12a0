"""hw5.reverse_scan: scan_forward then scan_backward, each mode, with and without h0.

Besides h and the three gradients, run returns the upstream gradient and the cached a, h and
h0 after the backward (a backward that shifts or scales them in place fails), and whether
grad_h0 is None when h0 was (the kernel's contract). a is drawn in (-1, 1): any sign works.
"""
import numpy as np

from ._engine import case

N, D = 2, 3
# (mode, T, chunk_size, visibility): chunked with a ragged last chunk, one that divides T,
# and one larger than T; T = 1 (no a_{t+1} at all) hidden.
CONFIGS = [("loop", 7, 64, "visible"), ("scan", 7, 64, "visible"), ("chunked", 7, 3, "visible"),
           ("scan", 8, 64, "hidden"), ("chunked", 8, 4, "hidden"), ("chunked", 5, 8, "hidden"),
           ("loop", 1, 64, "hidden")]


def cases(rng):
    found = []
    for mode, T, chunk_size, visibility in CONFIGS:
        for with_h0 in (False, True):
            inputs = dict(a=rng.uniform(-1.0, 1.0, (N, T, D)), b=rng.standard_normal((N, T, D)),
                          grad_h=rng.standard_normal((N, T, D)))
            if with_h0:
                inputs["h0"] = rng.standard_normal((N, D))
            chunks = f" chunk_size={chunk_size}" if mode == "chunked" else ""
            found.append(case(f"{mode}{chunks}, h0={'given' if with_h0 else 'None'}, "
                              f"N={N} T={T} D={D}", inputs,
                              {"mode": mode, "chunk_size": chunk_size}, visibility=visibility))
    return found


def run(case, params, arrays):
    from layers.linear_recurrence import scan_backward, scan_forward
    a, b, grad_h = arrays["a"].copy(), arrays["b"].copy(), arrays["grad_h"].copy()
    h0 = arrays["h0"].copy() if "h0" in arrays else None
    h, cache = scan_forward(a, b, h0, params["mode"], params["chunk_size"])
    h_before = np.array(h, dtype=np.float64)
    grad_a, grad_b, grad_h0 = scan_backward(grad_h, cache)
    result = {"h": h_before, "grad_a": grad_a, "grad_b": grad_b, "grad_h_after": grad_h,
              "a_after": a, "h_after": h, "grad_h0_is_none": np.array(float(grad_h0 is None))}
    if h0 is not None:
        result.update(grad_h0=grad_h0, h0_after=h0)
    return result
