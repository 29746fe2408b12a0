# %% [markdown]
# # Lesson 12: Recurrence returns
#
# **Question.** Lessons 7-11 left a trade: the LSTM carries a fixed state but trains one step
# after another; the Transformer trains all positions at once but keeps a cache that grows with
# the sequence. Since 2020 a family of models has tried to have both: linear attention
# (Katharopoulos et al. 2020), state-space models and Mamba (Gu & Dao 2023), minGRU and minLSTM
# (Feng et al. 2024). Under the names there is **one recurrence**:
#
#     h_t = a_t * h_{t-1} + b_t          (elementwise; a_t, b_t computed from the input x_t)
#
# | model | a_t | b_t | state per layer |
# |---|---|---|---|
# | linear attention | 1 (or a decay gamma) | phi(k_t) v_t^T | nh x hd x hd |
# | minGRU | 1 - z_t, z_t = sigmoid(W_z x_t) | z_t * (W_h x_t) | H |
# | Mamba (selective SSM) | exp(delta_t A) | delta_t B_t x_t | Di x n |
# | LSTM (for contrast) | f_t, but f_t reads h_{t-1} | i_t g_t, reads h_{t-1} | 2H |
#
# The LSTM's gates read h_{t-1}, so step t must wait for step t-1. Here a_t and b_t depend on
# x_t only, and the recurrence is **linear** in h: the composition of two steps is again a step,
# (a, b) then (a', b') = (a' a, a' b + b'), which is associative, so all T states can be
# computed by a parallel scan in log2(T) passes (Blelloch 1990), or in chunks. This lesson
# measures what that buys:
#
# 1. the three ways to compute the recurrence, timed against T;
# 2. generation memory: a fixed state against attention's growing KV cache;
# 3. one model, computed in parallel and step by step, giving the same numbers;
# 4. lesson 7's adding and copy tasks with minGRU and Mamba beside the LSTM and Transformer.
#
# The layers are in `layers/linear_recurrence.py` (+ `layers/scan.py`), `layers/min_rnn.py`,
# `layers/linear_attention.py` and `layers/mamba.py`; the small token models in
# `lessons/_modern_models.py`. **Run time**: the quick run takes about 2 minutes of CPU
# (measured: 95 s user + 16 s system); the full run (T up to 65,536, adding at T = 200, copy at
# lag 100, 1,000 steps) took 14.5 minutes on two busy CPU cores (550 s user + 90 s system).
#
# **What the full run measured** (seed 0, CPU; forward + backward of the recurrence, N = 4,
# D = 64, median of 9):
#
# | T | 256 | 4,096 | 16,384 | 65,536 |
# |---|---|---|---|---|
# | loop (ms) | 1.30 | 26.7 | 92.7 | 461 |
# | scan (ms) | 1.08 | 18.8 | 131 | 991 |
# | chunked, C = 64 (ms) | 0.94 | 6.2 | 30.8 | 160 |
#
# The chunked form wins from T = 256 on; the scan wins up to 4,096 and then loses (T log T work
# on a CPU). Generating 4,096 tokens, the attention model's KV cache grew to 4,194,304 bytes
# while minGRU kept 512, the LSTM 1,024, linear attention 16,896 and Mamba 19,456 bytes.
# Lesson 7's tasks, 1,000 steps: adding at T = 200 learned by the LSTM (MSE 0.0003), the
# Transformer (0.0008) and minGRU (0.0001), not by Mamba (0.171, at the 0.167 baseline); copy at
# lag 100 learned by the Transformer only (accuracy 1.00; LSTM 0.66, Mamba 0.50, minGRU 0.35).

# %% tags=["parameters"]
QUICK = None        # True / False to choose here (a notebook, papermill); None: --quick or env

# %%
import statistics
import time

import numpy as np

import minigrad
from minigrad import backend
from layers.linear_recurrence import MODES, scan_backward, scan_forward
from lessons._charlm import single_thread_blas
from lessons._modern_models import KINDS, LABEL, SequenceModel, available, state_bytes
from lessons._modern_training import accuracy, train
from lessons._shared import markdown_table, progress, setup
from lessons.tasks.adding import BASELINE_MSE, adding_problem
from lessons.tasks.associative_recall import IGNORE
from lessons.tasks.copy_memory import copy_memory

opts = setup("12", quick=QUICK)
plt = opts.pyplot()
single_thread_blas()
results = {"mode": "quick" if opts.quick else "full", "seed": opts.seed,
           "missing_models": [k for k in KINDS if not available(k)]}
if results["missing_models"]:
    print(f"NOT RUN: {', '.join(results['missing_models'])} (their layers are not in layers/)")

# %% [markdown]
# ## 1. Loop, scan, chunked: the same h, three costs
#
# - **loop**: T steps, each a few vector operations: O(T) work, T sequential steps.
# - **scan** (Hillis-Steele): log2(T) passes, each over all T positions: O(T log T) work, but
#   only log2(T) sequential steps. On a GPU each pass is one wide kernel.
# - **chunked**: split T into chunks of C = 64; loop inside all chunks at once (C steps), then
#   carry the state from chunk to chunk (T/C steps): O(T) work, C + T/C sequential steps. This
#   is what Mamba-2 and the fast linear-attention kernels do.
#
# First: all three give the same h. Then each is timed, forward and backward (the backward is
# the same recurrence run in reverse), on N = 4 sequences of D = 64 channels: the median of
# repeats, in CPU seconds of this process (`time.process_time`; on a GPU, wall time after a
# synchronise).

# %%
xp = backend.get_backend(opts.device).xp
on_gpu = opts.device == "cuda"


def clock():
    if on_gpu:
        xp.cuda.Device().synchronize()
        return time.perf_counter()
    return time.process_time()


N_SCAN, D_SCAN = 4, 64
rng = np.random.default_rng(opts.seed)
a = xp.asarray(rng.uniform(0.5, 1.0, size=(N_SCAN, 300, D_SCAN)))      # float64 for the check
b = xp.asarray(rng.normal(size=(N_SCAN, 300, D_SCAN)))
h = {mode: scan_forward(a, b, None, mode)[0] for mode in MODES}
mode_difference = max(float(abs(h[m] - h["loop"]).max()) for m in MODES)
print(f"largest difference between the modes' h (T = 300, float64): {mode_difference:.2e}")

SCAN_LENGTHS = [16, 64, 256, 1024, 4096] if opts.quick else [16, 64, 256, 1024, 4096, 16384,
                                                             65536]
REPEATS = 5 if opts.quick else 9


def time_mode(mode, T):
    a = xp.asarray(rng.uniform(0.5, 1.0, size=(N_SCAN, T, D_SCAN)).astype(np.float32))
    b = xp.asarray(rng.normal(size=(N_SCAN, T, D_SCAN)).astype(np.float32))
    g = xp.asarray(rng.normal(size=(N_SCAN, T, D_SCAN)).astype(np.float32))
    times = []
    for _ in range(REPEATS):
        start = clock()
        _, cache = scan_forward(a, b, None, mode)
        scan_backward(g, cache)
        times.append(clock() - start)
    return statistics.median(times), (max(times) - min(times))


timing = {mode: {} for mode in MODES}
for T in progress(SCAN_LENGTHS, desc="timing loop / scan / chunked"):
    for mode in MODES:
        median, spread = time_mode(mode, T)
        timing[mode][str(T)] = {"seconds": median, "spread": spread}


def crossover(fast, slow="loop"):
    """The smallest T of the grid from which ``fast`` beats ``slow`` at every longer T."""
    wins = [timing[fast][str(T)]["seconds"] < timing[slow][str(T)]["seconds"] for T in SCAN_LENGTHS]
    for i in range(len(SCAN_LENGTHS)):
        if all(wins[i:]):
            return SCAN_LENGTHS[i]
    return None


results["scan_timing"] = {"lengths": SCAN_LENGTHS, "N": N_SCAN, "D": D_SCAN, "seconds": timing,
                          "mode_max_difference": mode_difference,
                          "crossover": {m: crossover(m) for m in ("scan", "chunked")},
                          "faster_than_loop_at": {
                              m: [T for T in SCAN_LENGTHS if timing[m][str(T)]["seconds"]
                                  < timing["loop"][str(T)]["seconds"]] for m in ("scan", "chunked")},
                          "clock": "wall after synchronise" if on_gpu else "process CPU time"}
print(markdown_table(["T"] + [f"{m} (ms)" for m in MODES],
                     [[T] + [f"{1000 * timing[m][str(T)]['seconds']:.2f}" for m in MODES]
                      for T in SCAN_LENGTHS]))

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
for mode, style in zip(MODES, ("o-", "s-", "^-")):
    ax.plot(SCAN_LENGTHS, [1000 * timing[mode][str(T)]["seconds"] for T in SCAN_LENGTHS], style,
            label=mode)
for mode, color in (("scan", "C1"), ("chunked", "C2")):
    T_cross = results["scan_timing"]["crossover"][mode]
    if T_cross is not None:
        ax.axvline(T_cross, color=color, linestyle=":", linewidth=1.2,
                   label=f"{mode} beats the loop from T = {T_cross}")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xticks(SCAN_LENGTHS)
ax.set_xticklabels([str(T) for T in SCAN_LENGTHS])
ax.set_xlabel("sequence length T")
ax.set_ylabel(f"ms, forward + backward (median of {REPEATS})")
ax.set_title(f"h_t = a_t h_(t-1) + b_t, N = {N_SCAN}, D = {D_SCAN}, {opts.device}")
ax.legend()
ax.grid(alpha=0.3, which="both")
opts.savefig(fig, "loop_scan_chunked")

# %% [markdown]
# ## 2. Generation: a fixed state against a growing cache
#
# To generate token t + 1 a recurrent model needs its state only; attention needs the keys and
# values of all t tokens so far, its KV cache. We generate with each model (E = 64, 2 blocks)
# one token at a time and count the bytes the state holds after each token: every array in it.

# %%
GEN_T = 512 if opts.quick else 4096
GEN_KINDS = [k for k in ("transformer_nope", "lstm", "linear_attention", "mingru", "mamba")
             if available(k)]
checkpoints = sorted({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, GEN_T} & set(
    range(1, GEN_T + 1)))
memory = {}
for kind in progress(GEN_KINDS, desc="generation memory"):
    minigrad.manual_seed(opts.seed)
    model = SequenceModel(kind, 16, 64, num_layers=2, num_heads=2)
    model.eval()
    state = model.new_state(1)
    token = minigrad.tensor(np.zeros(1, dtype=np.int64), device=opts.device)
    memory[kind] = {}
    with minigrad.no_grad():
        for t in range(1, GEN_T + 1):
            logits, state = model.step(token, state)
            token = logits.argmax(-1)
            if t in checkpoints:
                memory[kind][str(t)] = state_bytes(state)
results["generation_memory"] = {"tokens": checkpoints, "bytes": memory, "embed_dim": 64,
                                "layers": 2}
print(markdown_table(["model"] + [f"t = {t}" for t in checkpoints[::3]],
                     [[LABEL[k]] + [f"{memory[k][str(t)]:,}" for t in checkpoints[::3]]
                      for k in GEN_KINDS]))

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
for kind in GEN_KINDS:
    ax.plot(checkpoints, [memory[kind][str(t)] for t in checkpoints], marker="o", markersize=3,
            label=LABEL[kind] + (": KV cache" if kind.startswith("transformer") else ": state"))
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xticks(checkpoints[::2])
ax.set_xticklabels([str(t) for t in checkpoints[::2]])
ax.set_xlabel("tokens generated t")
ax.set_ylabel("bytes kept between tokens (measured)")
ax.set_title("Generation memory: attention's cache grows with t, a recurrence's state does not")
ax.legend(fontsize=8)
ax.grid(alpha=0.3, which="both")
opts.savefig(fig, "generation_memory")

# %% [markdown]
# ## 3. One model, two ways to run it
#
# Training runs `forward` over the whole sequence (the scan); generation runs `step` one token
# at a time. They must be the same function. In float64, on a random sequence of 64 tokens:

# %%
same = {}
tokens = np.random.default_rng(opts.seed + 5).integers(0, 16, size=(2, 64))
for kind in [k for k in KINDS if available(k)]:
    minigrad.manual_seed(opts.seed)
    model = SequenceModel(kind, 16, 32, num_layers=2, num_heads=2).double()
    model.eval()
    with minigrad.no_grad():
        parallel = model(minigrad.tensor(tokens, device=opts.device)).numpy()
        state, steps = model.new_state(2), []
        for t in range(tokens.shape[1]):
            logits, state = model.step(minigrad.tensor(tokens[:, t], device=opts.device), state)
            steps.append(logits.numpy())
    same[kind] = float(np.abs(np.stack(steps, axis=1) - parallel).max())
results["parallel_vs_step_max_difference"] = same
print(markdown_table(["model", "max |parallel - step by step|"],
                     [[LABEL[k], f"{d:.1e}"] for k, d in same.items()]))

# %% [markdown]
# ## 4. Lesson 7's tasks, with the new recurrences
#
# The adding problem (T steps, predict the sum of the two marked values; learned when the MSE
# is below 0.1 x 0.167) and copy memory (K = 10 symbols, `lag` blanks, then write them back;
# learned when accuracy > 0.9). Each model: 2 blocks of width E = 32 (Mamba's state: 8 per
# channel), the same Adam steps on
# fresh batches, a warm-up then cosine learning rate. The LSTM and minGRU start with their keep
# gates chrono-initialised as in lesson 7 (memory spans drawn from 1..T); Mamba's step sizes
# start log-uniform in [0.001, 0.1] (its paper's init), which spreads its memory spans the same way.
# One learning rate per model family, not tuned per task: recurrent layers 1e-2, the Transformer
# 3e-3 (as lesson 7), Mamba 1e-2 (in a trial on adding at T = 100, Mamba at 2e-3 stayed at the
# 0.167 baseline for 600 steps; at 1e-2 it reached MSE 0.002).

# %%
TASK_KINDS = [k for k in ("lstm", "transformer_sinusoidal", "mingru", "mamba") if available(k)]
if opts.quick:
    ADD_T, COPY_LAG, TASK_STEPS, TASK_BATCH, D_STATE = 100, 50, 400, 32, 8
else:
    ADD_T, COPY_LAG, TASK_STEPS, TASK_BATCH, D_STATE = 200, 100, 1000, 32, 8
K_COPY, C_COPY = 10, 8
TASK_LR = {"lstm": 1e-2, "transformer_sinusoidal": 3e-3, "mingru": 1e-2, "mamba": 1e-2}


def chrono_keep_gates_(model, max_lag, rng):
    """Keep gates spanning 1..max_lag steps: LSTM b_f = log u, b_i = -b_f; minGRU b_z = -log u."""
    for block in model.blocks:
        mixer = block.mixer
        if model.kind == "lstm":
            H = mixer.lstm.hidden_size
            keep = np.log(rng.uniform(1.0, max(2.0, max_lag - 1.0), size=H))
            with minigrad.no_grad():
                mixer.lstm.bias_ih_l0.data[H:2 * H] = xp.asarray(keep, dtype=np.float32)
                mixer.lstm.bias_hh_l0.data[H:2 * H] = 0.0
                mixer.lstm.bias_ih_l0.data[:H] = xp.asarray(-keep, dtype=np.float32)
                mixer.lstm.bias_hh_l0.data[:H] = 0.0
        elif model.kind == "mingru":
            H = mixer.rnn.hidden_size
            keep = np.log(rng.uniform(1.0, max(2.0, max_lag - 1.0), size=H))
            with minigrad.no_grad():      # z = sigmoid(-log u) ~ 1/u: the state lives ~u steps
                mixer.rnn.linear.bias.data[:H] = xp.asarray(-keep, dtype=np.float32)


def adding_batch(rng, n=TASK_BATCH):
    x, y = adding_problem(n, ADD_T, rng)                     # (N, T, 2), (N,)
    return x, y


def adding_loss(model, inputs, targets, device):
    prediction = model(minigrad.tensor(inputs, device=device))[:, -1, 0]          # (N,)
    return minigrad.nn.functional.mse_loss(prediction, minigrad.tensor(targets, device=device)), \
        prediction


def copy_batch(rng, n=TASK_BATCH):
    inputs, labels = copy_memory(n, COPY_LAG, rng, K_COPY, C_COPY)   # (N, T) each
    targets = np.where(np.arange(inputs.shape[1]) >= inputs.shape[1] - K_COPY, labels, IGNORE)
    return inputs, targets


task_results = {"adding": {}, "copy": {}}
bar = progress(total=2 * len(TASK_KINDS) * TASK_STEPS, desc="adding and copy")
for task in ("adding", "copy"):
    for kind in TASK_KINDS:
        bar.set_description(f"{task}: {kind}")
        minigrad.manual_seed(opts.seed * 1000 + 7)
        init_rng = np.random.default_rng(opts.seed + 7)
        if task == "adding":
            model = SequenceModel(kind, 1, 32, num_layers=2, num_heads=2, d_state=D_STATE,
                                  input_size=2)
            chrono_keep_gates_(model, ADD_T, init_rng)
            losses, cpu = train(model, adding_batch, TASK_STEPS, TASK_LR[kind],
                                np.random.default_rng(opts.seed + 8), opts.device, bar,
                                loss_fn=adding_loss)
            model.eval()
            with minigrad.no_grad():
                x, y = adding_batch(np.random.default_rng(opts.seed + 9), 512)
                mse = float(adding_loss(model, x, y, opts.device)[0].item())
            task_results["adding"][kind] = {"mse": mse, "learned": mse < 0.1 * BASELINE_MSE,
                                            "cpu_seconds_per_step": cpu}
        else:
            model = SequenceModel(kind, C_COPY + 2, 32, num_layers=2, num_heads=2, d_state=D_STATE)
            chrono_keep_gates_(model, COPY_LAG + 2 * K_COPY, init_rng)
            losses, cpu = train(model, copy_batch, TASK_STEPS, TASK_LR[kind],
                                np.random.default_rng(opts.seed + 8), opts.device, bar)
            acc = accuracy(model, copy_batch, 512, np.random.default_rng(opts.seed + 9),
                           opts.device)
            task_results["copy"][kind] = {"accuracy": acc, "learned": acc > 0.9,
                                          "cpu_seconds_per_step": cpu}
        task_results[task][kind]["losses"] = losses[::max(1, TASK_STEPS // 100)]
bar.close()
results["tasks"] = {"adding_T": ADD_T, "copy_lag": COPY_LAG, "steps": TASK_STEPS,
                    "batch": TASK_BATCH, "lr": TASK_LR, "baseline_mse": BASELINE_MSE,
                    "copy_chance": 1.0 / C_COPY, **task_results}
print(markdown_table(["model", f"adding T = {ADD_T}: MSE", "learned",
                      f"copy lag {COPY_LAG}: accuracy", "learned", "CPU ms / step (copy)"],
                     [[LABEL[k], f"{task_results['adding'][k]['mse']:.4f}",
                       task_results["adding"][k]["learned"],
                       f"{task_results['copy'][k]['accuracy']:.3f}",
                       task_results["copy"][k]["learned"],
                       f"{1000 * task_results['copy'][k]['cpu_seconds_per_step']:.0f}"]
                      for k in TASK_KINDS]))
opts.save_json("results", results)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, task in zip(axes, ("adding", "copy")):
    for kind in TASK_KINDS:
        curve = task_results[task][kind]["losses"]
        ax.plot(np.linspace(0, TASK_STEPS, len(curve)), curve, label=LABEL[kind])
    if task == "adding":
        ax.axhline(BASELINE_MSE, color="0.4", linestyle=":", label="predict 1 (0.167)")
        ax.axhline(0.1 * BASELINE_MSE, color="0.4", linestyle="--", linewidth=0.8,
                   label="learned below")
        ax.set_title(f"adding, T = {ADD_T}: training MSE")
    else:
        ax.axhline(np.log(C_COPY), color="0.4", linestyle=":", label="chance (log 8)")
        ax.set_title(f"copy memory, lag {COPY_LAG}: training cross-entropy")
    ax.set_yscale("log")
    ax.set_xlabel("Adam step")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
opts.savefig(fig, "adding_and_copy")

# %% [markdown]
# ## 5. What the numbers say
#
# Each sentence is computed from this run.

# %%
findings = []
st = results["scan_timing"]
longest = str(SCAN_LENGTHS[-1])
findings.append(
    f"At T = {longest} the loop takes {1000 * timing['loop'][longest]['seconds']:.1f} ms, the scan "
    f"{1000 * timing['scan'][longest]['seconds']:.1f} ms and the chunked form "
    f"{1000 * timing['chunked'][longest]['seconds']:.1f} ms (forward + backward, {st['clock']}); "
    + (f"the chunked form is faster than the loop from T = {st['crossover']['chunked']}"
       if st["crossover"]["chunked"] else "the chunked form never beats the loop on this grid")
    + (f", the scan from T = {st['crossover']['scan']}." if st["crossover"]["scan"]
       else (", the scan is faster than the loop only at T = "
             + ", ".join(map(str, st["faster_than_loop_at"]["scan"]))
             + ": beyond, its T log T work and memory traffic outgrow what its fewer passes save "
             "on a CPU." if st["faster_than_loop_at"]["scan"] else
             ", the scan never is (its T log T work outweighs its fewer passes on a CPU).")))
attention_kind = next((k for k in GEN_KINDS if k.startswith("transformer")), None)
for kind in GEN_KINDS:
    first, last = memory[kind][str(checkpoints[0])], memory[kind][str(GEN_T)]
    findings.append(f"Generation, {LABEL[kind]}: {first:,} bytes after 1 token, {last:,} after "
                    f"{GEN_T} (x{last / first:.0f}).")
findings.append("Parallel and step-by-step outputs agree to "
                f"{max(same.values()):.1e} (float64) for every model.")
for kind in TASK_KINDS:
    add, copy = task_results["adding"][kind], task_results["copy"][kind]
    findings.append(f"{LABEL[kind]}: adding at T = {ADD_T} MSE {add['mse']:.4f} "
                    f"({'learned' if add['learned'] else 'not learned'}); copy at lag "
                    f"{COPY_LAG} accuracy {copy['accuracy']:.3f} "
                    f"({'learned' if copy['learned'] else 'not learned'}) in {TASK_STEPS} steps.")
copy_learned = [k for k in TASK_KINDS if task_results["copy"][k]["learned"]]
recurrent = [k for k in TASK_KINDS if k != "transformer_sinusoidal"]
findings.append(
    "Against the literature: Hochreiter & Schmidhuber (1997) and lesson 7 find the LSTM learns "
    "the adding problem at T = 100 and beyond, and this run "
    + ("agrees" if task_results["adding"].get("lstm", {}).get("learned") else "does not agree")
    + "; minGRU (Feng et al. 2024) and Mamba "
    + ("both learn it here too." if all(task_results["adding"].get(k, {}).get("learned")
                                        for k in ("mingru", "mamba")) else
       "do not both learn it here within this budget.")
    + f" On copy memory at lag {COPY_LAG} the models that learned are: "
    + (", ".join(LABEL[k] for k in copy_learned) if copy_learned else "none")
    + ". A recurrent model must carry all 10 symbols in its state through the lag, attention "
    "looks them up; Arjovsky et al. (2016) report the LSTM stuck near the memoryless baseline "
    "on copy at lag 100+, and "
    + ("the recurrences here agree: none of them learned it in "
       f"{TASK_STEPS} steps, though Mamba's authors note a time-invariant model can solve this "
       "fixed-lag copy with enough training." if not any(k in copy_learned for k in recurrent)
       else "some recurrences here learned it: " + ", ".join(
           LABEL[k] for k in recurrent if k in copy_learned) + "."))
results["findings"] = findings
opts.save_json("results", results)
print("\n".join(findings))
