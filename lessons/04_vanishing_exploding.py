# %% [markdown]
# # Lesson 4: Vanishing and exploding gradients
#
# **Question.** Why can't a plain RNN learn long-range dependencies, and what does gradient
# clipping fix?
#
# BPTT (lesson 3) sends the gradient from step $t+1$ to step $t$ through one Jacobian,
#
# $$\frac{\partial h_{t+1}}{\partial h_t} = \mathrm{diag}(1 - h_{t+1}^2)\, W_{hh},$$
#
# so a loss on the last step reaches step $t$ through a product of $T-1-t$ of them. If $W_{hh}$
# is $r$ times an orthogonal matrix (every singular value equal to $r$, so its spectral radius
# and its norm are both $r$), and since $0 < 1 - h^2 \le 1$,
#
# $$\Big\|\frac{\partial L}{\partial h_t}\Big\| \le r^{\,T-1-t}\, \Big\|\frac{\partial L}{\partial h_{T-1}}\Big\|.$$
#
# For $r < 1$ the gradient must vanish exponentially with the distance. For $r > 1$ it *can*
# grow, unless tanh's saturation ($1 - h^2 \to 0$) eats the growth. We measure both, on a
# T = 100 step sequence with the loss on the last step only.

# %%
import numpy as np

import minigrad
import minigrad.nn.functional as F
from layers import RNN, Linear
from lessons._charlm import single_thread_blas
from lessons._shared import markdown_table, progress, setup
from lessons.tasks import BASELINE_MSE, adding_problem

# %% tags=["parameters"]
QUICK = None   # in a notebook: True for the quick run, False for the full one; None leaves
               # it to --quick or the MINIGRAD_LESSON_QUICK environment variable

# %%
opts = setup("04", quick=QUICK)
plt = opts.pyplot()
single_thread_blas()

# %% [markdown]
# ## 1. Gradient norm against distance, for several spectral radii
#
# The RNN: D = 8 inputs, H hidden units, tanh, $W_{hh} = r\,Q$ with $Q$ a random orthogonal
# matrix (QR of a Gaussian matrix; the same $Q$ for every $r$), $W_{ih}$ Gaussian with
# variance $1/D$ (so each unit's input has variance about 1), biases 0. Inputs $x_t$ are
# standard normal noise. Loss: $L = \langle h_{T-1}, u \rangle$ for a fixed random $u$,
# so $\partial L/\partial h_{T-1} = u$ and nothing else feeds the gradient. We read
# $\partial L/\partial h_t$ for every $t$ from the layer's recording (`record=True`,
# `layer.hidden_grads`) and take its norm over the batch and the units.
#
# Everything runs in **float64**: in float32 the vanishing gradients of small radii fall
# below 1e-38 (where float32 flushes to zero), and even their squares, needed for the norm,
# underflow sooner.

# %%
T = 100
H = 32 if opts.quick else 128
N, D = (4, 8) if opts.quick else (16, 8)
RADII = (0.5, 0.9, 1.0, 1.5, 3.0)
Q, _ = np.linalg.qr(opts.rng.standard_normal((H, H)))    # orthogonal: every singular value 1
W_ih = opts.rng.standard_normal((H, D)) / np.sqrt(D)
x = minigrad.tensor(opts.rng.standard_normal((T, N, D)))  # (T, N, D) float64
u = minigrad.tensor(opts.rng.standard_normal((N, H)))


def rnn_with_radius(radius, hidden_size=H, input_size=D, w_ih=W_ih, q=Q):
    """A float64 tanh RNN with W_hh = radius * q, the given W_ih and zero biases."""
    layer = RNN(input_size, hidden_size, dtype="float64", record=True)
    with minigrad.no_grad():
        layer.weight_hh_l0.data[...] = radius * q
        layer.weight_ih_l0.data[...] = w_ih
        layer.bias_ih_l0.data[...] = 0.0
        layer.bias_hh_l0.data[...] = 0.0
    return layer


def gradient_norms(layer):
    """||dL/dh_t|| for t = 0..T-1, for the loss <h_{T-1}, u>, and the mean tanh slope 1 - h^2."""
    output, _ = layer(x)                                  # (T, N, H)
    (output[-1] * u).sum().backward()
    grads = layer.hidden_grads[0].numpy()                 # (T, N, H)
    slope = float((1 - output.detach().numpy() ** 2).mean())    # tanh'(a) = 1 - h^2, in (0, 1]
    return np.linalg.norm(grads.reshape(T, -1), axis=1), slope


norms, slope = {}, {}
for radius in RADII:
    norms[radius], slope[radius] = gradient_norms(rnn_with_radius(radius))
distance = np.arange(T)[::-1]                             # distance of step t from the loss
ratios = {r: float(n[0] / n[-1]) for r, n in norms.items()}
bounds = {r: r ** (T - 1) for r in RADII}

rows = [[r, f"{ratios[r]:.2e}", f"{bounds[r]:.2e}", f"{slope[r]:.2f}", f"{r * slope[r]:.2f}",
         "vanishes" if ratios[r] < 1e-3 else ("explodes" if ratios[r] > 1e3 else "kept")]
        for r in RADII]
print(markdown_table(["radius r", "||dL/dh_0|| / ||dL/dh_99||", "bound r^99",
                      "mean 1 - h^2", "r x mean 1 - h^2", "verdict"], rows))

# %%
fig, ax = plt.subplots(figsize=(8, 5))
for k, radius in enumerate(RADII):
    relative = norms[radius] / norms[radius][-1]
    ax.semilogy(distance, relative, color=f"C{k}", label=f"r = {radius}: ratio {ratios[radius]:.1e}")
    if radius < 1:
        ax.semilogy(distance, radius ** distance, color=f"C{k}", linestyle=":", linewidth=1)
ax.plot([], [], color="0.3", linestyle=":", label="bound r^distance (r < 1)")
ax.axhline(1.0, color="0.5", linewidth=0.8)
ax.set_xlabel("distance from the loss, T-1-t (steps)")
ax.set_ylabel("||dL/dh_t|| / ||dL/dh_{T-1}||  (log scale)")
ax.set_title(f"Tanh RNN, W_hh = r x orthogonal (H = {H}, T = {T}, loss on the last step)")
ax.grid(alpha=0.3, which="both")
ax.legend(loc="lower left", fontsize=8)
opts.savefig(fig, "gradient_norm_vs_distance")

# %%
for radius in RADII:
    ratio = ratios[radius]
    if radius < 1:
        print(f"r = {radius}: the ratio {ratio:.1e} is below the bound r^99 = {bounds[radius]:.1e} "
              f"({'as it must be' if ratio <= bounds[radius] * (1 + 1e-9) else 'VIOLATED: a bug'}); "
              f"tanh' < 1 shrinks it further.")
    else:
        print(f"r = {radius}: ratio {ratio:.1e}: " + (
            f"the gradient grows {ratio:.0e}-fold over 99 steps, explosion"
            + (f", although r x mean slope = {radius * slope[radius]:.2f} < 1: the average hides "
               "that the unsaturated units (slope near 1) pass the gradient on, multiplied by "
               f"up to r = {radius} per step." if radius * slope[radius] < 1 else ".")
            if ratio > 1 else
            f"still vanishing, although r >= 1: the tanh slope 1 - h^2 averages {slope[radius]:.2f}, "
            f"and r x slope = {radius * slope[radius]:.2f} < 1 per step shrinks the gradient."
            if radius * slope[radius] < 1 else
            f"still vanishing, although r x mean slope = {radius * slope[radius]:.2f}: the slopes "
            "vary from unit to unit and step to step, and the product of Jacobians is not the "
            "product of their averages."))

# %% [markdown]
# So a plain RNN has two bad regimes and only a thin edge between them: below it, the first
# steps receive no usable gradient (the loss cannot teach the RNN to remember step 0); above
# it, the first steps receive enormous gradients. Where exactly the edge sits depends on how
# saturated the units are (input scale, biases: the slope $1 - h^2$), not on $r$ alone.
#
# ## 2. Clipping, the cure for explosion
#
# An exploding gradient makes one SGD update huge; the weights jump far away, tanh saturates,
# and the loss becomes inf or NaN. Gradient clipping rescales the whole gradient when its norm
# exceeds `max_norm`, $g \leftarrow g \cdot \min(1, \text{max\_norm}/\|g\|)$: the direction is
# kept, the step is bounded by `lr * max_norm`.
#
# The experiment: the adding problem (lessons.tasks.adding, T = 30: predict the sum of the two
# marked values), a float32 tanh RNN with PyTorch's initialisation except $W_{hh} = 2\,Q$, and a
# linear read-out of $h_{T-1}$, trained with plain SGD (lr 0.1), twice from the same weights on the same batches: without clipping
# and with `clip_grad_norm_(params, max_norm=1)`. We record the gradient norm before clipping
# (what `clip_grad_norm_` returns) and the size of each update $\|\Delta\theta\|$.

# %%
TRAIN_T, TRAIN_H, TRAIN_N, RADIUS, LR, MAX_NORM = 30, 32, 32, 2.0, 0.1, 1.0
DIVERGED_FACTOR = 10          # a run "diverged" if its loss ends above 10x its first loss
train_steps = 150 if opts.quick else 600
Q_train, _ = np.linalg.qr(opts.rng.standard_normal((TRAIN_H, TRAIN_H)))


def train_adding(max_norm, seed):
    """SGD on the adding problem; max_norm=None trains without clipping. Returns a history."""
    minigrad.manual_seed(seed)
    data_rng = np.random.default_rng(seed)                # the same batches for both runs
    rnn = RNN(2, TRAIN_H)                                 # float32, PyTorch's init ...
    with minigrad.no_grad():
        rnn.weight_hh_l0.data[...] = RADIUS * Q_train     # ... except W_hh
    head = Linear(TRAIN_H, 1)
    params = list(rnn.parameters()) + list(head.parameters())
    optimizer = minigrad.optim.SGD(params, lr=LR)
    history = {"loss": [], "grad_norm": [], "update_norm": []}
    label = "no clipping" if max_norm is None else f"clip {max_norm}"
    bar = progress(range(train_steps), desc=label)
    with np.errstate(all="ignore"):                       # inf/NaN is the point of one run
        for _ in bar:
            x_np, y_np = adding_problem(TRAIN_N, TRAIN_T, data_rng)
            output, _ = rnn(minigrad.tensor(x_np.transpose(1, 0, 2)))   # (N, T, 2) -> (T, N, 2)
            loss = F.mse_loss(head(output[-1]).reshape(-1), minigrad.tensor(y_np))
            optimizer.zero_grad()
            loss.backward()
            norm = minigrad.optim.clip_grad_norm_(params, float("inf") if max_norm is None else max_norm)
            before = [p.detach().numpy().copy() for p in params]
            optimizer.step()
            update = np.sqrt(sum(((p.detach().numpy() - b) ** 2).sum() for p, b in zip(params, before)))
            history["loss"].append(loss.item())
            history["grad_norm"].append(norm.item())
            history["update_norm"].append(float(update))
            bar.set_postfix(loss=f"{loss.item():.3g}")
    bar.close()
    losses = np.array(history["loss"])
    bad = np.flatnonzero(~np.isfinite(losses))
    history["first_nonfinite_step"] = int(bad[0]) if bad.size else None
    history["final_loss"] = float(np.mean(losses[-20:]))
    # diverged: the loss became inf/NaN, or ended far above where it started
    history["diverged"] = bool(bad.size) or history["final_loss"] > DIVERGED_FACTOR * losses[0]
    return history


runs = {"no clipping": train_adding(None, opts.seed), f"clip {MAX_NORM}": train_adding(MAX_NORM, opts.seed)}

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
steps = np.arange(1, train_steps + 1)
for k, (name, run) in enumerate(runs.items()):
    for ax, key in zip(axes, ("grad_norm", "update_norm", "loss")):
        values = np.array(run[key])
        finite = np.isfinite(values)
        ax.semilogy(steps[finite], values[finite], color=f"C{k}", label=name)
        if run["first_nonfinite_step"] is not None:
            ax.axvline(run["first_nonfinite_step"] + 1, color=f"C{k}", linestyle="--", linewidth=1)
axes[0].set_ylabel("||gradient|| before clipping")
axes[1].set_ylabel("||update|| = ||theta_new - theta_old||")
axes[2].set_ylabel("mean squared error")
axes[2].axhline(BASELINE_MSE, color="0.4", linestyle=":", label=f"predict the mean ({BASELINE_MSE:.3f})")
for ax, title in zip(axes, ("gradient norm", "update size", "training loss")):
    ax.set_xlabel("SGD step")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
fig.suptitle(f"Adding problem (T = {TRAIN_T}), tanh RNN with W_hh = {RADIUS} x orthogonal, "
             f"SGD lr {LR}; dashed: first inf/NaN loss")
fig.tight_layout()
opts.savefig(fig, "clipping")

# %%
rows = []
for name, run in runs.items():
    finite_norms = [g for g in run["grad_norm"] if np.isfinite(g)]
    finite_updates = [v for v in run["update_norm"] if np.isfinite(v)]
    rows.append([name, f"{max(finite_norms):.2e}", f"{max(finite_updates):.2e}",
                 "never" if run["first_nonfinite_step"] is None else run["first_nonfinite_step"] + 1,
                 f"{run['final_loss']:.3g}"])
print(markdown_table(["run", "largest finite ||grad||", "largest finite ||update||",
                      "first inf/NaN loss at step", "mean loss, last 20 steps"], rows))
plain, clipped = runs["no clipping"], runs[f"clip {MAX_NORM}"]
diverged = plain["diverged"]
nan_step = plain["first_nonfinite_step"]
print(("Without clipping the training diverged: " + (f"the loss became inf/NaN at step {nan_step + 1}. "
        if nan_step is not None else f"the loss went from {plain['loss'][0]:.3g} to {plain['final_loss']:.3g}. ")
       if diverged else "Without clipping the training did not diverge in this run. ")
      + ("With clipping every update stayed at most lr * max_norm = "
         f"{LR * MAX_NORM:g} and the loss stayed finite (last 20 steps: {clipped['final_loss']:.3g}, "
         f"predicting the mean gives {BASELINE_MSE:.3g})." if not clipped["diverged"]
         else "Even with clipping the training diverged: lower the learning rate."))
if not clipped["diverged"] and clipped["final_loss"] > BASELINE_MSE:
    print(f"Finite is not learned: the clipped run ends at {clipped['final_loss']:.3g}, above the "
          f"{BASELINE_MSE:.3g} of always answering 1: in {train_steps} SGD steps of lr {LR} the "
          "clipped RNN has not even found the mean answer (every step is at most "
          f"{LR * MAX_NORM:g} long, and a chaotic W_hh = {RADIUS} x orthogonal makes its loss "
          "surface rough). Clipping makes training safe, not successful; lesson 7 shows what "
          "does learn this task (gated cells, Adam, more steps).")

# %% [markdown]
# Clipping cures explosion: it bounds every step. It does nothing for vanishing gradients:
# a gradient that is 1e-30 at step 0 stays 1e-30. For that we need another architecture
# (lesson 5: the LSTM).

# %%
opts.save_json("results", {
    "T": T, "H": H, "N": N, "radii": list(RADII),
    "gradient_reach": {str(r): ratios[r] for r in RADII},      # ||dL/dh_0|| / ||dL/dh_{T-1}||
    "bound_r_pow_T_minus_1": {str(r): bounds[r] for r in RADII},
    "mean_tanh_slope": {str(r): slope[r] for r in RADII},
    "gradient_norms": {str(r): norms[r] for r in RADII},
    "w_hh": "radius * orthogonal (QR of a Gaussian matrix)",
    "clipping": {"T": TRAIN_T, "H": TRAIN_H, "radius": RADIUS, "lr": LR, "max_norm": MAX_NORM,
                 "steps": train_steps,
                 "runs": {name: {k: run[k] for k in ("first_nonfinite_step", "final_loss", "diverged")}
                          | {"max_update_norm": float(np.nanmax(np.where(np.isfinite(run["update_norm"]),
                                                                         run["update_norm"], np.nan))),
                             "max_grad_norm": float(np.nanmax(np.where(np.isfinite(run["grad_norm"]),
                                                                       run["grad_norm"], np.nan)))}
                          for name, run in runs.items()},
                 "unclipped_diverged": diverged, "clipped_diverged": clipped["diverged"]},
})

# %% [markdown]
# ## What we saw
#
# - With $W_{hh}$ of norm $r < 1$ the gradient reaching step 0 from a loss at step 99 is at
#   most $r^{99}$ of the last step's (1.6e-30 for r = 0.5), and tanh makes it smaller still.
# - Large $r$ makes it explode; between the two, saturation decides, so "keep $r$ near 1" is
#   not enough for a plain RNN.
# - Clipping keeps exploding gradients from wrecking the weights, and costs nothing when
#   gradients are small. It cannot bring back a vanished gradient.
#
# ## Exercises
#
# 1. Repeat section 1 with `nonlinearity="relu"`. Which bound still holds, and why does the
#    r = 1 curve change?
# 2. Scale the inputs by 0.1 instead of 1. Which radii change verdict, and why (look at the
#    slope column)?
# 3. Replace the orthogonal $Q$ by a Gaussian matrix scaled to spectral radius r. Its largest
#    singular value is bigger than r: how does that change the bound?
# 4. Clip each gradient value to [-1, 1] instead (`clip_grad_value_`). Does it cure the
#    divergence too? What does it do to the gradient's direction?
# 5. Find the largest learning rate at which the unclipped run still trains for 600 steps.
