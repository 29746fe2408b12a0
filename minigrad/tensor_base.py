"""TensorBase: what makes a Tensor look like an array to Python, and nothing of autograd.

Shape, dtype and device; ``len`` and iteration; conversion to NumPy and to Python numbers;
printing; ``x[index] = value``.  ``Tensor`` (tensor.py) adds the graph: ``requires_grad``,
``grad``, ``grad_fn``, ``backward`` and the operators.  Nothing here records a node.
"""
from . import backend
from .grad_mode import grad_enabled

__all__ = ["TensorBase"]


class TensorBase:
    __slots__ = ()             # the fields are Tensor's: data, _requires_grad, _grad, _node, ...

    @property
    def shape(self): return tuple(self.data.shape)

    @property
    def ndim(self): return self.data.ndim

    @property
    def dtype(self): return self.data.dtype

    def size(self, dim=None):
        """The shape (a tuple), or the size of one dim, as PyTorch's ``x.size(0)``."""
        return self.shape if dim is None else self.shape[dim]

    def numel(self): return int(self.data.size)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        """The sub-tensors along dim 0, as ``x[0], x[1], ...``."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor; use .item() for its value")
        return (self[i] for i in range(self.shape[0]))

    @property
    def device(self): return backend.device_of(self.data)

    @property
    def xp(self):
        """The array module doing this tensor's math (numpy or cupy)."""
        return backend.array_module(self.data)

    def numpy(self):
        """A host NumPy array (a copy from the GPU; the array itself on the CPU)."""
        if self.requires_grad:
            raise RuntimeError("numpy(): call .detach().numpy() on a tensor that requires "
                               "grad, so the graph is not silently left behind")
        return backend.to_numpy(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors convert to a Python "
                             f"number, got shape {self.shape}")
        return backend.to_numpy(self.data).reshape(()).item()

    def tolist(self): return backend.to_numpy(self.data).tolist()

    def __repr__(self):
        body = backend.format_array(backend.to_numpy(self.data), prefix="tensor(")
        extras = []
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.dtype != backend.float32:
            extras.append(f"dtype={self.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name}Backward>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extras) + ")"

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor of shape {self.shape} is "
                               "ambiguous; use .any() or .all()")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if backend.is_floating(self.dtype):
            raise TypeError("only integer tensors can be used as an index")
        return int(self.item())

    def __setitem__(self, index, value):
        """``x[index] = value`` in place, where PyTorch allows it without autograd: on a
        tensor that does not require grad, or on a leaf under ``no_grad()`` (e.g. to
        initialise a weight).  No version counter here: changing a tensor that an op already
        saved for its backward changes that gradient silently."""
        if self._requires_grad and (grad_enabled() or self._node is not None):
            raise RuntimeError(
                "x[index] = value on a tensor that requires grad: in-place assignment is not "
                "recorded by autograd; do it under minigrad.no_grad() (a leaf, e.g. to "
                "initialise it), or build a new tensor with minigrad.where(mask, value, x)")
        value = value.data if isinstance(value, TensorBase) else value
        if isinstance(index, TensorBase):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, TensorBase) else i for i in index)
        self.data[index] = value
