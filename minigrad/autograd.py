"""The backward pass, and the switches around it (no_grad, detect_anomaly).

``backward`` walks the recorded graph from the output to the leaves.  The order is
Kahn's algorithm over graph nodes (a node runs when every node that consumed its outputs
has sent its gradient), so there is no recursion anywhere: a chain of 200,000 ops, an RNN
unrolled over a long sequence, works as well as a chain of 2.  Gradients of leaves add up
in ``.grad``, as in PyTorch.

Nodes are the ``Context`` objects of ``minigrad.function``: ``node.edges`` say where each
input's gradient goes (a leaf Tensor, the node that made it, or ``(node, output index)``),
and a Tensor points back to the node that made it (``tensor._node``, output ``tensor._index``).
"""
import contextlib
import gc
import weakref

__all__ = ["backward", "no_grad", "enable_grad", "grad_enabled", "set_grad_enabled",
           "detect_anomaly", "anomaly_check", "shared"]

_state = {"grad": True, "anomaly": False}

# The cyclic garbage collector and the graph.  Every op leaves a few container objects alive
# (its Context, the tuples of its edges and saved values) and Python runs a collection each
# 700 such allocations, and a full one, over every object alive, each time the heap grew by
# a quarter: on a long graph that was most of the cost of recording it.  It never finds
# anything here: nodes hold no reference cycles (retain_grad's hook holds its tensor weakly),
# so reference counting frees a graph as soon as its output goes.  So the engine keeps the
# collector's work small in two ways: a gen-0 threshold of at least 10,000 (Python 3.13 moved
# its own default to 2,000; cyclic garbage elsewhere is collected a little later, never left
# behind), and few new objects per node: output 0 is an edge without a tuple, and shapes and
# output metadata are shared between nodes (``shared`` below).  benchmarks/engine_overhead.py,
# 200,000-op chain, forward: 21.8 us/op at threshold 700, 11.8 at 10,000, 6 with shared
# values; 5.4 with the collector off.  Turning the collector off while recording would need
# to know when user code is recording, which the engine cannot.
_GC_THRESHOLD = 10_000
if gc.get_threshold()[0] < _GC_THRESHOLD:       # never lower what the user set
    gc.set_threshold(_GC_THRESHOLD, *gc.get_threshold()[1:])

_SHARED = {}


def shared(value):
    """One copy, shared by every graph node, of a hashable value (a shape, output metadata).

    ``shared((4, 256)) is shared((4, 256))``: a graph of 200,000 ops with one shape keeps
    one tuple for it, not 200,000.  Bounded: values that come and go never pile up.
    """
    copy = _SHARED.get(value)
    if copy is None:
        if len(_SHARED) >= 10_000:
            _SHARED.clear()
        copy = _SHARED[value] = value
    return copy


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


def backward(root, grad=None, retain_graph=False, create_graph=False):
    """Fill ``.grad`` of every leaf that ``root`` depends on with d(root)/d(leaf).

    root: a Tensor.  grad: dL/d(root), same shape (may be omitted for a one-element root).
    retain_graph: keep saved arrays, so that a second backward can run through the graph.
    create_graph: not supported (raises NotImplementedError): backwards run on raw arrays,
    so no graph of the gradients is ever built and grad-of-grad is impossible by design.
    """
    if create_graph:
        raise NotImplementedError(
            "backward(create_graph=True): higher-order gradients are not supported in "
            "minigrad; every backward runs on raw arrays, so the gradients have no graph to "
            "differentiate again (see docs/architecture.md, 'Higher-order gradients')")
    from . import backend
    from .function import Context
    from .tensor import Tensor
    if not root.requires_grad:
        raise RuntimeError("backward: this tensor does not require grad and has no graph "
                           "(create leaves with requires_grad=True, outside no_grad)")
    xp = root.xp
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: a gradient can be created implicitly only for a one-element "
                f"output, got shape {root.shape}; pass dL/d(output) of that shape: "
                "y.backward(grad)")
        grad = xp.ones_like(root.data)
    else:
        grad = grad.data if isinstance(grad, Tensor) else xp.asarray(grad, dtype=root.dtype)
        if tuple(grad.shape) != root.shape:
            raise RuntimeError(f"backward: gradient of shape {tuple(grad.shape)} given for "
                               f"an output of shape {root.shape}; expected the same shape")
        if backend.device_of(grad) != root.device:
            # caught here: otherwise the first backward kernel fails on mixed arrays, far
            # from the cause (torch: "invalid gradient ... expected device")
            raise RuntimeError(f"backward: gradient on {backend.device_of(grad)} given for an output on "
                               f"{root.device}; expected the same device: "
                               f"y.backward(grad.to({root.device!r}))")

    if root._node is None:            # a leaf: d(root)/d(root) = 1
        root._accumulate(grad.copy())   # never keep the caller's array as .grad
        return

    # 1. Count, for every node, how many edges lead into it from later nodes.
    consumers = {root._node: 0}
    stack = [root._node]
    while stack:
        node = stack.pop()
        if node.released:
            raise RuntimeError(
                f"backward: trying to go through the graph a second time ({node.name} "
                "has freed its saved arrays after the first backward); pass "
                "retain_graph=True to the first backward if you need a second")
        for edge in node.edges:
            if type(edge) is Context:            # output 0 of that node
                child = edge
            elif type(edge) is tuple:            # (node, output index)
                child = edge[0]
            else:                                # None, or a leaf Tensor
                continue
            if child in consumers:
                consumers[child] += 1
            else:
                consumers[child] = 1
                stack.append(child)

    # 2. Run nodes once all their consumers have sent gradients (Kahn's order).
    # pending[node] holds one gradient slot per output; a leaf's gradients are summed in
    # leaf_grads and added to .grad once at the end (its hooks see the total, as PyTorch's).
    pending = {root._node: [None] * len(root._node.output_meta)}
    pending[root._node][root._index] = grad
    leaf_grads = {}
    ready = [root._node]
    anomaly = _state["anomaly"]
    while ready:
        node = ready.pop()
        grads = pending.pop(node)
        for index, g in enumerate(grads):
            if g is None:                    # an output nothing downstream used
                shape, dtype = node.output_meta[index]
                grads[index] = xp.zeros(shape, dtype=dtype)
        if node.out_hooks:
            for index, hooks in node.out_hooks.items():
                for hook in hooks:
                    grads[index] = _run_hook(hook, grads[index])

        input_grads = node.fn.backward(node, *grads)
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        if len(input_grads) != len(node.edges):
            raise RuntimeError(f"{node.name}.backward returned {len(input_grads)} gradients "
                               f"for {len(node.edges)} inputs; expected one per input "
                               "(None for inputs that need none)")
        if anomaly:
            anomaly_check(node.name, "backward", input_grads, grads)
        if not retain_graph:
            node.release()

        for edge, g in zip(node.edges, input_grads):
            if edge is None:
                continue
            if type(edge) is Context:
                child, index = edge, 0
            elif type(edge) is tuple:
                child, index = edge
            else:                                # a leaf: sum now, .grad at the end
                if g is not None:
                    if g.shape != edge.data.shape:
                        _grad_shape_error(node, g, edge.data.shape)
                    old = leaf_grads.get(edge)
                    leaf_grads[edge] = g if old is None else old + g
                continue
            if g is not None:
                if g.shape != child.output_meta[index][0]:
                    _grad_shape_error(node, g, child.output_meta[index][0])
                slots = pending.get(child)
                if slots is None:
                    slots = pending[child] = [None] * len(child.output_meta)
                old = slots[index]
                slots[index] = g if old is None else old + g
            consumers[child] -= 1
            if consumers[child] == 0:
                if child not in pending:
                    pending[child] = [None] * len(child.output_meta)
                ready.append(child)

    # A backward may hand one array to several inputs (y = a + b gives dL/da and dL/db as
    # the same array), or pass the caller's upstream gradient straight through. A leaf gets
    # its own copy only then, so an in-place change of a.grad (say, clipping) never changes
    # b.grad or the caller's array, and no gradient is copied for nothing.
    handed_out = {id(grad)}
    for leaf, g in leaf_grads.items():       # in the order the leaves were first reached
        if id(g) in handed_out:
            g = g.copy()
        handed_out.add(id(g))
        leaf._accumulate(g)


def _grad_shape_error(node, grad, shape):
    raise RuntimeError(f"{node.name}.backward returned a gradient of shape "
                       f"{tuple(grad.shape)} for an input of shape {tuple(shape)}")


def _run_hook(hook, grad):
    """Call a tensor hook on a raw gradient; a hook may return a replacement."""
    from .tensor import Tensor
    from .backend import array_module, is_array
    if not is_array(grad):                   # a NumPy scalar from a 0-d computation
        grad = array_module(grad).asarray(grad)
    result = hook(Tensor._from_op(grad, None, 0))   # as it is: no copy, no dtype change
    if result is None:
        return grad
    return result.data if isinstance(result, Tensor) else result


def add_output_hook(tensor, hook):
    """Attach ``hook`` to the gradient that flows into non-leaf ``tensor``."""
    node = tensor._node
    if node.out_hooks is None:
        node.out_hooks = {}
    hooks = node.out_hooks.setdefault(tensor._index, [])
    if any(getattr(h, "retains_grad", False) for h in hooks) and getattr(hook, "retains_grad", False):
        return                                   # retain_grad() twice: store once
    # .grad of a retained tensor is the gradient after all its other hooks (as PyTorch)
    first_retain = next((i for i, h in enumerate(hooks) if getattr(h, "retains_grad", False)),
                        len(hooks))
    hooks.insert(first_retain if not getattr(hook, "retains_grad", False) else len(hooks), hook)


def retain_hook(tensor):
    """A hook that stores the gradient into ``tensor.grad`` (held weakly: no cycle)."""
    ref = weakref.ref(tensor)

    def store(grad):
        t = ref()
        if t is not None:
            t._accumulate(grad.data.copy(), hooks=False)   # the array flows on: own copy
    store.retains_grad = True
    return store
