"""hw2.gru_step: gru_step_forward then gru_step_backward."""
from ._engine import case

N, H = 3, 4


def cases(rng):
    return [case(f"gru step, N={N} H={H}",
                 dict(x_proj=rng.standard_normal((N, 3 * H)), h_prev=rng.standard_normal((N, H)),
                      w_hh_t=0.5 * rng.standard_normal((H, 3 * H)), b_hh=rng.standard_normal(3 * H),
                      grad_h=rng.standard_normal((N, H))))]


def run(case, params, arrays):
    from layers.gru import gru_step_backward, gru_step_forward
    grad_h = arrays["grad_h"].copy()
    h, cache = gru_step_forward(arrays["x_proj"], arrays["h_prev"], arrays["w_hh_t"], arrays["b_hh"])
    grad_x_proj, grad_h_proj, grad_h_prev = gru_step_backward(grad_h, cache)
    return {"h": h, "grad_x_proj": grad_x_proj, "grad_h_proj": grad_h_proj,
            "grad_h_prev": grad_h_prev, "grad_h_after": grad_h}
