# %% [markdown]
# # Lesson 12: The answer
#
# **Question.** So which model, for which sequences? Lessons 4, 5, 7, 10 and 11 each measured
# one side of it. This lesson measures nothing new: it reads their `results.json` files from
# the same output root, puts the numbers side by side for the RNN, the LSTM and the
# Transformer, and checks three textbook claims against them:
#
# 1. "The LSTM avoids vanishing and exploding gradients."
# 2. "The LSTM can process extremely long sequences."
# 3. "The Transformer handles long sequences better."
#
# Every verdict below is computed from the numbers of *your* run, so if you change a lesson
# and rerun it, the report changes with it. The result is `report.md` in this lesson's output
# folder: a table, the verdicts with their evidence, and the figures, the basis of an essay.
#
# Run the other lessons first, into the same `--out` root (this lesson tells you the exact
# commands for whatever is missing, and reports what it has):
#
#     python -m lessons 4 --quick --out runs/    # and 5, 7, 10, 11
#     python -m lessons 12 --quick --out runs/

# %%
import math
import os

from lessons._comparison_table import (HEADERS, MODELS, ROWS, comparison_markdown, comparison_rows,
                                       efficient_time_exponent, largest_weights, run_first, sci,
                                       up_to)
from lessons._measure import MiB
from lessons._shared import lesson_files, markdown_table, setup

opts = setup("12")
plt = opts.pyplot()
SOURCES = {4: "vanishing and exploding gradients", 5: "the LSTM", 7: "long-range memory",
           10: "cost against length", 11: "extremely long sequences"}
VANISHED = 1e-3     # a step whose gradient is 1,000x weaker than the last step's barely moves the weights

# %% [markdown]
# ## 1. Gather the results
#
# `opts.load_results(N)` reads `<root>/NN_topic/results.json`. A lesson that has not run (or
# is not in this checkout yet) is reported with the command that runs it; its rows say so.

# %%
in_checkout = {int(path.name[:2]) for path in lesson_files()}
results, missing = {}, {}
for number in SOURCES:
    try:
        results[number] = opts.load_results(number)
    except FileNotFoundError:
        quick = " --quick" if opts.quick else ""
        missing[number] = (f"python -m lessons {number}{quick} --out {opts.root}"
                           if number in in_checkout else f"lesson {number} is not in this checkout yet")
for number, how in missing.items():
    print(f"lesson {number} ({SOURCES[number]}): no results under {opts.root}; run: {how}")
print(f"found results of lessons {sorted(results) or 'none'}")

# %% [markdown]
# ## 2. The comparison table
#
# Each row is a function of the results it needs: it returns one cell per model. Gradient
# reach is $\|\partial L/\partial h_0\| / \|\partial L/\partial h_{T-1}\|$ for a loss on the
# last of T = 100 steps (lessons 4 and 5): 1 means the first step gets as much gradient as the
# last, 1e-30 means nothing. A Transformer reaches any position in one attention hop, so it
# has no product of T Jacobians to measure (lessons 4 and 5 do not measure it). The row
# functions live in `lessons/_comparison_table.py` (`ROWS`: label, lessons read, cells).

# %%
table_rows = comparison_rows(results)
comparison_table = comparison_markdown(table_rows)
print(comparison_table)

# %% [markdown]
# ## 3. The claims, checked
#
# A verdict is one of *held*, *held in part* or *did not hold*, chosen by a rule written out in
# each function, with the numbers that decided it. "Vanished" means a reach below 1e-3.

# %%
def claim_rnn_vanishes():
    reach = results[4]["gradient_reach"]
    below = {r: v for r, v in reach.items() if float(r) < 1}
    vanished = [r for r, v in below.items() if v < VANISHED]
    verdict = "held" if len(vanished) == len(below) else "held in part"
    return verdict, (f"With recurrent weights of norm r < 1 the reach over 99 steps is "
                     f"{', '.join(f'{sci(v)} (r={r})' for r, v in below.items())}"), \
        f"r > 1 makes it explode instead (r = {max(reach, key=float)}: {sci(reach[max(reach, key=float)])})"


def claim_lstm_vanishing():
    rnn, by_bias = results[5]["rnn_reach"], results[5]["lstm_reach_by_forget_bias"]
    lstm = by_bias["1"]
    kept = [b for b, v in by_bias.items() if v >= VANISHED]
    if lstm <= rnn:
        verdict = "did not hold"
    else:
        verdict = "held" if lstm >= VANISHED else "held in part"
    evidence = (f"LSTM reach {sci(lstm)} (forget bias 1) against the RNN's {sci(rnn)}: "
                f"about 10^{math.log10(lstm / rnn):.0f} times more gradient at step 0")
    broke = ("" if verdict == "held" else
             f"still vanished (< {VANISHED:g}) with forget bias 1; kept above it only with bias "
             + (", ".join(kept) if kept else "none of " + ", ".join(by_bias)))
    if 7 in results:
        longest = results[7]["longest_lag_learned"]["copy"]
        evidence += (f"; copy memory learned {up_to(longest['lstm'])} by the LSTM, "
                     f"{up_to(longest['rnn'])} by the RNN")
    return verdict, evidence, broke


def claim_lstm_exploding():
    scale, big = largest_weights(results)
    explodes = results[5]["large_weights_explode"] and big["reach_h"] > 1
    return ("did not hold" if explodes else "held",
            f"With weights x{scale} the LSTM's reach is {sci(big['reach_h'])} "
            f"({'> 1: the gradient grows going back' if explodes else 'at most 1'})",
            f"large weights (x{scale}): its gradient norm {big['param_grad_norm']:.3g} needs clipping "
            f"as the RNN's does (clip_grad_norm_ brought it to {big['clipped_norm']:.3g})" if explodes else "")


def claim_lstm_long():
    tbptt, reach = results[11]["tbptt"], results[11]["gradient_reach"]
    flat = tbptt["peak_growth"] < 1.5      # the peak did not follow the stream's 10x (or more) growth
    evidence = (f"TBPTT read {tbptt['stream_steps']:,} steps with peak memory x{tbptt['peak_growth']:.2f} "
                f"over the stream; gradients reach {reach['farthest_tbptt']} steps back")
    broke = []
    if reach["farthest_tbptt"] < reach["farthest_full"]:
        broke.append(f"nothing is learnt from gradients beyond k = {tbptt['k']} steps")
    if 7 in results:
        lags = results[7]["settings"]["copy_lags"]
        best = results[7]["longest_lag_learned"]["copy"]["lstm"]
        evidence += f"; copy memory learned {up_to(best)} (lags {list(lags)})"
        if best != max(lags):
            broke.append("copy memory failed at lag "
                         f"{min(lag for lag in lags if best is None or lag > best)}")
    verdict = "did not hold" if not flat else ("held in part" if broke else "held")
    return verdict, evidence, "; ".join(broke)


def claim_transformer_long():
    l10 = results[10]["models"]
    cost_worse = l10["Transformer"]["memory_exponent"] > l10["LSTM"]["memory_exponent"] + 0.5
    evidence = (f"Memory grows as T^{l10['Transformer']['memory_exponent']:.2f} against the LSTM's "
                f"T^{l10['LSTM']['memory_exponent']:.2f}; 1 sequential step per layer against T")
    longest = results[7]["longest_lag_learned"]
    # None (learned at no lag) counts as 0; "better": at least as far on every task, further on one
    gains = [(longest[task]["transformer"] or 0) - (longest[task]["lstm"] or 0) for task in longest]
    better = all(g >= 0 for g in gains) and any(g > 0 for g in gains)
    evidence += "; " + "; ".join(f"{task}: learned {up_to(longest[task]['transformer'])}, the LSTM "
                                 f"{up_to(longest[task]['lstm'])}" for task in longest)
    broke = []
    if cost_worse:
        cross = results[10]["crossover_T"]["LSTM time"]
        broke.append(f"memory grows as T^{l10['Transformer']['memory_exponent']:.2f}"
                     + (f" and a step is slower than the LSTM's beyond T~{cross:,.0f}" if cross else ""))
    if 11 in results:
        broke.append("memory-efficient attention fixes the memory, not the "
                     f"T^{efficient_time_exponent(results):.1f} time")
    if not better:
        broke.insert(0, "it did not learn longer lags than the LSTM here")
    verdict = ("did not hold" if not better and cost_worse else
               "held" if better and not cost_worse else "held in part")
    return verdict, evidence, "; ".join(broke)


CLAIMS = [
    ("A plain RNN's gradient vanishes over long distances", (4,), claim_rnn_vanishes),
    ("The LSTM avoids vanishing gradients", (5,), claim_lstm_vanishing),
    ("The LSTM avoids exploding gradients", (5,), claim_lstm_exploding),
    ("The LSTM can process extremely long sequences", (11,), claim_lstm_long),
    ("The Transformer handles long sequences better", (7, 10), claim_transformer_long),
]
claim_rows = []
for claim, needs, judge in CLAIMS:
    absent = run_first(results, *needs)
    verdict, evidence, broke = (absent, "", "") if absent else judge()
    claim_rows.append({"claim": claim, "lessons": list(needs), "verdict": verdict,
                       "evidence": evidence, "where it broke": broke or "-"})
claims_table = markdown_table(["claim", "verdict", "evidence (measured)", "where it broke, or the caveat"],
                              [[c["claim"], c["verdict"], c["evidence"], c["where it broke"]]
                               for c in claim_rows])
print(claims_table)

# %% [markdown]
# ## 4. One summary figure, and the other lessons' figures
#
# Four panels from the gathered numbers: gradient reach (lessons 4, 5), the longest lag learned
# (lesson 7), and the time and memory of a training step against T (lesson 10). A panel whose
# lesson has not run says so.

# %%
COLORS = {"RNN": "C0", "LSTM": "C1", "Transformer": "C3"}
fig, axes = plt.subplots(2, 2, figsize=(12, 9))
(ax_reach, ax_lag), (ax_time, ax_mem) = axes


def panel_missing(ax, *numbers):
    absent = run_first(results, *numbers)
    if absent:
        ax.text(0.5, 0.5, absent, ha="center", va="center", transform=ax.transAxes, fontsize=12)
        ax.set_xticks([])
        ax.set_yticks([])
    return absent is not None


if not panel_missing(ax_reach, 5):
    l5 = results[5]
    scale, big = largest_weights(results)
    bars = {"RNN": l5["rnn_reach"]} | {f"LSTM\nbias {b}": v for b, v in l5["lstm_reach_by_forget_bias"].items()}
    bars[f"LSTM\nweights x{scale}"] = big["reach_h"]
    ax_reach.bar(range(len(bars)), list(bars.values()),
                 color=[COLORS["RNN"]] + [COLORS["LSTM"]] * (len(bars) - 1))
    ax_reach.set_xticks(range(len(bars)), list(bars))
    ax_reach.set_yscale("log")
    ax_reach.axhline(1, color="0.3", linewidth=0.8)
    ax_reach.axhline(VANISHED, color="0.3", linestyle="--", linewidth=0.8, label=f"vanished below {VANISHED:g}")
    ax_reach.set_ylabel("||dL/dh_0|| / ||dL/dh_99||")
    ax_reach.set_title("Gradient reach over 99 steps (lesson 5)")
    ax_reach.legend(fontsize=8)

if not panel_missing(ax_lag, 7):
    longest = results[7]["longest_lag_learned"]
    width = 0.8 / len(MODELS)
    for k, m in enumerate(MODELS):
        values = [longest[task][m.lower()] or 0 for task in longest]
        xs = [i + (k - 1) * width for i in range(len(longest))]
        ax_lag.bar(xs, values, width, color=COLORS[m], label=m)
        for x, v in zip(xs, values):
            ax_lag.text(x, v, str(v) if v else "none", ha="center", va="bottom", fontsize=8)
    ax_lag.set_xticks(range(len(longest)), [f"{task}\n(lags {results[7]['settings'][task + '_lags']})"
                                            for task in longest])
    ax_lag.set_ylabel("longest lag learned (steps)")
    ax_lag.set_title("Longest lag learned, same budget for all (lesson 7)")
    ax_lag.legend(fontsize=8)

for ax, key, scale, unit in ((ax_time, "seconds", 1e3, "ms per training step"),
                             (ax_mem, "peak_bytes", 1 / MiB, "peak traced memory (MiB)")):
    if panel_missing(ax, 10):
        continue
    exponent = "time_exponent" if key == "seconds" else "memory_exponent"
    for m in MODELS:
        entry = results[10]["models"][m]
        ax.loglog(entry["T"], [scale * v for v in entry[key]], "o-", color=COLORS[m],
                  label=f"{m} (T^{entry[exponent]:.2f})")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel(unit)
    ax.set_title(f"{'Time' if key == 'seconds' else 'Memory'} of forward + backward (lesson 10)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
fig.suptitle("RNN, LSTM and Transformer: what lessons 4-11 measured")
fig.tight_layout()
summary_path = opts.savefig(fig, "summary")

FIGURES = [
    (4, "gradient_norm_vs_distance", "RNN gradient norm against distance, for several spectral radii"),
    (4, "clipping", "the adding problem with and without gradient clipping"),
    (5, "gradient_reach_lstm_vs_rnn", "gradient reach of the LSTM against the RNN, by forget bias"),
    (5, "gate_activations", "LSTM gate activations on a line of Python"),
    (7, "accuracy_vs_lag", "copy memory and adding problem against the lag, all models"),
    (10, "cost_vs_length", "time and memory of a training step against T, with fitted slopes"),
    (11, "memory_vs_length", "training memory of truncated against full BPTT"),
    (11, "gradient_reach", "gradient reach of full against truncated BPTT"),
    (11, "attention_vs_T", "plain, memory-efficient and sliding-window attention against T"),
]
figure_lines, linked = [f"![summary](summary.png)\n\n*Summary of the measured results (this lesson).*"], []
for number, name, caption in FIGURES:
    path = opts.results_path(number, name + ".png")
    if path.is_file():
        relative = os.path.relpath(path, opts.out).replace(os.sep, "/")
        figure_lines.append(f"![{name}]({relative})\n\n*Lesson {number}: {caption}.*")
        linked.append(relative)
    else:
        figure_lines.append(f"*Lesson {number}: {caption}: not found; "
                            f"{missing.get(number, 'rerun lesson %d' % number)}.*")

# %% [markdown]
# ## 5. The report
#
# Everything above, in one Markdown file: `report.md`. The figures are links relative to it,
# so keep the output root together (or copy the folders with it).

# %%
held = {c["claim"]: c["verdict"] for c in claim_rows}
missing_lines = ([f"- Lesson {n} ({SOURCES[n]}): `{how}`" for n, how in missing.items()]
                 or ["- none: every lesson this report reads has run."])
report = "\n".join([
    "# RNN, LSTM or Transformer? What the measurements say",
    "",
    f"Gathered by lesson 12 from the results of lessons {', '.join(map(str, SOURCES))} under "
    f"`{opts.root}` ({'quick' if opts.quick else 'full'} run of lesson 12, seed {opts.seed}). "
    "Every number and verdict below is computed from those results; rerun a lesson and this "
    "report changes with it.",
    "",
    "Missing results (their rows say so; run these, then lesson 12 again):",
    "",
    *missing_lines,
    "",
    "## The comparison",
    "",
    comparison_table,
    "",
    "Gradient reach: ||dL/dh_0|| / ||dL/dh_T-1|| for a loss on the last of T = 100 steps. "
    "Longest lag learned: the largest lag of lesson 7's grid at which the model passed "
    "(copy accuracy > 0.9, adding MSE < 0.1 x 0.167), the same number of steps for all. "
    "Time: best wall time of a training step (forward + backward); memory: tracemalloc peak. "
    "Exponents: slope of log(cost) against log(T) on the longest lengths.",
    "",
    "## The textbook claims",
    "",
    claims_table,
    "",
    f"A reach below {VANISHED:g} counts as vanished: that step gets a thousandth of the last "
    "step's gradient, too little to learn from next to the nearby steps.",
    "",
    "## Figures",
    "",
    *[line + "\n" for line in figure_lines],
    "## For the essay",
    "",
    "- Which claim held, which held only in part, and under which conditions "
    "(forget bias, weight scale, sequence length, memory budget)?",
    "- The recurrent models cost O(T) time and memory but need T sequential steps; attention "
    "costs O(T^2) but one step per layer. Where did this run's crossover fall, and how would a "
    "GPU (many cores, a fixed cost per kernel) move it?",
    "- What does each fix for very long sequences (TBPTT, memory-efficient or windowed "
    "attention) give up?",
])
report_path = opts.save_text("report.md", report)

opts.save_json("results", {
    "sources": {str(n): SOURCES[n] for n in SOURCES},
    "found": sorted(results),
    "missing": {str(n): how for n, how in missing.items()},
    "table": {"headers": HEADERS, "rows": table_rows},
    "row_labels": [label for label, _, _ in ROWS],
    "claims": claim_rows,
    "claim_labels": [claim for claim, _, _ in CLAIMS],
    "figures_linked": linked,
    "report": report_path,
})

# %% [markdown]
# ## What we saw

# %%
for c in claim_rows:
    print(f"- {c['claim']}: {c['verdict']}." + (f" {c['evidence']}." if c["evidence"] else "")
          + (f" Broke: {c['where it broke']}." if c["where it broke"] != "-" else ""))
if missing:
    print(f"- {len(missing)} of {len(SOURCES)} lessons had no results; their rows say which to run.")

# %% [markdown]
# ## Exercises
#
# 1. Run lessons 4-11 without `--quick` and regenerate the report. Which verdicts change, and
#    which numbers moved them?
# 2. Add a row for the GRU (lesson 6 and lesson 7's `gru` entries). Where does it sit between
#    the RNN and the LSTM?
# 3. The "vanished" threshold 1e-3 is a choice. For which thresholds does the verdict on the
#    LSTM change? Argue for one.
# 4. Lesson 10 ran on a CPU. Rerun it with `--device cuda` (the memory column then needs
#    CuPy's memory pool instead of tracemalloc): does the time crossover move up or down?
# 5. Write the essay: one paragraph per claim, each citing the row of the table that decides it.
