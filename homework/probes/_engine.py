"""Sandbox-side helpers of minigrad's probes: leaves in, values and gradients out."""
import numpy as np


def leaf(values, requires_grad=True):
    import minigrad
    return minigrad.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def host(t):
    return np.array(t.detach().numpy(), dtype=np.float64)


def values_and_grads(fn, arrays, inputs, upstream, **kwargs):
    """Leaves for `inputs` (names in `arrays`), outputs = fn(*leaves, **kwargs), then each
    output's backward with its upstream gradient (names in `upstream`, one per output; the
    others retain the graph). Returns out<i> and grad_<input> arrays."""
    leaves = [leaf(arrays[name]) for name in inputs]
    outputs = fn(*leaves, **kwargs)
    outputs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
    result = {f"out{i}": host(o) for i, o in enumerate(outputs)}
    for i, (out, name) in enumerate(zip(outputs, upstream)):
        out.backward(leaf(arrays[name], requires_grad=False), retain_graph=i < len(upstream) - 1)
    for name, t in zip(inputs, leaves):
        if t.grad is not None:
            result[f"grad_{name}"] = host(t.grad)
    return result


def case(name, inputs, params=None, **settings):
    return dict(name=name, inputs=inputs, params=params or {}, **settings)
