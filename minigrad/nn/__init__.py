"""minigrad.nn: Module machinery, the functional namespace F, and initialisers."""
from .module import Parameter, Module, ModuleList, ModuleDict
