"""hw2.bptt: RecurrentSequence forward and backward, with the step backwards replaced by
numerical ones inside the sandbox (so only the BPTT driver is graded)."""
from ._engine import case, values_and_grads

GATES = {"rnn_tanh": 1, "lstm": 4, "gru": 3}
T, N, D, H = 3, 2, 3, 2


def cases(rng):
    found = []
    for mode, gates in GATES.items():
        for reverse in (False, True):
            G = gates * H
            inputs = dict(x=rng.standard_normal((T, N, D)), h0=rng.standard_normal((N, H)),
                          w_ih=rng.standard_normal((G, D)), w_hh=rng.standard_normal((G, H)),
                          b_ih=rng.standard_normal(G), b_hh=rng.standard_normal(G),
                          g_out=rng.standard_normal((T, N, H)), g_h=rng.standard_normal((N, H)))
            if mode == "lstm":
                inputs.update(c0=rng.standard_normal((N, H)), g_c=rng.standard_normal((N, H)))
            found.append(case(f"{mode}, reverse={reverse}, T={T} N={N} D={D} H={H}", inputs,
                              {"mode": mode, "reverse": reverse}, rtol=1e-6, atol=1e-8))
    return found


def run(case, params, arrays):
    import layers.recurrent_sequence as sequence

    from ._recurrent import install_numeric_step_backwards
    install_numeric_step_backwards(sequence)
    lstm = params["mode"] == "lstm"
    names = ["x", "h0", *(["c0"] if lstm else []), "w_ih", "w_hh", "b_ih", "b_hh"]

    def fn(x, h0, *rest):
        c0 = rest[0] if lstm else None
        w_ih, w_hh, b_ih, b_hh = rest[1:] if lstm else rest
        return sequence.RecurrentSequence.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh,
                                                mode=params["mode"], reverse=params["reverse"])
    return values_and_grads(fn, arrays, names, ["g_out", "g_h", *(["g_c"] if lstm else [])])
