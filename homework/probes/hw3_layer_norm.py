"""hw3.layer_norm: LayerNormFunction over the last 1 or 2 dims, with and without affine."""
from ._engine import case, values_and_grads


def cases(rng):
    x = rng.standard_normal((2, 3, 4))
    return [
        case("layer norm over the last dim", dict(x=x, w=rng.standard_normal(4), b=rng.standard_normal(4),
                                                  g=rng.standard_normal((2, 3, 4))), {"k": 1}),
        case("layer norm over the last 2 dims", dict(x=x, w=rng.standard_normal((3, 4)),
                                                     b=rng.standard_normal((3, 4)),
                                                     g=rng.standard_normal((2, 3, 4))), {"k": 2}),
        case("layer norm without affine", dict(x=x, g=rng.standard_normal((2, 3, 4))), {"k": 1},
             visibility="hidden"),
    ]


def run(case, params, arrays):
    from minigrad.ops.nn import LayerNormFunction
    k = params["k"]
    if "w" in arrays:
        return values_and_grads(lambda x, w, b: LayerNormFunction.apply(x, w, b, k=k, eps=1e-5),
                                arrays, ["x", "w", "b"], ["g"])
    return values_and_grads(lambda x: LayerNormFunction.apply(x, None, None, k=k, eps=1e-5),
                            arrays, ["x"], ["g"])
