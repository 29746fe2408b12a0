"""Tensor: a backend array, plus what autograd needs to send gradients back to it.

A Tensor holds ``data`` (a NumPy or CuPy array), ``requires_grad``, ``grad`` (a Tensor,
None until a backward reaches it) and, if an op made it, the graph node of that op
(``grad_fn``, a Context) and which output of it this is.  All math lives in Functions
(``minigrad/ops``); the operators and methods here are thin calls into them.  What makes a
tensor look like an array to Python (shape, printing, ``len``, ``float(x)``, ``x[i] = v``)
is in ``tensor_base.py``: none of it takes part in a backward.
"""
from . import autograd, backend, hooks
from .tensor_base import TensorBase

__all__ = ["Tensor"]


class Tensor(TensorBase):
    __slots__ = ("data", "_requires_grad", "_grad", "_node", "_index", "_hooks",
                 "__weakref__")
    __array_priority__ = 1000      # numpy_array + tensor -> Tensor.__radd__

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        if isinstance(data, Tensor):
            # a Tensor keeps its device (Parameter(minigrad.zeros(3, device="cpu")) stays on the
            # CPU, as nn.Parameter does); its host array alone would go to the default device
            device = data.device if device is None else device
            data = data.data
        if dtype is not None:
            dtype = backend.dtype_of(dtype)
        elif not backend.is_array(data) and not hasattr(data, "dtype"):   # numbers, lists
            kind = backend.CPU.xp.asarray(data).dtype.kind
            if kind == "f":
                dtype = backend.float32          # the default dtype, as in PyTorch
            elif kind not in "iub":
                raise TypeError(f"Tensor: cannot make a tensor from {type(data).__name__} "
                                f"of dtype kind {kind!r}; expected numbers or arrays")
        if device is None and backend.is_array(data) and backend.device_of(data) != "cpu":
            device = backend.device_of(data)     # a device array stays where it is; host data
        self.data = backend.as_array(data, dtype=dtype, device=device)   # go to the default
        if self.data.dtype.kind not in "fiub":       # object, str, complex, datetime arrays
            raise TypeError(f"Tensor: cannot make a tensor from an array of dtype "
                            f"{self.data.dtype}; expected numbers (float, int or bool)")
        self._grad = None
        self._node = None
        self._index = 0
        self._hooks = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _from_op(cls, data, node, index):
        """Wrap an op's output array without copying or converting it."""
        t = cls.__new__(cls)
        t.data, t._grad, t._node, t._index, t._hooks = data, None, node, index, None
        t._requires_grad = node is not None
        return t

    # ------------------------------------------------------------------ graph
    @property
    def is_leaf(self): return self._node is None

    @property
    def grad_fn(self): return self._node          # the node of the op that made this tensor

    # ------------------------------------------------------------------ conversion
    def detach(self):
        """The same data, cut from the graph."""
        return Tensor._from_op(self.data, None, 0)

    def to(self, device=None, dtype=None):
        """This tensor on ``device`` and/or as ``dtype`` (differentiable)."""
        return ops.to(self, device=device, dtype=dtype)

    def cpu(self): return self.to("cpu")
    def cuda(self): return self.to("cuda")
    def float(self): return self.to(dtype="float32")
    def double(self): return self.to(dtype="float64")
    def long(self): return Tensor._from_op(self.data.astype(backend.int64), None, 0)
    def clone(self): return ops.clone(self)

    # ------------------------------------------------------------------ autograd
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, requires_grad):        # t.requires_grad = True checks as below
        self.requires_grad_(requires_grad)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not backend.is_floating(self.dtype):
            raise TypeError(f"requires_grad: only floating-point tensors can require "
                            f"gradients, got dtype {self.dtype}; create it with "
                            "dtype='float32' or 'float64'")
        if not requires_grad and self._node is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use .detach()")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self):
        """d(loss)/d(self) after a backward (a Tensor of self's shape), or None."""
        return self._grad

    @grad.setter
    def grad(self, grad):
        # a NumPy/CuPy array (p.grad = my_array) becomes a Tensor like self, so the optimiser
        # finds what backward would have left there
        if grad is not None and not isinstance(grad, Tensor):
            if not (backend.is_array(grad) or hasattr(grad, "__array__")):
                raise TypeError(f"grad: expected a Tensor, an array or None, got "
                                f"{type(grad).__name__}")
            grad = Tensor._from_op(backend.as_array(grad, dtype=self.dtype,
                                                    device=self.device), None, 0)
        if grad is not None and grad.shape != self.shape:
            raise RuntimeError(f"grad: assigned a gradient of shape {grad.shape} to a tensor "
                               f"of shape {self.shape}; expected the same shape")
        self._grad = grad

    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf behind self.

        create_graph: must stay False.  Higher-order gradients (a graph of the backward
        itself, for grad-of-grad) are not supported: every backward here runs on raw arrays,
        so the gradients it makes have no graph.  True raises NotImplementedError.
        """
        autograd.backward(self, gradient, retain_graph=retain_graph,
                          create_graph=create_graph)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        hooks.retain_grad(self)

    def register_hook(self, hook):
        """``hook(grad) -> new grad or None`` runs on the gradient flowing into self."""
        return hooks.register_hook(self, hook)

    def _accumulate(self, grad, run_hooks=True):
        """leaf.grad += grad (a new array: never changes an array someone else holds)."""
        if run_hooks and self._hooks:
            for hook in self._hooks:
                grad = hooks.run_hook(hook, grad)
        if self.grad is not None:
            grad = self.grad.data + grad
        if grad.dtype != self.data.dtype:
            grad = grad.astype(self.data.dtype)
        self._grad = Tensor._from_op(grad, None, 0)

    # ------------------------------------------------------------------ operators
    # thin calls into the ops (minigrad/ops), where forward and backward are written
    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.sub(self, other)
    def __rsub__(self, other): return ops.sub(other, self)
    def __mul__(self, other): return ops.mul(self, other)
    def __rmul__(self, other): return ops.mul(other, self)
    def __truediv__(self, other): return ops.div(self, other)
    def __rtruediv__(self, other): return ops.div(other, self)
    def __pow__(self, other): return ops.pow(self, other)
    def __rpow__(self, other): return ops.pow(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __neg__(self): return ops.neg(self)
    def __abs__(self): return ops.abs(self)
    def __getitem__(self, index): return ops.getitem(self, index)
    def __lt__(self, other): return ops.lt(self, other)
    def __le__(self, other): return ops.le(self, other)
    def __gt__(self, other): return ops.gt(self, other)
    def __ge__(self, other): return ops.ge(self, other)
    def __eq__(self, other): return ops.eq(self, other)          # elementwise, as in PyTorch
    def __ne__(self, other): return ops.ne(self, other)
    __hash__ = object.__hash__                                     # so: identity hashing

    def where(self, condition, other): return ops.where(condition, self, other)   # as PyTorch

    @property
    def T(self): return ops.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self): return ops.transpose(self, -2, -1)

from . import ops  # noqa: E402  (the ops need Tensor: imported once it exists)

for _name in ops.TENSOR_METHODS:          # x.sum(), x.reshape(...), x.exp(): the ops as methods
    if _name not in Tensor.__dict__:
        setattr(Tensor, _name, getattr(ops, _name))
