# %% [markdown]
# # Lesson 11: Extremely long sequences
#
# **Question.** How do we train on a sequence of 100,000 steps, and what does each way of
# doing it cost?
#
# Backpropagation through time (BPTT) keeps every step's activations until the backward pass,
# so its memory grows with the length T; attention keeps a T x T weight matrix, so its memory
# grows with T^2. Three tools keep memory bounded, each with its own price:
#
# 1. **Truncated BPTT** (`layers/tbptt.py`): cut the stream into chunks of k steps, carry the
#    recurrent state from chunk to chunk but *detach* it, so each backward stops at the chunk
#    start. Memory O(k), whatever the length. Price: no gradient reaches back more than k steps.
# 2. **Memory-efficient attention** (`layers/efficient_attention.py`): read keys in blocks
#    with an online softmax; the T x T weights are never stored. Memory O(T * hd + block^2).
#    Price: none in what it computes (it is exact); the work is still O(T^2) scores (section 4
#    measures how the time grows at the lengths we can run).
# 3. **Sliding-window attention**: each query sees only the last `window` keys. Time and
#    memory O(T * window). Price: a dependency farther back than the window is invisible.
#
# Quick mode (`--quick`) trains on a 10,000-step stream (to stay within seconds on two CPU
# cores: about 0.3 ms per step) and takes attention to T = 16,384; the full run uses a
# 100,000-step stream and T = 65,536. Memory is measured with Python's
# `tracemalloc`, which sees every NumPy allocation: "peak" is the most bytes alive at once
# during the measured code, not counting the data that existed before it.

# %%
import math
import time

import numpy as np

import minigrad
from layers import LSTM
from layers.attention import scaled_dot_product_attention
from layers.efficient_attention import memory_efficient_attention
from layers.sequence_loss import sequence_cross_entropy
from layers.tbptt import chunks, detach_state, train_tbptt
from lessons._charlm import CharLM
from lessons._measure import MiB, is_tracing, start_tracing, stop_tracing, traced_peak
from lessons._shared import markdown_table, progress, setup
from lessons.tasks import CharVocab, stdlib_text, streams

# %% tags=["parameters"]
QUICK = None   # in a notebook: True for the quick run, False for the full one; None leaves
               # it to --quick or the MINIGRAD_LESSON_QUICK environment variable

# %%
opts = setup("11", quick=QUICK)
plt = opts.pyplot()
QUICK = opts.quick

# %% [markdown]
# ## 1. Truncated BPTT on a long stream
#
# A character language model (`CharLM` of `lessons/_charlm.py`, as in lessons 3, 5 and 6:
# embedding 32, one LSTM layer of H = 64, a linear head) reads the Python standard library's
# source as N = 8 parallel streams (`lessons.tasks.streams`: row n is one contiguous stretch
# of text), k = 50 steps at a time. After each chunk the state (h, c)
# is detached and carried into the next chunk: the model *reads* the whole stream in order,
# but each backward covers 50 steps only.
#
# While it trains, we trace the chunk that ends at step 200, 500, 1,000, 2,000, ...: the peak of
# what is allocated while that chunk runs is the memory training needs at that point in the
# stream (what is older is either freed or constant: the weights, Adam's moments, the carried
# state). Tracing only those chunks keeps the run fast (tracemalloc triples the cost of a step).
# If TBPTT does what it promises, the curve is flat.

# %%
STREAM_STEPS = 10_000 if QUICK else 100_000   # time steps per stream row
N_STREAMS, K, HIDDEN, EMBED = 8, 50, 64, 32

text = stdlib_text(N_STREAMS * STREAM_STEPS + 1)
vocab = CharVocab.from_text(text)
rows = streams(vocab.encode_array(text), N_STREAMS)[:, :STREAM_STEPS + 1]     # (N, L + 1)
inputs, targets = rows[:, :-1], rows[:, 1:]                                    # (N, L) each
V = len(vocab)

minigrad.manual_seed(opts.seed)
model = CharLM(V, HIDDEN, kind="lstm", embed_size=EMBED, forget_bias=1.0)   # ids (N, T) -> (N, T, V)
optimizer = minigrad.optim.Adam(model.parameters(), lr=3e-3)
n_chunks = math.ceil(STREAM_STEPS / K)
checkpoints = sorted({c for c in (200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
                      if c <= STREAM_STEPS} | {STREAM_STEPS})
tbptt_peaks = {}
bar = progress(range(n_chunks), desc=f"TBPTT over {STREAM_STEPS:,} steps")


def after_chunk(index, loss):
    """Called after chunk ``index``: trace the next chunk if it ends at a checkpoint."""
    steps = min((index + 1) * K, STREAM_STEPS)
    if is_tracing():                               # this chunk was traced: read and stop
        tbptt_peaks[steps] = stop_tracing()
    if min(steps + K, STREAM_STEPS) in checkpoints and steps < STREAM_STEPS:
        start_tracing()
    bar.update(1)
    if index % 20 == 0:
        bar.set_postfix(loss=f"{loss:.3f}")


start = time.perf_counter()
result = train_tbptt(model, (inputs, targets), K, sequence_cross_entropy, optimizer, dim=1,
                     clip_grad_norm=1.0, callback=after_chunk)
tbptt_seconds = time.perf_counter() - start
bar.close()
losses = np.array(result.losses)
window = max(1, len(losses) // 10)
loss_start, loss_end = losses[:window].mean(), losses[-window:].mean()
print(f"{STREAM_STEPS:,} steps x {N_STREAMS} streams in {tbptt_seconds:.1f} s "
      f"({STREAM_STEPS / tbptt_seconds:,.0f} steps/s); loss (nats/char) "
      f"{loss_start:.3f} (first tenth) -> {loss_end:.3f} (last tenth); uniform guess {math.log(V):.3f}")

# %% [markdown]
# ## 2. What full BPTT would need
#
# The same model, one forward and one backward over the first T steps, with nothing cut: we
# measure a few short lengths T and fit bytes per step. The expectation, before measuring: the
# LSTM keeps per step its gates (N, 4H), h, c and tanh(c) (N, H) for the backward, 7NH floats,
# and the head keeps the logits and their softmax (N, V) twice; the backward adds about as much
# again while it runs.

# %%
full_lengths = [100, 200, 400, 800] if QUICK else [250, 500, 1000, 2000]
expected_per_step = (7 * N_STREAMS * HIDDEN + 2 * N_STREAMS * V) * 4   # bytes, forward only
full_peaks = {}
for T in full_lengths:
    x_ids, y_ids = minigrad.tensor(inputs[:, :T]), minigrad.tensor(targets[:, :T])

    def full_bptt():
        logits, _ = model(x_ids)
        sequence_cross_entropy(logits, y_ids).backward()
    _, full_peaks[T] = traced_peak(full_bptt)
    model.zero_grad()
slope, intercept = np.polyfit(full_lengths, [full_peaks[T] for T in full_lengths], 1)
print(f"full BPTT: {slope:,.0f} bytes per step measured (forward-only expectation "
      f"{expected_per_step:,} bytes per step)")

rows_table = []
for steps in checkpoints:
    extrapolated = intercept + slope * steps
    rows_table.append([f"{steps:,}", f"{tbptt_peaks[steps] / MiB:.2f}",
                       f"{extrapolated / MiB:,.0f}" + ("" if steps in full_peaks else " (extrapolated)"),
                       f"{extrapolated / tbptt_peaks[steps]:,.0f}x"])
print(markdown_table(["stream steps", "TBPTT peak (MiB)", "full BPTT (MiB)", "full / TBPTT"],
                     rows_table))
tbptt_growth = tbptt_peaks[checkpoints[-1]] / tbptt_peaks[checkpoints[0]]
print(f"TBPTT peak at {checkpoints[-1]:,} steps / at {checkpoints[0]:,} steps = {tbptt_growth:.2f} "
      f"(length ratio {checkpoints[-1] / checkpoints[0]:.0f}); full BPTT at 100,000 steps would "
      f"need {(intercept + slope * 100_000) / 2 ** 30:.1f} GiB.")

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
ax.loglog(checkpoints, [tbptt_peaks[s] / MiB for s in checkpoints], "o-", label=f"TBPTT, k = {K} (measured)")
ax.loglog(full_lengths, [full_peaks[T] / MiB for T in full_lengths], "s", color="C3",
          label="full BPTT (measured)")
line = np.array([full_lengths[0], checkpoints[-1]])
ax.loglog(line, (intercept + slope * line) / MiB, "--", color="C3", label="full BPTT (fit, extrapolated)")
ax.set_xlabel("stream length (time steps)")
ax.set_ylabel("peak traced memory (MiB)")
ax.set_title(f"Training memory against stream length (LSTM H={HIDDEN}, N={N_STREAMS})")
ax.grid(alpha=0.3, which="both")
ax.legend()
opts.savefig(fig, "memory_vs_length")

# %% [markdown]
# ## 3. The price: no gradient beyond the chunk
#
# The state's *value* crosses chunk boundaries, so the forward pass can still use something
# seen 10,000 steps ago. But no gradient crosses them: the model is never told that keeping a
# piece of information for longer than k steps would have lowered a loss. Here is the gradient
# of the loss at the last step of a 400-step sequence with respect to each input x_s, against
# the distance t - s, for full BPTT and for TBPTT with k = 50 (an LSTM with forget bias 1, so
# that the full gradient reaches far).

# %%
T_REACH, K_REACH = 400, 50
reach_lstm = LSTM(4, 32, forget_bias=1.0, dtype="float64")
x_reach = minigrad.tensor(opts.rng.standard_normal((T_REACH, 1, 4)), dtype="float64",
                          requires_grad=True)
upstream = minigrad.tensor(opts.rng.standard_normal((1, 32)), dtype="float64")
out, _ = reach_lstm(x_reach)
(out[-1] * upstream).sum().backward()
reach_full = np.abs(x_reach.grad.numpy()).sum(axis=(1, 2))[::-1]      # index = distance t - s
x_reach.grad, state = None, None
for piece in chunks(x_reach, K_REACH):
    out, state = reach_lstm(piece, detach_state(state))
(out[-1] * upstream).sum().backward()                                    # last chunk only
reach_tbptt = np.abs(x_reach.grad.numpy()).sum(axis=(1, 2))[::-1]
farthest_full = int(np.nonzero(reach_full)[0].max())
farthest_tbptt = int(np.nonzero(reach_tbptt)[0].max())
VANISHED = 1e-3                        # 1,000x weaker than at the loss's own step: too little to learn from
relative_full = reach_full / reach_full[0]                               # 1 at distance 0
vanished_from = int(np.argmax(relative_full < VANISHED)) if (relative_full < VANISHED).any() else None
print(f"farthest input step with a nonzero gradient: full BPTT {farthest_full} steps back "
      f"(|grad| there {reach_full[farthest_full]:.1e}); TBPTT k={K_REACH}: {farthest_tbptt} steps back, "
      f"exactly 0 beyond")
print(f"full BPTT's gradient relative to distance 0: {relative_full[K_REACH]:.1e} at distance "
      f"{K_REACH} (where TBPTT cuts), {relative_full[farthest_full]:.1e} at {farthest_full}; below "
      f"{VANISHED:g} from distance {vanished_from} on")
truncation_cost = (
    f"nearly nothing here: full BPTT's own gradient is already below {VANISHED:g} from "
    f"{vanished_from} steps back (k = {K_REACH}), {relative_full[farthest_full]:.0e} at "
    f"{farthest_full} steps" if vanished_from is not None and vanished_from <= K_REACH else
    f"the gradient from {K_REACH} to {vanished_from or farthest_full} steps back, where full "
    f"BPTT still has {relative_full[K_REACH]:.1e} of the last step's")

fig, ax = plt.subplots(figsize=(7, 4))
distance = np.arange(T_REACH)
ax.semilogy(distance, reach_full, label="full BPTT")
ax.semilogy(distance[:farthest_tbptt + 1], reach_tbptt[:farthest_tbptt + 1], linewidth=2.5,
            label=f"TBPTT, k = {K_REACH} (exactly 0 beyond)")
ax.axvline(K_REACH - 1, color="0.5", linestyle=":")
ax.set_xlabel("distance t - s (steps back from the loss)")
ax.set_ylabel("|dL_t / dx_s| (sum over features)")
ax.set_title("Gradient reach: truncated BPTT stops at the chunk start")
ax.grid(alpha=0.3)
ax.legend()
opts.savefig(fig, "gradient_reach")

# %% [markdown]
# ## 4. Memory-efficient attention against plain attention
#
# One head (N = nh = 1, hd = 32), causal, a forward and a backward. Plain attention stores the
# T x T weights (4 T^2 bytes in float32: 1 GiB at T = 16,384, 16 GiB at 65,536) and needs
# several arrays of that size while it runs; we skip it where the weights alone would pass
# a cap (64 MiB in quick mode, 1 GiB in the full run) and say so. The memory-efficient version
# keeps O(T * hd) arrays (q, k, v, out, their gradients) and a few block x block score
# tiles per CPU thread. It shares its blocks among threads (`layers/cpu_threads.py`; by
# default one per core, up to 8); we fix two, so that the memory figures are the same on
# every machine.

# %%
HD, BLOCK, WORKERS = 32, 512, 2
attn_lengths = [1024, 2048, 4096, 16384] if QUICK else [1024, 4096, 16384, 65536]
plain_cap = 64 * MiB if QUICK else 2 ** 30


REPEATS = 3                            # timed runs per length (median, and a spread of slopes)


def attention_step(fn, T, **kwargs):
    """(median seconds, peak bytes, [seconds of each run]) of fn(q, k, v) forward and backward
    at length T: REPEATS untimed-by-tracing runs for the time (tracemalloc slows Python down
    ~3x), one traced run for the peak (inputs made before tracing are not counted)."""
    q, k, v = (minigrad.tensor(opts.rng.standard_normal((1, 1, T, HD)).astype(np.float32),
                               requires_grad=True) for _ in range(3))
    grad_out = minigrad.tensor(opts.rng.standard_normal((1, 1, T, HD)).astype(np.float32))

    def run():
        start = time.perf_counter()
        out = fn(q, k, v, **kwargs)
        out.backward(grad_out)
        return time.perf_counter() - start
    times = [run() for _ in range(REPEATS)]
    _, peak = traced_peak(run)
    return float(np.median(times)), peak, times


attn = {"plain": {}, "efficient": {}}
for T in attn_lengths:
    attn["efficient"][T] = attention_step(memory_efficient_attention, T, is_causal=True,
                                          block_size=BLOCK, workers=WORKERS)
    if 4 * T * T <= plain_cap:
        attn["plain"][T] = attention_step(scaled_dot_product_attention, T, is_causal=True)
T_MAX = attn_lengths[-1]
full_weights = 4 * T_MAX * T_MAX
# The bound: out, grad_k, grad_v and one share of grad_q per thread are 5 arrays of T * hd
# floats; with lse, D and each block's small temporaries, well under 8.  Plus each thread's
# block x block tiles (P and dS in backward, the scores in forward): 4 in all for two threads.
efficient_bound = 8 * T_MAX * HD * 4 + 4 * BLOCK * BLOCK * 4
rows_attn = []
for T in attn_lengths:
    plain = attn["plain"].get(T)
    rows_attn.append([f"{T:,}", f"{4 * T * T / MiB:,.0f}",
                      f"{plain[0]:.2f}" if plain else "skipped",
                      f"{plain[1] / MiB:,.1f}" if plain else f"(weights alone {4 * T * T / 2 ** 30:.2g} GiB)",
                      f"{attn['efficient'][T][0]:.2f}", f"{attn['efficient'][T][1] / MiB:.1f}"])
print(markdown_table(["T", "T x T weights (MiB)", "plain time (s)", "plain peak (MiB)",
                      "efficient time (s)", "efficient peak (MiB)"], rows_attn))
def time_exponent(data, run=None):
    """Slope of log(time) against log(T) over the longest 3 lengths: the median times, or
    run number ``run`` alone."""
    Ts = sorted(data)[-3:]
    times = [data[T][0] if run is None else data[T][2][run] for T in Ts]
    return float(np.polyfit(np.log(Ts), np.log(times), 1)[0])


def growth_word(exponent):
    """What a measured exponent says, in words (the text must agree with the number)."""
    if exponent < 1.2:
        return "about linear"
    if exponent < 1.8:
        return "between linear and quadratic at these lengths"
    return "about quadratic"


eff_exponent = time_exponent(attn["efficient"])
eff_spread = [time_exponent(attn["efficient"], r) for r in range(REPEATS)]
print(f"memory-efficient attention's time grows as T^{eff_exponent:.2f} (one slope per run: "
      f"{min(eff_spread):.2f}-{max(eff_spread):.2f}): {growth_word(eff_exponent)}")
eff_peak = attn["efficient"][T_MAX][1]
print(f"memory-efficient attention at T = {T_MAX:,}: peak {eff_peak / MiB:.1f} MiB, "
      f"{full_weights / eff_peak:,.0f}x less than the {full_weights / 2 ** 30:g} GiB of the full "
      f"weights (bound 8 T hd + 4 block^2 floats = {efficient_bound / MiB:.1f} MiB)")

# %% [markdown]
# ## 5. Sliding-window attention: linear cost, limited sight
#
# With `window = 256` the blocked kernel skips every tile outside the band, so its work grows
# as T x (window + block) instead of T^2: the time per query should stay about constant as T
# grows. (Tiles are 128 x 128 here so that the band is not mostly padding.)

# %%
WINDOW = 256
window_lengths = [2048, 4096, 8192, 16384] if QUICK else [4096, 16384, 65536, 262144]
sliding = {T: attention_step(memory_efficient_attention, T, is_causal=True, window=WINDOW,
                             block_size=128, workers=WORKERS) for T in window_lengths}
rows_window = [[f"{T:,}", f"{sliding[T][0]:.3f}", f"{1e6 * sliding[T][0] / T:.2f}",
                f"{sliding[T][1] / MiB:.1f}"] for T in window_lengths]
print(markdown_table(["T", "time (s)", "time per query (us)", "peak (MiB)"], rows_window))
per_query = [sliding[T][0] / T for T in window_lengths]
print(f"time per query from T = {window_lengths[0]:,} to {window_lengths[-1]:,}: "
      f"x{per_query[-1] / per_query[0]:.2f} (O(T x window) keeps it about flat; full causal "
      f"attention's per-query time grows with T)")

# %% [markdown]
# What it cannot see: change the value vector of one key and look at the last query's output.
# A key 100 steps back is inside the window; one 300 steps back is outside it, so the output
# does not move at all, however large the change. (Stacking L windowed layers reaches
# L x (window - 1) steps back, which is how Longformer-style models see farther.)

# %%
T_SIGHT = 1024
q, k, v = (minigrad.tensor(opts.rng.standard_normal((1, 1, T_SIGHT, HD)).astype(np.float32))
           for _ in range(3))
sight = {}
for distance in (100, 300):
    v_changed = v.numpy().copy()
    v_changed[0, 0, T_SIGHT - 1 - distance] += 10.0
    v_changed = minigrad.tensor(v_changed)
    for name, kwargs in (("window", {"window": WINDOW}), ("full", {})):
        before = memory_efficient_attention(q, k, v, is_causal=True, **kwargs).numpy()[0, 0, -1]
        after = memory_efficient_attention(q, k, v_changed, is_causal=True, **kwargs).numpy()[0, 0, -1]
        sight[(name, distance)] = float(np.abs(after - before).max())
print(markdown_table(["key distance from the query", f"window {WINDOW}: max |change|",
                      "full attention: max |change|"],
                     [[d, f"{sight[('window', d)]:.2e}", f"{sight[('full', d)]:.2e}"]
                      for d in (100, 300)]))

# %%
fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(12, 4.5))
for name, data, style in (("plain", attn["plain"], "s-"), ("memory-efficient", attn["efficient"], "o-"),
                          (f"sliding window {WINDOW}", sliding, "^-")):
    Ts = sorted(data)
    ax_time.loglog(Ts, [data[T][0] for T in Ts], style, label=name)
    ax_mem.loglog(Ts, [data[T][1] / MiB for T in Ts], style, label=name)
ax_mem.loglog(attn_lengths, [4 * T * T / MiB for T in attn_lengths], ":", color="0.4",
              label="T x T float32 weights")
ax_time.set_title("Time, forward + backward (causal, hd = 32)")
ax_time.set_ylabel("seconds")
ax_mem.set_title("Peak traced memory")
ax_mem.set_ylabel("MiB")
for ax in (ax_time, ax_mem):
    ax.set_xlabel("sequence length T")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
opts.savefig(fig, "attention_vs_T")

# %%
opts.save_json("results", {
    "quick": QUICK,       # "mode" and "seed" are added by save_json
    "tbptt": {"k": K, "n_streams": N_STREAMS, "hidden": HIDDEN, "stream_steps": STREAM_STEPS,
              "seconds": tbptt_seconds, "loss_first_tenth": loss_start, "loss_last_tenth": loss_end,
              "peak_bytes_by_length": {str(s): tbptt_peaks[s] for s in checkpoints},
              "peak_growth": tbptt_growth},
    "full_bptt": {"peak_bytes_by_length": {str(T): full_peaks[T] for T in full_lengths},
                  "bytes_per_step": slope, "expected_forward_bytes_per_step": expected_per_step,
                  "extrapolated_bytes_by_length": {str(s): intercept + slope * s
                                                   for s in checkpoints + [100_000]}},
    "gradient_reach": {"T": T_REACH, "k": K_REACH, "farthest_full": farthest_full,
                       "farthest_tbptt": farthest_tbptt,
                       "full_relative_at_k": float(relative_full[K_REACH]),
                       "full_relative_at_farthest": float(relative_full[farthest_full]),
                       "vanished_threshold": VANISHED, "full_vanished_from": vanished_from,
                       "truncation_loses": truncation_cost},
    "attention": {"head_size": HD, "block_size": BLOCK, "causal": True,
                  "plain_cap_bytes": plain_cap, "largest_T": T_MAX,
                  "timing": f"median of {REPEATS} untraced runs",
                  "efficient": {str(T): {"seconds": s, "peak_bytes": p, "seconds_each_run": runs}
                                for T, (s, p, runs) in attn["efficient"].items()},
                  "plain": {str(T): {"seconds": s, "peak_bytes": p, "seconds_each_run": runs}
                            for T, (s, p, runs) in attn["plain"].items()},
                  "efficient_time_exponent": eff_exponent,
                  "efficient_time_exponent_spread": [min(eff_spread), max(eff_spread)],
                  "efficient_peak_bytes_at_largest_T": eff_peak,
                  "efficient_bound_bytes": efficient_bound,
                  "full_weights_bytes_at_largest_T": full_weights},
    "sliding_window": {"window": WINDOW, "block_size": 128,
                       "by_T": {str(T): {"seconds": s, "peak_bytes": p}
                                for T, (s, p, _) in sliding.items()},
                       "time_per_query_growth": per_query[-1] / per_query[0],
                       "change_inside_window": sight[("window", 100)],
                       "change_outside_window": sight[("window", 300)],
                       "change_full_attention_far": sight[("full", 300)]},
})

# %% [markdown]
# ## What we saw

# %%
print(f"- TBPTT trained through {STREAM_STEPS:,} steps with a peak of "
      f"{tbptt_peaks[checkpoints[-1]] / MiB:.1f} MiB; its peak grew x{tbptt_growth:.2f} while the "
      f"stream grew x{checkpoints[-1] / checkpoints[0]:.0f}. Full BPTT costs {slope / 1024:,.0f} KiB "
      f"per step: {(intercept + slope * STREAM_STEPS) / 2 ** 30:.1f} GiB for this stream.")
print(f"- The price: the gradient of a loss reaches {farthest_tbptt} steps back under TBPTT "
      f"(k = {K_REACH}) against {farthest_full} with full BPTT. What truncation loses: "
      f"{truncation_cost}. Dependencies longer than k are not learnt from gradients"
      + ("; at this initialisation full BPTT's gradient is as good as gone there too."
         if vanished_from is not None and vanished_from <= K_REACH else "."))
print(f"- Memory-efficient attention at T = {T_MAX:,} peaked at {eff_peak / MiB:.1f} MiB, "
      f"{full_weights / eff_peak:,.0f}x below the T x T weights, for the same result; its time "
      f"({attn['efficient'][T_MAX][0]:.1f} s, median of {REPEATS}) grows as T^{eff_exponent:.2f} "
      f"(spread {min(eff_spread):.2f}-{max(eff_spread):.2f} over the runs): "
      f"{growth_word(eff_exponent)}; the work is T^2 / 2 scores, and at these lengths the "
      "per-block overheads still show.")
print(f"- Sliding-window attention's time per query changed x{per_query[-1] / per_query[0]:.2f} "
      f"over a x{window_lengths[-1] // window_lengths[0]} range of T, but a key "
      f"{300} steps back changed the output by {sight[('window', 300)]:.1e} (window {WINDOW}) "
      f"against {sight[('full', 300)]:.1e} with full attention.")

# %% [markdown]
# ## Exercises
#
# 1. Train the char LM with k = 10, 50 and 200 for the same number of steps. Which learns
#    fastest per step, and which per second? Where does the memory go?
# 2. Build an adding-problem stream whose two markers are 150 steps apart and train an LSTM
#    with TBPTT at k = 50 and k = 200. Which learns, and why?
# 3. Run section 4 without `is_causal`. What happens to the time and to the memory of each?
# 4. The memory-efficient peak in section 4 has a part that grows with T and a part that does
#    not. Change `block_size` and find each one in the table.
# 5. Stack two sliding-window attention layers of window 256. How far back does the last
#    query's output now depend on v? Check it as in section 5.
