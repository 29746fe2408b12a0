"""hw1.adam: five Adam/AdamW steps (gradients fixed per step), every variant of the update."""
import numpy as np

from ._engine import case

SETTINGS = [("Adam", dict(lr=0.01)),
            ("Adam", dict(lr=0.01, betas=[0.8, 0.9], eps=1e-6, weight_decay=0.1)),
            ("Adam", dict(lr=0.01, amsgrad=True)),
            ("AdamW", dict(lr=0.01, weight_decay=0.3, amsgrad=True))]
STEPS = 5


def cases(rng):
    found = []
    for name, kwargs in SETTINGS:
        found.append(case(f"{STEPS} steps of {name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})",
                          dict(p=rng.standard_normal((3, 4)),
                               grads=rng.standard_normal((STEPS, 3, 4))),
                          {"optimizer": name, "kwargs": kwargs}, rtol=1e-9, atol=1e-12))
    return found


def run(case, params, arrays):
    import minigrad
    from minigrad import optim
    from minigrad.nn import Parameter
    kwargs = dict(params["kwargs"])
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    p = Parameter(minigrad.tensor(arrays["p"].copy(), dtype="float64"))
    opt = getattr(optim, params["optimizer"])([p], **kwargs)
    trajectory = []
    for g in arrays["grads"]:
        # the gradient depends on p, so a wrong step changes every later one
        p.grad = minigrad.tensor(g + 0.1 * p.detach().numpy() ** 3, dtype="float64")
        opt.step()
        trajectory.append(np.array(p.detach().numpy(), dtype=np.float64))
    return {"p_after_each_step": np.stack(trajectory)}
