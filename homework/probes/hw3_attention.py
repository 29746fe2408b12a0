"""hw3.attention: the attention kernels directly, and AttentionFunction with each mask kind."""
import numpy as np

from ._engine import case, values_and_grads

N, NH, T, S, HD = 2, 2, 4, 5, 3


def cases(rng):
    def qkv():
        return dict(q=rng.standard_normal((N, NH, T, HD)), k=rng.standard_normal((N, NH, S, HD)),
                    v=rng.standard_normal((N, NH, S, HD)), g_out=rng.standard_normal((N, NH, T, HD)),
                    g_w=rng.standard_normal((N, NH, T, S)))
    allowed = rng.random((T, S)) > 0.4
    allowed[:, 0] = True
    empty_row = np.ones((T, S), dtype=bool)
    empty_row[2] = False
    return [
        case("attention_forward/backward kernels, bool mask", dict(qkv(), allowed=allowed),
             {"kind": "kernels"}),
        case("AttentionFunction, no mask", qkv(), {"kind": "function"}),
        case("AttentionFunction, causal", qkv(), {"kind": "function", "is_causal": True}),
        case("AttentionFunction, bool mask", dict(qkv(), mask=allowed), {"kind": "function"}),
        case("AttentionFunction, additive mask with its gradient",
             dict(qkv(), bias=rng.standard_normal((N, 1, T, S))), {"kind": "bias"}),
        case("AttentionFunction, a fully masked row", dict(qkv(), mask=empty_row),
             {"kind": "function"}, visibility="hidden"),
        case("AttentionFunction, causal window 2 and dropout 0.3", qkv(),
             {"kind": "function", "is_causal": True, "window": 2, "dropout_p": 0.3},
             visibility="after_due_date"),
    ]


def run(case, params, arrays):
    import minigrad
    from layers.attention import AttentionFunction, attention_backward, attention_forward
    if params["kind"] == "kernels":
        g_out, g_w = arrays["g_out"].copy(), arrays["g_w"].copy()
        out, weights, cache = attention_forward(arrays["q"], arrays["k"], arrays["v"],
                                                allowed=arrays["allowed"])
        grad_q, grad_k, grad_v, _ = attention_backward(g_out, g_w, cache)
        return {"out": out, "weights": weights, "grad_q": grad_q, "grad_k": grad_k,
                "grad_v": grad_v, "g_out_after": g_out, "g_w_after": g_w}
    if params["kind"] == "bias":
        return values_and_grads(lambda q, k, v, b: AttentionFunction.apply(q, k, v, b),
                                arrays, ["q", "k", "v", "bias"], ["g_out", "g_w"])
    settings = {k: v for k, v in params.items() if k != "kind"}
    mask = minigrad.tensor(arrays["mask"]) if "mask" in arrays else None

    def fn(q, k, v):
        minigrad.manual_seed(7)                 # the same dropout mask in both runs
        return AttentionFunction.apply(q, k, v, mask, **settings)
    return values_and_grads(fn, arrays, ["q", "k", "v"], ["g_out", "g_w"])
