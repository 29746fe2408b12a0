"""The backward pass: the chain rule, node by node, from the output back to the leaves.

``backward`` walks the recorded graph.  The nodes are the ``Context`` objects of
``minigrad.function``; ``node.edges[k]`` says where the gradient of input k goes: ``None``,
or ``(child, index)``, output ``index`` of the node ``child`` that made the input, or, for a
leaf Tensor, ``(leaf, 0)``.  A Tensor points back to its node (``tensor.grad_fn``) and which
output of it it is.

The order is Kahn's algorithm: a node runs once every node that consumed its outputs has
sent its gradient, so there is no recursion anywhere (a chain of 200,000 ops, an RNN
unrolled over a long sequence, works as well as a chain of 2).  Gradients of leaves add up
in ``.grad``, as in PyTorch.
"""
import gc

from .grad_mode import (_state, anomaly_check, detect_anomaly, enable_grad,  # noqa: F401
                        grad_enabled, no_grad, set_grad_enabled)

__all__ = ["backward", "no_grad", "enable_grad", "grad_enabled", "set_grad_enabled",
           "detect_anomaly", "anomaly_check"]

# Python's cyclic collector runs every 700 new objects, and finds nothing in a graph (reference
# counting frees it): every 10,000, a 200,000-op chain records at 4.5 us/op, not 9.0.
gc.set_threshold(max(gc.get_threshold()[0], 10_000), *gc.get_threshold()[1:])


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
    from .hooks import run_hook
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
        if backend.device_of(grad) != root.device:       # else a kernel fails, far from here
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
            if edge is None or isinstance(edge[0], Tensor):     # no gradient, or a leaf
                continue
            child = edge[0]
            if child not in consumers:
                consumers[child] = 0
                stack.append(child)
            consumers[child] += 1

    # 2. Run nodes once all their consumers have sent gradients (Kahn's order).
    # pending[node] holds one gradient slot per output; a leaf's gradients are summed in
    # leaf_grads and added to .grad once at the end (its hooks see the total, as PyTorch's).
    pending = {root._node: [None] * len(root._node.output_meta)}
    pending[root._node][root._index] = grad
    leaf_grads = {}
    ready = [root._node]
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
                    grads[index] = run_hook(hook, grads[index])

        input_grads = node.fn.backward(node, *grads)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        if len(input_grads) != len(node.edges):
            raise RuntimeError(f"{node.name}.backward returned {len(input_grads)} gradients "
                               f"for {len(node.edges)} inputs; expected one per input "
                               "(None for inputs that need none)")
        if _state["anomaly"]:
            anomaly_check(node.name, "backward", input_grads, grads)
        if not retain_graph:
            node.release()

        for edge, g in zip(node.edges, input_grads):
            if edge is None:
                continue
            child, index = edge
            if isinstance(child, Tensor):    # a leaf: sum now, .grad at the end
                if g is not None:
                    _check_shape(node, g, child.data.shape)
                    leaf_grads[child] = g if child not in leaf_grads else leaf_grads[child] + g
                continue
            if child not in pending:
                pending[child] = [None] * len(child.output_meta)
            if g is not None:
                _check_shape(node, g, child.output_meta[index][0])
                slots = pending[child]
                slots[index] = g if slots[index] is None else slots[index] + g
            consumers[child] -= 1
            if consumers[child] == 0:
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


def _check_shape(node, grad, shape):
    if grad.shape != shape:
        raise RuntimeError(f"{node.name}.backward returned a gradient of shape "
                           f"{tuple(grad.shape)} for an input of shape {tuple(shape)}")
