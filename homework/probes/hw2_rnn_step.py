"""hw2.rnn_step: rnn_step_forward then rnn_step_backward, tanh and relu."""
from ._engine import case

N, H = 3, 4


def cases(rng):
    return [case(f"rnn step, {nl}, N={N} H={H}",
                 dict(x_proj=rng.standard_normal((N, H)), h_prev=rng.standard_normal((N, H)),
                      w_hh_t=0.5 * rng.standard_normal((H, H)), grad_h=rng.standard_normal((N, H))),
                 {"nonlinearity": nl}) for nl in ("tanh", "relu")]


def run(case, params, arrays):
    from layers.rnn import rnn_step_backward, rnn_step_forward
    grad_h = arrays["grad_h"].copy()
    h, cache = rnn_step_forward(arrays["x_proj"], arrays["h_prev"], arrays["w_hh_t"],
                                params["nonlinearity"])
    grad_a, grad_h_prev = rnn_step_backward(grad_h, cache)
    return {"h": h, "grad_a": grad_a, "grad_h_prev": grad_h_prev, "grad_h_after": grad_h}
