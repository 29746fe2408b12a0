"""Lesson 7's machinery: the copy and adding tasks as tensors, the four models, the training
loop and the plot helpers.

    model = make_model("lstm", "copy", lag, rng, hidden_size=H, d_model=E)
    check = HeldOutCheck("copy", "lstm", lag, n_check, check_seed, device, every=25)
    steps, passed, losses, seconds_per_step = train_until(model, "copy", "lstm", lag, data_rng, check,
                                                          max_steps, batch, lr, max_norm, device)
    metrics = evaluate("copy", "lstm", model, lag, rng, n, device)   # fresh sequences

Tasks (``lessons.tasks``), time-major as the recurrent layers want them:
- copy: K = N_SYMBOLS symbols of C = N_CATEGORIES categories, ``lag`` blanks, a delimiter,
  then the K symbols to write back; scored on the last K steps (T = lag + 2K).
- adding: T = lag pairs (value, marker); scored on the last step.

Models: ``RecurrentModel`` (RNN, LSTM or GRU, chrono-initialised gates for the gated ones)
and ``TransformerModel`` (one causal pre-norm encoder layer); both map (T, N, ...) inputs to
(scored, N, out) outputs of the last ``scored`` steps.

numpy is used here for host-side data only (batches, metrics, the chrono biases' draw).
"""
import time

import numpy as np

import minigrad
import minigrad.nn.functional as F
from minigrad.nn import Module
from layers import (Embedding, Linear, PositionalEncoding, TransformerEncoder,
                    TransformerEncoderLayer, generate_square_subsequent_mask)
from lessons._charlm import RECURRENT_LAYERS
from lessons.tasks import BASELINE_MSE, adding_problem, copy_memory

FAMILIES = ("rnn", "lstm", "gru", "transformer")
N_SYMBOLS, N_CATEGORIES = 10, 8          # K and C of the copy task, as in the papers
WITHIN = 0.04                            # adding: a prediction within 0.04 of the target is right
ONE_HOT = np.eye(N_CATEGORIES + 2, dtype=np.float32)     # (V, V), host side


def sequence_length(task, lag):
    """T of a sequence: lag + 2K for copy (symbols, blanks, delimiter, recall), lag for adding."""
    return lag + 2 * N_SYMBOLS if task == "copy" else lag


# ----------------------------------------------------------------------------- models

def chrono_init_(layer, family, max_lag, rng):
    """Tallec & Ollivier's chrono initialisation of the gate that keeps the state.

    A gate at sigmoid(b) keeps a fraction ~ 1 - 1/u of the state per step when b = log(u), so
    the state lives ~u steps. Drawing u ~ U[1, max_lag - 1] per unit spreads the memory spans
    over every lag the task can ask for. LSTM: forget bias b_f = log u, input bias b_i = -b_f
    (c_t = f c_{t-1} + i g: writing is as slow as forgetting). GRU (h = (1 - z) n + z h_prev):
    update bias b_z = log u. The other biases stay at PyTorch's init.
    """
    H = layer.hidden_size
    keep = np.log(rng.uniform(1.0, max(2.0, max_lag - 1.0), size=H))     # (H,), b = log u
    with minigrad.no_grad():
        b_ih, b_hh = layer.bias_ih_l0, layer.bias_hh_l0                  # (G,) each, G = 4H / 3H
        keep_slice = slice(H, 2 * H)           # LSTM gates i, f, g, o; GRU gates r, z, n
        b_ih.data[keep_slice] = minigrad.tensor(keep, dtype=b_ih.dtype, device=b_ih.device).data
        b_hh.data[keep_slice] = 0.0
        if family == "lstm":
            b_ih.data[0:H] = minigrad.tensor(-keep, dtype=b_ih.dtype, device=b_ih.device).data
            b_hh.data[0:H] = 0.0


class RecurrentModel(Module):
    """RNN, LSTM or GRU (H units) and a linear head.

    forward(x (T, N, D), scored) -> (scored, N, out): the head on the last ``scored`` steps.
    """

    def __init__(self, family, input_size, hidden_size, output_size, max_lag, rng):
        super().__init__()
        self.rnn = RECURRENT_LAYERS[family](input_size, hidden_size)
        if family != "rnn":
            chrono_init_(self.rnn, family, max_lag, rng)
        self.head = Linear(hidden_size, output_size)

    def forward(self, x, scored):
        output = self.rnn(x)[0]                          # (T, N, H)
        return self.head(output[-scored:])               # (scored, N, out)


class TransformerModel(Module):
    """Input embedding + sinusoidal positions, one causal encoder layer, a linear head.

    forward(x (T, N) ints or (T, N, D) floats, scored) -> (scored, N, out), as RecurrentModel.
    """

    def __init__(self, input_size, d_model, output_size, max_len, symbols):
        super().__init__()
        # symbols: ids -> Embedding (V, E); otherwise a linear map of the D input features
        self.embed = Embedding(input_size, d_model) if symbols else Linear(input_size, d_model)
        self.position = PositionalEncoding(d_model, dropout=0.0, max_len=max_len)
        layer = TransformerEncoderLayer(d_model, nhead=2, dim_feedforward=2 * d_model,
                                        dropout=0.0, norm_first=True)
        self.encoder = TransformerEncoder(layer, num_layers=1)
        self.head = Linear(d_model, output_size)

    def forward(self, x, scored):
        h = self.position(self.embed(x))                 # (T, N, E)
        T = h.shape[0]
        causal = generate_square_subsequent_mask(T, device=h.device)   # (T, T): step t sees <= t
        h = self.encoder(h, mask=causal, is_causal=True)  # (T, N, E): T^2 scores per head
        return self.head(h[-scored:])                    # (scored, N, out)


def make_model(family, task, lag, rng, hidden_size, d_model):
    """The model of ``family`` for ``task`` ("copy" or "adding") at this lag: H = hidden_size
    units for the recurrent layers, E = d_model for the Transformer; ``rng`` draws the chrono
    gate biases, with T_max = the sequence length."""
    input_size, output_size = (N_CATEGORIES + 2, N_CATEGORIES) if task == "copy" else (2, 1)
    if family == "transformer":
        return TransformerModel(input_size, d_model, output_size,
                                max_len=sequence_length(task, lag), symbols=task == "copy")
    return RecurrentModel(family, input_size, hidden_size, output_size,
                          max_lag=sequence_length(task, lag), rng=rng)


# ----------------------------------------------------------------------------- data, loss, metrics

def make_batch(task, family, n, lag, rng, device):
    """(inputs, targets) as the model and loss want them, time-major.

    copy:   inputs (T, N, V) one-hot floats, or (T, N) ids for the Transformer; targets (K, N)
    adding: inputs (T, N, 2) floats;                                          targets (N,)
    """
    if task == "copy":
        ids, labels = copy_memory(n, lag, rng, N_SYMBOLS, N_CATEGORIES)   # (N, T) each
        ids = ids.T                                                       # (T, N)
        inputs = ids if family == "transformer" else ONE_HOT[ids]         # (T, N) or (T, N, V)
        targets = labels[:, -N_SYMBOLS:].T - 1                            # (K, N), classes 0..C-1
    else:
        x, targets = adding_problem(n, lag, rng)                          # (N, T, 2), (N,)
        inputs = x.transpose(1, 0, 2)                                     # (T, N, 2)
    return (minigrad.tensor(np.ascontiguousarray(inputs), device=device),
            minigrad.tensor(targets, device=device))


def loss_of(task, model, inputs, targets):
    """Cross-entropy of the recalled symbols (copy) or MSE of the sum (adding); and the output.

    Copy scores the K recall steps only: the blanks' position is fixed, any model predicts
    them for free, and they would only dilute the loss."""
    if task == "copy":
        logits = model(inputs, scored=N_SYMBOLS)                          # (K, N, C)
        return F.cross_entropy(logits.reshape(-1, N_CATEGORIES), targets.reshape(-1)), logits
    prediction = model(inputs, scored=1).reshape(-1)                      # (1, N, 1) -> (N,)
    return F.mse_loss(prediction, targets), prediction


def evaluate(task, family, model, lag, rng, n, device, chunk=32):
    """Metrics on ``n`` fresh sequences, in chunks (a long Transformer input makes big T x T
    score matrices). copy: accuracy, also per recall step; adding: mse and the fraction
    within WITHIN of the target."""
    correct = np.zeros(N_SYMBOLS)                        # (K,) right answers per recall step
    within = squared = 0.0
    with minigrad.no_grad():
        for start in range(0, n, chunk):
            inputs, targets = make_batch(task, family, min(chunk, n - start), lag, rng, device)
            _, output = loss_of(task, model, inputs, targets)
            output, targets = output.numpy(), targets.numpy()
            if task == "copy":
                correct += (output.argmax(-1) == targets).sum(axis=1)       # (K, N) -> (K,)
            else:
                squared += float(((output - targets) ** 2).sum())
                within += float((np.abs(output - targets) < WITHIN).sum())
    if task == "copy":
        return {"accuracy": float(correct.sum()) / (n * N_SYMBOLS),
                "accuracy_by_position": correct / n}
    return {"mse": squared / n, "accuracy": within / n}


# ----------------------------------------------------------------------------- learned or not

LEARNED_ACCURACY = 0.9                   # copy: learned if accuracy on the recalled symbols > 0.9
LEARNED_MSE = 0.1 * BASELINE_MSE         # adding: learned if MSE < 0.1 x 0.167 = 0.0167


def learned(task, metrics):
    """Whether ``metrics`` (from ``evaluate``) pass this lesson's bar for ``task``."""
    if task == "copy":
        return metrics["accuracy"] > LEARNED_ACCURACY
    return metrics["mse"] < LEARNED_MSE


class HeldOutCheck:
    """The stopping test of ``train_until``: the same ``n`` held-out sequences every time.

    ``passed(model)`` scores the model on them (drawn from ``seed``, never trained on) and
    says whether it passes ``learned``; ``history`` keeps (step, metric) of every check.
    """

    def __init__(self, task, family, lag, n, seed, device, every):
        self.task, self.family, self.lag, self.n = task, family, lag, n
        self.seed, self.device, self.every = seed, device, every
        self.history = []

    def passed(self, model):
        metrics = evaluate(self.task, self.family, model, self.lag,
                           np.random.default_rng(self.seed), self.n, self.device)
        key = "accuracy" if self.task == "copy" else "mse"
        self.history.append(((len(self.history) + 1) * self.every, metrics[key]))
        return learned(self.task, metrics)


# ----------------------------------------------------------------------------- training

def train_until(model, task, family, lag, data_rng, check, max_steps, batch, lr, max_norm, device,
                on_step=None):
    """Adam steps on fresh batches until the model passes ``check`` or ``max_steps`` are done.

    Each step draws ``batch`` new sequences from ``data_rng`` (never the same batch twice) and
    clips the gradient to norm ``max_norm``. Every ``check.every`` steps ``check.passed(model)``
    scores the model on a fixed held-out set; training stops at the first pass. ``on_step``
    (if given) is called after every step (the progress bar's tick).

    Returns (steps taken, passed: whether a check passed, losses: one per step, seconds per
    step: wall clock of the training, checks excluded).
    """
    params = list(model.parameters())
    optimizer = minigrad.optim.Adam(params, lr=lr)
    losses, training_seconds = [], 0.0
    for step in range(1, max_steps + 1):
        start = time.perf_counter()
        inputs, targets = make_batch(task, family, batch, lag, data_rng, device)
        loss, _ = loss_of(task, model, inputs, targets)
        optimizer.zero_grad()
        loss.backward()
        minigrad.optim.clip_grad_norm_(params, max_norm)
        optimizer.step()
        losses.append(loss.item())
        training_seconds += time.perf_counter() - start
        if on_step is not None:
            on_step(losses[-1])
        if step % check.every == 0 and check.passed(model):
            return step, True, losses, training_seconds / step
    return max_steps, False, losses, training_seconds / max_steps


# ----------------------------------------------------------------------------- parallel walks

def run_jobs(jobs, work, workers, handle):
    """Run ``work(job, report)`` for every job, in up to ``workers`` forked processes.

    A job sends messages to the parent with ``report(message)``; the parent passes each to
    ``handle(message)`` as it arrives (so results can be saved as soon as a run finishes).
    ``workers <= 1`` (or no ``fork`` start method, as on Windows) runs the jobs here, one
    after the other, with ``report = handle``.
    Independent jobs that seed their own random generators give the same results either way.
    """
    import multiprocessing
    import queue as queue_module
    if workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
        workers = 1                                       # Windows: no fork, run them in order
    if workers <= 1:
        for job in jobs:
            work(job, handle)
        return
    context = multiprocessing.get_context("fork")        # children inherit the lesson's state
    messages = context.Queue()
    pending, running = list(jobs), {}
    while pending or running:
        while pending and len(running) < workers:
            job = pending.pop(0)
            process = context.Process(target=_job_process, args=(work, job, messages), daemon=True)
            process.start()
            running[job] = process
        try:
            message = messages.get(timeout=1.0)
        except queue_module.Empty:
            for job, process in list(running.items()):
                if not process.is_alive() and process.exitcode != 0:
                    raise RuntimeError(f"job {job} died with exit code {process.exitcode}")
            continue
        if message[0] == "finished":
            running.pop(message[1]).join()
        elif message[0] == "failed":
            for process in running.values():
                process.terminate()
            raise RuntimeError(f"job {message[1]} failed:\n{message[2]}")
        else:
            handle(message)


def _job_process(work, job, messages):
    import traceback
    try:
        work(job, messages.put)
        messages.put(("finished", job))
    except BaseException:                                # report it; the parent stops the rest
        messages.put(("failed", job, traceback.format_exc()))


# ----------------------------------------------------------------------------- resuming

def earlier_runs(path, mode, seed, settings):
    """The runs an interrupted earlier run of the same settings left in ``path`` (its
    results.json), as {task: {family: {lag: record}}} with its loss curves; {} when there is
    none, it finished, or anything it was run with differs."""
    import json
    from pathlib import Path
    path = Path(path)
    if not path.is_file():
        return {}
    earlier = json.loads(path.read_text(encoding="utf-8"))
    same = (earlier.get("complete") is False and earlier.get("mode") == mode
            and earlier.get("seed") == seed
            and json.loads(json.dumps(earlier.get("settings"))) == json.loads(json.dumps(settings)))
    if not same:
        return {}
    curves = earlier.get("loss_curves", {})
    return {task: {family: {int(lag): {**run, "losses": curves[task][family][lag]}
                            for lag, run in by_lag.items()}
                   for family, by_lag in by_family.items()}
            for task, by_family in earlier["runs"].items()}


# ----------------------------------------------------------------------------- plots

FAMILY_STYLE = {"rnn": ("C0", "o", "-"), "lstm": ("C1", "s", "-"), "gru": ("C2", "^", "--"),
                "transformer": ("C3", "D", "-")}     # GRU dashed: it often lies on the LSTM's line


def plot_families(ax, xs, ys_by_family):
    """One line per model family, in its fixed colour, marker and line style."""
    for family, ys in ys_by_family.items():
        color, marker, line = FAMILY_STYLE[family]
        ax.plot(xs, ys, marker=marker, linestyle=line, color=color, label=family)


def log_lag_axis(plt, ax, ticks, label):
    """Log x axis labelled at our lags, in plain numbers."""
    ax.set_xscale("log")
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xlabel(label)
    ax.grid(alpha=0.3, which="both")
