"""Sequential, as ``torch.nn.Sequential``: modules called in order, named "0", "1", ..."""
from collections import OrderedDict

from minigrad.nn import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Children are named "0", "1", ... (or by the keys of one OrderedDict argument), so the
    state dict keys are "0.weight", "2.bias", ... exactly as PyTorch's.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(modules):
                self.add_module(str(index), module)

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        if not -len(items) <= index < len(items):
            raise IndexError(f"Sequential: index {index} out of range for {len(items)} "
                             "modules")
        return items[index][1]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input
