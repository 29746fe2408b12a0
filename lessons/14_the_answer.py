# %% [markdown]
# # Lesson 14: The answer
#
# **Question.** What did the LSTM and the Transformer contribute; how do the RNN, the LSTM
# and the Transformer compare; and can each handle extremely long sequences, and if so how?
#
# The lessons before this one each measured one side of it. This lesson reads their
# `results.json` files from the same output root (finding each lesson by its name, so a lesson
# that gets renumbered is still found), adds one measurement of its own (the gradient reach
# through the *inputs*, the one reach a Transformer has), and writes `report.md`: a written
# answer in four parts (the fourth on the modern models of lessons 12 and 13), every factual
# sentence carrying this run's number and the lesson that measured it, then the comparison
# table and the figures. Change a lesson, rerun it, rerun
# this one: the answer changes with the numbers. Where a lesson has not run, or its numbers
# do not back a claim, the answer says the claim is not supported by this run.
#
# Run the other lessons first, into the same `--out` root (this lesson prints the exact
# commands for whatever is missing):
#
#     python -m lessons all --quick --out runs/     # every lesson, this one last

# %%
import os

import numpy as np

from lessons._answer import SECTIONS, VANISHED, answer_markdown, modes_paragraph, written_answer
from lessons._comparison_table import (COST, HEADERS, MEMORY, MODELS, OWN, RECALL, RECURRENCE,
                                       ROWS, SOURCES, Evidence, comparison_markdown,
                                       comparison_rows)
from lessons._measure import MiB
from lessons._modern_answer import modern_sections, modern_table
from lessons._reach import KINDS, LABELS, reach_table
from lessons._shared import lesson_files, setup

# %% tags=["parameters"]
QUICK = None   # in a notebook: True for the quick run, False for the full one; None leaves
               # it to --quick or the MINIGRAD_LESSON_QUICK environment variable

# %%
opts = setup("14", quick=QUICK)
plt = opts.pyplot()

# %% [markdown]
# ## 1. Gather the results
#
# `opts.find_results(slug)` reads `<root>/NN_<slug>/results.json` and says which lesson number
# wrote it. A lesson that has not run is reported with the command that runs it.

# %%
in_checkout = {path.stem[3:]: int(path.name[:2]) for path in lesson_files()}
results, numbers, missing = {}, dict(in_checkout), {}
for slug in SOURCES:
    try:
        numbers[slug], results[slug] = opts.find_results(slug)
    except FileNotFoundError:
        quick = " --quick" if opts.quick else ""
        missing[slug] = (f"python -m lessons {in_checkout[slug]}{quick} --out {opts.root}"
                         if slug in in_checkout else f"the lesson '{slug}' is not in this checkout")
for slug, how in missing.items():
    print(f"{SOURCES[slug]}: no results under {opts.root}; run: {how}")
print("found: " + (", ".join(f"lesson {numbers[s]} ({s}, {results[s].get('mode', '?')} run)"
                             for s in results) or "nothing"))

# %% [markdown]
# ## 2. One measurement of our own: gradient reach through the inputs
#
# Lessons 4 and 5 measured how much gradient survives along a recurrent chain of h. A
# Transformer has no such chain, so "one attention hop" was a claim, not a number. Here is
# the number, the same way for all models (`lessons/_reach.py`): a loss on the output at the
# last position, its gradient with respect to every input, and the ratio of the norm at the
# first input to the norm at the last, for T = 10, 100 and 1,000, every model at its
# initialisation (named in the table: PyTorch's init unless stated).

# %%
REACH_T = (10, 100, 1000)
reach = reach_table(REACH_T, seed=opts.seed)
results[OWN] = {"reach": {kind: {str(T): v for T, v in by_T.items()} for kind, by_T in reach.items()},
                "definition": "||dL/dx_0|| / ||dL/dx_{T-1}||, L = <y_{T-1}, u>, at initialisation"}
numbers[OWN] = int(opts.lesson_id)
for kind in KINDS:
    print(f"{LABELS[kind]:30}" + "  ".join(f"T={T}: {reach[kind][T]:.1e}" for T in REACH_T))

# %% [markdown]
# ## 3. The comparison table
#
# Each row is a function of the results it needs and gives one cell per model
# (`lessons/_comparison_table.py`, `ROWS`: label, lessons read, cells). The init of every
# reach is named in its cell.

# %%
ev = Evidence(results, numbers)
table_rows = comparison_rows(ev)
comparison_table = comparison_markdown(table_rows)
print(comparison_table)

# %% [markdown]
# ## 4. The written answer
#
# Four parts, each a function of the results (`lessons/_answer.py`, `SECTIONS`). Read the
# functions: each sentence's number comes from a lesson's results, and each "not supported"
# comes from a missing lesson or from numbers that do not back the claim.

# %%
answer_parts = written_answer(ev)
answer_text = answer_markdown(answer_parts)
modes_text = modes_paragraph(ev, list(SOURCES))
print(modes_text + "\n\n" + answer_text)

# %% [markdown]
# ## 5. One summary figure
#
# Four panels, lines and markers only (no bars on a log scale, where the tallest bar can be
# the worst result), every reference line labelled: the input reach against T (section 2),
# the longest lag each model learned (lesson 7), and the time and memory of a training step
# against T (lesson 10).

# %%
COLORS = {"RNN": "C0", "LSTM": "C1", "GRU": "C2", "Transformer": "C3"}
REACH_STYLE = {"rnn": ("C0", "-"), "lstm": ("C1", "-"), "lstm_forget_bias_1": ("C1", "--"),
               "lstm_chrono": ("C1", ":"), "gru": ("C2", "-"), "transformer": ("C3", "-")}
fig, axes = plt.subplots(2, 2, figsize=(13, 9))
(ax_reach, ax_lag), (ax_time, ax_mem) = axes


def panel_missing(ax, *slugs):
    absent = ev.missing(*slugs)
    if absent:
        ax.text(0.5, 0.5, absent, ha="center", va="center", transform=ax.transAxes, fontsize=12)
        ax.set_xticks([])
        ax.set_yticks([])
    return absent is not None


tiny = 1e-300                                       # an underflowed reach (0.0) drawn at the floor
for kind in KINDS:
    color, line = REACH_STYLE[kind]
    ax_reach.loglog(REACH_T, [max(reach[kind][T], tiny) for T in REACH_T], marker="o",
                    color=color, linestyle=line, label=LABELS[kind])
ax_reach.axhline(1.0, color="0.3", linewidth=0.8, label="1: the first input counts as much as the last")
ax_reach.axhline(VANISHED, color="0.3", linestyle="--", linewidth=0.8,
                 label=f"{VANISHED:g}: vanished (too little to learn from)")
ax_reach.set_ylim(1e-80, 10)
ax_reach.set_xlabel("sequence length T")
ax_reach.set_ylabel("||dL/dx_0|| / ||dL/dx_T-1|| (higher is better)")
ax_reach.set_title(f"Gradient reach through the inputs, at init (lesson {opts.lesson_id})")
ax_reach.legend(fontsize=7)

if not panel_missing(ax_lag, MEMORY):
    l7 = results[MEMORY]
    for i, task in enumerate(("adding", "copy")):
        grid = l7["settings"][f"{task}_lags"]
        for k, m in enumerate(MODELS):
            lag = l7["longest_lag_learned"][task][m.lower()]
            x = i + (k - 1.5) * 0.15
            ax_lag.plot([x], [lag or grid[0] / 2], marker="o" if lag else "x", markersize=9,
                        color=COLORS[m], linestyle="none", label=m if i == 0 else None)
            costly = l7.get("not_run_for_cost", {}).get(task, {}).get(m.lower())
            ax_lag.annotate((str(lag) if lag else "none") + ("\n(longer: not run, cost)" if costly else ""),
                            (x, lag or grid[0] / 2), fontsize=7, xytext=(0, 6),
                            textcoords="offset points", ha="center")
        ax_lag.hlines(max(grid), i - 0.35, i + 0.35, color="0.4", linestyle="--", linewidth=0.8,
                      label="longest lag in the grid" if i == 0 else None)
    ax_lag.set_yscale("log")
    ax_lag.set_xticks([0, 1], ["adding problem", "copy memory"])
    ax_lag.set_xlim(-0.6, 1.6)
    ax_lag.set_ylabel("longest lag learned (higher is better; x: none)")
    ax_lag.set_title(f"Longest lag learned, train until learned or a common cap "
                     f"(lesson {numbers[MEMORY]}, {l7['mode']})")
    ax_lag.legend(fontsize=8)

for ax, key, scale, unit in ((ax_time, "seconds", 1e3, "ms per training step (lower is better)"),
                             (ax_mem, "peak_bytes", 1 / MiB, "peak traced memory, MiB (lower is better)")):
    if panel_missing(ax, COST):
        continue
    exponent = "time_exponent" if key == "seconds" else "memory_exponent"
    for m, entry in results[COST]["models"].items():
        ax.loglog(entry["T"], [scale * v for v in entry[key]], "o-", color=COLORS.get(m, "0.5"),
                  label=f"{m} (T^{entry[exponent]:.2f})")
    T_ref = np.array(results[COST]["models"]["Transformer"]["T"], dtype=float)
    first = results[COST]["models"]["Transformer"][key][0] * scale
    ax.loglog(T_ref, first * (T_ref / T_ref[0]) ** 2, ":", color="0.5", label="slope 2 (T^2), for reference")
    ax.loglog(T_ref, first * (T_ref / T_ref[0]), "-.", color="0.5", label="slope 1 (T), for reference")
    ax.set_xlabel("sequence length T")
    ax.set_ylabel(unit)
    ax.set_title(f"{'Time' if key == 'seconds' else 'Memory'} of forward + backward "
                 f"(lesson {numbers[COST]})")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
fig.suptitle("RNN, LSTM, GRU and Transformer: what the lessons measured")
fig.tight_layout()
summary_path = opts.savefig(fig, "summary")

FIGURES = [   # (lesson slug, figure name, caption)
    ("vanishing_exploding", "gradient_norm_vs_distance", "RNN gradient norm against distance"),
    ("vanishing_exploding", "clipping", "the adding problem with and without gradient clipping"),
    ("lstm", "gradient_reach_lstm_vs_rnn", "gradient reach of the LSTM against the RNN"),
    ("long_range_memory", "accuracy_vs_lag", "copy and adding against the lag, and steps taken"),
    ("transformer", "cross_attention_heads", "what each head of the cross-attention looks at"),
    ("cost_against_length", "cost_vs_length", "time and memory of a training step against T"),
    ("extremely_long_sequences", "memory_vs_length", "memory of truncated against full BPTT"),
    ("extremely_long_sequences", "gradient_reach", "gradient reach of full against truncated BPTT"),
    ("extremely_long_sequences", "attention_vs_T", "plain, memory-efficient and windowed attention"),
    ("recurrence_returns", "loop_scan_chunked", "loop, parallel scan and chunked recurrence against T"),
    ("recurrence_returns", "generation_memory", "generation memory: fixed state against KV cache"),
    ("recurrence_returns", "adding_and_copy", "adding and copy with minGRU and the selective SSM"),
    ("recall_selectivity_length", "extrapolation", "induction heads beyond the training length"),
    ("recall_selectivity_length", "recall_vs_state", "associative recall against state size"),
    ("recall_selectivity_length", "selective_copy", "selective copying, with and without selection"),
]
figure_lines, linked = ["![summary](summary.png)\n\n*Summary of the measured results.*"], []
for slug, name, caption in FIGURES:
    folder = sorted(opts.root.glob(f"[0-9][0-9]_{slug}"))
    path = folder[-1] / f"{name}.png" if folder else None
    if path is not None and path.is_file():
        relative = os.path.relpath(path, opts.out).replace(os.sep, "/")
        figure_lines.append(f"![{name}]({relative})\n\n*{ev.lesson(slug).capitalize()}: {caption}.*")
        linked.append(relative)
    else:
        figure_lines.append(f"*{ev.lesson(slug).capitalize()}: {caption}: not found; "
                            f"{missing.get(slug, 'rerun that lesson')}.*")

# %% [markdown]
# ## 6. The report
#
# The written answer first, then the evidence: `report.md`. The figures are links relative
# to it, so keep the output root together (or copy the folders with it).

# %%
missing_lines = [f"- {SOURCES[s]}: `{how}`" for s, how in missing.items()]
report = "\n".join([
    "# RNN, LSTM or Transformer? The answer, from this run's measurements",
    "",
    modes_text,
    "",
    *(["Missing results (the parts that need them say *not supported*; run these, then this "
       "lesson again):", "", *missing_lines, ""] if missing_lines else []),
    "## The answer",
    "",
    answer_text,
    "## The comparison",
    "",
    comparison_table,
    "",
    "Gradient reach along h: ||dL/dh_0|| / ||dL/dh_99|| for a loss on the last of 100 steps. "
    "Input reach: ||dL/dx_0|| / ||dL/dx_T-1|| for a loss on the last output (this lesson). "
    f"Below {VANISHED:g} counts as vanished. Longest lag learned: the largest lag of lesson "
    f"{numbers.get(MEMORY, '?')}'s grid a model learned before its first failure (copy accuracy > "
    "0.9, adding MSE < 0.1 x 0.167, on fresh sequences), each model trained until it passed or "
    "a common cap. Time: median over rounds of a training step (forward + backward), with the "
    "smallest to largest slope over the rounds; memory: tracemalloc peak. Exponents: slope of "
    "log(cost) against log(T) on the longest lengths.",
    "",
    "## The modern models against the papers",
    "",
    modern_table(modern_sections({numbers[s]: results.get(s) for s in (RECURRENCE, RECALL)
                                  if s in numbers})[1]),
    "",
    "## Figures",
    "",
    *[line + "\n" for line in figure_lines],
    "## For the essay",
    "",
    "- Which claims held, which held only in part, and under which conditions (initialisation, "
    "weight scale, sequence length, training budget, memory budget)?",
    "- Where did this run's cost crossover fall, and how would a GPU (many cores, a fixed cost "
    "per kernel) move it?",
    "- What does each fix for very long sequences (TBPTT, memory-efficient or windowed "
    "attention) give up, in this run's numbers?",
])
report_path = opts.save_text("report.md", report)

opts.save_json("results", {
    "sources": SOURCES,
    "lesson_numbers": numbers,
    "found": sorted(s for s in results if s != OWN),
    "missing": missing,
    "modes": {s: results[s].get("mode") for s in results if s != OWN},
    "input_reach": results[OWN],
    "table": {"headers": HEADERS, "rows": table_rows},
    "row_labels": [label for label, _, _ in ROWS],
    "answer": [{"title": title, "paragraphs": paragraphs} for title, paragraphs in answer_parts],
    "section_titles": [title for title, _ in SECTIONS],
    "figures_linked": linked,
    "report": report_path,
})

# %% [markdown]
# ## What we saw
#
# The answer above is this run's; reread it after a full run (`python -m lessons all --out
# runs_full/`): the quick run's "not supported" clauses are where a longer budget can change
# the verdict.
#
# ## Exercises
#
# 1. Run lesson 7 without `--quick` and regenerate the report. Which sentences change, and
#    which numbers moved them?
# 2. The "vanished" threshold 1e-3 is a choice. For which thresholds does the verdict on the
#    LSTM change? Argue for one.
# 3. The input reach of the Transformer falls about as 1/T at initialisation. Train the
#    lesson-7 Transformer on copy memory and measure it again at the trained weights: where
#    does the gradient of a recall step go now?
# 4. Lesson 10 ran on a CPU. Rerun it with `--device cuda` (the memory column then needs
#    CuPy's memory pool instead of tracemalloc): does the time crossover move up or down?
# 5. Add a section to `lessons/_answer.py` (a function of the results, appended to
#    `SECTIONS`) answering a question of your own from the numbers, with a "not supported"
#    branch for when they do not back it.
