# %% [markdown]
# # Lesson 3: The RNN from scratch
#
# **Question.** Can a vanilla RNN learn to write Python, one character at a time, and how
# does its gradient flow back through time?
#
# An Elman RNN reads a sequence $x_0, \dots, x_{T-1}$ and keeps one hidden vector,
#
# $$h_t = \tanh(x_t W_{ih}^\top + b + h_{t-1} W_{hh}^\top), \qquad h_{-1} = 0,$$
#
# the same weights at every step. Backpropagation through time (BPTT) is the chain rule on
# the unrolled loop: the total gradient reaching $h_t$ is what the loss sends directly plus
# what step $t+1$ sends back,
#
# $$\frac{\partial L}{\partial h_t} = \frac{\partial \ell_t}{\partial h_t} + \Big(\frac{\partial L}{\partial h_{t+1}} \odot (1 - h_{t+1}^2)\Big) W_{hh},$$
#
# and each weight's gradient is a sum over the steps. Part 1 writes this by hand in NumPy and
# checks it against minigrad's `layers.RNN`. Part 2 trains a character language model on the
# Python standard library's source and samples from it before and after training.

# %%
import math

import numpy as np

import minigrad
from lessons._charlm import (CharLM, bits, load_corpus, sample, single_thread_blas, smooth,
                             train_char_lm, unigram_entropy)
from lessons._shared import markdown_table, setup
from layers import RNN

# %% tags=["parameters"]
QUICK = None   # in a notebook: True for the quick run, False for the full one; None leaves
               # it to --quick or the MINIGRAD_LESSON_QUICK environment variable

# %%
opts = setup("03", quick=QUICK)
plt = opts.pyplot()
single_thread_blas()

# %% [markdown]
# ## 1. BPTT by hand
#
# A tiny RNN: D = 3 inputs, H = 4 hidden units, T = 6 steps, a batch of N = 2. The loss is
# $L = \sum_t \langle h_t, G_t \rangle$ for a fixed random $G$ (T, N, H): its gradient with
# respect to $h_t$ is exactly $G_t$, so every step receives its own random upstream gradient
# (all-ones would hide transposition mistakes, lesson 2). The forward keeps every $h_t$; the
# backward walks the steps in reverse and carries `grad_h_next`, the part of
# $\partial L/\partial h_t$ that comes from the future. These two loops are the same
# equations as `rnn_step_forward` / `rnn_step_backward` in `layers/rnn.py`.

# %%
D, H, T, N = 3, 4, 6, 2
rng = opts.rng
W_ih = rng.standard_normal((H, D)) * 0.5
W_hh = rng.standard_normal((H, H)) * 0.5
b = rng.standard_normal(H) * 0.1
x = rng.standard_normal((T, N, D))
G = rng.standard_normal((T, N, H))                 # dL/dh_t from the loss at step t

# forward: keep every state, h[t + 1] = h_t, h[0] = h_{-1} = 0
h = np.zeros((T + 1, N, H))
for t in range(T):
    h[t + 1] = np.tanh(x[t] @ W_ih.T + b + h[t] @ W_hh.T)      # (N, D)@(D, H) + (N, H)@(H, H)
loss_by_hand = float((h[1:] * G).sum())

# backward: reverse order, carrying what step t+1 sends to h_t
grads = {"weight_ih": np.zeros_like(W_ih), "weight_hh": np.zeros_like(W_hh), "bias": np.zeros(H)}
hidden_grads = np.zeros((T, N, H))
grad_h_next = np.zeros((N, H))
for t in reversed(range(T)):
    grad_h = G[t] + grad_h_next                    # total dL/dh_t: direct + from the future
    hidden_grads[t] = grad_h
    grad_a = grad_h * (1 - h[t + 1] ** 2)          # through tanh: tanh'(a) = 1 - h^2
    grads["weight_ih"] += grad_a.T @ x[t]          # (H, N) @ (N, D): one term per step, summed
    grads["weight_hh"] += grad_a.T @ h[t]          # (H, N) @ (N, H), h[t] is h_{t-1}
    grads["bias"] += grad_a.sum(axis=0)
    grad_h_next = grad_a @ W_hh                    # (N, H) @ (H, H): sent back to step t-1

# %% [markdown]
# The same computation with `layers.RNN` in float64, with the same weights (PyTorch keeps two
# biases, `bias_ih` and `bias_hh`, that are always added: we put $b$ in one and 0 in the
# other, so each gets the gradient of $b$). `record=True` keeps the layer's own
# $\partial L/\partial h_t$ for every step.

# %%
layer = RNN(D, H, dtype="float64", record=True)
with minigrad.no_grad():
    layer.weight_ih_l0.data[...] = W_ih
    layer.weight_hh_l0.data[...] = W_hh
    layer.bias_ih_l0.data[...] = b
    layer.bias_hh_l0.data[...] = 0.0
output, _ = layer(minigrad.tensor(x))              # (T, N, H)
loss = (output * minigrad.tensor(G)).sum()
loss.backward()

by_layer = {"weight_ih": layer.weight_ih_l0.grad.numpy(), "weight_hh": layer.weight_hh_l0.grad.numpy(),
            "bias": layer.bias_ih_l0.grad.numpy()}
differences = {name: float(np.abs(by_layer[name] - grads[name]).max()) for name in grads}
differences["dL/dh_t (all t)"] = float(np.abs(layer.hidden_grads[0].numpy() - hidden_grads).max())
differences["loss"] = abs(loss.item() - loss_by_hand)
print(markdown_table(["quantity", "max |by hand - layers.RNN|"],
                     [[name, f"{value:.1e}"] for name, value in differences.items()]))
bptt_error = max(differences.values())
print(f"\nBPTT by hand {'agrees with' if bptt_error < 1e-10 else 'DISAGREES with'} the layer "
      f"(largest difference {bptt_error:.1e}, float64).")
print(markdown_table(["t", "||dL/dh_t|| by hand", "of which from the future"],
                     [[t, float(np.linalg.norm(hidden_grads[t])),
                       float(np.linalg.norm(hidden_grads[t] - G[t]))] for t in range(T)]))

# %% [markdown]
# The last step gets nothing from the future; every earlier step gets a share, multiplied
# once more by $\mathrm{diag}(1 - h^2) W_{hh}$ per step it travels. Lesson 4 follows that
# product over 100 steps.
#
# ## 2. A character language model on Python source
#
# Data: the `.py` files of the standard library (lessons.tasks.stdlib_text), the last 10%
# held out for validation. Model: Embedding (E = 32) -> RNN (H) -> Linear, predicting the
# next character at every position of random windows of length T. Adam, gradients clipped to
# norm 1 (lesson 4 shows why). Two reference losses, in nats per character:
#
# - $\ln V$: a model that knows nothing (uniform over the V characters); an untrained
#   network starts near it.
# - the unigram entropy: the best model that ignores context (it only knows that spaces and
#   `e` are common). Going below it means the RNN uses what came before.

# %%
quick = opts.quick
settings = dict(max_chars=200_000 if quick else 2_000_000, hidden=64 if quick else 256,
                steps=60 if quick else 2000, batch_size=16 if quick else 32,
                seq_len=32 if quick else 64, eval_every=20 if quick else 100)
vocab, train_ids, val_ids = load_corpus(settings["max_chars"])
V = len(vocab)
uniform_loss = math.log(V)
unigram_loss = unigram_entropy(train_ids, V)
print(f"corpus: {len(train_ids):,} training and {len(val_ids):,} validation characters, V = {V}")
print(f"reference losses: ln V = {uniform_loss:.3f} nats ({bits(uniform_loss):.2f} bits/char), "
      f"unigram entropy = {unigram_loss:.3f} nats ({bits(unigram_loss):.2f} bits/char)")

model = CharLM(V, settings["hidden"], kind="rnn")
n_params = sum(p.numel() for p in model.parameters())
print(f"model: {model.kind.upper()} H = {settings['hidden']}, {n_params:,} parameters")

# %% [markdown]
# Before training, samples are noise: the untrained network spreads its probability almost
# evenly over the characters.

# %%
PROMPT = "def "
TEMPERATURES = (0.5, 1.0)
sample_rng = np.random.default_rng(opts.seed + 1)
n_sample = 120 if quick else 400
samples_before = sample(model, vocab, PROMPT, n_sample, 1.0, sample_rng)
print("--- sample before training (temperature 1.0) ---\n" + samples_before)

# %%
history = train_char_lm(model, train_ids, val_ids, settings["steps"], opts.rng,
                        batch_size=settings["batch_size"], seq_len=settings["seq_len"],
                        eval_every=settings["eval_every"], desc="RNN char LM")
initial_loss, final_loss = history["val_loss"][0], history["val_loss"][-1]
print(markdown_table(["step", "val loss (nats)", "bits/char"],
                     [[s, v, bits(v)] for s, v in zip(history["val_step"], history["val_loss"])]))
print(f"trained {settings['steps']} steps in {history['seconds']:.1f} s "
      f"({1e3 * history['seconds'] / settings['steps']:.0f} ms per step)")

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
window = max(1, settings["steps"] // 20)
ax.plot(history["step"], history["train_loss"], color="C0", alpha=0.25, label="train loss (per batch)")
ax.plot(history["step"], smooth(history["train_loss"], window), color="C0",
        label=f"train loss ({window}-step mean)")
ax.plot(history["val_step"], history["val_loss"], "o-", color="C1", label="validation loss")
ax.axhline(uniform_loss, color="0.4", linestyle="--", label=f"ln V = {uniform_loss:.2f} (uniform guess)")
ax.axhline(unigram_loss, color="C2", linestyle=":", label=f"unigram entropy = {unigram_loss:.2f}")
ax.set_xlabel("training step (batches)")
ax.set_ylabel("cross-entropy (nats per character)")
secondary = ax.secondary_yaxis("right", functions=(bits, lambda b_: b_ * math.log(2)))
secondary.set_ylabel("bits per character")
ax.set_title(f"Character RNN on stdlib source (H = {settings['hidden']}, T = {settings['seq_len']})")
ax.grid(alpha=0.3)
ax.legend(loc="center right")
opts.savefig(fig, "loss_curve")

# %%
samples_after = {temperature: sample(model, vocab, PROMPT, n_sample, temperature, sample_rng)
                 for temperature in TEMPERATURES}
for temperature, text in samples_after.items():
    print(f"--- sample after training (temperature {temperature}) ---\n{text}\n")
opts.save_text("samples", "\n\n".join(
    [f"# before training, temperature 1.0\n{samples_before}"]
    + [f"# after training, temperature {t}\n{s}" for t, s in samples_after.items()]))

# %%
below_unigram = final_loss < unigram_loss
print(f"validation loss: {initial_loss:.3f} -> {final_loss:.3f} nats "
      f"({bits(initial_loss):.2f} -> {bits(final_loss):.2f} bits/char); "
      f"the start is {'near' if abs(initial_loss - uniform_loss) < 0.1 else 'away from'} ln V = {uniform_loss:.3f}.")
print("The model " + ("went below the unigram entropy: it uses context." if below_unigram else
                      f"is still above the unigram entropy {unigram_loss:.3f}: it has learned "
                      "character frequencies, not yet context (train longer: the full run does)."))
opts.save_json("results", {
    "bptt_by_hand_max_abs_error": bptt_error, "bptt_differences": differences,
    "vocab_size": V, "ln_V": uniform_loss, "unigram_entropy": unigram_loss,
    "initial_val_loss": initial_loss, "final_val_loss": final_loss,
    "final_train_loss": float(np.mean(history["train_loss"][-window:])),
    "final_bits_per_char": bits(final_loss), "below_unigram": below_unigram,
    "val_step": history["val_step"], "val_loss": history["val_loss"],
    "settings": settings, "parameters": n_params, "seconds": history["seconds"],
    "sample_before": samples_before, "samples_after": {str(t): s for t, s in samples_after.items()},
})

# %% [markdown]
# ## What we saw
#
# - BPTT is two loops: forward keeping every state, backward in reverse carrying
#   $\partial L/\partial h$ from step to step, each weight gradient a sum over steps. Our
#   hand-written loop matches `layers.RNN` to rounding error.
# - The untrained model starts near $\ln V$ and samples noise. Training first learns the
#   character frequencies (the unigram line), then context: indentation after a colon,
#   `self.`, closing brackets. Lower temperatures give more regular, more repetitive text.
#
# ## Exercises
#
# 1. Add the gradient of $h_{-1}$ (the initial state) to the hand-written backward and check
#    it against `layer(x, h0)` with `h0.requires_grad=True`.
# 2. Replace tanh with ReLU in both the hand loop and the layer (`nonlinearity="relu"`).
#    What changes in the backward?
# 3. Train with `seq_len=8` instead of 64. The model never sees more than 8 characters of
#    context: what happens to the loss and to the indentation of the samples?
# 4. Sample with temperatures 0.1 and 2. Explain what you see with $\mathrm{softmax}(z/\tau)$.
# 5. Remove the gradient clipping (`max_norm=float("inf")`) and use `lr=3e-2`. Watch the
#    `grad_norm` entries of the history.
