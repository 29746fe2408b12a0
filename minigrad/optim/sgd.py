"""Stochastic gradient descent with momentum, exactly PyTorch's rule."""
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """For each parameter p with gradient g (t counts steps from 1):

        g   = g + weight_decay * p                       (L2 penalty)
        buf = g                               at t = 1   (momentum != 0)
        buf = momentum * buf + (1 - dampening) * g       later
        g   = g + momentum * buf   if nesterov   else   buf
        p   = p - lr * g
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, maximize=False):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(f"SGD: lr, momentum and weight_decay must be >= 0, got "
                             f"lr={lr}, momentum={momentum}, weight_decay={weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def step(self):
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for p, grad in self._params_with_grad(group):
                if group["maximize"]:
                    grad = -grad
                if group["weight_decay"] != 0:
                    grad = grad + group["weight_decay"] * p.data
                if momentum != 0:
                    state = self.state.setdefault(p, {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        # a copy: grad may be the very array another leaf holds
                        buf = state["momentum_buffer"] = grad.copy()
                    else:
                        buf *= momentum
                        buf += (1 - group["dampening"]) * grad
                    grad = grad + momentum * buf if group["nesterov"] else buf
                p.data -= lr * grad
