"""The answer lesson's part on the modern models, composed from lessons 12 and 13's results.

    paragraphs, rows = modern_sections({12: opts.load_results(12), 13: opts.load_results(13)})
    (or with ``opts.find_results("recurrence_returns")`` etc.: keys are lesson numbers)

``paragraphs``: markdown paragraphs, every factual sentence with its number and the lesson that
measured it; where this small run agrees or disagrees with the papers it says which.
``rows``: dicts {"finding", "lesson", "this run", "paper", "agrees"} for a table
(``modern_table(rows)`` renders it). A lesson that has not run (None or missing) gives a
sentence saying so, never a number.
"""
from lessons._shared import markdown_table

MODERN_HEADERS = ["finding", "lesson", "this run", "paper", "agrees"]
LABEL = {"lstm": "the LSTM", "transformer_sinusoidal": "the Transformer with sinusoidal positions",
         "transformer_rope": "the Transformer with RoPE", "transformer_alibi": "the Transformer "
         "with ALiBi", "transformer_nope": "the Transformer without positions",
         "linear_attention": "linear attention", "mingru": "minGRU",
         "mamba": "Mamba", "mamba_lti": "non-selective Mamba"}
ATTENTION = ("transformer_sinusoidal", "transformer_rope", "transformer_alibi", "transformer_nope")
EXTRAPOLATING = ("transformer_alibi", "transformer_nope", "transformer_rope")


def _mode(results):
    return f"{results.get('mode', '?')} run"


def _row(finding, lesson, this_run, paper, agrees):
    return {"finding": finding, "lesson": lesson, "this run": this_run, "paper": paper,
            "agrees": {True: "yes", False: "no", None: "n/a"}[agrees]}


# ----------------------------------------------------------------------------- lesson 12

def recurrence_paragraphs(r12, n=12):
    """Lesson n, recurrence returns: one recurrence, three algorithms, generation memory, and
    lesson 7's tasks with the new models."""
    if not r12:
        return [f"*Recurrence returns*: lesson {n} has not run (`python -m lessons {n}`), so this "
                "report has no measurement of the linear recurrences."], []
    paragraphs, rows = [], []
    st = r12["scan_timing"]
    longest = str(st["lengths"][-1])
    sec = {m: st["seconds"][m][longest]["seconds"] * 1000 for m in ("loop", "scan", "chunked")}
    cross = st["crossover"]
    paragraphs.append(
        "**Recurrence returns.** Linear attention, minGRU and Mamba all compute "
        "h_t = a_t h_(t-1) + b_t with a_t, b_t from the input alone, so training needs no loop "
        f"over time. At T = {longest} lesson {n} ({_mode(r12)}) measured {sec['loop']:.1f} ms for "
        f"the loop, {sec['scan']:.1f} ms for the parallel scan and {sec['chunked']:.1f} ms for the "
        f"chunked form (forward and backward, {st['clock']}); "
        + (f"the chunked form beats the loop from T = {cross['chunked']}" if cross["chunked"]
           else "the chunked form did not beat the loop on its grid")
        + (f" and the scan from T = {cross['scan']}." if cross["scan"] else
           ", while the scan was faster than the loop only at T = "
           + (", ".join(map(str, st.get("faster_than_loop_at", {}).get("scan", []))) or "none")
           + ": on a CPU its T log T work and memory traffic outgrow what its log T passes save; "
           "the scan pays off where each pass is one wide parallel kernel (a GPU)."))
    rows.append(_row("chunked beats loop from T", n, str(cross["chunked"]), "Mamba-2 / SSD: "
                     "chunked is the fast form", cross["chunked"] is not None))
    mem = r12["generation_memory"]
    last = str(mem["tokens"][-1])
    kv = {k: v for k, v in mem["bytes"].items() if k in ATTENTION}
    states = {k: v for k, v in mem["bytes"].items() if k not in ATTENTION}
    if kv and states:
        kind, b = next(iter(kv.items()))
        first = str(mem["tokens"][0])
        paragraphs.append(
            f"Generating {last} tokens, the attention model's KV cache grew from {b[first]:,} "
            f"bytes after one token to {b[last]:,} bytes (lesson {n}), while "
            + ", ".join(f"{LABEL[k]} kept {v[last]:,} bytes" for k, v in states.items())
            + " at every step: a recurrence generates in O(1) memory per token, attention in O(t).")
        rows.append(_row(f"KV cache after {last} tokens (bytes)", n, f"{b[last]:,}",
                         "grows with t", b[last] > b[first]))
    same = r12["parallel_vs_step_max_difference"]
    paragraphs.append(
        f"Run in parallel (training) and token by token (generation), every model gave the same "
        f"outputs to {max(same.values()):.1e} in float64 (lesson {n}).")
    tasks = r12["tasks"]
    parts = []
    for kind in tasks["adding"]:
        add, copy = tasks["adding"][kind], tasks["copy"][kind]
        parts.append(f"{LABEL[kind]} reached adding MSE {add['mse']:.4f} "
                     f"({'learned' if add['learned'] else 'not learned'}) and copy accuracy "
                     f"{copy['accuracy']:.2f} ({'learned' if copy['learned'] else 'not learned'})")
    paragraphs.append(
        f"On lesson 7's tasks (adding at T = {tasks['adding_T']}, copy at lag {tasks['copy_lag']}, "
        f"{tasks['steps']} steps each), lesson {n} measured: " + "; ".join(parts) + ".")
    return paragraphs, rows


# ----------------------------------------------------------------------------- lesson 13

def selectivity_paragraph(r13, n=13):
    sc = r13.get("selective_copy", {})
    models = sc.get("models", {})
    if "mamba" not in models or "mamba_lti" not in models:
        return [f"*Selectivity*: lesson {n} did not run both Mamba variants, so this report cannot "
                "say whether input-dependent gates help."], []
    sel, lti = models["mamba"]["accuracy"], models["mamba_lti"]["accuracy"]
    agrees = sel > lti + 0.15         # the paper's gap: 99.8% against 56.4%
    others = [f"{LABEL[k]} {v['accuracy']:.2f}" for k, v in models.items()
              if k not in ("mamba", "mamba_lti")]
    text = (f"**Selectivity.** On selective copying (lesson {n}, {_mode(r13)}, "
            f"{sc['settings']['n_tokens']} tokens among {sc['settings']['length']} steps), the "
            f"selective SSM copied {sel:.2f} of the tokens and its non-selective twin, the same "
            f"block with delta, B and C fixed, {lti:.2f} (chance {sc['chance']:.2f})"
            + (f"; {', '.join(others)}" if others else "") + ". "
            "The Mamba paper (Table 1) reports 99.8% for the selective S6 in a Mamba block against "
            "56.4% with the time-invariant S4 in the same block and 18.3% for S4 alone. "
            + ("This run agrees in direction: the state that chooses per token what to keep "
               "copies better" + (" and nearly perfectly" if sel > 0.9 else "")
               + f". Its gap ({sel - lti:.2f}) is smaller than the paper's (0.43) at a length of "
               f"{sc['settings']['length'] + sc['settings']['n_tokens']} rather than 4,096: over "
               "a short sequence a fixed kernel can still tell the few data positions apart."
               if agrees else f"This run does not show the gap (see lesson {n} for its budget)."))
    return [text], [_row("selective copy: selective vs not", n, f"{sel:.2f} vs {lti:.2f}",
                         "99.8% vs 56.4% (Mamba Table 1)", agrees)]


def length_paragraph(r13, n=13):
    ind = r13.get("induction", {})
    models = ind.get("models", {})
    if "transformer_sinusoidal" not in models:
        return [f"*Length*: lesson {n} did not run the sinusoidal Transformer on induction "
                "heads."], []
    lengths = ind["test_lengths"]
    train, four = str(lengths[0]), str(lengths[1])
    acc = {k: v["accuracy_by_length"] for k, v in models.items()}
    sin4 = acc["transformer_sinusoidal"][four]
    best = max((k for k in EXTRAPOLATING if k in acc), key=lambda k: acc[k][four], default=None)
    sentences = [f"**Length.** Trained on induction heads at T = {train} and tested at "
                 f"{', '.join(map(str, lengths[1:]))} (lesson {n}), "
                 + "; ".join(f"{LABEL[k]} scored {a[train]:.2f} at {train}, {a[four]:.2f} at "
                             f"{four} and {a[str(lengths[-1])]:.2f} at {lengths[-1]}"
                             for k, a in acc.items()) + "."]
    rows = [_row(f"induction at 4x training length: sinusoidal", n, f"{sin4:.2f}",
                 "falls (Mamba Table 2: 9.8% at 16x)", sin4 < 0.5)]
    if best is not None:
        agrees = acc[best][four] > sin4 + 0.2
        sentences.append(
            f"Absolute positions do not extrapolate: at 4x the training length the sinusoidal "
            f"Transformer falls to {sin4:.2f}, while {LABEL[best]} keeps {acc[best][four]:.2f}. "
            "Mamba's Table 2 shows the same for absolute positions (trained at 256, 9.8% at "
            "4,096), and ALiBi (Press et al. 2021) was built to train short and test long: "
            + ("this run agrees." if agrees else "this run does not show it."))
        rows.append(_row(f"induction at 4x: {LABEL[best]}", n, f"{acc[best][four]:.2f}",
                         "extrapolates (ALiBi; Mamba Table 2)", agrees))
    if "mamba" in acc:
        m = acc["mamba"]
        sentences.append(
            f"The selective SSM, which has no positions at all, scored {m[four]:.2f} at 4x and "
            f"{m[str(lengths[-1])]:.2f} at {lengths[-1] // lengths[0]}x; the paper's Mamba "
            "stays at 100% up to 2^20 tokens when trained at 256 "
            + ("(this run agrees)." if m[str(lengths[-1])] > 0.9 else
               f"(this {_mode(r13)} does not reach that, with {r13.get('steps', '?')} training "
               "steps against the paper's many thousands)."))
        rows.append(_row(f"induction at {lengths[-1] // lengths[0]}x: selective SSM", n,
                         f"{m[str(lengths[-1])]:.2f}", "100% (Mamba Table 2)",
                         m[str(lengths[-1])] > 0.9))
    return [" ".join(sentences)], rows


def recall_paragraph(r13, n=13):
    rc = r13.get("recall", {})
    models = rc.get("models", {})
    att = {k: v for k, v in models.items() if k in ATTENTION}
    fixed = {k: v for k, v in models.items() if k not in ATTENTION}
    if not att or not fixed:
        return [f"*Recall*: lesson {n} did not run both attention and a fixed-state model on "
                "MQAR."], []
    s = rc["settings"]
    points = [(LABEL[k], w, r["accuracy"], r["state_bytes"]) for k, by in models.items()
              for w, r in by.items()]
    best_att = max((r["accuracy"], r["state_bytes"], k) for k, by in att.items()
                   for r in by.values())                      # (accuracy, KV bytes, kind)
    small = min((r["state_bytes"], r["accuracy"], k) for k, by in fixed.items()
                for r in by.values())                         # (bytes, accuracy, kind)
    agrees = best_att[0] > 0.8 and small[1] < best_att[0] - 0.3
    text = (f"**Recall.** On multi-query associative recall ({s['n_pairs']} key-value pairs in "
            f"{s['length']} tokens, lesson {n}): " + "; ".join(
                f"{name} (E = {w}) {acc:.2f} with {b:,} bytes of state"
                for name, w, acc, b in points)
            + f". Attention answers from its KV cache, which at this length holds "
            f"{best_att[1]:,} bytes; the smallest fixed state, {LABEL[small[2]]}'s {small[0]:,} "
            f"bytes, reached {small[1]:.2f}. Zoology (Arora et al. 2023) found attention solves "
            "MQAR at every width while fixed-state models need a state that grows with the "
            "number of pairs, and Jelassi et al. (2024) prove that a fixed state cannot copy a "
            "string longer than it can store, while a Transformer copies strings exponentially "
            "long in its size: " + ("this run agrees." if agrees else
                                   "this small run does not show the gap clearly."))
    return [text], [_row("MQAR: attention vs smallest fixed state", n,
                         f"{best_att[0]:.2f} vs {small[1]:.2f}", "attention solves it at every "
                         "width (Zoology)", agrees)]


# ----------------------------------------------------------------------------- the answer

def modern_answer(r12, r13, n12=12, n13=13):
    """The written answer: attention, selective recurrences, hybrids."""
    have = bool(r12) and bool(r13)
    return [
        "**The modern answer to extremely long sequences.** "
        f"*Attention* recalls exactly: any token of the context is one lookup away (lesson {n13}'s "
        "recall results), but it pays for it with a cache that grows with every token "
        f"(lesson {n12}) and T^2 work in training (lessons 10 and 11), and with absolute positions "
        f"it does not work beyond the lengths it was trained on (lesson {n13}'s induction heads)"
        + _relative_positions_clause(r13) + " *Selective recurrences* "
        "(Mamba, minGRU, gated linear attention) train in parallel like attention "
        f"(lesson {n12}'s scan), generate in O(1) memory per token, and can choose what to "
        f"remember (lesson {n13}'s selective copying), but their recall is bounded by the size of "
        f"their state (lesson {n13}'s MQAR). *Hybrids* take both: "
        "a few attention layers for exact recall among many recurrent layers for cheap length "
        "(Jamba, Zamba, Griffin; Zoology's Based; the Mamba-2 hybrids). This course did not "
        "build or measure a hybrid; that part of the answer rests on the literature."
        + ("" if have else " (Some of the lessons it cites have not run: see above.)")]


def _relative_positions_clause(r13):
    """Which relative position schemes kept working at 4x the training length, measured."""
    models = (r13 or {}).get("induction", {}).get("models", {})
    if "transformer_sinusoidal" not in models:
        return "; ALiBi was designed to push that limit out (not measured here)."
    four = str(r13["induction"]["test_lengths"][1])
    sin4 = models["transformer_sinusoidal"]["accuracy_by_length"][four]
    short = {"transformer_alibi": "ALiBi", "transformer_rope": "RoPE",
             "transformer_nope": "no positions"}
    acc = {k: models[k]["accuracy_by_length"][four] for k in EXTRAPOLATING if k in models}
    held = [short[k] for k, a in acc.items() if a > sin4 + 0.2]
    return (f": at 4x the training length the sinusoidal model scored {sin4:.2f}, and with "
            + ", ".join(f"{short[k]} {a:.2f}" for k, a in acc.items()) + ", so "
            + (" and ".join(held) + " pushed that limit out" if held else
               "no relative scheme pushed that limit out here")
            + " (Press et al. 2021 found sinusoidal and rotary positions both degrade beyond the "
            "training length and ALiBi does not).")


def modern_sections(results_by_lesson):
    """(markdown paragraphs, table rows) from the results of the two modern lessons.

    results_by_lesson: {lesson number: results dict or None}, e.g. {12: r12, 13: r13} (string
    keys work too). Which is which is read from the results themselves (lesson "recurrence
    returns" has "scan_timing", "recall, selectivity and length" has "induction"), so the text
    names the lessons by the numbers given, whatever the course's numbering.
    """
    n12, n13, r12, r13 = 12, 13, None, None
    for number, results in results_by_lesson.items():
        if results and "scan_timing" in results:
            n12, r12 = int(number), results
        elif results and "induction" in results:
            n13, r13 = int(number), results
    paragraphs, rows = recurrence_paragraphs(r12, n12)
    if r13:
        for build in (selectivity_paragraph, length_paragraph, recall_paragraph):
            p, r = build(r13, n13)
            paragraphs += p
            rows += r
    else:
        paragraphs.append(f"*Recall, selectivity and length*: lesson {n13} has not run "
                          f"(`python -m lessons {n13}`), so this report has no measurement of "
                          "them.")
    paragraphs += modern_answer(r12, r13, n12, n13)
    return paragraphs, rows


def modern_table(rows):
    """The rows as a markdown table."""
    return markdown_table(MODERN_HEADERS, [[r[h] for h in MODERN_HEADERS] for r in rows])
