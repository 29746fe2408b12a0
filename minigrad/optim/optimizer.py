"""Optimizer: the base of SGD, Adam, AdamW, with PyTorch's param_groups and state.

``param_groups`` is a list of dicts, each with its ``params`` (a list of Parameters) and
its hyperparameters (``lr``, ...); a scheduler changes ``group["lr"]`` between steps.
``state`` maps each Parameter to a dict of its running buffers (momentum, Adam moments).
Updates write into each parameter's own array (``p.data``), so every Module and view
holding the parameter sees the new values.
"""
from .. import backend
from ..tensor import Tensor

__all__ = ["Optimizer"]


class Optimizer:
    """Subclasses set ``defaults`` and write ``step()``."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of "
                            "Parameters or of dicts, got a single Tensor; wrap it in a list")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict {"params": [...], "lr": ..., ...}; missing settings take the defaults."""
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor) or not p.is_leaf:
                raise TypeError(f"{type(self).__name__}: can only optimise leaf Tensors, "
                                f"got {type(p).__name__}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than "
                             "one parameter group")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients (None, as PyTorch's default), or set them to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:   # a new zero array: the old one may be shared with another leaf
                    p.grad = Tensor._from_op(p.xp.zeros_like(p.grad.data), None, 0)

    def step(self):
        raise NotImplementedError

    def _params_with_grad(self, group):
        for p in group["params"]:
            if p.grad is not None:
                yield p, p.grad.data

    # ------------------------------------------------------------------ state dict
    def state_dict(self):
        """{"state": {index: {name: host array or number}}, "param_groups": [...]}.

        Parameters are named by their position across all groups, as in PyTorch, so the
        dict can be loaded into a new optimiser over a new model of the same structure.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": ids})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {
                        k: backend.to_numpy(v).copy() if backend.is_array(v) else v
                        for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take hyperparameters and buffers from ``state_dict`` (arrays moved to each
        parameter's device and dtype)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(g["params"]) != len(own["params"])
                for g, own in zip(groups, self.param_groups)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the saved groups have "
                             f"sizes {[len(g['params']) for g in groups]}, this optimiser's "
                             f"{[len(g['params']) for g in self.param_groups]}")
        by_index = {}
        for saved, own in zip(groups, self.param_groups):
            for i, p in zip(saved["params"], own["params"]):
                by_index[i] = p
            own.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {}
        for i, buffers in state_dict["state"].items():
            p = by_index[int(i)]
            self.state[p] = {
                k: backend.as_array(v, dtype=p.dtype, device=p.device)
                if hasattr(v, "shape") and getattr(v, "ndim", 0) > 0 else _number(v)
                for k, v in buffers.items()}


def _number(value):
    """A 0-d array or NumPy scalar (e.g. a loaded "step") as a Python number."""
    return value.item() if hasattr(value, "item") else value
