"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), PyTorch's rules."""
import math

from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """For each parameter p with gradient g, at step t = 1, 2, ...:

        g = g + weight_decay * p                  (Adam: L2 added to the gradient)
        m = beta1 m + (1 - beta1) g               first moment
        v = beta2 v + (1 - beta2) g^2             second moment
        v_max = max(v_max, v); use v_max for v    (amsgrad only)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The bias corrections undo the zero start of m and v (E[m_t] = (1 - beta1^t) E[g]).
    """
    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, maximize=False):
        if lr < 0 or eps < 0 or weight_decay < 0:
            raise ValueError(f"{type(self).__name__}: lr, eps and weight_decay must be "
                             f">= 0, got lr={lr}, eps={eps}, weight_decay={weight_decay}")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{type(self).__name__}: betas must be in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def step(self):
        for group in self.param_groups:
            lr, eps, decay = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for p, grad in self._params_with_grad(group):
                xp = p.xp
                if group["maximize"]:
                    grad = -grad
                if decay != 0:
                    if self.decoupled:
                        p.data *= 1 - lr * decay        # AdamW: shrink p, outside Adam
                    else:
                        grad = grad + decay * p.data    # Adam: L2 in the gradient
                state = self.state.setdefault(p, {})
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = xp.zeros_like(p.data)
                    state["exp_avg_sq"] = xp.zeros_like(p.data)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = xp.zeros_like(p.data)
                state["step"] += 1
                t = state["step"]
                ### BEGIN SOLUTION hw1.adam
                ### TODO: one Adam update of p.data (any shape) in place, from grad (same shape,
                ###       weight decay already in it) at step t = 1, 2, ...: update the moments
                ###       state["exp_avg"] (m) and state["exp_avg_sq"] (v) in place,
                ###       m = beta1 m + (1 - beta1) grad and v = beta2 v + (1 - beta2) grad^2;
                ###       with amsgrad keep state["max_exp_avg_sq"] = max(itself, v) and use it as v;
                ###       then p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m *= beta1
                m += (1 - beta1) * grad
                v *= beta2
                v += (1 - beta2) * grad * grad
                if group["amsgrad"]:
                    v_max = state["max_exp_avg_sq"]
                    v_max[...] = xp.maximum(v_max, v)
                    v = v_max
                step_size = lr / (1 - beta1 ** t)
                denom = xp.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
                p.data -= step_size * (m / denom)
                ### END SOLUTION


class AdamW(Adam):
    """Adam with decoupled weight decay: p = p (1 - lr weight_decay), then the Adam step
    without any L2 term in the gradient (so decay is not rescaled by 1/sqrt(v))."""
    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
