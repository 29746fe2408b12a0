"""The answer lesson's (lesson 14) written answer to the course question, composed from the gathered results.

    parts = written_answer(ev)          # [(title, [paragraph, ...]), ...] in SECTIONS' order

Every sentence that states a fact takes its number from ``ev`` (an ``Evidence``: results by
lesson slug) and names the lesson that measured it, so another run writes another, still true,
text. A claim whose lesson has not run, or whose numbers do not back it, is written as not
supported by this run. Each section is a function ``(ev) -> [paragraph, ...]``; another lesson's
section plugs in by appending ``(title, function)`` to ``SECTIONS``.
"""

import math

from lessons._comparison_table import (COST, GRU_LESSON, LONG, LSTM_LESSON, MEMORY, OWN,
                                       RECALL, RECURRENCE, TRANSFORMER, VANISHING, sci)
from lessons._measure import MiB
from lessons._modern_answer import modern_sections

VANISHED = 1e-3      # a gradient 1,000x weaker than at the loss's own step: too little to learn from


def _not_run(ev, *slugs):
    """'Not supported by this run: lesson 7 has not run.' or None when all have."""
    absent = [s for s in slugs if s not in ev]
    if not absent:
        return None
    return (f"*Not supported by this run: {ev.lesson(*absent)} "
            f"{'has' if len(absent) == 1 else 'have'} not run (run {'it' if len(absent) == 1 else 'them'} "
            "into the same output folder, then this lesson again).*")


def _lag(l7, task, family):
    return l7["longest_lag_learned"][task][family]


def _steps(l7, task, family, lag):
    return l7["runs"][task][family][str(lag)]["steps"]


def _lag_phrase(l7, task, family):
    """'up to lag 200 (in 75 steps)' or 'at no lag of the grid, not at lag 10 within 1500 steps'."""
    if not l7["runs"][task][family]:
        return "(not trained: lesson 7's run stopped before it)"
    best = _lag(l7, task, family)
    failed = l7.get("first_lag_not_learned", {}).get(task, {}).get(family)
    if best is None:
        text = "at no lag of the grid"
    else:
        text = f"up to lag {best} (in {_steps(l7, task, family, best)} steps)"
    if failed is not None:
        text += f", not at lag {failed} within {_steps(l7, task, family, failed)} steps"
    return text


def _exponent(entry, key="time_exponent"):
    spread = entry.get(key + "_spread")
    return f"T^{entry[key]:.2f}" + (f" (spread {spread[0]:.2f}-{spread[1]:.2f})" if spread else "")


# ----------------------------------------------------------------------------- part 1

def _power_law(by_T):
    """'about as 1/T' or 'as T^-1.6': the slope of log(reach) against log(T), end to end."""
    (t0, r0), (t1, r1) = sorted(((int(T), v) for T, v in by_T.items()))[::len(by_T) - 1]
    if r0 <= 0 or r1 <= 0:
        return "to 0"
    slope = math.log(r1 / r0) / math.log(t1 / t0)
    return "about as 1/T" if -1.25 < slope < -0.75 else f"as T^{slope:.1f}"


def contributions(ev):
    paragraphs = []
    # The LSTM: a gradient path that survives, and what it learned.
    missing = _not_run(ev, LSTM_LESSON)
    if missing:
        paragraphs.append("**The LSTM.** " + missing)
    else:
        l5 = ev[LSTM_LESSON]
        by_bias = l5["lstm_reach_by_forget_bias"]
        text = ""
        if VANISHING in ev:
            reach4 = ev[VANISHING]["gradient_reach"]
            small = [r for r in reach4 if float(r) < 1]
            big = max(reach4, key=float)
            text += (f"A plain RNN's gradient vanishes over long distances: with recurrent weights of "
                     f"norm r < 1 the share reaching 99 steps back is "
                     + ", ".join(f"{sci(reach4[r])} (r = {r})" for r in small)
                     + f", and at r = {big} it explodes instead ({sci(reach4[big])}; "
                     f"{ev.lesson(VANISHING)}). ")
        text += (f"**The LSTM** added a cell state that is carried forward by a gate instead of "
                f"squashed through a weight matrix. What that buys is measured as gradient reach "
                f"over 99 steps, ||dL/dh_0|| / ||dL/dh_99||: {sci(l5['rnn_reach'])} for the plain RNN "
                f"against {sci(by_bias['1'])} for an LSTM with forget bias 1 ({ev.lesson(LSTM_LESSON)}). ")
        if "lstm_reach_pytorch_init" in l5:
            cell_alone = l5["lstm_reach_pytorch_init"] < VANISHED
            text += (("The cell alone is not enough" if cell_alone else "The cell already helps")
                     + f": with the layer's own default (PyTorch's init, forget gate "
                     f"~{l5['mean_forget_gate_pytorch_init']:.2f}) the reach is "
                     f"{sci(l5['lstm_reach_pytorch_init'])}, and with forget bias 3 it is "
                     f"{sci(by_bias.get('3'))} ({ev.lesson(LSTM_LESSON)}). ")
        vanished = by_bias["1"] < VANISHED
        text += ("So the claim \"the LSTM avoids vanishing gradients\" is supported only in part: "
                 f"at forget bias 1 the gradient over 99 steps is still below {VANISHED:g}; it is an "
                 "initialisation that keeps it alive, not the cell alone."
                 if vanished else "At forget bias 1 the gradient survives 99 steps.")
        if OWN in ev:
            reach = ev[OWN]["reach"]
            longest = max(reach["lstm_chrono"], key=int)
            text += (f" With lesson 7's chrono initialisation, the input gradient {longest} steps back "
                     f"is {sci(reach['lstm_chrono'][longest])} of the last step's, against "
                     f"{sci(reach['rnn'][longest])} for the RNN ({ev.lesson(OWN)}, input reach).")
        paragraphs.append(text)
        if l5.get("large_weights_explode"):
            scale = max(l5["large_weights"], key=float)
            big = l5["large_weights"][scale]
            paragraphs.append(
                f"The LSTM does not avoid *exploding* gradients: with every weight x{scale} its reach "
                f"is {sci(big['reach_h'])} (> 1: the gradient grows going back) and its parameter "
                f"gradient norm {big['param_grad_norm']:.3g}, which clipping brought to "
                f"{big['clipped_norm']:.3g} ({ev.lesson(LSTM_LESSON)}). It still needs clipping.")
    if MEMORY in ev:
        l7 = ev[MEMORY]
        paragraphs.append(
            f"Trained on the adding problem ({ev.lesson(MEMORY)}, {l7['mode']} run), the LSTM learned "
            f"{_lag_phrase(l7, 'adding', 'lstm')}; the plain RNN {_lag_phrase(l7, 'adding', 'rnn')}. "
            + ("That is the LSTM's contribution, measured: it learns dependencies the RNN cannot."
               if (_lag(l7, "adding", "lstm") or 0) > (_lag(l7, "adding", "rnn") or 0) else
               "In this run the LSTM got no further than the RNN: the claim that it learns longer "
               "dependencies is not supported here."))
    else:
        paragraphs.append("**What the LSTM learns.** " + _not_run(ev, MEMORY))

    # The Transformer: no chain at all.
    parts = []
    if OWN in ev:
        tr = ev[OWN]["reach"]["transformer"]
        parts.append(
            "**The Transformer** removed the chain: every output reads every earlier input in "
            "one attention hop. Its input gradient from the last output back to the first input, "
            "at initialisation, is " + ", ".join(f"{sci(v)} at T = {T}" for T, v in tr.items())
            + f" ({ev.lesson(OWN)}): it shrinks {_power_law(tr)}, because attention spreads its "
            "weight over T inputs, not exponentially as a product of T Jacobians does (the RNN's: "
            + ", ".join(f"{sci(v)}" for v in ev[OWN]["reach"]["rnn"].values()) + ").")
    else:
        parts.append("**The Transformer.** " + _not_run(ev, OWN))
    if MEMORY in ev:
        l7 = ev[MEMORY]
        parts.append(f"On copy memory it learned {_lag_phrase(l7, 'copy', 'transformer')}, where the "
                     f"LSTM learned {_lag_phrase(l7, 'copy', 'lstm')} ({ev.lesson(MEMORY)}).")
    if COST in ev:
        entry = ev[COST]["models"]["Transformer"]
        parts.append(f"Its critical path is {entry['sequential_steps_per_layer']} attention call per "
                     f"layer whatever T, against T steps for a recurrent layer ({ev.lesson(COST)}).")
    if TRANSFORMER in ev:
        heads = ev[TRANSFORMER].get("cross_attention_heads")
        l9 = ev[TRANSFORMER]
        if heads:
            best = min(heads["by_layer"], key=lambda st: st["mean_pair_overlap"])
            parts.append(
                f"Multi-head attention lets heads look at different places: two heads of its "
                f"cross-attention share {best['mean_pair_overlap']:.2f} of their weight and pick "
                f"different source characters in {100 * best['argmax_differ_fraction']:.0f}% of "
                f"rows ({ev.lesson(TRANSFORMER)}, {l9['mode']} run, "
                f"{100 * l9['decoding']['greedy_exact']:.1f}% exact match on the date task).")
    paragraphs.append(" ".join(parts))
    return paragraphs


# ----------------------------------------------------------------------------- part 2

def compared(ev):
    paragraphs = []
    if MEMORY in ev:
        l7 = ev[MEMORY]
        ranking = []
        for task in ("adding", "copy"):
            ranking.append(f"{task}: " + "; ".join(f"{name} {_lag_phrase(l7, task, family)}"
                                                   for name, family in (("RNN", "rnn"), ("LSTM", "lstm"),
                                                                        ("GRU", "gru"),
                                                                        ("Transformer", "transformer"))))
        paragraphs.append(
            f"**What each learns.** With one rule for all (train until learned or a common cap of "
            + ", ".join(f"{cap} steps ({task})" for task, cap in l7['settings']['max_steps'].items())
            + f", batch {l7['settings']['batch']}, scored on fresh "
            f"sequences; {ev.lesson(MEMORY)}, {l7['mode']} run): " + ". ".join(ranking) + ". "
            + _ranking_sentence(l7))
    else:
        paragraphs.append("**What each learns.** " + _not_run(ev, MEMORY))
    if GRU_LESSON in ev:
        l6 = ev[GRU_LESSON]
        lstm, gru = l6["models"][l6["lstm"]], l6["models"][l6["gru"]]
        paragraphs.append(
            f"**GRU against LSTM.** On the character language model the GRU reached validation loss "
            f"{gru['final_val_loss']:.3f} with {gru['parameters']:,} parameters, the LSTM "
            f"{lstm['final_val_loss']:.3f} with {lstm['parameters']:,} ({ev.lesson(GRU_LESSON)}, "
            f"{l6['mode']} run): "
            + ("close enough that neither is clearly better." if abs(gru["final_val_loss"] - lstm["final_val_loss"]) < 0.05
               else f"the {'GRU' if gru['final_val_loss'] < lstm['final_val_loss'] else 'LSTM'} is ahead here."))
    if COST in ev:
        models = ev[COST]["models"]
        cross = ev[COST]["crossover_T"]
        lines = [f"{m}: time {_exponent(models[m])}, memory T^{models[m]['memory_exponent']:.2f}"
                 for m in models]
        T = models["Transformer"]["T"][-1]
        cross_text = "; ".join(
            f"its step becomes slower than the {m}'s beyond T ~ {cross[m + ' time']:,.0f}"
            if cross.get(m + " time") else f"no time crossing with the {m}"
            for m in ("RNN", "LSTM", "GRU") if m + " time" in cross)
        paragraphs.append(
            f"**What each costs.** One training step's cost grows as ({ev.lesson(COST)}: the "
            "median slope over repeated rounds of timings, and the smallest to largest): "
            + "; ".join(lines) + f". For the Transformer, {cross_text} (measured up to T = {T:,}). "
            "A recurrent layer does T sequential steps; attention does one.")
    else:
        paragraphs.append("**What each costs.** " + _not_run(ev, COST))
    return paragraphs


def _ranking_sentence(l7):
    lag = {f: _lag(l7, "adding", f) or 0 for f in ("rnn", "lstm", "gru")}
    copy = {f: _lag(l7, "copy", f) or 0 for f in ("lstm", "gru", "transformer")}
    out = []
    if min(lag["lstm"], lag["gru"]) > lag["rnn"]:
        out.append("The gated models (LSTM, GRU) hold a value far longer than the RNN")
    else:
        out.append("This run does not show the gated models beating the RNN on adding")
    both = [lag for lag in l7["settings"]["adding_lags"]
            if l7["runs"]["adding"]["lstm"].get(str(lag), {}).get("learned")
            and l7["runs"]["adding"]["transformer"].get(str(lag), {}).get("learned")]
    if both:
        lag = max(both)
        out.append(f"at adding T = {lag} the Transformer needed "
                   f"{_steps(l7, 'adding', 'transformer', lag)} steps, the LSTM "
                   f"{_steps(l7, 'adding', 'lstm', lag)}")
    if copy["transformer"] > max(copy["lstm"], copy["gru"]):
        out.append("the Transformer recalls exact symbols across lags where the gated models fail")
    else:
        out.append("this run does not show the Transformer recalling further than the gated models")
    return "; ".join(out) + "."


# ----------------------------------------------------------------------------- part 3

def long_sequences(ev):
    paragraphs = []
    missing = _not_run(ev, LONG)
    if MEMORY in ev:
        l7 = ev[MEMORY]
        longest = _lag(l7, "adding", "lstm")
        grid = l7["settings"]["adding_lags"]
        if longest is not None and longest >= 1000:
            verdict = (f"learned the adding problem at T = {longest} ({_steps(l7, 'adding', 'lstm', longest)} "
                       f"steps; {ev.lesson(MEMORY)}, {l7['mode']} run), as Hochreiter & Schmidhuber "
                       "(1997) reported for T = 1,000: supported")
        elif max(grid) < 1000:
            verdict = (f"learned the adding problem {_lag_phrase(l7, 'adding', 'lstm')} "
                       f"({ev.lesson(MEMORY)}, {l7['mode']} run, grid up to {max(grid)}); whether it "
                       "learns T = 1,000, as "
                       "Hochreiter & Schmidhuber (1997) reported, is not supported by this run: its "
                       "grid stops short (lesson 7's full run tests it)")
        else:
            verdict = (f"learned the adding problem only {_lag_phrase(l7, 'adding', 'lstm')} "
                       f"({ev.lesson(MEMORY)}, {l7['mode']} run): T = 1,000 is not supported by this "
                       "run's budget")
        paragraphs.append(f"**Recurrent models.** The LSTM {verdict}. The plain RNN learned "
                          f"{_lag_phrase(l7, 'adding', 'rnn')}: it copes with long sequences only "
                          "when what matters is recent.")
    else:
        paragraphs.append("**Recurrent models.** " + _not_run(ev, MEMORY))
    if not missing:
        l11 = ev[LONG]
        tbptt, reach = l11["tbptt"], l11["gradient_reach"]
        lengths = sorted(map(int, tbptt["peak_bytes_by_length"]))
        text = (f"Any recurrent model can *read* an unbounded stream with truncated BPTT: its peak "
                f"memory grew x{tbptt['peak_growth']:.2f} while the stream grew "
                f"x{lengths[-1] / lengths[0]:.0f}, to {tbptt['stream_steps']:,} steps "
                f"({ev.lesson(LONG)}). The price is that no gradient reaches back more than "
                f"k = {tbptt['k']} steps. ")
        if "truncation_loses" in reach:
            text += (f"What that loses, measured against full BPTT on the same LSTM: "
                     f"{reach['truncation_loses']} ({ev.lesson(LONG)}).")
        paragraphs.append(text)
    else:
        paragraphs.append(missing)
    parts = []
    if COST in ev:
        tr = ev[COST]["models"]["Transformer"]
        parts.append(f"**The Transformer** pays for its one-hop reach in the T x T scores: its step "
                     f"memory grows as T^{tr['memory_exponent']:.2f} and its time as "
                     f"{_exponent(tr)} ({ev.lesson(COST)}).")
    if not missing:
        attn, window = ev[LONG]["attention"], ev[LONG]["sliding_window"]
        T = attn["largest_T"]
        exponent = attn.get("efficient_time_exponent")
        parts.append(
            f"Memory-efficient attention removes the memory wall (peak "
            f"{attn['efficient_peak_bytes_at_largest_T'] / MiB:.1f} MiB at T = {T:,}, where the T x T "
            f"weights alone would take {attn['full_weights_bytes_at_largest_T'] / MiB:,.0f} MiB) but "
            "not the time"
            + (f", which grew as T^{exponent:.2f} at the longest lengths" if exponent is not None else "")
            + f" ({ev.lesson(LONG)}). A {window['window']}-key sliding window does T x window "
            "work instead of T^2; " + (
                f"its time per query stayed about flat (x{window['time_per_query_growth']:.2f} over "
                "the lengths measured)" if window["time_per_query_growth"] < 1.5 else
                f"its time per query still grew x{window['time_per_query_growth']:.2f} over the "
                "lengths measured, so linear time is not supported by this run at these lengths")
            + f"; and it is blind beyond the window: a change 300 steps back moved the output by "
            f"{window['change_outside_window']:.2g} ({ev.lesson(LONG)}).")
    if parts:
        paragraphs.append(" ".join(parts))
    paragraphs.append(_so_can_each(ev))
    return paragraphs


def _so_can_each(ev):
    """The closing paragraph of part 3: one clause per model, each with its number."""
    clauses = []
    if MEMORY in ev:
        l7 = ev[MEMORY]
        clauses.append(f"the RNN reads them but forgets (adding learned {_lag_phrase(l7, 'adding', 'rnn')}, "
                       f"{ev.lesson(MEMORY)})")
        gated = (f"the LSTM and GRU hold information as long as their gates keep it (adding "
                 f"learned {_lag_phrase(l7, 'adding', 'lstm')} and "
                 f"{_lag_phrase(l7, 'adding', 'gru')}, {ev.lesson(MEMORY)})")
        if LONG in ev:
            tbptt = ev[LONG]["tbptt"]
            gated += (f" and read any length with truncated BPTT ({tbptt['stream_steps']:,} steps at a "
                      f"flat peak, {ev.lesson(LONG)})")
        clauses.append(gated)
        transformer = (f"the Transformer reaches any position directly (copy learned "
                       f"{_lag_phrase(l7, 'copy', 'transformer')}, {ev.lesson(MEMORY)})")
        costly = l7.get("not_run_for_cost", {})
        skipped = sorted({lag for by_family in costly.values() for lag in by_family.get("transformer", [])})
        if skipped:
            transformer += (f", though on a CPU it was not trained at T = "
                            f"{', '.join(f'{lag:,}' for lag in skipped)} for cost ({ev.lesson(MEMORY)})")
        if COST in ev:
            tr = ev[COST]["models"]["Transformer"]
            transformer += (f", at a memory cost growing as T^{tr['memory_exponent']:.2f} "
                            f"({ev.lesson(COST)})")
        clauses.append(transformer)
    if not clauses:
        return ("**So, can each handle extremely long sequences?** " + _not_run(ev, MEMORY))
    return ("**So, can each handle extremely long sequences?** In this run: "
            + "; ".join(clauses) + ".")


def modern(ev):
    """Part 4: the modern answer (linear recurrences, selectivity, recall, length), from the
    two modern lessons' results (lessons/_modern_answer.py)."""
    slugs = (RECURRENCE, RECALL)
    paragraphs, _ = modern_sections({ev.numbers[s]: ev.results.get(s) for s in slugs
                                     if s in ev.numbers})
    return paragraphs


SECTIONS = [  # (title, builder(ev) -> [paragraph, ...]); append to add a section
    ("1. What the LSTM and the Transformer contributed", contributions),
    ("2. RNN, LSTM (and GRU) and Transformer compared", compared),
    ("3. Extremely long sequences: does each cope, and how?", long_sequences),
    ("4. The modern answer: linear recurrences, selectivity, recall and length", modern),
]


def written_answer(ev, sections=None):
    """[(title, [paragraph, ...])] of every section; a section whose results lack a key it
    needs says which lesson to rerun instead of failing."""
    out = []
    for title, build in sections or SECTIONS:
        try:
            paragraphs = build(ev)
        except (KeyError, TypeError, ValueError) as err:
            paragraphs = [f"*Not supported by this run: a result this section needs is missing "
                          f"({type(err).__name__}: {err}); rerun the lessons with this version.*"]
        out.append((title, [p for p in paragraphs if p]))
    return out


def answer_markdown(parts):
    """The written answer as Markdown: a heading per part, then its paragraphs."""
    lines = []
    for title, paragraphs in parts:
        lines += [f"### {title}", ""]
        for paragraph in paragraphs:
            lines += [paragraph, ""]
    return "\n".join(lines)


def modes_paragraph(ev, slugs):
    """Which lessons ran quick, which full, which not at all; and the warning about quick."""
    quick = [s for s in slugs if s in ev and ev.mode(s) == "quick"]
    full = [s for s in slugs if s in ev and ev.mode(s) == "full"]
    other = [s for s in slugs if s in ev and ev.mode(s) not in ("quick", "full")]
    absent = [s for s in slugs if s not in ev]
    parts = []
    if full:
        parts.append(f"full run: {ev.lesson(*full)}")
    if quick:
        parts.append(f"quick run: {ev.lesson(*quick)}")
    if other:
        parts.append(f"mode not recorded (an older run): {ev.lesson(*other)}")
    if absent:
        parts.append(f"not run: {ev.lesson(*absent)}")
    text = "Which lessons this answer rests on: " + "; ".join(parts) + "."
    cut = [s for s in slugs if s in ev and ev[s].get("complete") is False]
    if cut:
        text += (f" The run of {ev.lesson(*cut)} was interrupted: its results hold only the runs "
                 "that finished, and what it did not reach is not supported.")
    if quick:
        text += (" **A quick run may undertrain**: it uses small grids, caps and step counts to "
                 "finish in minutes, so a model that \"did not learn\" in a quick run may learn "
                 "in the full one. Read a quick result as a lower bound on what a model can do.")
    return text

