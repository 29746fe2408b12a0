"""Learning-rate schedules, PyTorch's ``torch.optim.lr_scheduler`` in closed form.

Call ``scheduler.step()`` once after each ``optimizer.step()`` (or each epoch).  As in
PyTorch, making a scheduler already sets the lr for step 0, ``last_epoch`` counts the
``step()`` calls, and ``get_last_lr()`` lists the lr of each parameter group.  Each
schedule here is a formula of ``last_epoch`` (PyTorch's closed forms), so the values do
not drift with floating-point error over long runs.
"""
import math

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "LinearLR", "CosineAnnealingLR", "NoamLR"]


class LRScheduler:
    """Subclasses write ``lr_at(base_lr, epoch)``; ``base_lrs`` are the groups' initial lrs."""

    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        elif any("initial_lr" not in g for g in optimizer.param_groups):
            raise KeyError(f"{type(self).__name__}: resuming (last_epoch={last_epoch}) needs "
                           "'initial_lr' in every param group; load the optimiser state first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr, epoch):
        raise NotImplementedError

    def get_lr(self):
        """The lr of each group at ``last_epoch``."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    def step(self):
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimiser and functions (for checkpoints)."""
        return {k: v for k, v in self.__dict__.items()
                if k != "optimizer" and not callable(v)
                and not (isinstance(v, list) and any(callable(f) for f in v))}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch); one function, or one per parameter group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        groups = len(optimizer.param_groups)
        self.lr_lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) \
            else [lr_lambda] * groups
        if len(self.lr_lambdas) != groups:
            raise ValueError(f"LambdaLR: {len(self.lr_lambdas)} lr_lambdas for {groups} "
                             "parameter groups; expected one, or one per group")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * fn(self.last_epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class StepLR(LRScheduler):
    """lr = base_lr * gamma ^ floor(epoch / step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class LinearLR(LRScheduler):
    """lr = base_lr * factor, factor going linearly from start_factor to end_factor over
    total_iters steps, then held (a linear warm-up with the defaults' start < end)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1] and end_factor in "
                             f"[0, 1], got {start_factor} and {end_factor}")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        progress = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor
                          + (self.end_factor - self.start_factor) * progress)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) (1 + cos(pi epoch / T_max)) / 2  (SGDR, no restarts)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return self.eta_min + (base_lr - self.eta_min) * (
            1 + math.cos(math.pi * epoch / self.T_max)) / 2


class NoamLR(LRScheduler):
    """The Transformer's schedule ("Attention Is All You Need", eq. 3):

        lr(s) = factor * d_model^-0.5 * min(s^-0.5, s * warmup_steps^-1.5)

    linear warm-up for warmup_steps, then decay as 1/sqrt(s); the peak is at
    s = warmup_steps.  s = last_epoch + 1 is the 1-based number of the optimiser step the
    lr is used for (s = 0 would divide by zero).  The optimiser's own lr is replaced.
    """

    def __init__(self, optimizer, d_model, warmup_steps=4000, factor=1.0, last_epoch=-1):
        if warmup_steps <= 0 or d_model <= 0:
            raise ValueError(f"NoamLR: d_model and warmup_steps must be > 0, got "
                             f"{d_model} and {warmup_steps}")
        self.d_model, self.warmup_steps, self.factor = d_model, warmup_steps, factor
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        s = epoch + 1
        return self.factor * self.d_model ** -0.5 * min(s ** -0.5,
                                                        s * self.warmup_steps ** -1.5)
