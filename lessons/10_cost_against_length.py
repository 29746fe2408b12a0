# %% [markdown]
# # Lesson 10: Cost against length
#
# **Question.** How do the time and the memory of one training step grow with the sequence
# length T, for an RNN, an LSTM, a GRU and a Transformer encoder layer, and where do they cross?
#
# Two ways of mixing information along a sequence, two cost laws:
#
# - **Recurrence** (RNN, LSTM): $h_t = \mathrm{cell}(x_t, h_{t-1})$. The work is T steps of a
#   small (N, H) @ (H, G) product: *linear* in T. Memory too: BPTT keeps each step's gates and
#   states, a fixed number of (N, H) arrays per step. But step t needs $h_{t-1}$: the T steps
#   form a chain that no amount of hardware can run side by side. The *critical path* (the
#   longest chain of operations that must wait for each other) is T steps long.
# - **Self-attention** (Transformer): every position scores every other one,
#   $\mathrm{softmax}(Q K^\top / \sqrt{hd})\, V$ with a (T, T) score matrix per head. The work
#   and the memory of those scores are *quadratic* in T; but all T rows are computed in one
#   batched matrix product, so the critical path is one step per layer, whatever T.
#
# We measure both laws on this machine: the time of a forward + backward pass (the median over
# several rounds, with the spread of the slopes the rounds give), and
# the peak memory traced by Python's `tracemalloc` (NumPy reports its allocations to it), for T
# from tens to thousands, fit the slope on log-log axes (slope 1 = linear, 2 = quadratic), and
# find where the curves cross. The memory is host memory: run this lesson on the CPU.

# %%
import contextlib
import importlib
import math
import time

import numpy as np

import minigrad
from layers import GRU, LSTM, RNN, TransformerEncoderLayer
from lessons._charlm import single_thread_blas
from lessons._measure import MiB, traced_peak
from lessons._shared import markdown_table, progress, setup

# %% tags=["parameters"]
QUICK = None   # in a notebook: True for the quick run, False for the full one; None leaves
               # it to --quick or the MINIGRAD_LESSON_QUICK environment variable

# %%
opts = setup("10", quick=QUICK)
plt = opts.pyplot()
single_thread_blas()      # one BLAS thread: the comparison is of algorithms, not of thread pools

# %% [markdown]
# ## 1. Settings
#
# The same width for all: hidden size H = model size E. The Transformer layer is PyTorch's
# default encoder layer (post-norm, feed-forward 4E, ReLU) with nh = 2 heads and no dropout,
# not causal. The batch N is fixed. A training step is: forward, an upstream gradient of the
# output's shape (random, fixed), backward into every parameter and the input.
#
# The full run goes to T = 8,192; there the Transformer's (N, nh, T, T) float32 weights alone
# would take N * nh * T^2 * 4 bytes, so it is skipped wherever those exceed a cap (and says so).

# %%
MODELS = ("RNN", "LSTM", "GRU", "Transformer")
COLORS = {"RNN": "C0", "LSTM": "C1", "GRU": "C2", "Transformer": "C3"}
NUM_HEADS = 2
if opts.quick:
    LENGTHS = [32, 64, 128, 256, 512, 1024]
    N, E, ROUNDS, MIN_SECONDS = 8, 32, 3, 0.01
    ATTENTION_CAP = 64 * MiB
else:
    LENGTHS = [32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]
    N, E, ROUNDS, MIN_SECONDS = 8, 64, 5, 0.05
    ATTENTION_CAP = 2 ** 30
FIT_POINTS = 4                          # fit the slope on the longest 4 lengths: the T -> inf law


def make_model(name):
    minigrad.manual_seed(opts.seed)
    if name == "RNN":
        return RNN(E, E)
    if name == "LSTM":
        return LSTM(E, E)
    if name == "GRU":
        return GRU(E, E)
    return TransformerEncoderLayer(E, NUM_HEADS, dim_feedforward=4 * E, dropout=0.0)


def attention_bytes(T):
    """Bytes of one (N, nh, T, T) float32 array: the attention weights the backward keeps."""
    return N * NUM_HEADS * T * T * 4


# %% [markdown]
# ## 2. Measuring one training step
#
# Time: the runs go in `ROUNDS` rounds over all lengths (32, 64, ..., then again), so that a
# burst of load hits every length alike instead of spoiling one of them; in each round a
# length runs until `MIN_SECONDS` have passed (short steps run several times) and keeps its
# best run (other programs only ever make a run slower). A length's time is the **median** of
# its rounds, and each round also gives its own slope: the exponent is the median of those
# slopes, and their spread (smallest to largest) says how far to trust it. We keep two clocks: wall time
# (what you wait) and this process's CPU time (`time.process_time`, the work done: a busy
# machine inflates it much less; with one BLAS thread the two agree on an idle machine).
#
# Memory: one more run under `tracemalloc`; its peak is the most bytes alive at once during
# the step, not counting the inputs and weights made before it. (Tracing slows Python down,
# so the timed runs are not traced.)

# %%
def training_step(model, x, upstream):
    model.zero_grad()
    x.grad = None
    out = model(x)
    out = out[0] if isinstance(out, tuple) else out      # RNN/LSTM return (output, state)
    out.backward(upstream)                               # dL/dout = upstream, (T, N, E)


def best_times(model, x, upstream):
    """(best wall seconds, best CPU seconds) of steps repeated until MIN_SECONDS have passed."""
    wall, cpu, started = [], [], time.perf_counter()
    while not wall or time.perf_counter() - started < MIN_SECONDS:
        begin_wall, begin_cpu = time.perf_counter(), time.process_time()
        training_step(model, x, upstream)
        wall.append(time.perf_counter() - begin_wall)
        cpu.append(time.process_time() - begin_cpu)
    return min(wall), min(cpu)


def random_tensor(T, requires_grad=False):
    return minigrad.tensor(opts.rng.standard_normal((T, N, E)).astype(np.float32),
                           requires_grad=requires_grad)


round_seconds = {name: {} for name in MODELS}       # T -> [one best wall time per round]
round_cpu_seconds = {name: {} for name in MODELS}   # T -> [one best CPU time per round]
peaks = {name: {} for name in MODELS}
skipped = [T for T in LENGTHS if attention_bytes(T) > ATTENTION_CAP]
for name in MODELS:
    model = make_model(name)
    lengths = [T for T in LENGTHS if name != "Transformer" or T not in skipped]
    data = {T: (random_tensor(T, requires_grad=True), random_tensor(T)) for T in lengths}
    for _ in progress(range(ROUNDS), desc=f"{name}, rounds over T"):
        for T in lengths:
            wall, cpu = best_times(model, *data[T])
            round_seconds[name].setdefault(T, []).append(wall)
            round_cpu_seconds[name].setdefault(T, []).append(cpu)
    for T in lengths:
        _, peaks[name][T] = traced_peak(training_step, model, *data[T])   # one step's peak
seconds = {m: {T: float(np.median(v)) for T, v in by_T.items()} for m, by_T in round_seconds.items()}
cpu_seconds = {m: {T: float(np.median(v)) for T, v in by_T.items()}
               for m, by_T in round_cpu_seconds.items()}
if skipped:
    print(f"Transformer skipped at T = {skipped}: its attention weights alone would take "
          f"{attention_bytes(skipped[0]) / MiB:,.0f} MiB or more (cap {ATTENTION_CAP / MiB:,.0f} MiB)")

rows = [[T] + [f"{1e3 * seconds[m][T]:.2f}" if T in seconds[m] else "skipped" for m in MODELS]
        + [f"{peaks[m][T] / MiB:.2f}" if T in peaks[m] else "skipped" for m in MODELS]
        for T in LENGTHS]
print(markdown_table(["T"] + [f"{m} ms" for m in MODELS] + [f"{m} MiB" for m in MODELS], rows))

# %% [markdown]
# ## 3. Slopes on log-log axes
#
# If cost = $a T^b$, then $\log(\text{cost}) = \log a + b \log T$: a straight line of slope $b$
# on log-log axes. Fixed costs (Python's per-call overhead, the weights' gradients) bend the
# curve at small T, so we fit $b$ on the longest lengths only, where the growing term rules.

# %%
def fit_exponent(values):
    """(b, a) of the least-squares fit log(v) = log(a) + b log(T) on the longest FIT_POINTS."""
    lengths = sorted(values)[-FIT_POINTS:]
    b, log_a = np.polyfit(np.log(lengths), np.log([values[T] for T in lengths]), 1)
    return float(b), float(math.exp(log_a))


def round_slopes(by_round):
    """One slope per round: each round's times fitted on their own."""
    return [fit_exponent({T: times[r] for T, times in by_round.items()})[0] for r in range(ROUNDS)]


def exponent_and_spread(by_round):
    """(median, smallest, largest) of the rounds' slopes: the exponent and its spread."""
    slopes = round_slopes(by_round)
    return float(np.median(slopes)), (float(min(slopes)), float(max(slopes)))


exponents = {}
for m in MODELS:
    time_exponent, time_spread = exponent_and_spread(round_seconds[m])
    cpu_exponent, cpu_spread = exponent_and_spread(round_cpu_seconds[m])
    exponents[m] = {"time": time_exponent, "cpu_time": cpu_exponent,
                    "memory": fit_exponent(peaks[m])[0],       # one traced run: no noise to spread
                    "time_spread": time_spread, "cpu_time_spread": cpu_spread}


def with_spread(m, kind):
    low, high = exponents[m][f"{kind}_spread"]
    return f"{exponents[m][kind]:.2f} ({low:.2f}-{high:.2f})"


print(markdown_table(["model", "wall-time exponent (spread over rounds)", "CPU-time exponent",
                      "memory exponent", "fitted on T"],
                     [[m, with_spread(m, "time"), with_spread(m, "cpu_time"),
                       f"{exponents[m]['memory']:.2f}", str(sorted(seconds[m])[-FIT_POINTS:])]
                      for m in MODELS]))

# %% [markdown]
# ## 4. Where the curves cross
#
# At small T the Transformer's step can be the cheaper one: a few large matrix products
# instead of T small ones, each of which pays Python's and NumPy's fixed cost per call. At
# large T its T^2 term wins. Whether and where they cross depends on what one recurrent step
# costs (the RNN's is much cheaper than the LSTM's four gates). The crossing is where the sign of log(Transformer) - log(recurrent) changes between two
# measured lengths; between them we interpolate on the log-log line. (The last change of sign
# counts: beyond it the order holds for every T measured.)

# %%
def crossing(first, second):
    """The T at which ``second`` (dict T -> cost) overtakes ``first`` for good, interpolated
    on log-log axes between the two measured lengths around it; None if it never does."""
    common = sorted(set(first) & set(second))
    gap = [math.log(second[T]) - math.log(first[T]) for T in common]    # > 0: second costs more
    if gap[-1] <= 0:
        return None                                   # second is not above at the longest T
    below = [k for k in range(len(common) - 1) if gap[k] <= 0]
    if not below:
        return None                                   # above at every T measured
    k = below[-1]
    t0, t1 = math.log(common[k]), math.log(common[k + 1])
    return float(math.exp(t0 + (t1 - t0) * gap[k] / (gap[k] - gap[k + 1])))


crossovers = {}
for recurrent in ("RNN", "LSTM", "GRU"):
    for kind, data in (("time", seconds), ("cpu_time", cpu_seconds), ("memory", peaks)):
        crossovers[f"{recurrent} {kind}"] = crossing(data[recurrent], data["Transformer"])


KIND_LABELS = {"time": "wall time", "cpu_time": "CPU time", "memory": "memory"}


def describe_crossing(recurrent, kind):
    """One sentence on where the Transformer's ``kind`` passes the recurrent model's."""
    data, label = {"time": seconds, "cpu_time": cpu_seconds, "memory": peaks}[kind], KIND_LABELS[kind]
    T_cross = crossovers[f"{recurrent} {kind}"]
    common = sorted(set(data[recurrent]) & set(data["Transformer"]))
    ratios = {T: data["Transformer"][T] / data[recurrent][T] for T in common}
    ends = (f"Transformer / {recurrent} = {ratios[common[0]]:.2g} at T = {common[0]:,}, "
            f"{ratios[common[-1]]:.2g} at T = {common[-1]:,}")
    if T_cross is not None:
        return (f"the Transformer's {label} passes the {recurrent}'s at T ~ {T_cross:,.0f} "
                f"(between the measured {max(T for T in common if T <= T_cross):,} and "
                f"{min(T for T in common if T >= T_cross):,}; {ends})")
    if all(r > 1 for r in ratios.values()):
        return f"no crossing: the Transformer's {label} is above the {recurrent}'s at every T ({ends})"
    if all(r <= 1 for r in ratios.values()):
        return (f"no crossing in T = {common[0]:,}..{common[-1]:,}: the Transformer's {label} is "
                f"below the {recurrent}'s at every T ({ends})")
    return f"the {label} curves cross but end with the Transformer below ({ends})"


for recurrent in ("RNN", "LSTM", "GRU"):
    for kind in ("time", "cpu_time", "memory"):
        print(f"{recurrent}, {KIND_LABELS[kind]}: {describe_crossing(recurrent, kind)}")

# %%
fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(13, 5))
for m in MODELS:
    lengths = sorted(seconds[m])
    for ax, data, scale, key in ((ax_time, seconds, 1e3, "time"), (ax_mem, peaks, 1 / MiB, "memory")):
        ax.loglog(lengths, [scale * data[m][T] for T in lengths], "o-", color=COLORS[m],
                  label=f"{m} (slope {exponents[m][key]:.2f})")
        b, a = fit_exponent(data[m])
        fitted = np.array(sorted(data[m])[-FIT_POINTS:], dtype=float)
        ax.loglog(fitted, scale * a * fitted ** b, "--", color=COLORS[m], linewidth=3, alpha=0.35)
ax_mem.loglog(LENGTHS, [attention_bytes(T) / MiB for T in LENGTHS], ":", color="0.4",
              label="one (N, nh, T, T) float32 array")
for ax, kind in ((ax_time, "time"), (ax_mem, "memory")):
    for recurrent in ("RNN", "LSTM", "GRU"):
        T_cross = crossovers[f"{recurrent} {kind}"]
        if T_cross is not None:
            ax.axvline(T_cross, color=COLORS[recurrent], linestyle=":", linewidth=1)
            ax.annotate(f"Transformer > {recurrent}\nT ~ {T_cross:,.0f}", (T_cross, ax.get_ylim()[1]),
                        xytext=(3, {"RNN": -28, "LSTM": -52, "GRU": -76}[recurrent]), textcoords="offset points",
                        fontsize=8, color=COLORS[recurrent])
    ax.set_xlabel("sequence length T (steps)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower right")
ax_time.set_ylabel("ms per training step (median of rounds)")
ax_time.set_title("Time of forward + backward")
ax_mem.set_ylabel("peak traced memory (MiB)")
ax_mem.set_title("Memory of forward + backward")
fig.suptitle(f"Cost against length: N = {N}, H = E = {E}, nh = {NUM_HEADS} "
             f"(dashed: fitted power law on the longest {FIT_POINTS} lengths)")
fig.tight_layout()
opts.savefig(fig, "cost_vs_length")

# %% [markdown]
# ## 5. The critical path: how many steps must wait for each other?
#
# Time on one CPU core hides the difference that matters on a GPU: how much of the work can run
# at once. We count it. Each recurrent step calls its step kernel (`rnn_step_forward`,
# `lstm_step_forward`) with the previous step's h, so call t cannot start before call t-1 has
# finished: the number of calls *is* the length of the chain. Attention calls
# `attention_forward` once per layer, and that one call computes all T x T scores in a single
# batched matrix product: its chain is one call long. We wrap the kernels with a counter for
# one training step (and put them back afterwards).

# %%
# import_module: `layers.attention` as an attribute is the function layers/__init__ re-exports
KERNELS = {importlib.import_module("layers.recurrent_sequence"): ("rnn_step_forward", "rnn_step_backward",
                                       "lstm_step_forward", "lstm_step_backward",
                                       "gru_step_forward", "gru_step_backward"),
           importlib.import_module("layers.attention"): ("attention_forward", "attention_backward")}


@contextlib.contextmanager
def counting_calls():
    """Count calls of the step and attention kernels; yields {kernel name: calls}."""
    counts, originals = {}, []
    for module, names in KERNELS.items():
        for kernel in names:
            original = getattr(module, kernel)
            originals.append((module, kernel, original))
            counts[kernel] = 0

            def counted(*args, _kernel=kernel, _original=original, **kwargs):
                counts[_kernel] += 1
                return _original(*args, **kwargs)
            setattr(module, kernel, counted)
    try:
        yield counts
    finally:
        for module, kernel, original in originals:
            setattr(module, kernel, original)


PATH_LENGTHS = LENGTHS[:3]
critical_path = {m: {} for m in MODELS}
path_rows = []
for m in MODELS:
    model = make_model(m)
    for T in PATH_LENGTHS:
        x = minigrad.tensor(opts.rng.standard_normal((T, N, E)).astype(np.float32), requires_grad=True)
        with counting_calls() as counts:
            training_step(model, x, minigrad.ones(T, N, E))
        forward = sum(c for k, c in counts.items() if k.endswith("forward"))
        backward = sum(c for k, c in counts.items() if k.endswith("backward"))
        critical_path[m][T] = {"forward": forward, "backward": backward}
        path_rows.append([m, T, forward, backward, forward + backward])
print(markdown_table(["model (1 layer)", "T", "sequential kernel calls, forward", "backward",
                      "critical path of a training step"], path_rows))

# %% [markdown]
# ## 6. What the numbers say

# %%
T_long = max(T for T in LENGTHS if T in seconds["Transformer"])
def growth_word(exponent):
    """What a measured exponent says, in words (the text must agree with the number)."""
    if exponent < 1.2:
        return "about linear"
    if exponent < 1.8:
        return "between linear and quadratic: the T^2 term does not rule yet at these lengths"
    return "about quadratic"


conclusions = []
for m in ("RNN", "LSTM", "GRU"):
    per_step_us = 1e6 * seconds[m][LENGTHS[-1]] / LENGTHS[-1]
    conclusions.append(
        f"{m}: time grows as T^{with_spread(m, 'time')} and memory as T^{exponents[m]['memory']:.2f} "
        f"(linear: a fixed cost per step, {per_step_us:.0f} us and "
        f"{peaks[m][LENGTHS[-1]] / LENGTHS[-1] / 1024:.1f} KiB per step at T = {LENGTHS[-1]:,}); "
        f"its critical path is {critical_path[m][PATH_LENGTHS[-1]]['forward']} forward steps at "
        f"T = {PATH_LENGTHS[-1]}: one per time step.")
conclusions.append(
    f"Transformer: time grows as T^{with_spread('Transformer', 'time')} "
    f"({growth_word(exponents['Transformer']['time'])}) and memory as "
    f"T^{exponents['Transformer']['memory']:.2f} ({growth_word(exponents['Transformer']['memory'])}) "
    f"on the longest lengths (the (T, T) scores; one (N, nh, T, T) float32 array is {attention_bytes(T_long) / MiB:,.0f} MiB at "
    f"T = {T_long:,}, of a {peaks['Transformer'][T_long] / MiB:,.0f} MiB peak); its critical path is "
    f"{critical_path['Transformer'][PATH_LENGTHS[-1]]['forward']} attention call per layer, whatever T.")
for recurrent in ("RNN", "LSTM", "GRU"):
    for kind in ("time", "cpu_time", "memory"):
        conclusions.append(f"{recurrent} against Transformer, {KIND_LABELS[kind]}: "
                           f"{describe_crossing(recurrent, kind)}.")
ratio_time = seconds["Transformer"][T_long] / seconds["LSTM"][T_long]
ratio_mem = peaks["Transformer"][T_long] / peaks["LSTM"][T_long]
conclusions.append(
    f"At T = {T_long:,} the Transformer layer's step takes {ratio_time:.1f}x the LSTM's time and "
    f"{ratio_mem:.1f}x its memory; doubling T multiplies these ratios by about "
    f"2^{exponents['Transformer']['time'] - exponents['LSTM']['time']:.1f} and "
    f"2^{exponents['Transformer']['memory'] - exponents['LSTM']['memory']:.1f}.")
print("\n".join("- " + c for c in conclusions))

opts.save_json("results", {
    "settings": {"N": N, "hidden_size": E, "d_model": E, "num_heads": NUM_HEADS,
                 "dim_feedforward": 4 * E, "lengths": LENGTHS, "rounds": ROUNDS, "min_seconds": MIN_SECONDS,
                 "fit_points": FIT_POINTS, "attention_cap_bytes": ATTENTION_CAP,
                 "time": "median over rounds of each round's best run, seconds",
                 "memory": "tracemalloc peak, bytes"},
    "models": {m: {"T": sorted(seconds[m]), "seconds": [seconds[m][T] for T in sorted(seconds[m])],
                   "cpu_seconds": [cpu_seconds[m][T] for T in sorted(seconds[m])],
                   "peak_bytes": [peaks[m][T] for T in sorted(peaks[m])],
                   "seconds_by_round": [round_seconds[m][T] for T in sorted(seconds[m])],
                   "time_exponent": exponents[m]["time"], "cpu_time_exponent": exponents[m]["cpu_time"],
                   "time_exponent_spread": exponents[m]["time_spread"],
                   "cpu_time_exponent_spread": exponents[m]["cpu_time_spread"],
                   "memory_exponent": exponents[m]["memory"],
                   "critical_path": {str(T): c for T, c in critical_path[m].items()},
                   "sequential_steps_per_layer": critical_path[m][PATH_LENGTHS[-1]]["forward"],
                   "sequential_steps_at_T": PATH_LENGTHS[-1]}
               for m in MODELS},
    "crossover_T": crossovers,            # "LSTM time": T where the Transformer overtakes; None if not
    "transformer_skipped_T": skipped,
    "longest_common_T": T_long,
    "conclusions": conclusions,
})

# %% [markdown]
# ## Exercises
#
# 1. On a GPU each kernel launch costs about 10 us, however small the kernel. From the
#    critical path alone, estimate the least time an LSTM forward + backward at T = 8,192 can
#    take there, and compare it with the Transformer's (a few kernels per layer).
# 2. Make the Transformer causal (`is_causal=True`). Does the time halve? Does the memory?
# 3. Double E and rerun. Which crossing moves, and in which direction? Explain with the
#    per-step cost of each model (N H^2 for a recurrent step, N T E + N T^2 for attention).
# 4. Replace plain attention by `layers.memory_efficient_attention` (lesson 11) inside the
#    layer: which exponent changes, and which does not?
# 5. Count the critical path of a 3-layer LSTM and of a 3-layer Transformer encoder. Is it
#    3 T and 3, or can layer 2 of the LSTM start before layer 1 has finished?
