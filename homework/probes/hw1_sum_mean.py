"""hw1.sum_mean: Sum and Mean over dims, with and without keepdim."""
import numpy as np

from ._engine import case, values_and_grads

DIMS = [(None, False), (1, False), ((0, 2), True), (-1, True)]


def cases(rng):
    found = []
    for op in ("sum", "mean"):
        for dim, keepdim in DIMS:
            x = rng.standard_normal((2, 3, 4))
            shape = np.sum(x, axis=dim, keepdims=keepdim).shape
            found.append(case(f"{op}(dim={dim}, keepdim={keepdim}) of (2, 3, 4)",
                              dict(x=x, g=rng.standard_normal(shape)),
                              {"op": op, "dim": dim, "keepdim": keepdim}))
    return found


def run(case, params, arrays):
    from minigrad.ops.reduce import Mean, Sum
    function = Sum if params["op"] == "sum" else Mean
    dim = tuple(params["dim"]) if isinstance(params["dim"], list) else params["dim"]
    return values_and_grads(lambda x: function.apply(x, dim=dim, keepdim=params["keepdim"]),
                            arrays, ["x"], ["g"])
