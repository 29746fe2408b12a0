# %% [markdown]
# # Lesson 8: Attention
#
# **Question.** What does attention look at, and why do we divide the scores by $\sqrt{d}$?
#
# Attention is a soft dictionary look-up. A query $q$ is compared with every key $k_j$; the
# scores become weights with a softmax, and the output is the weighted mean of the values:
#
# $$\mathrm{attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V,
# \qquad Q\ (T, d),\ K\ (S, d),\ V\ (S, d_v).$$
#
# Row $t$ of the (T, S) weight matrix says how much output step $t$ reads from input step $s$.
# We (1) run it on a tiny example we can check by eye, (2) show with numbers what goes wrong
# without the $1/\sqrt{d}$, and (3) train a recurrent encoder-decoder *with* attention to turn
# real dates in 16 languages ("Samstag, 7. März 1998") into ISO dates ("1998-03-07"), and look
# at its weights: the model learns, unsupervised, which input characters each output digit
# comes from.
#
# Run time: quick mode (2,000 dates, 150 steps) took 15 s of CPU time (one BLAS thread); full
# mode (16,000 dates, 1,500 steps of 128, a wider model) is estimated from its per-step cost
# at 10-15 minutes on 2 CPU cores.

# %%
import datetime
import math
import time

import numpy as np

import minigrad
import minigrad.nn.functional as F
from layers import attention
from lessons._charlm import single_thread_blas
from lessons._date_task import (accuracy, attention_image, load_dates, majority_baseline,
                                plot_loss_curve, source_labels)
from lessons._gru_attention_model import DateTranslator
from lessons._shared import markdown_table, progress, setup
from lessons.tasks.dates import decode_targets, encode_sources, render

# %% tags=["parameters"]
QUICK = None   # in a notebook: True for the quick run, False for the full one; None leaves
               # it to --quick or the MINIGRAD_LESSON_QUICK environment variable

# %%
opts = setup("08", quick=QUICK)
plt = opts.pyplot()
single_thread_blas()        # small matrices: one BLAS thread is faster (see lessons/_charlm.py)
started = time.perf_counter()

# %% [markdown]
# ## 1. Attention on a tiny example
#
# Three keys in $d = 4$ dimensions, each pointing along its own axis, and a value per key.
# The first query points along key 1, the second half-way between keys 0 and 2, the third is
# zero. Expect: query 0 reads mostly value 1, query 1 splits between values 0 and 2, and
# query 2, which matches nothing, averages all three (equal scores give equal weights).

# %%
keys = np.array([[4.0, 0, 0, 0], [0, 4.0, 0, 0], [0, 0, 4.0, 0]])          # (S=3, d=4)
values = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])                   # (S, dv=2)
queries = np.array([[0, 2.0, 0, 0], [1.0, 0, 1.0, 0], [0, 0, 0, 0]])       # (T=3, d)
out, weights = attention(*(minigrad.tensor(a, dtype="float64") for a in (queries, keys, values)))
out, weights = out.numpy(), weights.numpy()

# the same formula in plain numpy, to check layers.attention
scores_np = queries @ keys.T / math.sqrt(keys.shape[1])                     # (T, S)
weights_np = np.exp(scores_np - scores_np.max(1, keepdims=True))
weights_np /= weights_np.sum(1, keepdims=True)
tiny_error = float(max(np.abs(weights - weights_np).max(), np.abs(out - weights_np @ values).max()))
print(markdown_table(["query", "weights on keys 0, 1, 2", "output"],
                     [[t, ", ".join(f"{w:.3f}" for w in weights[t]),
                       ", ".join(f"{o:+.3f}" for o in out[t])] for t in range(3)]))
print(f"layers.attention against numpy: max |difference| = {tiny_error:.1e}")

# %% [markdown]
# ## 2. Why divide by $\sqrt{d}$: softmax saturation
#
# For $q, k$ with independent entries of mean 0 and variance 1, $q \cdot k = \sum_{i=1}^d q_i k_i$
# is a sum of $d$ terms of variance 1, so its variance is $d$. At $d = 512$ the scores spread
# over about $\pm 23$, and $e^{23} \approx 10^{10}$: the softmax puts (almost) all weight on the
# largest score. Its Jacobian $\partial p / \partial z = \mathrm{diag}(p) - p p^\top$ is then
# (almost) zero, so no gradient reaches the queries and keys. Dividing by $\sqrt{d}$ brings the
# variance back to 1 for every $d$.
#
# The experiment: S = 32 keys, many random $(q, K)$ draws per $d$. For each we measure the
# largest softmax weight and the norm of the gradient that reaches the softmax's input
# $z$ (the scaled or unscaled scores) for a random upstream gradient $g \sim N(0, I)$:
# $\lVert (\mathrm{diag}(p) - p p^\top) g \rVert$, computed by minigrad's backward.

# %%
dims = [4, 8, 16, 32, 64, 128, 256, 512]
S_keys = 32
trials = 400 if opts.quick else 4000
saturation = {"d": dims, "score_variance": [], "max_weight": {"unscaled": [], "scaled": []},
              "grad_norm": {"unscaled": [], "scaled": []}, "near_one_hot": {"unscaled": [], "scaled": []}}
for d in dims:
    q = opts.rng.standard_normal((trials, 1, d))
    k = opts.rng.standard_normal((trials, S_keys, d))
    scores = (q @ k.transpose(0, 2, 1))[:, 0]                               # (trials, S)
    saturation["score_variance"].append(float(scores.var()))
    upstream = minigrad.tensor(opts.rng.standard_normal(scores.shape), dtype="float64")
    for name, factor in (("unscaled", 1.0), ("scaled", 1.0 / math.sqrt(d))):
        z = minigrad.tensor(scores * factor, dtype="float64", requires_grad=True)
        p = F.softmax(z, dim=-1)                                            # (trials, S)
        p.backward(upstream)
        top = p.detach().numpy().max(axis=1)
        saturation["max_weight"][name].append(float(top.mean()))
        saturation["near_one_hot"][name].append(float((top > 0.99).mean()))
        saturation["grad_norm"][name].append(float(np.linalg.norm(z.grad.numpy(), axis=1).mean()))

rows = [[d, saturation["score_variance"][i],
         saturation["max_weight"]["unscaled"][i], saturation["max_weight"]["scaled"][i],
         saturation["near_one_hot"]["unscaled"][i],
         saturation["grad_norm"]["unscaled"][i], saturation["grad_norm"]["scaled"][i]]
        for i, d in enumerate(dims)]
print(markdown_table(["d", "var(q.k)", "max weight, unscaled", "max weight, /sqrt(d)",
                      "share > 0.99, unscaled", "|grad|, unscaled", "|grad|, /sqrt(d)"], rows))

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
styles = {"unscaled": dict(color="C3", marker="o", label="softmax(q.k), unscaled"),
          "scaled": dict(color="C0", marker="s", label="softmax(q.k / sqrt(d))")}
for name, style in styles.items():
    axes[0].plot(dims, saturation["max_weight"][name], **style)
    axes[1].plot(dims, saturation["grad_norm"][name], **style)
axes[0].axhline(1 / S_keys, color="0.5", linestyle=":", label=f"uniform, 1/S = 1/{S_keys}")
axes[0].set_ylabel("mean of the largest weight (probability)")
axes[0].set_title(f"Softmax saturation over S = {S_keys} keys")
axes[1].set_yscale("log")
axes[1].set_ylabel("mean ||dL/dz|| for g ~ N(0, I) (unitless)")
axes[1].set_title("Gradient through the softmax")
for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xlabel("d, size of queries and keys")
    ax.grid(alpha=0.3)
    ax.legend()
fig.tight_layout()
opts.savefig(fig, "softmax_saturation")

i512 = dims.index(512)
ratio = saturation["grad_norm"]["scaled"][i512] / saturation["grad_norm"]["unscaled"][i512]
print(f"At d = 512: var(q.k) = {saturation['score_variance'][i512]:.0f} (theory: 512); the "
      f"largest weight is {saturation['max_weight']['unscaled'][i512]:.3f} unscaled "
      f"({100 * saturation['near_one_hot']['unscaled'][i512]:.0f}% of rows above 0.99) against "
      f"{saturation['max_weight']['scaled'][i512]:.3f} scaled; the gradient is "
      f"{ratio:.0f}x larger with the scaling.")

# %% [markdown]
# ## 3. A task with a visible alignment: normalising dates
#
# Sources are real date strings from Babel's CLDR data (16 locales, 9 formats, see
# `lessons/tasks/dates.py`); targets are `YYYY-MM-DD`. To write the day, a model must find the
# day in the source: at the front in German, after the month in American English, at the end
# in Hungarian. An encoder-decoder without attention squeezes the whole source into one
# vector; with attention, every output step looks back at all the encoder states.
#
# The model (Luong et al. 2015, "global" attention, built from minigrad layers in
# `lessons/_gru_attention_model.py`; read it alongside):
#
# - **encoder**: character embedding, then a bidirectional GRU: states $h_s$ (N, S, 2H);
# - **decoder**: a GRU over the target prefix (teacher forcing: it reads the true previous
#   character), starting from $\tanh(W_b [h^\rightarrow_S; h^\leftarrow_1])$; its state $d_t$
#   asks a query $q_t = W_q d_t$; keys $k_s = W_k h_s$; values the $h_s$ themselves;
# - context $c_t = \mathrm{attention}(q_t, K, V)$ (scaled dot product, padding masked out),
#   then $\tilde d_t = \tanh(W_c [d_t; c_t])$ and logits $W_o \tilde d_t$. The one line that
#   does it: `context, weights = attention(self.query(d), keys, states, attn_mask=allowed)`.
#
# Teacher forcing lets the decoder GRU run over all T steps at once in training. Decoding
# runs greedily, one character at a time: feed back the most likely character.

# %%
n_examples = 2000 if opts.quick else 16000
max_len = 30                     # S with <eos>: drops the few longest strings
data, train, test = load_dates(n_examples, opts.rng, max_len=max_len)
V_src, V_tgt = len(data.source_vocab), len(data.target_vocab)
PAD = data.source_vocab.pad
print(f"{len(train.sources)} training and {len(test.sources)} held-out dates; S = {max_len}, "
      f"T = {data.tgt.shape[1]}, {V_src} source and {V_tgt} target symbols. Examples:")
for s, t in list(zip(train.sources, train.targets))[:5]:
    print(f"  {s!r:32} -> {t}")

# %% [markdown]
# Training: Adam, gradient clipping at norm 1, cross-entropy on the 11 characters after
# `<bos>` (10 date characters and `<eos>`).

# %%
E_emb, H, A = (24, 64, 64) if opts.quick else (32, 128, 128)
steps = 150 if opts.quick else 1500
batch = 64 if opts.quick else 128
T_out = data.tgt.shape[1] - 1                    # 11 = 10 characters + <eos>
model = DateTranslator(V_src, V_tgt, E_emb, H, A, pad=PAD, bos=data.target_vocab.bos)
optimizer = minigrad.optim.Adam(model.parameters(), lr=3e-3)
n_params = sum(p.numel() for p in model.parameters())
print(f"model: {n_params} parameters; {steps} steps of {batch} dates")

losses = []
train_started = time.perf_counter()
bar = progress(range(steps), desc="train")
for step in bar:
    rows_ = opts.rng.integers(0, len(train.sources), size=batch)
    src, tgt = minigrad.tensor(train.src[rows_]), train.tgt[rows_]
    logits, _ = model(src, minigrad.tensor(tgt[:, :-1]))                      # (N, T-1, V)
    loss = F.cross_entropy(logits.reshape(-1, V_tgt), minigrad.tensor(tgt[:, 1:].reshape(-1)))
    optimizer.zero_grad()
    loss.backward()
    minigrad.optim.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    losses.append(loss.item())
    bar.set_postfix(loss=f"{loss.item():.3f}")
train_seconds = time.perf_counter() - train_started


# %%
def evaluate(split, limit=None):
    """Greedy predictions on ``split``: exact-match and per-character accuracy."""
    predicted = decode_targets(model.translate(split.src[:limit], T_out)[0])
    return *accuracy(predicted, split.targets[:limit]), predicted


test_exact, test_chars, test_predicted = evaluate(test)
train_exact, train_chars, _ = evaluate(train, limit=len(test.sources))

# A baseline that ignores the source: at each of the 10 positions, the most common
# training character ('-' at positions 4 and 7, '1' or '2' for the millennium, ...).
majority, baseline_exact, baseline_chars = majority_baseline(train.targets, test.targets)

print(f"\ntraining loss: {losses[0]:.3f} at step 1 -> {np.mean(losses[-20:]):.3f} (mean of the last 20 "
      f"steps), {train_seconds:.1f} s")
print(markdown_table(["split", "exact match", "characters right"],
                     [["train (greedy)", train_exact, train_chars],
                      ["held out (greedy)", test_exact, test_chars],
                      [f"held out, always {majority!r} (ignores the source)", baseline_exact,
                       baseline_chars]]))
wrong = [(s, p, t) for s, p, t in zip(test.sources, test_predicted, test.targets) if p != t]
right = [(s, p, t) for s, p, t in zip(test.sources, test_predicted, test.targets) if p == t]
print("some held-out predictions:")
for s, p, t in (right[:3] + wrong[:4]):
    print(f"  {s!r:34} -> {p:12} {'ok' if p == t else 'expected ' + t}")

# %%
fig, ax = plot_loss_curve(plt, losses, "GRU encoder-decoder with attention on dates",
                          "cross-entropy (nats per character)")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()
opts.savefig(fig, "date_training_loss")

# %% [markdown]
# ## 4. What the decoder looks at
#
# The same day, 7 March 1998, written in four languages with the day, month and year in
# different places. Each heatmap row is an output character, each column an input character;
# the colour is its attention weight (rows sum to 1). Look for the year digits of the output
# lighting up the year in the input, wherever it stands.

# %%
shown = [("de_DE", "full"), ("en_US", "long"), ("hu_HU", "full"), ("fi_FI", "medium")]
example_date = datetime.date(1998, 3, 7)
texts = [render(example_date, loc, fmt) for loc, fmt in shown]
S_show = max(len(t) for t in texts) + 1
src_show = encode_sources(texts, data.source_vocab, S_show)
ids_show, weights_show = model.translate(src_show, T_out)
outputs_show = decode_targets(ids_show)

fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
for ax, text, out_text, row_ids, w, (loc, fmt) in zip(axes.flat, texts, outputs_show,
                                                       ids_show[:, 1:], weights_show, shown):
    in_labels = source_labels(text)
    out_labels = [data.target_vocab.tokens[i] for i in row_ids]          # generated characters
    image = attention_image(ax, w[:, :len(in_labels)], in_labels, out_labels)   # (T-1, characters)
    ax.set_xlabel("input character (source)")
    ax.set_ylabel("output character (generated)")
    ax.set_title(f"{loc}: {text!r}\n-> {out_text!r}", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.03, label="attention weight")
fig.suptitle("Attention weights of the date model (rows: output step, columns: input character)")
fig.tight_layout()
opts.savefig(fig, "attention_heatmaps")


# %% [markdown]
# How sharp is the alignment? For each output digit of the held-out dates, we measure the
# largest attention weight (1 = looks at one character only) and whether the character it
# looks at most is a digit. Compare with a uniform spread over the non-padding input.

# %%
def attention_statistics(split, limit=300):
    src = split.src[:limit]
    _, w = model.translate(src, T_out)
    lengths = (src != PAD).sum(axis=1)                                 # characters + <eos>
    digit_positions = [0, 1, 2, 3, 5, 6, 8, 9]                        # output steps writing digits
    peak = w[:, digit_positions].max(axis=-1)                          # (N, 8)
    argmax_chars = np.take_along_axis(src, w[:, digit_positions].argmax(-1), axis=1)
    tokens = np.array(data.source_vocab.tokens)
    on_digit = np.char.isdigit(tokens[argmax_chars])
    return float(peak.mean()), float((1.0 / lengths).mean()), float(on_digit.mean())


peak_weight, uniform_weight, digit_share = attention_statistics(test)
print(f"held-out dates, output digits: mean largest attention weight {peak_weight:.2f} "
      f"(a uniform spread would give {uniform_weight:.2f}); the most-attended input character "
      f"is a digit for {100 * digit_share:.0f}% of them.")
sharp = peak_weight > 2 * uniform_weight
print(("The attention is " + ("concentrated" if sharp else "not much sharper than uniform")
       + f": {peak_weight / uniform_weight:.1f}x the uniform weight, after {steps} steps "
       + f"(held-out exact match {100 * test_exact:.1f}%, characters {100 * test_chars:.1f}% "
       + f"against {100 * baseline_chars:.1f}% for the baseline that ignores the source)."))

# %%
opts.save_json("results", {
    "tiny_example_max_error": tiny_error,
    "saturation": saturation,
    "grad_ratio_scaled_over_unscaled_d512": ratio,
    "dates": {"n_train": len(train.sources), "n_test": len(test.sources), "steps": steps,
              "batch": batch, "parameters": n_params, "initial_loss": losses[0],
              "final_loss": float(np.mean(losses[-20:])), "train_seconds": train_seconds,
              "test_exact": test_exact, "test_chars": test_chars, "train_exact": train_exact,
              "baseline_chars": baseline_chars, "uniform_log_loss": math.log(V_tgt)},
    "attention": {"peak_weight": peak_weight, "uniform_weight": uniform_weight,
                  "digit_share": digit_share,
                  "examples": [{"locale": loc, "format": fmt, "source": t, "output": o}
                               for (loc, fmt), t, o in zip(shown, texts, outputs_show)]},
    "seconds": time.perf_counter() - started,
    "cpu_seconds": time.process_time(),      # what the run cost on a busy machine, too
})

# %% [markdown]
# ## What we saw
#
# - Attention is a softmax-weighted mean of values; the weights are a (T, S) matrix we can plot.
# - Without $1/\sqrt{d}$ the scores have variance $d$: at $d = 512$ the softmax is close to
#   one-hot for most rows and the gradient through it shrinks as $d$ grows, while with the
#   scaling both stay flat (the table and figure above give the factors).
# - Trained only to produce ISO dates, the decoder learns to look at the right part of the
#   source for each output character, in every language: the alignment is a by-product.
#
# ## Exercises
#
# 1. Re-run section 2 with S = 4 and S = 256 keys. How does the saturation depend on S? Why?
# 2. Train the date model without the $1/\sqrt{d}$ (pass `scale=1.0` to `attention`) with
#    A = 256. Does it learn more slowly? Look at the heatmaps early in training.
# 3. Remove attention: feed the decoder only the encoder summary (set the context to zero).
#    How does the held-out accuracy change, and on which locales does it fail first?
# 4. Replace the dot-product score by Bahdanau's additive score
#    $v^\top \tanh(W_q d_t + W_k h_s)$. Compare accuracy and the sharpness of the heatmaps.
# 5. Which output characters have the most diffuse attention? Explain why `<eos>` and the
#    dashes need not look anywhere in particular.
