"""minigrad.optim: optimisers, gradient clipping and learning-rate schedules (PyTorch's API)."""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
from .clip import clip_grad_norm_, clip_grad_value_
from . import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm_", "clip_grad_value_",
           "lr_scheduler"]
