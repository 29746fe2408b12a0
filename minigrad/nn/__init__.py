"""minigrad.nn: Module machinery, the functional namespace F, and initialisers.

The layers themselves (Linear, LSTM, Transformer, ...) live in the top-level ``layers``
package, which builds on this one; minigrad never imports it.
"""
from .module import Parameter, Module, ModuleList, ModuleDict
from .activation import ReLU, GELU, Tanh, Sigmoid, Softmax, LogSoftmax, Identity, Flatten
from . import functional
from . import init

__all__ = ["Parameter", "Module", "ModuleList", "ModuleDict", "ReLU", "GELU", "Tanh",
           "Sigmoid", "Softmax", "LogSoftmax", "Identity", "Flatten", "functional", "init"]
