"""The answer lesson's comparison table: one row per measured quantity, one cell per model, each row
computed from the ``results.json`` of the lessons it reads, found by their names (slugs), not
their numbers: a lesson that moves to another number is still found.

    ev = Evidence(results_by_slug, number_by_slug)     # what the answer lesson gathered
    table_rows = comparison_rows(ev)                   # [{"label", "lessons", "available", "cells"}]
    print(comparison_markdown(table_rows))

A row whose lessons have not run says so in every cell ("run lesson 7 first") instead of
failing. New rows plug in by appending ``(label, slugs, cells(ev))`` to ``ROWS``. The
formatting helpers (``sci``, ``up_to``, ...) are shared with the answer lesson's written answer, so a
number reads the same in the table and in the prose.
"""

from lessons._measure import MiB
from lessons._shared import markdown_table

MODELS = ("RNN", "LSTM", "GRU", "Transformer")
HEADERS = ["", "lessons"] + list(MODELS)
FAMILY = {"RNN": "rnn", "LSTM": "lstm", "GRU": "gru", "Transformer": "transformer"}

# The lessons the answer lesson (14) reads, by slug (the folder name without its number).
VANISHING, LSTM_LESSON, GRU_LESSON = "vanishing_exploding", "lstm", "gru_vs_lstm"
MEMORY, ATTENTION, TRANSFORMER = "long_range_memory", "attention", "transformer"
COST, LONG = "cost_against_length", "extremely_long_sequences"
RECURRENCE, RECALL = "recurrence_returns", "recall_selectivity_length"     # the modern lessons
OWN = "input_reach"      # the answer lesson's own measurement (lessons/_reach.py), not a lesson's file
SOURCES = {VANISHING: "vanishing and exploding gradients", LSTM_LESSON: "the LSTM",
           GRU_LESSON: "GRU against LSTM", MEMORY: "long-range memory",
           ATTENTION: "attention", TRANSFORMER: "the Transformer",
           COST: "cost against length", LONG: "extremely long sequences",
           RECURRENCE: "recurrence returns", RECALL: "recall, selectivity and length"}


class Evidence:
    """What the answer lesson gathered: results by slug, and the lesson number each came from."""

    def __init__(self, results, numbers):
        self.results = dict(results)          # slug -> the lesson's results.json
        self.numbers = dict(numbers)          # slug -> its lesson number (also for missing ones)

    def __contains__(self, slug):
        return slug in self.results

    def __getitem__(self, slug):
        return self.results[slug]

    def lesson(self, *slugs):
        """'lesson 7' or 'lessons 4, 5': how a sentence cites where its number came from."""
        numbers = [str(self.numbers[s]) if s in self.numbers else s for s in slugs]
        return ("lesson " if len(numbers) == 1 else "lessons ") + ", ".join(numbers)

    def missing(self, *slugs):
        """The cell text of a row whose lessons have not run, or None when all have."""
        absent = [s for s in slugs if s not in self.results]
        return f"run {self.lesson(*absent)} first" if absent else None

    def mode(self, slug):
        return self.results[slug].get("mode", "unknown")


# ----------------------------------------------------------------------------- formatting

def sci(value):
    if value is None:
        return "n/a"
    return "0 (below float64's range)" if value == 0 else f"{value:.1e}"


def up_to(lag):
    return "at no lag of the grid" if lag is None else f"up to lag {lag}"


def lag_cell(l7, task, family):
    """'200 (of 200; 75 steps)' or 'none (failed at 10 after 1500 steps)'."""
    best = l7["longest_lag_learned"][task][family]
    failed = l7.get("first_lag_not_learned", {}).get(task, {}).get(family)
    runs = l7["runs"][task][family]
    if not runs:
        return "not trained (interrupted run)"
    text = "none" if best is None else f"{best} ({runs[str(best)]['steps']} steps)"
    if failed is not None:
        text += f"; not {failed} in {runs[str(failed)]['steps']} steps"
    return text


def exponent_text(entry, key):
    spread = entry.get(f"{key}_spread")
    value = entry[key]
    return f"T^{value:.2f}" + (f" ({spread[0]:.2f}-{spread[1]:.2f})" if spread else "")


# ----------------------------------------------------------------------------- the rows

def row_reach_h(ev):
    l5 = ev[LSTM_LESSON]
    pytorch = l5.get("lstm_reach_pytorch_init")
    lstm = (f"{sci(pytorch)} (PyTorch's init); " if pytorch is not None else "") + \
        f"{sci(l5['lstm_reach_by_forget_bias']['1'])} (forget bias 1)"
    return [f"{sci(l5['rnn_reach'])} (PyTorch's init)", lstm,
            "not measured along h (see input reach)", "no chain of h (see input reach)"]


def row_input_reach(ev):
    reach = ev[OWN]["reach"]

    def cell(kinds):
        return "; ".join(f"{label}: " + ", ".join(f"T={T}: {sci(v)}" for T, v in reach[k].items())
                         for k, label in kinds)
    return [cell([("rnn", "PyTorch's init")]),
            cell([("lstm", "PyTorch's init"), ("lstm_forget_bias_1", "forget bias 1"),
                  ("lstm_chrono", "chrono")]),
            cell([("gru", "PyTorch's init")]), cell([("transformer", "PyTorch's init")])]


def row_reach_scale(ev):
    reach4, by_bias = ev[VANISHING]["gradient_reach"], ev[LSTM_LESSON]["lstm_reach_by_forget_bias"]
    return [", ".join(f"r={r}: {sci(v)}" for r, v in reach4.items()),
            ", ".join(f"bias {b}: {sci(v)}" for b, v in by_bias.items()), "-", "-"]


def row_large_weights(ev):
    radius = max(ev[VANISHING]["gradient_reach"], key=float)
    scale = max(ev[LSTM_LESSON]["large_weights"], key=float)
    big = ev[LSTM_LESSON]["large_weights"][scale]
    return [f"r={radius}: {sci(ev[VANISHING]['gradient_reach'][radius])}",
            f"weights x{scale}: {sci(big['reach_h'])}", "-", "-"]


def row_lag(task):
    def cells(ev):
        return [lag_cell(ev[MEMORY], task, FAMILY[m]) for m in MODELS]
    return cells


def row_cost(key, exponent, scale, unit):
    """Cells '<cost> at T; grows as T^b (spread)' from lesson 10's ``key`` list, every model at
    the same T: the longest length all of them were measured at."""
    def cells(ev):
        models = ev[COST]["models"]
        common = set.intersection(*(set(entry["T"]) for entry in models.values()))
        T = max(common)
        out = []
        for m in MODELS:
            entry = models.get(m)
            if entry is None:
                out.append("not measured (rerun lesson 10)")
                continue
            out.append(f"{scale * entry[key][entry['T'].index(T)]:.1f} {unit} at T={T:,}; "
                       f"grows as {exponent_text(entry, exponent)}")
        return out
    return cells


def row_sequential(ev):
    out = []
    for m in MODELS:
        entry = ev[COST]["models"].get(m)
        if entry is None:
            out.append("not measured")
            continue
        steps, T = entry["sequential_steps_per_layer"], entry["sequential_steps_at_T"]
        out.append(f"{steps} at T={T} (" + ("= T)" if steps == T else "whatever T)"))
    return out


def row_crossover(ev):
    cross = ev[COST]["crossover_T"]
    cells = []
    for m in ("RNN", "LSTM", "GRU"):
        if f"{m} time" not in cross:
            cells.append("not measured")
            continue
        time_T, memory_T = cross[f"{m} time"], cross[f"{m} memory"]
        cells.append(("Transformer slower beyond T~" + f"{time_T:,.0f}" if time_T else "time: no crossing")
                     + "; " + (f"uses more memory beyond T~{memory_T:,.0f}" if memory_T else "memory: no crossing"))
    return cells + ["(reference)"]


def row_long_memory(ev):
    l11 = ev[LONG]
    tbptt, attn = l11["tbptt"], l11["attention"]
    steps = tbptt["stream_steps"]
    peak = tbptt["peak_bytes_by_length"][str(steps)]
    full = l11["full_bptt"]["extrapolated_bytes_by_length"][str(steps)]
    lengths = sorted(map(int, tbptt["peak_bytes_by_length"]))
    lstm = (f"TBPTT k={tbptt['k']}: {peak / MiB:.1f} MiB at {steps:,} steps, x{tbptt['peak_growth']:.2f} "
            f"while the stream grew x{lengths[-1] / lengths[0]:.0f} (full BPTT: {full / MiB:,.0f} MiB)")
    T = attn["largest_T"]
    transformer = (f"memory-efficient attention: {attn['efficient_peak_bytes_at_largest_T'] / MiB:.1f} MiB at "
                   f"T={T:,} (T x T weights: {attn['full_weights_bytes_at_largest_T'] / MiB:,.0f} MiB)")
    same = "TBPTT works for any recurrent cell (measured on the LSTM)"
    return [same, lstm, same, transformer]


def row_long_price(ev):
    l11 = ev[LONG]
    reach, window, attn = l11["gradient_reach"], l11["sliding_window"], l11["attention"]
    lost = (f"no gradient beyond {reach['farthest_tbptt']} steps back; what that loses: "
            + reach.get("truncation_loses", "not measured (rerun lesson 11)"))
    exponent = attn.get("efficient_time_exponent")
    spread = attn.get("efficient_time_exponent_spread")
    time_text = ("time grows as T^" + f"{exponent:.2f}" + (f" ({spread[0]:.2f}-{spread[1]:.2f})"
                                                          if spread else "")
                 if exponent is not None else "time not measured")
    return [lost, lost, lost,
            f"exact, but {time_text}; a {window['window']}-key sliding window is blind beyond "
            f"it (output change {window['change_outside_window']:.2g})"]


def row_dates(ev):
    l8, l9 = ev[ATTENTION]["dates"], ev[TRANSFORMER]["decoding"]
    return ["-", "-", f"GRU + attention: {100 * l8['test_exact']:.1f}% exact ({ev.lesson(ATTENTION)})",
            f"{100 * l9['greedy_exact']:.1f}% exact, greedy ({ev.lesson(TRANSFORMER)})"]


def row_heads(ev):
    heads = ev[TRANSFORMER].get("cross_attention_heads")
    if heads is None:
        return ["-", "-", "-", "not measured (rerun lesson 9)"]
    best = min(heads["by_layer"], key=lambda st: st["mean_pair_overlap"])
    entropies = ", ".join(f"{e:.2f}" for e in best["entropy_per_head"])
    return ["-", "-", "one attention distribution per step (lesson 8)",
            f"two heads share {best['mean_pair_overlap']:.2f} of their weight; argmax differs in "
            f"{100 * best['argmax_differ_fraction']:.0f}% of rows; entropy per head {entropies} "
            f"(uniform: {heads['uniform_entropy']:.2f}) (most distinct layer)"]


def row_char_lm(ev):
    l6 = ev[GRU_LESSON]["models"]
    lstm, gru = ev[GRU_LESSON]["lstm"], ev[GRU_LESSON]["gru"]
    return ["-", f"val loss {l6[lstm]['final_val_loss']:.3f} ({l6[lstm]['parameters']:,} params)",
            f"val loss {l6[gru]['final_val_loss']:.3f} ({l6[gru]['parameters']:,} params)", "-"]


ROWS = [  # (label, slugs it reads, cells(ev)); append to add a row
    ("Gradient reach over 99 steps along h, at init (init named)", (LSTM_LESSON,), row_reach_h),
    ("Input reach ||dL/dx_0|| / ||dL/dx_T-1||, at init", (OWN,), row_input_reach),
    ("Gradient reach against the weight scale", (VANISHING, LSTM_LESSON), row_reach_scale),
    ("Gradient with large weights", (VANISHING, LSTM_LESSON), row_large_weights),
    ("Longest lag learned, copy memory (steps)", (MEMORY,), row_lag("copy")),
    ("Longest lag learned, adding problem (steps)", (MEMORY,), row_lag("adding")),
    ("Char-level language model, same budget", (GRU_LESSON,), row_char_lm),
    ("Date translation, exact match", (ATTENTION, TRANSFORMER), row_dates),
    ("Heads attend to different positions", (TRANSFORMER,), row_heads),
    ("Step time at the longest common T (exponent, spread)", (COST,),
     row_cost("seconds", "time_exponent", 1e3, "ms")),
    ("Step memory at the longest common T", (COST,), row_cost("peak_bytes", "memory_exponent", 1 / MiB, "MiB")),
    ("Sequential steps per layer (critical path)", (COST,), row_sequential),
    ("Where the Transformer becomes costlier", (COST,), row_crossover),
    ("Memory on extremely long sequences", (LONG,), row_long_memory),
    ("What the long-sequence fix costs", (LONG,), row_long_price),
]


def comparison_rows(ev, rows=None):
    """Every row of ``rows`` (default ``ROWS``) as {"label", "lessons", "available", "cells"}."""
    table_rows = []
    for label, needs, cells in rows or ROWS:
        absent = ev.missing(*needs)
        values = [absent] * len(MODELS) if absent else cells(ev)
        table_rows.append({"label": label, "lessons": ev.lesson(*needs).split(" ", 1)[1],
                           "available": absent is None, "cells": dict(zip(MODELS, values))})
    return table_rows


def comparison_markdown(table_rows):
    """The rows as a Markdown table: label, lessons read, one column per model."""
    return markdown_table(HEADERS, [[r["label"], r["lessons"]] + [r["cells"][m] for m in MODELS]
                                    for r in table_rows])
