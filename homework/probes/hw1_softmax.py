"""hw1.softmax: Softmax and LogSoftmax along a dim."""
from ._engine import case, values_and_grads


def cases(rng):
    return [case(f"{op}(dim={dim}) of (3, 4, 5)", dict(x=rng.standard_normal((3, 4, 5)),
                                                       g=rng.standard_normal((3, 4, 5))),
                 {"op": op, "dim": dim}, visibility="hidden" if dim == 0 else "visible")
            for op in ("softmax", "log_softmax") for dim in (-1, 0, 1)]


def run(case, params, arrays):
    from minigrad.ops.nn import LogSoftmax, Softmax
    function = Softmax if params["op"] == "softmax" else LogSoftmax
    return values_and_grads(lambda x: function.apply(x, dim=params["dim"]), arrays, ["x"], ["g"])
