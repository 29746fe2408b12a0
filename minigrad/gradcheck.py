"""Gradient checking: the analytic gradient of a backward against central differences.

For a function f with outputs y, pick a random upstream gradient R (one per output) and
look at the scalar L = sum(y * R).  The analytic dL/dx comes from ``backward(R)``; the
numeric one from

    dL/dx[i] ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)

whose error is O(eps^2).  In float64 with eps = 1e-6 the two agree to about 1e-8; in
float32 rounding alone is ~1e-3, which would hide real bugs: hence float64 only.  A random
R (not all ones) catches transposed or mixed-up gradients that a plain sum would hide.
"""
import numpy as _host_np   # host-side only: the random upstream gradient and error maths

from . import backend
from .autograd import no_grad, backward
from .tensor import Tensor

__all__ = ["gradcheck", "numerical_grad", "rel_error", "GradcheckError"]


class GradcheckError(AssertionError):
    """A gradient check failed; the message names the input, index and both values."""


def rel_error(a, b):
    """max |a - b| / max(|a| + |b|, 1e-8): 0 for equal arrays, ~1 for unrelated ones."""
    a = _to_host(a)
    b = _to_host(b)
    return float(_host_np.max(_host_np.abs(a - b) / _host_np.maximum(
        1e-8, _host_np.abs(a) + _host_np.abs(b)))) if a.size else 0.0


def _to_host(x):
    if isinstance(x, Tensor):
        x = x.data
    return backend.to_numpy(x) if backend.is_array(x) else _host_np.asarray(x)


def _outputs(fn, inputs):
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and backend.is_floating(o.dtype)]


def _upstream(outputs, seed):
    rng = _host_np.random.default_rng(seed)
    return [backend.as_array(rng.standard_normal(o.shape), dtype=o.dtype, device=o.device)
            for o in outputs]


def _loss(fn, inputs, upstream):
    """L = sum_k sum(y_k * R_k), computed on raw arrays (no ops recorded)."""
    with no_grad():
        outputs = _outputs(fn, inputs)
    return sum(float((o.data * r).sum()) for o, r in zip(outputs, upstream))


def numerical_grad(fn, inputs, eps=1e-6, upstream=None, seed=0):
    """Central-difference dL/dx for every input that requires grad (None for others).

    L = sum(fn(*inputs) * upstream); ``upstream`` defaults to a seeded random normal array.
    """
    if upstream is None:
        with no_grad():
            upstream = _upstream(_outputs(fn, inputs), seed)
    grads = []
    for x in inputs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            grads.append(None)
            continue
        flat = x.data.reshape(-1)            # a view: writing to it moves x
        grad = _host_np.zeros(x.data.size)
        for i in range(flat.size):
            original = flat[i].item()
            flat[i] = original + eps
            plus = _loss(fn, inputs, upstream)
            flat[i] = original - eps
            minus = _loss(fn, inputs, upstream)
            flat[i] = original
            grad[i] = (plus - minus) / (2 * eps)
        grads.append(grad.reshape(x.shape))
    return grads


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """Check the backward of ``fn`` at ``inputs`` for every input that requires grad.

    fn: Tensors -> Tensor or tuple of Tensors.  inputs: a sequence; the Tensors among them
    that require grad must be float64.  An element passes when
    |analytic - numeric| <= atol + rtol |numeric|.  On failure raises GradcheckError naming
    the input, the worst element's index, both values and the relative error (or returns
    False with ``raise_exception=False``).  Also fails if backward changed its incoming
    gradient array in place.
    """
    inputs = list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; nothing to check")
    for i in checked:
        if not inputs[i].is_leaf:
            raise ValueError(f"gradcheck: input {i} was made by an op ({inputs[i].grad_fn.name}); "
                             "inputs must be leaves (its gradient would go past it to its "
                             "own inputs): pass x.detach().requires_grad_()")
        if inputs[i].dtype != backend.float64:
            raise TypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; gradient "
                            "checks need float64 (call .double()), float32 rounding hides bugs")

    saved_grads = [inputs[i].grad for i in checked]
    for i in checked:
        inputs[i].grad = None
    outputs = _outputs(fn, inputs)
    upstream = _upstream(outputs, seed)
    upstream_before = [r.copy() for r in upstream]
    reached = [k for k, o in enumerate(outputs) if o.requires_grad]
    for n, k in enumerate(reached):
        backward(outputs[k], upstream[k], retain_graph=n < len(reached) - 1)
    changed = [k for k in range(len(upstream))
               if not bool((upstream[k] == upstream_before[k]).all())]
    analytic = {i: (_to_host(inputs[i].grad) if inputs[i].grad is not None
                    else _host_np.zeros(inputs[i].shape)) for i in checked}
    for i, g in zip(checked, saved_grads):
        inputs[i].grad = g

    def fail(message):
        if raise_exception:
            raise GradcheckError(message)
        return False

    if changed:
        return fail(f"gradcheck: backward changed its incoming gradient of output "
                    f"{changed[0]} in place; a backward must not modify its grad argument")

    numeric = numerical_grad(fn, inputs, eps=eps, upstream=upstream_before)
    for i in checked:
        a, n = analytic[i], numeric[i]
        bad = _host_np.abs(a - n) > atol + rtol * _host_np.abs(n)
        if bad.any():
            rel = _host_np.abs(a - n) / _host_np.maximum(_host_np.abs(a) + _host_np.abs(n), 1e-12)
            rel = _host_np.where(bad, rel, -1)
            worst = _host_np.unravel_index(int(_host_np.argmax(rel)), a.shape)
            return fail(f"gradcheck failed for input {i} (shape {tuple(a.shape)}) at index "
                        f"{tuple(int(w) for w in worst)}: analytic {a[worst]:.6g}, numeric "
                        f"{n[worst]:.6g}, relative error {rel[worst]:.2e} "
                        f"({int(bad.sum())} of {a.size} elements outside atol={atol}, rtol={rtol})")
    return True
