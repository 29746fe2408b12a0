"""hw4.train_copy: the first steps of train_copy_task from a seeded model: the losses of each
step, against the teacher's run from the same seed."""
import numpy as np

from ._engine import case

STEPS = 6


def cases(rng):
    return [case(f"{STEPS} training steps of a small copy-task Transformer",
                 {"seed": np.array(int(rng.integers(1, 2**31 - 1)))}, rtol=1e-3, atol=1e-6)]


def run(case, params, arrays):
    import minigrad
    from layers.toy_training import make_copy_model, train_copy_task
    minigrad.manual_seed(int(arrays["seed"]))
    model = make_copy_model(num_symbols=8, d_model=16, nhead=2, num_layers=1, dim_feedforward=32)
    losses = train_copy_task(model, steps=STEPS, batch_size=8, length=5, num_symbols=8,
                             warmup_steps=4, lr_factor=0.5, label_smoothing=0.1)
    # Only the losses: Adam's first steps move each weight by about lr * sign(gradient), so
    # the weights of two correct runs can differ where a gradient is ~0; the losses cannot.
    return {"losses": np.asarray(losses, dtype=np.float64)}
