"""Tensor hooks: ``register_hook`` on a non-leaf tensor and ``retain_grad``.

A hook on a non-leaf tensor is kept by the node that made it (``node.out_hooks``, by output
index), and ``autograd.backward`` calls it on the gradient of that output before the node's
backward runs.  Hooks on leaves are kept by the leaf (``Tensor._hooks``).
"""
import weakref

__all__ = ["register_hook", "retain_grad", "run_hook", "add_output_hook", "retain_hook"]


def register_hook(tensor, hook):
    """``tensor.register_hook(hook)``: ``hook(grad) -> new grad or None`` runs on the
    gradient flowing into ``tensor``."""
    if not tensor.requires_grad:
        raise RuntimeError("register_hook: this tensor does not require grad")
    if tensor._node is None:
        tensor._hooks = (tensor._hooks or []) + [hook]
    else:
        add_output_hook(tensor, hook)
    return hook


def retain_grad(tensor):
    """``tensor.retain_grad()``: keep ``.grad`` on a non-leaf tensor after backward."""
    if tensor._node is not None:                 # leaves always keep it
        add_output_hook(tensor, retain_hook(tensor))


def run_hook(hook, grad):
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
            t._accumulate(grad.data.copy(), run_hooks=False)   # the array flows on: own copy
    store.retains_grad = True
    return store
