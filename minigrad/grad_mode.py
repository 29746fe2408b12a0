"""Grad mode and anomaly detection: the switches around the backward pass.

``no_grad`` (ops record nothing), ``enable_grad``, ``set_grad_enabled(mode)`` and
``detect_anomaly`` (raise at the first op that makes a NaN or Inf), as in PyTorch.
``Function.apply`` reads ``_state`` once per op.
"""
import contextlib

__all__ = ["no_grad", "enable_grad", "grad_enabled", "set_grad_enabled", "detect_anomaly",
           "anomaly_check"]

_state = {"grad": True, "anomaly": False}


def grad_enabled():
    """True when ops record the graph (outside ``no_grad``)."""
    return _state["grad"]


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager / decorator: record the graph or not inside it."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        self.previous = _state["grad"]
        _state["grad"] = self.mode

    def __exit__(self, *exc):
        _state["grad"] = self.previous
        return False


class no_grad(set_grad_enabled):
    """``with minigrad.no_grad():`` or ``@minigrad.no_grad()``: ops record nothing."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record the graph again inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


class detect_anomaly(contextlib.ContextDecorator):
    """Raise at the first op whose forward or backward produces NaN or Inf.

    Costs one ``isfinite`` per op output: switch it on while debugging only.
    """

    def __enter__(self):
        self.previous = _state["anomaly"]
        _state["anomaly"] = True

    def __exit__(self, *exc):
        _state["anomaly"] = self.previous
        return False


def _shape_of(x):
    return tuple(getattr(x, "shape", ()))


def anomaly_check(op_name, phase, arrays, inputs):
    """Under ``detect_anomaly``: raise if any array in ``arrays`` holds NaN or Inf."""
    if not _state["anomaly"]:
        return
    from .backend import array_module, is_array
    for index, array in enumerate(arrays):
        if array is None or not is_array(array):
            continue
        xp = array_module(array)
        if not bool(xp.isfinite(array).all()):
            shapes = ", ".join(str(_shape_of(a)) for a in inputs if a is not None)
            raise RuntimeError(
                f"detect_anomaly: {op_name} {phase} produced NaN or Inf in "
                f"{'output' if phase == 'forward' else 'gradient'} {index} of shape "
                f"{_shape_of(array)} (inputs of shapes {shapes or 'none'})")
