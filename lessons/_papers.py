"""Lesson 7's run against the published results it reproduces, one sentence per claim.

    sentences = compare_with_papers(runs, longest, first_failed, lags, max_steps, mode)

runs[task][family][lag] is lesson 7's record of one run (steps, learned, mse or accuracy,
sequences_seen); longest and first_failed: [task][family] -> lag or None; lags: task -> the
grid; max_steps: task -> the cap. Each sentence names the paper, says what this run measured,
and ends with "agrees", "does not agree" or why it cannot say.

- Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997,
  experiment 4: the LSTM learns the adding problem at T = 100, 500 and 1,000 (minimal lags
  50, 250, 500), after about 74,000, 209,000 and 853,000 training sequences.
- Le, Jaitly & Hinton, "A Simple Way to Initialize Recurrent Networks of Rectified Linear
  Units", 2015: the tanh RNN stays at the baseline MSE on adding at T = 150 and beyond.
- Arjovsky, Shah & Bengio, "Unitary Evolution Recurrent Neural Networks", ICML 2016: the LSTM
  learns adding (T up to 750) where the tanh RNN does not; on copy memory (T >= 100) the LSTM
  sits on the memoryless baseline for a long plateau.
"""


def _scored(task, run):
    return f"accuracy {run['accuracy']:.3f}" if task == "copy" else f"MSE {run['mse']:.4f}"


def compare_with_papers(runs, longest, first_failed, lags, max_steps, mode):
    """The list of sentences (see the module docstring)."""
    def longest_or_zero(task, family):
        return longest[task][family] or 0

    def first_failure(task, family):
        return first_failed[task][family]

    LAGS, MAX_STEPS = lags, max_steps
    quick = mode == "quick"
    agreement = []
    lstm_adding, rnn_adding = longest["adding"]["lstm"], longest["adding"]["rnn"]
    for T, sequences in ((100, 74_000), (500, 209_000), (1000, 853_000)):
        if T not in LAGS["adding"]:
            agreement.append(f"Hochreiter & Schmidhuber 1997, adding at T = {T}: not in this "
                             f"{mode} run's grid {list(LAGS['adding'])}"
                             + (" (the full run tests it)." if quick else "."))
            continue
        run = runs["adding"]["lstm"].get(T)
        if run is None:
            agreement.append(f"Hochreiter & Schmidhuber 1997, adding at T = {T}: not tried here "
                             f"(the LSTM had already failed at lag {first_failure('adding', 'lstm')}).")
        else:
            agreement.append(
                f"Hochreiter & Schmidhuber 1997, adding at T = {T}: the LSTM "
                + (f"learned it here too (MSE {run['mse']:.4f}), after {run['sequences_seen']:,} "
                   f"sequences against their ~{sequences:,}: agrees" if run["learned"] else
                   f"did not learn it here within {run['sequences_seen']:,} sequences (MSE "
                   f"{run['mse']:.4f}) where they needed ~{sequences:,}: our budget is smaller; "
                   "this run does not reproduce it") + ".")
    rnn_fail = first_failure("adding", "rnn")
    agreement.append(
        "Le, Jaitly & Hinton 2015 (tanh RNN at the baseline from T = 150): here the RNN "
        + (f"learned up to T = {rnn_adding} and failed at T = {rnn_fail}"
           if rnn_adding is not None and rnn_fail is not None else
           f"failed from the first T of the grid, {rnn_fail}" if rnn_fail is not None else
           f"learned every T of the grid (up to {max(LAGS['adding'])})")
        + (", below 150: agrees (the plain RNN fails; it fails sooner here, with a far smaller "
           "budget)" if rnn_fail is not None and rnn_fail <= 150 else
           ": does not agree" if rnn_fail is None and max(LAGS["adding"]) >= 150 else
           ": the grid stops short of 150, so it cannot say") + ".")
    gated_beat_rnn = all(longest_or_zero("adding", g) > longest_or_zero("adding", "rnn")
                         for g in ("lstm", "gru"))
    agreement.append(
        "Arjovsky, Shah & Bengio 2016 (adding: the LSTM learns where the tanh RNN does not): "
        + (f"agrees: the LSTM learned up to T = {lstm_adding}, the GRU up to "
           f"T = {longest['adding']['gru']}, the RNN up to T = {rnn_adding or 'none'}"
           if gated_beat_rnn else "does not agree in this run: the gated models got no further "
           "than the RNN") + ".")
    lstm_copy, lstm_copy_fail = longest["copy"]["lstm"], first_failure("copy", "lstm")
    agreement.append(
        "Arjovsky, Shah & Bengio 2016 (copy at T >= 100: the LSTM on a long plateau): here the "
        + (f"LSTM copied up to lag {lstm_copy}" if lstm_copy else "LSTM copied at no lag of the grid")
        + (f" and not at lag {lstm_copy_fail} within {MAX_STEPS['copy']} steps "
           f"({_scored('copy', runs['copy']['lstm'][lstm_copy_fail])})" if lstm_copy_fail else "")
        + (": agrees (copy is hard for the LSTM, even at shorter lags with our budget)"
           if lstm_copy_fail is not None and lstm_copy_fail <= 100 else
           ": the LSTM did better here than their plateau suggests" if lstm_copy_fail is None
           or lstm_copy_fail > 100 else "") + ".")
    return agreement
