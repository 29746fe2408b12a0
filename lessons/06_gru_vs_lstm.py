# %% [markdown]
# # Lesson 6: The GRU, and the LSTM and GRU side by side
#
# **Question.** The GRU (Cho et al. 2014) does with three gate blocks what the LSTM does with
# four. Does the simpler gate do as well, per parameter and per second?
#
# The GRU has no separate cell: one hidden state, a reset gate $r$, an update gate $z$ and a
# candidate $n$ (PyTorch's equations, `layers/gru.py`):
#
# $$r = \sigma(x W_{ir}^\top + b_{ir} + h W_{hr}^\top + b_{hr}), \quad z = \sigma(\dots), \quad
# n = \tanh\big(x W_{in}^\top + b_{in} + r \odot (h W_{hn}^\top + b_{hn})\big),$$
# $$h_t = (1 - z) \odot n + z \odot h_{t-1}.$$
#
# $z$ plays the forget gate and $1 - z$ the input gate, coupled; the path
# $\partial L/\partial h_{t-1} \ni \partial L/\partial h_t \odot z$ is the GRU's version of
# the LSTM's cell path. We compare the two on three counts: parameters, time per batch, and
# the loss they reach on the character language model of lesson 3 (same data, same steps).

# %%
import time

import numpy as np

import minigrad
from layers import GRU, LSTM, RNN
from lessons._charlm import (CharLM, load_corpus, single_thread_blas, smooth, train_char_lm,
                             unigram_entropy)
from lessons._shared import markdown_table, setup

# %% tags=["parameters"]
QUICK = None   # in a notebook: True for the quick run, False for the full one; None leaves
               # it to --quick or the MINIGRAD_LESSON_QUICK environment variable

# %%
opts = setup("06", quick=QUICK)
plt = opts.pyplot()
single_thread_blas()

# %% [markdown]
# ## 1. Parameter counts
#
# Each recurrent layer holds, per gate block, an input matrix (H, D), a hidden matrix
# (H, H) and two bias vectors (H,) (PyTorch keeps $b_{ih}$ and $b_{hh}$ apart). With
# $k$ gate blocks (RNN 1, GRU 3, LSTM 4):
#
# $$\#\text{params} = k\,\big(H (D + H) + 2H\big).$$
#
# So at the same H the GRU has 3/4 of the LSTM's recurrent parameters. We count them in the
# layers and check the formula.

# %%
LAYERS = {"RNN": (RNN, 1), "GRU": (GRU, 3), "LSTM": (LSTM, 4)}


def formula(blocks, D, H):
    return blocks * (H * (D + H) + 2 * H)


def counted(layer):
    return sum(p.numel() for p in layer.parameters())


E = 32                                                    # the char LM's embedding size = D
count_rows, counts_ok = [], True
for H in (64, 128, 256):
    for name, (cls, blocks) in LAYERS.items():
        n_counted, n_formula = counted(cls(E, H)), formula(blocks, E, H)
        counts_ok &= n_counted == n_formula
        count_rows.append([name, E, H, n_formula, n_counted])
print(markdown_table(["layer", "D", "H", "formula k (H (D + H) + 2H)", "counted"], count_rows))
print("Every count matches the formula." if counts_ok else "A COUNT DIFFERS FROM THE FORMULA.")

# %% [markdown]
# ## 2. Time per batch
#
# Forward and backward of one layer over a batch (N = 32 sequences of T = 64 steps, D = 32
# inputs, float32, one BLAS thread), the fastest of several repeats after one warm-up (the
# repeats take turns between the layers, so a busy moment on the machine hits all three). The
# loss is $\langle \text{output}, R \rangle$ for a fixed random $R$, so the backward does the
# full BPTT.

# %%
quick = opts.quick
SPEED_HIDDEN = (64,) if quick else (64, 128, 256)
speed_T, speed_N, repeats = (32, 16, 3) if quick else (64, 32, 7)
speed_x = minigrad.tensor(opts.rng.standard_normal((speed_T, speed_N, E)).astype(np.float32))
speed = {name: {} for name in LAYERS}
for H in SPEED_HIDDEN:
    upstream = minigrad.tensor(opts.rng.standard_normal((speed_T, speed_N, H)).astype(np.float32))
    layers_at_H = {name: cls(E, H) for name, (cls, _) in LAYERS.items()}
    times = {name: [] for name in LAYERS}
    for repeat in range(repeats + 1):
        for name, layer in layers_at_H.items():       # round-robin: a busy moment hits all three
            layer.zero_grad()
            start = time.perf_counter()
            output, _ = layer(speed_x)
            (output * upstream).sum().backward()
            times[name].append(time.perf_counter() - start)
    for name in LAYERS:                               # the fastest repeat after one warm-up: the
        speed[name][H] = 1e3 * min(times[name][1:])   # one least disturbed by other processes
print(markdown_table(["layer"] + [f"ms per batch, H = {H}" for H in SPEED_HIDDEN],
                     [[name] + [speed[name][H] for H in SPEED_HIDDEN] for name in LAYERS]))
for H in SPEED_HIDDEN:
    print(f"H = {H}: GRU / LSTM time = {speed['GRU'][H] / speed['LSTM'][H]:.2f} "
          f"(parameters: 0.75)")

# %% [markdown]
# The GRU does 3/4 of the LSTM's matrix work, but its step has more small elementwise
# operations (the reset gate multiplies the hidden projection before the candidate's tanh,
# and the two projections stay apart), so at small H, where those dominate, it need not be
# faster.
#
# ## 3. Learning curves on the same task
#
# The character LM of lesson 3: Embedding (E = 32) -> LSTM or GRU -> Linear, Adam with
# clipping, the same batches for every model (the data generator is seeded alike). Three
# models: LSTM at hidden size H, GRU at the same H (fewer parameters), and a GRU widened to
# about the LSTM's total parameter count. Full mode trains each with 2 seeds.

# %%
settings = dict(max_chars=200_000 if quick else 1_000_000, hidden=64 if quick else 128,
                steps=50 if quick else 600, batch_size=16 if quick else 32,
                seq_len=32 if quick else 64, eval_every=25 if quick else 50,
                seeds=[opts.seed] if quick else [opts.seed, opts.seed + 1])
vocab, train_ids, val_ids = load_corpus(settings["max_chars"])
V, H = len(vocab), settings["hidden"]


def model_params(kind, hidden):
    return sum(p.numel() for p in CharLM(V, hidden, kind=kind).parameters())


lstm_params = model_params("lstm", H)
H_equal = min(range(H, 2 * H), key=lambda h: abs(model_params("gru", h) - lstm_params))
configs = {f"LSTM H={H}": ("lstm", H), f"GRU H={H}": ("gru", H), f"GRU H={H_equal}": ("gru", H_equal)}

runs = {name: [] for name in configs}
for name, (kind, hidden) in configs.items():
    for seed in settings["seeds"]:
        minigrad.manual_seed(seed)
        model = CharLM(V, hidden, kind=kind)
        history = train_char_lm(model, train_ids, val_ids, settings["steps"], np.random.default_rng(seed),
                                batch_size=settings["batch_size"], seq_len=settings["seq_len"],
                                eval_every=settings["eval_every"], desc=f"{name} seed {seed}")
        history["parameters"] = sum(p.numel() for p in model.parameters())
        runs[name].append(history)

# %%
table = []
for name, histories in runs.items():
    finals = [h["val_loss"][-1] for h in histories]
    table.append([name, histories[0]["parameters"], np.mean([h["val_loss"][0] for h in histories]),
                  float(np.mean(finals)), float(np.std(finals)) if len(finals) > 1 else "- (one seed)",
                  np.mean([1e3 * h["seconds"] / settings["steps"] for h in histories])])
print(markdown_table(["model", "parameters", "val loss at start", f"val loss after {settings['steps']} steps",
                      "std over seeds", "ms per training step"], table))

fig, axes = plt.subplots(1, 2, figsize=(14, 4.8))
window = max(1, settings["steps"] // 20)
for k, (name, histories) in enumerate(runs.items()):
    for j, h in enumerate(histories):
        label = f"{name} ({h['parameters']:,} params)" if j == 0 else None
        axes[0].plot(h["val_step"], h["val_loss"], "o-", color=f"C{k}", markersize=3,
                     alpha=1.0 if j == 0 else 0.5, label=label)
        axes[1].plot(h["time"], smooth(h["train_loss"], window), color=f"C{k}", alpha=1.0 if j == 0 else 0.5, label=label)
unigram = unigram_entropy(train_ids, V)
for ax in axes:
    ax.axhline(unigram, color="0.4", linestyle=":", label="unigram entropy")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
axes[0].set_xlabel("training step (batches)")
axes[0].set_title("validation loss" + (", lighter: second seed" if len(settings["seeds"]) > 1 else ", one seed"))
axes[1].set_xlabel("training time (s, measured, without evaluation)")
axes[1].set_title(f"train loss ({window}-step mean) against wall-clock time")
fig.suptitle("LSTM vs GRU, character LM on stdlib source, same batches")
fig.tight_layout()
opts.savefig(fig, "learning_curves")

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.2))
for k, name in enumerate(LAYERS):
    ax.plot(SPEED_HIDDEN, [speed[name][h] for h in SPEED_HIDDEN], "o-", color=f"C{k + 3}", label=name)
ax.set_xlabel("hidden size H")
ax.set_ylabel("forward + backward time (ms per batch)")
ax.set_title(f"One layer, N = {speed_N}, T = {speed_T}, D = {E}, float32")
ax.set_xticks(SPEED_HIDDEN)
ax.grid(alpha=0.3)
ax.legend()
opts.savefig(fig, "speed")

# %%
final = {name: float(np.mean([h["val_loss"][-1] for h in hs])) for name, hs in runs.items()}
start = {name: float(np.mean([h["val_loss"][0] for h in hs])) for name, hs in runs.items()}
best = min(final, key=final.get)
lstm_name, gru_name = f"LSTM H={H}", f"GRU H={H}"
gap = final[gru_name] - final[lstm_name]
spread = max([float(np.std([h["val_loss"][-1] for h in hs])) for hs in runs.values()] + [0.0])
print(f"Lowest validation loss: {best} ({final[best]:.3f} nats). At the same H the GRU ends "
      f"{abs(gap):.3f} nats {'above' if gap > 0 else 'below'} the LSTM with "
      f"{runs[gru_name][0]['parameters'] / runs[lstm_name][0]['parameters']:.0%} of its parameters (whole model)"
      + (f"; the seeds spread by {spread:.3f}, so " + ("the difference is within seed noise."
         if abs(gap) <= 2 * spread else "the difference is larger than seed noise.")
         if len(settings["seeds"]) > 1 else " (one seed: no error bar in quick mode)."))
opts.save_json("results", {
    "parameter_counts": {name: {str(h): formula(b, E, h) for h in (64, 128, 256)}
                         for name, (_, b) in LAYERS.items()},
    "counts_match_formula": counts_ok,
    "ms_per_batch": {name: {str(h): t for h, t in times.items()} for name, times in speed.items()},
    "speed_setting": {"T": speed_T, "N": speed_N, "D": E, "repeats": repeats},
    "models": {name: {"kind": kind, "hidden": hidden, "parameters": runs[name][0]["parameters"],
                      "start_val_loss": start[name], "final_val_loss": final[name],
                      "final_val_loss_per_seed": [h["val_loss"][-1] for h in runs[name]],
                      "val_step": runs[name][0]["val_step"],
                      "val_loss_per_seed": [h["val_loss"] for h in runs[name]],
                      "ms_per_step": float(np.mean([1e3 * h["seconds"] / settings["steps"] for h in runs[name]]))}
               for name, (kind, hidden) in configs.items()},
    "lstm": lstm_name, "gru": gru_name, "gru_equal_params": f"GRU H={H_equal}",
    "best": best, "settings": settings,
})

# %% [markdown]
# ## What we saw
#
# - At equal H the GRU has exactly 3/4 of the LSTM's recurrent parameters (formula and count
#   agree). Its time per batch is not 3/4: elementwise work and memory traffic matter at
#   these sizes.
# - On next-character prediction the two learn at a similar pace; compare the gap with the
#   spread between seeds before calling a winner (Chung et al. 2014 and Jozefowicz et al.
#   2015 found no consistent winner either).
#
# ## Exercises
#
# 1. Derive the GRU's backward for $z$ by hand from $h_t = n + z (h_{t-1} - n)$ and check it
#    against `gru_step_backward` in `layers/gru.py`.
# 2. Run the gradient-reach experiment of lesson 5 on a GRU. Which bias plays the role of
#    the forget bias, and what value gives $z \approx 0.95$?
# 3. Time the layers at H = 512 and 1024. Where does the GRU / LSTM ratio approach 0.75, and
#    why there?
# 4. Train with 3 seeds for 2000 steps and add error bars to the validation curves.
# 5. Give the LSTM and GRU the same *training time* instead of the same steps. Who wins now?
