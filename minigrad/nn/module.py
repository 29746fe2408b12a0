"""Module and Parameter: the bookkeeping of layers, as in PyTorch.

A Module finds its Parameters, buffers and sub-Modules from plain attribute assignment
(``self.weight = Parameter(...)``, ``self.cell = LSTMCell(...)``), names them with dotted
paths (``encoder.layers.0.self_attn.in_proj_weight``), moves them between devices and
saves/loads them as a state dict of detached Tensors whose keys match PyTorch's.
"""
from collections import OrderedDict, namedtuple

from .. import backend
from ..tensor import Tensor

__all__ = ["Parameter", "Module", "ModuleList", "ModuleDict"]


class Parameter(Tensor):
    """A Tensor that is a learnable weight of a Module (requires grad by default)."""
    __slots__ = ()

    def __init__(self, data, requires_grad=True, dtype=None, device=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, device=device)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _array_of(value):
    """The array behind a state-dict value (a Tensor's data, or the value itself)."""
    return value.data if isinstance(value, Tensor) else value


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer: subclass, assign parts in ``__init__``, write ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes (assigning {name!r})")
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif name in self.__dict__.get("_buffer_names", ()) and (
                value is None or isinstance(value, Tensor)):
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that belongs to the module's state but is not learned (e.g. a mask)."""
        self.__dict__.setdefault("_buffer_names", set()).add(name)
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        self._modules[name] = module

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix=""):
        """(dotted name, module) for self and every module below, depth first."""
        seen, stack = set(), [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if module is None or id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            children = [(f"{name}.{child}" if name else child, m)
                        for child, m in module._modules.items()]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, table, recurse=True):
        seen = set()
        modules = self.named_modules() if recurse else [("", self)]
        for prefix, module in modules:
            for name, value in getattr(module, table).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{prefix}.{name}" if prefix else name), value

    def named_parameters(self, recurse=True):
        yield from self._named_members("_parameters", recurse)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse):
            yield param

    def named_buffers(self, recurse=True):
        yield from self._named_members("_buffers", recurse)

    def buffers(self, recurse=True):
        for _, buf in self.named_buffers(recurse):
            yield buf

    def apply(self, fn):
        for module in list(self.modules()):
            fn(module)
        return self

    # ------------------------------------------------------------------ modes
    def train(self, mode=True):
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad = Tensor._from_op(param.xp.zeros_like(param.grad.data), None, 0)

    # ------------------------------------------------------------------ devices, dtypes
    def to(self, device=None, dtype=None):
        """Move (and/or cast) every parameter and buffer in place; returns self."""
        if device is not None:
            device = backend.get_backend(device).name
        for tensor in list(self.parameters()) + list(self.buffers()):
            data = tensor.data
            if device is not None:
                data = backend.to_device(data, device)
            if dtype is not None and backend.is_floating(data.dtype):
                data = data.astype(backend.dtype_of(dtype))
            tensor.data = data
            if tensor.grad is not None:
                tensor.grad = None if data.shape != tensor.grad.shape else Tensor._from_op(
                    backend.to_device(tensor.grad.data, backend.device_of(data)).astype(
                        data.dtype), None, 0)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def double(self):
        return self.to(dtype="float64")

    def float(self):
        return self.to(dtype="float32")

    # ------------------------------------------------------------------ state dict
    def state_dict(self):
        """OrderedDict of dotted name -> detached Tensor: parameters and persistent buffers,
        with PyTorch's keys, on their device (``sd[k].numpy()`` gives a host array).

        Each value is a copy (PyTorch's share the parameters' storage): a state dict is a
        snapshot that later training does not change.  ``minigrad.save`` takes it as is."""
        state = OrderedDict()
        for prefix, module in self.named_modules():
            for table in ("_parameters", "_buffers"):
                for name, tensor in getattr(module, table).items():
                    if tensor is None or (table == "_buffers"
                                          and name in module._non_persistent):
                        continue
                    key = f"{prefix}.{name}" if prefix else name
                    state[key] = Tensor._from_op(tensor.data.copy(), None, 0)
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays (NumPy arrays, Tensors, anything ``numpy.asarray`` takes) into the
        parameters and buffers with the same keys; shapes must match exactly.

        All or nothing: every value is converted and checked first, and if any is wrong
        (a missing key under strict, a shape, a dtype that is not a number) nothing is
        assigned and one RuntimeError lists every problem.

        strict: missing or unexpected keys raise (listing all of them); otherwise they are
        returned as ``(missing_keys, unexpected_keys)``.
        """
        own = {}
        for prefix, module in self.named_modules():
            for table in ("_parameters", "_buffers"):
                for name, tensor in getattr(module, table).items():
                    if tensor is not None and not (table == "_buffers"
                                                   and name in module._non_persistent):
                        own[f"{prefix}.{name}" if prefix else name] = tensor
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        arrays = {}
        for key, tensor in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.data if isinstance(value, Tensor) else value
            try:
                if not backend.is_array(value):
                    value = backend.CPU.xp.asarray(value.detach().cpu().numpy()
                                                   if hasattr(value, "detach") else value)
            except (TypeError, ValueError) as err:
                problems.append(f"{key}: cannot read {type(value).__name__} as an array "
                                f"({err})")
                continue
            if value.dtype.kind not in "fiub":
                problems.append(f"{key}: dtype {value.dtype} in the state dict, expected "
                                f"numbers ({tensor.dtype} in the model)")
            elif tuple(value.shape) != tensor.shape:
                problems.append(f"{key}: shape {tuple(value.shape)} in the state dict, "
                                f"{tensor.shape} in the model")
            else:          # converted now, so that assigning below cannot fail halfway
                arrays[key] = backend.as_array(value, dtype=tensor.dtype,
                                               device=tensor.device)
        if problems:
            raise RuntimeError(f"load_state_dict for {type(self).__name__}: "
                               + "; ".join(problems))
        for key, array in arrays.items():
            if array is _array_of(state_dict[key]):     # never share the caller's array
                array = array.copy()
            own[key].data = array
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ calling, printing
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


class ModuleList(Module):
    """A list of Modules, registered as children "0", "1", ..."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        items = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleDict(Module):
    """A dict of Modules, registered under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        for name, module in (modules or {}).items():
            self[name] = module

    def __setitem__(self, name, module):
        self.add_module(name, module)

    def __getitem__(self, name):
        return self._modules[name]

    def __contains__(self, name):
        return name in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()
