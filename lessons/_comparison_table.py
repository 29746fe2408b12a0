"""Lesson 12's comparison table: one row per measured quantity, one cell per model, each row
computed from the ``results.json`` of the lessons it reads (4, 5, 7, 10, 11).

    results = {5: opts.load_results(5), ...}           # lesson number -> its results
    table_rows = comparison_rows(results)              # [{"label", "lessons", "available", "cells"}]
    print(comparison_markdown(table_rows))

A row whose lessons have not run says so in every cell ("run lesson 7 first") instead of
failing. The formatting helpers (``sci``, ``up_to``, ...) and the two derived numbers
(``largest_weights``, ``efficient_time_exponent``) are shared with lesson 12's verdicts, so a
number reads the same in the table and in the claims.
"""

import math

from lessons._measure import MiB
from lessons._shared import markdown_table

MODELS = ("RNN", "LSTM", "Transformer")
HEADERS = ["", "lessons"] + list(MODELS)
NO_CHAIN = "one attention hop: no product over steps"


# ----------------------------------------------------------------------------- formatting

def run_first(results, *numbers):
    """The cell text of a row whose lessons have not run, or None when all have."""
    absent = [n for n in numbers if n not in results]
    return f"run lesson {', '.join(map(str, absent))} first" if absent else None


def sci(value):
    return "n/a" if value is None else f"{value:.1e}"


def lag_text(lag, lags):
    return f"none of {list(lags)}" if lag is None else f"{lag} (of {max(lags)})"


def up_to(lag):
    return "at no lag of the grid" if lag is None else f"up to lag {lag}"


# ----------------------------------------------------------------------------- derived numbers

def largest_weights(results):
    """(scale, entry) of lesson 5's largest weight scale."""
    scale = max(results[5]["large_weights"], key=float)
    return scale, results[5]["large_weights"][scale]


def efficient_time_exponent(results):
    """Slope of log(time) against log(T) of lesson 11's memory-efficient attention, between
    its two longest lengths: ~2 when the T^2 work rules."""
    by_T = {int(T): entry["seconds"] for T, entry in results[11]["attention"]["efficient"].items()}
    (t0, s0), (t1, s1) = sorted(by_T.items())[-2:]
    return math.log(s1 / s0) / math.log(t1 / t0)


# ----------------------------------------------------------------------------- the rows

def row_reach_default(results):
    l5 = results[5]
    return [sci(l5["rnn_reach"]), f"{sci(l5['lstm_reach_by_forget_bias']['1'])} (forget bias 1)", NO_CHAIN]


def row_reach_scale(results):
    reach4, by_bias = results[4]["gradient_reach"], results[5]["lstm_reach_by_forget_bias"]
    return [", ".join(f"r={r}: {sci(v)}" for r, v in reach4.items()),
            ", ".join(f"bias {b}: {sci(v)}" for b, v in by_bias.items()), NO_CHAIN]


def row_large_weights(results):
    radius = max(results[4]["gradient_reach"], key=float)
    scale, big = largest_weights(results)
    return [f"r={radius}: {sci(results[4]['gradient_reach'][radius])}",
            f"weights x{scale}: {sci(big['reach_h'])}", NO_CHAIN]


def row_lag(task):
    def cells(results):
        l7 = results[7]
        lags = l7["settings"][f"{task}_lags"]
        return [lag_text(l7["longest_lag_learned"][task][m.lower()], lags) for m in MODELS]
    return cells


def row_cost(key, exponent, scale, unit):
    """Cells '<cost> at T=<longest>; grows as T^b' from lesson 10's ``key`` list."""
    def cells(results):
        out = []
        for m in MODELS:
            entry = results[10]["models"][m]
            out.append(f"{scale * entry[key][-1]:.1f} {unit} at T={entry['T'][-1]:,}; "
                       f"grows as T^{entry[exponent]:.2f}")
        return out
    return cells


def row_sequential(results):
    out = []
    for m in MODELS:
        entry = results[10]["models"][m]
        steps, T = entry["sequential_steps_per_layer"], entry["sequential_steps_at_T"]
        out.append(f"{steps} at T={T} (" + ("= T)" if steps == T else "whatever T)"))
    return out


def row_crossover(results):
    cross = results[10]["crossover_T"]
    cells = []
    for m in ("RNN", "LSTM"):
        time_T, memory_T = cross[f"{m} time"], cross[f"{m} memory"]
        cells.append(("Transformer slower beyond T~" + f"{time_T:,.0f}" if time_T else "time: no crossing")
                     + "; " + (f"uses more memory beyond T~{memory_T:,.0f}" if memory_T else "memory: no crossing"))
    return cells + ["(reference)"]


def row_long_memory(results):
    l11 = results[11]
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
    return ["TBPTT works for any recurrent cell (measured on the LSTM)", lstm, transformer]


def row_long_price(results):
    l11 = results[11]
    reach, window = l11["gradient_reach"], l11["sliding_window"]
    lost = (f"no gradient beyond {reach['farthest_tbptt']} steps back (full BPTT: "
            + ("the whole sequence, " if reach["farthest_full"] == reach["T"] - 1 else "")
            + f"{reach['farthest_full']} steps back)")
    return [lost, lost,
            f"exact, but time still grows as T^{efficient_time_exponent(results):.2f}; a "
            f"{window['window']}-key sliding window is blind beyond it (output change "
            f"{window['change_outside_window']:.2g})"]


ROWS = [  # (label, lessons it reads, cells(results))
    ("Gradient reach over 99 steps, default init", (5,), row_reach_default),
    ("Gradient reach against the weight scale", (4, 5), row_reach_scale),
    ("Gradient with large weights", (4, 5), row_large_weights),
    ("Longest lag learned, copy memory", (7,), row_lag("copy")),
    ("Longest lag learned, adding problem", (7,), row_lag("adding")),
    ("Step time at the longest T", (10,), row_cost("seconds", "time_exponent", 1e3, "ms")),
    ("Step memory at the longest T", (10,), row_cost("peak_bytes", "memory_exponent", 1 / MiB, "MiB")),
    ("Sequential steps per layer (critical path)", (10,), row_sequential),
    ("Where the Transformer becomes costlier", (10,), row_crossover),
    ("Memory on extremely long sequences", (11,), row_long_memory),
    ("What the long-sequence fix costs", (11,), row_long_price),
]


def comparison_rows(results):
    """Every row of ``ROWS`` as {"label", "lessons", "available", "cells": {model: text}}."""
    table_rows = []
    for label, needs, cells in ROWS:
        absent = run_first(results, *needs)
        values = [absent] * len(MODELS) if absent else cells(results)
        table_rows.append({"label": label, "lessons": list(needs), "available": absent is None,
                           "cells": dict(zip(MODELS, values))})
    return table_rows


def comparison_markdown(table_rows):
    """The rows as a Markdown table: label, lessons read, one column per model."""
    return markdown_table(HEADERS, [[r["label"], ", ".join(map(str, r["lessons"]))]
                                    + [r["cells"][m] for m in MODELS] for r in table_rows])
