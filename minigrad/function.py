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
from .autograd import anomaly_check, shared, _state
from .tensor import Tensor

__all__ = ["Function", "Context"]


class Context:
    """What forward leaves for backward: saved arrays and settings (``ctx.foo = ...``).

    Also the graph node.  ``edges`` say where each input's gradient goes: ``None`` (not a
    Tensor, or needs no gradient), the leaf Tensor itself (its ``.grad`` accumulates), the
    node that made it (output 0, the common case) or ``(node, output index)``.  A node keeps
    no input Tensors, so the graph holds on to exactly the arrays that backwards saved, as
    PyTorch's does.  After a backward the saved arrays are released (``saved`` becomes None)
    unless ``retain_graph=True``.
    """
    # One node per op is made on every call: slots make the fixed fields cheap to set, and
    # "__dict__" still lets a forward keep any setting it likes (ctx.dims = ...).
    __slots__ = ("fn", "xp", "saved", "needs_input_grad", "edges", "output_meta",
                 "out_hooks", "__dict__")

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
        # This runs once per op, so it is the engine's overhead: one pass over the inputs,
        # no per-call imports or generators, and nothing recorded when no gradient is wanted.
        arrays, needs, array_type = [], [], None
        for arg in args:
            if isinstance(arg, Tensor):
                data = arg.data
                if array_type is None:
                    array_type = type(data)
                elif type(data) is not array_type:
                    _device_error(cls, args)
                arrays.append(data)
                needs.append(arg.requires_grad)
            else:
                arrays.append(arg)
                needs.append(False)
        record = _state["grad"] and True in needs       # grad mode on, and some input wants one
        needs = tuple(needs) if record else (False,) * len(needs)
        ctx = Context(cls, backend.module_of_type(array_type), needs)

        outputs = cls.forward(ctx, *arrays, **kwargs)
        single = type(outputs) is not tuple
        if single:
            outputs = (outputs,)
        for out in outputs:
            # NumPy reductions to 0-d give NumPy scalars, not arrays: keep Tensor.data an
            # array (the type test first: it is the common case, is_array a slower isinstance)
            if type(out) is not array_type and not backend.is_array(out):
                outputs = tuple(o if backend.is_array(o) else ctx.xp.asarray(o)
                                for o in outputs)
                break
        if _state["anomaly"]:
            anomaly_check(cls.__name__, "forward", outputs, arrays)

        if not record:
            if single:
                return _wrap(outputs[0], None, 0)
            return tuple(_wrap(out, None, 0) for out in outputs)
        edges = []
        for arg, need in zip(args, needs):
            if not need:
                edges.append(None)
            elif arg._node is None:                 # a leaf: its .grad accumulates
                edges.append(arg)
            else:                                   # the op that made it, and which output
                edges.append(arg._node if arg._index == 0 else (arg._node, arg._index))
        ctx.edges = tuple(edges)
        ctx.output_meta = _output_meta(outputs)
        # only float outputs carry a gradient (argmax indices, masks do not)
        if single:
            out = outputs[0]
            return _wrap(out, ctx if out.dtype.kind == "f" else None, 0)
        return tuple(_wrap(out, ctx if out.dtype.kind == "f" else None, index)
                     for index, out in enumerate(outputs))


_wrap = Tensor._from_op       # an op's output array as a Tensor, no copy


def _output_meta(outputs):
    """((shape, dtype) of each output), one tuple shared by nodes with the same outputs."""
    return shared(tuple([(out.shape, out.dtype) for out in outputs]))


def _device_error(fn, args):
    shapes = ", ".join(f"{a.shape} on {a.device}" for a in args if isinstance(a, Tensor))
    raise RuntimeError(f"{fn.__name__}: all tensors must be on one device, got {shapes}; "
                       "move them with .to(device) first")
