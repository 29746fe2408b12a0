"""hw2.lstm_step: lstm_step_forward then lstm_step_backward; every output and gradient."""
from ._engine import case

N, H = 3, 4


def cases(rng):
    def inputs():
        return dict(x_proj=rng.standard_normal((N, 4 * H)), h_prev=rng.standard_normal((N, H)),
                    c_prev=rng.standard_normal((N, H)), w_hh_t=0.5 * rng.standard_normal((H, 4 * H)),
                    grad_h=rng.standard_normal((N, H)), grad_c=rng.standard_normal((N, H)))
    return [case(f"lstm step, N={N} H={H}", inputs()),
            case("lstm step, second draw", inputs(), visibility="hidden")]


def run(case, params, arrays):
    from layers.lstm import lstm_step_backward, lstm_step_forward
    grad_h, grad_c = arrays["grad_h"].copy(), arrays["grad_c"].copy()
    h, c, cache = lstm_step_forward(arrays["x_proj"], arrays["h_prev"], arrays["c_prev"],
                                    arrays["w_hh_t"])
    grad_gates, grad_h_prev, grad_c_prev, grad_c_total = lstm_step_backward(grad_h, grad_c, cache)
    return {"h": h, "c": c, "grad_gates": grad_gates, "grad_h_prev": grad_h_prev,
            "grad_c_prev": grad_c_prev, "grad_c_total": grad_c_total,
            "grad_h_after": grad_h, "grad_c_after": grad_c}
