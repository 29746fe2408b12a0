"""hw3.efficient_attention: memory_efficient_attention forward and backward, tiled."""
import numpy as np

from ._engine import case, values_and_grads

CONFIGS = [(7, 7, False, None, 3), (7, 5, False, None, 4), (7, 7, True, None, 3),
           (9, 9, True, 4, 2), (8, 8, False, 3, 3)]


def cases(rng):
    found = []
    for T, S, causal, window, block in CONFIGS:
        found.append(case(f"T={T} S={S} causal={causal} window={window} block={block}",
                          dict(q=rng.standard_normal((1, 2, T, 3)), k=rng.standard_normal((1, 2, S, 3)),
                               v=rng.standard_normal((1, 2, S, 3)), g=rng.standard_normal((1, 2, T, 3))),
                          {"is_causal": causal, "window": window, "block_size": block}))
    pattern = rng.random((7, 7)) < 0.7
    pattern[np.arange(7), np.arange(7)] = True
    found.append(case("bool mask, block 3", dict(q=rng.standard_normal((2, 1, 7, 3)),
                                                 k=rng.standard_normal((2, 1, 7, 3)),
                                                 v=rng.standard_normal((2, 1, 7, 3)),
                                                 g=rng.standard_normal((2, 1, 7, 3)), mask=pattern),
                      {"block_size": 3}, visibility="hidden"))
    found.append(case("additive mask, causal, two workers", dict(
        q=rng.standard_normal((1, 2, 7, 3)), k=rng.standard_normal((1, 2, 7, 3)),
        v=rng.standard_normal((1, 2, 7, 3)), g=rng.standard_normal((1, 2, 7, 3)),
        mask=rng.standard_normal((2, 7, 7))), {"block_size": 2, "is_causal": True, "workers": 2}))
    return found


def run(case, params, arrays):
    import minigrad
    from layers.efficient_attention import memory_efficient_attention
    mask = minigrad.tensor(arrays["mask"]) if "mask" in arrays else None
    return values_and_grads(lambda q, k, v: memory_efficient_attention(
        q, k, v, attn_mask=mask, **params), arrays, ["q", "k", "v"], ["g"])
