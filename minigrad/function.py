"""Function: one differentiable operation as a pair of hand-written passes.

Every op in minigrad is a subclass of :class:`Function` with two static methods side by side::

    class Tanh(Function):
        @staticmethod
        def forward(ctx, x):                 # x: any shape, a backend array
            y = ctx.xp.tanh(x)
            ctx.save_for_backward(y)         # d tanh(x)/dx = 1 - tanh(x)^2: keep y
            return y

        @staticmethod
        def backward(ctx, grad):             # grad: dL/dy, same shape as y
            (y,) = ctx.saved
            return grad * (1 - y * y)        # dL/dx

    y = Tanh.apply(x)                        # Tensors in, Tensor out, node recorded

``forward`` works on raw backend arrays (never Tensors) and returns an array or a tuple
of arrays.  ``backward`` receives one upstream gradient per output and returns one
gradient per positional input of ``forward`` (``None`` where an input is not a Tensor or
needs no gradient).  Keyword arguments are settings, never differentiated.

``apply`` unwraps Tensors, checks they live on one device, runs forward, and, when
gradients are wanted, records the context as the graph node of the outputs.
"""
from . import backend
from .autograd import anomaly_check, _state
from .tensor import Tensor

__all__ = ["Function", "Context"]


class Context:
    """What forward leaves for backward (saved arrays, settings ``ctx.foo = ...``); the node.

    ``edges``: one per input of forward, where its gradient goes: ``None`` (not a Tensor, or
    it needs no gradient), or ``(node, index)``, output ``index`` of the node (Context) of the
    op that made the input; for a leaf Tensor, ``(leaf, 0)``: its ``.grad`` accumulates.  A
    node keeps no input Tensors, so the graph holds exactly the arrays that backwards saved,
    as PyTorch's does.  Backward releases them (``saved = None``) unless ``retain_graph``.
    """
    __slots__ = ("fn", "xp", "saved", "needs_input_grad", "edges", "output_meta", "out_hooks",
                 "__dict__", "__weakref__")     # fixed fields (cheap), and any ctx.foo a forward sets

    def __init__(self, fn, xp, needs_input_grad):
        self.fn = fn
        self.xp = xp
        self.saved = ()
        self.needs_input_grad = needs_input_grad   # known before forward: save only what is needed
        self.edges = ()
        self.output_meta = ()       # ((shape, dtype) of each output): to build zero grads
        self.out_hooks = None       # {output index: [hook, ...]} for register_hook/retain_grad

    def save_for_backward(self, *arrays):
        """Keep exactly what backward needs; released after backward."""
        self.saved = arrays

    def release(self):
        self.saved = None

    @property
    def released(self):
        return self.saved is None

    @property
    def name(self):
        return self.fn.__name__

    def __repr__(self):
        return f"<{self.name} backward>"


class Function:
    """Base class of every op: subclass and write ``forward`` and ``backward``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        # once per op: this loop is the engine's overhead, so it is one plain pass
        arrays, needs, array_type = [], [], None
        for arg in args:
            if isinstance(arg, Tensor):
                if array_type is not None and type(arg.data) is not array_type:
                    _device_error(cls, args)
                array_type = type(arg.data)
                arrays.append(arg.data)
                needs.append(arg.requires_grad)
            else:
                arrays.append(arg)
                needs.append(False)
        record = _state["grad"] and True in needs     # grad mode on, and some input wants one
        needs = tuple(needs) if record else (False,) * len(args)
        ctx = Context(cls, backend.module_of_type(array_type), needs)

        outputs = cls.forward(ctx, *arrays, **kwargs)
        single = type(outputs) is not tuple
        outputs = (outputs,) if single else outputs
        if not all(type(out) is array_type for out in outputs):
            # NumPy reductions to 0-d give NumPy scalars, not arrays: keep Tensor.data an array
            outputs = tuple(out if backend.is_array(out) else ctx.xp.asarray(out)
                            for out in outputs)
        if _state["anomaly"]:
            anomaly_check(cls.__name__, "forward", outputs, arrays)

        if record:
            ctx.edges = tuple([_edge(arg) if need else None for arg, need in zip(args, needs)])
            ctx.output_meta = tuple([(out.shape, out.dtype) for out in outputs])
        # only float outputs carry a gradient (argmax indices, masks do not)
        results = [Tensor._from_op(out, ctx if record and out.dtype.kind == "f" else None, index)
                   for index, out in enumerate(outputs)]
        return results[0] if single else tuple(results)


def _edge(tensor):
    """Where the gradient of an input goes: (the node that made it, which output), or
    (the leaf itself, 0)."""
    if tensor._node is None:
        return (tensor, 0)
    return (tensor._node, tensor._index)


def _device_error(fn, args):
    shapes = ", ".join(f"{a.shape} on {a.device}" for a in args if isinstance(a, Tensor))
    raise RuntimeError(f"{fn.__name__}: all tensors must be on one device, got {shapes}; "
                       "move them with .to(device) first")
