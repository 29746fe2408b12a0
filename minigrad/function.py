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
from .autograd import grad_enabled, anomaly_check

__all__ = ["Function", "Context"]


class Context:
    """What forward leaves for backward: saved arrays and settings (``ctx.foo = ...``).

    Also the graph node: ``inputs`` are the Tensors the op read (``None`` for non-Tensor
    arguments), ``fn`` the Function class.  After a backward the saved arrays are released
    unless ``retain_graph=True``.
    """

    def __init__(self, fn, xp):
        self.fn = fn
        self.xp = xp
        self.saved = ()
        self.inputs = ()
        self.needs_input_grad = ()
        self.output_meta = ()       # (shape, dtype) of each output, to build zero grads
        self.out_hooks = None       # {output index: [hook, ...]} for register_hook/retain_grad
        self.released = False

    def save_for_backward(self, *arrays):
        """Keep exactly what backward needs; released after backward."""
        self.saved = arrays

    def release(self):
        self.saved = None
        self.released = True

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
        from .tensor import Tensor   # the Tensor module imports this one
        arrays, device = [], None
        for arg in args:
            if isinstance(arg, Tensor):
                arg_device = arg.device
                if device is None:
                    device = arg_device
                elif arg_device != device:
                    shapes = ", ".join(f"{a.shape} on {a.device}" for a in args
                                       if isinstance(a, Tensor))
                    raise RuntimeError(
                        f"{cls.__name__}: all tensors must be on one device, got {shapes}; "
                        "move them with .to(device) first")
                arrays.append(arg.data)
            else:
                arrays.append(arg)
        first = next((a for a in arrays if backend.is_array(a)), None)
        ctx = Context(cls, backend.array_module(first) if first is not None else backend.CPU.xp)

        outputs = cls.forward(ctx, *arrays, **kwargs)
        single = not isinstance(outputs, tuple)
        if single:
            outputs = (outputs,)
        anomaly_check(cls.__name__, "forward", outputs, args)

        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        record = any(needs) and grad_enabled()
        results = []
        for index, out in enumerate(outputs):
            floating = backend.is_floating(out.dtype)
            t = Tensor._from_op(out, ctx if record and floating else None, index)
            results.append(t)
        if record:
            ctx.inputs = tuple(a if isinstance(a, Tensor) else None for a in args)
            ctx.needs_input_grad = needs
            ctx.output_meta = tuple((o.shape, o.dtype) for o in outputs)
        return results[0] if single else tuple(results)
